package httpapi

// Credit rules as a file and collection rules:
//
//	GET  /api/v1/shops/:shop/rules.csv                 the shop's rules as CSV
//	POST /api/v1/shops/:shop/rules/import?dry_run=true  a CSV file (text/csv): the preview, per line
//	POST /api/v1/shops/:shop/rules/import              the same, then stores every change (all or nothing)
//	POST /api/v1/shops/:shop/rules/:id/refresh         reads a Shopify collection rule's products again
//	GET  /api/v1/plugin/rules.csv, POST /api/v1/plugin/rules/import   the same for the WooCommerce plugin
//	     (which may send the file as JSON: {"csv": "…", "dry_run": true})
//
// A dry run answers 200 with the preview (ok false when a row is
// invalid). An import with an invalid row stores nothing and answers 422
// with the preview, whose lines carry the errors at their field. A Shopify
// collection rule gets its products from the Admin API when it is saved
// (a WooCommerce category rule brings them from the plugin).

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/rulecsv"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, ruleFileRoutes) }

// rulesWriter stores several rules at once and a collection's members
// (postgres.APIStore).
type rulesWriter interface {
	PutRules(ctx context.Context, shopID int64, rules []core.Rule) ([]core.Rule, error)
	SetCollectionProducts(ctx context.Context, shopID int64, collectionID string, products []string) error
}

func ruleFileRoutes(s *Server, _ *fiber.App, api fiber.Router) {
	// The /shops group's adminAuth middleware already covers these paths.
	api.Get("/shops/:shop/rules.csv", func(c *fiber.Ctx) error {
		shop, err := s.scopedShop(c)
		if err != nil {
			return err
		}
		return s.exportRules(c, shop)
	})
	api.Post("/shops/:shop/rules/import", func(c *fiber.Ctx) error {
		shop, err := s.scopedShop(c)
		if err != nil {
			return err
		}
		return s.importRules(c, shop)
	})
	api.Post("/shops/:shop/rules/:id/refresh", s.refreshCollection)
	api.Get("/plugin/rules.csv", s.pluginAuth, func(c *fiber.Ctx) error { return s.exportRules(c, getPrincipal(c).shop) })
	api.Post("/plugin/rules/import", s.pluginAuth, func(c *fiber.Ctx) error { return s.importRules(c, getPrincipal(c).shop) })
}

func (s *Server) exportRules(c *fiber.Ctx, shop core.Shop) error {
	ctx, cancel := reqCtx(c, 10*time.Second)
	defer cancel()
	rules, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := rulecsv.Write(&buf, rules); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="creditbridge-rules-`+strconv.FormatInt(shop.ID, 10)+`.csv"`)
	return c.Send(buf.Bytes())
}

func (s *Server) importRules(c *fiber.Ctx, shop core.Shop) error {
	body, dry := c.Body(), c.QueryBool("dry_run", false)
	// The plugin sends JSON: {"csv": "…", "dry_run": true}.
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		var req struct {
			CSV    string `json:"csv"`
			DryRun bool   `json:"dry_run"`
		}
		if err := decode(c, &req); err != nil {
			return err
		}
		body, dry = []byte(req.CSV), req.DryRun || dry
	}
	if len(body) == 0 {
		return core.Errorf(core.EINVALID, "request body required: a CSV file with the columns target, target_id, title, beneficiary, mode, value")
	}
	rows, err := rulecsv.Read(bytes.NewReader(body))
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 60*time.Second)
	defer cancel()
	existing, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	plan := core.PlanRuleImport(existing, rows)
	out := fiber.Map{"dry_run": dry, "ok": plan.OK(), "lines": plan.Lines, "create": plan.Create, "update": plan.Update,
		"unchanged": plan.Unchanged, "invalid": plan.Invalid, "applied": false}
	if plan.Lines == nil {
		out["lines"] = []core.RuleImportLine{}
	}
	if dry {
		return c.JSON(out)
	}
	if !plan.OK() {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(out)
	}
	changes := plan.Changes()
	if len(changes) > 0 {
		w := s.deps.Store
		// New Shopify collection rules get their products now; a failure
		// stores nothing.
		for i := range changes {
			if changes[i].Target == core.TargetCollection && shop.Platform == core.PlatformShopify && !hasCollection(existing, changes[i].TargetID) {
				if err := s.fillCollection(ctx, shop, &changes[i]); err != nil {
					return err
				}
			}
		}
		if _, err := w.PutRules(ctx, shop.ID, changes); err != nil {
			return err
		}
	}
	out["applied"] = true
	return c.JSON(out)
}

func hasCollection(rules []core.Rule, id string) bool {
	for _, r := range rules {
		if r.Target == core.TargetCollection && r.TargetID == id {
			return true
		}
	}
	return false
}

// fillCollection reads a Shopify collection rule's products (and its
// title, when the rule has none) from the Admin API.
func (s *Server) fillCollection(ctx context.Context, shop core.Shop, r *core.Rule) error {
	if shop.Platform != core.PlatformShopify || r.Target != core.TargetCollection || r.Products != nil {
		return nil
	}
	if shop.Secrets.AccessToken == "" {
		return core.Errorf(core.EINVALID, "collection %s: the shop has no Admin API access (install the app again)", r.TargetID)
	}
	col, err := s.adminClient(shop.Domain, shop.Secrets.AccessToken).CollectionProducts(ctx, r.TargetID)
	if err != nil {
		var ce *core.Error
		if errors.As(err, &ce) {
			return core.Errorf(ce.Code, "collection %s: %s", r.TargetID, ce.Message)
		}
		return err
	}
	r.TargetID, r.Products = col.ID, col.ProductIDs
	if r.Title == "" {
		r.Title = col.Title
	}
	return nil
}

// refreshCollection reads a Shopify collection rule's products again
// (products added to or removed from the collection since).
func (s *Server) refreshCollection(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	id, err := ruleID(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 60*time.Second)
	defer cancel()
	rules, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.ID != id {
			continue
		}
		if r.Target != core.TargetCollection || shop.Platform != core.PlatformShopify {
			return core.Errorf(core.EINVALID, "only a Shopify collection rule reads its products from Shopify")
		}
		r.Products = nil
		if err := s.fillCollection(ctx, shop, &r); err != nil {
			return err
		}
		w := s.deps.Store
		if err := w.SetCollectionProducts(ctx, shop.ID, r.TargetID, r.Products); err != nil {
			return err
		}
		return c.JSON(r)
	}
	return core.Errorf(core.ENOTFOUND, "rule %d not found", id)
}
