// Package wcfake is an in-memory fake of the WooCommerce REST API v3 for
// tests. It serves the routes creditbridge uses (orders, order refunds,
// coupons) with the response shapes of the official REST API docs,
// authenticates as WooCommerce does and checks request bodies against the
// documented schema, so a client that sends a wrong type fails here as it
// would on a real shop. Import it only from _test.go files.
//
// Authentication follows WC_REST_Authentication: Basic auth only over
// HTTPS (NewTLS); over plain HTTP (New) only one-legged OAuth 1.0a with the
// parameters in the query string, HMAC-SHA1 or HMAC-SHA256, the signature
// recomputed the way WooCommerce does, the timestamp within 15 minutes and
// each nonce used once. SetPlainPermalinks makes /wp-json answer like a
// WordPress site with plain permalinks (a redirect to an HTML page), with
// the API served at ?rest_route=/wc/v3/... only.
package wcfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// APIPrefix is the route prefix of the WooCommerce REST API v3.
const APIPrefix = "/wp-json/wc/v3"

// dateLayout is the layout of the REST API's dates.
const dateLayout = "2006-01-02T15:04:05"

// Server is a fake WooCommerce shop. Its zero value is not usable; call New.
type Server struct {
	// URL is the site URL to pass to woocommerce.NewClient.
	URL string

	tb          testing.TB
	srv         *httptest.Server
	key, secret string
	tls         bool

	mu       sync.Mutex
	plain    bool             // plain permalinks: /wp-json is not routed
	nonces   map[string]int64 // OAuth nonces seen -> timestamp
	now      func() time.Time
	orders   map[int64]map[string]any
	refunds  map[int64][]map[string]any
	coupons  map[int64]*Coupon
	nextID   int64
	requests []Request
	failures []failure
}

// Request is one request the server received (recorded before auth and
// failure injection, so retries show up as repeated requests).
type Request struct {
	Method string
	Path   string // full path, e.g. /wp-json/wc/v3/orders, or / for ?rest_route=
	Route  string // REST route, e.g. /wc/v3/orders ("" when not a REST request)
	Query  string // query without rest_route and the OAuth parameters, encoded with sorted keys
	Auth   string // "basic" or "oauth1" when credentials were sent, else ""
	Body   []byte
}

// Coupon is the fake's record of a coupon.
type Coupon struct {
	ID                int64
	Code              string
	Amount            string // as WooCommerce formats it, e.g. "10.00"
	DiscountType      string
	Description       string
	UsageLimit        *int64
	UsageLimitPerUser *int64
	IndividualUse     bool
	EmailRestrictions []string
	DateExpiresGMT    string // "" when it never expires
	DateCreatedGMT    string
	UsageCount        int
	UsedBy            []string
	Meta              map[string]any
}

type failure struct {
	status     int
	retryAfter string
	drop       bool
}

