package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/shopspring/decimal"
)

// Vouchers issues voucher codes (redeem path).
type Vouchers = core.VoucherService

func (s *Server) routes(app *fiber.App) {
	api := app.Group("/api/v1")
	s.eventRoutes(api) // before the admin group: signed requests carry no bearer token
	admin := api.Group("/shops", s.adminAuth)
	admin.Post("/", s.createShop)
	admin.Get("/:shop", s.getShop)
	admin.Patch("/:shop/settings", s.patchSettings)
	admin.Get("/:shop/rules", s.listRules)
	admin.Put("/:shop/rules", s.putRule)
	admin.Delete("/:shop/rules/:id", s.deleteRule)
	admin.Get("/:shop/customers/:customer/balance", s.adminBalance)
	admin.Get("/:shop/customers/:customer/statement", s.adminStatement)
	admin.Post("/:shop/customers/:customer/adjustments", s.adjust)
	admin.Post("/:shop/customers/:customer/token", s.customerToken)
	admin.Post("/:shop/customers/:customer/vouchers", s.adminVoucher)
	admin.Get("/:shop/dead-letters", s.deadLetters)
	admin.Post("/:shop/dead-letters/:id/retry", s.retryDeadLetter)
	admin.Get("/:shop/report", s.report)
	admin.Get("/:shop/audit", s.audit)

	me := api.Group("/me", s.customerAuth)
	me.Get("/balance", s.meBalance)
	me.Get("/statement", s.meStatement)
	me.Post("/vouchers", s.meVoucher)
	s.extraRoutes(app, api)
}

// extraRoutes is extended by other files of the package.
var extraRouteFuncs []func(s *Server, app *fiber.App, api fiber.Router)

func (s *Server) extraRoutes(app *fiber.App, api fiber.Router) {
	for _, f := range extraRouteFuncs {
		f(s, app, api)
	}
}

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + hex.EncodeToString(b)
}

// provisioner is the shop-provisioning use case (core.ShopProvisioner)
// on the server's store, with Shopify's domain rule.
func (s *Server) provisioner() *core.ShopProvisioner {
	return &core.ShopProvisioner{Store: s.deps.Store, Token: randomToken, CheckDomain: map[core.Platform]func(string) error{
		core.PlatformShopify: func(domain string) error {
			if !shopify.ValidShopDomain(strings.ToLower(strings.TrimSpace(domain))) {
				return core.Errorf(core.EINVALID, "a Shopify shop's domain must be its <name>.myshopify.com domain")
			}
			return nil
		},
	}}
}

type createShopReq struct {
	Platform       core.Platform     `json:"platform"`
	Domain         string            `json:"domain"`
	Name           string            `json:"name"`
	Currency       string            `json:"currency"`
	Settings       core.ShopSettings `json:"settings"`
	WebhookSecret  string            `json:"webhook_secret"`
	ConsumerKey    string            `json:"consumer_key"`
	ConsumerSecret string            `json:"consumer_secret"`
	AccessToken    string            `json:"access_token"`
}

func (s *Server) createShop(c *fiber.Ctx) error {
	if !getPrincipal(c).operator {
		return core.Errorf(core.EUNAUTHORIZED, "only the operator token can create shops")
	}
	var r createShopReq
	if err := decode(c, &r); err != nil {
		return err
	}
	shop := core.Shop{Platform: r.Platform, Domain: r.Domain, Name: r.Name, Currency: r.Currency, Settings: r.Settings,
		Secrets: core.ShopSecrets{WebhookSecret: r.WebhookSecret, ConsumerKey: r.ConsumerKey, ConsumerSecret: r.ConsumerSecret, AccessToken: r.AccessToken}}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	out, tok, err := s.provisioner().Provision(ctx, shop)
	if err != nil {
		return err
	}
	s.ForgetShops() // a cached "unknown shop" must not outlive its creation
	resp := fiber.Map{"shop": out, "admin_token": tok}
	if out.Platform == core.PlatformWooCommerce {
		resp["webhook_url"] = s.cfg.PublicURL + "/webhooks/woocommerce/" + strconv.FormatInt(out.ID, 10)
		resp["webhook_secret"] = out.Secrets.WebhookSecret
	}
	return c.Status(fiber.StatusCreated).JSON(resp)
}

