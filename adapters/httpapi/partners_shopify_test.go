package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
)

// fixtureOrder is the real orders/paid example (fixtures/shopify/
// orders-paid.json) as order id of customer (0: a guest) with email,
// placed at at, with one line (the SKU2006-020 line) at 100.00, and the
// referral code ref in note_attributes as the cart attribute arrives
// (empty: none). cancelled turns it into the orders/cancelled body.
func fixtureOrder(t *testing.T, domain string, id, customer int64, email, ref string, at time.Time, cancelled bool) []byte {
	t.Helper()
	m := decodeFixture(t, "fixtures/shopify/orders-paid.json")
	m["id"], m["name"], m["order_number"], m["financial_status"], m["cancelled_at"] = id, "#"+strconv.FormatInt(id%10000, 10), id%10000, "paid", nil
	if cancelled {
		m["financial_status"], m["cancelled_at"], m["cancel_reason"] = "voided", at.Add(time.Hour).UTC().Format(time.RFC3339), "customer"
	}
	m["created_at"], m["updated_at"] = at.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)
	if cancelled {
		m["updated_at"] = at.Add(time.Hour).UTC().Format(time.RFC3339)
	}
	m["order_status_url"] = "https://" + domain + "/548380009/orders/123456abcd/authenticate?key=abcdefg"
	m["email"], m["contact_email"] = email, email
	if customer == 0 {
		m["customer"] = nil
	} else {
		c := m["customer"].(map[string]any)
		c["id"], c["email"], c["admin_graphql_api_id"] = customer, email, "gid://shopify/Customer/"+strconv.FormatInt(customer, 10)
	}
	m["note_attributes"] = []any{}
	if ref != "" {
		m["note_attributes"] = []any{map[string]any{"name": "creditbridge_partner", "value": ref}}
	}
	lines := keepByID(m["line_items"], "id", shopifySKU020)
	l := lines[0].(map[string]any)
	l["price"] = "100.00"
	for _, k := range []string{"shop_money", "presentment_money"} {
		l["price_set"].(map[string]any)[k].(map[string]any)["amount"] = "100.00"
	}
	m["line_items"], m["refunds"] = lines, []any{}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// proxyJSON sends a JSON request through the app proxy as Shopify would
