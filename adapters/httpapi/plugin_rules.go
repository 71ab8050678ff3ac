package httpapi

// Credit rules for the WooCommerce plugin's admin page (WooCommerce →
// Credit rules), signed like every plugin call:
//
//	GET    /api/v1/plugin/rules          the shop's rules
//	PUT    /api/v1/plugin/rules          create or replace a rule (value may use a decimal comma)
//	DELETE /api/v1/plugin/rules/:id      delete a rule
//	GET    /api/v1/plugin/customers/:customer/vouchers   a customer's voucher codes (My Account)
//	PUT    /api/v1/plugin/collections/:collection/products  a category's products, sent by the plugin when
//	                                     products or categories change and daily (idempotent: it replaces the set)
//
// The plugin's secret belongs to the merchant's own WordPress site, which
// already decides what customers get at checkout, so it may manage the
// shop's rules as the shop admin token can.

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/shopspring/decimal"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, pluginRuleRoutes) }

func pluginRuleRoutes(s *Server, _ *fiber.App, api fiber.Router) {
	api.Get("/plugin/rules", s.pluginAuth, s.pluginListRules)
	api.Put("/plugin/rules", s.pluginAuth, s.pluginPutRule)
	api.Delete("/plugin/rules/:id", s.pluginAuth, s.pluginDeleteRule)
	api.Get("/plugin/customers/:customer/vouchers", s.pluginAuth, s.pluginVouchers)
	api.Put("/plugin/collections/:collection/products", s.pluginAuth, s.pluginCollectionProducts)
}

// pluginCollectionProducts replaces the members of a product category
// that a collection rule of the shop targets. The plugin sends them when
// a product is saved, trashed or moved between categories, and from a
// daily WP-cron run; the same set sent twice changes nothing. A category
// without a collection rule is 404 (the plugin then forgets it).
func (s *Server) pluginCollectionProducts(c *fiber.Ctx) error {
	shop := getPrincipal(c).shop
	id := utils.CopyString(c.Params("collection"))
	if strings.TrimSpace(id) == "" || len(id) > 200 {
		return core.Errorf(core.EINVALID, "collection must be a category id")
	}
	var body struct {
		Products []flexID `json:"products"`
	}
	if err := decodeLenient(c, &body); err != nil {
		return err
	}
	if body.Products == nil {
		return core.Errorf(core.EINVALID, "products is required (an empty list empties the category)")
	}
	rule := core.Rule{Target: core.TargetCollection, TargetID: id, Mode: core.ModeExclude, Products: make([]string, 0, len(body.Products))}
	seen := make(map[string]bool, len(body.Products))
	for _, p := range body.Products {
		if !seen[string(p)] { // one row per product (a repeat would fail the upsert)
			seen[string(p)] = true
			rule.Products = append(rule.Products, string(p))
		}
	}
	if err := rule.Validate(); err != nil {
		return err
	}
	w, ok := s.deps.Store.(rulesWriter)
	if !ok {
		return core.Errorf(core.EINTERNAL, "collection rules are not available")
	}
	ctx, cancel := reqCtx(c, 30*time.Second)
	defer cancel()
	rules, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(rules, func(r core.Rule) bool { return r.Target == core.TargetCollection && r.TargetID == id }) {
		return core.Errorf(core.ENOTFOUND, "no collection rule for category %s", id)
	}
	if err := w.SetCollectionProducts(ctx, shop.ID, id, rule.Products); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"collection": id, "products": len(rule.Products)})
}

// pluginVouchers lists a customer's voucher codes, newest first (My
// Account shows them with their state).
func (s *Server) pluginVouchers(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	out := []fiber.Map{}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	vs, err := s.deps.Store.VouchersFor(ctx, shop.ID, owner)
	if err != nil {
		return err
	}
	for _, v := range vs {
		out = append(out, fiber.Map{"code": v.Code, "amount": core.StringFixedFor(v.Currency, v.Amount), "currency": v.Currency,
			"status": v.Status, "expires_at": v.ExpiresAt.UTC().Format(time.RFC3339), "created_at": v.CreatedAt.UTC().Format(time.RFC3339)})
	}
	return c.JSON(fiber.Map{"vouchers": out})
}

func (s *Server) pluginListRules(c *fiber.Ctx) error {
	shop := getPrincipal(c).shop
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	rules, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	if rules == nil {
		rules = []core.Rule{}
	}
	return c.JSON(fiber.Map{"rules": rules, "currency": shop.Currency})
}

// pluginRuleReq is a rule as the plugin's form sends it (value as typed).
type pluginRuleReq struct {
	Target      string `json:"target"`
	TargetID    flexID `json:"target_id"`
	Beneficiary string `json:"beneficiary"`
	Mode        string `json:"mode"`
	Value       string `json:"value"`
	Title       string `json:"title"`
	// Products are a category rule's products (ids), read by the plugin
	// from WooCommerce; absent keeps the members stored.
	Products []flexID `json:"products"`
}

func (s *Server) pluginPutRule(c *fiber.Ctx) error {
	shop := getPrincipal(c).shop
	var r pluginRuleReq
	if err := decodeLenient(c, &r); err != nil {
		return err
	}
	rule := core.Rule{Target: core.RuleTarget(r.Target), TargetID: string(r.TargetID), Beneficiary: r.Beneficiary, Mode: core.RuleMode(r.Mode), Title: r.Title}
	if r.Products != nil {
		rule.Products = make([]string, len(r.Products))
		for i, p := range r.Products {
			rule.Products[i] = string(p)
		}
	}
	if rule.Mode != core.ModeExclude {
		v, err := decimal.NewFromString(i18n.NormalizeDecimal(r.Value))
		if err != nil || !plainDecimalRe.MatchString(i18n.NormalizeDecimal(r.Value)) {
			return core.Errorf(core.EINVALID, "value must be a number such as 2.5 or 2,5")
		}
		rule.Value = v
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	out, err := s.deps.Store.PutRule(ctx, shop.ID, rule)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) pluginDeleteRule(c *fiber.Ctx) error {
	return s.deleteShopRule(c, getPrincipal(c).shop)
}

// plainDecimalRe accepts what core.ParseAmount accepts (no exponents).
var plainDecimalRe = regexp.MustCompile(`^-?[0-9]{1,20}(\.[0-9]{1,20})?$`)