// New starts a fake shop that accepts the given API credentials. It is
// closed when the test ends.
// The shop is served over plain HTTP, so it accepts OAuth 1.0a only.
func New(tb testing.TB, consumerKey, consumerSecret string) *Server {
	tb.Helper()
	s := newServer(tb, consumerKey, consumerSecret)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// NewTLS starts a fake shop served over HTTPS, where WooCommerce accepts
// Basic auth (and OAuth 1.0a). Use Client for a client that trusts it.
func NewTLS(tb testing.TB, consumerKey, consumerSecret string) *Server {
	tb.Helper()
	s := newServer(tb, consumerKey, consumerSecret)
	s.tls = true
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

func newServer(tb testing.TB, key, secret string) *Server {
	return &Server{
		tb:      tb,
		key:     key,
		secret:  secret,
		orders:  map[int64]map[string]any{},
		refunds: map[int64][]map[string]any{},
		coupons: map[int64]*Coupon{},
		nonces:  map[string]int64{},
		now:     time.Now,
		nextID:  5000,
	}
}

// Client returns an http.Client that trusts the server (NewTLS) and, like
// the woocommerce client, does not follow redirects.
func (s *Server) Client() *http.Client {
	c := s.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// SetPlainPermalinks switches the site to plain permalinks (true) or back
// to pretty ones.
func (s *Server) SetPlainPermalinks(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plain = on
}

// SetClock replaces the server clock used to check OAuth timestamps.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// PutOrder stores (or replaces) an order given as a REST order object. Its
// "id" must be an integer; list filtering uses "date_modified_gmt".
// Numbers are kept as their JSON text, so ids above 2^53 survive.
func (s *Server) PutOrder(order []byte) {
	s.tb.Helper()
	m, err := decodeObject(order)
	if err != nil {
		s.tb.Fatalf("wcfake: PutOrder: %v", err)
		return
	}
	id, ok := intField(m, "id")
	if !ok || id <= 0 {
		s.tb.Fatalf("wcfake: PutOrder: order has no integer id")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[id] = m
}

// PutOrderObject stores an order given as a map (see PutOrder).
func (s *Server) PutOrderObject(order map[string]any) {
	s.tb.Helper()
	b, err := json.Marshal(order)
	if err != nil {
		s.tb.Fatalf("wcfake: PutOrderObject: %v", err)
		return
	}
	s.PutOrder(b)
}

// AddRefund adds a refund object (the shape of GET /orders/<id>/refunds)
// to an order, replacing a refund with the same id. When the order is
// stored, its "refunds" summary gets {id, reason, total: -amount} as
// WooCommerce shows it.
func (s *Server) AddRefund(orderID int64, refund []byte) {
	s.tb.Helper()
	m, err := decodeObject(refund)
	if err != nil {
		s.tb.Fatalf("wcfake: AddRefund: %v", err)
		return
	}
	rid, ok := intField(m, "id")
	if !ok {
		s.tb.Fatalf("wcfake: AddRefund: refund has no integer id")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := slices.DeleteFunc(s.refunds[orderID], func(r map[string]any) bool {
		id, _ := intField(r, "id")
		return id == rid
	})
	s.refunds[orderID] = append(list, m)
	order, ok := s.orders[orderID]
	if !ok {
		return
	}
	amount, _ := m["amount"].(string)
	reason, _ := m["reason"].(string)
	summary := map[string]any{"id": json.Number(strconv.FormatInt(rid, 10)), "reason": reason, "total": "-" + amount}
	var refunds []any
	if old, ok := order["refunds"].([]any); ok {
		for _, r := range old {
			if rm, ok := r.(map[string]any); ok {
				if id, _ := intField(rm, "id"); id == rid {
					continue
				}
			}
			refunds = append(refunds, r)
		}
	}
	order["refunds"] = append(refunds, summary)
}

// MarkCouponUsed records that an order by byEmail used the coupon with
// code, as WooCommerce does when such an order is placed.
func (s *Server) MarkCouponUsed(code, byEmail string) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.coupons {
		if strings.EqualFold(c.Code, code) {
			c.UsageCount++
			c.UsedBy = append(c.UsedBy, byEmail)
			return
		}
	}
	s.tb.Errorf("wcfake: MarkCouponUsed: no coupon %q", code)
}

// Coupons returns copies of the stored coupons, by id.
func (s *Server) Coupons() []Coupon {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Coupon, 0, len(s.coupons))
	for _, c := range s.coupons {
		cp := *c
		cp.EmailRestrictions = slices.Clone(c.EmailRestrictions)
		cp.UsedBy = slices.Clone(c.UsedBy)
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b Coupon) int { return int(a.ID - b.ID) })
	return out
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// FailNext makes the next n requests fail with status and a WooCommerce
// style error body, before auth is checked.
func (s *Server) FailNext(n, status int) { s.FailNextRetryAfter(n, status, "") }

// FailNextRetryAfter is FailNext with a Retry-After header on each failure.
func (s *Server) FailNextRetryAfter(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status: status, retryAfter: retryAfter})
	}
}

// DropNext makes the next n requests end with the connection closed after
// the request was read and before any answer (a network error at the
// client after the request may have been processed).
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{drop: true})
	}
}

