package httpapi

// The bridge side of the WooCommerce companion plugin
// (adapters/woocommerce/plugin/creditbridge). The plugin's client class
// defines the contract; this file follows it.
//
// Routes (registered through extraRouteFuncs):
//
//	POST /api/v1/woocommerce/register                     bearer: operator token or the shop's admin token
//	POST /api/v1/plugin/quote                             signed (pluginAuth)
//	POST /api/v1/plugin/release                           signed
//	GET  /api/v1/plugin/customers/:customer/balance       signed; ?currency=
//	GET  /api/v1/plugin/customers/:customer/statement     signed; ?currency=&limit=&cursor=
//	POST /api/v1/plugin/customers/:customer/vouchers      signed; {amount, currency}
//	POST /api/v1/plugin/customers/:customer/token         signed
//	GET  /api/v1/plugin/health                            signed; the shop's connection health
//
// Quote and health answers carry discount_labels (see pluginLabels).
//
// Plugin bodies are decoded leniently (unknown fields are ignored) so an
// older bridge keeps serving a newer plugin; money is still accepted only
// as JSON strings.

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/shopspring/decimal"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, pluginRoutes) }

func pluginRoutes(s *Server, _ *fiber.App, api fiber.Router) {
	api.Post("/woocommerce/register", s.adminAuth, s.wooRegister)
	p := api.Group("/plugin", s.pluginAuth)
	p.Post("/quote", s.pluginQuote)
	p.Post("/release", s.pluginRelease)
	p.Get("/customers/:customer/balance", s.pluginBalance)
	p.Get("/customers/:customer/statement", s.pluginStatement)
	p.Post("/customers/:customer/vouchers", s.pluginVoucher)
	p.Post("/customers/:customer/token", s.pluginToken)
	p.Get("/health", s.pluginHealth)
}

// CreditCouponPrefix starts the code of the virtual coupon the plugin
// applies for a quote: "cb-<hold id>" (see Creditbridge_Coupon).
const CreditCouponPrefix = "cb-"

// decodeLenient parses a JSON body, ignoring unknown fields, with numbers
// kept as json.Number.
func decodeLenient(c *fiber.Ctx, v any) error {
	if len(c.Body()) == 0 {
		return core.Errorf(core.EINVALID, "request body required")
	}
	d := json.NewDecoder(bytes.NewReader(c.Body()))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return core.Errorf(core.EINVALID, "invalid JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// flexID decodes an id sent as a JSON string or an integer number (never
// through float64); null gives "".
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(strings.TrimSpace(s))
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
			return core.Errorf(core.EINVALID, "id %s is not an integer", n)
		}
		*f = flexID(n.String())
	}
	return nil
}

// positiveID parses a decimal id > 0.
func positiveID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// --- registration ---

type wooRegisterReq struct {
	SiteURL        string `json:"site_url"`
	ConsumerKey    string `json:"consumer_key"`
	ConsumerSecret string `json:"consumer_secret"`
	Currency       string `json:"currency"`
	PluginVersion  string `json:"plugin_version"`
}

