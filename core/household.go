package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"time"
	"unicode"
)

// Household self-referral check (issue 9: "Self-referral is refused: same
// customer, same e-mail, or the partner's own household if the merchant
// enables an address check"). With ReferralSettings.HouseholdCheck on, an
// order whose billing or shipping address matches an address known for a
// partner of its referral chain (from that partner's own orders, and for
// Shopify their customer record) credits no partner, like a referral by
// the partner's own account or e-mail. Only a keyed hash of the
// normalized address (street and number, postcode, country) is stored
// (AddressHash); the order snapshot never keeps the address itself.

// Self-referral reasons (stable codes; pages translate them).
const (
	SelfReferralCustomer  = "customer"  // the buyer's account is a partner of the chain
	SelfReferralEmail     = "email"     // the buyer's e-mail is a partner's
	SelfReferralHousehold = "household" // the order's address is a partner's (HouseholdCheck)
)

// ReferralRefusal is a recorded self-referral: the order credited no
// partner because its buyer is one of the chain's partners, or
// (FoundLater) the order had already credited the chain when the fact
// became known (an address learned later, a partner linked later): its
// partner credit stands until the merchant reverses it
// (ReasonSelfReferralReversal entries, ReversedAt).
type ReferralRefusal struct {
	OrderID     string     `json:"order_id"`
	OrderNumber string     `json:"order_number,omitempty"`
	Buyer       string     `json:"buyer"`   // owner id (c:… or g:…)
	Partner     string     `json:"partner"` // the partner of the chain the buyer matched
	Reason      string     `json:"reason"`  // a SelfReferral* code
	FoundLater  bool       `json:"found_later"`
	ReversedAt  *time.Time `json:"reversed_at,omitempty"`
	ReversedBy  string     `json:"reversed_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Status is the refusal's state for the merchant: "refused" (no partner
// was credited), "review" (found later, the partner credit stands) or
// "reversed" (found later, the merchant took the partner credit back).
func (r ReferralRefusal) Status() string {
	switch {
	case !r.FoundLater:
		return "refused"
	case r.ReversedAt != nil:
		return "reversed"
	}
	return "review"
}

// ReasonSelfReferralReversal: the partner credit of an order found to be a
// self-referral after it earned, taken back by the merchant.
const ReasonSelfReferralReversal ReasonKind = "self_referral_reversal"

// ReferralRefusalStore lists recorded self-referrals for the merchant,
// newest first (before: keyset cursor, 0 for the first page).
type ReferralRefusalStore interface {
	ReferralRefusals(ctx context.Context, shopID int64, before int64, limit int) ([]ReferralRefusal, string, error)
}

// addressReplacer folds the spellings a household writes its address in:
// umlauts and ß, and the usual abbreviations of "Straße".
var addressReplacer = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss")

// NormalizeAddress returns the comparable form of an address: country
// (ISO code, upper case), postcode and street with house number, lower
// case, umlauts and ß folded, "Straße"/"Strasse"/"Str." all "str", and
// everything but letters and digits dropped (so "Hauptstr. 5" and
// "HAUPTSTRASSE 5" match). Empty when street, postcode or country is
// missing: an incomplete address identifies no household.
func NormalizeAddress(street, postcode, country string) string {
	country = strings.ToUpper(strings.TrimSpace(country))
	postcode = alnum(strings.ToLower(postcode))
	// Both sides are folded alike, so replacing every "strasse" (after ß
	// folding) by "str" and dropping dots makes "Hauptstr. 5",
	// "Hauptstraße 5" and "HAUPT-STRASSE 5" one street.
	street = alnum(strings.ReplaceAll(addressReplacer.Replace(strings.ToLower(street)), "strasse", "str"))
	if country == "" || postcode == "" || street == "" {
		return ""
	}
	return country + "|" + postcode + "|" + street
}

func alnum(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// AddressHash is the keyed hash stored for a normalized address (the
// shop's customer key, as for guest owners): equal addresses of one shop
// match, and the table reveals no address.
func AddressHash(key, normalized string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("address:" + normalized))
	return m.Sum(nil)
}

// AddAddress appends the normalized address to list unless it is empty
// or already there.
func AddAddress(list []string, street, postcode, country string) []string {
	n := NormalizeAddress(street, postcode, country)
	if n == "" {
		return list
	}
	for _, x := range list {
		if x == n {
			return list
		}
	}
	return append(list, n)
}
