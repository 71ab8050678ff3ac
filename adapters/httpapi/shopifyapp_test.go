package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	cbredis "github.com/creditbridge/creditbridge/adapters/redis"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

const (
	sappPublicURL  = "https://bridge.example.com"
	sappPrevSecret = "previous-client-secret"
	sappFunctionID = "gid://shopify/ShopifyFunction/creditbridge"
)

// sappEnv is a server wired to a fresh PostgreSQL schema and a fake shop.
type sappEnv struct {
	t      *testing.T
	app    *fiber.App
	srv    *Server
	fake   *shopifyfake.Server
	pool   *pgxpool.Pool
	shops  *postgres.ShopStore
	ledger *postgres.LedgerStore
	earner *core.Earner
}

type sappVouchers struct {
	issued []decimal.Decimal
	keys   []string
}

func (v *sappVouchers) Issue(_ context.Context, shop core.Shop, owner core.Owner, cur string, amt decimal.Decimal, key string) (core.Voucher, error) {
	v.issued = append(v.issued, amt)
	v.keys = append(v.keys, key)
	return core.Voucher{ID: int64(len(v.issued)), ShopID: shop.ID, Code: "CB-TEST-" + strconv.Itoa(len(v.issued)), Currency: cur, Owner: owner,
		Amount: amt, Status: core.VoucherIssued, ExpiresAt: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)}, nil
}

