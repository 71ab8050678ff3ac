package shopify

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// ParseOptions is the per-shop configuration the order normalizer needs.
type ParseOptions struct {
	// PaidStatuses lists the financial_status values that count as paid
	// (compared case-insensitively). An order with any other status, or a
	// cancelled one, earns nothing.
	PaidStatuses []string
	// CreditDiscountTitles are the titles creditbridge issued for the
	// automatic discount through which its discount Function applies
	// credit (core.Shop.RecognisedLabels: every label the shop ever
	// showed, the legacy "Store credit" included). Shopify's order
	// payload identifies an automatic app discount by nothing else
	// (AutomaticDiscountApplication: allocationMethod, index,
	// targetSelection, targetType, title, value); the allocations of the
	// applications of type "automatic" with one of these titles are the
	// credit actually redeemed. A merchant's own discount codes and manual
	// discounts never match (other types). Empty disables
	// discount-redemption detection.
	CreditDiscountTitles []string
	// VoucherPrefix marks creditbridge voucher codes among the order's
	// discount codes (compared case-insensitively). Empty disables
	// voucher detection, so that an unset prefix never matches every code.
	VoucherPrefix string
}

// DefaultParseOptions returns the options of a shop that changed nothing.
//
// PaidStatuses is {"paid", "partially_refunded", "refunded"}: "authorized"
// (payment held but not captured), "pending" and "partially_paid" have not
// been paid in full, and "voided" is a cancellation. Refunds are not
// expressed through the status: they come line by line from the refund
// detail (Order.Refunds), so a refunded order is still "paid" and its
// credit is reversed because every line is refunded, with exactly the
// amounts that were earned.
//
// CreditDiscountTitles are the labels of a shop that set none
// (core.Shop.RecognisedLabels: "Store credit", "Guthaben"); VoucherPrefix
// "CBV-" is the prefix of the single-use voucher codes creditbridge
// creates.
func DefaultParseOptions() ParseOptions {
	return ParseOptions{
		PaidStatuses:         []string{"paid", "partially_refunded", "refunded"},
		CreditDiscountTitles: core.Shop{}.RecognisedLabels(),
		VoucherPrefix:        "CBV-",
	}
}

// isCreditApp reports whether a discount application is creditbridge's
// automatic credit discount.
func (opt ParseOptions) isCreditApp(typ, title string) bool {
	return typ == "automatic" && slices.Contains(opt.CreditDiscountTitles, strings.TrimSpace(title))
}

// Note attribute names that carry referral attribution, in priority order.
const (
	NoteAttrPartner = "creditbridge_partner"
	NoteAttrRef     = "ref"
)

// maxPartnerRefLen bounds a referral attribute; longer values are ignored
// rather than failing the whole order (they are typed by shoppers).
const maxPartnerRefLen = 255

type moneyBag struct {
	Amount       jsonDecimal `json:"amount"`
	CurrencyCode jsonText    `json:"currency_code"`
}

type moneySet struct {
	ShopMoney *moneyBag `json:"shop_money"`
}

type allocationPayload struct {
	Amount                   jsonDecimal `json:"amount"`
	AmountSet                *moneySet   `json:"amount_set"`
	DiscountApplicationIndex jsonInt     `json:"discount_application_index"`
}

// taxLinePayload is one tax of a line: price is the tax amount after
// discounts (Admin API TaxLine: "the amount of tax … after discounts and
// before returns"), rate the proportion as a decimal (0.19).
type taxLinePayload struct {
	Price    jsonDecimal `json:"price"`
	PriceSet *moneySet   `json:"price_set"`
	Rate     jsonDecimal `json:"rate"`
	Title    jsonText    `json:"title"`
}

type lineItemPayload struct {
	ID                  jsonID              `json:"id"`
	ProductID           jsonID              `json:"product_id"`
	VariantID           jsonID              `json:"variant_id"`
	SKU                 jsonText            `json:"sku"`
	Title               jsonText            `json:"title"`
	Name                jsonText            `json:"name"`
	Quantity            jsonInt             `json:"quantity"`
	Price               jsonDecimal         `json:"price"`
	PriceSet            *moneySet           `json:"price_set"`
	GiftCard            bool                `json:"gift_card"`
	DiscountAllocations []allocationPayload `json:"discount_allocations"`
	TaxLines            []taxLinePayload    `json:"tax_lines"`
}