func (s *Server) getShop(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	return c.JSON(shop)
}

func (s *Server) patchSettings(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	// Decode over the current settings so absent fields keep their value.
	if err := decode(c, &shop.Settings); err != nil {
		return err
	}
	if err := shop.Settings.Referral.CheckScale(shop.Currency); err != nil {
		return err
	}
	// An emptied checkout label falls back to the default again.
	for lang, l := range shop.Settings.DiscountLabels {
		if strings.TrimSpace(l) == "" {
			delete(shop.Settings.DiscountLabels, lang)
		}
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	if err := s.deps.Store.UpdateSettings(ctx, shop); err != nil {
		return err
	}
	s.ForgetShops()
	return c.JSON(shop)
}

func (s *Server) listRules(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	rules, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		return err
	}
	if rules == nil {
		rules = []core.Rule{}
	}
	return c.JSON(fiber.Map{"rules": rules})
}

func (s *Server) putRule(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	var r core.Rule
	if err := decode(c, &r); err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 30*time.Second)
	defer cancel()
	// A Shopify collection rule reads its products from the Admin API.
	if err := s.fillCollection(ctx, shop, &r); err != nil {
		return err
	}
	out, err := s.deps.Store.PutRule(ctx, shop.ID, r)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) deleteRule(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	return s.deleteShopRule(c, shop)
}

