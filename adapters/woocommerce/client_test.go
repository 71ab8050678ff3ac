package woocommerce_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
	"github.com/creditbridge/creditbridge/core"
)

const (
	testKey    = "ck_test"
	testSecret = "cs_test"
)

// setup starts a fake shop and a client of it with millisecond backoff.
func setup(t *testing.T, opts ...woocommerce.Option) (*wcfake.Server, *woocommerce.Client) {
	t.Helper()
	fake := wcfake.New(t, testKey, testSecret)
	opts = append([]woocommerce.Option{woocommerce.WithBackoff(time.Millisecond, 4*time.Millisecond)}, opts...)
	c, err := woocommerce.NewClient(fake.URL, testKey, testSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func orderJSON(id int64, modified string) map[string]any {
	return map[string]any{
		"id": id, "number": fmt.Sprint(id), "status": "processing", "currency": "USD",
		"date_created_gmt": "2025-01-01T00:00:00", "date_modified_gmt": modified,
		"customer_id": 0, "billing": map[string]any{"email": "a@example.com"},
		"line_items":   []any{map[string]any{"id": id*10 + 1, "product_id": 5, "variation_id": 0, "quantity": 1, "total": "10.00", "sku": "S", "name": "N", "price": 10}},
		"coupon_lines": []any{}, "refunds": []any{}, "meta_data": []any{},
	}
}

func TestNewClientValidation(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url, key, secret string
		ok               bool
	}{
		{"https://shop.example.com", "k", "s", true},
		{"https://example.com/shop/", "k", "s", true},
		{"http://127.0.0.1:8080", "k", "s", true},
		{"http://localhost:8080", "k", "s", true},
		{"http://[::1]:8080", "k", "s", true},
		{"http://shop.example.com", "k", "s", true}, // OAuth 1.0a: the secret never travels
		{"http://10.0.0.1", "k", "s", true},
		{"ftp://shop.example.com", "k", "s", false},
		{"shop.example.com", "k", "s", false},
		{"https://user:pw@shop.example.com", "k", "s", false},
		{"https://shop.example.com", "", "s", false},
		{"https://shop.example.com", "k", "", false},
		{"://", "k", "s", false},
	} {
		c, err := woocommerce.NewClient(tt.url, tt.key, tt.secret)
		if tt.ok != (err == nil) || tt.ok != (c != nil) {
			t.Errorf("NewClient(%q) = %v, %v; want ok=%v", tt.url, c, err, tt.ok)
		}
		if err != nil && core.ErrorCode(err) != core.EINVALID {
			t.Errorf("NewClient(%q) error code = %s", tt.url, core.ErrorCode(err))
		}
	}
}

func TestClientAuthFailure(t *testing.T) {
	t.Parallel()
	fake := wcfake.New(t, testKey, testSecret)
	c, err := woocommerce.NewClient(fake.URL, testKey, "wrong", woocommerce.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetOrder(t.Context(), "1")
	var ae *woocommerce.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != "woocommerce_rest_authentication_error" || !strings.Contains(ae.Message, "signature") {
		t.Fatalf("err = %#v, want 401 woocommerce_rest_authentication_error (OAuth signature)", err)
	}
	if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), testKey) {
		t.Errorf("error leaks credentials: %v", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("401 was retried: %d requests", n)
	}
}

func TestListOrdersModifiedAfterPagination(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	// Modified out of id order; one before the cursor and one exactly at it
	// (WooCommerce's "after" is exclusive).
	fake.PutOrderObject(orderJSON(11, "2025-03-01T10:00:05"))
	fake.PutOrderObject(orderJSON(12, "2025-03-01T10:00:01"))
	fake.PutOrderObject(orderJSON(13, "2025-03-01T10:00:03"))
	fake.PutOrderObject(orderJSON(14, "2025-03-01T09:00:00"))
	fake.PutOrderObject(orderJSON(15, "2025-03-01T10:00:00"))
	fake.PutOrderObject(orderJSON(16, "2025-03-01T10:00:02"))
	cursor := time.Date(2025, 3, 1, 11, 0, 0, 0, time.FixedZone("CET", 3600)) // = 10:00:00Z

	var ids []string
	var pages int
	for page := 1; ; page++ {
		raw, total, err := c.ListOrdersModifiedAfter(t.Context(), cursor, page, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages = total
		for _, r := range raw {
			o, err := woocommerce.ParseOrder(r, woocommerce.DefaultParseOptions())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.OrderID)
		}
		if page >= total {
			break
		}
	}
	if got := strings.Join(ids, ","); got != "12,16,13,11" {
		t.Errorf("orders = %s, want 12,16,13,11 (modified asc, after the cursor)", got)
	}
	if pages != 2 {
		t.Errorf("total pages = %d, want 2", pages)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/wp-json/wc/v3/orders" {
		t.Fatalf("requests = %+v", reqs)
	}
	q, _ := url.ParseQuery(reqs[1].Query)
	want := url.Values{
		"modified_after": {"2025-03-01T10:00:00Z"}, "orderby": {"modified"}, "order": {"asc"},
		"page": {"2"}, "per_page": {"2"}, "dates_are_gmt": {"true"},
	}
	for k, v := range want {
		if q.Get(k) != v[0] {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), v[0])
		}
	}
	if _, _, err := c.ListOrdersModifiedAfter(t.Context(), cursor, 1, 101); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("per_page 101: %v", err)
	}
	if _, _, err := c.ListOrdersModifiedAfter(t.Context(), cursor, 0, 10); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("page 0: %v", err)
	}
}

