package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
)

// TestShopifyReferralBindingEmailLimitCancel completes issue 9's proof on
// Shopify through the real stack: customer binding (a later order without
// the cart attribute credits the bound partner, no second reward), the
// monthly reward limit (a second referred customer in the month earns the
// chain but no reward, refused with its reason), a self-referral by the
// partner's e-mail (a guest order credits no partner, listed with reason
// email) and the cancellation of a referred first order (orders/cancelled
// takes back its earnings and the referrer's reward).
func TestShopifyReferralBindingEmailLimitCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	domain := "bind-" + randomHex(4) + ".myshopify.com"
	s := e.shopifyShop(domain)
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "5"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"partner_levels": 1,
		"referral": map[string]any{"binding": true, "reward_amount": "10.00", "max_rewards_per_month": 1}}), http.StatusOK)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", map[string]any{"customer_id": "501", "code": "PONE"}), http.StatusCreated)
	t0 := time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC)
	n := 0
	send := func(topic string, o payload.Order) {
		t.Helper()
		n++
		must(t, e.shopifyWebhook(domain, topic, fmt.Sprintf("b-%d", n), payload.OrderJSON(o), shopifySecret), http.StatusOK)
		e.drain()
	}
	want := func(step string, balances map[string]string) {
		t.Helper()
		for c, w := range balances {
			if b := e.balance(s, c); b.Available != w {
				t.Fatalf("%s: customer %s has %s, want %s", step, c, b.Available, w)
			}
		}
		e.auditOK(s.ID)
	}
	order := func(id, customer int64, email, ref string, at time.Time) payload.Order {
		return payload.Order{ID: id, Number: int(id % 10000), CustomerID: customer, Email: email, Currency: "EUR", Financial: "paid", UpdatedAt: at, PartnerRef: ref,
			Lines: []payload.Line{{ID: id*10 + 1, ProductID: 7001, VariantID: 8001, SKU: "TEA", Title: "Tea", Quantity: 1, Price: "100.00"}}}
	}
	send("orders/paid", order(9200, 501, "c501@example.com", "", t0)) // the partner's own order: its e-mail becomes known
	want("partner's own order", map[string]string{"501": "10.00"})
	first := order(9201, 42, "c42@example.com", "pone", t0.Add(time.Minute))
	send("orders/paid", first)
	want("referred first order", map[string]string{"42": "10.00", "501": "25.00"}) // 10 + 5 % + reward 10
	send("orders/paid", order(9202, 42, "c42@example.com", "", t0.Add(2*time.Minute)))
	want("bound customer's next order", map[string]string{"42": "20.00", "501": "30.00"})
	send("orders/paid", order(9203, 43, "c43@example.com", "PONE", t0.Add(3*time.Minute)))
	want("second referred customer this month", map[string]string{"43": "10.00", "501": "35.00"})
	send("orders/paid", order(9204, 0, "C501@Example.com", "PONE", t0.Add(4*time.Minute)))
	want("the partner's e-mail as a guest", map[string]string{"501": "35.00"})

	cancelled := first
	cancelled.Cancelled, cancelled.Financial, cancelled.UpdatedAt = true, "voided", t0.Add(time.Hour)
	send("orders/cancelled", cancelled)
	send("orders/paid", first) // the older paid snapshot, redelivered late
	want("first order cancelled", map[string]string{"42": "10.00", "501": "20.00"})

	var rewards struct {
		Rewards []struct {
			OrderID string `json:"order_id"`
			Status  string `json:"status"`
			Refusal string `json:"refusal"`
		} `json:"rewards"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-rewards", nil), http.StatusOK).JSON(t, &rewards)
	got := map[string]string{}
	for _, r := range rewards.Rewards {
		got[r.OrderID] = r.Status + ":" + r.Refusal
	}
	if len(got) != 2 || got["9201"] != "reversed:" || got["9203"] != "refused:monthly_limit" {
		t.Fatalf("referral rewards %v", got)
	}
	var refusals struct {
		Refusals []struct {
			OrderID string `json:"order_id"`
			Reason  string `json:"reason"`
			Partner string `json:"partner"`
		} `json:"refusals"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-refusals", nil), http.StatusOK).JSON(t, &refusals)
	if len(refusals.Refusals) != 1 || refusals.Refusals[0].OrderID != "9204" || refusals.Refusals[0].Reason != "email" || refusals.Refusals[0].Partner != "c-501" {
		t.Fatalf("refusals %+v", refusals.Refusals)
	}
}