// NormalizeSiteURL checks a WordPress site URL and returns the shop domain
// creditbridge stores for it: lower-case scheme and host, the path without
// a trailing slash. It must be https or http and carry no user info, query
// or fragment. Over http the bridge signs its REST calls with OAuth 1.0a,
// as WooCommerce requires there, so the consumer secret never travels (the
// order data does travel unencrypted: https is recommended).
func NormalizeSiteURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 255 {
		return "", core.Errorf(core.EINVALID, "site_url is required (at most 255 characters)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", core.Errorf(core.EINVALID, "site_url is not an absolute URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", core.Errorf(core.EINVALID, "site_url must use https or http")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", core.Errorf(core.EINVALID, "site_url must not carry user info, a query or a fragment")
	}
	return scheme + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// validCredential accepts a REST API key or secret: 1..256 printable ASCII
// characters without spaces.
func validCredential(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// wooRegister creates the WooCommerce shop of a site, or re-registers it:
// new webhook and plugin secrets, new REST credentials. The operator token
// may register any site; a shop's admin token only its own site.
func (s *Server) wooRegister(c *fiber.Ctx) error {
	p := getPrincipal(c)
	if !p.operator && p.shop.Platform != core.PlatformWooCommerce {
		return core.Errorf(core.EUNAUTHORIZED, "registration needs the operator token or a WooCommerce shop's admin token")
	}
	var r wooRegisterReq
	if err := decodeLenient(c, &r); err != nil {
		return err
	}
	domain, err := NormalizeSiteURL(r.SiteURL)
	if err != nil {
		return err
	}
	if !validCredential(r.ConsumerKey) || !validCredential(r.ConsumerSecret) {
		return core.Errorf(core.EINVALID, "consumer_key and consumer_secret are required (printable, at most 256 characters)")
	}
	cur, err := core.NormalizeCurrency(r.Currency)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 10*time.Second)
	defer cancel()

	var shop core.Shop
	found := false
	if p.operator {
		shop, err = s.deps.Store.ShopByDomain(ctx, core.PlatformWooCommerce, domain)
		switch {
		case err == nil:
			found = true
		case core.ErrorCode(err) != core.ENOTFOUND:
			return err
		}
	} else {
		// A shop's admin token re-registers that shop only.
		if shop, err = s.deps.Store.ShopByID(ctx, p.shop.ID); err != nil {
			return err
		}
		if strings.TrimRight(strings.ToLower(shop.Domain), "/") != strings.ToLower(domain) {
			return core.Errorf(core.EINVALID, "site_url %s is not the site of the shop this token belongs to (%s)", domain, shop.Domain)
		}
		found = true
	}
	adminToken := ""
	status := fiber.StatusOK
	if !found {
		adminToken = randomToken("cba_", 24)
		host := domain[strings.Index(domain, "://")+3:]
		shop, err = s.deps.Store.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: domain, Name: host, Currency: cur,
			Secrets: core.ShopSecrets{WebhookSecret: randomToken("whsec_", 24), PluginSecret: randomToken("cbp_", 32), CustomerKey: randomToken("", 32),
				ConsumerKey: r.ConsumerKey, ConsumerSecret: r.ConsumerSecret}}, adminToken)
		switch {
		case err == nil:
			status = fiber.StatusCreated
		case core.ErrorCode(err) == core.ECONFLICT:
			// A concurrent registration of the same site won: rotate its
			// secrets instead.
			adminToken = ""
			if shop, err = s.deps.Store.ShopByDomain(ctx, core.PlatformWooCommerce, domain); err != nil {
				return err
			}
			found = true
		default:
			return err
		}
	}
	if found {
		shop.Secrets.WebhookSecret = randomToken("whsec_", 24)
		shop.Secrets.PluginSecret = randomToken("cbp_", 32)
		shop.Secrets.ConsumerKey, shop.Secrets.ConsumerSecret = r.ConsumerKey, r.ConsumerSecret
		if shop.Secrets.CustomerKey == "" {
			shop.Secrets.CustomerKey = randomToken("", 32)
		}
		shop.Currency = cur
		shop.Active = true
		if err := s.deps.Store.UpdateShop(ctx, shop); err != nil {
			return err
		}
	}
	s.ForgetShops()
	if s.log != nil {
		s.log.Info("woocommerce shop registered", slog.Int64("shop", shop.ID), slog.Bool("created", status == fiber.StatusCreated),
			slog.String("plugin_version", truncateASCII(r.PluginVersion, 32)))
	}
	id := strconv.FormatInt(shop.ID, 10)
	resp := fiber.Map{"shop_id": id, "webhook_secret": shop.Secrets.WebhookSecret, "plugin_secret": shop.Secrets.PluginSecret,
		"webhook_url": s.publicURL(c) + "/webhooks/woocommerce/" + id}
	if adminToken != "" {
		resp["admin_token"] = adminToken
	}
	return c.Status(status).JSON(resp)
}

// publicURL is the configured public base URL, else the request's.
func (s *Server) publicURL(c *fiber.Ctx) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	return c.BaseURL()
}

