// Package payload builds realistic Shopify webhook bodies (the shape of
// the orders/* and refunds/create payloads in Shopify's webhook reference)
// for the demo and the load generator. It is not a parser: the adapter's
// tests run the real fixtures.
package payload

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Line is one order line.
type Line struct {
	ID        int64
	ProductID int64
	VariantID int64
	SKU       string
	Title     string
	Quantity  int
	Price     string // unit price, shop currency
	Discount  string // allocated discount for the whole line ("" = none)
}

// Order describes an order to render.
type Order struct {
	ID             int64
	Number         int
	CustomerID     int64 // 0 = guest
	Email          string
	Currency       string
	Financial      string // paid, pending, refunded, ...
	Cancelled      bool
	UpdatedAt      time.Time
	Lines          []Line
	CreditUsed     string // "" or the amount the creditbridge discount applied
	CreditTitle    string // default "Store credit"
	CheckoutToken  string
	PartnerRef     string
	RefundedLineID int64 // optional: one refund of RefundedQty units of this line
	RefundedQty    int
}

func money(amount, cur string) map[string]any {
	m := map[string]any{"amount": amount, "currency_code": cur}
	return map[string]any{"shop_money": m, "presentment_money": m}
}

// OrderJSON renders the order as Shopify sends it.
func OrderJSON(o Order) []byte {
	if o.CreditTitle == "" {
		o.CreditTitle = "Store credit"
	}
	cur := o.Currency
	lines := make([]map[string]any, 0, len(o.Lines))
	subtotal := decimal.Zero
	apps := []map[string]any{}
	if o.CreditUsed != "" {
		apps = append(apps, map[string]any{"target_type": "line_item", "type": "automatic", "value": o.CreditUsed, "value_type": "fixed_amount",
			"allocation_method": "across", "target_selection": "all", "title": o.CreditTitle})
	}
	credit := decimal.RequireFromString(orZero(o.CreditUsed))
	codeIdx := -1
	for _, l := range o.Lines {
		if l.Discount != "" && codeIdx < 0 {
			codeIdx = len(apps)
			apps = append(apps, map[string]any{"target_type": "line_item", "type": "discount_code", "value": "10.0", "value_type": "percentage",
				"allocation_method": "each", "target_selection": "entitled", "code": "WELCOME10"})
		}
	}
	for i, l := range o.Lines {
		price := decimal.RequireFromString(l.Price)
		gross := price.Mul(decimal.NewFromInt(int64(l.Quantity)))
		allocs := []map[string]any{}
		disc := decimal.RequireFromString(orZero(l.Discount))
		if disc.IsPositive() {
			allocs = append(allocs, map[string]any{"amount": disc.StringFixed(2), "amount_set": money(disc.StringFixed(2), cur), "discount_application_index": codeIdx})
		}
		if i == 0 && credit.IsPositive() {
			// the whole credit is allocated to the first line
			allocs = append(allocs, map[string]any{"amount": credit.StringFixed(2), "amount_set": money(credit.StringFixed(2), cur), "discount_application_index": 0})
			disc = disc.Add(credit)
		}
		subtotal = subtotal.Add(gross.Sub(disc))
		lines = append(lines, map[string]any{
			"id": l.ID, "admin_graphql_api_id": fmt.Sprintf("gid://shopify/LineItem/%d", l.ID), "product_id": l.ProductID, "variant_id": l.VariantID,
			"sku": l.SKU, "title": l.Title, "name": l.Title, "quantity": l.Quantity, "current_quantity": l.Quantity, "gift_card": false,
			"price": l.Price, "price_set": money(l.Price, cur), "total_discount": "0.00", "total_discount_set": money("0.00", cur),
			"discount_allocations": allocs, "tax_lines": []any{}, "taxable": true, "requires_shipping": true, "vendor": "Demo",
		})
	}
	var customer any
	if o.CustomerID != 0 {
		customer = map[string]any{"id": o.CustomerID, "email": o.Email, "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Customer/%d", o.CustomerID)}
	}
	var cancelled any
	if o.Cancelled {
		cancelled = o.UpdatedAt.Format(time.RFC3339)
	}
	refunds := []any{}
	if o.RefundedLineID != 0 {
		refunds = append(refunds, refundObject(o.ID, o.ID*10+1, o.RefundedLineID, o.RefundedQty, cur, o.UpdatedAt))
	}
	notes := []any{}
	if o.PartnerRef != "" {
		notes = append(notes, map[string]any{"name": "creditbridge_partner", "value": o.PartnerRef})
	}
	body := map[string]any{
		"id": o.ID, "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Order/%d", o.ID), "name": "#" + strconv.Itoa(o.Number), "order_number": o.Number,
		"email": o.Email, "contact_email": o.Email, "created_at": o.UpdatedAt.Add(-time.Minute).Format(time.RFC3339), "updated_at": o.UpdatedAt.Format(time.RFC3339),
		"cancelled_at": cancelled, "cancel_reason": nil, "currency": cur, "presentment_currency": cur, "financial_status": o.Financial, "test": false,
		"checkout_token": o.CheckoutToken, "cart_token": o.CheckoutToken,
		"subtotal_price": subtotal.StringFixed(2), "subtotal_price_set": money(subtotal.StringFixed(2), cur), "total_tax": "0.00",
		"total_price": subtotal.StringFixed(2), "total_discounts": credit.StringFixed(2), "note_attributes": notes,
		"discount_applications": apps, "discount_codes": []any{}, "customer": customer, "line_items": lines, "refunds": refunds, "shipping_lines": []any{},
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return b
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func refundObject(orderID, refundID, lineID int64, qty int, cur string, at time.Time) map[string]any {
	return map[string]any{
		"id": refundID, "order_id": orderID, "created_at": at.Format(time.RFC3339), "note": "customer return", "restock": true,
		"refund_line_items": []any{map[string]any{"id": refundID*10 + 1, "line_item_id": lineID, "quantity": qty, "restock_type": "return",
			"subtotal": "0.00", "subtotal_set": money("0.00", cur), "total_tax": "0.00", "total_tax_set": money("0.00", cur)}},
		"transactions": []any{}, "order_adjustments": []any{},
	}
}

// RefundJSON renders a refunds/create body refunding qty units of a line.
func RefundJSON(orderID, refundID, lineID int64, qty int, cur string, at time.Time) []byte {
	b, err := json.Marshal(refundObject(orderID, refundID, lineID, qty, cur, at))
	if err != nil {
		panic(err)
	}
	return b
}
