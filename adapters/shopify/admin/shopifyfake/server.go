package shopifyfake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// Options configures a fake shop. Zero values get sensible defaults.
type Options struct {
	ShopDomain   string // default "creditbridge-test.myshopify.com"
	ShopName     string // default "Creditbridge Test"
	Currency     string // default "EUR"
	APIVersion   string // default "2026-04" (admin.DefaultAPIVersion; admin's tests check they agree)
	AccessToken  string // a valid Admin API token; default "shpat_fake"
	ClientID     string // default "fake-client-id"
	ClientSecret string // default "fake-client-secret"
	// MaximumAvailable and RestoreRate shape the cost bucket (defaults
	// 2000 and 100, Shopify's standard plan values).
	MaximumAvailable float64
	RestoreRate      float64
	// Functions are the app's Shopify Functions returned by
	// shopifyFunctions.
	Functions []Function
	// AllowInvalidQueries stops the fake from failing the test when a
	// document or its variables do not validate (for tests of error
	// handling). The GraphQL errors are returned either way.
	AllowInvalidQueries bool
}

// Function is a Shopify Function owned by the app.
type Function struct {
	ID      string
	Title   string
	APIType string
	Handle  string // the extension handle, used by functionHandle
}

// Code is a discount code created through discountCodeBasicCreate.
type Code struct {
	ID                     string
	Code                   string
	Title                  string
	CustomerGIDs           []string
	AllCustomers           bool
	Amount                 string
	AppliesOnEachItem      bool
	AllItems               bool
	UsageLimit             int
	AppliesOncePerCustomer bool
	StartsAt               string
	EndsAt                 string
	Status                 string
	UsageCount             int
	CombinesWith           map[string]any
}

// AutomaticDiscount is an automatic app discount created through
// discountAutomaticAppCreate.
type AutomaticDiscount struct {
	ID              string
	Title           string
	FunctionHandle  string
	DiscountClasses []string
	AllBuyers       bool
	StartsAt        string
	CombinesWith    map[string]any
}

// Request records one GraphQL request the fake answered.
type Request struct {
	OperationName string
	RootFields    []string
	Variables     map[string]any
	Status        int
	Throttled     bool
	Errors        []string
}

// Server is the fake shop.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port); use it with
	// admin.WithBaseURL.
	URL string

	tb   testing.TB
	opts Options
	srv  *httptest.Server

	mu            sync.Mutex
	tokens        map[string]bool
	authCodes     map[string]bool
	refreshTokens map[string]bool
	metafields    map[string]map[string]string // owner gid -> ns.key -> value
	codes         map[string]*Code             // upper-case code -> code
	automatic     []AutomaticDiscount
	requests      []Request
	oauthRequests []url.Values
	throttleNext  int
	failNext      []int
	available     float64
	availableAt   time.Time
	nextID        int64
	storeCredit   map[string]map[string]*storeCreditAccount // customer gid -> currency -> account
	orders        map[string]*fakeOrder                     // order gid -> order
	collections   map[string]*fakeCollection                // collection gid -> collection
}

// New starts a fake shop for the duration of tb. It loads the Admin
// schema first, so it skips tb when ../shared is absent.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	AdminSchema(tb)
	if opts.ShopDomain == "" {
		opts.ShopDomain = "creditbridge-test.myshopify.com"
	}
	if opts.ShopName == "" {
		opts.ShopName = "Creditbridge Test"
	}
	if opts.Currency == "" {
		opts.Currency = "EUR"
	}
	if opts.APIVersion == "" {
		opts.APIVersion = "2026-04"
	}
	if opts.AccessToken == "" {
		opts.AccessToken = "shpat_fake"
	}
	if opts.ClientID == "" {
		opts.ClientID = "fake-client-id"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "fake-client-secret"
	}
	if opts.MaximumAvailable <= 0 {
		opts.MaximumAvailable = 2000
	}
	if opts.RestoreRate <= 0 {
		opts.RestoreRate = 100
	}
	s := &Server{
		tb:            tb,
		opts:          opts,
		tokens:        map[string]bool{opts.AccessToken: true},
		authCodes:     map[string]bool{},
		refreshTokens: map[string]bool{},
		metafields:    map[string]map[string]string{},
		codes:         map[string]*Code{},
		storeCredit:   map[string]map[string]*storeCreditAccount{},
		orders:        map[string]*fakeOrder{},
		available:     opts.MaximumAvailable,
		availableAt:   time.Now(),
		nextID:        1000,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/api/{version}/graphql.json", s.serveGraphQL)
	mux.HandleFunc("/admin/oauth/access_token", s.serveToken)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// ShopDomain returns the fake shop's myshopify domain.
func (s *Server) ShopDomain() string { return s.opts.ShopDomain }

// AccessToken returns the preconfigured valid access token.
func (s *Server) AccessToken() string { return s.opts.AccessToken }

// ClientID returns the app's client id.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the app's client secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// APIVersion returns the API version the fake serves.
func (s *Server) APIVersion() string { return s.opts.APIVersion }

// HTTPClient returns a client that sends requests addressed to
// https://{ShopDomain}/… to the fake instead; a request to any other host
// or scheme fails. Use it with the OAuth functions, whose URL is fixed.
func (s *Server) HTTPClient() *http.Client {
	base, _ := url.Parse(s.URL)
	return &http.Client{Timeout: 10 * time.Second, Transport: redirectTransport{shop: s.opts.ShopDomain, to: base, rt: s.srv.Client().Transport}}
}

type redirectTransport struct {
	shop string
	to   *url.URL
	rt   http.RoundTripper
}

func (r redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || req.URL.Host != r.shop {
		return nil, fmt.Errorf("shopifyfake: request to %s://%s, want https://%s", req.URL.Scheme, req.URL.Host, r.shop)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.to.Scheme, r.to.Host, r.shop
	return r.rt.RoundTrip(out)
}

// Throttle makes the next n GraphQL requests fail with a THROTTLED error
// reporting an empty bucket.
func (s *Server) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleNext = n
}

// FailNext makes the next GraphQL requests answer with the given HTTP
// statuses, one per request (e.g. 503, 429).
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, statuses...)
}

