package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

type principal struct {
	operator bool
	shop     core.Shop // for shop-scoped principals
	actor    string    // who, for adjustments: "operator", "shop-admin", "shopify-user:<id>"
}

const localsPrincipal = "principal"

// shopAdmin reports whether the principal is the operator or one of the
// shop's admins (not a customer or the plugin acting for one).
func (p principal) shopAdmin() bool {
	return p.operator || p.actor == "shop-admin" || strings.HasPrefix(p.actor, "shopify-user:")
}

func bearer(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// adminAuth accepts the operator token, a shop's admin token, or a Shopify
// session token (embedded admin) and records who is calling.
func (s *Server) adminAuth(c *fiber.Ctx) error {
	tok := bearer(c)
	if tok == "" {
		return core.Errorf(core.EUNAUTHORIZED, "missing bearer token")
	}
	if s.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.AdminToken)) == 1 {
		c.Locals(localsPrincipal, principal{operator: true, actor: "operator"})
		return c.Next()
	}
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	if strings.Count(tok, ".") == 2 && s.cfg.ShopifyClientID != "" {
		claims, err := shopify.VerifySessionToken(tok, s.cfg.ShopifyClientID, s.cfg.ShopifySecrets, time.Now())
		if err != nil {
			return err
		}
		shop, err := s.deps.Store.ShopByDomain(ctx, core.PlatformShopify, claims.Shop)
		if err != nil || !shop.Active {
			return core.Errorf(core.EUNAUTHORIZED, "shop is not installed")
		}
		c.Locals(localsPrincipal, principal{shop: shop, actor: "shopify-user:" + claims.Sub})
		return c.Next()
	}
	shop, err := s.deps.Store.ShopByAdminToken(ctx, tok)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "invalid token")
	}
	if !shop.Active {
		return core.Errorf(core.EUNAUTHORIZED, "the shop is uninstalled: its admin token no longer works (reinstall the app)")
	}
	c.Locals(localsPrincipal, principal{shop: shop, actor: "shop-admin"})
	return c.Next()
}

func getPrincipal(c *fiber.Ctx) principal {
	p, _ := c.Locals(localsPrincipal).(principal)
	return p
}

// scopedShop returns the shop named by :shop if the caller may see it.
// Another shop's id answers 404, never 403, so ids cannot be probed.
func (s *Server) scopedShop(c *fiber.Ctx) (core.Shop, error) {
	id, err := strconv.ParseInt(c.Params("shop"), 10, 64)
	if err != nil || id <= 0 {
		return core.Shop{}, core.Errorf(core.ENOTFOUND, "shop not found")
	}
	p := getPrincipal(c)
	if p.operator {
		ctx, cancel := reqCtx(c, 2*time.Second)
		defer cancel()
		return s.deps.Store.ShopByID(ctx, id)
	}
	if p.shop.ID != id {
		return core.Shop{}, core.Errorf(core.ENOTFOUND, "shop not found")
	}
	return p.shop, nil
}

// Customer tokens: short-lived, signed for one customer of one shop with
// the shop's customer key: cbt1.<shop>.<owner b64url>.<exp>.<hmac hex>.

func signCustomer(key, payload string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// IssueCustomerToken returns a token for owner valid until exp.
func IssueCustomerToken(shop core.Shop, owner core.Owner, exp time.Time) string {
	payload := "cbt1." + strconv.FormatInt(shop.ID, 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(owner.ID)) + "." + strconv.FormatInt(exp.Unix(), 10)
	return payload + "." + signCustomer(shop.Secrets.CustomerKey, payload)
}

// customerAuth verifies a customer token and loads its shop and owner.
func (s *Server) customerAuth(c *fiber.Ctx) error {
	tok := bearer(c)
	parts := strings.Split(tok, ".")
	if len(parts) != 5 || parts[0] != "cbt1" {
		return core.Errorf(core.EUNAUTHORIZED, "missing or malformed customer token")
	}
	shopID, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "malformed customer token")
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return core.Errorf(core.EUNAUTHORIZED, "customer token expired")
	}
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	shop, ok, err := s.cachedShopBy(ctx, "id:"+parts[1], func() (core.Shop, error) { return s.deps.Store.ShopByID(ctx, shopID) })
	if err != nil {
		return err
	}
	if !ok || shop.Secrets.CustomerKey == "" || !shop.Active {
		return core.Errorf(core.EUNAUTHORIZED, "invalid customer token")
	}
	want := signCustomer(shop.Secrets.CustomerKey, strings.Join(parts[:4], "."))
	if !hmac.Equal([]byte(want), []byte(parts[4])) {
		return core.Errorf(core.EUNAUTHORIZED, "invalid customer token")
	}
	id, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "invalid customer token")
	}
	c.Locals(localsPrincipal, principal{shop: shop, actor: "customer"})
	c.Locals("owner", core.Owner{Kind: core.OwnerCustomer, ID: string(id)})
	return c.Next()
}

