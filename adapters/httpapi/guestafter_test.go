package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// shopifyGuestOrder is the orders-paid fixture placed as a guest (no
// customer) with e-mail, with the lines given (default: the sunglasses).
func shopifyGuestOrder(t *testing.T, domain string, id int64, email string, at time.Time, lines ...string) []byte {
	t.Helper()
	if len(lines) == 0 {
		lines = []string{shopifySunglasses}
	}
	var m map[string]any
	if err := json.Unmarshal(shopifyOrder(t, domain, id, at, lines...), &m); err != nil {
		t.Fatal(err)
	}
	m["customer"], m["email"], m["contact_email"] = nil, email, email
	b, _ := json.Marshal(m)
	return b
}

// guestHeld is what all guest accounts of a shop hold (available,
// pending and overdraft).
func (e *env) guestHeld(shopID int64) decimal.Decimal {
	e.t.Helper()
	var sum decimal.Decimal
	if err := e.pool.QueryRow(context.Background(), `SELECT coalesce(sum(abs(available) + abs(pending) + abs(overdraft)), 0) FROM ledger_balances
WHERE shop_id = $1 AND owner_kind = 'customer' AND owner_id LIKE 'g:%'`, shopID).Scan(&sum); err != nil {
		e.t.Fatal(err)
	}
	return sum
}

// TestShopifyGuestOrdersAfterClaim: once a verified customer claimed a
// guest address (customers/update with the shared customers-create
// fixture), that address's later guest orders book to the customer (any
// spelling of the address), also when delivered twice; a guest order
// whose refund arrives before the order itself books net of it; a
// refund of such an order reverses from the customer; no guest account
// keeps anything.
func TestShopifyGuestOrdersAfterClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.createShop(map[string]any{"platform": "shopify", "domain": "claimed-" + randomHex(3) + ".myshopify.com", "name": "Claimed", "currency": "USD"})
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	cust := decodeFixture(t, "fixtures/shopify/customers-create.json")
	customer := cust["id"].(json.Number).String()
	email := cust["email"].(string)
	t0 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	n := 0
	send := func(topic string, body []byte) {
		t.Helper()
		n++
		must(t, e.shopifyWebhook(s.Domain, topic, "ga-"+strconv.Itoa(n), body, shopifySecret), http.StatusOK)
		e.drain()
	}
	have := func() decimal.Decimal { t.Helper(); return dec(t, e.balance(s, customer).Available) }

	send("orders/paid", shopifyGuestOrder(t, s.Domain, 7401, email, t0))
	cust["verified_email"] = true
	claim, _ := json.Marshal(cust)
	send("customers/update", claim)
	one := have()
	if !one.IsPositive() || !e.guestHeld(s.ID).IsZero() {
		t.Fatalf("after the claim: customer %s, guests %s", one, e.guestHeld(s.ID))
	}
	// A new guest order with the claimed address (another spelling).
	later := shopifyGuestOrder(t, s.Domain, 7402, "  BOB@Biller.com", t0.Add(time.Hour))
	send("orders/paid", later)
	send("orders/paid", later) // redelivered
	two := one.Mul(decimal.NewFromInt(2))
	if got := have(); !got.Equal(two) || !e.guestHeld(s.ID).IsZero() {
		t.Fatalf("the later guest order: customer %s (want %s), guests %s", got, two, e.guestHeld(s.ID))
	}
	// Out of order: a guest order's refund arrives before the order.
	send("refunds/create", shopifyRefund(t, 7403, 97403, t0.Add(2*time.Hour), shopifySunglasses))
	send("orders/paid", shopifyGuestOrder(t, s.Domain, 7403, email, t0.Add(90*time.Minute)))
	if got := have(); !got.Equal(two) || !e.guestHeld(s.ID).IsZero() {
		t.Fatalf("a refunded guest order: customer %s (want %s), guests %s", got, two, e.guestHeld(s.ID))
	}
	// The later guest order's refund reverses from the customer.
	send("refunds/create", shopifyRefund(t, 7402, 97402, t0.Add(3*time.Hour), shopifySunglasses))
	if got := have(); !got.Equal(one) || !e.guestHeld(s.ID).IsZero() {
		t.Fatalf("after the refund: customer %s (want %s), guests %s", got, one, e.guestHeld(s.ID))
	}
	var st statementPage
	must(t, e.as(s.AdminToken, "GET", s.Path+"/customers/"+customer+"/statement", nil), http.StatusOK).JSON(t, &st)
	orders := map[string]bool{}
	for _, x := range st.Entries {
		orders[x.OrderID+"/"+x.Kind] = true
	}
	if !orders["7402/earn"] || !orders["7402/earn_reversal"] || !orders["/transfer"] {
		t.Fatalf("the customer's statement: %v", orders)
	}
	e.auditOK(s.ID)
}
