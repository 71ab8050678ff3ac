package httpapi

// The Shopify app side of the bridge: the install flow (OAuth
// authorization-code grant and token exchange of App Bridge session
// tokens), the embedded settings page, and the customer statement served
// through the Shopify app proxy.
//
// Routes (registered through extraRouteFuncs):
//
//	GET  /shopify/install?shop=…          start the authorization-code grant
//	GET  /shopify/callback                OAuth callback (also /shopify/auth/callback,
//	                                      the redirect URL in adapters/shopify/app/shopify.app.toml)
//	POST /shopify/session                 token exchange of an App Bridge session token
//	GET  /shopify/app                     embedded settings page (also /shopify/admin,
//	                                      the application_url in shopify.app.toml)
//	GET  /proxy, /proxy/statement         customer statement (app proxy; also under
//	                                      /shopify/proxy, the app_proxy url in shopify.app.toml)
//	POST /proxy/vouchers                  turn credit into a voucher (app proxy)
//	POST /api/v1/shops/:shop/shopify/discount  (re)create the automatic credit discount
//
// Every call to Shopify happens outside database transactions, and no
// token or secret is logged.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// ShopifyAppConfig configures the Shopify app routes (Config.ShopifyApp).
// Zero values get the defaults noted on each field.
type ShopifyAppConfig struct {
	// Scopes are the OAuth scopes asked for at install
	// (default DefaultShopifyScopes).
	Scopes string
	// APIVersion is the Admin API version (default admin.DefaultAPIVersion).
	APIVersion string
	// HTTPClient sends the OAuth and Admin API requests (default: a
	// client with a 15 s timeout). Tests route it to shopifyfake.
	HTTPClient *http.Client
	// FunctionHandle is the handle of the discount Function the automatic
	// discount runs (default admin.FunctionHandle, the extension in
	// adapters/shopify/app/extensions).
	FunctionHandle string
	// DiscountTitle is the automatic discount's title (default "Store credit").
	DiscountTitle string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultShopifyScopes are the scopes the bridge needs (see
// adapters/shopify/app/shopify.app.toml).
const DefaultShopifyScopes = admin.DefaultScopes

const (
	oauthStateCookie    = "cb_shopify_state"
	oauthStateTTL       = 10 * time.Minute
	oauthCallbackMaxAge = 10 * time.Minute
	proxyMaxAge         = 5 * time.Minute
	shopifyCallTimeout  = 30 * time.Second
	// callbackPath is the redirect URI registered in shopify.app.toml.
	callbackPath = "/shopify/auth/callback"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, shopifyAppRoutes) }

func shopifyAppRoutes(s *Server, app *fiber.App, api fiber.Router) {
	app.Get("/shopify/install", s.shopifyInstall)
	app.Get("/shopify/callback", s.shopifyCallback)
	app.Get(callbackPath, s.shopifyCallback)
	app.Post("/shopify/session", s.shopifySession)
	app.Get("/shopify/app", s.shopifyAppPage)
	app.Get("/shopify/admin", s.shopifyAppPage)
	for _, p := range []string{"/proxy", "/shopify/proxy"} {
		app.Get(p, s.proxyStatement)
		app.Get(p+"/statement", s.proxyStatement)
		app.Post(p+"/vouchers", s.proxyVoucher)
	}
	// The /shops group's adminAuth middleware already covers this path.
	api.Post("/shops/:shop/shopify/discount", s.shopifyDiscount)
}

func (s *Server) appCfg() ShopifyAppConfig {
	c := s.cfg.ShopifyApp
	if c.Scopes == "" {
		c.Scopes = DefaultShopifyScopes
	}
	if c.APIVersion == "" {
		c.APIVersion = admin.DefaultAPIVersion
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if c.FunctionHandle == "" {
		c.FunctionHandle = admin.FunctionHandle
	}
	if c.DiscountTitle == "" {
		c.DiscountTitle = "Store credit"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// shopifyConfigured reports whether the app's client id and secret are set.
func (s *Server) shopifyConfigured() error {
	if s.cfg.ShopifyClientID == "" || len(s.cfg.ShopifySecrets) == 0 || s.cfg.ShopifySecrets[0] == "" {
		return core.Errorf(core.ENOTFOUND, "Shopify is not configured on this bridge")
	}
	return nil
}

// adminClient returns an Admin API client for shop with token.
func (s *Server) adminClient(shop, token string) *admin.Client {
	c := s.appCfg()
	return admin.NewClient(shop, token, c.APIVersion, admin.WithHTTPClient(c.HTTPClient))
}

// stateMAC binds an OAuth state nonce to the shop it was issued for.
func (s *Server) stateMAC(shop, state string) string {
	m := hmac.New(sha256.New, []byte(s.cfg.ShopifySecrets[0]))
	m.Write([]byte("creditbridge-oauth-state\x00" + shop + "\x00" + state))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.cfg.PublicURL, "https://") }

// shopifyInstall starts the authorization-code grant: it stores a signed
// state nonce in a cookie and redirects to the shop's authorize page.
func (s *Server) shopifyInstall(c *fiber.Ctx) error {
	if err := s.shopifyConfigured(); err != nil {
		return err
	}
	shop := strings.ToLower(c.Query("shop"))
	if !shopify.ValidShopDomain(shop) {
		return core.Errorf(core.EINVALID, "shop must be a *.myshopify.com domain")
	}
	state := randomToken("", 16)
	c.Cookie(&fiber.Cookie{
		Name:     oauthStateCookie,
		Value:    state + "." + s.stateMAC(shop, state),
		Path:     "/shopify",
		MaxAge:   int(oauthStateTTL / time.Second),
		Expires:  s.appCfg().Now().Add(oauthStateTTL),
		Secure:   s.secureCookies(),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
	})
	cfg := s.appCfg()
	u := admin.InstallURL(shop, s.cfg.ShopifyClientID, cfg.Scopes, s.cfg.PublicURL+callbackPath, state)
	return c.Redirect(u, fiber.StatusFound)
}

// verifyOAuthQuery checks the callback's hmac with the current and the
// previous client secret.
func (s *Server) verifyOAuthQuery(raw string) (url.Values, error) {
	var last error
	for _, sec := range s.cfg.ShopifySecrets {
		if sec == "" {
			continue
		}
		v, err := shopify.VerifyOAuthQuery(raw, sec)
		if err == nil {
			return v, nil
		}
		last = err
	}
	if last == nil {
		last = core.Errorf(core.EUNAUTHORIZED, "no Shopify client secret configured")
	}
	return nil, last
}

// shopifyCallback finishes the authorization-code grant.
func (s *Server) shopifyCallback(c *fiber.Ctx) error {
	if err := s.shopifyConfigured(); err != nil {
		return err
	}
	raw := string(c.Request().URI().QueryString())
	vals, err := s.verifyOAuthQuery(raw)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "invalid OAuth callback signature")
	}
	shop := strings.ToLower(vals.Get("shop"))
	if !shopify.ValidShopDomain(shop) {
		return core.Errorf(core.EINVALID, "shop must be a *.myshopify.com domain")
	}
	cfg := s.appCfg()
	if err := shopify.CheckFreshness(vals, cfg.Now(), oauthCallbackMaxAge); err != nil {
		return err
	}
	state := vals.Get("state")
	cookie := c.Cookies(oauthStateCookie)
	nonce, mac, ok := strings.Cut(cookie, ".")
	if !ok || state == "" || subtle.ConstantTimeCompare([]byte(nonce), []byte(state)) != 1 ||
		!hmac.Equal([]byte(mac), []byte(s.stateMAC(shop, nonce))) {
		return core.Errorf(core.EUNAUTHORIZED, "OAuth state does not match (start the install again)")
	}
	// The nonce is single-use.
	c.Cookie(&fiber.Cookie{Name: oauthStateCookie, Value: "", Path: "/shopify", MaxAge: -1, Expires: time.Unix(1, 0),
		Secure: s.secureCookies(), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	code := vals.Get("code")
	ctx, cancel := reqCtx(c, shopifyCallTimeout)
	defer cancel()
	tok, err := admin.ExchangeCode(ctx, cfg.HTTPClient, shop, s.cfg.ShopifyClientID, s.cfg.ShopifySecrets[0], code)
	if err != nil {
		return fmt.Errorf("httpapi: shopify code exchange: %w", err)
	}
	if _, err := s.InstallShopify(ctx, shop, tok); err != nil {
		return err
	}
	return c.Redirect(s.embeddedAppURL(shop), fiber.StatusFound)
}

// embeddedAppURL is where a merchant lands after the install.
func (s *Server) embeddedAppURL(shop string) string {
	handle := strings.TrimSuffix(shop, ".myshopify.com")
	return "https://admin.shopify.com/store/" + url.PathEscape(handle) + "/apps/" + url.PathEscape(s.cfg.ShopifyClientID)
}

// ShopifyInstall reports what InstallShopify did.
type ShopifyInstall struct {
	Shop core.Shop
	// Created is true for a new shop, Reactivated for a shop that had
	// uninstalled the app.
	Created, Reactivated bool
	// DiscountID is the automatic discount created ("" when none was
	// created, see DiscountError).
	DiscountID    string
	DiscountError error
}

// InstallShopify stores a fresh Admin API token for shop: it creates the
// shop (currency and name read from the Admin API) or updates and
// reactivates it, and on a first install or a reinstall creates the
// automatic credit discount. A failure to create the discount is logged
// and reported in the result, not returned: the merchant can retry from
// the settings page.
func (s *Server) InstallShopify(ctx context.Context, domain string, tok admin.Token) (ShopifyInstall, error) {
	var res ShopifyInstall
	cfg := s.appCfg()
	cl := s.adminClient(domain, tok.AccessToken)
	info, err := cl.Shop(ctx)
	if err != nil {
		return res, fmt.Errorf("httpapi: read shop from Shopify: %w", err)
	}
	sh, err := s.deps.Store.ShopByDomain(ctx, core.PlatformShopify, domain)
	switch {
	case core.ErrorCode(err) == core.ENOTFOUND:
		sh = core.Shop{Platform: core.PlatformShopify, Domain: domain, Name: info.Name, Currency: info.CurrencyCode,
			Secrets: core.ShopSecrets{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenExpiresAt: tok.ExpiresAt,
				CustomerKey: randomToken("", 32)}}
		created, cerr := s.deps.Store.CreateShop(ctx, sh, "")
		if core.ErrorCode(cerr) == core.ECONFLICT {
			// A concurrent install won the race: update that row instead.
			if sh, err = s.deps.Store.ShopByDomain(ctx, core.PlatformShopify, domain); err != nil {
				return res, err
			}
			break
		}
		if cerr != nil {
			return res, cerr
		}
		res.Shop, res.Created = created, true
	case err != nil:
		return res, err
	}
	if !res.Created {
		res.Reactivated = !sh.Active
		sh.Active = true
		if sh.Name == "" {
			sh.Name = info.Name
		}
		sh.Secrets.AccessToken, sh.Secrets.RefreshToken, sh.Secrets.TokenExpiresAt = tok.AccessToken, tok.RefreshToken, tok.ExpiresAt
		if sh.Secrets.CustomerKey == "" {
			sh.Secrets.CustomerKey = randomToken("", 32)
		}
		if err := s.deps.Store.UpdateShop(ctx, sh); err != nil {
			return res, err
		}
		res.Shop = sh
	}
	s.ForgetShops()
	s.log.Info("shopify shop authorized", slog.Int64("shop", res.Shop.ID), slog.Bool("created", res.Created),
		slog.Bool("reactivated", res.Reactivated), slog.Bool("expiring_token", !tok.ExpiresAt.IsZero()))
	// Only the discount Function mode runs an automatic discount; a shop
	// switching to it later creates it with POST …/shopify/discount.
	if (res.Created || res.Reactivated) && res.Shop.Settings.Mode() == core.RedemptionFunction {
		res.DiscountID, res.DiscountError = s.setupDiscount(ctx, cl, cfg)
		if res.DiscountError != nil {
			s.log.Warn("automatic credit discount not created; the merchant can retry from the app's settings page",
				slog.Int64("shop", res.Shop.ID), slog.Any("error", res.DiscountError))
		}
	}
	return res, nil
}

// setupDiscount creates the automatic discount running the credit
// Function.
func (s *Server) setupDiscount(ctx context.Context, cl *admin.Client, cfg ShopifyAppConfig) (string, error) {
	id, err := cl.CreateAutomaticCreditDiscount(ctx, cfg.FunctionHandle, cfg.DiscountTitle)
	if err != nil {
		return "", fmt.Errorf("create the automatic discount: %w", err)
	}
	return id, nil
}

// shopifySession exchanges an App Bridge session token for an offline
// token when the shop has none, was uninstalled, or its token expires
// soon, and answers the shop's id.
func (s *Server) shopifySession(c *fiber.Ctx) error {
	if err := s.shopifyConfigured(); err != nil {
		return err
	}
	tok := bearer(c)
	if tok == "" {
		return core.Errorf(core.EUNAUTHORIZED, "missing session token")
	}
	cfg := s.appCfg()
	claims, err := shopify.VerifySessionToken(tok, s.cfg.ShopifyClientID, s.cfg.ShopifySecrets, cfg.Now())
	if err != nil {
		return err
	}
	tok = utils.CopyString(tok)
	ctx, cancel := reqCtx(c, shopifyCallTimeout)
	defer cancel()
	sh, err := s.deps.Store.ShopByDomain(ctx, core.PlatformShopify, claims.Shop)
	if err != nil && core.ErrorCode(err) != core.ENOTFOUND {
		return err
	}
	exchanged := false
	if err != nil || !sh.Active || sh.Secrets.AccessToken == "" ||
		(admin.Token{ExpiresAt: sh.Secrets.TokenExpiresAt}).NeedsRefresh(cfg.Now()) {
		t, err := admin.ExchangeSessionToken(ctx, cfg.HTTPClient, claims.Shop, s.cfg.ShopifyClientID, s.cfg.ShopifySecrets[0], tok)
		if err != nil {
			return fmt.Errorf("httpapi: shopify token exchange: %w", err)
		}
		res, err := s.InstallShopify(ctx, claims.Shop, t)
		if err != nil {
			return err
		}
		sh, exchanged = res.Shop, true
	}
	return c.JSON(fiber.Map{"shop_id": sh.ID, "domain": sh.Domain, "name": sh.Name, "currency": sh.Currency, "token_refreshed": exchanged})
}

// shopifyDiscount (re)creates the automatic credit discount of the
// caller's shop.
func (s *Server) shopifyDiscount(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	if shop.Platform != core.PlatformShopify || shop.Secrets.AccessToken == "" {
		return core.Errorf(core.EINVALID, "the shop has no Shopify access token")
	}
	ctx, cancel := reqCtx(c, shopifyCallTimeout)
	defer cancel()
	id, err := s.setupDiscount(ctx, s.adminClient(shop.Domain, shop.Secrets.AccessToken), s.appCfg())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"discount_id": id})
}

// ---- embedded settings page ----

var appPage = template.Must(template.New("app").Parse(appPageHTML))

// shopifyAppPage serves the embedded settings page. It holds no data:
// the script asks App Bridge for a session token and calls the admin JSON
// API with it.
func (s *Server) shopifyAppPage(c *fiber.Ctx) error {
	if err := s.shopifyConfigured(); err != nil {
		return err
	}
	shop := strings.ToLower(c.Query("shop"))
	if !shopify.ValidShopDomain(shop) {
		return core.Errorf(core.EINVALID, "shop must be a *.myshopify.com domain")
	}
	nonce := randomToken("", 16)
	var b strings.Builder
	if err := appPage.Execute(&b, map[string]string{"APIKey": s.cfg.ShopifyClientID, "Shop": shop, "Nonce": nonce}); err != nil {
		return fmt.Errorf("httpapi: render app page: %w", err)
	}
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+nonce+"' https://cdn.shopify.com; style-src 'self' 'nonce-"+nonce+"'; "+
		"img-src 'self' data: https://cdn.shopify.com; connect-src 'self' https://*.shopify.com; object-src 'none'; base-uri 'none'; form-action 'self'; "+
		"frame-ancestors https://"+shop+" https://admin.shopify.com")
	c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.SendString(b.String())
}

