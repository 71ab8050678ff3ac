package httpapi

import (
	"net/http"
	"testing"
	"time"
)

// TestWooSelfReferralEmailLimitCancel completes issue 9's proof on
// WooCommerce through the real stack: a guest order under the partner's
// e-mail (any case) with the partner's referral meta credits no partner
// and is listed with reason email; the monthly reward limit refuses a
// second referred customer's reward (the chain still earns); a referred
// first order cancelled takes back its earnings and the referrer's
// reward, and its older snapshot redelivered late changes nothing.
func TestWooSelfReferralEmailLimitCancel(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	_, reg := e.wooShop("ck_sre", "cs_sre")
	shopID := reg.id(t)
	admin := e.adminOf(reg)
	admin("PUT", "/rules", `{"target":"default","mode":"percent","value":"10"}`, http.StatusOK, nil)
	admin("PUT", "/rules", `{"target":"default","beneficiary":"partner1","mode":"percent","value":"5"}`, http.StatusOK, nil)
	admin("PATCH", "/settings", `{"partner_levels":1,"referral":{"reward_amount":"10.00","max_rewards_per_month":1}}`, http.StatusOK, nil)
	admin("POST", "/partners", `{"customer_id":"501","code":"PONE"}`, http.StatusCreated, nil)
	t0 := time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC)
	spec := func(id int64, status string, at time.Time) orderSpec {
		return orderSpec{ID: id, Status: status, Modified: at, CartKey: plugHex(16), Lines: []string{"100.00"}, PricesInclTax: true}
	}
	e.webhook(reg, referredOrder(t, spec(2400, "processing", t0), "501", "p501@example.com", "")) // the partner's own: its e-mail becomes known
	e.wantBalance(reg, "501", "10.00", "0.00")
	first := spec(2401, "processing", t0.Add(time.Minute))
	e.webhook(reg, referredOrder(t, first, "42", "c42@example.com", "pone"))
	e.wantBalance(reg, "42", "10.00", "0.00")
	e.wantBalance(reg, "501", "25.00", "0.00") // 10 + 5 % + reward 10
	e.webhook(reg, referredOrder(t, spec(2402, "processing", t0.Add(2*time.Minute)), "43", "c43@example.com", "PONE"))
	e.wantBalance(reg, "43", "10.00", "0.00")
	e.wantBalance(reg, "501", "30.00", "0.00") // 5 %, no second reward this month
	e.webhook(reg, referredOrder(t, spec(2403, "processing", t0.Add(3*time.Minute)), "0", "P501@Example.COM", "PONE"))
	e.wantBalance(reg, "501", "30.00", "0.00")

	cancelled := first
	cancelled.Status, cancelled.Modified = "cancelled", t0.Add(time.Hour)
	e.webhook(reg, referredOrder(t, cancelled, "42", "c42@example.com", "pone"))
	e.webhook(reg, referredOrder(t, first, "42", "c42@example.com", "pone")) // the older snapshot, late
	e.wantBalance(reg, "42", "0.00", "0.00")
	e.wantBalance(reg, "501", "15.00", "0.00")

	var rewards struct {
		Rewards []struct {
			OrderID string `json:"order_id"`
			Status  string `json:"status"`
			Refusal string `json:"refusal"`
		} `json:"rewards"`
	}
	admin("GET", "/referral-rewards", "", http.StatusOK, &rewards)
	got := map[string]string{}
	for _, r := range rewards.Rewards {
		got[r.OrderID] = r.Status + ":" + r.Refusal
	}
	if len(got) != 2 || got["2401"] != "reversed:" || got["2402"] != "refused:monthly_limit" {
		t.Fatalf("referral rewards %v", got)
	}
	var refusals struct {
		Refusals []struct {
			OrderID string `json:"order_id"`
			Reason  string `json:"reason"`
			Partner string `json:"partner"`
		} `json:"refusals"`
	}
	admin("GET", "/referral-refusals", "", http.StatusOK, &refusals)
	if len(refusals.Refusals) != 1 || refusals.Refusals[0].OrderID != "2403" || refusals.Refusals[0].Reason != "email" || refusals.Refusals[0].Partner != "c-501" {
		t.Fatalf("refusals %+v", refusals.Refusals)
	}
	e.audit(shopID)
}