type refundLinePayload struct {
	LineItemID  jsonID      `json:"line_item_id"`
	Quantity    jsonInt     `json:"quantity"`
	Subtotal    jsonDecimal `json:"subtotal"`
	SubtotalSet *moneySet   `json:"subtotal_set"`
}

type refundPayload struct {
	ID              jsonID              `json:"id"`
	OrderID         jsonID              `json:"order_id"`
	CreatedAt       jsonText            `json:"created_at"`
	ProcessedAt     jsonText            `json:"processed_at"`
	RefundLineItems []refundLinePayload `json:"refund_line_items"`
}

type discountApplicationPayload struct {
	Type  jsonText `json:"type"`
	Title jsonText `json:"title"`
	Code  jsonText `json:"code"`
}

type discountCodePayload struct {
	Code   jsonText    `json:"code"`
	Amount jsonDecimal `json:"amount"`
}

type noteAttribute struct {
	Name  jsonText `json:"name"`
	Value jsonText `json:"value"`
}

type customerPayload struct {
	ID    jsonID   `json:"id"`
	Email jsonText `json:"email"`
}

type orderPayload struct {
	ID              jsonID            `json:"id"`
	Name            jsonText          `json:"name"`
	Email           jsonText          `json:"email"`
	ContactEmail    jsonText          `json:"contact_email"`
	Customer        *customerPayload  `json:"customer"`
	Currency        jsonText          `json:"currency"`
	FinancialStatus seenText          `json:"financial_status"`
	CancelledAt     jsonText          `json:"cancelled_at"`
	Test            bool              `json:"test"`
	TaxesIncluded   bool              `json:"taxes_included"`
	CheckoutToken   jsonText          `json:"checkout_token"`
	CartToken       jsonText          `json:"cart_token"`
	CreatedAt       jsonText          `json:"created_at"`
	UpdatedAt       jsonText          `json:"updated_at"`
	LineItems       []lineItemPayload `json:"line_items"`
	ShippingLines   []struct {
		DiscountAllocations []allocationPayload `json:"discount_allocations"`
		TaxLines            []taxLinePayload    `json:"tax_lines"`
	} `json:"shipping_lines"`
	Refunds              []refundPayload              `json:"refunds"`
	DiscountApplications []discountApplicationPayload `json:"discount_applications"`
	DiscountCodes        []discountCodePayload        `json:"discount_codes"`
	NoteAttributes       []noteAttribute              `json:"note_attributes"`
	// What only the origin check reads (orderShape), decoded in the same
	// pass as the order.
	OrderStatusURL  json.RawMessage `json:"order_status_url"`
	OrderID         json.RawMessage `json:"order_id"`
	ShopDomain      json.RawMessage `json:"shop_domain"`
	MyshopifyDomain json.RawMessage `json:"myshopify_domain"`
}

// shape is what the body's top level says of its kind and shop.
func (p *orderPayload) shape() orderShape {
	return orderShape{lineItems: p.LineItems != nil, financial: p.FinancialStatus.seen, orderID: hasValue(p.OrderID),
		shopDomain: hasValue(p.ShopDomain), myshopify: len(p.MyshopifyDomain) > 0, statusURL: looseString(p.OrderStatusURL)}
}

// money picks shop-currency amounts out of Shopify payloads and checks
// them: the *_set shop_money string wins, the legacy bare field is the
// fallback, a currency_code that disagrees with the payload currency is
// refused, and amounts must respect the currency's minor units.
type money struct {
	kind     string // payload kind for messages: "order", "refund", ...
	currency string // "" while unknown (refund bodies carry no top-level currency)
}