// MarkCodeUsed records one use of code (as an order would). It fails the
// test when no such code exists.
func (s *Server) MarkCodeUsed(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[strings.ToUpper(code)]
	if !ok {
		s.tb.Errorf("shopifyfake: MarkCodeUsed: no code %q", code)
		return
	}
	c.UsageCount++
}

// Metafield returns the value of the customer's $app:creditbridge.available
// metafield.
func (s *Server) Metafield(customerGID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.metafields[customerGID]["$app:creditbridge.available"]
	return v, ok
}

// Codes returns copies of all discount codes, sorted by code.
func (s *Server) Codes() []Code {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Code, 0, len(s.codes))
	for _, k := range slices.Sorted(maps.Keys(s.codes)) {
		c := *s.codes[k]
		c.CustomerGIDs = slices.Clone(c.CustomerGIDs)
		out = append(out, c)
	}
	return out
}

// AutomaticDiscounts returns the automatic app discounts created.
func (s *Server) AutomaticDiscounts() []AutomaticDiscount {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.automatic)
}

// Requests returns the GraphQL requests answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// OAuthRequests returns the form bodies posted to the token endpoint.
func (s *Server) OAuthRequests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.oauthRequests)
}

// IssueAuthCode returns a fresh single-use authorization code.
func (s *Server) IssueAuthCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := "code-" + randHex(8)
	s.authCodes[c] = true
	return c
}

