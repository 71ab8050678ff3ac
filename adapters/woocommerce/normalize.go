package woocommerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// Order meta keys written by the companion plugin.
const (
	// MetaCartKey links an order to the checkout session that placed a hold.
	MetaCartKey = "_creditbridge_cart_key"
	// MetaPartner carries the referral attribution (partner id or code).
	MetaPartner = "_creditbridge_partner"
	// metaRefundedItemID is set by WooCommerce on each refund line item to
	// the id of the original order line.
	metaRefundedItemID = "_refunded_item_id"
)

// StatusCheckoutDraft is the status of orders the block checkout creates
// before the customer places them. They are not orders yet.
const StatusCheckoutDraft = "checkout-draft"

// StatusRefunded is the status of an order that was paid and then fully
// refunded.
const StatusRefunded = "refunded"

// cancelledStatuses never earn credit: the order was not paid or was
// withdrawn ("trash" is what the REST API reports for a trashed order).
var cancelledStatuses = []string{"cancelled", "failed", "trash"}

// dateLayout is the layout of WooCommerce's *_gmt REST fields.
const dateLayout = "2006-01-02T15:04:05"

// ErrIgnoredStatus is matched (errors.Is) by the error ParseOrder returns,
// together with the parsed order, for orders in a status creditbridge must
// ignore (checkout-draft). The caller acknowledges the delivery and does
// nothing else.
var ErrIgnoredStatus = errors.New("woocommerce: order status is ignored")

// ParseOptions configure how ParseOrder reads a shop's orders.
type ParseOptions struct {
	// PaidStatuses are the statuses that mean the order was paid.
	PaidStatuses []string
	// CreditCouponPrefix starts the code of the virtual coupon the
	// companion plugin applies for quoted credit: "<prefix><hold id>".
	CreditCouponPrefix string
	// VoucherPrefix starts the code of single-use voucher coupons.
	VoucherPrefix string
	// RedeemNet (shop setting redeem_base net, B2B) books the credit
	// and voucher coupons of a shop with prices excluding tax at their
	// discount without tax; by default (B2C) at discount + discount_tax,
	// the amount the invoice total fell by. See parseCouponLine.
	RedeemNet bool
}

// DefaultParseOptions returns the options for a shop with the default
// configuration: paid = processing or completed, credit coupons "cb-",
// vouchers "cbv-".
func DefaultParseOptions() ParseOptions {
	return ParseOptions{
		PaidStatuses:       []string{"processing", "completed"},
		CreditCouponPrefix: "cb-",
		VoucherPrefix:      "cbv-",
	}
}

// wcOrder is the subset of the REST order object (also the body of the
// order.created/updated/restored webhooks) that creditbridge reads. Ids are
// json.Number so they never pass through float64.
type wcOrder struct {
	ID               json.Number     `json:"id"`
	Number           flexString      `json:"number"`
	Status           string          `json:"status"`
	Currency         string          `json:"currency"`
	DateCreatedGMT   flexString      `json:"date_created_gmt"`
	DateModifiedGMT  flexString      `json:"date_modified_gmt"`
	PricesIncludeTax bool            `json:"prices_include_tax"`
	CustomerID       json.Number     `json:"customer_id"`
	Billing          *wcBilling      `json:"billing"`
	Shipping         *wcBilling      `json:"shipping"`
	MetaData         []wcMeta        `json:"meta_data"`
	LineItems        []wcLine        `json:"line_items"`
	CouponLines      []wcCouponLine  `json:"coupon_lines"`
	Refunds          []wcOrderRefund `json:"refunds"`
}

type wcBilling struct {
	Email flexString `json:"email"`
	// Read for the household self-referral check only (hashed, never
	// stored as such).
	Address1 flexString `json:"address_1"`
	Postcode flexString `json:"postcode"`
	Country  flexString `json:"country"`
}

func (a *wcBilling) add(list []string) []string {
	if a == nil {
		return list
	}
	return core.AddAddress(list, string(a.Address1), string(a.Postcode), string(a.Country))
}

type wcMeta struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

type wcLine struct {
	ID          json.Number `json:"id"`
	Name        flexString  `json:"name"`
	ProductID   json.Number `json:"product_id"`
	VariationID json.Number `json:"variation_id"`
	Quantity    json.Number `json:"quantity"`
	Total       flexString  `json:"total"`
	TotalTax    flexString  `json:"total_tax"`
	SKU         flexString  `json:"sku"`
	MetaData    []wcMeta    `json:"meta_data"`
	// price is deliberately absent: it is a JSON number (float) and is
	// never used for money.
}

