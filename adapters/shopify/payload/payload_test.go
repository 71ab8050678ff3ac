package payload_test

import (
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/shopspring/decimal"
)

// The generated bodies must parse with the real adapter into what they
// describe (the load generator and demo depend on it).
func TestGeneratedBodiesParse(t *testing.T) {
	t.Parallel()
	b := payload.OrderJSON(payload.Order{ID: 1, Number: 1001, CustomerID: 5, Email: "a@b.c", Currency: "EUR", Financial: "paid", UpdatedAt: time.Now(),
		CreditUsed: "3.00", CheckoutToken: "tok", Lines: []payload.Line{{ID: 11, ProductID: 1, VariantID: 2, SKU: "A", Title: "A", Quantity: 2, Price: "10.00"}},
		RefundedLineID: 11, RefundedQty: 1})
	o, err := shopify.ParseOrder(b, shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !o.Paid || o.Customer.PlatformID != "5" || o.CartKey != "tok" || len(o.Lines) != 1 || !o.Lines[0].NetTotal.Equal(decimal.RequireFromString("17")) {
		t.Fatalf("order: %+v", o)
	}
	if len(o.Redemptions) != 1 || !o.Redemptions[0].Amount.Equal(decimal.RequireFromString("3")) {
		t.Fatalf("redemptions: %+v", o.Redemptions)
	}
	if len(o.Refunds) != 1 || o.Refunds[0].Lines[0].Quantity != 1 {
		t.Fatalf("refunds: %+v", o.Refunds)
	}
	if o.FullyRefunded {
		t.Fatal("a paid order is not fully refunded")
	}
	refunded, err := shopify.ParseOrder(payload.OrderJSON(payload.Order{ID: 2, Number: 1002, CustomerID: 5, Currency: "EUR", Financial: "refunded", UpdatedAt: time.Now(),
		Lines: []payload.Line{{ID: 12, ProductID: 1, SKU: "A", Title: "A", Quantity: 1, Price: "10.00"}}}), shopify.DefaultParseOptions())
	if err != nil || !refunded.FullyRefunded || !refunded.Paid {
		t.Fatalf("refunded order: %v %+v", err, refunded)
	}
	id, r, err := shopify.ParseRefund(payload.RefundJSON(1, 2, 11, 1, "EUR", time.Now()))
	if err != nil || id != "1" || r.RefundID != "2" || r.Lines[0].LineID != "11" {
		t.Fatalf("refund: %v %s %+v", err, id, r)
	}
}