// truncateASCII keeps the printable ASCII prefix of s, at most n bytes
// (for logging client-supplied version strings).
func truncateASCII(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		if s[i] >= ' ' && s[i] <= '~' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// --- quote and release ---

type pluginQuoteReq struct {
	CustomerID flexID          `json:"customer_id"`
	Email      string          `json:"email"` // not used: the ledger never stores e-mails from quotes
	CartKey    string          `json:"cart_key"`
	Currency   string          `json:"currency"`
	Subtotal   string          `json:"subtotal"`
	Lines      json.RawMessage `json:"lines"` // informational; the subtotal is what credit is capped by
}

// maxCartKey bounds cart keys (the plugin sends 32 hex characters).
const maxCartKey = 200

func validCartKey(k string) bool {
	if k == "" || len(k) > maxCartKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// quoteView renders a quote the way the plugin's parse_quote expects.
// redeem_base tells the plugin how to size the coupon in a shop whose
// prices exclude tax (see core.ShopSettings.RedeemBase).
func quoteView(shop core.Shop, cur string, q core.Quote) fiber.Map {
	base := core.RedeemGross
	if shop.Settings.RedeemBase == core.RedeemNet {
		base = core.RedeemNet
	}
	out := fiber.Map{"hold_id": "", "amount": core.StringFixedFor(cur, decimal.Zero), "currency": cur,
		"available": core.StringFixedFor(cur, q.Available), "coupon_code": "", "expires_at": "", "redeem_base": string(base),
		"discount_labels": pluginLabels(shop)}
	if q.Hold != nil && q.Amount.IsPositive() {
		id := strconv.FormatInt(q.Hold.ID, 10)
		out["hold_id"] = id
		out["amount"] = core.StringFixedFor(cur, q.Amount)
		out["coupon_code"] = CreditCouponPrefix + id
		out["expires_at"] = q.Hold.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return out
}

// pluginLabels are the checkout names of credit the shop set per language
// (settings discount_labels.de / .en), always an object (empty when none
// is set): the plugin shows them before its own single name and the
// translated default. Only what the shop set, never the defaults, so the
// plugin's own name still applies to a language without a label.
func pluginLabels(shop core.Shop) map[string]string {
	out := make(map[string]string, len(core.CheckoutLanguages))
	for _, lang := range core.CheckoutLanguages {
		if l := strings.TrimSpace(shop.Settings.DiscountLabels[lang]); l != "" {
			out[lang] = l
		}
	}
	return out
}

// pluginQuote computes the credit a logged-in customer's cart can use and
// places (or keeps, or adjusts) the cart's hold. Guests get a zero quote.
func (s *Server) pluginQuote(c *fiber.Ctx) error {
	start := time.Now()
	result := "error"
	if m := s.deps.Metrics; m != nil {
		defer func() {
			m.Quotes.WithLabelValues(string(core.PlatformWooCommerce), result).Inc()
			m.QuoteSeconds.Observe(time.Since(start).Seconds())
		}()
	}
	shop := getPrincipal(c).shop
	var r pluginQuoteReq
	if err := decodeLenient(c, &r); err != nil {
		return err
	}
	cur, err := core.NormalizeCurrency(r.Currency)
	if err != nil {
		return err
	}
	sub, err := core.ParseAmount(cur, r.Subtotal)
	if err != nil {
		return err
	}
	if sub.IsNegative() {
		return core.Errorf(core.EINVALID, "subtotal must not be negative")
	}
	if !validCartKey(r.CartKey) {
		return core.Errorf(core.EINVALID, "cart_key is required (printable, at most %d characters)", maxCartKey)
	}
	cartKey := utils.CopyString(r.CartKey)
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	customer := string(r.CustomerID)
	if customer == "" || customer == "0" {
		// Guests cannot use credit at checkout; a hold left on this cart
		// (the customer logged out) is released.
		s.releaseCart(ctx, shop, cartKey)
		result = "guest"
		return c.JSON(quoteView(shop, cur, core.Quote{Currency: cur}))
	}
	if _, ok := positiveID(customer); !ok {
		return core.Errorf(core.EINVALID, "customer_id must be a WooCommerce customer id")
	}
	owner := core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(customer)}
	q, err := s.deps.Redeemer.Quote(ctx, shop, core.QuoteRequest{Owner: owner, Currency: cur, Subtotal: sub, CartKey: cartKey})
	if core.ErrorCode(err) == core.EINSUFFICIENT {
		// The balance kept moving under concurrent quotes: answer no credit
		// for now (the plugin quotes again on the next cart change), so the
		// cart's previous hold, if any, is released too.
		s.releaseCart(ctx, shop, cartKey)
		b, berr := s.deps.Ledger.Balance(ctx, shop.ID, cur, owner)
		if berr != nil {
			return berr
		}
		result = "insufficient"
		return c.JSON(quoteView(shop, cur, core.Quote{Currency: cur, Available: b.Available}))
	}
	if err != nil {
		return err
	}
	if q.Placed {
		s.countHold("place")
	}
	if q.Released {
		s.countHold("void") // the cart's previous hold was replaced or released
	}
	result = "zero"
	if q.Hold != nil && q.Amount.IsPositive() {
		result = "applied"
	}
	return c.JSON(quoteView(shop, cur, q))
}

// releaseCart voids the open hold of a cart, if any (best effort: an
// unreleased hold expires on its own).
func (s *Server) releaseCart(ctx context.Context, shop core.Shop, cartKey string) {
	if released, _ := s.holds().ReleaseCart(ctx, shop, cartKey, "cart no longer uses credit"); released {
		s.countHold("void")
	}
}

// holds is the hold service on the server's ledger, telling the
// Redeemer's notifier of released holds.
func (s *Server) holds() *core.Holds {
	if s.deps.Redeemer != nil {
		return s.deps.Redeemer.Holds()
	}
	return &core.Holds{Store: s.deps.Ledger}
}

func (s *Server) countHold(op string) {
	if s.deps.Metrics != nil {
		s.deps.Metrics.Holds.WithLabelValues(op).Inc()
	}
}

type pluginReleaseReq struct {
	HoldID flexID `json:"hold_id"`
}

// pluginRelease voids an open hold of this shop (the customer removed the
// credit coupon or emptied the cart). Unknown, foreign or already resolved
// holds answer released=false.
func (s *Server) pluginRelease(c *fiber.Ctx) error {
	shop := getPrincipal(c).shop
	var r pluginReleaseReq
	if err := decodeLenient(c, &r); err != nil {
		return err
	}
	id, ok := positiveID(strings.TrimPrefix(strings.ToLower(string(r.HoldID)), CreditCouponPrefix))
	if !ok {
		return core.Errorf(core.EINVALID, "hold_id must be a hold id")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	released, err := s.holds().Release(ctx, shop, id, "released by the shop (credit removed from the cart)")
	if err != nil {
		return err
	}
	if released {
		s.countHold("void")
	}
	return c.JSON(fiber.Map{"released": released})
}

// --- customer routes ---

// pluginCustomer maps :customer (a WooCommerce customer id) to its owner.
func pluginCustomer(c *fiber.Ctx) (core.Shop, core.Owner, error) {
	id := c.Params("customer")
	if _, ok := positiveID(id); !ok {
		return core.Shop{}, core.Owner{}, core.Errorf(core.EINVALID, "customer must be a WooCommerce customer id")
	}
	return getPrincipal(c).shop, core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(utils.CopyString(id))}, nil
}

func (s *Server) pluginBalance(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	return s.balanceJSON(c, shop, owner)
}

func (s *Server) pluginStatement(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	return s.statementJSON(c, shop, owner)
}

func (s *Server) pluginVoucher(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	// The request's signature is its nonce: a signed request replayed
	// within the 300 s window is the same voucher request, so without an
	// idempotency key of its own it is keyed by its signature (a replay
	// returns the first request's voucher instead of issuing another).
	c.Locals(localsDefaultVoucherKey, "plugin-sig:"+strings.ToLower(c.Get("X-Creditbridge-Signature")))
	return s.issueVoucher(c, shop, owner)
}

// localsDefaultVoucherKey holds the idempotency key a voucher request
// gets when it sends none.
const localsDefaultVoucherKey = "creditbridge.voucherKey"

func (s *Server) pluginToken(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	if shop.Secrets.CustomerKey == "" {
		return core.Errorf(core.EINVALID, "the shop has no customer key: register the plugin again")
	}
	exp := time.Now().Add(s.cfg.CustomerTokenTTL)
	return c.JSON(fiber.Map{"token": IssueCustomerToken(shop, owner, exp), "expires_at": exp.UTC().Format(time.RFC3339)})
}

// --- health ---

// pluginHealth answers the plugin's health box: the newest order webhook,
// the poller's last run and outcome, and the newest failure with its
// reason. Times are RFC 3339 UTC, "" when there is none.
func (s *Server) pluginHealth(c *fiber.Ctx) error {
	if s.deps.Health == nil {
		return core.Errorf(core.ENOTFOUND, "health is not available on this bridge")
	}
	shop := getPrincipal(c).shop
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	h, err := s.deps.Health.ShopHealth(ctx, shop.ID, woocommerce.TopicPolled)
	if err != nil {
		return err
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	out := fiber.Map{"last_webhook_at": ts(h.LastWebhookAt), "last_poll_at": ts(h.LastPollAt), "last_poll_ok": h.LastPollOK, "last_failure": nil,
		"discount_labels": pluginLabels(shop)}
	if f := h.LastFailure; f != nil {
		out["last_failure"] = fiber.Map{"at": ts(f.At), "source": f.Source, "reason": f.Reason}
	}
	return c.JSON(out)
}
