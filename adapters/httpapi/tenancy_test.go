package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
	"github.com/creditbridge/creditbridge/core"
)

// adjust posts a manual adjustment and returns the response.
func (e *env) adjust(token string, s testShop, customer, amount, key string) response {
	e.t.Helper()
	return e.as(token, "POST", s.Path+"/customers/"+customer+"/adjustments", map[string]any{"amount": amount, "note": "test adjustment", "idempotency_key": key})
}

func TestTenancyShopTokenSeesOnlyItsShop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	a := e.shopifyShop("tenant-a.myshopify.com")
	b := e.shopifyShop("tenant-b.myshopify.com")
	// Shop B has data: a rule, a partner, a credited customer, a dead letter.
	e.putRules(b, map[string]any{"target": "default", "mode": "percent", "value": "7"})
	must(t, e.as(b.AdminToken, "PUT", b.Path+"/partners/pb", map[string]any{"code": "PB1", "name": "Partner B"}), http.StatusOK)
	must(t, e.adjust(b.AdminToken, b, "42", "12.00", "b-1"), http.StatusCreated)
	must(t, e.shopifyWebhook(b.Domain, "orders/paid", "evt-b-dead", []byte(`{"id":`), shopifySecret), http.StatusOK)
	e.drain()
	bDead := e.deadLetters(b, b.AdminToken)
	if len(bDead) != 1 {
		t.Fatalf("shop B dead letters %+v", bDead)
	}

	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", b.Path, nil},
		{"PATCH", b.Path + "/settings", map[string]any{"pending_days": 3}},
		{"GET", b.Path + "/rules", nil},
		{"PUT", b.Path + "/rules", map[string]any{"target": "default", "mode": "percent", "value": "99"}},
		{"DELETE", b.Path + "/rules/1", nil},
		{"PUT", b.Path + "/partners/pb", map[string]any{"code": "HIJACK"}},
		{"GET", b.Path + "/customers/42/balance", nil},
		{"GET", b.Path + "/customers/42/statement", nil},
		{"POST", b.Path + "/customers/42/adjustments", map[string]any{"amount": "-12.00", "note": "steal", "idempotency_key": "x"}},
		{"POST", b.Path + "/customers/42/token", nil},
		{"POST", b.Path + "/customers/42/vouchers", map[string]any{"amount": "1.00"}},
		{"GET", b.Path + "/dead-letters", nil},
		{"POST", b.Path + "/dead-letters/" + bDead[0].ID.String() + "/retry", nil},
		{"GET", b.Path + "/report", nil},
		{"GET", b.Path + "/audit", nil},
		{"POST", b.Path + "/shopify/discount", nil},
	}
	for _, r := range routes {
		resp := e.as(a.AdminToken, r.method, r.path, r.body)
		if resp.Status != http.StatusNotFound {
			t.Errorf("shop A token: %s %s = %d, want 404 (body %s)", r.method, r.path, resp.Status, resp.Body)
			continue
		}
		if er := resp.Err(t); er.Error.Code != core.ENOTFOUND || er.Error.Message != "shop not found" {
			t.Errorf("%s %s: %s", r.method, r.path, resp.Body)
		}
	}
	// Nothing of B changed, and A's own views show nothing of B.
	if bal := e.balance(b, "42"); bal.Available != "12.00" {
		t.Fatalf("B's customer balance %+v", bal)
	}
	if bal := e.balance(a, "42"); bal.Available != "0.00" {
		t.Fatalf("A sees B's customer credit: %+v", bal)
	}
	if st := e.statement(a.AdminToken, a.Path+"/customers/42/statement"); len(st.Entries) != 0 {
		t.Fatalf("A sees B's statement: %+v", st.Entries)
	}
	if dl := e.deadLetters(a, a.AdminToken); len(dl) != 0 {
		t.Fatalf("A sees B's dead letters: %+v", dl)
	}
	var aRules struct {
		Rules []map[string]any `json:"rules"`
	}
	must(t, e.as(a.AdminToken, "GET", a.Path+"/rules", nil), http.StatusOK).JSON(t, &aRules)
	if len(aRules.Rules) != 0 {
		t.Fatalf("A sees rules %v", aRules.Rules)
	}
	var rep struct {
		Currencies map[string]any `json:"currencies"`
	}
	must(t, e.as(a.AdminToken, "GET", a.Path+"/report", nil), http.StatusOK).JSON(t, &rep)
	if len(rep.Currencies) != 0 {
		t.Fatalf("A's report shows B's program: %v", rep.Currencies)
	}
	var bRules2 struct {
		Rules []map[string]any `json:"rules"`
	}
	must(t, e.as(b.AdminToken, "GET", b.Path+"/rules", nil), http.StatusOK).JSON(t, &bRules2)
	if len(bRules2.Rules) != 1 || bRules2.Rules[0]["value"] != "7" {
		t.Fatalf("B's rules changed: %v", bRules2.Rules)
	}
	// Only the operator creates shops.
	must(t, e.as(a.AdminToken, "POST", "/api/v1/shops/", map[string]any{"platform": "shopify", "domain": "x.myshopify.com", "currency": "EUR"}), http.StatusUnauthorized)
	// The operator sees both shops.
	for _, s := range []testShop{a, b} {
		var sh map[string]any
		must(t, e.as(operatorToken, "GET", s.Path, nil), http.StatusOK).JSON(t, &sh)
		if sh["domain"] != s.Domain {
			t.Fatalf("operator GET %s: %v", s.Path, sh)
		}
		for _, secretField := range []string{"secrets", "customer_key", "webhook_secret", "access_token"} {
			if _, ok := sh[secretField]; ok {
				t.Fatalf("shop view leaks %q: %v", secretField, sh)
			}
		}
	}
	if bal := e.balance(testShop{Path: b.Path, AdminToken: operatorToken}, "42"); bal.Available != "12.00" {
		t.Fatalf("operator view of B's customer %+v", bal)
	}
	must(t, e.as(operatorToken, "GET", "/api/v1/shops/999999", nil), http.StatusNotFound)
	// No token, a wrong token: 401.
	must(t, e.do("GET", a.Path+"/rules", nil), http.StatusUnauthorized)
	must(t, e.as("cba_wrong", "GET", a.Path+"/rules", nil), http.StatusUnauthorized)
}

func TestCustomerTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{CustomerTokenTTL: 10 * time.Minute})
	a := e.wooShop(nil)
	b := e.wooShop(nil)
	must(t, e.adjust(a.AdminToken, a, "100", "3.50", "a-100"), http.StatusCreated)
	must(t, e.adjust(a.AdminToken, a, "200", "9.00", "a-200"), http.StatusCreated)
	must(t, e.adjust(b.AdminToken, b, "100", "50.00", "b-100"), http.StatusCreated)

	var tok struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	before := time.Now()
	must(t, e.as(a.AdminToken, "POST", a.Path+"/customers/100/token", nil), http.StatusOK).JSON(t, &tok)
	exp, err := time.Parse(time.RFC3339, tok.ExpiresAt)
	if err != nil || exp.Before(before.Add(10*time.Minute-2*time.Second)) || exp.After(time.Now().Add(10*time.Minute+time.Second)) {
		t.Fatalf("expires_at %q (%v), want about 10 minutes from now", tok.ExpiresAt, err)
	}
	if !strings.HasPrefix(tok.Token, "cbt1.") {
		t.Fatalf("token %q", tok.Token)
	}
	var bal balanceView
	must(t, e.as(tok.Token, "GET", "/api/v1/me/balance", nil), http.StatusOK).JSON(t, &bal)
	if bal.Owner != "c:100" || bal.Available != "3.50" || bal.Currency != "EUR" {
		t.Fatalf("/me/balance %+v, want customer 100 of shop A with 3.50", bal)
	}
	st := e.statement(tok.Token, "/api/v1/me/statement")
	if len(st.Entries) != 1 || st.Entries[0].Delta != "3.50" || st.Entries[0].Kind != "adjustment" {
		t.Fatalf("/me/statement %+v", st)
	}
	// The token is useless on the admin API.
	must(t, e.as(tok.Token, "GET", a.Path+"/customers/200/balance", nil), http.StatusUnauthorized)
	// Admin tokens are not customer tokens.
	must(t, e.as(a.AdminToken, "GET", "/api/v1/me/balance", nil), http.StatusUnauthorized)
	must(t, e.do("GET", "/api/v1/me/balance", nil), http.StatusUnauthorized)

	// Tampering: another owner, another shop, a changed expiry or signature.
	parts := strings.Split(tok.Token, ".")
	tampered := map[string]string{
		"owner":     strings.Join([]string{parts[0], parts[1], base64.RawURLEncoding.EncodeToString([]byte("c:200")), parts[3], parts[4]}, "."),
		"shop":      strings.Join([]string{parts[0], strings.TrimPrefix(b.Path, "/api/v1/shops/"), parts[2], parts[3], parts[4]}, "."),
		"expiry":    strings.Join([]string{parts[0], parts[1], parts[2], "9999999999", parts[4]}, "."),
		"signature": tok.Token[:len(tok.Token)-1] + map[bool]string{true: "0", false: "1"}[!strings.HasSuffix(tok.Token, "0")],
		"truncated": strings.Join(parts[:4], "."),
		"version":   "cbt2" + strings.TrimPrefix(tok.Token, "cbt1"),
	}
	for name, bad := range tampered {
		for _, path := range []string{"/api/v1/me/balance", "/api/v1/me/statement"} {
			r := must(t, e.as(bad, "GET", path, nil), http.StatusUnauthorized)
			if r.Err(t).Error.Code != core.EUNAUTHORIZED {
				t.Errorf("%s on %s: %s", name, path, r.Body)
			}
		}
	}
	// An expired token, correctly signed with the shop's key.
	shop, err := e.shops.ShopByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	expired := httpapi.IssueCustomerToken(shop, core.Owner{Kind: core.OwnerCustomer, ID: "c:100"}, time.Now().Add(-time.Second))
	r := must(t, e.as(expired, "GET", "/api/v1/me/balance", nil), http.StatusUnauthorized)
	if r.Err(t).Error.Message != "customer token expired" {
		t.Fatalf("expired token: %s", r.Body)
	}
	valid := httpapi.IssueCustomerToken(shop, core.Owner{Kind: core.OwnerCustomer, ID: "c:200"}, time.Now().Add(time.Minute))
	must(t, e.as(valid, "GET", "/api/v1/me/balance", nil), http.StatusOK).JSON(t, &bal)
	if bal.Owner != "c:200" || bal.Available != "9.00" {
		t.Fatalf("customer 200: %+v", bal)
	}
	// A partner's token is its linked customer's; an unknown partner has none.
	must(t, e.as(a.AdminToken, "POST", a.Path+"/customers/partner:p1/token", nil), http.StatusNotFound)
}

// TestCustomerTokenExpires uses a one-second TTL and waits (polling, with a
// deadline) until the API-issued token stops working.
func TestCustomerTokenExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{CustomerTokenTTL: time.Second, NoWorker: true})
	s := e.wooShop(nil)
	var tok struct {
		Token string `json:"token"`
	}
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/5/token", nil), http.StatusOK).JSON(t, &tok)
	must(t, e.as(tok.Token, "GET", "/api/v1/me/balance", nil), http.StatusOK)
	e.waitFor("the customer token to expire", 5*time.Second, func() (bool, string) {
		r := e.as(tok.Token, "GET", "/api/v1/me/balance", nil)
		return r.Status == http.StatusUnauthorized, string(r.Body)
	})
}
