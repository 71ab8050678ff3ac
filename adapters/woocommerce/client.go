package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// Client defaults.
const (
	// DefaultRequestTimeout bounds one HTTP attempt.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultHTTPTimeout is the overall timeout of the default http.Client,
	// a safety net above the per-attempt timeout.
	DefaultHTTPTimeout = 30 * time.Second
	// MaxAttempts is the number of attempts of one call, retries included.
	MaxAttempts = 3
	// MaxPerPage is the largest page size the WooCommerce REST API accepts.
	MaxPerPage = 100
	// maxRetryAfter is the longest Retry-After the client waits for; a
	// longer one ends the call with the error (the poller tries again on
	// its next run).
	maxRetryAfter = 30 * time.Second
	// maxResponseBytes bounds a response body (100 orders are ~1 MB).
	maxResponseBytes = 32 << 20
	// maxRefundPages bounds the refund pages read for one order.
	maxRefundPages = 50
	// apiPrefix is the REST route prefix below the site URL.
	apiPrefix = "/wp-json/wc/v3"
	// apiRoute is the REST route of the API, also usable as
	// ?rest_route=/wc/v3/... on sites with plain permalinks.
	apiRoute = "/wc/v3"
)

// Route styles of a site's REST API.
const (
	routePretty int32 = iota // {site}/wp-json/wc/v3/...
	routePlain               // {site}/?rest_route=/wc/v3/... (plain permalinks)
)

// routeStyles remembers, per site URL, that /wp-json is not served (plain
// permalinks), so clients created later go straight to ?rest_route=.
var routeStyles sync.Map // base URL string -> int32

// Client is creditbridge's client of one shop's WooCommerce REST API (v3).
// It authenticates with the consumer key and secret as WooCommerce
// documents: over HTTPS by HTTP Basic auth; over plain HTTP (where
// WooCommerce refuses Basic auth, since is_ssl() is false) by one-legged
// OAuth 1.0a, HMAC-SHA256, its parameters in the query string, so the
// secret never travels.
//
// Routes go to {site}/wp-json/wc/v3/... . A site with plain permalinks
// answers those with HTML (a redirect to the home page); the client then
// switches to {site}/?rest_route=/wc/v3/... for the site (remembered for
// later clients). For WooCommerce to authenticate such requests the
// creditbridge plugin must be active (it adds the
// woocommerce_rest_is_request_to_rest_api filter). An answer that is not
// JSON either way is reported as a *NotRESTError, never as a JSON syntax
// error.
//
// Every call is bounded by a per-attempt timeout and retried at most
// MaxAttempts times in all, with exponential backoff and jitter, on network
// errors, 429 and 5xx (a Retry-After header is honoured up to 30 s). A POST
// that creates something (CreateCoupon) is retried only when the request
// cannot have been processed: a connection that was never established, or
// 429. After a timeout or 5xx the coupon may exist, and a blind retry would
// either create a twin or fail on the duplicate code; the caller reconciles
// with GetCouponByCode instead. A Client is safe for concurrent use.
type Client struct {
	base           *url.URL
	key, secret    string
	oauth          bool // plain HTTP: OAuth 1.0a instead of Basic auth
	style          atomic.Int32
	http           *http.Client
	requestTimeout time.Duration
	backoffBase    time.Duration
	backoffMax     time.Duration
	sleepFunc      func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client (its Timeout is the overall bound of
// one attempt, next to the per-request timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRequestTimeout sets the timeout of one HTTP attempt (default 10 s).
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) { c.requestTimeout = d }
}

// WithBackoff sets the first retry delay and its cap (default 500 ms and
// 5 s). The delay doubles per attempt; each wait is drawn uniformly from
// [delay/2, delay].
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(c *Client) { c.backoffBase, c.backoffMax = base, maxDelay }
}