// ---- app proxy: customer statement ----

// The app proxy page is sent as application/liquid, so Shopify renders it
// inside the shop's theme. Liquid would evaluate {{ }} and {% %} in the
// output, so every dynamic value goes through liquidHTML, which escapes
// HTML and turns braces into character references. The JSON variant
// (?format=json) is sent as application/json and not rendered by Shopify.

var pathPrefixRE = regexp.MustCompile(`^/(apps|a|community|tools)(/[A-Za-z0-9_-]+)?$`)

// liquidHTML escapes s for HTML and Liquid.
func liquidHTML(s string) template.HTML {
	e := html.EscapeString(s)
	e = strings.ReplaceAll(e, "{", "&#123;")
	e = strings.ReplaceAll(e, "}", "&#125;")
	return template.HTML(e) //nolint:gosec // escaped above
}

var proxyPage = template.Must(template.New("proxy").Funcs(template.FuncMap{"lq": liquidHTML}).Parse(proxyPageHTML))

type proxyRequest struct {
	shop       core.Shop
	owner      core.Owner
	customerID string
	prefix     string
	loggedIn   bool
}

// verifyProxy checks the app-proxy signature, freshness and shop.
func (s *Server) verifyProxy(c *fiber.Ctx) (proxyRequest, error) {
	var pr proxyRequest
	if err := s.shopifyConfigured(); err != nil {
		return pr, err
	}
	raw := string(c.Request().URI().QueryString())
	var vals url.Values
	var err error
	for _, sec := range s.cfg.ShopifySecrets {
		if sec == "" {
			continue
		}
		if vals, err = shopify.VerifyAppProxy(raw, sec); err == nil {
			break
		}
	}
	if err != nil || vals == nil {
		return pr, core.Errorf(core.EUNAUTHORIZED, "invalid app proxy signature")
	}
	if err := shopify.CheckFreshness(vals, s.appCfg().Now(), proxyMaxAge); err != nil {
		return pr, err
	}
	domain := strings.ToLower(vals.Get("shop"))
	if !shopify.ValidShopDomain(domain) {
		return pr, core.Errorf(core.EINVALID, "invalid shop")
	}
	ctx, cancel := reqCtx(c, 3*time.Second)
	defer cancel()
	sh, ok, err := s.cachedShopBy(ctx, "shopify:"+domain, func() (core.Shop, error) {
		return s.deps.Store.ShopByDomain(ctx, core.PlatformShopify, domain)
	})
	if err != nil {
		return pr, err
	}
	if !ok || !sh.Active {
		return pr, core.Errorf(core.ENOTFOUND, "shop not found")
	}
	pr.shop = sh
	pr.prefix = vals.Get("path_prefix")
	if !pathPrefixRE.MatchString(pr.prefix) {
		pr.prefix = "/apps/credit"
	}
	if id := vals.Get("logged_in_customer_id"); id != "" {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return pr, core.Errorf(core.EINVALID, "invalid customer id")
		}
		pr.customerID, pr.loggedIn = id, true
		pr.owner = core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(id)}
	}
	return pr, nil
}

