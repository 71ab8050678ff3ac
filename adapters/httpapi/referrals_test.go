package httpapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

type referralList struct {
	Rewards []struct {
		OrderID  string `json:"order_id"`
		Status   string `json:"status"`
		Refusal  string `json:"refusal"`
		Referrer struct {
			ID string `json:"id"`
		} `json:"referrer"`
		RewardAmount  string `json:"reward_amount"`
		WelcomeAmount string `json:"welcome_amount"`
	} `json:"rewards"`
}

// TestWooBringAFriendEndToEnd: the merchant configures bring-a-friend
// through the settings API; a referral meta on a new customer's first
// paid order pays the referrer's reward and the welcome credit (a
// duplicated delivery changes nothing); the full refund of that order
// takes both back; a first order below the minimum is refused, and the
// merchant sees both decisions with their reasons.
func TestWooBringAFriendEndToEnd(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	wc, reg := e.wooShop("ck_baf", "cs_baf")
	shopID := reg.id(t)
	admin := e.adminOf(reg)
	admin("PUT", "/rules", `{"target":"default","mode":"percent","value":"10"}`, http.StatusOK, nil)
	admin("PUT", "/rules", `{"target":"default","beneficiary":"partner1","mode":"percent","value":"5"}`, http.StatusOK, nil)
	admin("PATCH", "/settings", `{"partner_levels":1,"referral":{"binding":true,"reward_amount":"10.001"}}`, http.StatusBadRequest, nil)
	var shop struct {
		Settings core.ShopSettings `json:"settings"`
	}
	admin("PATCH", "/settings", `{"partner_levels":1,"referral":{"binding":true,"reward_amount":"10.00","welcome_amount":"5.00","reward_min_order_net":"20.00","max_rewards_per_month":5}}`,
		http.StatusOK, &shop)
	r := shop.Settings.Referral
	if !r.Binding || r.RewardAmount.Decimal.String() != "10" || r.WelcomeAmount.Decimal.String() != "5" || r.MinOrderNet.Decimal.String() != "20" || r.MaxRewardsPerMonth != 5 {
		t.Fatalf("referral settings %+v", r)
	}
	// Changing one field keeps the others.
	admin("PATCH", "/settings", `{"referral":{"max_rewards_per_month":4}}`, http.StatusOK, &shop)
	if r := shop.Settings.Referral; !r.Binding || r.MaxRewardsPerMonth != 4 || r.RewardAmount.Decimal.String() != "10" {
		t.Fatalf("referral settings after a partial change %+v", r)
	}
	admin("POST", "/partners", `{"customer_id":"501","code":"FRIEND"}`, http.StatusCreated, nil)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	first := orderSpec{ID: 2101, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"100.00"}, PricesInclTax: true}
	e.webhook(reg, referredOrder(t, first, "42", "friend42@example.com", "FRIEND"))
	e.webhook(reg, referredOrder(t, first, "42", "friend42@example.com", "FRIEND")) // duplicated delivery
	e.wantBalance(reg, "42", "15.00", "0.00")                                       // 10 % + welcome 5.00
	e.wantBalance(reg, "501", "15.00", "0.00")                                      // 5 % + reward 10.00
	var st struct {
		Entries []map[string]any `json:"entries"`
	}
	e.signed(reg, "GET", "/api/v1/plugin/customers/501/statement?currency=EUR&limit=50&cursor=", nil).want(t, http.StatusOK).decode(t, &st)
	found := false
	for _, en := range st.Entries {
		if en["kind"] == string(core.ReasonReferralReward) && en["order_id"] == "2101" {
			found = strings.Contains(en["description"].(string), "Reward for recommending us")
		}
	}
	if !found {
		t.Fatalf("the referrer's statement shows no reward: %v", st.Entries)
	}
	// The next order of the same customer pays no second reward.
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2102, Status: "processing", Modified: t0.Add(time.Minute), CartKey: plugHex(16), Lines: []string{"50.00"}, PricesInclTax: true},
		"42", "friend42@example.com", ""))
	e.wantBalance(reg, "42", "20.00", "0.00")
	e.wantBalance(reg, "501", "17.50", "0.00") // binding: 5 % of 50.00
	e.audit(shopID)

	// The first order is refunded in full.
	wc.AddRefund(2101, wooRefund(901, 21010, 1, "100.00"))
	first.Status, first.Modified = "refunded", t0.Add(2*time.Minute)
	e.webhook(reg, withRefunds(t, referredOrder(t, first, "42", "friend42@example.com", "FRIEND"), map[int64]string{901: "100.00"}))
	e.wantBalance(reg, "42", "5.00", "0.00")
	e.wantBalance(reg, "501", "2.50", "0.00")
	e.audit(shopID)

	// A new customer's first order of 15.00 is below the minimum.
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2103, Status: "completed", Modified: t0.Add(3 * time.Minute), CartKey: plugHex(16), Lines: []string{"15.00"}, PricesInclTax: true},
		"43", "friend43@example.com", "FRIEND"))
	e.wantBalance(reg, "43", "1.50", "0.00")
	e.wantBalance(reg, "501", "3.25", "0.00")
	var list referralList
	admin("GET", "/referral-rewards", "", http.StatusOK, &list)
	if len(list.Rewards) != 2 || list.Rewards[0].OrderID != "2103" || list.Rewards[0].Status != "refused" || list.Rewards[0].Refusal != core.ReferralRefusedMinOrder ||
		list.Rewards[1].OrderID != "2101" || list.Rewards[1].Status != "reversed" || list.Rewards[1].Referrer.ID != "c:501" || list.Rewards[1].RewardAmount != "10.00" || list.Rewards[1].WelcomeAmount != "5.00" {
		t.Fatalf("referral rewards %+v", list)
	}
	admin("GET", "/referral-rewards?status=refused&limit=1", "", http.StatusOK, &list)
	if len(list.Rewards) != 1 || list.Rewards[0].OrderID != "2103" {
		t.Fatalf("refused referral rewards %+v", list)
	}
	admin("GET", "/referral-rewards?status=paid", "", http.StatusBadRequest, nil)
	e.audit(shopID)
}