func (m *money) pick(field string, set *moneySet, legacy jsonDecimal, required bool) (decimal.Decimal, error) {
	var d jsonDecimal
	if set != nil && set.ShopMoney != nil && set.ShopMoney.Amount.Set {
		d = set.ShopMoney.Amount
		if code := string(set.ShopMoney.CurrencyCode); code != "" {
			c, err := core.NormalizeCurrency(code)
			if err != nil {
				return decimal.Zero, m.errorf("%s has an unknown currency code", field)
			}
			if m.currency == "" {
				m.currency = c
			} else if c != m.currency {
				return decimal.Zero, m.errorf("%s is in %s, not in the payload currency %s", field, c, m.currency)
			}
		}
	} else {
		d = legacy
	}
	if !d.Set {
		if required {
			return decimal.Zero, m.errorf("%s is missing", field)
		}
		return decimal.Zero, nil
	}
	if d.D.IsNegative() {
		return decimal.Zero, m.errorf("%s is negative", field)
	}
	if m.currency != "" {
		if err := core.CheckScale(m.currency, d.D); err != nil {
			return decimal.Zero, m.errorf("%s: %s", field, core.ErrorMessage(err))
		}
	}
	return d.D, nil
}

func (m *money) errorf(format string, args ...any) *core.Error {
	return core.Errorf(core.EINVALID, "shopify "+m.kind+" payload: "+format, args...)
}

// ParseOrder turns an order webhook body (orders/create, orders/updated,
// orders/paid, orders/cancelled) into a core.Order snapshot. ShopID is
// left for the caller.
//
// Line NetTotal is price_set.shop_money × quantity minus the line's
// discount_allocations (shop money), minus the line's tax_lines when
// taxes_included is true (then price contains the VAT; the tax_lines
// amounts are after discounts), so it is the net line total after
// discounts in both kinds of shop; Tax is the sum of the tax_lines.
// Shipping is excluded, and total_discount is ignored because Shopify may
// report it as 0 while the allocations hold the discounts. Refunds come from the order's refunds
// array with line detail. Store credit redeemed through the creditbridge
// discount Function and creditbridge voucher codes are reported as
// Redemptions (see ParseOptions). Malformed bodies, unknown currencies,
// negative quantities and amounts with more decimals than the currency
// allows return an EINVALID *core.Error; ParseOrder never panics.
func ParseOrder(body []byte, opt ParseOptions) (core.Order, error) {
	return parseOrder(body, opt, nil)
}

// ParseOrderDelivery is ParseOrder for a delivery of topic to the shop
// shopDomain: the decode that parses the body also checks its origin
// (CheckOrigin's order rules), so the worker reads an order body once.
// A body that is not an order, or an order of another shop, is
// EUNAUTHORIZED, whatever else is wrong with it.
func ParseOrderDelivery(topic, shopDomain string, body []byte, opt ParseOptions) (core.Order, error) {
	return parseOrder(body, opt, &delivery{topic: topic, shop: shopDomain})
}

// delivery names the topic and shop a body was delivered for.
type delivery struct{ topic, shop string }