// route returns the REST route of a request ("" when it is not one) as
// WordPress routes it: ?rest_route= always, /wp-json/... only with pretty
// permalinks.
func (s *Server) route(r *http.Request, plain bool) string {
	if rr := r.URL.Query().Get("rest_route"); rr != "" {
		return rr
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/wp-json"); ok && !plain && strings.HasPrefix(rest, "/") {
		return rest
	}
	return ""
}

// recordedQuery drops rest_route and the OAuth parameters.
func recordedQuery(q url.Values) string {
	out := url.Values{}
	for k, v := range q {
		if k != "rest_route" && !strings.HasPrefix(k, "oauth_") {
			out[k] = v
		}
	}
	return out.Encode()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	q := r.URL.Query()
	auth := ""
	if _, _, ok := r.BasicAuth(); ok {
		auth = "basic"
	}
	if q.Get("oauth_signature") != "" || q.Get("oauth_consumer_key") != "" {
		auth = "oauth1"
	}
	s.mu.Lock()
	plain := s.plain
	route := s.route(r, plain)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Route: route, Query: recordedQuery(q), Auth: auth, Body: body})
	var f *failure
	if len(s.failures) > 0 {
		f = &s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()

	if f != nil {
		if f.drop {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		writeError(w, f.status, "wcfake_injected_failure", "Injected failure.", nil)
		return
	}
	if route == "" {
		s.servePage(w, r, plain)
		return
	}
	if !s.authenticate(w, r) {
		return
	}
	rest, ok := strings.CutPrefix(route, "/wc/v3")
	if !ok {
		noRoute(w)
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "orders" && r.Method == http.MethodGet:
		s.listOrders(w, r)
	case len(parts) == 2 && parts[0] == "orders" && r.Method == http.MethodGet:
		s.getOrder(w, parts[1])
	case len(parts) == 3 && parts[0] == "orders" && parts[2] == "refunds" && r.Method == http.MethodGet:
		s.listRefunds(w, r, parts[1])
	case len(parts) == 1 && parts[0] == "coupons" && r.Method == http.MethodPost:
		s.createCoupon(w, body)
	case len(parts) == 1 && parts[0] == "coupons" && r.Method == http.MethodGet:
		s.listCoupons(w, r)
	case len(parts) == 2 && parts[0] == "coupons" && r.Method == http.MethodGet:
		s.getCoupon(w, parts[1])
	case len(parts) == 2 && parts[0] == "coupons" && r.Method == http.MethodDelete:
		s.deleteCoupon(w, r, parts[1])
	default:
		noRoute(w)
	}
}

// servePage answers a request that WordPress does not route to the REST
// API: with plain permalinks, /wp-json/... gets the canonical redirect to
// the same path with a trailing slash, and every other path the home page.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, plain bool) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	if plain && strings.HasPrefix(r.URL.Path, "/wp-json/") && !strings.HasSuffix(r.URL.Path, "/") {
		u := *r.URL
		u.Path += "/"
		w.Header().Set("Location", s.URL+u.RequestURI())
		w.Header().Set("X-Redirect-By", "WordPress")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html lang=\"en-US\"><head><title>Shop</title></head><body>Home</body></html>\n")
}

