package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
)

// checkoutBody renders a checkouts/update body (the documented checkout
// shape; see adapters/shopify/testdata/checkouts-create.json).
func checkoutBody(t *testing.T, token string, customerID int64, subtotal string, updated time.Time) []byte {
	t.Helper()
	var customer any
	if customerID != 0 {
		customer = map[string]any{"id": customerID, "email": "maria@example.com"}
	}
	b, err := json.Marshal(map[string]any{
		"token": token, "cart_token": "cart-" + token, "email": "maria@example.com", "customer": customer, "currency": "EUR",
		"subtotal_price": subtotal, "total_discounts": "0.00", "created_at": updated.Add(-time.Minute).Format(time.RFC3339), "updated_at": updated.Format(time.RFC3339),
		"line_items": []any{map[string]any{"key": "k1", "product_id": 7001, "variant_id": 8001, "sku": "TEA", "title": "Tea", "quantity": 2,
			"price": "40.00", "line_price": "80.00", "gift_card": false, "discount_allocations": []any{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShopifyRedeemEndToEnd: earn → checkout webhook places a hold → the
// paid order that used part of it captures that part and releases the
// rest → cancellation gives the credit back → credit used without a hold
// becomes an overdraft that later earnings pay back. Audit clean throughout.
func TestShopifyRedeemEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	domain := "redeem-" + randomHex(4) + ".myshopify.com"
	s := e.shopifyShop(domain)
	// Checkout holds belong to the discount Function mode.
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"redemption_mode": "function"}), http.StatusOK)
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	line := func(id int64, qty int, price string) []payload.Line {
		return []payload.Line{{ID: id, ProductID: 7001, VariantID: 8001, SKU: "TEA", Title: "Tea", Quantity: qty, Price: price}}
	}
	send := func(topic, id string, body []byte) {
		t.Helper()
		must(t, e.shopifyWebhook(domain, topic, id, body, shopifySecret), http.StatusOK)
		e.drain()
	}
	want := func(step, avail, held, overdraft string) {
		t.Helper()
		b := e.balance(s, "501")
		if b.Available != avail || b.Held != held || b.Overdraft != overdraft {
			t.Fatalf("%s: available/held/overdraft = %s/%s/%s, want %s/%s/%s", step, b.Available, b.Held, b.Overdraft, avail, held, overdraft)
		}
		e.auditOK(s.ID)
	}

	// 1. Earn 10.00 (10% of 2 × 50.00).
	send("orders/paid", "ev-1", payload.OrderJSON(payload.Order{ID: 9001, Number: 1001, CustomerID: 501, Email: "maria@example.com", Currency: "EUR",
		Financial: "paid", UpdatedAt: t0, Lines: line(91, 2, "50.00")}))
	want("earned", "10.00", "0.00", "0.00")

	// 2. A guest checkout holds nothing; the customer's checkout holds all 10.00.
	send("checkouts/update", "ev-2", checkoutBody(t, "chk-guest", 0, "80.00", t0.Add(time.Minute)))
	want("guest checkout", "10.00", "0.00", "0.00")
	send("checkouts/update", "ev-3", checkoutBody(t, "chk-1", 501, "80.00", t0.Add(time.Minute)))
	want("checkout hold", "0.00", "10.00", "0.00")
	// The same checkout updated again reuses its hold.
	send("checkouts/update", "ev-4", checkoutBody(t, "chk-1", 501, "80.00", t0.Add(2*time.Minute)))
	want("checkout re-quoted", "0.00", "10.00", "0.00")

	// 3. The paid order applied 8.00 of it: capture 8.00, release 2.00, and
	// earn 10% of the net 80.00 − 8.00 = 7.20.
	paid := payload.Order{ID: 9002, Number: 1002, CustomerID: 501, Email: "maria@example.com", Currency: "EUR", Financial: "paid",
		UpdatedAt: t0.Add(3 * time.Minute), Lines: line(92, 2, "40.00"), CreditUsed: "8.00", CheckoutToken: "chk-1"}
	send("orders/paid", "ev-5", payload.OrderJSON(paid))
	want("captured", "9.20", "0.00", "0.00")
	send("orders/paid", "ev-5b", payload.OrderJSON(paid)) // a redelivery under another event id changes nothing
	want("captured, replayed", "9.20", "0.00", "0.00")

	// 4. The order is cancelled: the 8.00 used comes back, its earning goes.
	cancelled := paid
	cancelled.Cancelled, cancelled.Financial, cancelled.UpdatedAt = true, "voided", t0.Add(4*time.Minute)
	send("orders/cancelled", "ev-6", payload.OrderJSON(cancelled))
	want("cancelled", "10.00", "0.00", "0.00")

	// 5. An order used 15.00 of credit without any hold (a stale balance on
	// the storefront): 10.00 is taken, 5.00 becomes a visible overdraft...
	send("orders/paid", "ev-7", payload.OrderJSON(payload.Order{ID: 9003, Number: 1003, CustomerID: 501, Email: "maria@example.com", Currency: "EUR",
		Financial: "paid", UpdatedAt: t0.Add(5 * time.Minute), Lines: line(93, 1, "15.00"), CreditUsed: "15.00"}))
	want("overdraft", "0.00", "0.00", "5.00")
	// ...that the next earning pays back (10% of 100.00 = 10.00 → 5.00 left).
	send("orders/paid", "ev-8", payload.OrderJSON(payload.Order{ID: 9004, Number: 1004, CustomerID: 501, Email: "maria@example.com", Currency: "EUR",
		Financial: "paid", UpdatedAt: t0.Add(6 * time.Minute), Lines: line(94, 2, "50.00")}))
	// The earner settles right after the order's transaction commits (and
	// after the inbox row is marked processed), so wait for it.
	e.waitFor("overdraft settled", 10*time.Second, func() (bool, string) {
		b := e.balance(s, "501")
		return b.Overdraft == "0.00", "overdraft " + b.Overdraft
	})
	want("overdraft paid back", "5.00", "0.00", "0.00")

	page := e.statement(s.AdminToken, s.Path+"/customers/501/statement?limit=100")
	kinds := map[string]int{}
	for _, en := range page.Entries {
		kinds[en.Kind]++
	}
	for _, k := range []string{"earn", "earn_reversal", "hold_place", "hold_capture", "redeem", "redeem_reversal", "overdraft_settle"} {
		if kinds[k] == 0 {
			t.Errorf("statement has no %s entry: %v", k, kinds)
		}
	}
}