func parseOrder(body []byte, opt ParseOptions, d *delivery) (core.Order, error) {
	var p orderPayload
	if err := decodeJSON("order", body, &p); err != nil {
		if d != nil {
			// A body the parser cannot read may still show whose it is.
			if oerr := CheckOrigin(d.topic, d.shop, body); oerr != nil {
				return core.Order{}, oerr
			}
		}
		return core.Order{}, err
	}
	if d != nil {
		if err := p.shape().check(d.topic, d.shop); err != nil {
			return core.Order{}, err
		}
	}
	m := &money{kind: "order"}
	if p.ID == "" {
		return core.Order{}, m.errorf("id is missing")
	}
	cur, err := core.NormalizeCurrency(string(p.Currency))
	if err != nil {
		return core.Order{}, m.errorf("%s", core.ErrorMessage(err))
	}
	m.currency = cur

	status := strings.TrimSpace(string(p.FinancialStatus.jsonText))
	cancelled := p.CancelledAt != "" || strings.EqualFold(status, "voided")
	o := core.Order{
		Platform:    core.PlatformShopify,
		OrderID:     string(p.ID),
		OrderNumber: string(p.Name),
		Currency:    cur,
		Status:      status,
		Cancelled:   cancelled,
		Paid:        !cancelled && slices.ContainsFunc(opt.PaidStatuses, func(s string) bool { return strings.EqualFold(s, status) }),
		// "refunded" means every amount was refunded, whether or not the
		// refunds list line items.
		FullyRefunded: strings.EqualFold(status, "refunded"),
		Test:          p.Test,
		CartKey:       firstNonEmpty(string(p.CheckoutToken), string(p.CartToken)),
	}
	if p.Customer != nil {
		o.Customer.PlatformID = string(p.Customer.ID)
	}
	var customerEmail jsonText
	if p.Customer != nil {
		customerEmail = p.Customer.Email
	}
	o.Customer.Email = core.NormalizeEmail(firstNonEmpty(string(p.Email), string(p.ContactEmail), string(customerEmail)))
	if o.CreatedAt, err = parseTime("order", "created_at", p.CreatedAt); err != nil {
		return core.Order{}, err
	}
	if o.UpdatedAt, err = parseTime("order", "updated_at", p.UpdatedAt); err != nil {
		return core.Order{}, err
	}

	// perApp sums the shop-money allocations of each discount application
	// over lines and shipping lines, for the redemption amounts.
	perApp := map[int64]decimal.Decimal{}
	// appTax sums, per discount application, the VAT contained in its
	// allocations (computed from the rates of the line it is allocated
	// to); an application with an allocation on a line whose rates are
	// not all given has no entry in appTaxKnown.
	appTax := map[int64]decimal.Decimal{}
	appTaxKnown := map[int64]bool{}
	addAlloc := func(field string, a allocationPayload, taxes []taxLinePayload) (decimal.Decimal, error) {
		amt, err := m.pick(field, a.AmountSet, a.Amount, true)
		if err != nil {
			return decimal.Zero, err
		}
		if a.DiscountApplicationIndex.Set {
			i := a.DiscountApplicationIndex.V
			perApp[i] = perApp[i].Add(amt)
			tax, ok := allocationTax(amt, taxes, p.TaxesIncluded, cur)
			if known, seen := appTaxKnown[i]; ok && (known || !seen) {
				appTax[i] = appTax[i].Add(tax)
				appTaxKnown[i] = true
			} else {
				appTaxKnown[i] = false
			}
		}
		return amt, nil
	}

	o.Lines = make([]core.OrderLine, 0, len(p.LineItems))
	for _, li := range p.LineItems {
		if li.ID == "" {
			return core.Order{}, m.errorf("line_items[].id is missing")
		}
		if !li.Quantity.Set {
			return core.Order{}, m.errorf("line %s: quantity is missing", li.ID)
		}
		if li.Quantity.V < 0 {
			return core.Order{}, m.errorf("line %s: quantity is negative", li.ID)
		}
		price, err := m.pick("line "+string(li.ID)+" price", li.PriceSet, li.Price, true)
		if err != nil {
			return core.Order{}, err
		}
		net := price.Mul(decimal.NewFromInt(li.Quantity.V))
		for _, a := range li.DiscountAllocations {
			amt, err := addAlloc("line "+string(li.ID)+" discount allocation", a, li.TaxLines)
			if err != nil {
				return core.Order{}, err
			}
			net = net.Sub(amt)
		}
		if net.IsNegative() {
			return core.Order{}, m.errorf("line %s: discount allocations exceed the line price", li.ID)
		}
		tax := decimal.Zero
		for _, tl := range li.TaxLines {
			amt, err := m.pick("line "+string(li.ID)+" tax line price", tl.PriceSet, tl.Price, true)
			if err != nil {
				return core.Order{}, err
			}
			tax = tax.Add(amt)
		}
		if p.TaxesIncluded {
			if net = net.Sub(tax); net.IsNegative() {
				return core.Order{}, m.errorf("line %s: tax lines exceed the discounted line price", li.ID)
			}
		}
		o.Lines = append(o.Lines, core.OrderLine{
			LineID:    string(li.ID),
			ProductID: string(li.ProductID),
			VariantID: string(li.VariantID),
			SKU:       string(li.SKU),
			Title:     firstNonEmpty(string(li.Title), string(li.Name)),
			Quantity:  li.Quantity.V,
			NetTotal:  net,
			Tax:       tax,
			GiftCard:  li.GiftCard,
		})
	}
	for _, sl := range p.ShippingLines {
		for _, a := range sl.DiscountAllocations {
			if _, err := addAlloc("shipping line discount allocation", a, sl.TaxLines); err != nil {
				return core.Order{}, err
			}
		}
	}

	for _, rp := range p.Refunds {
		r, err := buildRefund(m, rp)
		if err != nil {
			return core.Order{}, err
		}
		o.Refunds = append(o.Refunds, r)
	}

	o.Redemptions, err = redemptions(m, p, perApp, opt)
	if err != nil {
		return core.Order{}, err
	}
	setRedemptionTax(o.Redemptions, p, perApp, appTax, appTaxKnown, opt)
	o.PartnerRef = partnerRef(p.NoteAttributes)
	return o, nil
}