// authenticate checks the request's credentials the way
// WC_REST_Authentication does and writes the error answer when they fail.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	if s.tls {
		// perform_basic_authentication: only when is_ssl(); an unknown key
		// falls through to OAuth, a wrong secret is an error.
		if user, pass, ok := r.BasicAuth(); ok && user != "" && pass != "" && user == s.key {
			if subtle.ConstantTimeCompare([]byte(pass), []byte(s.secret)) != 1 {
				writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "Consumer secret is invalid.", nil)
				return false
			}
			return true
		}
	}
	q := r.URL.Query()
	names := []string{"oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method"}
	var missing []string
	for _, n := range names {
		if q.Get(n) == "" {
			missing = append(missing, n)
		}
	}
	switch {
	case len(missing) == len(names):
		// No credentials WooCommerce can use (Basic auth over http is
		// ignored): the request runs as a visitor.
		writeError(w, http.StatusUnauthorized, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", nil)
		return false
	case len(missing) > 0:
		writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_missing_parameter", "Missing OAuth parameters "+strings.Join(missing, ", "), nil)
		return false
	}
	if q.Get("oauth_consumer_key") != s.key {
		writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "Consumer key is invalid.", nil)
		return false
	}
	if msg := s.checkSignature(r, q); msg != "" {
		writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", msg, nil)
		return false
	}
	ts, _ := strconv.ParseInt(q.Get("oauth_timestamp"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix()
	if ts < now-15*60 || ts > now+15*60 {
		writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "Invalid timestamp.", nil)
		return false
	}
	nonce := q.Get("oauth_nonce")
	if _, used := s.nonces[nonce]; used {
		writeError(w, http.StatusUnauthorized, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.", nil)
		return false
	}
	s.nonces[nonce] = ts
	return true
}

// checkSignature follows check_oauth_signature step by step; it returns
// WooCommerce's message on failure, "" when the signature matches.
func (s *Server) checkSignature(r *http.Request, q url.Values) string {
	// $request_path below the home path; base URI in the scheme WordPress
	// sees (is_ssl()).
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	requestPath := strings.TrimPrefix(r.URL.Path, "/")
	home := scheme + "://" + r.Host
	base := home
	if requestPath != "" {
		base += "/" + requestPath
	}
	// $_GET: one value per key (the last).
	params := map[string]string{}
	for k, v := range q {
		params[k] = v[len(v)-1]
	}
	consumer := params["oauth_signature"]
	delete(params, "oauth_signature")
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, phpRawURLEncode(phpRawURLEncode(k)+"="+phpRawURLEncode(params[k])))
	}
	toSign := r.Method + "&" + phpRawURLEncode(base) + "&" + strings.Join(pairs, "%26")
	var h func() hash.Hash
	switch params["oauth_signature_method"] {
	case "HMAC-SHA1":
		h = sha1.New
	case "HMAC-SHA256":
		h = sha256.New
	default:
		return "Invalid signature - signature method is invalid."
	}
	m := hmac.New(h, []byte(s.secret+"&"))
	m.Write([]byte(toSign))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(consumer)) != 1 {
		return "Invalid signature - provided signature does not match."
	}
	return ""
}

// phpRawURLEncode is PHP's rawurlencode, written independently of the
// client's encoder so a mistake there is not mirrored here.
func phpRawURLEncode(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage, ok := pagination(w, q)
	if !ok {
		return
	}
	var after time.Time
	if v := q.Get("modified_after"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			invalidParam(w, "modified_after", "Invalid date.")
			return
		}
		after = t.UTC()
	}
	orderby := q.Get("orderby")
	if orderby == "" {
		orderby = "date"
	}
	if !slices.Contains([]string{"date", "id", "modified"}, orderby) {
		invalidParam(w, "orderby", "orderby is not one of date, id, include, title, slug, modified.")
		return
	}
	desc := q.Get("order") != "asc"
	if v := q.Get("order"); v != "" && v != "asc" && v != "desc" {
		invalidParam(w, "order", "order is not one of asc and desc.")
		return
	}

	type row struct {
		id       int64
		created  time.Time
		modified time.Time
		obj      map[string]any
	}
	s.mu.Lock()
	var rows []row
	for id, o := range s.orders {
		created := dateField(o, "date_created_gmt")
		modified := dateField(o, "date_modified_gmt")
		// WooCommerce's "after" is exclusive.
		if !after.IsZero() && !modified.After(after) {
			continue
		}
		rows = append(rows, row{id, created, modified, o})
	}
	slices.SortFunc(rows, func(a, b row) int {
		var c int
		switch orderby {
		case "modified":
			c = a.modified.Compare(b.modified)
		case "date":
			c = a.created.Compare(b.created)
		}
		if c == 0 {
			c = cmpInt(a.id, b.id)
		}
		if desc {
			c = -c
		}
		return c
	})
	objs := make([]any, len(rows))
	for i, rw := range rows {
		objs[i] = rw.obj
	}
	pageObjs := paginate(w, objs, page, perPage)
	b, err := json.Marshal(pageObjs)
	s.mu.Unlock()
	writeRaw(w, http.StatusOK, b, err)
}