// voucherFormToken binds the statement page's voucher form to one
// customer of one shop (a cross-site form cannot know it).
var formRequestRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// formRequestID is a random id for one rendering of the voucher form.
func formRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func voucherFormToken(pr proxyRequest) string {
	m := hmac.New(sha256.New, []byte(pr.shop.Secrets.CustomerKey))
	m.Write([]byte("creditbridge-voucher-form\x00" + strconv.FormatInt(pr.shop.ID, 10) + "\x00" + pr.owner.ID))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) sendLiquid(c *fiber.Ctx, status int, data map[string]any) error {
	var b strings.Builder
	if err := proxyPage.Execute(&b, data); err != nil {
		return fmt.Errorf("httpapi: render statement page: %w", err)
	}
	c.Set(fiber.HeaderContentType, "application/liquid; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).SendString(b.String())
}

// proxyStatement renders the logged-in customer's balance and statement.
func (s *Server) proxyStatement(c *fiber.Ctx) error {
	pr, err := s.verifyProxy(c)
	if err != nil {
		return err
	}
	asJSON := c.Query("format") == "json"
	if !pr.loggedIn {
		if asJSON {
			return core.Errorf(core.EUNAUTHORIZED, "log in to see your store credit")
		}
		return s.sendLiquid(c, fiber.StatusOK, map[string]any{"LoggedIn": false, "Login": "/account/login?return_url=" + url.QueryEscape(pr.prefix+"/statement")})
	}
	if asJSON {
		return s.statementJSON(c, pr.shop, pr.owner)
	}
	cur := pr.shop.Currency
	before, _ := strconv.ParseInt(c.Query("cursor"), 10, 64)
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	bal, err := s.deps.Ledger.Balance(ctx, pr.shop.ID, cur, pr.owner)
	if err != nil {
		return err
	}
	page, err := s.deps.Ledger.Statement(ctx, core.StatementQuery{ShopID: pr.shop.ID, Currency: cur, Owner: pr.owner, Before: before, Limit: 25})
	if err != nil {
		return err
	}
	return s.sendLiquid(c, fiber.StatusOK, statementData(pr, bal, page, s.deps.Vouchers != nil))
}

type stmtRow struct {
	Date, Description, Delta, After string
	Negative                        bool
}

func statementData(pr proxyRequest, bal core.Balance, page core.StatementPage, vouchers bool) map[string]any {
	cur := bal.Currency
	rows := make([]stmtRow, 0, len(page.Entries))
	for _, e := range page.Entries {
		delta := e.Available.Add(e.Pending)
		rows = append(rows, stmtRow{Date: e.CreatedAt.UTC().Format("2006-01-02"), Description: Describe(e.Reason),
			Delta: core.StringFixedFor(cur, delta), After: core.StringFixedFor(cur, e.AvailableAfter), Negative: delta.IsNegative()})
	}
	d := map[string]any{
		"LoggedIn": true, "Currency": cur, "Rows": rows,
		"Available": core.StringFixedFor(cur, bal.Available), "Pending": core.StringFixedFor(cur, bal.Pending),
		"Held": core.StringFixedFor(cur, bal.Held), "HasPending": bal.Pending.IsPositive(), "HasHeld": bal.Held.IsPositive(),
		"Vouchers": vouchers && bal.Available.IsPositive(), "FormToken": voucherFormToken(pr), "Request": formRequestID(), "Action": pr.prefix + "/vouchers",
	}
	if page.NextBefore != 0 {
		d["Next"] = pr.prefix + "/statement?cursor=" + strconv.FormatInt(page.NextBefore, 10)
	}
	return d
}

// proxyVoucher turns credit into a voucher for the logged-in customer. A
// JSON body (Content-Type application/json, which a cross-site form
// cannot send) answers JSON; the statement page's form (with its form
// token) answers a page showing the code.
func (s *Server) proxyVoucher(c *fiber.Ctx) error {
	pr, err := s.verifyProxy(c)
	if err != nil {
		return err
	}
	if !pr.loggedIn {
		return core.Errorf(core.EUNAUTHORIZED, "log in to use your store credit")
	}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		return s.issueVoucher(c, pr.shop, pr.owner)
	}
	if s.deps.Vouchers == nil {
		return core.Errorf(core.ENOTFOUND, "vouchers are not enabled")
	}
	if !hmac.Equal([]byte(c.FormValue("form_token")), []byte(voucherFormToken(pr))) {
		return core.Errorf(core.EUNAUTHORIZED, "invalid form token (reload the page)")
	}
	cur := pr.shop.Currency
	amt, err := core.ParseAmount(cur, strings.TrimSpace(c.FormValue("amount")))
	if err != nil {
		return err
	}
	if !amt.IsPositive() {
		return core.Errorf(core.EINVALID, "voucher amount must be positive")
	}
	ctx, cancel := reqCtx(c, 20*time.Second)
	defer cancel()
	// One key per rendered form: the form sent twice gets one voucher.
	key := ""
	if r := c.FormValue("request"); formRequestRe.MatchString(r) {
		key = "shopify-form-" + r
	}
	v, err := s.deps.Vouchers.Issue(ctx, pr.shop, pr.owner, cur, amt, key)
	if err != nil {
		if code := core.ErrorCode(err); code == core.EINSUFFICIENT || code == core.EINVALID {
			return s.sendLiquid(c, fiber.StatusUnprocessableEntity, map[string]any{"LoggedIn": true, "Error": core.ErrorMessage(err), "Back": pr.prefix + "/statement"})
		}
		return err
	}
	return s.sendLiquid(c, fiber.StatusCreated, map[string]any{"LoggedIn": true, "Voucher": v.Code, "VoucherAmount": core.StringFixedFor(cur, v.Amount),
		"Currency": cur, "Expires": v.ExpiresAt.UTC().Format("2006-01-02"), "Back": pr.prefix + "/statement"})
}

