package core

import (
	"context"
	"crypto/rand"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Affiliate accounts: a partner is a shop customer with a partner code.
// Linked to its platform customer, the partner earns from every level of
// its downline onto the customer's own account, so one person has one
// balance, one statement and spends it like any customer.

// PartnerStatus says whether a partner earns.
type PartnerStatus string

// Partner statuses. Only active partners earn; a pending partner (self
// signup awaiting the merchant's approval) and an inactive one keep their
// place in the tree, and the level they hold earns nothing.
const (
	PartnerActive   PartnerStatus = "active"
	PartnerPending  PartnerStatus = "pending"
	PartnerInactive PartnerStatus = "inactive"
)

// Partner is an affiliate or sponsor who earns on referred sales.
type Partner struct {
	ID         string        `json:"id"`
	Code       string        `json:"code,omitempty"`        // referral code customers enter or links carry
	SponsorID  string        `json:"sponsor_id,omitempty"`  // the partner one level up
	Name       string        `json:"name,omitempty"`        // display name chosen by the merchant
	CustomerID string        `json:"customer_id,omitempty"` // linked platform customer (Shopify customer / WooCommerce user id)
	Status     PartnerStatus `json:"status,omitempty"`
	CreatedAt  time.Time     `json:"created_at,omitzero"`
	// Downline is the number of direct downline partners (in listings).
	Downline int `json:"downline"`
}

// Owner returns the ledger owner the partner earns to: the linked
// customer's account, else the partner's own (partner:<id>).
func (p Partner) Owner() Owner {
	if p.CustomerID != "" {
		return Owner{Kind: OwnerCustomer, ID: CustomerOwnerID(p.CustomerID)}
	}
	return Owner{Kind: OwnerPartner, ID: p.ID}
}

var (
	partnerIDRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)
	partnerCode  = regexp.MustCompile(`^[A-Za-z0-9_-]{3,40}$`)
	platformIDRe = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Validate checks a partner's fields (not the tree: see PartnerStore).
func (p *Partner) Validate() error {
	if !partnerIDRe.MatchString(p.ID) {
		return Errorf(EINVALID, "partner id must be 1..200 letters, digits, '-', '_' or '.'")
	}
	if p.Code != "" && !partnerCode.MatchString(p.Code) {
		return Errorf(EINVALID, "partner code must be 3..40 letters, digits, '-' or '_'")
	}
	if p.SponsorID != "" && !partnerIDRe.MatchString(p.SponsorID) {
		return Errorf(EINVALID, "sponsor_id must be a partner id")
	}
	if p.SponsorID == p.ID {
		return Errorf(EINVALID, "a partner cannot sponsor itself")
	}
	if p.CustomerID != "" && !platformIDRe.MatchString(p.CustomerID) {
		return Errorf(EINVALID, "customer_id must be the platform customer id (digits)")
	}
	if len(p.Name) > 200 {
		return Errorf(EINVALID, "name must be at most 200 characters")
	}
	switch p.Status {
	case "":
		p.Status = PartnerActive
	case PartnerActive, PartnerPending, PartnerInactive:
	default:
		return Errorf(EINVALID, "status must be active, pending or inactive")
	}
	return nil
}

// PartnerIDForCustomer is the id given to a partner enrolled from a
// customer without an explicit id.
func PartnerIDForCustomer(platformID string) string { return "c-" + platformID }

// codeAlphabet has no 0/O or 1/I, so codes survive being read aloud.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewPartnerCode returns a random 8-character share code.
func NewPartnerCode() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// Signup modes for customers who ask for a share code themselves.
const (
	SignupApproval = "approval" // default: enrolled as pending until the merchant approves
	SignupOpen     = "open"     // enrolled as an active partner at once
	SignupClosed   = "closed"   // only the merchant enrols partners
)

// ReferralSettings configure referrals.
type ReferralSettings struct {
	// Binding (Kundenschutz): once a buyer is referred, their later orders
	// credit the same partner chain without a link; a different referral
	// on a later order does not take the customer away.
	Binding bool `json:"binding,omitempty"`
	// Signup: approval (default), open or closed (see the Signup* modes).
	Signup string `json:"signup,omitempty"`
	// HouseholdCheck (off by default) also refuses a referral whose
	// order's billing or shipping address matches an address known for a
	// partner of its chain (household.go).
	HouseholdCheck bool `json:"household_check,omitempty"`
	// Bring-a-friend rewards and their abuse limits (referral.go).
	ReferralRewardSettings
}

// SignupMode returns the effective signup mode.
func (r ReferralSettings) SignupMode() string {
	if r.Signup == "" {
		return SignupApproval
	}
	return r.Signup
}

// Validate checks referral settings.
func (r ReferralSettings) Validate() error {
	switch r.Signup {
	case "", SignupApproval, SignupOpen, SignupClosed:
		return r.ReferralRewardSettings.Validate()
	}
	return Errorf(EINVALID, "referral.signup must be approval, open or closed")
}

// ShareLink is the storefront link that carries a share code.
func ShareLink(shop Shop, code string) string {
	base := strings.TrimRight(shop.Domain, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		base = "https://" + base
	}
	return base + "/?ref=" + code
}

// PartnerLevelOf returns the level of a beneficiary name (partner2 -> 2),
// 0 for the buyer or anything else.
func PartnerLevelOf(beneficiary string) int {
	if !strings.HasPrefix(beneficiary, "partner") {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(beneficiary, "partner"))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// PartnerQuery selects partners in a listing.
type PartnerQuery struct {
	Search    string        // substring of id, code or name (case-insensitive)
	SponsorID string        // direct downline of this partner
	Status    PartnerStatus // only this status
	After     string        // keyset cursor: partner ids after this one
	Limit     int           // 1..200, default 50
}

// PartnerPage is one page of a listing.
type PartnerPage struct {
	Partners []Partner `json:"partners"`
	Next     string    `json:"next_cursor"` // empty on the last page
}

// PartnerMove is one recorded sponsor change.
type PartnerMove struct {
	From    string    `json:"from_sponsor,omitempty"`
	To      string    `json:"to_sponsor,omitempty"`
	Actor   string    `json:"actor"`
	MovedAt time.Time `json:"moved_at"`
}

// PartnerStore manages the sponsor tree. Every change that touches the
// tree is serialized per shop and refused with EINVALID when it would make
// a cycle.
type PartnerStore interface {
	// SavePartner creates or replaces a partner. A customer id links the
	// partner to that customer: credit the partner account holds moves to
	// the customer's account in one balanced transfer per currency
	// (idempotent), and later earnings land there directly.
	SavePartner(ctx context.Context, shop Shop, p Partner, actor string) (Partner, error)
	Partner(ctx context.Context, shopID int64, id string) (Partner, error)
	PartnerByCustomer(ctx context.Context, shopID int64, platformID string) (Partner, bool, error)
	ListPartners(ctx context.Context, shopID int64, q PartnerQuery) (PartnerPage, error)
	// Upline returns the partner's sponsors, nearest first, up to levels.
	Upline(ctx context.Context, shopID int64, id string, levels int) ([]Partner, error)
	Moves(ctx context.Context, shopID int64, id string) ([]PartnerMove, error)
	// BoundPartner returns the partner a buyer owner is bound to
	// (customer binding), if any.
	BoundPartner(ctx context.Context, shopID int64, buyer Owner) (string, bool, error)
}

// ReasonTransfer is the reason of the transfer that moves a linked
// owner's credit to its new owner (a partner linked to its customer).
const ReasonTransfer ReasonKind = "transfer"