// NewClient returns a client of the shop at baseURL (the WordPress site
// URL, e.g. "https://shop.example.com" or "https://example.com/shop"). An
// https URL uses Basic auth, an http URL OAuth 1.0a (see Client). It
// returns a *core.Error with code core.EINVALID for a malformed URL, a
// scheme other than http or https, or missing credentials.
func NewClient(baseURL, consumerKey, consumerSecret string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, core.Errorf(core.EINVALID, "woocommerce: base URL is not an absolute URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	oauth := false
	switch u.Scheme {
	case "https":
	case "http":
		oauth = true
	default:
		return nil, core.Errorf(core.EINVALID, "woocommerce: base URL scheme %q is not https or http", u.Scheme)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, core.Errorf(core.EINVALID, "woocommerce: base URL must not carry user info, a query or a fragment")
	}
	if consumerKey == "" || consumerSecret == "" {
		return nil, core.Errorf(core.EINVALID, "woocommerce: consumer key and secret are required")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c := &Client{
		base:           u,
		key:            consumerKey,
		secret:         consumerSecret,
		oauth:          oauth,
		requestTimeout: DefaultRequestTimeout,
		backoffBase:    500 * time.Millisecond,
		backoffMax:     5 * time.Second,
		sleepFunc:      sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		// Redirects are not followed: the REST API does not redirect, and
		// WordPress's canonical redirect of /wp-json on a site with plain
		// permalinks is how that case is recognized (a followed redirect
		// would also turn a POST into a GET).
		c.http = &http.Client{Timeout: DefaultHTTPTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.requestTimeout <= 0 {
		c.requestTimeout = DefaultRequestTimeout
	}
	if v, ok := routeStyles.Load(c.base.String()); ok {
		c.style.Store(v.(int32))
	}
	return c, nil
}

// AuthMethod names how the client authenticates: "basic" (https) or
// "oauth1" (http).
func (c *Client) AuthMethod() string {
	if c.oauth {
		return "oauth1"
	}
	return "basic"
}

// PlainPermalinks reports whether the client found that the site serves
// its REST API only as ?rest_route= (plain permalinks).
func (c *Client) PlainPermalinks() bool { return c.style.Load() == routePlain }

// NotRESTError is an answer that is not the REST API's JSON: the site
// answered HTML (or nothing) at both /wp-json/wc/v3 and ?rest_route=/wc/v3.
type NotRESTError struct {
	Method      string
	Path        string // route below /wc/v3, without the query
	Status      int
	ContentType string
}

func (e *NotRESTError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("woocommerce: %s %s: the site answered HTTP %d with %s, not the REST API's JSON, at both /wp-json/wc/v3 and ?rest_route=/wc/v3: "+
		"check the site URL, that WooCommerce and the creditbridge plugin are active, and that no security plugin or server rule blocks the REST API",
		e.Method, e.Path, e.Status, ct)
}

// APIError is a non-2xx answer of the WooCommerce REST API. Code and
// Message are WooCommerce's JSON error fields when the body had them.
type APIError struct {
	Method  string
	Path    string // route below /wp-json/wc/v3, without the query
	Status  int
	Code    string // e.g. "woocommerce_rest_cannot_view", "rest_invalid_param"
	Message string
	Hint    string // what to check, for some answers (401 on Basic auth)
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("woocommerce: %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// IsNotFound reports whether err is a 404 answer of the API.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// ListOrdersModifiedAfter returns one page of the orders modified after
// after (exclusive in WooCommerce), oldest modification first, as raw REST
// order objects for ParseOrder, and the number of pages (X-WP-TotalPages).
// page starts at 1; perPage is 1..100. WooCommerce compares whole seconds
// and "after" is strict, so a poller should move its cursor to the newest
// date_modified_gmt it processed and re-read an overlap of a few seconds
// (snapshots are idempotent).
func (c *Client) ListOrdersModifiedAfter(ctx context.Context, after time.Time, page, perPage int) ([]json.RawMessage, int, error) {
	if page < 1 || perPage < 1 || perPage > MaxPerPage {
		return nil, 0, core.Errorf(core.EINVALID, "woocommerce: page %d / per_page %d out of range", page, perPage)
	}
	q := url.Values{}
	q.Set("modified_after", after.UTC().Format(time.RFC3339))
	q.Set("dates_are_gmt", "true")
	q.Set("orderby", "modified")
	q.Set("order", "asc")
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	var orders []json.RawMessage
	resp, err := c.do(ctx, http.MethodGet, "/orders", q, nil, &orders)
	if err != nil {
		return nil, 0, err
	}
	return orders, totalPages(resp.header, page, len(orders), perPage), nil
}

// GetOrder returns one raw REST order object for ParseOrder. A missing
// order gives an *APIError with Status 404 (see IsNotFound).
func (c *Client) GetOrder(ctx context.Context, id string) (json.RawMessage, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, "/orders/"+id, nil, nil, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// ListRefunds returns all refunds of an order with line detail
// (GET /orders/<id>/refunds, every page), parsed by ParseRefunds.
func (c *Client) ListRefunds(ctx context.Context, orderID string) ([]core.Refund, error) {
	if err := checkID(orderID); err != nil {
		return nil, err
	}
	var all []core.Refund
	for page := 1; page <= maxRefundPages; page++ {
		q := url.Values{}
		q.Set("page", strconv.Itoa(page))
		q.Set("per_page", strconv.Itoa(MaxPerPage))
		var raw json.RawMessage
		resp, err := c.do(ctx, http.MethodGet, "/orders/"+orderID+"/refunds", q, nil, &raw)
		if err != nil {
			return nil, err
		}
		refunds, err := ParseRefunds(raw)
		if err != nil {
			return nil, fmt.Errorf("woocommerce: refunds of order %s: %w", orderID, err)
		}
		all = append(all, refunds...)
		if page >= totalPages(resp.header, page, len(refunds), MaxPerPage) {
			return all, nil
		}
	}
	return nil, fmt.Errorf("woocommerce: order %s has more than %d pages of refunds", orderID, maxRefundPages)
}

// CouponRequest describes a single-use fixed_cart coupon (a voucher).
type CouponRequest struct {
	Code     string
	Currency string          // the shop currency; Amount must fit its scale
	Amount   decimal.Decimal // face value, > 0
	// EmailRestrictions binds the coupon to these billing e-mails (empty:
	// anyone holding the code).
	EmailRestrictions []string
	ExpiresAt         time.Time // zero: never expires
	Description       string
	Meta              map[string]string
}

// Coupon is a WooCommerce coupon as creditbridge reads it.
type Coupon struct {
	ID          string
	Code        string
	Amount      decimal.Decimal
	UsageCount  int
	DateExpires time.Time // zero when the coupon never expires (UTC)
	UsedBy      []string  // user ids or billing e-mails of the orders that used it
}

type couponBody struct {
	Code              string         `json:"code"`
	DiscountType      string         `json:"discount_type"`
	Amount            string         `json:"amount"`
	UsageLimit        int            `json:"usage_limit"`
	UsageLimitPerUser int            `json:"usage_limit_per_user"`
	IndividualUse     bool           `json:"individual_use"`
	EmailRestrictions []string       `json:"email_restrictions"`
	DateExpiresGMT    *string        `json:"date_expires_gmt"`
	Description       string         `json:"description"`
	MetaData          []couponMetaKV `json:"meta_data,omitempty"`
}

type couponMetaKV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type wcCoupon struct {
	ID             json.Number  `json:"id"`
	Code           string       `json:"code"`
	Amount         flexString   `json:"amount"`
	UsageCount     json.Number  `json:"usage_count"`
	DateExpiresGMT flexString   `json:"date_expires_gmt"`
	UsedBy         []flexString `json:"used_by"`
}

// CreateCoupon creates a single-use (usage_limit 1, usage_limit_per_user 1)
// fixed_cart coupon that combines with other coupons (individual_use
// false). See Client for why it is not retried after a 5xx or timeout.
func (c *Client) CreateCoupon(ctx context.Context, req CouponRequest) (Coupon, error) {
	code := strings.TrimSpace(req.Code)
	if code == "" {
		return Coupon{}, core.Errorf(core.EINVALID, "woocommerce: coupon code is empty")
	}
	if !req.Amount.IsPositive() {
		return Coupon{}, core.Errorf(core.EINVALID, "woocommerce: coupon amount must be positive")
	}
	if err := core.CheckScale(req.Currency, req.Amount); err != nil {
		return Coupon{}, err
	}
	body := couponBody{
		Code:              code,
		DiscountType:      "fixed_cart",
		Amount:            core.StringFixedFor(req.Currency, req.Amount),
		UsageLimit:        1,
		UsageLimitPerUser: 1,
		IndividualUse:     false,
		EmailRestrictions: make([]string, 0, len(req.EmailRestrictions)),
		Description:       req.Description,
	}
	for _, e := range req.EmailRestrictions {
		body.EmailRestrictions = append(body.EmailRestrictions, core.NormalizeEmail(e))
	}
	if !req.ExpiresAt.IsZero() {
		s := req.ExpiresAt.UTC().Format(dateLayout)
		body.DateExpiresGMT = &s
	}
	for k, v := range req.Meta {
		body.MetaData = append(body.MetaData, couponMetaKV{Key: k, Value: v})
	}
	// Stable order for reproducible requests.
	sortMeta(body.MetaData)
	buf, err := json.Marshal(body)
	if err != nil {
		return Coupon{}, fmt.Errorf("woocommerce: encode coupon: %w", err)
	}
	var w wcCoupon
	if _, err := c.do(ctx, http.MethodPost, "/coupons", nil, buf, &w); err != nil {
		return Coupon{}, err
	}
	return w.coupon()
}

// GetCouponByCode looks a coupon up by its code (WooCommerce matches codes
// case-insensitively). found is false when no coupon has that code.
func (c *Client) GetCouponByCode(ctx context.Context, code string) (Coupon, bool, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return Coupon{}, false, core.Errorf(core.EINVALID, "woocommerce: coupon code is empty")
	}
	q := url.Values{}
	q.Set("code", code)
	var list []wcCoupon
	if _, err := c.do(ctx, http.MethodGet, "/coupons", q, nil, &list); err != nil {
		return Coupon{}, false, err
	}
	for _, w := range list {
		if strings.EqualFold(w.Code, code) {
			cp, err := w.coupon()
			return cp, err == nil, err
		}
	}
	return Coupon{}, false, nil
}

// DeleteCoupon deletes a coupon permanently (force=true; coupons cannot be
// trashed through the API). Deleting a coupon that is already gone (404)
// succeeds, so the call is idempotent and safe to retry.
func (c *Client) DeleteCoupon(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	q := url.Values{}
	q.Set("force", "true")
	_, err := c.do(ctx, http.MethodDelete, "/coupons/"+id, q, nil, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

func (w wcCoupon) coupon() (Coupon, error) {
	id, err := parseID(w.ID, true)
	if err != nil {
		return Coupon{}, fmt.Errorf("woocommerce: coupon id: %w", err)
	}
	amount, err := parseDecimal(string(w.Amount))
	if err != nil {
		return Coupon{}, fmt.Errorf("woocommerce: coupon %s amount: %w", id, err)
	}
	usage := 0
	if s := w.UsageCount.String(); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return Coupon{}, fmt.Errorf("woocommerce: coupon %s usage_count %q is not a count", id, truncate(s))
		}
		usage = n
	}
	exp, err := parseDate(string(w.DateExpiresGMT))
	if err != nil {
		return Coupon{}, fmt.Errorf("woocommerce: coupon %s date_expires_gmt: %w", id, err)
	}
	cp := Coupon{ID: id, Code: w.Code, Amount: amount, UsageCount: usage, DateExpires: exp}
	for _, u := range w.UsedBy {
		cp.UsedBy = append(cp.UsedBy, string(u))
	}
	return cp, nil
}

func sortMeta(m []couponMetaKV) {
	slices.SortFunc(m, func(a, b couponMetaKV) int { return strings.Compare(a.Key, b.Key) })
}

// checkID refuses anything but a positive decimal id, so an id can never
// change the request path.
func checkID(id string) error {
	if _, err := parseID(json.Number(id), true); err != nil || strings.TrimLeft(id, "0123456789") != "" {
		return core.Errorf(core.EINVALID, "woocommerce: %q is not a valid id", truncate(id))
	}
	return nil
}

// totalPages reads X-WP-TotalPages; without it, a full page suggests one
// more.
func totalPages(h http.Header, page, n, perPage int) int {
	if v, err := strconv.Atoi(h.Get("X-WP-TotalPages")); err == nil && v >= 0 {
		return v
	}
	if n >= perPage {
		return page + 1
	}
	return page
}

type response struct {
	status int
	header http.Header
}

// do sends one API call with retries and decodes a 2xx JSON body into out
// (unless out is nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) (response, error) {
	creates := method == http.MethodPost
	switched := false
	var lastErr error
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		style := c.style.Load()
		resp, payload, err := c.once(ctx, method, path, style, q, body)
		if err == nil && resp.status < 500 && resp.status != http.StatusTooManyRequests && resp.status != http.StatusNoContent && !isJSONAnswer(resp.header, payload) {
			// HTML (or nothing) instead of JSON: not the REST API. With
			// plain permalinks /wp-json is not routed; try ?rest_route=
			// once, without counting an attempt (the request never reached
			// the API, so even a POST is safe to send again).
			nr := &NotRESTError{Method: method, Path: path, Status: resp.status, ContentType: truncateN(resp.header.Get("Content-Type"), 60)}
			if style == routePretty && !switched {
				switched = true
				c.style.Store(routePlain)
				attempt--
				continue
			}
			if switched {
				// Neither style answers JSON: go back to the default.
				c.style.Store(routePretty)
			}
			return resp, nr
		}
		if switched {
			routeStyles.Store(c.base.String(), routePlain)
			switched = false
		}
		if err == nil && resp.status >= 200 && resp.status < 300 {
			if out != nil {
				if err := decodeJSON(payload, out); err != nil {
					return resp, fmt.Errorf("woocommerce: %s %s: decode response: %w", method, path, err)
				}
			}
			return resp, nil
		}
		var wait time.Duration
		haveWait, retry := false, false
		if err != nil {
			if ctx.Err() != nil {
				return resp, fmt.Errorf("woocommerce: %s %s: %w", method, path, ctx.Err())
			}
			lastErr = fmt.Errorf("woocommerce: %s %s: %w", method, path, err)
			retry = !creates || isConnectError(err)
		} else {
			ae := apiError(method, path, resp.status, payload)
			if ae.Status == http.StatusUnauthorized && !c.oauth && ae.Code == "woocommerce_rest_cannot_view" {
				ae.Hint = "WooCommerce accepts Basic auth only when it sees the request as HTTPS (is_ssl()); behind a TLS-terminating proxy, make WordPress see HTTPS"
			}
			lastErr = ae
			switch {
			case resp.status == http.StatusTooManyRequests:
				retry = true
			case resp.status >= 500:
				retry = !creates
			}
			if retry {
				if d, ok := retryAfter(resp.header.Get("Retry-After")); ok {
					if d > maxRetryAfter {
						return resp, lastErr
					}
					wait, haveWait = d, true
				}
			}
		}
		if !retry || attempt == MaxAttempts {
			return resp, lastErr
		}
		if !haveWait {
			wait = c.backoff(attempt)
		}
		if err := c.sleepFunc(ctx, wait); err != nil {
			return response{}, fmt.Errorf("woocommerce: %s %s: %w (after: %w)", method, path, err, lastErr)
		}
	}
	return response{}, lastErr
}

// requestURL builds the URL of route path (below /wc/v3) in a route style,
// with query q plus, over http, the OAuth 1.0a parameters (a fresh nonce
// and timestamp per attempt).
func (c *Client) requestURL(method, path string, style int32, q url.Values) (string, error) {
	u := *c.base
	params := url.Values{}
	for k, v := range q {
		params[k] = slices.Clone(v)
	}
	if style == routePlain {
		// "/" after the site path: WordPress strips the home path including
		// its slash before signing (see oauthBaseURI).
		u.Path = c.base.Path + "/"
		params.Set("rest_route", apiRoute+path)
	} else {
		u.Path = c.base.Path + apiPrefix + path
	}
	if c.oauth {
		if err := signOAuth(method, oauthBaseURI(c.base, u.Path), params, c.key, c.secret, time.Now()); err != nil {
			return "", err
		}
	}
	u.RawQuery = params.Encode()
	return u.String(), nil
}

// once sends one attempt and reads its body.
func (c *Client) once(ctx context.Context, method, path string, style int32, q url.Values, body []byte) (response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	rawURL, err := c.requestURL(method, path, style, q)
	if err != nil {
		return response{}, nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return response{}, nil, err
	}
	if !c.oauth {
		req.SetBasicAuth(c.key, c.secret)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "creditbridge")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		// *url.Error repeats the URL, and over http that carries the OAuth
		// parameters: keep only the cause (callers name method and route).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return response{}, nil, err
	}
	defer res.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	resp := response{status: res.StatusCode, header: res.Header}
	if err != nil {
		return resp, nil, err
	}
	if len(payload) > maxResponseBytes {
		return resp, nil, fmt.Errorf("response body above %d bytes", maxResponseBytes)
	}
	return resp, payload, nil
}

// isJSONAnswer reports whether an answer is the REST API's: a JSON content
// type, or (for servers that omit it) a body that starts like JSON.
// WordPress answers a REST request with application/json, and a page
// (plain permalinks, a maintenance page, a login wall) with text/html.
func isJSONAnswer(h http.Header, body []byte) bool {
	if ct := strings.ToLower(h.Get("Content-Type")); ct != "" {
		return strings.Contains(ct, "json")
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

func decodeJSON(b []byte, out any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(out); err != nil {
		return errors.New(jsonErrorText(err))
	}
	if d.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// apiError reads WooCommerce's {"code","message","data":{"status"}} body.
func apiError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var w struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &w) == nil {
		e.Code = truncateN(w.Code, 100)
		e.Message = truncateN(w.Message, 300)
	}
	return e
}

func truncateN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// isConnectError reports whether the request never reached the server
// (DNS failure, connection refused): then even a POST is safe to repeat.
func isConnectError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// backoff returns the wait before attempt+1: base·2^(attempt-1), capped,
// with jitter drawn from [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	d := c.backoffBase << (attempt - 1)
	if d > c.backoffMax || d <= 0 {
		d = c.backoffMax
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