// deleteShopRule deletes the shop's rule :id (admin API and plugin).
func (s *Server) deleteShopRule(c *fiber.Ctx, shop core.Shop) error {
	id, err := ruleID(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	if err := s.deps.Store.DeleteRule(ctx, shop.ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// pathID is the route's integer :id; what names it in the error.
func pathID(c *fiber.Ctx, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return 0, core.Errorf(core.EINVALID, "%s id must be an integer", what)
	}
	return id, nil
}

// ruleID is the route's rule id (:id).
func ruleID(c *fiber.Ctx) (int64, error) { return pathID(c, "rule") }

func currencyOf(c *fiber.Ctx, shop core.Shop) (string, error) {
	cur := c.Query("currency")
	if cur == "" {
		return shop.Currency, nil
	}
	return core.NormalizeCurrency(cur)
}

func (s *Server) balanceJSON(c *fiber.Ctx, shop core.Shop, owner core.Owner) error {
	cur, err := currencyOf(c, shop)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 3*time.Second)
	defer cancel()
	b, err := s.deps.Ledger.Balance(ctx, shop.ID, cur, owner)
	if err != nil {
		return err
	}
	return c.JSON(BalanceView(b))
}

// BalanceView formats a balance with the currency's decimals.
func BalanceView(b core.Balance) fiber.Map {
	f := func(d decimal.Decimal) string { return core.StringFixedFor(b.Currency, d) }
	return fiber.Map{"currency": b.Currency, "owner": b.Owner.ID, "available": f(b.Available), "pending": f(b.Pending), "held": f(b.Held), "overdraft": f(b.Overdraft.Neg())}
}

func (s *Server) statementJSON(c *fiber.Ctx, shop core.Shop, owner core.Owner) error {
	cur, err := currencyOf(c, shop)
	if err != nil {
		return err
	}
	before, _ := strconv.ParseInt(c.Query("before", c.Query("cursor")), 10, 64)
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	limit := c.QueryInt("limit", 50)
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	// Customers (their token, the plugin acting for them, the app proxy)
	// never see hold/release pairs; merchants may ask to leave them out.
	customerView := !getPrincipal(c).shopAdmin()
	page, err := s.deps.Ledger.Statement(ctx, core.StatementQuery{ShopID: shop.ID, Currency: cur, Owner: owner, Before: before, After: after, Limit: limit,
		HideHolds: customerView || c.QueryBool("hide_holds", false)})
	if err != nil {
		return err
	}
	out := StatementView(cur, page)
	// Descriptions in the reader's language (a plugin passes its locale).
	l := localeFor(c, shop, c.Query("locale"))
	now := time.Now()
	for i, e := range page.Entries {
		m := out["entries"].([]fiber.Map)[i]
		m["description"] = DescribeIn(l, e.Reason)
		// Pending credit: the day it becomes spendable.
		if days := shop.Settings.PendingDays; days > 0 && e.Pending.IsPositive() {
			if from := e.CreatedAt.AddDate(0, 0, days); from.After(now) {
				m["available_from"] = from.UTC().Format(time.RFC3339)
			}
		}
	}
	// Credit earning caps kept from being booked in this stretch of the
	// statement, per order and cap. Customers' clients (the plugin's My
	// Account) render entries, so there each notice is also an entry of
	// kind earn_withheld without a change or balance, beside the
	// entries of its time.
	withheld := make([]fiber.Map, 0, len(page.Withheld))
	for _, w := range page.Withheld {
		withheld = append(withheld, fiber.Map{"order_id": w.OrderID, "order_number": w.OrderNumber, "beneficiary": w.Beneficiary,
			"cap": w.Cap, "amount": core.StringFixedFor(cur, w.Amount), "created_at": w.CreatedAt.UTC().Format(time.RFC3339),
			"description": DescribeWithheld(l, cur, w)})
	}
	out["withheld"] = withheld
	if customerView && len(withheld) > 0 {
		entries := out["entries"].([]fiber.Map)
		merged := make([]fiber.Map, 0, len(entries)+len(withheld))
		notice := func(i int) fiber.Map {
			w := withheld[i]
			return fiber.Map{"id": "", "kind": "earn_withheld", "created_at": w["created_at"], "description": w["description"],
				"order_id": w["order_id"], "order_number": w["order_number"], "beneficiary": w["beneficiary"], "cap": w["cap"],
				"withheld": w["amount"], "delta": "", "available_after": ""}
		}
		next := 0
		for i, e := range page.Entries {
			for n := withheldBefore(page.Withheld[next:], e.CreatedAt); n > 0; n-- {
				merged = append(merged, notice(next))
				next++
			}
			merged = append(merged, entries[i])
		}
		for ; next < len(withheld); next++ {
			merged = append(merged, notice(next))
		}
		out["entries"] = merged
	}
	if customerView && len(page.Entries) == 0 && len(withheld) == 0 && before == 0 && after == 0 {
		out["earn_hints"] = s.earnHints(ctx, l, shop)
	}
	if before == 0 && after == 0 {
		if err := s.statementTier(ctx, l, shop, owner, out); err != nil {
			return err
		}
	}
	if getPrincipal(c).shopAdmin() {
		// The merchant's own notes on adjustments, by transaction.
		for i, e := range page.Entries {
			if e.Reason.Internal != "" {
				out["entries"].([]fiber.Map)[i]["internal_note"] = e.Reason.Internal
			}
		}
	}
	return c.JSON(out)
}

// StatementView formats a statement page for clients.
func StatementView(cur string, page core.StatementPage) fiber.Map {
	f := func(d decimal.Decimal) string { return core.StringFixedFor(cur, d) }
	entries := make([]fiber.Map, 0, len(page.Entries))
	for _, e := range page.Entries {
		entries = append(entries, fiber.Map{
			"id": strconv.FormatInt(e.Seq, 10), "seq": e.Seq, "transaction_id": e.TransactionID, "created_at": e.CreatedAt.UTC().Format(time.RFC3339),
			"kind": e.Reason.Kind, "description": Describe(e.Reason), "order_id": e.Reason.OrderID, "order_number": e.Reason.OrderNumber,
			"product": e.Reason.Product, "sku": e.Reason.SKU, "rule": e.Reason.Rule, "beneficiary": e.Reason.Beneficiary, "note": e.Reason.Note,
			"reverses": e.Reverses, "cap": e.Reason.Cap, "lines": reasonLines(cur, e.Reason.Lines),
			"delta": f(e.Available), "pending_delta": f(e.Pending), "held_delta": f(e.Held), "overdraft_delta": f(e.Overdraft.Neg()),
			"available_after": f(e.AvailableAfter), "pending_after": f(e.PendingAfter), "held_after": f(e.HeldAfter), "overdraft_after": f(e.OverdraftAfter.Neg()),
		})
	}
	out := fiber.Map{"currency": cur, "entries": entries, "next_cursor": "", "prev_cursor": ""}
	if page.NextBefore != 0 {
		out["next_cursor"] = strconv.FormatInt(page.NextBefore, 10)
	}
	if page.PrevAfter != 0 {
		out["prev_cursor"] = strconv.FormatInt(page.PrevAfter, 10)
	}
	return out
}

// reasonLines formats the lines of an earn or earn_reversal entry (one
// transaction per order and beneficiary): what each line moved and why.
func reasonLines(cur string, ls []core.ReasonLine) []fiber.Map {
	out := make([]fiber.Map, 0, len(ls))
	for _, l := range ls {
		out = append(out, fiber.Map{"line_id": l.LineID, "product_id": l.ProductID, "variant_id": l.VariantID, "sku": l.SKU, "product": l.Product,
			"rule": l.Rule, "amount": core.StringFixedFor(cur, l.Amount), "cap": l.Cap, "note": l.Note})
	}
	return out
}

// Describe renders a reason as one English line for statements (see
// DescribeIn for other languages).
func Describe(r core.Reason) string { return DescribeIn(englishUTC, r) }

// scopedOwner resolves :shop (access-checked) and :customer.
func (s *Server) scopedOwner(c *fiber.Ctx) (core.Shop, core.Owner, error) {
	shop, err := s.scopedShop(c)
	if err != nil {
		return shop, core.Owner{}, err
	}
	owner, err := ownerParam(c.Params("customer"))
	return shop, owner, err
}

func (s *Server) adminBalance(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	return s.balanceJSON(c, shop, owner)
}

func (s *Server) adminStatement(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	return s.statementJSON(c, shop, owner)
}

type adjustReq struct {
	Amount   string `json:"amount"` // signed: positive credits, negative debits
	Currency string `json:"currency"`
	Note     string `json:"note"`          // shown to the customer
	Internal string `json:"internal_note"` // seen by the merchant only
	Key      string `json:"idempotency_key"`
}

// adjust posts a manual correction with the actor and a note.
func (s *Server) adjust(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	var r adjustReq
	if err := decode(c, &r); err != nil {
		return err
	}
	cur := shop.Currency
	if r.Currency != "" {
		if cur, err = core.NormalizeCurrency(r.Currency); err != nil {
			return err
		}
	}
	amt, err := core.ParseAmount(cur, i18n.NormalizeDecimal(r.Amount))
	if err != nil {
		return err
	}
	if amt.IsZero() {
		return core.Errorf(core.EINVALID, "an adjustment needs a non-zero amount")
	}
	if len(r.Internal) > 2000 || len(r.Note) > 500 {
		return core.Errorf(core.EINVALID, "note must be at most 500 and internal_note at most 2000 characters")
	}
	if strings.TrimSpace(r.Note) == "" {
		return core.Errorf(core.EINVALID, "an adjustment needs a note")
	}
	key := r.Key
	if key == "" {
		key = c.Get("Idempotency-Key")
	}
	if key == "" {
		return core.Errorf(core.EINVALID, "an adjustment needs an idempotency_key (or Idempotency-Key header)")
	}
	t := core.Transaction{ShopID: shop.ID, Key: "adjust:" + key, Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: getPrincipal(c).actor, Note: r.Note, Internal: r.Internal},
		Postings: []core.Posting{
			{Currency: cur, Owner: owner, Bucket: core.BucketAvailable, Amount: amt},
			{Currency: cur, Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: amt.Neg()},
		}}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	out, err := s.deps.Ledger.Post(ctx, t)
	if err != nil {
		return err
	}
	if s.deps.Notify != nil && !out.Replayed {
		s.deps.Notify(ctx, shop, []core.Owner{owner})
	}
	status := fiber.StatusCreated
	if out.Replayed {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(fiber.Map{"transaction_id": out.ID, "replayed": out.Replayed})
}

func (s *Server) customerToken(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	// A partner's token is its linked customer's: one account per person.
	if owner.Kind == core.OwnerPartner {
		if owner, err = s.partnerAccount(c, shop, owner); err != nil {
			return err
		}
	}
	exp := time.Now().Add(s.cfg.CustomerTokenTTL)
	return c.JSON(fiber.Map{"token": IssueCustomerToken(shop, owner, exp), "expires_at": exp.UTC().Format(time.RFC3339)})
}

type voucherReq struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	Key      string `json:"idempotency_key"` // or the Idempotency-Key header; optional
}