// proxyPageHTML is the customer statement (application/liquid: Shopify
// renders it in the theme, so it has no <html> shell and no braces
// outside escaped values).
const proxyPageHTML = `<div class="creditbridge-statement" style="max-width:48rem;margin:2rem auto;padding:0 1rem">
<h1>Store credit</h1>
{{- if not .LoggedIn}}
<p>Please <a href="{{.Login}}">log in</a> to see your store credit.</p>
{{- else if .Error}}
<p role="alert">{{lq .Error}}</p>
<p><a href="{{.Back}}">Back to your statement</a></p>
{{- else if .Voucher}}
<p>Your voucher for <strong>{{lq .VoucherAmount}} {{lq .Currency}}</strong>:</p>
<p style="font-size:1.5rem;font-family:monospace"><strong>{{lq .Voucher}}</strong></p>
<p>Enter it at checkout. It is valid until {{lq .Expires}} and can be used once.</p>
<p><a href="{{.Back}}">Back to your statement</a></p>
{{- else}}
<p style="font-size:1.25rem">Available: <strong>{{lq .Available}} {{lq .Currency}}</strong></p>
{{- if .HasPending}}<p>Pending (not yet spendable): {{lq .Pending}} {{lq .Currency}}</p>{{end}}
{{- if .HasHeld}}<p>Reserved for a checkout in progress: {{lq .Held}} {{lq .Currency}}</p>{{end}}
<p>Your credit is applied automatically at checkout when you are logged in.</p>
{{- if .Vouchers}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="form_token" value="{{.FormToken}}">
<input type="hidden" name="request" value="{{.Request}}">
<label>Turn credit into a voucher code ({{lq .Currency}}): <input name="amount" inputmode="decimal" required></label>
<button type="submit">Create voucher</button>
</form>
{{- end}}
<h2>Statement</h2>
{{- if .Rows}}
<table style="width:100%">
<thead><tr><th style="text-align:left">Date</th><th style="text-align:left">Description</th><th style="text-align:right">Change</th><th style="text-align:right">Available after</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td>{{lq .Date}}</td><td>{{lq .Description}}</td><td style="text-align:right">{{lq .Delta}}</td><td style="text-align:right">{{lq .After}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if .Next}}<p><a href="{{.Next}}">Older entries</a></p>{{end}}
{{- else}}
<p>No store credit yet.</p>
{{- end}}
{{- end}}
</div>
`