func (s *Server) getOrder(w http.ResponseWriter, idText string) {
	id, err := strconv.ParseInt(idText, 10, 64)
	s.mu.Lock()
	o, ok := s.orders[id]
	var b []byte
	if ok {
		b, err = json.Marshal(o)
	}
	s.mu.Unlock()
	if err != nil || !ok {
		writeError(w, http.StatusNotFound, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.", nil)
		return
	}
	writeRaw(w, http.StatusOK, b, nil)
}

func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request, idText string) {
	page, perPage, ok := pagination(w, r.URL.Query())
	if !ok {
		return
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	s.mu.Lock()
	_, known := s.orders[id]
	refunds := s.refunds[id]
	if err != nil || (!known && len(refunds) == 0) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "woocommerce_rest_invalid_order_id", "Invalid order ID.", nil)
		return
	}
	// Newest first, as WooCommerce lists them.
	objs := make([]any, 0, len(refunds))
	for i := len(refunds) - 1; i >= 0; i-- {
		objs = append(objs, refunds[i])
	}
	b, err := json.Marshal(paginate(w, objs, page, perPage))
	s.mu.Unlock()
	writeRaw(w, http.StatusOK, b, err)
}

var discountTypes = []string{"percent", "fixed_cart", "fixed_product"}

// createCoupon validates the body against the documented coupon schema
// (wp-api-v3 _coupons.md, "Coupon properties") and creates the coupon.
func (s *Server) createCoupon(w http.ResponseWriter, body []byte) {
	m, err := decodeObject(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.", nil)
		return
	}
	bad := map[string]string{}
	c := &Coupon{DiscountType: "fixed_cart", Meta: map[string]any{}}
	code, ok := m["code"]
	if !ok {
		writeError(w, http.StatusBadRequest, "rest_missing_callback_param", "Missing parameter(s): code", map[string]any{"params": []string{"code"}})
		return
	}
	if v, ok := code.(string); ok && strings.TrimSpace(v) != "" {
		// wc_format_coupon_code lower-cases codes.
		c.Code = strings.ToLower(strings.TrimSpace(v))
	} else {
		bad["code"] = "code is not of type string."
	}
	for k, v := range m {
		switch k {
		case "code":
		case "discount_type":
			if sv, ok := v.(string); !ok || !slices.Contains(discountTypes, sv) {
				bad[k] = "discount_type is not one of percent, fixed_cart, and fixed_product."
			} else {
				c.DiscountType = sv
			}
		case "amount", "minimum_amount", "maximum_amount":
			sv, ok := v.(string)
			if !ok {
				bad[k] = k + " is not of type string."
				continue
			}
			d, err := decimal.NewFromString(sv)
			if err != nil {
				bad[k] = k + " is not a decimal."
				continue
			}
			if k == "amount" {
				c.Amount = d.StringFixed(2)
			}
		case "usage_limit", "usage_limit_per_user", "limit_usage_to_x_items":
			if v == nil {
				continue
			}
			n, ok := v.(json.Number)
			iv, err := strconv.ParseInt(n.String(), 10, 64)
			if !ok || err != nil {
				bad[k] = k + " is not of type integer,null."
				continue
			}
			switch k {
			case "usage_limit":
				c.UsageLimit = &iv
			case "usage_limit_per_user":
				c.UsageLimitPerUser = &iv
			}
		case "individual_use", "free_shipping", "exclude_sale_items":
			bv, ok := v.(bool)
			if !ok {
				bad[k] = k + " is not of type boolean."
			} else if k == "individual_use" {
				c.IndividualUse = bv
			}
		case "email_restrictions", "used_by":
			list, ok := stringList(v)
			if !ok {
				bad[k] = k + "[0] is not of type string."
			} else if k == "email_restrictions" {
				c.EmailRestrictions = list
			}
		case "product_ids", "excluded_product_ids", "product_categories", "excluded_product_categories":
			arr, ok := v.([]any)
			for _, e := range arr {
				if n, isNum := e.(json.Number); !isNum || !isInt(n) {
					ok = false
				}
			}
			if !ok {
				bad[k] = k + "[0] is not of type integer."
			}
		case "date_expires", "date_expires_gmt":
			if v == nil {
				continue
			}
			sv, ok := v.(string)
			t, err := parseDate(sv)
			if !ok || err != nil {
				bad[k] = "Invalid date."
				continue
			}
			if k == "date_expires_gmt" || c.DateExpiresGMT == "" {
				c.DateExpiresGMT = t.Format(dateLayout)
			}
		case "description":
			sv, ok := v.(string)
			if !ok {
				bad[k] = "description is not of type string."
			} else {
				c.Description = sv
			}
		case "meta_data":
			arr, ok := v.([]any)
			for _, e := range arr {
				em, isObj := e.(map[string]any)
				key, isStr := em["key"].(string)
				if !isObj || !isStr || key == "" {
					ok = false
					break
				}
				c.Meta[key] = em["value"]
			}
			if !ok {
				bad[k] = "meta_data[0][key] is not of type string."
			}
		}
	}
	if len(bad) > 0 {
		names := make([]string, 0, len(bad))
		for k := range bad {
			names = append(names, k)
		}
		slices.Sort(names)
		writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): "+strings.Join(names, ", "), map[string]any{"params": bad})
		return
	}
	if c.Amount == "" {
		c.Amount = "0.00"
	}
	s.mu.Lock()
	for _, other := range s.coupons {
		if other.Code == c.Code {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists", nil)
			return
		}
	}
	s.nextID++
	c.ID = s.nextID
	c.DateCreatedGMT = time.Now().UTC().Format(dateLayout)
	s.coupons[c.ID] = c
	b, err := json.Marshal(couponJSON(c))
	s.mu.Unlock()
	writeRaw(w, http.StatusCreated, b, err)
}

