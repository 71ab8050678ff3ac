package wcfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
)

func get(t *testing.T, s *Server, path, user, pass string) (int, http.Header, any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v any
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, v
}

func TestAuthAndRoutes(t *testing.T) {
	t.Parallel()
	s := NewTLS(t, "ck", "cs")
	for _, tt := range []struct{ user, pass, code string }{
		{"", "", "woocommerce_rest_cannot_view"},
		{"ck", "bad", "woocommerce_rest_authentication_error"},
		{"bad", "cs", "woocommerce_rest_cannot_view"},
	} {
		status, _, v := get(t, s, APIPrefix+"/orders", tt.user, tt.pass)
		m, _ := v.(map[string]any)
		data, _ := m["data"].(map[string]any)
		if status != 401 || m["code"] != tt.code || m["message"] == "" || data["status"] != float64(401) {
			t.Errorf("creds %s/%s: %d %v", tt.user, tt.pass, status, v)
		}
	}
	status, _, v := get(t, s, APIPrefix+"/products", "ck", "cs")
	if m, _ := v.(map[string]any); status != 404 || m["code"] != "rest_no_route" {
		t.Errorf("unknown route: %d %v", status, v)
	}
	status, _, v = get(t, s, APIPrefix+"/orders?per_page=500", "ck", "cs")
	if m, _ := v.(map[string]any); status != 400 || m["code"] != "rest_invalid_param" {
		t.Errorf("per_page 500: %d %v", status, v)
	}
	if n := len(s.Requests()); n != 5 {
		t.Errorf("recorded %d requests, want 5", n)
	}
}

func TestOrdersAndRefundSummary(t *testing.T) {
	t.Parallel()
	s := NewTLS(t, "ck", "cs")
	s.PutOrder([]byte(`{"id":9007199254740993,"date_created_gmt":"2025-01-02T00:00:00","date_modified_gmt":"2025-01-02T00:00:00","refunds":[]}`))
	s.PutOrderObject(map[string]any{"id": 2, "date_created_gmt": "2025-01-01T00:00:00", "date_modified_gmt": "2025-01-03T00:00:00"})
	s.AddRefund(9007199254740993, []byte(`{"id":30,"amount":"4.50","reason":"damaged","line_items":[]}`))
	s.AddRefund(9007199254740993, []byte(`{"id":30,"amount":"5.00","reason":"damaged","line_items":[]}`))

	// Default order: by creation date, newest first.
	status, h, v := get(t, s, APIPrefix+"/orders", "ck", "cs")
	list, _ := v.([]any)
	if status != 200 || len(list) != 2 || h.Get("X-WP-Total") != "2" || h.Get("X-WP-TotalPages") != "1" {
		t.Fatalf("list: %d %v %v", status, h, v)
	}
	// Re-read with UseNumber semantics: the big id must be intact.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+APIPrefix+"/orders/9007199254740993", nil)
	req.SetBasicAuth("ck", "cs")
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var order struct {
		ID      json.Number `json:"id"`
		Refunds []struct {
			ID    json.Number `json:"id"`
			Total string      `json:"total"`
		} `json:"refunds"`
	}
	if err := json.NewDecoder(res.Body).Decode(&order); err != nil {
		t.Fatal(err)
	}
	if order.ID != "9007199254740993" || len(order.Refunds) != 1 || order.Refunds[0].ID != "30" || order.Refunds[0].Total != "-5.00" {
		t.Errorf("order = %+v", order)
	}
	status, _, v = get(t, s, APIPrefix+"/orders/9007199254740993/refunds", "ck", "cs")
	if l, _ := v.([]any); status != 200 || len(l) != 1 {
		t.Errorf("refunds: %d %v", status, v)
	}
	status, _, _ = get(t, s, APIPrefix+"/orders/77/refunds", "ck", "cs")
	if status != 404 {
		t.Errorf("refunds of unknown order: %d", status)
	}
}

// oauthGet sends a GET signed like WooCommerce's OAuth 1.0a (with the
// client's signer), after edit may tamper with the parameters.
func oauthGet(t *testing.T, s *Server, target, secret, nonce string, ts time.Time, edit func(url.Values)) (int, map[string]any) {
	t.Helper()
	u, err := url.Parse(s.URL + target)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("oauth_consumer_key", "ck")
	q.Set("oauth_nonce", nonce)
	q.Set("oauth_signature_method", "HMAC-SHA256")
	q.Set("oauth_timestamp", strconv.FormatInt(ts.Unix(), 10))
	base := strings.TrimRight(s.URL+u.Path, "/")
	q.Set("oauth_signature", woocommerce.OAuthSignature(http.MethodGet, base, q, secret))
	if edit != nil {
		edit(q)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func TestOAuthOverHTTP(t *testing.T) {
	t.Parallel()
	s := New(t, "ck", "cs")
	now := time.Now()
	// Basic auth is ignored over http, as WooCommerce ignores it without is_ssl().
	if status, _, v := get(t, s, APIPrefix+"/orders", "ck", "cs"); status != 401 || v.(map[string]any)["code"] != "woocommerce_rest_cannot_view" {
		t.Errorf("basic over http: %d %v", status, v)
	}
	if status, m := oauthGet(t, s, APIPrefix+"/orders?per_page=5", "cs", "n1", now, nil); status != 200 {
		t.Errorf("signed: %d %v", status, m)
	}
	if status, m := oauthGet(t, s, APIPrefix+"/orders?per_page=5", "cs", "n1", now, nil); status != 401 || !strings.Contains(m["message"].(string), "nonce") {
		t.Errorf("nonce reused: %d %v", status, m)
	}
	if status, m := oauthGet(t, s, APIPrefix+"/orders?per_page=5", "wrong", "n2", now, nil); status != 401 || !strings.Contains(m["message"].(string), "signature") {
		t.Errorf("wrong secret: %d %v", status, m)
	}
	if status, m := oauthGet(t, s, APIPrefix+"/orders?per_page=5", "cs", "n3", now, func(q url.Values) { q.Set("per_page", "6") }); status != 401 {
		t.Errorf("tampered parameter: %d %v", status, m)
	}
	if status, m := oauthGet(t, s, APIPrefix+"/orders", "cs", "n4", now.Add(-16*time.Minute), nil); status != 401 || m["message"] != "Invalid timestamp." {
		t.Errorf("old timestamp: %d %v", status, m)
	}
	if status, m := oauthGet(t, s, APIPrefix+"/orders", "cs", "n5", now, func(q url.Values) { q.Del("oauth_nonce") }); status != 401 || m["code"] != "woocommerce_rest_authentication_missing_parameter" {
		t.Errorf("missing nonce: %d %v", status, m)
	}
	// ?rest_route= signs the bare site URL.
	if status, m := oauthGet(t, s, "/?rest_route=/wc/v3/orders", "cs", "n6", now, nil); status != 200 {
		t.Errorf("rest_route: %d %v", status, m)
	}
}

func TestPlainPermalinks(t *testing.T) {
	t.Parallel()
	s := New(t, "ck", "cs")
	s.SetPlainPermalinks(true)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+APIPrefix+"/orders", nil)
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.Header.Get("Location") != s.URL+APIPrefix+"/orders/" {
		t.Errorf("/wp-json with plain permalinks: %d %v", res.StatusCode, res.Header)
	}
	if status, m := oauthGet(t, s, "/?rest_route=/wc/v3/orders", "cs", "p1", time.Now(), nil); status != 200 {
		t.Errorf("rest_route: %d %v", status, m)
	}
}
