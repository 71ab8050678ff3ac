package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// DefaultAPIVersion is the Admin API version the bridge calls and the
// webhook payload version of shopify.app.toml ([webhooks] api_version;
// adapters/shopify/app tests that they agree). Every operation is
// validated against this version's schema (../shared/fixtures/shopify).
// 2026-04 is supported until about April 2027.
const DefaultAPIVersion = "2026-04"

// DefaultScopes are the OAuth scopes the bridge asks for (the same as
// shopify.app.toml's access_scopes; adapters/shopify/app tests it):
// orders and checkouts (webhooks), customers and their credit metafield,
// discounts (voucher codes, the automatic discount), store credit, and
// products (the members of a collection credit rule).
const DefaultScopes = "read_orders,read_customers,write_customers,read_discounts,write_discounts," +
	"read_store_credit_accounts,read_store_credit_account_transactions,write_store_credit_account_transactions,read_products"

const (
	maxAttempts        = 4
	defaultTimeout     = 15 * time.Second
	defaultBaseBackoff = 250 * time.Millisecond
	maxBackoff         = 10 * time.Second
	// defaultCostEstimate is used for a query whose cost was never seen.
	// Shopify charges 10 points per mutation and 1 per object; our
	// operations cost well below 50.
	defaultCostEstimate = 50
	maxResponseBytes    = 8 << 20
)

// Client calls the Admin GraphQL API of one shop. It is safe for
// concurrent use; all calls share one client-side rate-limit bucket.
type Client struct {
	shop     string
	token    string
	version  string
	endpoint string
	http     *http.Client
	timeout  time.Duration
	backoff  time.Duration
	sleep    func(ctx context.Context, d time.Duration) error
	now      func() time.Time

	mu     sync.Mutex
	bucket bucket
	costs  map[string]float64 // last requestedQueryCost per query text
}

// bucket mirrors Shopify's leaky bucket as last reported.
type bucket struct {
	known       bool
	max         float64
	available   float64
	restoreRate float64
	at          time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL replaces https://{shop} (for tests against a fake server).
// The path /admin/api/{version}/graphql.json is appended.
func WithBaseURL(base string) Option {
	return func(c *Client) {
		c.endpoint = strings.TrimRight(base, "/") + "/admin/api/" + c.version + "/graphql.json"
	}
}

// WithHTTPClient sets the HTTP client (default: a client without timeout;
// each attempt has its own timeout, see WithTimeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout sets the timeout of one HTTP attempt (default 15 s).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithBackoff sets the base delay of the exponential retry backoff
// (default 250 ms).
func WithBackoff(d time.Duration) Option { return func(c *Client) { c.backoff = d } }

// WithSleepFunc replaces the context-aware sleep used for throttling and
// backoff (tests record the delays instead of waiting).
func WithSleepFunc(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = f }
}

// WithNowFunc replaces the clock used for the rate-limit bucket.
func WithNowFunc(f func() time.Time) Option { return func(c *Client) { c.now = f } }

// NewClient returns a client for shopDomain (e.g. "example.myshopify.com")
// using accessToken. An empty apiVersion selects DefaultAPIVersion.
func NewClient(shopDomain, accessToken, apiVersion string, opts ...Option) *Client {
	if apiVersion == "" {
		apiVersion = DefaultAPIVersion
	}
	c := &Client{
		shop:    shopDomain,
		token:   accessToken,
		version: apiVersion,
		http:    &http.Client{},
		timeout: defaultTimeout,
		backoff: defaultBaseBackoff,
		sleep:   sleepCtx,
		now:     time.Now,
		costs:   map[string]float64{},
	}
	c.endpoint = "https://" + shopDomain + "/admin/api/" + apiVersion + "/graphql.json"
	for _, o := range opts {
		o(c)
	}
	return c
}

// ShopDomain returns the shop domain the client talks to.
func (c *Client) ShopDomain() string { return c.shop }

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

// ThrottleStatus is Shopify's report of the shop's rate-limit bucket.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// Cost is the extensions.cost object of a response.
type Cost struct {
	RequestedQueryCost float64        `json:"requestedQueryCost"`
	ActualQueryCost    *float64       `json:"actualQueryCost"`
	ThrottleStatus     ThrottleStatus `json:"throttleStatus"`
}

// GraphQLErrorEntry is one element of a response's errors array.
type GraphQLErrorEntry struct {
	Message string `json:"message"`
	Path    []any  `json:"path,omitempty"`
	// Code is extensions.code (e.g. THROTTLED, ACCESS_DENIED,
	// MAX_COST_EXCEEDED, INTERNAL_SERVER_ERROR).
	Code string `json:"-"`
}

// GraphQLError is returned when a response carries top-level GraphQL
// errors.
type GraphQLError struct {
	Errors    []GraphQLErrorEntry
	RequestID string
}

