package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Shop is a merchant's store on one platform.
type Shop struct {
	ID       int64        `json:"id"`
	Platform Platform     `json:"platform"`
	Domain   string       `json:"domain"` // myshopify domain or WooCommerce site URL
	Name     string       `json:"name"`
	Currency string       `json:"currency"`
	Active   bool         `json:"active"`
	Settings ShopSettings `json:"settings"`
	Secrets  ShopSecrets  `json:"-"` // decrypted; never serialized
	// IssuedLabels are the names creditbridge has ever given credit at
	// this shop's checkout (kept by the shop store, append-only; see
	// CheckoutLabels). Shopify orders name creditbridge's discount by one
	// of them.
	IssuedLabels []string `json:"-"`
}

// ShopSettings are a shop's program settings.
type ShopSettings struct {
	// PaidStatuses overrides the platform's default paid states (see the
	// platform adapters' DefaultParseOptions).
	PaidStatuses []string `json:"paid_statuses,omitempty"`
	// PendingDays > 0 books earnings as pending for that many days before
	// they can be spent.
	PendingDays int `json:"pending_days,omitempty"`
	// PartnerLevels is how far up the sponsor chain partners earn (0..5).
	PartnerLevels int `json:"partner_levels,omitempty"`
	// Checkout caps.
	HoldMinutes int                 `json:"hold_minutes,omitempty"` // default 60
	MaxPercent  decimal.NullDecimal `json:"max_percent,omitempty"`  // of the cart subtotal
	MaxAmount   decimal.NullDecimal `json:"max_amount,omitempty"`
	MinOrder    decimal.NullDecimal `json:"min_order,omitempty"`
	// VoucherDays is how long a voucher code is valid (default 90).
	VoucherDays int `json:"voucher_days,omitempty"`
	// KeepCreditOnRefund keeps the credit a customer spent on an order
	// when the order is refunded. By default (false) a full refund gives
	// it all back and a partial refund gives back the refunded share; a
	// cancellation always gives it back.
	KeepCreditOnRefund bool `json:"keep_credit_on_refund,omitempty"`
	// Referral: customer binding and self-signup (affiliate.go).
	Referral ReferralSettings `json:"referral,omitzero"`
	// RedemptionMode is how a Shopify shop's customers spend credit (see
	// the Redemption* constants; empty means RedemptionStoreCredit).
	// WooCommerce shops always use the plugin's checkout coupon.
	RedemptionMode RedemptionMode `json:"redemption_mode,omitempty"`
	// StoreCreditExpiryDays > 0 makes credit mirrored into Shopify store
	// credit expire after that many days; Shopify's expiry then comes back
	// into the ledger through the reconciler. 0: it does not expire.
	StoreCreditExpiryDays int `json:"store_credit_expiry_days,omitempty"`

	// EarnBase is the price percentage rules apply to: "net" (default,
	// tax excluded) or "gross" (tax included). Frozen with each line.
	EarnBase EarnBase `json:"earn_base,omitempty"`
	// Rounding rounds each (line, beneficiary) credit once:
	// "half_away_from_zero" (default) or "half_even". Frozen with each line.
	Rounding RoundingMode `json:"rounding,omitempty"`
	// Earning caps, applied when a line's credit is frozen (credit is
	// always at most the article's net price): per order and beneficiary
	// at most EarnCapOrderPercent of the order's net total and at most
	// EarnCapOrderAmount; per owner and calendar year (by the order's
	// creation, in TimeZone) at most EarnCapYearAmount.
	EarnCapOrderPercent decimal.NullDecimal `json:"earn_cap_order_percent,omitempty"`
	EarnCapOrderAmount  decimal.NullDecimal `json:"earn_cap_order_amount,omitempty"`
	EarnCapYearAmount   decimal.NullDecimal `json:"earn_cap_year_amount,omitempty"`
	// RedeemBase is what redeemed credit reduces in a WooCommerce shop
	// whose prices are entered excluding tax: "gross" (default, B2C: the
	// invoice total falls by exactly the credit booked, tax included) or
	// "net" (B2B: the net total falls by the credit and the VAT on it
	// falls on top, so the invoice falls by more than the credit booked).
	// Tax-inclusive shops always reduce the gross total.
	RedeemBase RedeemBase `json:"redeem_base,omitempty"`

	// Tax is the shop's tax setup for the storefront quote of earnings.
	Tax TaxSetup `json:"tax,omitzero"`

	// Accounting configures the exports for the tax advisor (DATEV).
	Accounting AccountingSettings `json:"accounting,omitzero"`
	// Locale is the language of the shop's pages ("de", "en", "de-DE";
	// empty: the visitor's browser decides).
	Locale string `json:"locale,omitempty"`
	// TimeZone is the IANA time zone dates are shown in (empty: UTC).
	TimeZone string `json:"time_zone,omitempty"`
	// DiscountLabel is the name of credit at a Shopify checkout in every
	// language DiscountLabels does not name (empty: "Store credit" /
	// "Guthaben"). The discount Function shows it; WooCommerce shops set
	// theirs in the plugin. Redemptions are recognised by what
	// creditbridge issued, never by today's label (see IssuedLabels).
	DiscountLabel string `json:"discount_label,omitempty"`
	// DiscountLabels names credit per checkout language ("de", "en").
	DiscountLabels map[string]string `json:"discount_labels,omitempty"`
	// Programs (issue 11): see ProgramSettings.
	ProgramSettings
}