type wcCouponLine struct {
	ID          json.Number `json:"id"`
	Code        flexString  `json:"code"`
	Discount    flexString  `json:"discount"`
	DiscountTax flexString  `json:"discount_tax"`
}

// wcOrderRefund is the summary of a refund embedded in an order. WooCommerce
// before 3.4 called the reason "refund" (woocommerce issue #19925).
type wcOrderRefund struct {
	ID     json.Number `json:"id"`
	Reason flexString  `json:"reason"`
	Refund flexString  `json:"refund"`
	Total  flexString  `json:"total"`
}

// wcRefund is a refund object of GET /wc/v3/orders/<id>/refunds.
type wcRefund struct {
	ID             json.Number    `json:"id"`
	DateCreatedGMT flexString     `json:"date_created_gmt"`
	Amount         flexString     `json:"amount"`
	LineItems      []wcRefundLine `json:"line_items"`
}

type wcRefundLine struct {
	ID       json.Number `json:"id"`
	Quantity json.Number `json:"quantity"`
	Total    flexString  `json:"total"`
	MetaData []wcMeta    `json:"meta_data"`
}

// flexString decodes a JSON string, number or null into a string. WooCommerce
// extensions are not consistent about strings vs numbers in several fields
// (order number, meta values, SKU).
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
		return nil
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = flexString(n.String())
		return nil
	default:
		kind := "value"
		switch b[0] {
		case '[':
			kind = "array"
		case '{':
			kind = "object"
		case 't', 'f':
			kind = "bool"
		}
		return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[string]()}
	}
}

// ParseOrder turns an order webhook body (order.created, order.updated,
// order.restored) or a REST order object into a core.Order snapshot.
//
// Status mapping: Paid is true for opt.PaidStatuses and for "refunded" (an
// order is only refunded after it was paid; its refunds, completed with
// line detail by the worker from the refunds endpoint, bring its credit to
// zero). Cancelled is true for "cancelled", "failed" and "trash". Every
// other status (pending, on-hold, custom ones) is neither paid nor
// cancelled. For "checkout-draft" ParseOrder returns the parsed order and an
// error matching ErrIgnoredStatus.
//
// Malformed JSON, missing ids, unknown currencies and amounts that are not
// plain decimals within the currency's scale give a *core.Error with code
// core.EINVALID. The message never contains personal data.
func ParseOrder(body []byte, opt ParseOptions) (core.Order, error) {
	var w wcOrder
	if err := json.Unmarshal(body, &w); err != nil {
		return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order: malformed JSON: %s", jsonErrorText(err))
	}
	id, err := parseID(w.ID, true)
	if err != nil {
		return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order: id: %s", err)
	}
	cur, err := core.NormalizeCurrency(w.Currency)
	if err != nil {
		return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: unknown currency %q", id, w.Currency)
	}
	customer, err := parseID(w.CustomerID, false)
	if err != nil {
		return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: customer_id: %s", id, err)
	}
	o := core.Order{
		Platform:    core.PlatformWooCommerce,
		OrderID:     id,
		OrderNumber: string(w.Number),
		Customer:    core.CustomerRef{PlatformID: customer},
		Currency:    cur,
		Status:      w.Status,
	}
	if o.OrderNumber == "" {
		o.OrderNumber = id
	}
	if w.Billing != nil {
		o.Customer.Email = core.NormalizeEmail(string(w.Billing.Email))
	}
	o.Addresses = w.Shipping.add(w.Billing.add(nil))
	o.Paid = slices.Contains(opt.PaidStatuses, w.Status) || w.Status == StatusRefunded
	o.Cancelled = slices.Contains(cancelledStatuses, w.Status)
	o.FullyRefunded = w.Status == StatusRefunded
	if o.Cancelled {
		o.Paid = false
	}
	for _, m := range w.MetaData {
		switch m.Key {
		case MetaCartKey:
			o.CartKey = metaString(m.Value)
		case MetaPartner:
			o.PartnerRef = metaString(m.Value)
		}
	}
	if o.CreatedAt, err = parseDate(string(w.DateCreatedGMT)); err != nil {
		return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: date_created_gmt: %s", id, err)
	}
	if o.UpdatedAt, err = parseDate(string(w.DateModifiedGMT)); err != nil {
		return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: date_modified_gmt: %s", id, err)
	}
	if o.UpdatedAt.IsZero() {
		// A freshly created order may lack a modification date; its
		// creation date then orders the snapshots.
		o.UpdatedAt = o.CreatedAt
	}
	if o.UpdatedAt.IsZero() && w.Status != StatusCheckoutDraft {
		return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: no date_modified_gmt or date_created_gmt", id)
	}

	for i, l := range w.LineItems {
		line, err := parseLine(cur, l)
		if err != nil {
			return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: line_items[%d]: %s", id, i, err)
		}
		o.Lines = append(o.Lines, line)
	}
	for i, r := range w.Refunds {
		ref, err := parseOrderRefund(cur, r)
		if err != nil {
			return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: refunds[%d]: %s", id, i, err)
		}
		o.Refunds = append(o.Refunds, ref)
	}
	for i, c := range w.CouponLines {
		red, ok, err := parseCouponLine(cur, c, w.PricesIncludeTax, opt)
		if err != nil {
			return core.Order{}, core.Errorf(core.EINVALID, "woocommerce order %s: coupon_lines[%d]: %s", id, i, err)
		}
		if ok {
			o.Redemptions = append(o.Redemptions, red)
		}
	}
	if w.Status == StatusCheckoutDraft {
		return o, fmt.Errorf("woocommerce: order %s has status %q: %w", id, w.Status, ErrIgnoredStatus)
	}
	return o, nil
}