func (s *Server) issueVoucher(c *fiber.Ctx, shop core.Shop, owner core.Owner) error {
	if s.deps.Vouchers == nil {
		return core.Errorf(core.ENOTFOUND, "vouchers are not enabled")
	}
	var r voucherReq
	if err := decode(c, &r); err != nil {
		return err
	}
	cur := shop.Currency
	var err error
	if r.Currency != "" {
		if cur, err = core.NormalizeCurrency(r.Currency); err != nil {
			return err
		}
	}
	amt, err := core.ParseAmount(cur, r.Amount)
	if err != nil {
		return err
	}
	if !amt.IsPositive() {
		return core.Errorf(core.EINVALID, "voucher amount must be positive")
	}
	ctx, cancel := reqCtx(c, 20*time.Second)
	defer cancel()
	key := r.Key
	if key == "" {
		key = utils.CopyString(c.Get("Idempotency-Key"))
	}
	if key == "" {
		key, _ = c.Locals(localsDefaultVoucherKey).(string)
	}
	v, err := s.deps.Vouchers.Issue(ctx, shop, owner, cur, amt, key)
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if v.Replayed {
		status = fiber.StatusOK // the voucher of an earlier request with this key
	}
	return c.Status(status).JSON(fiber.Map{"code": v.Code, "amount": core.StringFixedFor(cur, v.Amount), "currency": cur,
		"expires_at": v.ExpiresAt.UTC().Format(time.RFC3339), "status": v.Status, "id": v.ID})
}