// RedemptionMode says how credit is spent on Shopify.
type RedemptionMode string

// Redemption modes. Voucher codes can be requested in every mode.
const (
	// RedemptionStoreCredit mirrors each customer's spendable credit into
	// their Shopify store credit account; the customer pays with it at
	// checkout (works on every plan; a payment, not a pre-tax discount).
	RedemptionStoreCredit RedemptionMode = "store_credit"
	// RedemptionFunction applies credit as an automatic pre-tax discount
	// through the creditbridge discount Function (Plus or a public app).
	RedemptionFunction RedemptionMode = "function"
	// RedemptionCodes applies nothing automatically: customers turn credit
	// into single-use voucher codes.
	RedemptionCodes RedemptionMode = "codes"
)

// Mode returns the redemption mode, defaulting to RedemptionStoreCredit.
func (s ShopSettings) Mode() RedemptionMode {
	if s.RedemptionMode == "" {
		return RedemptionStoreCredit
	}
	return s.RedemptionMode
}

// RedeemBase is what redeemed credit reduces (see ShopSettings.RedeemBase).
type RedeemBase string

// Redemption bases. The empty base is gross.
const (
	RedeemGross RedeemBase = "gross"
	RedeemNet   RedeemBase = "net"
)

// MaxDiscountLabel bounds ShopSettings.DiscountLabel (in characters).
const MaxDiscountLabel = 60

// LegacyCheckoutLabel is the title creditbridge's Shopify discount had
// before labels were configurable; orders carrying it stay recognised.
const LegacyCheckoutLabel = "Store credit"

// DefaultCheckoutLabels are the checkout names of credit when a shop set
// none, per language.
var DefaultCheckoutLabels = map[string]string{"en": LegacyCheckoutLabel, "de": "Guthaben"}

// CheckoutLanguages are the languages a checkout label can be set for.
var CheckoutLanguages = []string{"de", "en"}

// CheckoutLabel is the name of credit at checkout in language lang (a
// tag such as "de-CH" counts as "de"): the shop's label for that
// language, else its label for every language, else the default (English
// for languages without one).
func (s ShopSettings) CheckoutLabel(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	if l := strings.TrimSpace(s.DiscountLabels[lang]); l != "" {
		return l
	}
	if l := strings.TrimSpace(s.DiscountLabel); l != "" {
		return l
	}
	if l, ok := DefaultCheckoutLabels[lang]; ok {
		return l
	}
	return DefaultCheckoutLabels["en"]
}