func parseLine(cur string, l wcLine) (core.OrderLine, error) {
	id, err := parseID(l.ID, true)
	if err != nil {
		return core.OrderLine{}, fmt.Errorf("id: %w", err)
	}
	product, err := parseID(l.ProductID, false)
	if err != nil {
		return core.OrderLine{}, fmt.Errorf("line %s: product_id: %w", id, err)
	}
	variant, err := parseID(l.VariationID, false)
	if err != nil {
		return core.OrderLine{}, fmt.Errorf("line %s: variation_id: %w", id, err)
	}
	qty, err := parseQuantity(l.Quantity)
	if err != nil {
		return core.OrderLine{}, fmt.Errorf("line %s: quantity: %w", id, err)
	}
	if qty < 0 {
		return core.OrderLine{}, fmt.Errorf("line %s: quantity %d is negative", id, qty)
	}
	total, err := parseMoney(cur, string(l.Total))
	if err != nil {
		return core.OrderLine{}, fmt.Errorf("line %s: total: %w", id, err)
	}
	if total.IsNegative() {
		return core.OrderLine{}, fmt.Errorf("line %s: total %s is negative", id, total)
	}
	// total and total_tax are after discounts and exclude tax whether or
	// not the shop enters prices including tax (prices_include_tax only
	// changes how prices were entered): total is the net line total.
	tax := decimal.Zero
	if l.TotalTax != "" {
		if tax, err = parseMoney(cur, string(l.TotalTax)); err != nil {
			return core.OrderLine{}, fmt.Errorf("line %s: total_tax: %w", id, err)
		}
		if tax.IsNegative() {
			return core.OrderLine{}, fmt.Errorf("line %s: total_tax %s is negative", id, tax)
		}
	}
	return core.OrderLine{
		LineID:    id,
		ProductID: product,
		VariantID: variant,
		SKU:       string(l.SKU),
		Title:     string(l.Name),
		Quantity:  qty,
		NetTotal:  total,
		Tax:       tax,
	}, nil
}

func parseOrderRefund(cur string, r wcOrderRefund) (core.Refund, error) {
	id, err := parseID(r.ID, true)
	if err != nil {
		return core.Refund{}, fmt.Errorf("id: %w", err)
	}
	total, err := parseMoney(cur, string(r.Total))
	if err != nil {
		return core.Refund{}, fmt.Errorf("refund %s: total: %w", id, err)
	}
	// Line detail is not in the order; the worker completes it from
	// GET /orders/<id>/refunds (ParseRefunds).
	return core.Refund{RefundID: id, Amount: total.Abs(), LinesKnown: false}, nil
}