// TestWooGuestClaimEndToEnd: a guest order earns to the guest account; the
// customer who registered with that address asks for it (the bridge
// answers a signed token the plugin mails); the token opened by another
// customer, for another address or tampered with moves nothing; opened by
// the customer it moves the credit once; the customer spends part of it
// and the guest order's refund then reverses from the customer's account,
// the spent part as a recorded overdraft.
func TestWooGuestClaimEndToEnd(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	wc, reg := e.wooShop("ck_gc", "cs_gc")
	shopID := reg.id(t)
	e.adminOf(reg)("PUT", "/rules", `{"target":"default","mode":"percent","value":"10"}`, http.StatusOK, nil)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	guestOrder := orderSpec{ID: 2201, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"100.00"}, PricesInclTax: true}
	e.webhook(reg, referredOrder(t, guestOrder, "0", "Guest.Buyer@example.com", ""))

	claim := "/api/v1/plugin/customers/77/guest-claim"
	e.signed(reg, "POST", claim, map[string]string{"email": "nobody@example.com"}).want(t, http.StatusNotFound)
	e.signed(reg, "POST", claim, map[string]string{"email": "not-an-address"}).want(t, http.StatusBadRequest)
	var tok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	e.signed(reg, "POST", claim, map[string]string{"email": "guest.buyer@example.com"}).want(t, http.StatusOK).decode(t, &tok)
	if !strings.HasPrefix(tok.Token, "cbg1.") || strings.Contains(strings.ToLower(tok.Token), "guest") {
		t.Fatalf("claim token %q", tok.Token)
	}
	if exp, err := time.Parse(time.RFC3339, tok.ExpiresAt); err != nil || exp.Before(time.Now().Add(GuestClaimTTL-time.Minute)) {
		t.Fatalf("expires_at %q", tok.ExpiresAt)
	}
	e.signed(reg, "POST", "/api/v1/plugin/customers/78/guest-claim/confirm", map[string]string{"email": "guest.buyer@example.com", "token": tok.Token}).want(t, http.StatusBadRequest)
	e.signed(reg, "POST", claim+"/confirm", map[string]string{"email": "other@example.com", "token": tok.Token}).want(t, http.StatusBadRequest)
	e.signed(reg, "POST", claim+"/confirm", map[string]string{"email": "guest.buyer@example.com", "token": tok.Token[:len(tok.Token)-2] + "00"}).want(t, http.StatusUnauthorized)
	e.wantBalance(reg, "77", "0.00", "0.00")

	var moved struct {
		Account string  `json:"account"`
		TxIDs   []int64 `json:"transaction_ids"`
	}
	e.signed(reg, "POST", claim+"/confirm", map[string]string{"email": "guest.buyer@example.com", "token": tok.Token}).want(t, http.StatusOK).decode(t, &moved)
	if moved.Account != "c:77" || len(moved.TxIDs) != 1 {
		t.Fatalf("claim %+v", moved)
	}
	e.wantBalance(reg, "77", "10.00", "0.00")
	e.signed(reg, "POST", claim+"/confirm", map[string]string{"email": "guest.buyer@example.com", "token": tok.Token}).want(t, http.StatusOK).decode(t, &moved)
	if len(moved.TxIDs) != 0 {
		t.Fatalf("a second confirmation moved again: %+v", moved)
	}
	e.wantBalance(reg, "77", "10.00", "0.00")

	// The customer spends 6.00 at checkout, then the guest order is refunded.
	cart := plugHex(16)
	q := e.quote(reg, "77", cart, "6.00")
	if q.Amount != "6.00" {
		t.Fatalf("quote %+v", q)
	}
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2202, Status: "processing", Modified: t0.Add(30 * time.Second), CartKey: cart, Lines: []string{"0.00"},
		Coupons: []map[string]any{{"code": q.CouponCode, "discount": "6.00", "discount_tax": "0.00"}}, PricesInclTax: true}, "77", "guest.buyer@example.com", ""))
	e.wantBalance(reg, "77", "4.00", "0.00")
	wc.AddRefund(2201, wooRefund(902, 22010, 1, "100.00"))
	guestOrder.Status, guestOrder.Modified = "refunded", t0.Add(time.Minute)
	e.webhook(reg, withRefunds(t, referredOrder(t, guestOrder, "0", "Guest.Buyer@example.com", ""), map[int64]string{902: "100.00"}))
	b := e.balance(reg, "77")
	if b.Available != "0.00" || b.Overdraft != "6.00" {
		t.Fatalf("customer after the guest order's refund: %+v, want available 0.00 and an overdraft of 6.00", b)
	}
	e.audit(shopID)
}

// A claim token expires, and a token of one shop is worthless in another.
func TestGuestClaimTokenChecks(t *testing.T) {
	shop := core.Shop{ID: 3, Secrets: core.ShopSecrets{CustomerKey: "key-a"}}
	owner := core.Owner{Kind: core.OwnerCustomer, ID: "c:9"}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tok := IssueGuestClaimToken(shop, owner, "A@Example.com", now.Add(GuestClaimTTL))
	if err := checkGuestClaimToken(shop, owner, "a@example.com ", tok, now); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if err := checkGuestClaimToken(shop, owner, "a@example.com", tok, now.Add(GuestClaimTTL+time.Second)); core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
	other := shop
	other.ID, other.Secrets.CustomerKey = 4, "key-b"
	if err := checkGuestClaimToken(other, owner, "a@example.com", tok, now); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Fatalf("token of another shop: %v", err)
	}
	if err := checkGuestClaimToken(shop, owner, "a@example.com", IssueCustomerToken(shop, owner, now.Add(time.Hour)), now); err == nil {
		t.Fatal("a customer token was accepted as a claim token")
	}
}