// CheckoutLabels are the labels these settings show, one per checkout
// language, without duplicates.
func (s ShopSettings) CheckoutLabels() []string {
	var out []string
	for _, lang := range CheckoutLanguages {
		if l := s.CheckoutLabel(lang); !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// RecognisedLabels are the discount titles that name creditbridge's
// credit on this shop's orders: every label issued (IssuedLabels), the
// labels the settings show now, and the legacy and default labels.
func (sh Shop) RecognisedLabels() []string {
	out := []string{LegacyCheckoutLabel}
	add := func(l string) {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	for _, lang := range CheckoutLanguages {
		add(DefaultCheckoutLabels[lang])
	}
	for _, l := range sh.Settings.CheckoutLabels() {
		add(l)
	}
	for _, l := range sh.IssuedLabels {
		add(l)
	}
	return out
}

func validLabel(name, l string) error {
	if utf8.RuneCountInString(l) > MaxDiscountLabel || strings.ContainsAny(l, "<>{}\n\r") {
		return Errorf(EINVALID, "%s must be at most %d characters without < > { } or line breaks", name, MaxDiscountLabel)
	}
	return nil
}

var localeRe = regexp.MustCompile(`^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$`)

// HoldTTL returns the hold expiry duration.
func (s ShopSettings) HoldTTL() time.Duration {
	if s.HoldMinutes <= 0 {
		return 60 * time.Minute
	}
	return time.Duration(s.HoldMinutes) * time.Minute
}

// Validate checks settings.
func (s ShopSettings) Validate() error {
	if s.PendingDays < 0 || s.PendingDays > 365 {
		return Errorf(EINVALID, "pending_days must be 0..365")
	}
	if s.PartnerLevels < 0 || s.PartnerLevels > MaxPartnerLevels {
		return Errorf(EINVALID, "partner_levels must be 0..%d", MaxPartnerLevels)
	}
	if s.HoldMinutes < 0 || s.HoldMinutes > 7*24*60 {
		return Errorf(EINVALID, "hold_minutes must be 0..10080")
	}
	if s.VoucherDays < 0 || s.VoucherDays > 3650 {
		return Errorf(EINVALID, "voucher_days must be 0..3650")
	}
	if s.StoreCreditExpiryDays < 0 || s.StoreCreditExpiryDays > 3650 {
		return Errorf(EINVALID, "store_credit_expiry_days must be 0..3650")
	}
	switch s.RedemptionMode {
	case "", RedemptionStoreCredit, RedemptionFunction, RedemptionCodes:
	default:
		return Errorf(EINVALID, "redemption_mode must be store_credit, function or codes")
	}
	if s.MaxPercent.Valid && (s.MaxPercent.Decimal.IsNegative() || s.MaxPercent.Decimal.GreaterThan(decimal.NewFromInt(100))) {
		return Errorf(EINVALID, "max_percent must be 0..100")
	}
	if s.MaxAmount.Valid && s.MaxAmount.Decimal.IsNegative() {
		return Errorf(EINVALID, "max_amount must not be negative")
	}
	if s.MinOrder.Valid && s.MinOrder.Decimal.IsNegative() {
		return Errorf(EINVALID, "min_order must not be negative")
	}
	if err := s.Referral.Validate(); err != nil {
		return err
	}
	switch s.EarnBase {
	case "", EarnOnNet, EarnOnGross:
	default:
		return Errorf(EINVALID, "earn_base must be net or gross")
	}
	switch s.RedeemBase {
	case "", RedeemGross, RedeemNet:
	default:
		return Errorf(EINVALID, "redeem_base must be gross or net")
	}
	if !s.Rounding.Valid() {
		return Errorf(EINVALID, "rounding must be half_away_from_zero or half_even")
	}
	if p := s.EarnCapOrderPercent; p.Valid && (p.Decimal.IsNegative() || p.Decimal.GreaterThan(decimal.NewFromInt(100)) || p.Decimal.Exponent() < -4) {
		return Errorf(EINVALID, "earn_cap_order_percent must be 0..100 with at most 4 decimals")
	}
	for _, c := range []struct {
		name string
		v    decimal.NullDecimal
	}{{"earn_cap_order_amount", s.EarnCapOrderAmount}, {"earn_cap_year_amount", s.EarnCapYearAmount}} {
		if c.v.Valid && (c.v.Decimal.IsNegative() || c.v.Decimal.Exponent() < -3 || c.v.Decimal.GreaterThan(decimal.New(1, 15))) {
			return Errorf(EINVALID, "%s must be 0..10^15 with at most 3 decimals", c.name)
		}
	}
	if s.Locale != "" && (len(s.Locale) > 35 || !localeRe.MatchString(s.Locale)) {
		return Errorf(EINVALID, "locale must be a language tag such as de or en-US")
	}
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" {
			return Errorf(EINVALID, "time_zone must be an IANA time zone such as Europe/Berlin")
		}
	}
	if err := validLabel("discount_label", s.DiscountLabel); err != nil {
		return err
	}
	for lang, l := range s.DiscountLabels {
		if !slices.Contains(CheckoutLanguages, lang) {
			return Errorf(EINVALID, "discount_labels: language %q is not one of de, en", lang)
		}
		if err := validLabel("discount_labels."+lang, l); err != nil {
			return err
		}
	}
	if err := s.Tax.Validate(); err != nil {
		return err
	}
	if err := s.Accounting.Validate(); err != nil {
		return err
	}
	return s.ProgramSettings.Validate()
}

// ShopSecrets are a shop's credentials, encrypted at rest.
type ShopSecrets struct {
	WebhookSecret  string    `json:"webhook_secret,omitempty"`  // WooCommerce webhook secret
	ConsumerKey    string    `json:"consumer_key,omitempty"`    // WooCommerce REST
	ConsumerSecret string    `json:"consumer_secret,omitempty"` // WooCommerce REST
	PluginSecret   string    `json:"plugin_secret,omitempty"`   // WooCommerce plugin request signing
	AccessToken    string    `json:"access_token,omitempty"`    // Shopify offline token
	RefreshToken   string    `json:"refresh_token,omitempty"`   // Shopify expiring offline token
	TokenExpiresAt time.Time `json:"token_expires_at,omitempty"`
	CustomerKey    string    `json:"customer_key,omitempty"`  // signs short-lived customer tokens and guest ids
	EventsSecret   string    `json:"events_secret,omitempty"` // signs events API requests (any platform)
	NotifySecret   string    `json:"notify_secret,omitempty"` // signs outgoing webhooks to the merchant
}

// ShopStore persists shops.
type ShopStore interface {
	CreateShop(ctx context.Context, s Shop, adminToken string) (Shop, error)
	ShopByID(ctx context.Context, id int64) (Shop, error)
	ShopByDomain(ctx context.Context, p Platform, domain string) (Shop, error)
	ShopByAdminToken(ctx context.Context, token string) (Shop, error)
	// UpdateShop stores everything, secrets included (use it with a shop
	// just read, e.g. after a token rotation).
	UpdateShop(ctx context.Context, s Shop) error
	// UpdateSettings stores name, active and settings only, so a stale copy
	// of the shop can never write back rotated-away secrets.
	UpdateSettings(ctx context.Context, s Shop) error
}

// GuestOwnerID derives the opaque owner id of a guest from the e-mail with
// a per-shop key, so the ledger never stores the address itself.
func GuestOwnerID(key, email string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(NormalizeEmail(email)))
	return "g:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// CustomerOwnerID is the owner id of a registered platform customer.
func CustomerOwnerID(platformID string) string { return "c:" + platformID }

// Sealer encrypts secrets at rest (AES-GCM in adapters/secretbox).
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// CustomerMatch is a customer found by a merchant's search (admin only:
// it carries the e-mail address).
type CustomerMatch struct {
	OwnerID    string `json:"owner_id"`
	PlatformID string `json:"platform_id,omitempty"`
	Email      string `json:"email,omitempty"`
}

// NoteShopInactive is the outcome note of an order, refund or checkout
// event of an uninstalled (inactive) shop: acknowledged, nothing booked.
const NoteShopInactive = "shop uninstalled: orders are no longer credited (reinstall the app, then send the order again)"

// NormalizeDomain lower-cases a shop domain or site URL and strips the
// trailing slash: the one spelling shops are stored and looked up by.
func NormalizeDomain(d string) string {
	return strings.TrimRight(strings.ToLower(strings.TrimSpace(d)), "/")
}
