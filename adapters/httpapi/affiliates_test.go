package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
)

// referredOrder is buildOrder's order placed by customer (WooCommerce
// user id, "0" for a guest) with e-mail, carrying the referral meta the
// plugin writes (empty: none).
func referredOrder(t *testing.T, s orderSpec, customer, email, ref string) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(buildOrder(t, s)))
	d.UseNumber()
	var o map[string]any
	if err := d.Decode(&o); err != nil {
		t.Fatal(err)
	}
	o["customer_id"] = json.Number(customer)
	o["billing"].(map[string]any)["email"] = email
	if ref != "" {
		o["meta_data"] = append(o["meta_data"].([]any), map[string]any{"id": json.Number("9102"), "key": woocommerce.MetaPartner, "value": ref})
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAffiliateAccountsEndToEnd runs the partner half on WooCommerce
// through the real stack: enrolment and the tree by the admin API, a
// three-level chain earning from a referral meta, the level-2 partner
// spending its partner credit at checkout (quote, coupon, capture) and
// with a partner token, a refused cycle, a move that changes only future
// earnings, a refused self-referral and self-signup.
func TestAffiliateAccountsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	shopWC, reg := e.wooShop("ck_aff", "cs_aff")
	shopID := reg.id(t)
	admin := e.adminOf(reg)
	for _, rule := range []string{
		`{"target":"default","mode":"percent","value":"10"}`,
		`{"target":"default","beneficiary":"partner1","mode":"percent","value":"5"}`,
		`{"target":"default","beneficiary":"partner2","mode":"percent","value":"2"}`,
		`{"target":"default","beneficiary":"partner3","mode":"percent","value":"1"}`,
	} {
		admin("PUT", "/rules", rule, http.StatusOK, nil)
	}
	admin("PATCH", "/settings", `{"partner_levels":3}`, http.StatusOK, nil)

	// Enrolment: customers 501 <- 502 <- 503 (code LEAF).
	var detail map[string]any
	admin("POST", "/partners", `{"customer_id":"501","name":"Top"}`, http.StatusCreated, &detail)
	if code, _ := detail["code"].(string); detail["id"] != "c-501" || len(code) != 8 || detail["account"] != "customer:c:501" || detail["share_link"] != shopWC.URL+"/?ref="+code {
		t.Fatalf("enrolled %v", detail)
	}
	admin("POST", "/partners", `{"customer_id":"501"}`, http.StatusConflict, nil)
	admin("POST", "/partners", `{"customer_id":"502","sponsor_id":"c-501"}`, http.StatusCreated, nil)
	admin("POST", "/partners", `{"customer_id":"503","sponsor_id":"c-502","code":"LEAF"}`, http.StatusCreated, &detail)
	leafID, _ := detail["id"].(string)
	if up, _ := detail["upline"].([]any); len(up) != 2 || up[0].(map[string]any)["id"] != "c-502" || up[1].(map[string]any)["id"] != "c-501" {
		t.Fatalf("leaf upline %v", detail["upline"])
	}
	// A cycle is refused.
	admin("PATCH", "/partners/c-501", `{"sponsor_id":"c-503"}`, http.StatusBadRequest, nil)
	var page struct {
		Partners []struct {
			ID       string `json:"id"`
			Downline int    `json:"downline"`
		} `json:"partners"`
		Next string `json:"next_cursor"`
	}
	admin("GET", "/partners/c-501/downline", "", http.StatusOK, &page)
	if len(page.Partners) != 1 || page.Partners[0].ID != "c-502" || page.Partners[0].Downline != 1 {
		t.Fatalf("downline of c-501: %+v", page)
	}
	admin("GET", "/partners?q=leaf", "", http.StatusOK, &page)
	if len(page.Partners) != 1 || page.Partners[0].ID != leafID {
		t.Fatalf("search: %+v", page)
	}

	// A referred order (code typed in lower case) of 200.00 by customer 42.
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2001, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"200.00"}, PricesInclTax: true},
		"42", "buyer42@example.com", "leaf"))
	e.wantBalance(reg, "42", "20.00", "0.00")
	e.wantBalance(reg, "503", "10.00", "0.00")
	e.wantBalance(reg, "502", "4.00", "0.00")
	e.wantBalance(reg, "501", "2.00", "0.00")
	e.audit(shopID)

	// The level-2 partner's statement names level and order, not the buyer.
	var st struct {
		Entries []map[string]any `json:"entries"`
	}
	e.signed(reg, "GET", "/api/v1/plugin/customers/502/statement?currency=EUR&limit=50&cursor=", nil).want(t, http.StatusOK).decode(t, &st)
	if len(st.Entries) != 1 || st.Entries[0]["beneficiary"] != "partner2" || st.Entries[0]["order_id"] != "2001" ||
		!strings.Contains(st.Entries[0]["description"].(string), "referral (level 2)") {
		t.Fatalf("level 2 statement %v", st.Entries)
	}
	if b, _ := json.Marshal(st); bytes.Contains(b, []byte("buyer42")) || bytes.Contains(b, []byte(`"42"`)) {
		t.Fatalf("statement exposes the buyer: %s", b)
	}

	// The level-2 partner buys: the quote holds its partner credit, the
	// paid order captures it.
	cart := plugHex(16)
	q := e.quote(reg, "502", cart, "30.00")
	if q.Amount != "4.00" || q.Available != "4.00" {
		t.Fatalf("partner quote %+v", q)
	}
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2002, Status: "processing", Modified: t0.Add(time.Minute), CartKey: cart, Lines: []string{"26.00"},
		Coupons: []map[string]any{{"code": q.CouponCode, "discount": "4.00", "discount_tax": "0.00"}}, PricesInclTax: true}, "502", "p502@example.com", ""))
	if st, _, capt := holdRow(t, e.pool, q.HoldID); st != "captured" || capt != "4.00" {
		t.Fatalf("partner hold %s captured %s", st, capt)
	}
	e.wantBalance(reg, "502", "2.60", "0.00") // its own 10 % of 26.00
	e.audit(shopID)

	// A partner token is its customer's.
	var tok struct {
		Token string `json:"token"`
	}
	admin("POST", "/customers/partner:c-503/token", "", http.StatusOK, &tok)
	var me map[string]any
	r := e.do("GET", "/api/v1/me/balance", nil, "Authorization", "Bearer "+tok.Token).want(t, http.StatusOK)
	r.decode(t, &me)
	if me["owner"] != "c:503" || me["available"] != "10.00" {
		t.Fatalf("partner token balance %v", me)
	}
	r = e.do("GET", "/api/v1/me/referral", nil, "Authorization", "Bearer "+tok.Token).want(t, http.StatusOK)
	r.decode(t, &me)
	if me["code"] != "LEAF" || me["share_link"] != shopWC.URL+"/?ref=LEAF" {
		t.Fatalf("referral %v", me)
	}

	// Move the leaf to be a root: the chain's history stays, new orders
	// credit only the leaf.
	admin("PATCH", "/partners/"+leafID, `{"sponsor_id":""}`, http.StatusOK, &detail)
	if moves, _ := detail["moves"].([]any); len(moves) != 1 || moves[0].(map[string]any)["from_sponsor"] != "c-502" {
		t.Fatalf("moves %v", detail["moves"])
	}
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2003, Status: "processing", Modified: t0.Add(2 * time.Minute), CartKey: plugHex(16), Lines: []string{"100.00"}, PricesInclTax: true},
		"43", "buyer43@example.com", "LEAF"))
	e.wantBalance(reg, "503", "15.00", "0.00")
	e.wantBalance(reg, "502", "2.60", "0.00")
	e.wantBalance(reg, "501", "2.00", "0.00")

	// The leaf using its own code earns nothing as its own partner.
	e.webhook(reg, referredOrder(t, orderSpec{ID: 2004, Status: "processing", Modified: t0.Add(3 * time.Minute), CartKey: plugHex(16), Lines: []string{"100.00"}, PricesInclTax: true},
		"503", "leaf@example.com", "LEAF"))
	e.wantBalance(reg, "503", "25.00", "0.00") // 15.00 + its own 10 %, no level 1
	e.audit(shopID)

	// Self-signup from My Account: pending until the merchant approves.
	var ref map[string]any
	e.signed(reg, "GET", "/api/v1/plugin/customers/42/referral", nil).want(t, http.StatusOK).decode(t, &ref)
	if ref["code"] != nil || ref["signup"] != "approval" {
		t.Fatalf("referral before signup %v", ref)
	}
	e.signed(reg, "POST", "/api/v1/plugin/customers/42/referral", nil).want(t, http.StatusCreated).decode(t, &ref)
	p, _ := ref["partner"].(map[string]any)
	if p == nil || p["status"] != "pending" || p["id"] != "c-42" || ref["code"] == nil {
		t.Fatalf("self-signup %v", ref)
	}
	admin("GET", "/partners?status=pending", "", http.StatusOK, &page)
	if len(page.Partners) != 1 || page.Partners[0].ID != "c-42" {
		t.Fatalf("pending partners %+v", page)
	}
	admin("PATCH", "/partners/c-42", `{"status":"active"}`, http.StatusOK, nil)
	admin("PATCH", "/settings", `{"referral":{"signup":"closed"}}`, http.StatusOK, nil)
	e.signed(reg, "POST", "/api/v1/plugin/customers/43/referral", nil).want(t, http.StatusBadRequest)

	// A guest's order is claimed by the customer who registered with that
	// address, then cancelled: the reversal comes from the customer's account.
	guestOrder := orderSpec{ID: 2005, Status: "processing", Modified: t0.Add(4 * time.Minute), CartKey: plugHex(16), Lines: []string{"80.00"}, PricesInclTax: true}
	e.webhook(reg, referredOrder(t, guestOrder, "0", "Guest.Buyer@example.com", ""))
	admin("POST", "/customers/44/claim-guest", `{"email":"nobody@example.com"}`, http.StatusNotFound, nil)
	var claim struct {
		TransactionIDs []int64 `json:"transaction_ids"`
	}
	admin("POST", "/customers/44/claim-guest", `{"email":"guest.buyer@example.com"}`, http.StatusOK, &claim)
	if len(claim.TransactionIDs) != 1 {
		t.Fatalf("claim: %+v", claim)
	}
	e.wantBalance(reg, "44", "8.00", "0.00")
	admin("POST", "/customers/44/claim-guest", `{"email":"guest.buyer@example.com"}`, http.StatusOK, &claim)
	if len(claim.TransactionIDs) != 0 {
		t.Fatalf("repeated claim moved again: %+v", claim)
	}
	guestOrder.Status, guestOrder.Modified = "cancelled", guestOrder.Modified.Add(time.Minute)
	e.webhook(reg, referredOrder(t, guestOrder, "0", "Guest.Buyer@example.com", ""))
	e.wantBalance(reg, "44", "0.00", "0.00")
	e.audit(shopID)
}
