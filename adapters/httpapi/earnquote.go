package httpapi

// The public quote of earnings, for the storefront line "you earn X with
// this order" (Shopify theme block / app embed, WooCommerce product page,
// cart and checkout):
//
//	GET /api/v1/public/earn?platform=shopify&shop=example.myshopify.com&line=PRODUCT:VARIANT:SKU:QTY:PRICE[:TOTAL][&line=…]
//
// PRICE is the unit price as the storefront shows it (a decimal point or
// comma); the shop's tax setup (settings "tax": prices include tax, the
// standard rate, rates per product) says how much of it is VAT, so the
// quote earns on the same net as booking (core.QuoteLine). No credentials: the answer is what the shop's public rules give
// anyone, so it is cacheable (Cache-Control: public, max-age=60) and CORS
// is open. At most 100 lines; unknown shops are 404 (and count towards the
// failed-request limit per IP).

import (
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, earnQuoteRoutes) }

// maxQuoteLines bounds the lines of one quote.
const maxQuoteLines = 100

func earnQuoteRoutes(s *Server, app *fiber.App, api fiber.Router) {
	api.Get("/public/earn", s.earnQuote)
	// Through Shopify's app proxy: https://{shop}/apps/credit/earn?line=…
	// (the theme extension creditbridge-earn), same origin for the theme.
	for _, p := range []string{"/proxy", "/shopify/proxy"} {
		app.Get(p+"/earn", s.proxyEarn)
	}
}

// proxyEarn is the quote through the app proxy: the shop comes from the
// signed request.
func (s *Server) proxyEarn(c *fiber.Ctx) error {
	pr, err := s.verifyProxy(c)
	if err != nil {
		return err
	}
	return s.quoteFor(c, pr.shop)
}

func (s *Server) earnQuote(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	platform := core.Platform(c.Query("platform", string(core.PlatformShopify)))
	if platform != core.PlatformShopify && platform != core.PlatformWooCommerce {
		return core.Errorf(core.EINVALID, "platform must be shopify or woocommerce")
	}
	domain := core.NormalizeDomain(c.Query("shop"))
	if domain == "" || len(domain) > 255 {
		return core.Errorf(core.EINVALID, "shop is required")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	shop, ok, err := s.cachedShopBy(ctx, string(platform)+":"+domain, func() (core.Shop, error) {
		return s.deps.Store.ShopByDomain(ctx, platform, domain)
	})
	if err != nil {
		return err
	}
	if !ok || !shop.Active {
		return core.Errorf(core.ENOTFOUND, "shop not found")
	}
	return s.quoteFor(c, shop)
}

// quoteFor answers the quote of the request's lines for shop.
func (s *Server) quoteFor(c *fiber.Ctx, shop core.Shop) error {
	raw := c.Context().QueryArgs().PeekMulti("line")
	if len(raw) == 0 || len(raw) > maxQuoteLines {
		return core.Errorf(core.EINVALID, "between 1 and %d line parameters are required", maxQuoteLines)
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	lines := make([]core.OrderLine, 0, len(raw))
	for i, b := range raw {
		l, err := quoteLine(string(b), shop)
		if err != nil {
			return core.Errorf(core.EINVALID, "line %d: %s", i+1, core.ErrorMessage(err))
		}
		l.LineID = strconv.Itoa(i + 1)
		lines = append(lines, l)
	}
	rules, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	amount, err := core.QuoteEarnings(shop.Settings, core.NewRuleSet(rules), shop.Currency, lines, time.Now())
	if err != nil {
		return err
	}
	loc := localeFor(c, shop, c.Query("locale"))
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	c.Set(fiber.HeaderVary, "Accept-Language")
	return c.JSON(fiber.Map{"currency": shop.Currency, "amount": core.StringFixedFor(shop.Currency, amount),
		"formatted": loc.Money(shop.Currency, core.StringFixedFor(shop.Currency, amount)), "text": loc.T("earn.quote", loc.Money(shop.Currency, core.StringFixedFor(shop.Currency, amount)))})
}

// quoteLine parses PRODUCT:VARIANT:SKU:QTY:PRICE[:TOTAL], PRICE as the
// storefront shows it and TOTAL the line's total after discounts on the
// whole cart (a code or voucher: what booking's discount allocations take
// off the line; absent: QTY × PRICE): the net and tax come from the
// shop's tax setup as booking will see them (core.QuoteLine).
func quoteLine(s string, shop core.Shop) (core.OrderLine, error) {
	currency := shop.Currency
	p := strings.Split(s, ":")
	if len(p) != 5 && len(p) != 6 {
		return core.OrderLine{}, core.Errorf(core.EINVALID, "a line is PRODUCT:VARIANT:SKU:QUANTITY:PRICE[:TOTAL]")
	}
	for _, f := range p[:3] {
		if len(f) > 200 {
			return core.OrderLine{}, core.Errorf(core.EINVALID, "ids are at most 200 characters")
		}
	}
	qty, err := strconv.ParseInt(p[3], 10, 64)
	if err != nil || qty < 1 || qty > 10000 {
		return core.OrderLine{}, core.Errorf(core.EINVALID, "quantity must be 1..10000")
	}
	price, err := core.ParseAmount(currency, i18n.NormalizeDecimal(p[4]))
	if err != nil || price.IsNegative() {
		return core.OrderLine{}, core.Errorf(core.EINVALID, "price must be an amount such as 12.50 or 12,50")
	}
	if len(p) == 6 {
		total, err := core.ParseAmount(currency, i18n.NormalizeDecimal(p[5]))
		full := price.Mul(decimal.NewFromInt(qty))
		if err != nil || total.IsNegative() || total.GreaterThan(full) {
			return core.OrderLine{}, core.Errorf(core.EINVALID, "total must be an amount from 0 to quantity × price")
		}
		return core.QuoteLineTotal(shop.Settings, currency, p[0], p[1], p[2], qty, total)
	}
	return core.QuoteLine(shop.Settings, currency, p[0], p[1], p[2], qty, price)
}
