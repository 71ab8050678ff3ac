package core

import (
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Platform names a shop platform.
type Platform string

// Supported platforms.
const (
	PlatformShopify     Platform = "shopify"
	PlatformWooCommerce Platform = "woocommerce"
)

// Order is the platform-neutral snapshot of an order that adapters build
// from webhook payloads or REST responses. A snapshot is a hint of the
// order's current state, never a command: replaying any snapshot any
// number of times, in any order, converges on the same books.
type Order struct {
	ShopID      int64    // set by the worker, not by the normalizer
	Platform    Platform // shopify or woocommerce
	OrderID     string   // platform order id, decimal digits
	OrderNumber string   // human-facing number, e.g. "#1001"
	Customer    CustomerRef
	Currency    string // ISO 4217, upper case
	// Status is the raw platform status (Shopify financial_status,
	// WooCommerce status). Paid and Cancelled are derived by the adapter
	// from the shop's configuration of paid states.
	Status    string
	Paid      bool
	Cancelled bool
	// FullyRefunded is the platform's own "everything was refunded" state
	// (Shopify financial_status refunded, WooCommerce status refunded). It
	// reverses all earned credit even when the refunds carry no line
	// detail (an amount-only refund of the whole order).
	FullyRefunded bool
	Test          bool
	Lines         []OrderLine
	// Refunds seen in this snapshot. Refunds are merged by ID with the
	// refunds already known for the order, so a snapshot that lacks a
	// refund never un-refunds it.
	Refunds []Refund
	// Redemptions lists credit this order consumed: a creditbridge
	// discount (Shopify function / WooCommerce coupon) or a voucher code.
	Redemptions []Redemption
	// PartnerRef is the referral attribution (partner id or code) if any.
	PartnerRef string
	// CartKey links the order to the checkout that placed a hold: Shopify
	// checkout_token / cart_token, WooCommerce session key.
	CartKey   string
	UpdatedAt time.Time
	CreatedAt time.Time
}

// CustomerRef identifies the buyer. PlatformID is empty for guests, who
// are identified by their normalized e-mail.
type CustomerRef struct {
	PlatformID string
	Email      string
}

// IsGuest reports whether the buyer has no platform customer id.
func (c CustomerRef) IsGuest() bool { return c.PlatformID == "" }

// NormalizeEmail lower-cases and trims an e-mail address.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// OrderLine is one line of an order.
type OrderLine struct {
	LineID    string
	ProductID string
	VariantID string
	SKU       string
	Title     string
	Quantity  int64
	// NetTotal is the line total after all line-level and allocated order
	// discounts, excluding tax and shipping, in the order currency.
	NetTotal decimal.Decimal
	// Tax is the tax on the line after discounts (the platform's figure);
	// NetTotal + Tax is the gross line total the customer paid.
	Tax decimal.Decimal `json:",omitempty"`
	// GiftCard lines never earn.
	GiftCard bool
}

// EarnBase is the price credit percentages apply to.
type EarnBase string

// Earning bases. The empty base is the net price.
const (
	EarnOnNet   EarnBase = "net"   // line total after discounts, tax excluded
	EarnOnGross EarnBase = "gross" // line total after discounts, tax included
)

// EarningBase returns the line total a percentage rule applies to.
func (l OrderLine) EarningBase(b EarnBase) decimal.Decimal {
	if b == EarnOnGross {
		return l.NetTotal.Add(l.Tax)
	}
	return l.NetTotal
}

// NetUnitPrice returns NetTotal / Quantity without rounding (it may carry
// more digits than the currency; it is only used as a rate input).
func (l OrderLine) NetUnitPrice() decimal.Decimal {
	if l.Quantity <= 0 {
		return decimal.Zero
	}
	return l.NetTotal.DivRound(decimal.NewFromInt(l.Quantity), 12)
}

// Refund is one refund of an order with its line detail. A refund without
// line detail (LinesKnown false) must be completed from the platform API
// before it can reverse credit.
type Refund struct {
	RefundID   string
	Lines      []RefundLine
	Amount     decimal.Decimal // total refunded amount, informational
	LinesKnown bool
	CreatedAt  time.Time
}

// RefundLine is the quantity of one order line refunded by a refund.
type RefundLine struct {
	LineID   string
	Quantity int64
	Amount   decimal.Decimal // informational
}

// RedemptionKind tells how credit was applied to an order.
type RedemptionKind string

// Redemption kinds.
const (
	RedemptionDiscount RedemptionKind = "discount" // automatic checkout discount / plugin coupon
	RedemptionVoucher  RedemptionKind = "voucher"  // single-use voucher code
)

// Redemption is credit an order consumed.
type Redemption struct {
	Kind   RedemptionKind
	Code   string          // discount or coupon code, voucher code
	HoldID string          // hold id when the platform carried it (WooCommerce coupon)
	Amount decimal.Decimal // amount actually applied on the order
	// Net and Tax split Amount (the credit booked) into the reduction of
	// the taxable amount and of the VAT it contains (Net + Tax = Amount),
	// when known; TaxSource says where the split comes from:
	// TaxFromPlatform, TaxComputed, or "" (unknown). Where credit reduces
	// net prices (prices excluding tax: Shopify, WooCommerce with
	// redeem_base net) Amount is all net and Tax is zero: the platform
	// lowers the VAT on top, outside the credit.
	Net              decimal.NullDecimal `json:",omitzero"`
	Tax              decimal.NullDecimal `json:",omitzero"`
	TaxSource        string              `json:",omitempty"`
	PricesIncludeTax *bool               `json:",omitempty"`
}

// Sources of a redemption's tax split.
const (
	TaxFromPlatform = "platform" // the platform's own figures (WooCommerce discount / discount_tax)
	TaxComputed     = "computed" // derived from the platform's per-line tax rates (Shopify)
)

// RedemptionTx records the tax split of the credit an
// order redeemed, for the accounting export (the newest snapshot's
// redemptions replace the order's earlier ones).
type RedemptionTx interface {
	SaveRedemptions(ctx context.Context, currency string, rs []Redemption) error
}