func (s *Server) listCoupons(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage, ok := pagination(w, q)
	if !ok {
		return
	}
	code := strings.ToLower(strings.TrimSpace(q.Get("code")))
	s.mu.Lock()
	var list []*Coupon
	for _, c := range s.coupons {
		if code == "" || c.Code == code {
			list = append(list, c)
		}
	}
	// Newest first (orderby=date, order=desc is the default).
	slices.SortFunc(list, func(a, b *Coupon) int { return cmpInt(b.ID, a.ID) })
	objs := make([]any, len(list))
	for i, c := range list {
		objs[i] = couponJSON(c)
	}
	b, err := json.Marshal(paginate(w, objs, page, perPage))
	s.mu.Unlock()
	writeRaw(w, http.StatusOK, b, err)
}

func (s *Server) getCoupon(w http.ResponseWriter, idText string) {
	id, _ := strconv.ParseInt(idText, 10, 64)
	s.mu.Lock()
	c, ok := s.coupons[id]
	var b []byte
	var err error
	if ok {
		b, err = json.Marshal(couponJSON(c))
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", nil)
		return
	}
	writeRaw(w, http.StatusOK, b, err)
}

func (s *Server) deleteCoupon(w http.ResponseWriter, r *http.Request, idText string) {
	id, _ := strconv.ParseInt(idText, 10, 64)
	force := r.URL.Query().Get("force")
	s.mu.Lock()
	c, ok := s.coupons[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.", nil)
		return
	}
	if force != "true" && force != "1" {
		s.mu.Unlock()
		writeError(w, http.StatusNotImplemented, "woocommerce_rest_trash_not_supported", "The coupon does not support trashing.", nil)
		return
	}
	delete(s.coupons, id)
	b, err := json.Marshal(couponJSON(c))
	s.mu.Unlock()
	writeRaw(w, http.StatusOK, b, err)
}