// redemptions finds the credit this order consumed: the allocations of
// creditbridge's automatic discount (opt.CreditDiscountTitles; the
// redemption's code is the title the order shows), and discount codes
// starting with opt.VoucherPrefix. A voucher's amount is the shop-money sum
// of the allocations of its discount application when Shopify lists them
// (exact in the shop currency even for multi-currency orders), else the
// amount given in discount_codes.
func redemptions(m *money, p orderPayload, perApp map[int64]decimal.Decimal, opt ParseOptions) ([]core.Redemption, error) {
	var out []core.Redemption
	if len(opt.CreditDiscountTitles) > 0 {
		found, sum, title := false, decimal.Zero, ""
		for i, app := range p.DiscountApplications {
			if opt.isCreditApp(string(app.Type), string(app.Title)) {
				if !found {
					title = strings.TrimSpace(string(app.Title))
				}
				found = true
				sum = sum.Add(perApp[int64(i)])
			}
		}
		if found {
			out = append(out, core.Redemption{Kind: core.RedemptionDiscount, Code: title, Amount: sum})
		}
	}
	if opt.VoucherPrefix != "" {
		prefix := strings.ToUpper(opt.VoucherPrefix)
		for _, dc := range p.DiscountCodes {
			code := strings.TrimSpace(string(dc.Code))
			if !strings.HasPrefix(strings.ToUpper(code), prefix) {
				continue
			}
			amt, err := m.pick("discount code amount", nil, dc.Amount, false)
			if err != nil {
				return nil, err
			}
			for i, app := range p.DiscountApplications {
				if string(app.Type) == "discount_code" && strings.EqualFold(strings.TrimSpace(string(app.Code)), code) {
					if s, ok := perApp[int64(i)]; ok {
						amt = s
					}
					break
				}
			}
			out = append(out, core.Redemption{Kind: core.RedemptionVoucher, Code: code, Amount: amt})
		}
	}
	return out, nil
}

// allocationTax is the VAT contained in a discount allocation of amt on a
// line taxed at the given rates: amt × R / (1 + R) rounded half away from
// zero when prices include tax (the discount lowered the gross price),
// zero when they do not (the discount lowered the net price; the VAT on it
// falls on top). ok is false when a tax line has no rate.
func allocationTax(amt decimal.Decimal, taxes []taxLinePayload, included bool, cur string) (decimal.Decimal, bool) {
	if !included {
		return decimal.Zero, true
	}
	r := decimal.Zero
	for _, tl := range taxes {
		if !tl.Rate.Set || tl.Rate.D.IsNegative() {
			return decimal.Zero, false
		}
		r = r.Add(tl.Rate.D)
	}
	scale, err := core.CurrencyScale(cur)
	if err != nil {
		return decimal.Zero, false
	}
	return amt.Mul(r).DivRound(r.Add(decimal.NewFromInt(1)), scale), true
}