func TestGetOrderAndRefunds(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	var list []json.RawMessage
	if err := json.Unmarshal(sharedfixtures.Read(t, "fixtures/woocommerce/rest-api-docs/orders-list.json"), &list); err != nil {
		t.Fatal(err)
	}
	fake.PutOrder(list[1]) // order 723
	var refunds []json.RawMessage
	if err := json.Unmarshal(sharedfixtures.Read(t, "fixtures/woocommerce/rest-api-docs/refunds-list.json"), &refunds); err != nil {
		t.Fatal(err)
	}
	fake.AddRefund(723, refunds[1]) // 724, with line detail (older)
	fake.AddRefund(723, refunds[0]) // 726, amount only

	raw, err := c.GetOrder(t.Context(), "723")
	if err != nil {
		t.Fatal(err)
	}
	o, err := woocommerce.ParseOrder(raw, woocommerce.DefaultParseOptions())
	if err != nil || o.OrderID != "723" || len(o.Lines) != 2 || len(o.Refunds) != 2 {
		t.Fatalf("GetOrder/ParseOrder = %+v, %v", o, err)
	}
	got, err := c.ListRefunds(t.Context(), "723")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RefundID != "726" || got[1].RefundID != "724" {
		t.Fatalf("refunds = %+v", got)
	}
	if l := got[1].Lines; len(l) != 1 || l[0].LineID != o.Lines[0].LineID || l[0].Quantity != 1 || !l[0].Amount.Equal(decimal.RequireFromString("9")) {
		t.Errorf("refund 724 lines = %+v, want order line %s qty 1", l, o.Lines[0].LineID)
	}

	_, err = c.GetOrder(t.Context(), "999")
	if !woocommerce.IsNotFound(err) {
		t.Errorf("missing order: %v", err)
	}
	for _, bad := range []string{"", "0", "-1", "1/refunds", "../x", "1?x=1", "１"} {
		if _, err := c.GetOrder(t.Context(), bad); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("GetOrder(%q) = %v, want EINVALID", bad, err)
		}
	}
}

func TestGetOrderBigID(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	fake.PutOrder([]byte(`{"id":9007199254740993,"number":"x","status":"completed","currency":"USD","date_modified_gmt":"2025-01-01T00:00:00","line_items":[]}`))
	raw, err := c.GetOrder(t.Context(), "9007199254740993")
	if err != nil {
		t.Fatal(err)
	}
	o, err := woocommerce.ParseOrder(raw, woocommerce.DefaultParseOptions())
	if err != nil || o.OrderID != "9007199254740993" {
		t.Fatalf("order id = %q, %v", o.OrderID, err)
	}
}

func TestClientRetriesGET(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	fake.PutOrderObject(orderJSON(7, "2025-01-01T00:00:00"))

	fake.FailNext(2, http.StatusServiceUnavailable)
	if _, err := c.GetOrder(t.Context(), "7"); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}

	fake.FailNext(3, http.StatusBadGateway)
	_, err := c.GetOrder(t.Context(), "7")
	var ae *woocommerce.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Code != "wcfake_injected_failure" {
		t.Fatalf("after three 502s: %v", err)
	}
	if n := len(fake.Requests()); n != 6 {
		t.Errorf("requests = %d, want 6 (max 3 attempts)", n)
	}

	fake.DropNext(1)
	if _, err := c.GetOrder(t.Context(), "7"); err != nil {
		t.Fatalf("after a dropped connection: %v", err)
	}

	fake.FailNext(1, http.StatusBadRequest)
	if _, err := c.GetOrder(t.Context(), "7"); err == nil {
		t.Fatal("400 did not fail")
	}
	if n := len(fake.Requests()); n != 9 {
		t.Errorf("requests = %d, want 9 (400 not retried)", n)
	}
}

func TestClientHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	fake.PutOrderObject(orderJSON(7, "2025-01-01T00:00:00"))
	fake.FailNextRetryAfter(1, http.StatusTooManyRequests, "1")
	start := time.Now()
	if _, err := c.GetOrder(t.Context(), "7"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, Retry-After asked for 1s", d)
	}

	// A Retry-After beyond the client's patience ends the call at once.
	fake.FailNextRetryAfter(1, http.StatusTooManyRequests, "3600")
	start = time.Now()
	_, err := c.GetOrder(t.Context(), "7")
	var ae *woocommerce.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want 429", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %v", d)
	}
}

func TestClientContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, woocommerce.WithBackoff(time.Hour, time.Hour))
	fake.FailNext(3, http.StatusServiceUnavailable)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetOrder(ctx, "7")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestClientRequestTimeout(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { close(block); _ = srv.Close() })
	c, err := woocommerce.NewClient("http://"+ln.Addr().String(), testKey, testSecret,
		woocommerce.WithRequestTimeout(30*time.Millisecond), woocommerce.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.GetOrder(t.Context(), "1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("3 attempts took %v", d)
	}
}

func TestCreateCouponRetryRules(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	req := woocommerce.CouponRequest{Code: "cbv-r1", Currency: "USD", Amount: decimal.RequireFromString("5")}

	// 5xx after the request was sent: the coupon may exist; never retried.
	fake.FailNext(1, http.StatusInternalServerError)
	if _, err := c.CreateCoupon(t.Context(), req); err == nil {
		t.Fatal("500 did not fail")
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("POST after 500: %d requests, want 1", n)
	}
	// Connection dropped after the request was read: not retried either.
	fake.DropNext(1)
	if _, err := c.CreateCoupon(t.Context(), req); err == nil {
		t.Fatal("dropped connection did not fail")
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("POST after a dropped connection: %d requests, want 2", n)
	}
	// 429: the request was not processed; retried.
	fake.FailNextRetryAfter(1, http.StatusTooManyRequests, "0")
	cp, err := c.CreateCoupon(t.Context(), req)
	if err != nil {
		t.Fatalf("POST after 429: %v", err)
	}
	if n := len(fake.Requests()); n != 4 || cp.Code != "cbv-r1" {
		t.Errorf("POST after 429: %d requests, coupon %+v", n, cp)
	}
	if n := len(fake.Coupons()); n != 1 {
		t.Errorf("coupons = %d, want 1", n)
	}
}

// countingTransport counts round trips.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestCreateCouponRetriedOnConnectError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens: connection refused
	tr := &countingTransport{}
	c, err := woocommerce.NewClient("http://"+addr, testKey, testSecret,
		woocommerce.WithHTTPClient(&http.Client{Transport: tr}), woocommerce.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateCoupon(t.Context(), woocommerce.CouponRequest{Code: "x", Currency: "USD", Amount: decimal.RequireFromString("1")})
	if err == nil {
		t.Fatal("no error without a server")
	}
	if n := tr.n.Load(); n != woocommerce.MaxAttempts {
		t.Errorf("attempts = %d, want %d (a refused connection is safe to retry)", n, woocommerce.MaxAttempts)
	}
}