// couponJSON renders a coupon like coupon-create-response.json.
func couponJSON(c *Coupon) map[string]any {
	var expires, expiresGMT any
	if c.DateExpiresGMT != "" {
		expires, expiresGMT = c.DateExpiresGMT, c.DateExpiresGMT
	}
	meta := []any{}
	keys := make([]string, 0, len(c.Meta))
	for k := range c.Meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		meta = append(meta, map[string]any{"id": c.ID*100 + int64(i), "key": k, "value": c.Meta[k]})
	}
	href := "https://example.com" + APIPrefix + "/coupons"
	return map[string]any{
		"id":                          c.ID,
		"code":                        c.Code,
		"amount":                      c.Amount,
		"date_created":                c.DateCreatedGMT,
		"date_created_gmt":            c.DateCreatedGMT,
		"date_modified":               c.DateCreatedGMT,
		"date_modified_gmt":           c.DateCreatedGMT,
		"discount_type":               c.DiscountType,
		"description":                 c.Description,
		"date_expires":                expires,
		"date_expires_gmt":            expiresGMT,
		"usage_count":                 c.UsageCount,
		"individual_use":              c.IndividualUse,
		"product_ids":                 []int64{},
		"excluded_product_ids":        []int64{},
		"usage_limit":                 c.UsageLimit,
		"usage_limit_per_user":        c.UsageLimitPerUser,
		"limit_usage_to_x_items":      nil,
		"free_shipping":               false,
		"product_categories":          []int64{},
		"excluded_product_categories": []int64{},
		"exclude_sale_items":          false,
		"minimum_amount":              "0.00",
		"maximum_amount":              "0.00",
		"email_restrictions":          nonNil(c.EmailRestrictions),
		"used_by":                     nonNil(c.UsedBy),
		"meta_data":                   meta,
		"_links": map[string]any{
			"self":       []any{map[string]any{"href": fmt.Sprintf("%s/%d", href, c.ID)}},
			"collection": []any{map[string]any{"href": href}},
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pagination reads page and per_page (default 1 and 10, per_page 1..100).
func pagination(w http.ResponseWriter, q map[string][]string) (int, int, bool) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	page, perPage := 1, 10
	if v := get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			invalidParam(w, "page", "page must be greater than or equal to 1")
			return 0, 0, false
		}
		page = n
	}
	if v := get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			invalidParam(w, "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
			return 0, 0, false
		}
		perPage = n
	}
	return page, perPage, true
}

// paginate sets X-WP-Total and X-WP-TotalPages and returns the page.
func paginate(w http.ResponseWriter, all []any, page, perPage int) []any {
	total := len(all)
	pages := (total + perPage - 1) / perPage
	w.Header().Set("X-WP-Total", strconv.Itoa(total))
	w.Header().Set("X-WP-TotalPages", strconv.Itoa(pages))
	start := (page - 1) * perPage
	if start >= total {
		return []any{}
	}
	return all[start:min(start+perPage, total)]
}

func writeRaw(w http.ResponseWriter, status int, b []byte, err error) {
	if err != nil {
		writeError(w, http.StatusInternalServerError, "wcfake_encode", err.Error(), nil)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes WordPress's REST error shape.
func writeError(w http.ResponseWriter, status int, code, message string, extra map[string]any) {
	data := map[string]any{"status": status}
	for k, v := range extra {
		data[k] = v
	}
	b, _ := json.Marshal(map[string]any{"code": code, "message": message, "data": data})
	writeRaw(w, status, b, nil)
}

func invalidParam(w http.ResponseWriter, name, msg string) {
	writeError(w, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): "+name, map[string]any{"params": map[string]string{name: msg}})
}

func noRoute(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.", nil)
}

func decodeObject(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return m, nil
}

func intField(m map[string]any, k string) (int64, bool) {
	n, ok := m[k].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	return v, err == nil
}

func isInt(n json.Number) bool {
	_, err := strconv.ParseInt(n.String(), 10, 64)
	return err == nil
}

func stringList(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func dateField(m map[string]any, k string) time.Time {
	s, _ := m[k].(string)
	t, _ := parseDate(s)
	return t
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(dateLayout, s, time.UTC); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DeleteOrder removes an order (as a permanent deletion does): GET
// /orders/<id> then answers 404.
func (s *Server) DeleteOrder(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.orders, id)
}