// for the logged-in customer (signed query).
func (e *env) proxyJSON(domain, customer, method, path string, body any) response {
	e.t.Helper()
	vals := url.Values{"shop": {domain}, "path_prefix": {"/apps/credit"}, "timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		"logged_in_customer_id": {customer}}
	vals.Set("signature", shopify.SignAppProxy(vals, shopifySecret))
	return e.do(method, path+"?"+vals.Encode(), body)
}

// proxyPage fetches the app proxy statement page as Shopify would for the
// logged-in customer (signed query, English).
func (e *env) proxyPage(domain, customer string) string {
	e.t.Helper()
	vals := url.Values{"shop": {domain}, "path_prefix": {"/apps/credit"}, "timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		"logged_in_customer_id": {customer}}
	vals.Set("signature", shopify.SignAppProxy(vals, shopifySecret))
	req, _ := http.NewRequest(http.MethodGet, e.base+"/proxy/statement?"+vals.Encode(), nil)
	req.Header.Set("Accept-Language", "en")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("proxy statement: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestShopifyPartnerChainEndToEnd: issue 9 on Shopify with the real
// orders/paid example body: a referred customer's first order (code in
// note_attributes) credits the two-level chain and pays the referrer's
// reward; the customer's later order without a code credits the same
// chain (binding); a guest order with the partner's own e-mail through the
// partner's code is refused as a self-referral; a second new customer in
// the same month earns the chain but no reward (monthly limit 1); the
// partner's statement page (app proxy) shows each booking's order and
// level and nothing of the buyers; orders/cancelled of the first order
// takes back its earnings and the reward.
func TestShopifyPartnerChainEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	domain := "chain-" + randomHex(4) + ".myshopify.com"
	s := e.createShop(map[string]any{"platform": "shopify", "domain": domain, "name": "Chain", "currency": "USD"})
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "5"},
		map[string]any{"target": "default", "beneficiary": "partner2", "mode": "percent", "value": "2"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"partner_levels": 2,
		"referral": map[string]any{"binding": true, "reward_amount": "10.00", "max_rewards_per_month": 1}}), http.StatusOK)
	for _, p := range []map[string]any{{"customer_id": "501"}, {"customer_id": "502", "sponsor_id": "c-501", "code": "LEAF"}} {
		must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", p), http.StatusCreated)
	}
	t0 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	n := 0
	send := func(topic string, body []byte) {
		t.Helper()
		n++
		must(t, e.shopifyWebhook(domain, topic, "ev-"+strconv.Itoa(n), body, shopifySecret), http.StatusOK)
		e.drain()
	}
	want := func(step string, balances map[string]string) {
		t.Helper()
		for c, w := range balances {
			if b := e.balance(s, c); b.Available != w {
				t.Fatalf("%s: customer %s available %s (overdraft %s), want %s", step, c, b.Available, b.Overdraft, w)
			}
		}
		e.auditOK(s.ID)
	}

	// The leaf partner shops itself once: the bridge learns its e-mail.
	send("orders/paid", fixtureOrder(t, domain, 7301, 502, "leaf@example.com", "", t0, false))
	want("partner's own order", map[string]string{"502": "10.00", "501": "0.00"})

	// A new customer's first order through LEAF: 10 %, the chain 5 % and
	// 2 %, and LEAF's reward 10.00.
	first := fixtureOrder(t, domain, 7302, 42, "mia.buyer@example.net", "LEAF", t0.Add(time.Minute), false)
	send("orders/paid", first)
	want("referred first order", map[string]string{"42": "10.00", "502": "25.00", "501": "2.00"})

	// Binding: the same customer's next order carries no code and still
	// credits the chain (no second reward).
	send("orders/paid", fixtureOrder(t, domain, 7303, 42, "mia.buyer@example.net", "", t0.Add(2*time.Minute), false))
	want("bound order", map[string]string{"42": "20.00", "502": "30.00", "501": "4.00"})

	// The partner as a guest (its e-mail in another case) through its own
	// code: only the buyer's own 10 % (to the guest), nothing for the chain.
	send("orders/paid", fixtureOrder(t, domain, 7304, 0, "Leaf@Example.com", "LEAF", t0.Add(3*time.Minute), false))
	want("same e-mail self-referral", map[string]string{"502": "30.00", "501": "4.00"})

	// A second new customer in the same month: the chain earns, the reward
	// is refused (limit 1 a month).
	send("orders/paid", fixtureOrder(t, domain, 7305, 43, "noah.buyer@example.net", "LEAF", t0.Add(4*time.Minute), false))
	want("monthly limit", map[string]string{"43": "10.00", "502": "35.00", "501": "6.00"})

	var refusals struct {
		Refusals []map[string]any `json:"refusals"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-refusals", nil), http.StatusOK).JSON(t, &refusals)
	if len(refusals.Refusals) != 1 || refusals.Refusals[0]["order_id"] != "7304" {
		t.Fatalf("self-referral refusals: %+v", refusals.Refusals)
	}

	// The partner's statement page: order and level of each booking, none
	// of the buyers' data.
	page := e.proxyPage(domain, "502")
	for _, w := range []string{"Your referral code: <strong style=\"font-family:monospace\">LEAF</strong>", "/?ref=LEAF",
		"Earned · Order #7302 · Mid-century lounger · referral (level 1)", "Earned · Order #7303 · Mid-century lounger · referral (level 1)", "Earned · Order #7305 · Mid-century lounger · referral (level 1)",
		"Reward for recommending us · Order #7302"} {
		if !strings.Contains(page, w) {
			t.Errorf("partner statement lacks %q", w)
		}
	}
	top := e.proxyPage(domain, "501")
	if !strings.Contains(top, "Earned · Order #7302 · Mid-century lounger · referral (level 2)") {
		t.Errorf("top partner's statement lacks the level-2 booking")
	}
	fx := decodeFixture(t, "fixtures/shopify/orders-paid.json")
	pii := []string{"mia.buyer", "noah.buyer", "Leaf@Example.com"}
	for _, k := range []string{"first_name", "last_name", "address1", "city", "zip", "phone"} {
		for _, a := range []string{"billing_address", "shipping_address"} {
			if v, ok := fx[a].(map[string]any)[k].(string); ok && v != "" {
				pii = append(pii, v)
			}
		}
	}
	for _, k := range []string{"first_name", "last_name"} {
		pii = append(pii, fx["customer"].(map[string]any)[k].(string))
	}
	for _, p := range []string{page, top} {
		_, body, ok := strings.Cut(p, `<h2 id="cb-history-h">`)
		if !ok {
			t.Fatal("statement page without bookings")
		}
		for _, bad := range pii {
			if strings.Contains(body, bad) {
				t.Errorf("a partner's statement shows buyer data %q", bad)
			}
		}
	}

	// orders/cancelled of the first referred order: its earnings and the
	// reward are taken back.
	send("orders/cancelled", fixtureOrder(t, domain, 7302, 42, "mia.buyer@example.net", "LEAF", t0.Add(time.Minute), true))
	want("first order cancelled", map[string]string{"42": "10.00", "502": "20.00", "501": "4.00", "43": "10.00"})
	var list struct {
		Rewards []struct {
			OrderID string `json:"order_id"`
			Status  string `json:"status"`
			Refusal string `json:"refusal"`
		} `json:"rewards"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-rewards", nil), http.StatusOK).JSON(t, &list)
	got := map[string]string{}
	for _, r := range list.Rewards {
		got[r.OrderID] = r.Status + "/" + r.Refusal
	}
	if got["7302"] != "reversed/" || got["7305"] != "refused/monthly_limit" {
		t.Fatalf("referral rewards %v", got)
	}
}
