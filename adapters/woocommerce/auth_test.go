package woocommerce_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
)

// TestOAuthSignatureMatchesWooCommerce pins the signature to values
// computed with the steps of WooCommerce 9.8.5's check_oauth_signature
// (uksort strcmp, wc_rest_urlencode_rfc3986 of keys and values, k=v
// encoded again and joined with %26, HMAC-SHA256 keyed "secret&"), run by
// PHP 8.2.
func TestOAuthSignatureMatchesWooCommerce(t *testing.T) {
	t.Parallel()
	q := url.Values{
		"rest_route": {"/wc/v3/orders"}, "modified_after": {"2025-03-01T10:00:00Z"}, "per_page": {"100"}, "code": {"a b+c~d"},
		"oauth_consumer_key": {"ck_test"}, "oauth_nonce": {"n0nce"}, "oauth_signature_method": {"HMAC-SHA256"}, "oauth_timestamp": {"1700000000"},
	}
	if got, want := woocommerce.OAuthSignature("GET", "http://127.0.0.1:8081", q, "cs_test"), "xkj9OcD0v73cqWyorFqY2VmWiy2EovoP2521GWBshlk="; got != want {
		t.Errorf("rest_route signature = %s, want %s", got, want)
	}
	q = url.Values{"force": {"true"}, "oauth_consumer_key": {"ck_test"}, "oauth_nonce": {"x"}, "oauth_signature_method": {"HMAC-SHA256"}, "oauth_timestamp": {"1700000001"},
		"oauth_signature": {"ignored"}}
	if got, want := woocommerce.OAuthSignature("delete", "http://shop.example/sub/wp-json/wc/v3/coupons/7", q, "cs_test"), "PEVmyAo8ykUmUkBWlDalXvEloSO5XEabMCFef8AaYaE="; got != want {
		t.Errorf("delete signature = %s, want %s", got, want)
	}
}

func TestClientAuthByScheme(t *testing.T) {
	t.Parallel()
	// http: OAuth 1.0a in the query, no Authorization header, no secret.
	fake, c := setup(t)
	fake.PutOrderObject(orderJSON(21, "2025-03-01T10:00:00"))
	for range 3 { // fresh nonces: the fake refuses a nonce twice
		if _, err := c.GetOrder(t.Context(), "21"); err != nil {
			t.Fatal(err)
		}
	}
	if c.AuthMethod() != "oauth1" {
		t.Errorf("http auth = %s", c.AuthMethod())
	}
	for _, r := range fake.Requests() {
		if r.Auth != "oauth1" || strings.Contains(r.Query, testSecret) {
			t.Errorf("request %+v: want OAuth without the secret", r)
		}
	}
	// https: Basic auth.
	tls := wcfake.NewTLS(t, testKey, testSecret)
	tls.PutOrderObject(orderJSON(22, "2025-03-01T10:00:00"))
	ct, err := woocommerce.NewClient(tls.URL, testKey, testSecret, woocommerce.WithHTTPClient(tls.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ct.GetOrder(t.Context(), "22"); err != nil {
		t.Fatal(err)
	}
	if r := tls.Requests(); len(r) != 1 || r[0].Auth != "basic" || ct.AuthMethod() != "basic" {
		t.Errorf("https requests = %+v", r)
	}
	// A wrong secret over https: WooCommerce's own message.
	bad, _ := woocommerce.NewClient(tls.URL, testKey, "cs_wrong", woocommerce.WithHTTPClient(tls.Client()))
	_, err = bad.GetOrder(t.Context(), "22")
	var ae *woocommerce.APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Message != "Consumer secret is invalid." {
		t.Errorf("wrong secret over https: %v", err)
	}
}

func TestClientPlainPermalinks(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	fake.SetPlainPermalinks(true)
	fake.PutOrderObject(orderJSON(31, "2025-03-01T10:00:00"))
	if _, err := c.GetOrder(t.Context(), "31"); err != nil {
		t.Fatalf("GetOrder with plain permalinks: %v", err)
	}
	if !c.PlainPermalinks() {
		t.Error("client did not note plain permalinks")
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/wp-json/wc/v3/orders/31" || reqs[1].Path != "/" || reqs[1].Route != "/wc/v3/orders/31" || reqs[1].Auth != "oauth1" {
		t.Fatalf("requests = %+v, want /wp-json then ?rest_route=", reqs)
	}
	// A POST that met the redirect is sent again to ?rest_route= (the
	// redirect proves it never reached the API), once.
	cp, err := c.CreateCoupon(t.Context(), woocommerce.CouponRequest{Code: "cbv-plain", Currency: "EUR", Amount: decimal.RequireFromString("3")})
	if err != nil || cp.Code != "cbv-plain" || len(fake.Coupons()) != 1 {
		t.Fatalf("CreateCoupon: %+v %v", cp, err)
	}
	// A new client of the same site goes to ?rest_route= directly.
	c2, err := woocommerce.NewClient(fake.URL, testKey, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	n := len(fake.Requests())
	if _, err := c2.GetOrder(t.Context(), "31"); err != nil {
		t.Fatal(err)
	}
	if reqs := fake.Requests()[n:]; len(reqs) != 1 || reqs[0].Route != "/wc/v3/orders/31" || reqs[0].Path != "/" {
		t.Errorf("second client requests = %+v", reqs)
	}
}

func TestClientNotRESTError(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Maintenance</body></html>"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, err := woocommerce.NewClient("http://"+ln.Addr().String()+"/site", testKey, testSecret, woocommerce.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ListOrdersModifiedAfter(t.Context(), time.Now(), 1, 10)
	var nr *woocommerce.NotRESTError
	if !errors.As(err, &nr) || nr.Status != 200 || !strings.HasPrefix(nr.ContentType, "text/html") {
		t.Fatalf("err = %v, want *NotRESTError", err)
	}
	if strings.Contains(err.Error(), "syntax error") || !strings.Contains(err.Error(), "rest_route") {
		t.Errorf("message = %q", err)
	}
	if hits.Load() != 2 || c.PlainPermalinks() {
		t.Errorf("hits = %d (want /wp-json then ?rest_route=), plain = %v", hits.Load(), c.PlainPermalinks())
	}
}

// TestClientErrorsCarryNoOAuthParameters: a transport error names the
// route, not the signed URL.
func TestClientErrorsCarryNoOAuthParameters(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c, err := woocommerce.NewClient("http://"+addr, testKey, testSecret, woocommerce.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOrder(t.Context(), "5")
	if err == nil || strings.Contains(err.Error(), "oauth_") || strings.Contains(err.Error(), testKey) || !strings.Contains(err.Error(), "GET /orders/5") {
		t.Fatalf("err = %v", err)
	}
}