// appPageHTML is the embedded settings page. The script builds the UI
// with textContent only (never innerHTML), so no value from the API is
// interpreted as markup.
const appPageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>
<meta charset="utf-8">
<meta name="shopify-api-key" content="{{.APIKey}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>creditbridge</title>
<style nonce="{{.Nonce}}">
body { font: 14px/1.4 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; margin: 1rem 1.5rem; color: #303030; }
section { background: #fff; border: 1px solid #e3e3e3; border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #eee; }
label { display: inline-block; margin: .25rem 1rem .25rem 0; }
input, select { margin-left: .25rem; }
.error { color: #8e1f0b; }
.muted { color: #616161; }
</style>
</head>
<body>
<h1>creditbridge</h1>
<p class="muted">Shop: <span id="shop">{{.Shop}}</span></p>
<p id="status" class="muted">Loading…</p>

<section>
<h2>Credit rules</h2>
<p class="muted">The most specific rule wins: variant, then product, then SKU, then the default. "exclude" earns nothing.</p>
<table><thead><tr><th>Target</th><th>Id / SKU</th><th>Beneficiary</th><th>Mode</th><th>Value</th><th></th></tr></thead><tbody id="rules"></tbody></table>
<form id="rule-form">
<h3>Add or replace a rule</h3>
<label>Target <select name="target"><option>default</option><option>product</option><option>variant</option><option>sku</option></select></label>
<label>Id / SKU <input name="target_id" size="14"></label>
<label>Beneficiary <select name="beneficiary"><option>buyer</option><option>partner1</option><option>partner2</option><option>partner3</option><option>partner4</option><option>partner5</option></select></label>
<label>Mode <select name="mode"><option>percent</option><option>fixed</option><option>exclude</option></select></label>
<label>Value <input name="value" size="8" inputmode="decimal" value="0"></label>
<button type="submit">Save rule</button>
</form>
</section>

<section>
<h2>Checkout caps and program settings</h2>
<form id="settings-form">
<label>Max % of subtotal <input name="max_percent" size="6" inputmode="decimal"></label>
<label>Max amount per order <input name="max_amount" size="8" inputmode="decimal"></label>
<label>Min order subtotal <input name="min_order" size="8" inputmode="decimal"></label><br>
<label>Pending days <input name="pending_days" size="4" inputmode="numeric"></label>
<label>Partner levels <input name="partner_levels" size="3" inputmode="numeric"></label>
<label>Hold minutes <input name="hold_minutes" size="5" inputmode="numeric"></label>
<label>Voucher days <input name="voucher_days" size="5" inputmode="numeric"></label>
<button type="submit">Save settings</button>
</form>
<p class="muted">Leave a cap empty for no limit.</p>
</section>

<section>
<h2>Liability</h2>
<table><thead><tr><th>Currency</th><th>Issued</th><th>Redeemed</th><th>Expired</th><th>Vouchers outstanding</th><th>Adjustments</th><th>Liability</th></tr></thead><tbody id="report"></tbody></table>
</section>

<section>
<h2>Failed events</h2>
<table><thead><tr><th>Id</th><th>Topic</th><th>Received</th><th>Error</th><th></th></tr></thead><tbody id="dead"></tbody></table>
</section>

<section>
<h2>Checkout discount</h2>
<p class="muted">Credit is applied at checkout by an automatic discount running the creditbridge Function. It is created on install; create it again if it was deleted.</p>
<button id="discount" type="button">Create the store-credit discount</button>
</section>

<script nonce="{{.Nonce}}">
(function () {
  "use strict";
  var base = "";
  var statusEl = document.getElementById("status");
  function status(msg, isError) { statusEl.textContent = msg; statusEl.className = isError ? "error" : "muted"; }
  async function call(method, path, body) {
    var token = await window.shopify.idToken();
    var opts = { method: method, headers: { "Authorization": "Bearer " + token } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    var r = await fetch(path, opts);
    if (r.status === 204) { return null; }
    var data = await r.json().catch(function () { return null; });
    if (!r.ok) { throw new Error((data && data.error && data.error.message) || ("HTTP " + r.status)); }
    return data;
  }
  function cell(row, text) { var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); row.appendChild(td); return td; }
  function button(row, label, fn) {
    var td = document.createElement("td"); var b = document.createElement("button"); b.type = "button"; b.textContent = label;
    b.addEventListener("click", fn); td.appendChild(b); row.appendChild(td);
  }
  function fail(e) { status(e.message, true); }
  async function loadRules() {
    var data = await call("GET", base + "/rules"); var tb = document.getElementById("rules"); tb.replaceChildren();
    data.rules.forEach(function (r) {
      var tr = document.createElement("tr");
      cell(tr, r.target); cell(tr, r.target_id); cell(tr, r.beneficiary); cell(tr, r.mode); cell(tr, r.mode === "exclude" ? "" : r.value);
      button(tr, "Delete", function () { call("DELETE", base + "/rules/" + encodeURIComponent(r.id)).then(loadRules).then(function () { status("Rule deleted."); }).catch(fail); });
      tb.appendChild(tr);
    });
  }
  var capFields = ["max_percent", "max_amount", "min_order"], intFields = ["pending_days", "partner_levels", "hold_minutes", "voucher_days"];
  async function loadSettings() {
    var shop = await call("GET", base); var f = document.getElementById("settings-form"); var st = shop.settings || {};
    capFields.forEach(function (k) { f.elements[k].value = st[k] == null ? "" : st[k]; });
    intFields.forEach(function (k) { f.elements[k].value = st[k] == null ? "0" : st[k]; });
  }
  async function loadReport() {
    var data = await call("GET", base + "/report"); var tb = document.getElementById("report"); tb.replaceChildren();
    Object.keys(data.currencies || {}).sort().forEach(function (cur) {
      var c = data.currencies[cur]; var tr = document.createElement("tr");
      [cur, c.issued, c.redeemed, c.expired, c.vouchers_outstanding, c.adjustments, c.liability].forEach(function (v) { cell(tr, v); });
      tb.appendChild(tr);
    });
  }
  async function loadDead() {
    var data = await call("GET", base + "/dead-letters"); var tb = document.getElementById("dead"); tb.replaceChildren();
    data.dead_letters.forEach(function (d) {
      var tr = document.createElement("tr"); cell(tr, d.id); cell(tr, d.topic); cell(tr, d.received_at); cell(tr, d.last_error);
      button(tr, "Retry", function () { call("POST", base + "/dead-letters/" + encodeURIComponent(d.id) + "/retry").then(loadDead).then(function () { status("Event queued again."); }).catch(fail); });
      tb.appendChild(tr);
    });
  }
  document.getElementById("rule-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); var f = ev.target;
    var rule = { target: f.elements.target.value, target_id: f.elements.target_id.value.trim(), beneficiary: f.elements.beneficiary.value,
      mode: f.elements.mode.value, value: f.elements.mode.value === "exclude" ? "0" : f.elements.value.value.trim() };
    if (rule.target === "default") { rule.target_id = ""; }
    call("PUT", base + "/rules", rule).then(loadRules).then(function () { status("Rule saved."); }).catch(fail);
  });
  document.getElementById("settings-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); var f = ev.target; var body = {};
    capFields.forEach(function (k) { var v = f.elements[k].value.trim(); body[k] = v === "" ? null : v; });
    intFields.forEach(function (k) { var v = parseInt(f.elements[k].value, 10); body[k] = isNaN(v) ? 0 : v; });
    call("PATCH", base + "/settings", body).then(loadSettings).then(function () { status("Settings saved."); }).catch(fail);
  });
  document.getElementById("discount").addEventListener("click", function () {
    call("POST", base + "/shopify/discount").then(function () { status("Discount created."); }).catch(fail);
  });
  call("POST", "/shopify/session").then(function (s) {
    base = "/api/v1/shops/" + encodeURIComponent(s.shop_id);
    status("Connected.");
    return Promise.all([loadRules(), loadSettings(), loadReport(), loadDead()]);
  }).catch(fail);
})();
</script>
</body>
</html>
`