func newSappEnv(t *testing.T, vouchers core.VoucherService) *sappEnv {
	t.Helper()
	fake := shopifyfake.New(t, shopifyfake.Options{Functions: []shopifyfake.Function{
		{ID: "gid://shopify/ShopifyFunction/other", Title: "something-else", APIType: "payment_customization"},
		{ID: sappFunctionID, Title: "creditbridge-discount", APIType: "discount", Handle: admin.FunctionHandle},
	}})
	pool := pgtest.NewPool(t, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	redisURL := os.Getenv("TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	rdb, err := cbredis.Open(ctx, redisURL)
	if err != nil {
		t.Fatalf("redis (set TEST_REDIS_URL): %v", err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	key, queue := make([]byte, 32), make([]byte, 8)
	_, _ = rand.Read(key)
	_, _ = rand.Read(queue)
	// The production wiring (internal/wire) on this test's schema and
	// Redis queue, answered through app.Test; no worker runs.
	w := wireForTest(t, WireOptions{Log: slog.New(slog.DiscardHandler), Pool: pool, Redis: rdb, ShopifyHTTPClient: fake.HTTPClient(),
		Config: configs.Config{EncryptionKey: hex.EncodeToString(key), ShopifyClientID: fake.ClientID(), ShopifySecret: fake.ClientSecret(),
			ShopifySecretPrev: sappPrevSecret, ShopifyAPIVersion: admin.DefaultAPIVersion, ShopifyScopes: admin.DefaultScopes, PublicURL: sappPublicURL,
			Queue: "cbsapp-" + hex.EncodeToString(queue), BodyLimit: 1 << 20, CustomerTokenTTL: 15 * time.Minute, FailedPerIPMinute: 600,
			LedgerCommitters: 2, WorkerConcurrency: 4, ShutdownTimeout: 6 * time.Second}})
	e := &sappEnv{t: t, app: w.App, srv: w.Server, fake: fake, pool: pool, shops: w.Shops, ledger: w.Ledger, earner: w.Earner}
	// The tests record the vouchers the pages issue (nil: none).
	e.srv.deps.Vouchers = vouchers
	return e
}

func (e *sappEnv) do(req *http.Request) *http.Response {
	e.t.Helper()
	resp, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func sappBody(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *sappEnv) get(path string, header ...string) *http.Response {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

// install runs GET /shopify/install and returns the state and the cookie.
func (e *sappEnv) install() (state string, cookie *http.Cookie) {
	e.t.Helper()
	resp := e.get("/shopify/install?shop=" + e.fake.ShopDomain())
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("install: status %d: %s", resp.StatusCode, sappBody(e.t, resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	q := loc.Query()
	if loc.Scheme != "https" || loc.Host != e.fake.ShopDomain() || loc.Path != "/admin/oauth/authorize" ||
		q.Get("client_id") != e.fake.ClientID() || q.Get("redirect_uri") != sappPublicURL+"/shopify/auth/callback" ||
		q.Get("scope") != DefaultShopifyScopes || len(q.Get("state")) != 32 {
		e.t.Fatalf("install redirect = %s", loc)
	}
	for _, c := range resp.Cookies() {
		if c.Name == oauthStateCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || !strings.HasPrefix(cookie.Value, q.Get("state")+".") {
		e.t.Fatalf("state cookie = %+v", cookie)
	}
	return q.Get("state"), cookie
}

func (e *sappEnv) callback(vals url.Values, secret string, cookie *http.Cookie) *http.Response {
	e.t.Helper()
	vals.Set("hmac", shopify.SignOAuthQuery(vals, secret))
	req := httptest.NewRequest(http.MethodGet, "/shopify/callback?"+vals.Encode(), nil)
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	return e.do(req)
}

func (e *sappEnv) callbackValues(state string) url.Values {
	return url.Values{"code": {e.fake.IssueAuthCode()}, "shop": {e.fake.ShopDomain()}, "state": {state},
		"timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "host": {"YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvY3JlZGl0YnJpZGdlLXRlc3Q"}}
}

func wantStatus(t *testing.T, r *http.Response, status int) string {
	t.Helper()
	body := sappBody(t, r)
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, body)
	}
	return body
}

func TestShopifyInstallFlow(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()

	wantStatus(t, e.get("/shopify/install?shop=evil.example.com"), http.StatusBadRequest)
	state, cookie := e.install()

	t.Run("bad hmac", func(t *testing.T) {
		wantStatus(t, e.callback(e.callbackValues(state), "not-the-secret", cookie), http.StatusUnauthorized)
	})
	t.Run("bad state", func(t *testing.T) {
		wantStatus(t, e.callback(e.callbackValues("0123456789abcdef0123456789abcdef"), e.fake.ClientSecret(), cookie), http.StatusUnauthorized)
		wantStatus(t, e.callback(e.callbackValues(state), e.fake.ClientSecret(), nil), http.StatusUnauthorized)
		forged := &http.Cookie{Name: cookie.Name, Value: state + ".00"}
		wantStatus(t, e.callback(e.callbackValues(state), e.fake.ClientSecret(), forged), http.StatusUnauthorized)
	})
	t.Run("bad shop", func(t *testing.T) {
		v := e.callbackValues(state)
		v.Set("shop", "evil.example.com")
		wantStatus(t, e.callback(v, e.fake.ClientSecret(), cookie), http.StatusBadRequest)
	})
	t.Run("stale timestamp", func(t *testing.T) {
		v := e.callbackValues(state)
		v.Set("timestamp", strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10))
		wantStatus(t, e.callback(v, e.fake.ClientSecret(), cookie), http.StatusUnauthorized)
	})
	if _, err := e.shops.ShopByDomain(ctx, core.PlatformShopify, e.fake.ShopDomain()); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("refused callbacks created a shop: %v", err)
	}

	resp := e.callback(e.callbackValues(state), e.fake.ClientSecret(), cookie)
	wantStatus(t, resp, http.StatusFound)
	if got, want := resp.Header.Get("Location"), "https://admin.shopify.com/store/creditbridge-test/apps/"+e.fake.ClientID(); got != want {
		t.Fatalf("callback redirect = %q, want %q", got, want)
	}
	shop, err := e.shops.ShopByDomain(ctx, core.PlatformShopify, e.fake.ShopDomain())
	if err != nil {
		t.Fatal(err)
	}
	sec := shop.Secrets
	if !shop.Active || shop.Currency != "EUR" || shop.Name != "Creditbridge Test" || !strings.HasPrefix(sec.AccessToken, "shpat_") ||
		!strings.HasPrefix(sec.RefreshToken, "shprt_") || sec.CustomerKey == "" || time.Until(sec.TokenExpiresAt) < 50*time.Minute {
		t.Fatalf("stored shop = %+v (token expires %s)", shop, sec.TokenExpiresAt)
	}
	// The token works against the (fake) Admin API.
	if _, err := e.srv.adminClient(shop.Domain, sec.AccessToken).Shop(ctx); err != nil {
		t.Fatalf("stored token does not work: %v", err)
	}
	// Sealed at rest: the column holds neither token in plain text.
	var raw []byte
	if err := e.pool.QueryRow(ctx, `SELECT secrets FROM shops WHERE id = $1`, shop.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{sec.AccessToken, sec.RefreshToken, sec.CustomerKey, "access_token"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("secrets column contains %q in plain text", s)
		}
	}
	// The default mode (store credit) runs no automatic discount.
	if n := len(e.fake.AutomaticDiscounts()); n != 0 {
		t.Fatalf("store credit mode created %d automatic discounts", n)
	}

	// The state cookie was cleared; a replay of the callback (same code)
	// is refused by Shopify.
	var cleared bool
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == oauthStateCookie && c.Value == "")
	}
	if !cleared {
		t.Fatal("state cookie not cleared")
	}

	// Re-authorizing an active shop (signed with the previous secret)
	// stores the new token and creates no discount.
	state2, cookie2 := e.install()
	wantStatus(t, e.callback(e.callbackValues(state2), sappPrevSecret, cookie2), http.StatusFound)
	again, err := e.shops.ShopByDomain(ctx, core.PlatformShopify, e.fake.ShopDomain())
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != shop.ID || again.Secrets.AccessToken == sec.AccessToken || again.Secrets.CustomerKey != sec.CustomerKey {
		t.Fatalf("re-auth: shop %d token changed=%t key kept=%t", again.ID, again.Secrets.AccessToken != sec.AccessToken, again.Secrets.CustomerKey == sec.CustomerKey)
	}
	if n := len(e.fake.AutomaticDiscounts()); n != 0 {
		t.Fatalf("re-auth created a discount: %d", n)
	}

	// A shop in mode function that had uninstalled the app (inactive):
	// the reinstall reactivates it and creates the automatic discount
	// running the Function by its handle, for the ORDER class.
	again.Active = false
	again.Settings.RedemptionMode = core.RedemptionFunction
	if err := e.shops.UpdateShop(ctx, again); err != nil {
		t.Fatal(err)
	}
	state3, cookie3 := e.install()
	wantStatus(t, e.callback(e.callbackValues(state3), e.fake.ClientSecret(), cookie3), http.StatusFound)
	re, err := e.shops.ShopByID(ctx, shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	ds := e.fake.AutomaticDiscounts()
	if !re.Active || len(ds) != 1 {
		t.Fatalf("reinstall: active=%t discounts=%d", re.Active, len(ds))
	}
	if ds[0].FunctionHandle != admin.FunctionHandle || !slices.Equal(ds[0].DiscountClasses, []string{"ORDER"}) || ds[0].Title != "Store credit" || !ds[0].AllBuyers {
		t.Fatalf("automatic discounts = %+v", ds)
	}
	if cb := ds[0].CombinesWith; cb["productDiscounts"] != true || cb["orderDiscounts"] != true || cb["shippingDiscounts"] != true {
		t.Fatalf("combinesWith = %v", cb)
	}
}

func (e *sappEnv) session(token string) *http.Response {
	req := httptest.NewRequest(http.MethodPost, "/shopify/session", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.do(req)
}

type sessionResp struct {
	ShopID    int64  `json:"shop_id"`
	Domain    string `json:"domain"`
	Refreshed bool   `json:"token_refreshed"`
}

func decodeSession(t *testing.T, r *http.Response) sessionResp {
	t.Helper()
	var s sessionResp
	if err := json.Unmarshal([]byte(wantStatus(t, r, http.StatusOK)), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShopifySessionTokenExchange(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()

	wantStatus(t, e.session(""), http.StatusUnauthorized)
	tampered := e.fake.SessionToken()
	tampered = tampered[:len(tampered)-2] + "AA"
	wantStatus(t, e.session(tampered), http.StatusUnauthorized)

	// First open of the embedded app (managed install): the shop is
	// created from the exchanged token.
	s := decodeSession(t, e.session(e.fake.SessionToken()))
	if s.ShopID == 0 || s.Domain != e.fake.ShopDomain() || !s.Refreshed {
		t.Fatalf("session = %+v", s)
	}
	shop, err := e.shops.ShopByID(ctx, s.ShopID)
	if err != nil {
		t.Fatal(err)
	}
	if shop.Secrets.AccessToken == "" || shop.Secrets.RefreshToken == "" || len(e.fake.AutomaticDiscounts()) != 0 {
		t.Fatalf("shop after exchange: token=%t refresh=%t discounts=%d", shop.Secrets.AccessToken != "", shop.Secrets.RefreshToken != "", len(e.fake.AutomaticDiscounts()))
	}
	reqs := e.fake.OAuthRequests()
	if last := reqs[len(reqs)-1]; last.Get("grant_type") != admin.GrantTypeTokenExchange || last.Get("requested_token_type") != admin.TokenTypeOfflineAccess {
		t.Fatalf("token request = %v", last.Get("grant_type"))
	}

	// A valid token needs no exchange.
	n := len(e.fake.OAuthRequests())
	if s2 := decodeSession(t, e.session(e.fake.SessionToken())); s2.ShopID != s.ShopID || s2.Refreshed || len(e.fake.OAuthRequests()) != n {
		t.Fatalf("second session = %+v, oauth requests %d -> %d", s2, n, len(e.fake.OAuthRequests()))
	}

	// A token about to expire is replaced.
	shop.Secrets.TokenExpiresAt = time.Now().Add(time.Minute)
	if err := e.shops.UpdateShop(ctx, shop); err != nil {
		t.Fatal(err)
	}
	if s3 := decodeSession(t, e.session(e.fake.SessionToken())); !s3.Refreshed {
		t.Fatal("expiring token was not exchanged")
	}
	fresh, err := e.shops.ShopByID(ctx, s.ShopID)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Secrets.AccessToken == shop.Secrets.AccessToken || time.Until(fresh.Secrets.TokenExpiresAt) < 50*time.Minute {
		t.Fatal("expiring token not replaced")
	}
	if len(e.fake.AutomaticDiscounts()) != 0 {
		t.Fatal("token refresh created a discount")
	}

	// The session token authorizes the admin API of its own shop only.
	tok := e.fake.SessionToken()
	path := "/api/v1/shops/" + strconv.FormatInt(s.ShopID, 10) + "/rules"
	if body := wantStatus(t, e.get(path, "Authorization", "Bearer "+tok), http.StatusOK); !strings.Contains(body, `"rules":[]`) {
		t.Fatalf("rules = %s", body)
	}
	other, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "other.myshopify.com", Currency: "USD"}, "")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.get("/api/v1/shops/"+strconv.FormatInt(other.ID, 10)+"/rules", "Authorization", "Bearer "+tok), http.StatusNotFound)

	// Re-creating the discount from the settings page.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/shops/"+strconv.FormatInt(s.ShopID, 10)+"/shopify/discount", nil)
	wantStatus(t, e.do(req), http.StatusUnauthorized)
	req = httptest.NewRequest(http.MethodPost, "/api/v1/shops/"+strconv.FormatInt(s.ShopID, 10)+"/shopify/discount", nil)
	req.Header.Set("Authorization", "Bearer "+e.fake.SessionToken())
	wantStatus(t, e.do(req), http.StatusCreated)
	if len(e.fake.AutomaticDiscounts()) != 1 {
		t.Fatal("discount not created")
	}
}

func TestShopifyAppPage(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	wantStatus(t, e.get("/shopify/app?shop=evil.example.com"), http.StatusBadRequest)
	wantStatus(t, e.get(`/shopify/app?shop=x"><script>.myshopify.com`), http.StatusBadRequest)
	resp := e.get("/shopify/app?shop=" + e.fake.ShopDomain() + "&host=abc&embedded=1")
	body := wantStatus(t, resp, http.StatusOK)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://"+e.fake.ShopDomain()+" https://admin.shopify.com") || !strings.Contains(csp, "script-src 'nonce-") {
		t.Fatalf("CSP = %q", csp)
	}
	for _, want := range []string{`<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>`,
		`<meta name="shopify-api-key" content="` + e.fake.ClientID() + `">`, "app.idToken()", `"/shopify/session"`, `<html lang="en">`,
		`<ui-nav-menu>`, `<ui-save-bar id="cb-save-bar">`, `href="/shopify/app/rules">Credit rules</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	_, afterNonce, ok := strings.Cut(csp, "'nonce-")
	if !ok {
		t.Fatalf("CSP has no nonce: %s", csp)
	}
	nonce := strings.Fields(afterNonce)[0]
	if !strings.Contains(body, `<script nonce="`+strings.TrimSuffix(nonce, "'")+`">`) {
		t.Errorf("inline script does not carry the CSP nonce %s", nonce)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("headers = %v", resp.Header)
	}
	// The merchant's admin language (Shopify's ?locale=) picks German; a
	// screen has its own address; an unknown one is 404.
	de := wantStatus(t, e.get("/shopify/admin/settings?shop="+e.fake.ShopDomain()+"&locale=de"), http.StatusOK)
	for _, want := range []string{`<html lang="de">`, `href="/shopify/admin/rules">Guthabenregeln</a>`, `"admin.set.hold_minutes":"Reservierung an der Kasse (Minuten)"`} {
		if !strings.Contains(de, want) {
			t.Errorf("German page lacks %s", want)
		}
	}
	wantStatus(t, e.get("/shopify/admin/nope?shop="+e.fake.ShopDomain()), http.StatusNotFound)
}

// proxyGet signs an app-proxy request as Shopify does.
func (e *sappEnv) proxy(method, path string, vals url.Values, secret string, body io.Reader, contentType string) *http.Response {
	e.t.Helper()
	vals.Set("signature", shopify.SignAppProxy(vals, secret))
	req := httptest.NewRequest(method, path+"?"+vals.Encode(), body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.do(req)
}

func (e *sappEnv) proxyValues(customer string) url.Values {
	return url.Values{"shop": {e.fake.ShopDomain()}, "logged_in_customer_id": {customer}, "path_prefix": {"/apps/credit"},
		"timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}}
}

func (e *sappEnv) adjust(shop core.Shop, customer, key, amount, note string) {
	e.t.Helper()
	amt := decimal.RequireFromString(amount)
	_, err := e.ledger.Post(context.Background(), core.Transaction{ShopID: shop.ID, Key: "adjust:" + key,
		Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "test", Note: note},
		Postings: []core.Posting{
			{Currency: shop.Currency, Owner: core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(customer)}, Bucket: core.BucketAvailable, Amount: amt},
			{Currency: shop.Currency, Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: amt.Neg()},
		}})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestAppProxyStatement(t *testing.T) {
	t.Parallel()
	vouchers := &sappVouchers{}
	e := newSappEnv(t, vouchers)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Secrets: core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "customer-key"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e.adjust(shop, "77", "a1", "10.00", "welcome bonus")
	e.adjust(shop, "77", "a2", "2.50", "{{ shop.name }}<script>alert(1)</script>")
	e.adjust(shop, "88", "b1", "99.00", "someone else's credit")

	secret := e.fake.ClientSecret()
	for _, p := range []string{"/proxy/statement", "/shopify/proxy/statement", "/shopify/proxy"} {
		resp := e.proxy(http.MethodGet, p, e.proxyValues("77"), "wrong-secret", nil, "")
		if body := wantStatus(t, resp, http.StatusUnauthorized); !strings.Contains(body, "This link is not valid") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("bad signature page (%s): %s", resp.Header.Get("Content-Type"), body)
		}
	}
	stale := e.proxyValues("77")
	stale.Set("timestamp", strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10))
	wantStatus(t, e.proxy(http.MethodGet, "/proxy/statement", stale, secret, nil, ""), http.StatusUnauthorized)
	unknown := e.proxyValues("77")
	unknown.Set("shop", "unknown.myshopify.com")
	wantStatus(t, e.proxy(http.MethodGet, "/proxy/statement", unknown, secret, nil, ""), http.StatusNotFound)

	// Anonymous visitor: asked to log in.
	anon := wantStatus(t, e.proxy(http.MethodGet, "/proxy/statement", e.proxyValues(""), secret, nil, ""), http.StatusOK)
	if !strings.Contains(anon, "/account/login") || strings.Contains(anon, "welcome bonus") {
		t.Fatalf("anonymous page = %s", anon)
	}

	resp := e.proxy(http.MethodGet, "/shopify/proxy/statement", e.proxyValues("77"), sappPrevSecret, nil, "")
	page := wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/liquid") {
		t.Fatalf("content type %q", ct)
	}
	for _, want := range []string{"€12.50", "Adjustment · welcome bonus", "&#123;&#123; shop.name &#125;&#125;&lt;script&gt;alert(1)&lt;/script&gt;",
		`action="/apps/credit/vouchers"`} {
		if !strings.Contains(page, want) {
			t.Errorf("statement page lacks %q:\n%s", want, page)
		}
	}
	for _, bad := range []string{"someone else", "99.00", "{{", "<script>"} {
		if strings.Contains(page, bad) {
			t.Errorf("statement page contains %q", bad)
		}
	}

	// JSON: the same customer's entries, newest first.
	var st struct {
		Currency string `json:"currency"`
		Entries  []struct {
			Note           string `json:"note"`
			Delta          string `json:"delta"`
			AvailableAfter string `json:"available_after"`
		} `json:"entries"`
	}
	v := e.proxyValues("77")
	v.Set("format", "json")
	if err := json.Unmarshal([]byte(wantStatus(t, e.proxy(http.MethodGet, "/proxy/statement", v, secret, nil, ""), http.StatusOK)), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Entries) != 2 || st.Entries[0].Delta != "2.50" || st.Entries[0].AvailableAfter != "12.50" || st.Entries[1].Note != "welcome bonus" {
		t.Fatalf("statement json = %+v", st)
	}

	// Pagination with ?cursor=.
	for i := range 26 {
		e.adjust(shop, "55", "p"+strconv.Itoa(i), "1.00", "entry-"+strconv.Itoa(i)+"-end")
	}
	first := wantStatus(t, e.proxy(http.MethodGet, "/proxy/statement", e.proxyValues("55"), secret, nil, ""), http.StatusOK)
	i := strings.Index(first, `href="/apps/credit/statement?cursor=`)
	if i < 0 || !strings.Contains(first, "entry-25-end") || strings.Contains(first, "entry-0-end") {
		t.Fatalf("first page has no next link or wrong entries:\n%s", first)
	}
	cursor := first[i+len(`href="/apps/credit/statement?cursor=`):]
	cursor = cursor[:strings.IndexByte(cursor, '"')]
	v = e.proxyValues("55")
	v.Set("cursor", cursor)
	second := wantStatus(t, e.proxy(http.MethodGet, "/proxy/statement", v, secret, nil, ""), http.StatusOK)
	if !strings.Contains(second, "entry-0-end") || strings.Contains(second, "entry-25-end") || strings.Contains(second, "cursor=") {
		t.Fatalf("second page:\n%s", second)
	}

	// Vouchers: JSON, or the page's form with its token.
	wantStatus(t, e.proxy(http.MethodPost, "/proxy/vouchers", e.proxyValues(""), secret, strings.NewReader(`{"amount":"5.00"}`), "application/json"), http.StatusUnauthorized)
	out := wantStatus(t, e.proxy(http.MethodPost, "/proxy/vouchers", e.proxyValues("77"), secret, strings.NewReader(`{"amount":"5.00"}`), "application/json"), http.StatusCreated)
	if !strings.Contains(out, `"code":"CB-TEST-1"`) || !strings.Contains(out, `"amount":"5.00"`) {
		t.Fatalf("voucher json = %s", out)
	}
	form := url.Values{"amount": {"2.00"}, "form_token": {"forged"}}
	wantStatus(t, e.proxy(http.MethodPost, "/proxy/vouchers", e.proxyValues("77"), secret, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"), http.StatusUnauthorized)
	tokStart := strings.Index(page, `name="form_token" value="`) + len(`name="form_token" value="`)
	form.Set("form_token", page[tokStart:tokStart+64])
	reqStart := strings.Index(page, `name="request" value="`) + len(`name="request" value="`)
	form.Set("request", page[reqStart:reqStart+32])
	res := wantStatus(t, e.proxy(http.MethodPost, "/proxy/vouchers", e.proxyValues("77"), secret, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"), http.StatusCreated)
	if !strings.Contains(res, "CB-TEST-2") || !strings.Contains(res, "€2.00") {
		t.Fatalf("voucher page = %s", res)
	}
	// The form's request id is the voucher's idempotency key.
	if k := vouchers.keys[len(vouchers.keys)-1]; k != "shopify-form-"+form.Get("request") {
		t.Fatalf("idempotency key %q, want the form's request id", k)
	}
	// The form token of customer 77 is useless for customer 88.
	wantStatus(t, e.proxy(http.MethodPost, "/proxy/vouchers", e.proxyValues("88"), secret, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"), http.StatusUnauthorized)
	if len(vouchers.issued) != 2 || !vouchers.issued[1].Equal(decimal.RequireFromString("2")) {
		t.Fatalf("vouchers issued = %v", vouchers.issued)
	}
}