func (s *Server) adminVoucher(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	if owner.Kind == core.OwnerPartner {
		if owner, err = s.partnerAccount(c, shop, owner); err != nil {
			return err
		}
	}
	return s.issueVoucher(c, shop, owner)
}

func (s *Server) deadLetters(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	evs, err := s.deps.Store.DeadLetters(ctx, shop, min(max(c.QueryInt("limit", 100), 1), 500))
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []core.InboxEvent{}
	}
	return c.JSON(fiber.Map{"dead_letters": evs})
}

func (s *Server) retryDeadLetter(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "dead letter")
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	ev, err := s.deps.Store.RetryDeadLetter(ctx, shop, id)
	if err != nil {
		return err
	}
	if err := s.deps.Enqueuer.Enqueue(ctx, ev.ShopID, ev.ID); err != nil {
		s.log.Warn("enqueue of retried dead letter failed; the sweeper will pick it up")
	}
	return c.JSON(fiber.Map{"retried": ev})
}

func (s *Server) report(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 30*time.Second)
	defer cancel()
	pb, err := s.deps.Store.ProgramBalances(ctx, shop.ID)
	if err != nil {
		return err
	}
	out := fiber.Map{}
	for cur, m := range pb {
		p := core.SummarizeProgram(m)
		f := func(d decimal.Decimal) string { return core.StringFixedFor(cur, d) }
		out[cur] = fiber.Map{"issued": f(p.Issued), "redeemed": f(p.Redeemed), "expired": f(p.Expired),
			"vouchers_outstanding": f(p.VouchersOutstanding), "adjustments": f(p.Adjustments), "liability": f(p.Liability)}
	}
	return c.JSON(fiber.Map{"shop_id": shop.ID, "currencies": out})
}

func (s *Server) audit(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 60*time.Second)
	defer cancel()
	r, err := s.deps.Store.Audit(ctx, shop.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": r.OK(), "report": r})
}

func (s *Server) meOwner(c *fiber.Ctx) (core.Shop, core.Owner) {
	o, _ := c.Locals("owner").(core.Owner)
	return getPrincipal(c).shop, o
}

func (s *Server) meBalance(c *fiber.Ctx) error {
	shop, owner := s.meOwner(c)
	return s.balanceJSON(c, shop, owner)
}

func (s *Server) meStatement(c *fiber.Ctx) error {
	shop, owner := s.meOwner(c)
	return s.statementJSON(c, shop, owner)
}

func (s *Server) meVoucher(c *fiber.Ctx) error {
	shop, owner := s.meOwner(c)
	return s.issueVoucher(c, shop, owner)
}

// decode parses a JSON body strictly.
func decode(c *fiber.Ctx, v any) error {
	if len(c.Body()) == 0 {
		return core.Errorf(core.EINVALID, "request body required")
	}
	dec := jsonDecoder(c.Body())
	if err := dec.Decode(v); err != nil {
		return core.Errorf(core.EINVALID, "invalid JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}