func TestCouponLifecycle(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	expires := time.Date(2025, 12, 31, 23, 59, 0, 0, time.FixedZone("X", -5*3600))
	cp, err := c.CreateCoupon(t.Context(), woocommerce.CouponRequest{
		Code:              "CBV-Gift-01",
		Currency:          "EUR",
		Amount:            decimal.RequireFromString("12.5"),
		EmailRestrictions: []string{" Anna@Example.com"},
		ExpiresAt:         expires,
		Description:       "creditbridge voucher",
		Meta:              map[string]string{"_creditbridge_voucher": "v1", "_creditbridge_shop": "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cp.ID == "" || cp.Code != "cbv-gift-01" || !cp.Amount.Equal(decimal.RequireFromString("12.50")) || cp.UsageCount != 0 || len(cp.UsedBy) != 0 {
		t.Errorf("created coupon = %+v", cp)
	}
	if want := time.Date(2026, 1, 1, 4, 59, 0, 0, time.UTC); !cp.DateExpires.Equal(want) {
		t.Errorf("DateExpires = %v, want %v", cp.DateExpires, want)
	}
	// What the shop stored.
	stored := fake.Coupons()
	if len(stored) != 1 {
		t.Fatalf("stored coupons = %+v", stored)
	}
	s := stored[0]
	if s.DiscountType != "fixed_cart" || s.Amount != "12.50" || s.IndividualUse ||
		s.UsageLimit == nil || *s.UsageLimit != 1 || s.UsageLimitPerUser == nil || *s.UsageLimitPerUser != 1 ||
		len(s.EmailRestrictions) != 1 || s.EmailRestrictions[0] != "anna@example.com" ||
		s.DateExpiresGMT != "2026-01-01T04:59:00" || s.Description != "creditbridge voucher" ||
		s.Meta["_creditbridge_voucher"] != "v1" || s.Meta["_creditbridge_shop"] != "3" {
		t.Errorf("stored coupon = %+v", s)
	}
	// The body carried the amount as a string, as the schema requires.
	var body map[string]any
	if err := json.Unmarshal(fake.Requests()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["amount"] != "12.50" || body["usage_limit"] != float64(1) || body["individual_use"] != false {
		t.Errorf("request body = %v", body)
	}

	// Duplicate codes are refused by WooCommerce.
	_, err = c.CreateCoupon(t.Context(), woocommerce.CouponRequest{Code: "cbv-gift-01", Currency: "EUR", Amount: decimal.RequireFromString("1")})
	var ae *woocommerce.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "woocommerce_rest_coupon_code_already_exists" {
		t.Errorf("duplicate code: %v", err)
	}

	fake.MarkCouponUsed("cbv-gift-01", "anna@example.com")
	got, found, err := c.GetCouponByCode(t.Context(), "CBV-GIFT-01")
	if err != nil || !found {
		t.Fatalf("GetCouponByCode = %v, %v", found, err)
	}
	if got.ID != cp.ID || got.UsageCount != 1 || len(got.UsedBy) != 1 || got.UsedBy[0] != "anna@example.com" {
		t.Errorf("used coupon = %+v", got)
	}

	if err := c.DeleteCoupon(t.Context(), cp.ID); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodDelete || last.Path != "/wp-json/wc/v3/coupons/"+cp.ID || last.Query != "force=true" {
		t.Errorf("delete request = %+v", last)
	}
	if _, found, err := c.GetCouponByCode(t.Context(), "cbv-gift-01"); found || err != nil {
		t.Errorf("deleted coupon still found: %v %v", found, err)
	}
	if err := c.DeleteCoupon(t.Context(), cp.ID); err != nil {
		t.Errorf("second delete: %v (should be idempotent)", err)
	}
	if len(fake.Coupons()) != 0 {
		t.Errorf("coupons left: %+v", fake.Coupons())
	}
}

func TestCreateCouponValidation(t *testing.T) {
	t.Parallel()
	fake, c := setup(t)
	for name, req := range map[string]woocommerce.CouponRequest{
		"empty code":       {Code: " ", Currency: "USD", Amount: decimal.RequireFromString("1")},
		"zero amount":      {Code: "a", Currency: "USD", Amount: decimal.Zero},
		"negative amount":  {Code: "a", Currency: "USD", Amount: decimal.RequireFromString("-1")},
		"too many digits":  {Code: "a", Currency: "JPY", Amount: decimal.RequireFromString("1.5")},
		"unknown currency": {Code: "a", Currency: "", Amount: decimal.RequireFromString("1")},
	} {
		if _, err := c.CreateCoupon(t.Context(), req); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("invalid requests reached the shop: %d", n)
	}
}

// TestFakeRefusesBadCouponBody checks that the fake enforces the coupon
// schema, so a client regression that sends a number amount fails tests.
func TestFakeRefusesBadCouponBody(t *testing.T) {
	t.Parallel()
	fake := wcfake.NewTLS(t, testKey, testSecret)
	post := func(body string) (int, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fake.URL+wcfake.APIPrefix+"/coupons", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(testKey, testSecret)
		res, err := fake.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, m
	}
	for _, tt := range []struct{ body, param string }{
		{`{"code":"a","amount":10}`, "amount"},
		{`{"code":"a","amount":"10","discount_type":"free"}`, "discount_type"},
		{`{"code":"a","amount":"10","usage_limit":"1"}`, "usage_limit"},
		{`{"code":"a","amount":"10","individual_use":"no"}`, "individual_use"},
		{`{"code":"a","amount":"10","email_restrictions":"a@b.c"}`, "email_restrictions"},
		{`{"code":"a","amount":"10","date_expires_gmt":"tomorrow"}`, "date_expires_gmt"},
		{`{"code":"a","amount":"10","meta_data":[{"value":1}]}`, "meta_data"},
		{`{"code":5,"amount":"10"}`, "code"},
	} {
		status, m := post(tt.body)
		params, _ := m["data"].(map[string]any)["params"].(map[string]any)
		if status != 400 || m["code"] != "rest_invalid_param" || params[tt.param] == nil {
			t.Errorf("%s: %d %v, want 400 rest_invalid_param on %s", tt.body, status, m, tt.param)
		}
	}
	if status, m := post(`{"amount":"10"}`); status != 400 || m["code"] != "rest_missing_callback_param" {
		t.Errorf("missing code: %d %v", status, m)
	}
	if status, m := post(`{"code":`); status != 400 || m["code"] != "rest_invalid_json" {
		t.Errorf("bad JSON: %d %v", status, m)
	}
	if len(fake.Coupons()) != 0 {
		t.Errorf("bad bodies created coupons: %+v", fake.Coupons())
	}
}