// Plugin requests (WooCommerce companion plugin) are signed with the shop's
// plugin secret over "ts\nMETHOD\npath?query\nbody" and valid for 5 min.
const pluginMaxSkew = 300 * time.Second

// PluginSignature computes the plugin request signature (exported for the
// load generator and tests).
func PluginSignature(secret, ts, method, pathWithQuery string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "\n" + method + "\n" + pathWithQuery + "\n"))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// pluginSigned checks the signature over the path as received and, when
// the bridge sits behind a proxy on a sub-path (PUBLIC_URL has a path),
// over that prefix plus the path as received.
func (s *Server) pluginSigned(shop core.Shop, ts string, c *fiber.Ctx, got string) bool {
	paths := []string{c.OriginalURL()}
	if u, err := url.Parse(s.cfg.PublicURL); err == nil && strings.Trim(u.Path, "/") != "" {
		paths = append(paths, strings.TrimRight(u.Path, "/")+c.OriginalURL())
	}
	for _, p := range paths {
		want := PluginSignature(shop.Secrets.PluginSecret, ts, c.Method(), p, c.BodyRaw())
		if hmac.Equal([]byte(want), []byte(got)) {
			return true
		}
	}
	return false
}

func (s *Server) pluginAuth(c *fiber.Ctx) error {
	shopID, err := strconv.ParseInt(c.Get("X-Creditbridge-Shop"), 10, 64)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "missing X-Creditbridge-Shop")
	}
	ts := c.Get("X-Creditbridge-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "missing X-Creditbridge-Timestamp")
	}
	if d := time.Since(time.Unix(sec, 0)); d > pluginMaxSkew || d < -pluginMaxSkew {
		return core.Errorf(core.EUNAUTHORIZED, "request timestamp outside the allowed 300 s window (check the shop's clock)")
	}
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	shop, ok, err := s.cachedShopBy(ctx, "id:"+strconv.FormatInt(shopID, 10), func() (core.Shop, error) { return s.deps.Store.ShopByID(ctx, shopID) })
	if err != nil {
		return err
	}
	if !ok || shop.Platform != core.PlatformWooCommerce || shop.Secrets.PluginSecret == "" || !shop.Active {
		return core.Errorf(core.EUNAUTHORIZED, "unknown shop")
	}
	got := strings.ToLower(c.Get("X-Creditbridge-Signature"))
	if !s.pluginSigned(shop, ts, c, got) {
		// The secret may have been rotated by a re-registration handled by
		// another replica: reload the shop once before refusing.
		fresh, err := s.deps.Store.ShopByID(ctx, shopID)
		if err != nil || fresh.Secrets.PluginSecret == shop.Secrets.PluginSecret || !s.pluginSigned(fresh, ts, c, got) {
			return core.Errorf(core.EUNAUTHORIZED, "bad request signature")
		}
		s.shopCache.Set("id:"+strconv.FormatInt(shopID, 10), cachedShop{shop: fresh, ok: true})
		shop = fresh
	}
	c.Locals(localsPrincipal, principal{shop: shop, actor: "plugin"})
	return c.Next()
}

// ownerParam maps a path parameter to an owner: a platform customer id, an
// owner id (c:..., g:...), or partner:<id>.
func ownerParam(v string) (core.Owner, error) {
	switch {
	case strings.HasPrefix(v, "partner:"):
		id := strings.TrimPrefix(v, "partner:")
		if !partnerID.MatchString(id) {
			return core.Owner{}, core.Errorf(core.EINVALID, "partner id must be 1..200 letters, digits, '-', '_' or '.'")
		}
		return core.Owner{Kind: core.OwnerPartner, ID: id}, nil
	case customerOwner.MatchString(v):
		return core.Owner{Kind: core.OwnerCustomer, ID: v}, nil
	case platformID.MatchString(v):
		return core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(v)}, nil
	}
	return core.Owner{}, core.Errorf(core.EINVALID, "customer must be a platform customer id (digits), c:<digits>, g:<32 hex> or partner:<id>")
}

var (
	platformID    = regexp.MustCompile(`^[0-9]{1,20}$`)
	customerOwner = regexp.MustCompile(`^(c:[0-9]{1,20}|g:[0-9a-f]{32})$`)
	partnerID     = regexp.MustCompile(`^[A-Za-z0-9._-]{1,200}$`)
)