// setRedemptionTax splits each redemption into net and VAT, computed from
// the per-line tax rates of the discount applications it consists of
// (Shopify reports no tax per discount). A voucher whose amount came from
// discount_codes rather than its allocations stays unknown.
func setRedemptionTax(rs []core.Redemption, p orderPayload, perApp, appTax map[int64]decimal.Decimal, known map[int64]bool, opt ParseOptions) {
	pit := p.TaxesIncluded
	for k := range rs {
		r := &rs[k]
		r.PricesIncludeTax = &pit
		tax, sum, ok := decimal.Zero, decimal.Zero, true
		for i, app := range p.DiscountApplications {
			mine := false
			switch r.Kind {
			case core.RedemptionDiscount:
				mine = opt.isCreditApp(string(app.Type), string(app.Title))
			case core.RedemptionVoucher:
				mine = string(app.Type) == "discount_code" && strings.EqualFold(strings.TrimSpace(string(app.Code)), r.Code)
			}
			if !mine {
				continue
			}
			if _, has := perApp[int64(i)]; has && !known[int64(i)] {
				ok = false
			}
			tax, sum = tax.Add(appTax[int64(i)]), sum.Add(perApp[int64(i)])
			if r.Kind == core.RedemptionVoucher {
				break
			}
		}
		if ok && sum.Equal(r.Amount) && tax.LessThanOrEqual(r.Amount) {
			r.Net, r.Tax, r.TaxSource = decimal.NewNullDecimal(r.Amount.Sub(tax)), decimal.NewNullDecimal(tax), core.TaxComputed
		}
	}
}

// partnerRef returns the first non-empty creditbridge_partner note
// attribute, else the first non-empty ref attribute.
func partnerRef(attrs []noteAttribute) string {
	for _, name := range []string{NoteAttrPartner, NoteAttrRef} {
		for _, a := range attrs {
			v := strings.TrimSpace(string(a.Value))
			if strings.TrimSpace(string(a.Name)) == name && v != "" && len(v) <= maxPartnerRefLen {
				return v
			}
		}
	}
	return ""
}

func buildRefund(m *money, rp refundPayload) (core.Refund, error) {
	if rp.ID == "" {
		return core.Refund{}, m.errorf("refund id is missing")
	}
	r := core.Refund{RefundID: string(rp.ID), LinesKnown: true, Amount: decimal.Zero}
	var err error
	if r.CreatedAt, err = parseTime(m.kind, "refund created_at", firstText(rp.CreatedAt, rp.ProcessedAt)); err != nil {
		return core.Refund{}, err
	}
	for _, rl := range rp.RefundLineItems {
		if rl.LineItemID == "" {
			return core.Refund{}, m.errorf("refund %s: refund_line_items[].line_item_id is missing", rp.ID)
		}
		if !rl.Quantity.Set || rl.Quantity.V < 0 {
			return core.Refund{}, m.errorf("refund %s: line %s quantity is missing or negative", rp.ID, rl.LineItemID)
		}
		amt, err := m.pick("refund "+string(rp.ID)+" line subtotal", rl.SubtotalSet, rl.Subtotal, false)
		if err != nil {
			return core.Refund{}, err
		}
		r.Lines = append(r.Lines, core.RefundLine{LineID: string(rl.LineItemID), Quantity: rl.Quantity.V, Amount: amt})
		r.Amount = r.Amount.Add(amt)
	}
	return r, nil
}

// ParseRefund turns a refunds/create body into the order id and the
// refund with its line detail (LinesKnown is true). Amounts come from the
// subtotal_set shop-money strings (the bare subtotal numbers are only a
// fallback); Refund.Amount is the sum of the line subtotals, excluding tax,
// shipping and order adjustments (it is informational). The currency is
// taken from the shop_money currency codes, which must agree.
func ParseRefund(body []byte) (orderID string, r core.Refund, err error) {
	var p refundPayload
	if err := decodeJSON("refund", body, &p); err != nil {
		return "", core.Refund{}, err
	}
	m := &money{kind: "refund"}
	if p.OrderID == "" {
		return "", core.Refund{}, m.errorf("order_id is missing")
	}
	// Learn the currency first so that the scale of every amount is
	// checked, whichever line carries the currency code.
	for _, rl := range p.RefundLineItems {
		if rl.SubtotalSet != nil && rl.SubtotalSet.ShopMoney != nil && rl.SubtotalSet.ShopMoney.CurrencyCode != "" {
			c, err := core.NormalizeCurrency(string(rl.SubtotalSet.ShopMoney.CurrencyCode))
			if err != nil {
				return "", core.Refund{}, m.errorf("refund line has an unknown currency code")
			}
			m.currency = c
			break
		}
	}
	r, err = buildRefund(m, p)
	if err != nil {
		return "", core.Refund{}, err
	}
	return string(p.OrderID), r, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

func firstText(ts ...jsonText) jsonText {
	for _, t := range ts {
		if t != "" {
			return t
		}
	}
	return ""
}
