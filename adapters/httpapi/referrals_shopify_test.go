package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
)

// TestShopifyAffiliatesEndToEnd runs issue 9's proof on Shopify through the
// real stack (signed webhooks, inbox, worker, ledger): a referral carried
// by the cart attribute credits a three-level chain and pays the
// bring-a-friend reward and welcome credit (a duplicated delivery changes
// nothing); the level-2 partner spends its partner credit at checkout
// (hold, capture); a self-referral credits no partner and pays no reward; a
// partner moved to another sponsor keeps its history while new orders
// follow the new chain; and refunds/create of the first referred order
// takes back its earnings, the reward and the welcome credit, the part the
// level-2 partner already spent as a recorded overdraft.
func TestShopifyAffiliatesEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	domain := "friends-" + randomHex(4) + ".myshopify.com"
	s := e.shopifyShop(domain)
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "5"},
		map[string]any{"target": "default", "beneficiary": "partner2", "mode": "percent", "value": "2"},
		map[string]any{"target": "default", "beneficiary": "partner3", "mode": "percent", "value": "1"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"redemption_mode": "function", "partner_levels": 3,
		"referral": map[string]any{"reward_amount": "10.00", "welcome_amount": "5.00", "reward_min_order_net": "20.00"}}), http.StatusOK)
	for _, p := range []map[string]any{{"customer_id": "501"}, {"customer_id": "502", "sponsor_id": "c-501"}, {"customer_id": "503", "sponsor_id": "c-502", "code": "LEAF"}} {
		must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", p), http.StatusCreated)
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	n := 0
	send := func(topic string, body []byte) {
		t.Helper()
		n++
		must(t, e.shopifyWebhook(domain, topic, fmt.Sprintf("ev-%d", n), body, shopifySecret), http.StatusOK)
		e.drain()
	}
	want := func(step string, balances map[string][2]string) {
		t.Helper()
		for c, w := range balances {
			if b := e.balance(s, c); b.Available != w[0] || b.Overdraft != w[1] {
				t.Fatalf("%s: customer %s available %s overdraft %s, want %s and %s", step, c, b.Available, b.Overdraft, w[0], w[1])
			}
		}
		e.auditOK(s.ID)
	}
	order := func(id int64, customer int64, ref string, at time.Time, qty int, price string) payload.Order {
		return payload.Order{ID: id, Number: int(id % 10000), CustomerID: customer, Email: fmt.Sprintf("c%d@example.com", customer), Currency: "EUR",
			Financial: "paid", UpdatedAt: at, PartnerRef: ref,
			Lines: []payload.Line{{ID: id*10 + 1, ProductID: 7001, VariantID: 8001, SKU: "TEA", Title: "Tea", Quantity: qty, Price: price}}}
	}

	// A new customer's first order through the link (cart attribute, code
	// in another case): 10 % + welcome 5.00; the chain 5 %, 2 %, 1 %; the
	// referrer's reward 10.00.
	first := order(9101, 42, "leaf", t0, 2, "100.00")
	send("orders/paid", payload.OrderJSON(first))
	send("orders/paid", payload.OrderJSON(first)) // redelivered under another event id
	want("referred first order", map[string][2]string{"42": {"25.00", "0.00"}, "503": {"20.00", "0.00"}, "502": {"4.00", "0.00"}, "501": {"2.00", "0.00"}})

	// The level-2 partner spends its partner credit at checkout.
	send("checkouts/update", checkoutBody(t, "chk-502", 502, "80.00", t0.Add(time.Minute)))
	want("partner's checkout hold", map[string][2]string{"502": {"0.00", "0.00"}})
	spend := order(9102, 502, "", t0.Add(2*time.Minute), 1, "40.00")
	spend.CreditUsed, spend.CheckoutToken = "4.00", "chk-502"
	send("orders/paid", payload.OrderJSON(spend))
	want("partner spent its credit", map[string][2]string{"502": {"3.60", "0.00"}}) // 10 % of 40.00 − 4.00

	// The leaf partner uses its own code: only its own 10 %.
	send("orders/paid", payload.OrderJSON(order(9103, 503, "LEAF", t0.Add(3*time.Minute), 1, "50.00")))
	want("self-referral", map[string][2]string{"503": {"25.00", "0.00"}, "502": {"3.60", "0.00"}, "501": {"2.00", "0.00"}})

	// The leaf moves under the top partner: history stays, new orders
	// credit 503 then 501.
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/partners/c-503", map[string]any{"sponsor_id": "c-501"}), http.StatusOK)
	send("orders/paid", payload.OrderJSON(order(9104, 43, "LEAF", t0.Add(4*time.Minute), 1, "100.00")))
	want("after the move", map[string][2]string{"43": {"15.00", "0.00"}, "503": {"40.00", "0.00"}, "502": {"3.60", "0.00"}, "501": {"4.00", "0.00"}})

	// The first referred order is refunded in full (refunds/create only).
	send("refunds/create", payload.RefundJSON(first.ID, 881, first.Lines[0].ID, 2, "EUR", t0.Add(5*time.Minute)))
	want("first order refunded", map[string][2]string{"42": {"0.00", "0.00"}, "503": {"20.00", "0.00"}, "502": {"0.00", "0.40"}, "501": {"2.00", "0.00"}, "43": {"15.00", "0.00"}})

	var list struct {
		Rewards []struct {
			OrderID  string `json:"order_id"`
			Status   string `json:"status"`
			Referrer struct {
				ID string `json:"id"`
			} `json:"referrer"`
		} `json:"rewards"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-rewards", nil), http.StatusOK).JSON(t, &list)
	if len(list.Rewards) != 2 || list.Rewards[0].OrderID != "9104" || list.Rewards[0].Status != "rewarded" || list.Rewards[0].Referrer.ID != "c:503" ||
		list.Rewards[1].OrderID != "9101" || list.Rewards[1].Status != "reversed" {
		t.Fatalf("referral rewards %+v", list.Rewards)
	}
}
