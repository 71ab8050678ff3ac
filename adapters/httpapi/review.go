package httpapi

// Program review (issue 10):
//
//	GET  /api/v1/shops/:shop/review?months=12[&currency=EUR]   per month issued, redeemed, expired, breakage,
//	                                                            liability at month end; redemption rate; repeat
//	                                                            purchases with and without credit; top partners
//	GET  /api/v1/shops/:shop/review.csv?months=12               the months as CSV
//	POST /api/v1/shops/:shop/review/simulate                    {"days": 30, "rules": [...]}: the last days' orders
//	                                                            replayed under edited rules; nothing is booked

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/rulecsv"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, reviewRoutes) }

// reviewStore reads the review's figures and the orders a simulation
// replays (postgres.APIStore).
type reviewStore interface {
	core.ReviewSource
	core.SimulationSource
}

func reviewRoutes(s *Server, _ *fiber.App, api fiber.Router) {
	// The /shops group's adminAuth middleware already covers these paths.
	api.Get("/shops/:shop/review", s.review)
	api.Get("/shops/:shop/review.csv", s.review)
	api.Post("/shops/:shop/review/simulate", s.simulate)
}

// MaxSimulationDays bounds the period a simulation replays.
const MaxSimulationDays = 366

func (s *Server) review(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	cur, err := currencyOf(c, shop)
	if err != nil {
		return err
	}
	posts, src := s.deps.Accounting, s.deps.Store
	if posts == nil {
		return core.Errorf(core.ENOTFOUND, "the program review is not available")
	}
	ctx, cancel := reqCtx(c, 60*time.Second)
	defer cancel()
	rev, err := core.BuildReview(ctx, posts, src, shop, cur, c.QueryInt("months", 12), time.Now())
	if err != nil {
		return err
	}
	f := func(d decimal.Decimal) string { return core.StringFixedFor(cur, d) }
	rate := func(d decimal.NullDecimal) any {
		if !d.Valid {
			return nil
		}
		return d.Decimal.StringFixed(4)
	}
	if strings.HasSuffix(c.Path(), ".csv") {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write([]string{"month", "currency", "issued", "redeemed", "expired", "adjustments", "breakage", "breakage_rate", "liability_end"})
		for _, m := range rev.Months {
			br := ""
			if m.BreakageRate.Valid {
				br = m.BreakageRate.Decimal.StringFixed(4)
			}
			_ = w.Write([]string{m.Month, cur, f(m.Issued), f(m.Redeemed), f(m.Expired), f(m.Adjustments), f(m.Breakage), br, f(m.Liability)})
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="creditbridge-review-`+strconv.FormatInt(shop.ID, 10)+`-`+rev.From+`-`+rev.To+`.csv"`)
		return c.Send(b.Bytes())
	}
	months := make([]fiber.Map, 0, len(rev.Months))
	for _, m := range rev.Months {
		months = append(months, fiber.Map{"month": m.Month, "issued": f(m.Issued), "redeemed": f(m.Redeemed), "expired": f(m.Expired),
			"adjustments": f(m.Adjustments), "breakage": f(m.Breakage), "breakage_rate": rate(m.BreakageRate), "liability_end": f(m.Liability)})
	}
	repeat := func(r core.RepeatStats) fiber.Map {
		return fiber.Map{"customers": r.Customers, "repeat": r.Repeat, "rate": rate(r.Rate)}
	}
	partners := make([]fiber.Map, 0, len(rev.TopPartners))
	for _, p := range rev.TopPartners {
		partners = append(partners, fiber.Map{"partner_id": p.PartnerID, "name": p.Name, "earned": f(p.Earned)})
	}
	return c.JSON(fiber.Map{"currency": cur, "from": rev.From, "to": rev.To, "months": months, "redemption_rate": rate(rev.RedemptionRate),
		"repeat_with_credit": repeat(rev.WithCredit), "repeat_without_credit": repeat(rev.WithoutCredit), "top_partners": partners})
}

// simulateReq is a simulation: the days to replay and the edited rules
// (absent: the shop's rules). A collection rule without products keeps
// the stored members of its collection.
type simulateReq struct {
	Days  int          `json:"days"`
	Rules *[]core.Rule `json:"rules"`
	// CSV is the edited rules as a rules file (the export's format),
	// instead of Rules.
	CSV *string `json:"csv"`
}

func (s *Server) simulate(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	var req simulateReq
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	if req.Days == 0 {
		req.Days = 30
	}
	if req.Days < 1 || req.Days > MaxSimulationDays {
		return core.Errorf(core.EINVALID, "days must be 1..%d", MaxSimulationDays)
	}
	src := s.deps.Store
	ctx, cancel := reqCtx(c, 60*time.Second)
	defer cancel()
	stored, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	rules := stored
	if req.CSV != nil {
		parsed, bad, err := rulesFromCSV(*req.CSV)
		if err != nil {
			return err
		}
		if len(bad) > 0 {
			// The lines carry their errors at the field, for the page.
			first := bad[0].Errors[0]
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": fiber.Map{"code": core.EINVALID,
				"message": "line " + strconv.Itoa(bad[0].Line) + ": " + first.Field + ": " + first.Message}, "lines": bad})
		}
		req.Rules = &parsed
	}
	if req.Rules != nil {
		rules = *req.Rules
		members := map[string][]string{}
		for _, r := range stored {
			if r.Target == core.TargetCollection {
				members[r.TargetID] = r.Products
			}
		}
		for i := range rules {
			if err := rules[i].Validate(); err != nil {
				return core.Errorf(core.EINVALID, "rule %d: %s", i+1, core.ErrorMessage(err))
			}
			if rules[i].Target == core.TargetCollection && rules[i].Products == nil {
				rules[i].Products = members[rules[i].TargetID]
			}
		}
	}
	// Streamed, each owner's yearly budget starting from what booking had
	// used before the period (core.Simulate).
	res, err := core.Simulate(ctx, src, shop, core.NewRuleSet(rules), time.Now().AddDate(0, 0, -req.Days))
	if err != nil {
		return err
	}
	f := func(d decimal.Decimal) string { return core.StringFixedFor(res.Currency, d) }
	lines := make([]fiber.Map, 0, len(res.ByBeneficiary))
	for _, l := range res.ByBeneficiary {
		lines = append(lines, fiber.Map{"beneficiary": l.Beneficiary, "current": f(l.Current), "simulated": f(l.Simulated), "difference": f(l.Simulated.Sub(l.Current))})
	}
	return c.JSON(fiber.Map{"days": req.Days, "currency": res.Currency, "orders": res.Orders, "current": f(res.Current), "simulated": f(res.Simulated),
		"difference": f(res.Difference), "by_beneficiary": lines, "booked": false})
}

// rulesFromCSV reads edited rules from a rules file; bad are the
// invalid lines with their errors at the field (a rule named twice too).
func rulesFromCSV(text string) (rules []core.Rule, bad []core.RuleImportLine, err error) {
	rows, err := rulecsv.Read(strings.NewReader(text))
	if err != nil {
		return nil, nil, err
	}
	plan := core.PlanRuleImport(nil, rows)
	for _, l := range plan.Lines {
		if l.Action == core.ImportInvalid {
			bad = append(bad, l)
			continue
		}
		rules = append(rules, *l.Rule)
	}
	return rules, bad, nil
}