// parseCouponLine recognizes creditbridge coupons. It reports ok=false for
// any other coupon (the merchant's own discounts are already reflected in
// the line totals).
//
// Amount is the credit the ledger books for the coupon: exactly what the
// invoice was reduced by. WooCommerce splits a fixed_cart coupon into
// `discount` (without tax) and `discount_tax`:
//   - prices entered including tax: the coupon reduces the gross price,
//     Amount = discount + discount_tax;
//   - prices entered excluding tax, redeem_base gross (the default, B2C):
//     the plugin sizes the coupon so that the gross total falls by the
//     quoted credit, Amount = discount + discount_tax;
//   - prices entered excluding tax, redeem_base net (B2B): the coupon is
//     the quoted credit off the net total, Amount = discount (the VAT on
//     it falls on top, outside the credit).
//
// Voucher coupons (cbv-) follow the same setting: their face value is the
// credit, and the plugin scales a voucher's coupon amount in the cart the
// way it sizes the credit coupon (redeem_base gross: the gross total falls
// by the face value), so the invoice falls by what the voucher books.
//
// Net and Tax are the platform's own split of Amount (discount and
// discount_tax, or discount and zero for redeem_base net).
func parseCouponLine(cur string, c wcCouponLine, pricesIncludeTax bool, opt ParseOptions) (core.Redemption, bool, error) {
	code := string(c.Code)
	kind, rest, ok := matchCoupon(code, opt)
	if !ok {
		return core.Redemption{}, false, nil
	}
	discount, err := parseMoney(cur, string(c.Discount))
	if err != nil {
		return core.Redemption{}, false, fmt.Errorf("coupon %q: discount: %w", code, err)
	}
	tax := decimal.Zero
	if c.DiscountTax != "" {
		if tax, err = parseMoney(cur, string(c.DiscountTax)); err != nil {
			return core.Redemption{}, false, fmt.Errorf("coupon %q: discount_tax: %w", code, err)
		}
	}
	if discount.IsNegative() || tax.IsNegative() {
		return core.Redemption{}, false, fmt.Errorf("coupon %q: discount %s / discount_tax %s is negative", code, discount, tax)
	}
	if !pricesIncludeTax && opt.RedeemNet {
		// B2B: the coupon took the credit off the net total; the VAT on
		// it fell on top, outside the credit.
		tax = decimal.Zero
	}
	pit := pricesIncludeTax
	r := core.Redemption{Kind: kind, Code: code, Amount: discount.Add(tax), Net: decimal.NewNullDecimal(discount),
		Tax: decimal.NewNullDecimal(tax), TaxSource: core.TaxFromPlatform, PricesIncludeTax: &pit}
	if kind == core.RedemptionDiscount {
		r.HoldID = rest
	}
	return r, true, nil
}

// matchCoupon compares the code with the configured prefixes, ignoring case
// (WooCommerce lower-cases coupon codes). The longer matching prefix wins,
// so overlapping prefixes stay unambiguous. A code that is only a prefix
// carries no hold or voucher and is not ours.
func matchCoupon(code string, opt ParseOptions) (core.RedemptionKind, string, bool) {
	type cand struct {
		prefix string
		kind   core.RedemptionKind
	}
	cands := []cand{{opt.CreditCouponPrefix, core.RedemptionDiscount}, {opt.VoucherPrefix, core.RedemptionVoucher}}
	if len(cands[1].prefix) > len(cands[0].prefix) {
		cands[0], cands[1] = cands[1], cands[0]
	}
	for _, c := range cands {
		if c.prefix == "" || len(code) <= len(c.prefix) {
			continue
		}
		if strings.EqualFold(code[:len(c.prefix)], c.prefix) {
			return c.kind, code[len(c.prefix):], true
		}
	}
	return "", "", false
}

