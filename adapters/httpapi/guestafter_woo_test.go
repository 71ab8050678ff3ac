package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestWooGuestOrdersAfterClaim: after the customer confirmed the claim
// link for a guest address, that address's later guest orders book to
// the customer (any spelling of the address), also when redelivered and
// when an older snapshot arrives after a newer one; the refund of such an
// order reverses from the customer; no guest account keeps anything.
func TestWooGuestOrdersAfterClaim(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	wc, reg := e.wooShop("ck_ga", "cs_ga")
	shopID := reg.id(t)
	e.adminOf(reg)("PUT", "/rules", `{"target":"default","mode":"percent","value":"10"}`, http.StatusOK, nil)
	guests := func() decimal.Decimal {
		t.Helper()
		var sum decimal.Decimal
		if err := e.pool.QueryRow(context.Background(), `SELECT coalesce(sum(abs(available) + abs(pending) + abs(overdraft)), 0) FROM ledger_balances
WHERE shop_id = $1 AND owner_kind = 'customer' AND owner_id LIKE 'g:%'`, shopID).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	t0 := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2301, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"100.00"}, PricesInclTax: true},
		"0", "Guest.Buyer@example.com", ""))
	claim := "/api/v1/plugin/customers/77/guest-claim"
	var tok struct {
		Token string `json:"token"`
	}
	e.signed(reg, "POST", claim, map[string]string{"email": "guest.buyer@example.com"}).want(t, http.StatusOK).decode(t, &tok)
	e.signed(reg, "POST", claim+"/confirm", map[string]string{"email": "guest.buyer@example.com", "token": tok.Token}).want(t, http.StatusOK)
	e.wantBalance(reg, "77", "10.00", "0.00")

	// A later guest order of the claimed address, redelivered.
	later := orderSpec{ID: 2302, Status: "processing", Modified: t0.Add(time.Hour), CartKey: plugHex(16), Lines: []string{"50.00"}, PricesInclTax: true}
	e.webhook(reg, referredOrder(t, later, "0", "GUEST.BUYER@example.com ", ""))
	e.webhook(reg, referredOrder(t, later, "0", "GUEST.BUYER@example.com ", ""))
	e.wantBalance(reg, "77", "15.00", "0.00")
	// Out of order: the completed snapshot, then the older processing one.
	third := orderSpec{ID: 2303, Status: "completed", Modified: t0.Add(2 * time.Hour), CartKey: plugHex(16), Lines: []string{"30.00"}, PricesInclTax: true}
	e.webhook(reg, referredOrder(t, third, "0", "guest.buyer@example.com", ""))
	third.Status, third.Modified = "processing", t0.Add(90*time.Minute)
	e.webhook(reg, referredOrder(t, third, "0", "guest.buyer@example.com", ""))
	e.wantBalance(reg, "77", "18.00", "0.00")
	if g := guests(); !g.IsZero() {
		t.Fatalf("guest accounts hold %s", g)
	}
	// The later guest order is refunded: reversed from the customer.
	wc.AddRefund(2302, wooRefund(903, 23020, 1, "50.00"))
	later.Status, later.Modified = "refunded", t0.Add(3*time.Hour)
	e.webhook(reg, withRefunds(t, referredOrder(t, later, "0", "guest.buyer@example.com", ""), map[int64]string{903: "50.00"}))
	e.wantBalance(reg, "77", "13.00", "0.00")
	if g := guests(); !g.IsZero() {
		t.Fatalf("guest accounts hold %s after the refund", g)
	}
	e.audit(shopID)
}