func (e *GraphQLError) Error() string {
	msgs := make([]string, 0, len(e.Errors))
	for _, x := range e.Errors {
		if x.Code != "" {
			msgs = append(msgs, x.Code+": "+x.Message)
		} else {
			msgs = append(msgs, x.Message)
		}
	}
	s := "shopify admin: graphql errors: " + strings.Join(msgs, "; ")
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// Unwrap maps ACCESS_DENIED to core.EUNAUTHORIZED so callers can branch
// on core.ErrorCode.
func (e *GraphQLError) Unwrap() error {
	for _, x := range e.Errors {
		if x.Code == "ACCESS_DENIED" {
			return core.Errorf(core.EUNAUTHORIZED, "shopify denied access: %s", x.Message)
		}
	}
	return nil
}

// HasCode reports whether any error has extensions.code == code.
func (e *GraphQLError) HasCode(code string) bool {
	for _, x := range e.Errors {
		if x.Code == code {
			return true
		}
	}
	return false
}

// UserError is one element of a mutation payload's userErrors.
type UserError struct {
	Field   []string `json:"field"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
}

// UserErrors is returned when a mutation answers with userErrors. It
// unwraps to a *core.Error with code core.EINVALID carrying the messages.
type UserErrors struct {
	Mutation string
	Errors   []UserError
}

func (e *UserErrors) messages() string {
	msgs := make([]string, 0, len(e.Errors))
	for _, u := range e.Errors {
		m := u.Message
		if len(u.Field) > 0 {
			m = strings.Join(u.Field, ".") + ": " + m
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

func (e *UserErrors) Error() string {
	return "shopify admin: " + e.Mutation + ": " + e.messages()
}

// Unwrap returns the equivalent *core.Error (code EINVALID).
func (e *UserErrors) Unwrap() error {
	return core.Errorf(core.EINVALID, "shopify rejected %s: %s", e.Mutation, e.messages())
}

// HTTPError is returned for a non-2xx HTTP status that is not retried or
// whose retries are exhausted.
type HTTPError struct {
	StatusCode int
	RequestID  string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("shopify admin: http status %d", e.StatusCode)
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// Unwrap maps 401/403 to core.EUNAUTHORIZED and 404 (unknown or
// uninstalled shop) to core.ENOTFOUND.
func (e *HTTPError) Unwrap() error {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return core.Errorf(core.EUNAUTHORIZED, "shopify rejected the access token (status %d)", e.StatusCode)
	case http.StatusNotFound:
		return core.Errorf(core.ENOTFOUND, "shop not found")
	}
	return nil
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

type rawError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []rawError      `json:"errors"`
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

// Do sends one GraphQL operation and decodes its data into out (which may
// be nil). It throttles, retries and turns GraphQL errors and mutation
// userErrors into typed errors (see the package doc).
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(gqlRequest{Query: query, Variables: vars})
	if err != nil {
		return fmt.Errorf("shopify admin: encode request: %w", err)
	}
	mutation := isMutation(query)
	retryUnsafe := !mutation || idempotentQuery(query)
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, c.backoffFor(attempt, lastErr)); err != nil {
				return fmt.Errorf("shopify admin: %w (last error: %w)", err, lastErr)
			}
		}
		if err := c.waitForBudget(ctx, query); err != nil {
			return fmt.Errorf("shopify admin: waiting for rate-limit budget: %w", err)
		}
		resp, reqID, status, err := c.send(ctx, body)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("shopify admin: %w", err)
			}
			lastErr = err
			if retryUnsafe {
				continue
			}
			return err
		case status == http.StatusTooManyRequests:
			lastErr = &retryAfterError{HTTPError{StatusCode: status, RequestID: reqID}, resp.retryAfter}
			continue
		case status >= 500:
			lastErr = &HTTPError{StatusCode: status, RequestID: reqID}
			if retryUnsafe {
				continue
			}
			return lastErr
		case status < 200 || status > 299:
			return &HTTPError{StatusCode: status, RequestID: reqID}
		}
		if cost := resp.body.Extensions.Cost; cost != nil {
			c.observe(query, *cost)
		}
		if len(resp.body.Errors) > 0 {
			gerr := &GraphQLError{RequestID: reqID}
			for _, e := range resp.body.Errors {
				gerr.Errors = append(gerr.Errors, GraphQLErrorEntry{Message: e.Message, Path: e.Path, Code: e.Extensions.Code})
			}
			if gerr.HasCode("THROTTLED") {
				lastErr = gerr
				continue
			}
			return gerr
		}
		if err := checkUserErrors(resp.body.Data); err != nil {
			return err
		}
		if out != nil {
			if len(resp.body.Data) == 0 || string(resp.body.Data) == "null" {
				return fmt.Errorf("shopify admin: response without data (request %s)", reqID)
			}
			dec := json.NewDecoder(bytes.NewReader(resp.body.Data))
			dec.UseNumber()
			if err := dec.Decode(out); err != nil {
				return fmt.Errorf("shopify admin: decode data: %w", err)
			}
		}
		return nil
	}
	var ra *retryAfterError
	if errors.As(lastErr, &ra) {
		return &ra.HTTPError
	}
	return fmt.Errorf("shopify admin: giving up after %d attempts: %w", maxAttempts, lastErr)
}

type retryAfterError struct {
	HTTPError
	after time.Duration
}

type sendResult struct {
	body       gqlResponse
	retryAfter time.Duration
}

func (c *Client) send(ctx context.Context, body []byte) (sendResult, string, int, error) {
	var res sendResult
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return res, "", 0, fmt.Errorf("shopify admin: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return res, "", 0, fmt.Errorf("shopify admin: post graphql: %w", err)
	}
	defer resp.Body.Close()
	reqID := resp.Header.Get("X-Request-Id")
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.ParseFloat(s, 64); err == nil && secs > 0 {
			res.retryAfter = time.Duration(secs * float64(time.Second))
		}
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return res, reqID, 0, fmt.Errorf("shopify admin: read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, reqID, resp.StatusCode, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&res.body); err != nil {
		return res, reqID, 0, fmt.Errorf("shopify admin: decode response (status %d): %w", resp.StatusCode, err)
	}
	return res, reqID, resp.StatusCode, nil
}

// backoffFor returns the delay before attempt (1-based retry number).
// THROTTLED waits for the bucket to refill (handled by waitForBudget, so
// only a short jitter here); 429 honours Retry-After; everything else uses
// exponential backoff with full jitter.
func (c *Client) backoffFor(attempt int, lastErr error) time.Duration {
	var ra *retryAfterError
	if errors.As(lastErr, &ra) && ra.after > 0 {
		return min(ra.after, maxBackoff) + jitter(c.backoff)
	}
	var gerr *GraphQLError
	if errors.As(lastErr, &gerr) && gerr.HasCode("THROTTLED") {
		return jitter(c.backoff)
	}
	d := c.backoff << (attempt - 1)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	return d/2 + jitter(d/2)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// estimate returns the expected cost of query.
func (c *Client) estimate(query string) float64 {
	if v, ok := c.costs[query]; ok && v > 0 {
		return v
	}
	return defaultCostEstimate
}

// waitForBudget sleeps until the bucket (as last reported, refilled at
// restoreRate since then) holds the estimated cost of query, and reserves
// that cost so concurrent callers queue up instead of bursting.
func (c *Client) waitForBudget(ctx context.Context, query string) error {
	c.mu.Lock()
	if !c.bucket.known || c.bucket.restoreRate <= 0 {
		c.mu.Unlock()
		return nil
	}
	now := c.now()
	est := math.Min(c.estimate(query), c.bucket.max)
	avail := c.bucket.available + now.Sub(c.bucket.at).Seconds()*c.bucket.restoreRate
	avail = math.Min(avail, c.bucket.max)
	var wait time.Duration
	if avail < est {
		wait = time.Duration((est - avail) / c.bucket.restoreRate * float64(time.Second))
	}
	c.bucket.available = avail - est
	c.bucket.at = now
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return c.sleep(ctx, wait)
}

// observe records the throttle status and the requested cost of a
// response.
func (c *Client) observe(query string, cost Cost) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := cost.ThrottleStatus
	if ts.MaximumAvailable > 0 {
		c.bucket = bucket{
			known:       true,
			max:         ts.MaximumAvailable,
			available:   ts.CurrentlyAvailable,
			restoreRate: ts.RestoreRate,
			at:          c.now(),
		}
	}
	if cost.RequestedQueryCost > 0 {
		c.costs[query] = cost.RequestedQueryCost
	}
}

// Throttle returns the last reported bucket state (zero before the first
// response).
func (c *Client) Throttle() ThrottleStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ThrottleStatus{MaximumAvailable: c.bucket.max, CurrentlyAvailable: c.bucket.available, RestoreRate: c.bucket.restoreRate}
}

// isMutation reports whether the document's first operation is a mutation.
func isMutation(query string) bool {
	q := strings.TrimSpace(stripComments(query))
	return strings.HasPrefix(q, "mutation")
}

func stripComments(q string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(q, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// checkUserErrors returns *UserErrors when a root field of data has a
// non-empty userErrors list.
func checkUserErrors(data json.RawMessage) error {
	if len(data) == 0 || data[0] != '{' {
		return nil
	}
	var roots map[string]json.RawMessage
	if err := json.Unmarshal(data, &roots); err != nil {
		return fmt.Errorf("shopify admin: decode data: %w", err)
	}
	for name, raw := range roots {
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		var p struct {
			UserErrors []UserError `json:"userErrors"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			continue
		}
		if len(p.UserErrors) > 0 {
			return &UserErrors{Mutation: name, Errors: p.UserErrors}
		}
	}
	return nil
}
