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
//	POST /proxy/referral                  become a partner (app proxy; affiliates.go)
//	GET  /proxy/account                   the customer's balance as JSON for the
//	                                      theme's account page block (app proxy)
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
	_ "embed"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
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
	app.Get("/shopify/app/:view", s.shopifyAppPage)
	app.Get("/shopify/admin/:view", s.shopifyAppPage)
	for _, p := range []string{"/proxy", "/shopify/proxy"} {
		app.Get(p, s.proxyStatement)
		app.Get(p+"/statement", s.proxyStatement)
		app.Post(p+"/vouchers", s.proxyVoucher)
		app.Get(p+"/account", s.proxyAccount)
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

// adminViews are the embedded admin's screens (adapters/httpapi/templates/admin.js).
var adminViews = []string{"overview", "rules", "partners", "customers", "settings", "review", "failed", "audit", "export"}

//go:embed templates/admin.js
var adminScript string

// adminBoot is what the admin page's script starts with.
type adminBoot struct {
	Lang     string            `json:"lang"`
	TimeZone string            `json:"timeZone"`
	Messages map[string]string `json:"messages"`
	Symbols  map[string]string `json:"symbols"`
}

// shopifyAppPage serves the embedded admin. It holds no shop data: the
// script asks App Bridge for a session token and calls the admin JSON
// API with it. The language is the merchant's admin language (Shopify
// adds ?locale=), else the shop's, else the browser's.
func (s *Server) shopifyAppPage(c *fiber.Ctx) error {
	if err := s.shopifyConfigured(); err != nil {
		return err
	}
	shop := strings.ToLower(c.Query("shop"))
	if !shopify.ValidShopDomain(shop) {
		return core.Errorf(core.EINVALID, "shop must be a *.myshopify.com domain")
	}
	view := c.Params("view")
	if view != "" && !slices.Contains(adminViews, view) {
		return core.Errorf(core.ENOTFOUND, "no such page")
	}
	base := strings.TrimSuffix(strings.TrimSuffix(c.Path(), "/"+view), "/")
	ctx, cancel := reqCtx(c, 3*time.Second)
	defer cancel()
	sh, _, err := s.cachedShopBy(ctx, "shopify:"+shop, func() (core.Shop, error) {
		return s.deps.Store.ShopByDomain(ctx, core.PlatformShopify, shop)
	})
	if err != nil {
		sh = core.Shop{} // the page still loads; the session call installs the shop
	}
	l := localeFor(c, sh, c.Query("locale"))
	nav := map[string]string{"save": l.T("admin.save"), "discard": l.T("admin.discard"), "loading": l.T("admin.loading"), "cancel": l.T("admin.cancel")}
	for _, v := range adminViews {
		nav[v] = l.T("admin.nav." + v)
	}
	nonce := randomToken("", 16)
	out, err := render("admin_app.html", map[string]any{"APIKey": s.cfg.ShopifyClientID, "Shop": shop, "Nonce": nonce, "Lang": l.Lang(),
		"Base": base, "Views": adminViews, "Nav": nav, "Script": template.JS(adminScript), //nolint:gosec // our own embedded file
		"Boot": adminBoot{Lang: l.Lang(), TimeZone: l.Loc.String(), Messages: l.Messages("admin."), Symbols: i18n.Symbols()}})
	if err != nil {
		return err
	}
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+nonce+"' https://cdn.shopify.com; style-src 'self' 'nonce-"+nonce+"'; "+
		"img-src 'self' data: https://cdn.shopify.com; connect-src 'self' https://*.shopify.com; object-src 'none'; base-uri 'none'; form-action 'self'; "+
		"frame-ancestors https://"+shop+" https://admin.shopify.com")
	c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.SendString(out)
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

// proxyStatement renders the logged-in customer's balance and statement.
func (s *Server) proxyStatement(c *fiber.Ctx) error {
	asJSON := c.Query("format") == "json"
	pr, err := s.verifyProxy(c)
	if err != nil {
		if asJSON {
			return err
		}
		return s.proxyFailure(c, pr, err)
	}
	if !pr.loggedIn {
		if asJSON {
			return core.Errorf(core.EUNAUTHORIZED, "log in to see your store credit")
		}
		l := localeFor(c, pr.shop, "")
		return sendLiquidPage(c, fiber.StatusOK, "proxy_statement.html", proxyPageData{L: l,
			Login: "/account/login?return_url=" + url.QueryEscape(pr.prefix+"/statement")})
	}
	if asJSON {
		return s.statementJSON(c, pr.shop, pr.owner)
	}
	return s.renderStatement(c, pr, fiber.StatusOK, "")
}

// renderStatement renders the logged-in customer's statement page, with
// notice (already in their language) above it when not empty.
func (s *Server) renderStatement(c *fiber.Ctx, pr proxyRequest, status int, notice string) error {
	l := localeFor(c, pr.shop, "")
	before, _ := strconv.ParseInt(c.Query("cursor"), 10, 64)
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	cs, err := s.customerStatement(ctx, l, pr.shop, pr.owner, before, after, 25)
	if err != nil {
		return s.proxyFailure(c, pr, err)
	}
	d := proxyPageData{L: l, S: cs, Action: pr.prefix + "/vouchers", FormToken: voucherFormToken(pr), Request: formRequestID(), Notice: notice}
	if cs.HasOlder {
		d.Older = pr.prefix + "/statement?cursor=" + strconv.FormatInt(cs.OlderCursor, 10)
	}
	if cs.HasNewer {
		d.Newer = pr.prefix + "/statement?after=" + strconv.FormatInt(cs.NewerCursor, 10)
	}
	if before == 0 && after == 0 {
		if d.Ref, err = s.proxyReferralOf(ctx, pr); err != nil {
			return s.proxyFailure(c, pr, err)
		}
	}
	return sendLiquidPage(c, status, "proxy_statement.html", d)
}

// proxyReferral is the statement page's "recommend us" part: the
// partner's share code and link, or the offer to become one.
type proxyReferral struct {
	Code, Link        string
	Pending           bool // enrolled, waiting for the merchant's approval
	Offer, Approval   bool // may sign up; the merchant approves new partners
	Action, FormToken string
}

// proxyReferralOf looks up the customer's partner account (nil when the
// customer is none and the shop enrols partners itself).
func (s *Server) proxyReferralOf(ctx context.Context, pr proxyRequest) (*proxyReferral, error) {
	p, found, err := s.deps.Store.PartnerByCustomer(ctx, pr.shop.ID, pr.customerID)
	if err != nil {
		return nil, err
	}
	if found {
		if p.Code == "" || p.Status == core.PartnerInactive {
			return nil, nil
		}
		return &proxyReferral{Code: p.Code, Link: core.ShareLink(pr.shop, p.Code), Pending: p.Status == core.PartnerPending}, nil
	}
	mode := pr.shop.Settings.Referral.SignupMode()
	if mode == core.SignupClosed {
		return nil, nil
	}
	return &proxyReferral{Offer: true, Approval: mode == core.SignupApproval, Action: pr.prefix + "/referral", FormToken: referralFormToken(pr)}, nil
}

// referralFormToken binds the signup form to one customer of one shop.
func referralFormToken(pr proxyRequest) string {
	m := hmac.New(sha256.New, []byte(pr.shop.Secrets.CustomerKey))
	m.Write([]byte("creditbridge-referral-form\x00" + strconv.FormatInt(pr.shop.ID, 10) + "\x00" + pr.owner.ID))
	return hex.EncodeToString(m.Sum(nil))
}

// proxyReferralSignup is the statement page's signup form: the logged-in
// customer becomes a partner (pending the merchant's approval unless the
// shop's signup is open), and the page shows their code and link. A form
// sent again changes nothing.
func (s *Server) proxyReferralSignup(c *fiber.Ctx) error {
	pr, err := s.verifyProxy(c)
	if err == nil && !pr.loggedIn {
		err = core.Errorf(core.EUNAUTHORIZED, "log in to become a partner")
	}
	if err == nil && !hmac.Equal([]byte(c.FormValue("form_token")), []byte(referralFormToken(pr))) {
		err = core.Errorf(core.EUNAUTHORIZED, "invalid form token (reload the page)")
	}
	if err != nil {
		return s.proxyFailure(c, pr, err)
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	created, err := s.selfEnrol(ctx, pr.shop, pr.owner)
	cancel()
	if err != nil {
		return s.proxyFailure(c, pr, err)
	}
	l := localeFor(c, pr.shop, "")
	notice := l.T("stmt.ref_ready")
	if pr.shop.Settings.Referral.SignupMode() != core.SignupOpen {
		notice = l.T("stmt.ref_requested")
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return s.renderStatement(c, pr, status, notice)
}

// proxyAccount answers the account page block of the theme extension
// (creditbridge-earn blocks/account-credit.liquid, assets/account.js):
// the logged-in customer's balance (available, pending with the day it
// becomes available, reserved), tier, usable voucher codes, or how to
// earn while empty, the share code and link of a partner (or the offer to
// become one), worded in the shop's language as JSON, and where the full
// statement is. Customer data: never cached.
func (s *Server) proxyAccount(c *fiber.Ctx) error {
	pr, err := s.verifyProxy(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	l := localeFor(c, pr.shop, "")
	out := fiber.Map{"title": l.T("stmt.title"), "statement_url": pr.prefix + "/statement", "statement_text": l.T("stmt.all_bookings")}
	if !pr.loggedIn {
		out["logged_in"], out["text"], out["login_text"] = false, l.T("stmt.login"), l.T("stmt.login_link")
		out["login_url"] = "/account/login?return_url=" + url.QueryEscape("/account")
		return c.JSON(out)
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	cs, err := s.customerStatement(ctx, l, pr.shop, pr.owner, 0, 0, 25)
	if err != nil {
		return err
	}
	lines := []fiber.Map{{"label": l.T("stmt.available"), "amount": cs.Available}}
	if cs.HasPending {
		p := fiber.Map{"label": l.T("stmt.pending"), "amount": cs.Pending}
		if cs.PendingFrom != "" {
			p["note"] = l.T("stmt.available_from", cs.PendingFrom)
		}
		lines = append(lines, p)
	}
	if cs.HasHeld {
		lines = append(lines, fiber.Map{"label": l.T("stmt.held"), "amount": cs.Held})
	}
	out["logged_in"], out["lines"] = true, lines
	if cs.Tier != "" {
		out["tier"], out["tier_next"] = l.T("stmt.tier", cs.Tier), cs.TierNext
	}
	vouchers := []fiber.Map{}
	for _, v := range cs.Vouchers {
		if v.Usable && len(vouchers) < 5 {
			vouchers = append(vouchers, fiber.Map{"text": l.T("stmt.voucher_line", v.Code, v.Amount, v.Expires)})
		}
	}
	out["vouchers"], out["vouchers_title"] = vouchers, l.T("stmt.vouchers")
	if len(cs.EarnHints) > 0 {
		out["earn_hints"], out["earn_title"] = cs.EarnHints, l.T("stmt.earn_how")
	}
	ref, err := s.proxyReferralOf(ctx, pr)
	if err != nil {
		return err
	}
	switch {
	case ref != nil && ref.Code != "":
		lines := []string{l.T("stmt.ref_code") + " " + ref.Code, l.T("stmt.ref_link") + ": " + ref.Link}
		if ref.Pending {
			lines = append(lines, l.T("stmt.ref_pending"))
		}
		out["referral"] = fiber.Map{"title": l.T("stmt.ref_title"), "lines": append(lines, l.T("stmt.ref_levels"))}
	case ref != nil && ref.Offer:
		// The signup form is on the statement page (its form token).
		out["referral"] = fiber.Map{"title": l.T("stmt.ref_title"), "lines": []string{l.T("stmt.ref_offer")},
			"link_text": l.T("stmt.ref_button"), "link_url": pr.prefix + "/statement#cb-ref-h"}
	}
	return c.JSON(out)
}

// proxyPageData is the storefront statement page's data.
type proxyPageData struct {
	L                          *i18n.Locale
	Login                      string
	S                          custStatement
	Action, FormToken, Request string
	Newer, Older               string
	Notice                     string         // the result of a form, above the page
	Ref                        *proxyReferral // share code and link, or the signup offer
}

// proxyFailure answers a storefront request that failed with a page in
// the customer's language (never JSON): inside the theme when the request
// came through the app proxy, else as a plain document.
func (s *Server) proxyFailure(c *fiber.Ctx, pr proxyRequest, err error) error {
	status := statusOf(err)
	if pr.shop.ID == 0 {
		// Not (verifiably) from Shopify: Liquid would not be rendered.
		l := i18n.New(i18n.Match("", c.Get(fiber.HeaderAcceptLanguage)), "")
		msg := l.T("err.signature")
		if core.ErrorCode(err) == core.ENOTFOUND {
			msg = l.T("err.not_found")
		} else if core.ErrorCode(err) == core.EINTERNAL || statusOf(err) >= 500 {
			msg = s.customerMessage(c, l, err, "")
		}
		out, rerr := render("error_document.html", customerError{L: l, Message: msg})
		if rerr != nil {
			return rerr
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Type("html", "utf-8")
		return c.Status(status).SendString(out)
	}
	l := localeFor(c, pr.shop, "")
	available := ""
	if core.ErrorCode(err) == core.EINSUFFICIENT && pr.loggedIn {
		ctx, cancel := reqCtx(c, 3*time.Second)
		defer cancel()
		if b, berr := s.deps.Ledger.Balance(ctx, pr.shop.ID, pr.shop.Currency, pr.owner); berr == nil {
			available = money(l, pr.shop.Currency, b.Available)
		}
	}
	msg := s.customerMessage(c, l, err, available)
	if core.ErrorCode(err) == core.EUNAUTHORIZED && !pr.loggedIn {
		msg = l.T("err.login")
	}
	return sendLiquidPage(c, status, "proxy_error.html", customerError{L: l, Message: msg, Back: pr.prefix + "/statement"})
}

// proxyVoucher turns credit into a voucher for the logged-in customer. A
// JSON body (Content-Type application/json, which a cross-site form
// cannot send) answers JSON; the statement page's form (with its form
// token) answers a page showing the code, and a page explaining any
// error in the customer's language.
func (s *Server) proxyVoucher(c *fiber.Ctx) error {
	asJSON := strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON)
	pr, err := s.verifyProxy(c)
	if err == nil && !pr.loggedIn {
		err = core.Errorf(core.EUNAUTHORIZED, "log in to use your store credit")
	}
	if err != nil {
		if asJSON {
			return err
		}
		return s.proxyFailure(c, pr, err)
	}
	if asJSON {
		return s.issueVoucher(c, pr.shop, pr.owner)
	}
	l := localeFor(c, pr.shop, "")
	if s.deps.Vouchers == nil {
		return sendLiquidPage(c, fiber.StatusNotFound, "proxy_error.html", customerError{L: l, Message: l.T("err.vouchers_off"), Back: pr.prefix + "/statement"})
	}
	if !hmac.Equal([]byte(c.FormValue("form_token")), []byte(voucherFormToken(pr))) {
		return s.proxyFailure(c, pr, core.Errorf(core.EUNAUTHORIZED, "invalid form token (reload the page)"))
	}
	cur := pr.shop.Currency
	amt, err := parseAmountInput(cur, c.FormValue("amount"))
	if err == nil && !amt.IsPositive() {
		err = core.Errorf(core.EINVALID, "voucher amount must be positive")
	}
	if err != nil {
		return s.proxyFailure(c, pr, err)
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
		return s.proxyFailure(c, pr, err)
	}
	// Shopify's shareable discount link applies the code to the buyer's
	// cart and opens it (https://{shop}/discount/CODE?redirect=/cart).
	return sendLiquidPage(c, fiber.StatusCreated, "proxy_voucher.html", map[string]any{"L": l, "Code": v.Code,
		"Amount": money(l, cur, v.Amount), "Expires": l.Date(v.ExpiresAt), "Back": pr.prefix + "/statement",
		"Apply": "/discount/" + url.PathEscape(v.Code) + "?redirect=%2Fcart"})
}