// ParseRefunds parses the response of GET /wc/v3/orders/<id>/refunds (a
// JSON array of refund objects; a single refund object is accepted too).
// Refund line items carry negative quantities and totals and the meta
// _refunded_item_id naming the original order line; they become RefundLine
// values with positive Quantity and Amount, and each refund has LinesKnown
// set. A refund without line items refunded an amount only (e.g. shipping or
// a goodwill gesture) and reverses no line.
//
// The refunds endpoint does not repeat the currency, so amounts are checked
// to be plain non-negative decimals here and against the order currency's
// scale by the caller (core.CheckScale).
func ParseRefunds(body []byte) ([]core.Refund, error) {
	var ws []wcRefund
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var one wcRefund
		if err := json.Unmarshal(trimmed, &one); err != nil {
			return nil, core.Errorf(core.EINVALID, "woocommerce refunds: malformed JSON: %s", jsonErrorText(err))
		}
		ws = []wcRefund{one}
	} else if err := json.Unmarshal(trimmed, &ws); err != nil {
		return nil, core.Errorf(core.EINVALID, "woocommerce refunds: malformed JSON: %s", jsonErrorText(err))
	}
	out := make([]core.Refund, 0, len(ws))
	for i, w := range ws {
		r, err := parseRefund(w)
		if err != nil {
			return nil, core.Errorf(core.EINVALID, "woocommerce refunds[%d]: %s", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseRefund(w wcRefund) (core.Refund, error) {
	id, err := parseID(w.ID, true)
	if err != nil {
		return core.Refund{}, fmt.Errorf("id: %w", err)
	}
	amount, err := parseDecimal(string(w.Amount))
	if err != nil {
		return core.Refund{}, fmt.Errorf("refund %s: amount: %w", id, err)
	}
	created, err := parseDate(string(w.DateCreatedGMT))
	if err != nil {
		return core.Refund{}, fmt.Errorf("refund %s: date_created_gmt: %w", id, err)
	}
	r := core.Refund{RefundID: id, Amount: amount.Abs(), LinesKnown: true, CreatedAt: created}
	for j, l := range w.LineItems {
		var orig string
		for _, m := range l.MetaData {
			if m.Key == metaRefundedItemID {
				orig = metaString(m.Value)
			}
		}
		if orig == "" {
			return core.Refund{}, fmt.Errorf("refund %s: line_items[%d]: no %s meta", id, j, metaRefundedItemID)
		}
		lineID, err := parseID(json.Number(orig), true)
		if err != nil {
			return core.Refund{}, fmt.Errorf("refund %s: line_items[%d]: %s: %w", id, j, metaRefundedItemID, err)
		}
		qty, err := parseQuantity(l.Quantity)
		if err != nil {
			return core.Refund{}, fmt.Errorf("refund %s: line_items[%d]: quantity: %w", id, j, err)
		}
		total, err := parseDecimal(string(l.Total))
		if err != nil {
			return core.Refund{}, fmt.Errorf("refund %s: line_items[%d]: total: %w", id, j, err)
		}
		r.Lines = append(r.Lines, core.RefundLine{LineID: lineID, Quantity: absInt(qty), Amount: total.Abs()})
	}
	return r, nil
}

// parseID parses a positive int64 id. A zero or absent id gives "" unless
// required (customer_id 0 = guest, variation_id 0 = no variation,
// product_id 0 = product deleted).
func parseID(n json.Number, required bool) (string, error) {
	s := n.String()
	if s == "" || s == "0" {
		if required {
			return "", errors.New("missing or zero")
		}
		return "", nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%q is not an integer id", truncate(s))
	}
	if v < 0 {
		return "", fmt.Errorf("%d is negative", v)
	}
	if v == 0 {
		if required {
			return "", errors.New("missing or zero")
		}
		return "", nil
	}
	return strconv.FormatInt(v, 10), nil
}

// parseQuantity parses an integer quantity (it may be negative: refunds).
func parseQuantity(n json.Number) (int64, error) {
	s := n.String()
	if s == "" {
		return 0, errors.New("missing")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", truncate(s))
	}
	if v == -1<<63 {
		return 0, fmt.Errorf("%d is out of range", v)
	}
	return v, nil
}

func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// maxAmountLen bounds the text of an amount: 18 integer digits, a point
// and up to 12 decimals, with a sign, is far more than any shop needs.
const maxAmountLen = 32

// parseDecimal parses a plain decimal ("-12.30"): an optional sign, digits
// and an optional fraction. Exponents are refused: WooCommerce never sends
// them and a huge exponent would make later arithmetic explode.
func parseDecimal(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return decimal.Zero, errors.New("missing")
	}
	if len(s) > maxAmountLen {
		return decimal.Zero, fmt.Errorf("%q is too long", truncate(s))
	}
	digits, point := 0, false
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' && i == 0:
		case c == '.' && !point && digits > 0:
			point = true
		default:
			return decimal.Zero, fmt.Errorf("%q is not a plain decimal", s)
		}
	}
	if digits == 0 || s[len(s)-1] == '.' {
		return decimal.Zero, fmt.Errorf("%q is not a plain decimal", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("%q is not a decimal", s)
	}
	return d, nil
}

// parseMoney parses a plain decimal and checks it against the currency's
// minor units without rounding.
func parseMoney(cur, s string) (decimal.Decimal, error) {
	d, err := parseDecimal(s)
	if err != nil {
		return decimal.Zero, err
	}
	if err := core.CheckScale(cur, d); err != nil {
		return decimal.Zero, fmt.Errorf("%s", core.ErrorMessage(err))
	}
	return d, nil
}

// parseDate parses a WooCommerce *_gmt date ("2017-03-22T19:28:02", UTC).
// RFC 3339 is accepted too. Empty gives the zero time.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(dateLayout, s, time.UTC); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date like %s", truncate(s), dateLayout)
}

// metaString returns a meta value that is a JSON string or number as text;
// other values (arrays, objects, null) give "".
func metaString(raw json.RawMessage) string {
	var s flexString
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return strings.TrimSpace(string(s))
}

// jsonErrorText describes a decoding error without quoting the payload.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has JSON type %s, want %s", typ.Field, typ.Value, typ.Type)
	default:
		return truncate(err.Error())
	}
}

func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