// SessionToken mints an App Bridge session token (HS256 JWT signed with
// the client secret) for the shop, valid for a minute.
func (s *Server) SessionToken() string {
	now := time.Now().Unix()
	header := b64(`{"alg":"HS256","typ":"JWT"}`)
	claims, _ := json.Marshal(map[string]any{
		"iss":  "https://" + s.opts.ShopDomain + "/admin",
		"dest": "https://" + s.opts.ShopDomain,
		"aud":  s.opts.ClientID,
		"sub":  "42",
		"exp":  now + 60,
		"nbf":  now - 1,
		"iat":  now,
		"jti":  randHex(8),
		"sid":  randHex(8),
	})
	signing := header + "." + b64(string(claims))
	return signing + "." + sign(s.opts.ClientSecret, signing)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func sign(secret, data string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(data))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) newID(kind string) string {
	s.nextID++
	return "gid://shopify/" + kind + "/" + strconv.FormatInt(s.nextID, 10)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", randHex(8))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---- OAuth ----

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") && !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "unsupported content type"})
		return
	}
	form := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]string
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		for k, v := range m {
			form.Set(k, v)
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return
		}
		form = r.PostForm
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauthRequests = append(s.oauthRequests, form)
	bad := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if form.Get("client_id") != s.opts.ClientID || form.Get("client_secret") != s.opts.ClientSecret {
		bad(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	expiring := form.Get("expiring") == "1"
	switch form.Get("grant_type") {
	case "", "authorization_code":
		code := form.Get("code")
		if !s.authCodes[code] {
			bad(http.StatusBadRequest, "invalid_request", "The authorization code was not found or was already used")
			return
		}
		delete(s.authCodes, code)
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		if form.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token" {
			bad(http.StatusBadRequest, "invalid_request", "subject_token_type must be id_token")
			return
		}
		if rt := form.Get("requested_token_type"); rt != "urn:shopify:params:oauth:token-type:offline-access-token" && rt != "urn:shopify:params:oauth:token-type:online-access-token" {
			bad(http.StatusBadRequest, "invalid_request", "unsupported requested_token_type")
			return
		}
		if !s.validSessionToken(form.Get("subject_token")) {
			bad(http.StatusBadRequest, "invalid_subject_token", "session token is invalid")
			return
		}
	case "refresh_token":
		rt := form.Get("refresh_token")
		if !s.refreshTokens[rt] {
			bad(http.StatusBadRequest, "invalid_grant", "refresh token is invalid or expired")
			return
		}
		delete(s.refreshTokens, rt) // rotation: a refresh token works once
		expiring = true
	default:
		bad(http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
		return
	}
	tok := "shpat_" + randHex(12)
	s.tokens[tok] = true
	resp := map[string]any{"access_token": tok, "scope": "read_orders,read_customers,write_customers,read_discounts,write_discounts," +
		"read_store_credit_accounts,read_store_credit_account_transactions,write_store_credit_account_transactions,read_products"}
	if expiring {
		rt := "shprt_" + randHex(12)
		s.refreshTokens[rt] = true
		resp["expires_in"] = 3600
		resp["refresh_token"] = rt
		resp["refresh_token_expires_in"] = 7776000
	}
	writeJSON(w, http.StatusOK, resp)
}

// validSessionToken checks the HS256 signature, the expiry and the dest
// claim of a session token. Callers hold s.mu.
func (s *Server) validSessionToken(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(sign(s.opts.ClientSecret, parts[0]+"."+parts[1])), []byte(parts[2])) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var c struct {
		Dest string `json:"dest"`
		Aud  string `json:"aud"`
		Exp  int64  `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return false
	}
	return c.Dest == "https://"+s.opts.ShopDomain && c.Aud == s.opts.ClientID && time.Now().Unix() < c.Exp
}

// ---- GraphQL ----

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func (s *Server) costExtension(requested float64, actual *float64) map[string]any {
	return map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested,
		"actualQueryCost":    actual,
		"throttleStatus": map[string]any{
			"maximumAvailable":   s.opts.MaximumAvailable,
			"currentlyAvailable": math.Floor(s.available),
			"restoreRate":        s.opts.RestoreRate,
		},
	}}
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"errors": "method not allowed"})
		return
	}
	if r.PathValue("version") != s.opts.APIVersion {
		writeJSON(w, http.StatusNotFound, map[string]string{"errors": "Not Found"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Request{}
	defer func() { s.requests = append(s.requests, rec) }()
	if len(s.failNext) > 0 {
		rec.Status = s.failNext[0]
		s.failNext = s.failNext[1:]
		if rec.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0.01")
		}
		writeJSON(w, rec.Status, map[string]string{"errors": http.StatusText(rec.Status)})
		return
	}
	if !s.tokens[r.Header.Get("X-Shopify-Access-Token")] {
		rec.Status = http.StatusUnauthorized
		writeJSON(w, rec.Status, map[string]string{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		rec.Status = http.StatusUnsupportedMediaType
		writeJSON(w, rec.Status, map[string]string{"errors": "content type must be application/json"})
		return
	}
	var body struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	// Plain decoding (numbers as float64) on purpose: gqlparser would
	// accept a json.Number where a String is expected. The Admin API's
	// numeric arguments are small Ints; ids are strings.
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		rec.Status = http.StatusBadRequest
		writeJSON(w, rec.Status, map[string]string{"errors": "invalid JSON"})
		return
	}
	rec.Variables = body.Variables
	rec.Status = http.StatusOK
	schema := AdminSchema(s.tb)
	fail := func(requested float64, msgs ...string) {
		rec.Errors = append(rec.Errors, msgs...)
		if !s.opts.AllowInvalidQueries {
			s.tb.Errorf("shopifyfake: invalid request: %v", msgs)
		}
		errs := make([]gqlError, 0, len(msgs))
		for _, m := range msgs {
			errs = append(errs, gqlError{Message: m})
		}
		writeJSON(w, http.StatusOK, map[string]any{"errors": errs, "extensions": s.costExtension(requested, nil)})
	}
	doc, errs := Validate(schema, body.Query)
	if len(errs) > 0 {
		fail(0, ErrorMessages(errs)...)
		return
	}
	op := doc.Operations[0]
	if body.OperationName != "" {
		if op = doc.Operations.ForName(body.OperationName); op == nil {
			fail(0, "unknown operation "+body.OperationName)
			return
		}
	}
	rec.OperationName = op.Name
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			rec.RootFields = append(rec.RootFields, f.Name)
		}
	}
	vars, err := validator.VariableValues(schema, op, body.Variables)
	if err != nil {
		fail(0, err.Error())
		return
	}
	cost := queryCost(op)
	s.refill()
	if s.throttleNext > 0 || s.available < cost {
		ext := s.costExtension(cost, nil)
		if s.throttleNext > 0 {
			// A simulated throttle reports an empty bucket without
			// draining the real one.
			s.throttleNext--
			ext["cost"].(map[string]any)["throttleStatus"].(map[string]any)["currentlyAvailable"] = 0.0
		}
		rec.Throttled = true
		writeJSON(w, http.StatusOK, map[string]any{
			"errors": []gqlError{{Message: "Throttled", Extensions: map[string]any{
				"code":          "THROTTLED",
				"documentation": "https://shopify.dev/api/usage/rate-limits",
			}}},
			"extensions": ext,
		})
		return
	}
	s.available -= cost
	data := map[string]any{}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			s.tb.Errorf("shopifyfake: fragments at the root are not supported")
			continue
		}
		args := f.ArgumentMap(vars)
		if f.Name == "collection" {
			// The products page is an argument of the nested field.
			for _, sub := range f.SelectionSet {
				if pf, ok := sub.(*ast.Field); ok && pf.Name == "products" {
					args["_after"] = pf.ArgumentMap(vars)["after"]
				}
			}
		}
		val := s.resolveRoot(f.Name, args)
		data[f.Alias] = s.project(schema, f, val)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "extensions": s.costExtension(cost, &cost)})
}

// refill restores the bucket at RestoreRate points per second. Callers
// hold s.mu.
func (s *Server) refill() {
	now := time.Now()
	s.available = math.Min(s.opts.MaximumAvailable, s.available+now.Sub(s.availableAt).Seconds()*s.opts.RestoreRate)
	s.availableAt = now
}

// queryCost approximates Shopify's calculated cost: 10 per mutation,
// otherwise 1 per object field.
func queryCost(op *ast.OperationDefinition) float64 {
	if op.Operation == ast.Mutation {
		return 10
	}
	var count func(ast.SelectionSet) float64
	count = func(set ast.SelectionSet) float64 {
		n := 0.0
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				if len(x.SelectionSet) > 0 {
					n += 1 + count(x.SelectionSet)
				}
			case *ast.InlineFragment:
				n += count(x.SelectionSet)
			case *ast.FragmentSpread:
				n += count(x.Definition.SelectionSet)
			}
		}
		return n
	}
	return math.Max(1, count(op.SelectionSet))
}

// project shapes a resolved value by the field's selection set (aliases,
// inline fragments, __typename), like a GraphQL executor. Requested fields
// the fake does not know fail the test.
func (s *Server) project(schema *ast.Schema, f *ast.Field, val any) any {
	if len(f.SelectionSet) == 0 || val == nil {
		return val
	}
	switch v := val.(type) {
	case []map[string]any:
		out := make([]any, 0, len(v))
		for _, o := range v {
			out = append(out, s.projectObject(schema, f.SelectionSet, o))
		}
		return out
	case map[string]any:
		return s.projectObject(schema, f.SelectionSet, v)
	}
	s.tb.Errorf("shopifyfake: field %s has a selection set but resolved to %T", f.Name, val)
	return nil
}

func (s *Server) projectObject(schema *ast.Schema, set ast.SelectionSet, obj map[string]any) map[string]any {
	out := map[string]any{}
	typename, _ := obj["__typename"].(string)
	matches := func(cond string) bool {
		if cond == "" || cond == typename {
			return true
		}
		for _, p := range schema.PossibleTypes[cond] {
			if p.Name == typename {
				return true
			}
		}
		return false
	}
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			if x.Name == "__typename" {
				out[x.Alias] = typename
				continue
			}
			v, ok := obj[x.Name]
			if !ok {
				s.tb.Errorf("shopifyfake: %s.%s is valid but not implemented by the fake", typename, x.Name)
			}
			out[x.Alias] = s.project(schema, x, v)
		case *ast.InlineFragment:
			if matches(x.TypeCondition) {
				maps.Copy(out, s.projectObject(schema, x.SelectionSet, obj))
			}
		case *ast.FragmentSpread:
			if matches(x.Definition.TypeCondition) {
				maps.Copy(out, s.projectObject(schema, x.Definition.SelectionSet, obj))
			}
		}
	}
	return out
}
