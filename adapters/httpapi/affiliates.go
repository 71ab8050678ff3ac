package httpapi

// Affiliate accounts (partners): enrolment and the sponsor tree for the
// merchant, the share code for customers.
//
// Routes (registered through extraRouteFuncs):
//
//	GET   /api/v1/shops/:shop/partners                      admin; ?q=&sponsor=&status=&cursor=&limit=
//	POST  /api/v1/shops/:shop/partners                      admin; enrol a customer {customer_id, id?, code?, sponsor_id?, name?, status?}
//	GET   /api/v1/shops/:shop/partners/:partner             admin; partner, upline, moves, share link
//	PUT   /api/v1/shops/:shop/partners/:partner             admin; create or replace
//	PATCH /api/v1/shops/:shop/partners/:partner             admin; change sponsor, code, name, status, link a customer
//	GET   /api/v1/shops/:shop/partners/:partner/downline    admin; direct downline, paginated
//	POST  /api/v1/shops/:shop/customers/:customer/claim-guest  admin; {email}: the guest's credit moves to the customer
//	GET   /api/v1/shops/:shop/referral-rewards              admin; bring-a-friend rewards and refusals, ?status=&cursor=&limit=
//	GET   /api/v1/shops/:shop/referral-refusals             admin; self-referrals refused (customer, email, household), ?cursor=&limit=
//	POST  /api/v1/shops/:shop/referral-refusals/:order/reverse admin; take back the partner credit of one found later
//	GET   /api/v1/me/referral, POST /api/v1/me/referral     customer token; share code / self-signup
//	GET   /api/v1/plugin/customers/:customer/referral, POST …  signed (WooCommerce plugin)
//	POST  /proxy/referral                                   Shopify app proxy; the statement page's signup form

import (
	"context"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, affiliateRoutes) }

// affiliateRoutes runs after routes() registered the /shops (adminAuth)
// and /me (customerAuth) groups, whose middleware therefore runs before
// these handlers; the plugin routes carry their own pluginAuth because
// the plugin group may be registered after them.
func affiliateRoutes(s *Server, app *fiber.App, api fiber.Router) {
	for _, p := range []string{"/proxy", "/shopify/proxy"} {
		app.Post(p+"/referral", s.proxyReferralSignup) // storefront statement's signup form (shopifyapp.go)
	}
	api.Get("/shops/:shop/partners", s.listPartners)
	api.Post("/shops/:shop/partners", s.enrolPartner)
	api.Get("/shops/:shop/partners/:partner", s.getPartner)
	api.Put("/shops/:shop/partners/:partner", s.putPartner)
	api.Patch("/shops/:shop/partners/:partner", s.patchPartner)
	api.Get("/shops/:shop/partners/:partner/downline", s.partnerDownline)
	api.Post("/shops/:shop/customers/:customer/claim-guest", s.claimGuest)
	api.Get("/shops/:shop/referral-rewards", s.listReferralRewards)
	api.Get("/shops/:shop/referral-refusals", s.listReferralRefusals)
	api.Post("/shops/:shop/referral-refusals/:order/reverse", s.reverseReferralRefusal)
	api.Get("/me/referral", s.meReferral)
	api.Post("/me/referral", s.meReferralSignup)
	api.Get("/plugin/customers/:customer/referral", s.pluginAuth, s.pluginReferral)
	api.Post("/plugin/customers/:customer/referral", s.pluginAuth, s.pluginReferralSignup)
}

func partnerParam(c *fiber.Ctx) (string, error) {
	id := c.Params("partner")
	if !partnerID.MatchString(id) {
		return "", core.Errorf(core.EINVALID, "partner id must be 1..200 letters, digits, '-', '_' or '.'")
	}
	return utils.CopyString(id), nil
}

// scopedPartner is the shop the caller may act on (scopedShop) and the
// route's partner id.
func (s *Server) scopedPartner(c *fiber.Ctx) (core.Shop, string, error) {
	shop, err := s.scopedShop(c)
	if err != nil {
		return shop, "", err
	}
	id, err := partnerParam(c)
	return shop, id, err
}

// queryLimit is the page size asked for by ?limit= (1..200), 0 when not
// given.
func queryLimit(c *fiber.Ctx) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, core.Errorf(core.EINVALID, "limit must be 1..200")
	}
	return n, nil
}

func partnerQuery(c *fiber.Ctx) (core.PartnerQuery, error) {
	q := core.PartnerQuery{Search: utils.CopyString(c.Query("q")), SponsorID: utils.CopyString(c.Query("sponsor")),
		Status: core.PartnerStatus(utils.CopyString(c.Query("status"))), After: utils.CopyString(c.Query("cursor"))}
	if len(q.Search) > 200 {
		return q, core.Errorf(core.EINVALID, "q must be at most 200 characters")
	}
	switch q.Status {
	case "", core.PartnerActive, core.PartnerPending, core.PartnerInactive:
	default:
		return q, core.Errorf(core.EINVALID, "status must be active, pending or inactive")
	}
	var err error
	q.Limit, err = queryLimit(c)
	return q, err
}

func (s *Server) listPartners(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	q, err := partnerQuery(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	page, err := s.deps.Store.ListPartners(ctx, shop.ID, q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) partnerDownline(c *fiber.Ctx) error {
	shop, id, err := s.scopedPartner(c)
	if err != nil {
		return err
	}
	q, err := partnerQuery(c)
	if err != nil {
		return err
	}
	q.SponsorID = id
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	if _, err := s.deps.Store.Partner(ctx, shop.ID, id); err != nil {
		return err
	}
	page, err := s.deps.Store.ListPartners(ctx, shop.ID, q)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// partnerDetail is a partner with what the merchant needs around it.
type partnerDetail struct {
	core.Partner
	Account   string             `json:"account"`
	ShareLink string             `json:"share_link"`
	Upline    []core.Partner     `json:"upline"`
	Moves     []core.PartnerMove `json:"moves"`
}

// partnerView answers a partnerDetail.
func (s *Server) partnerView(c *fiber.Ctx, shop core.Shop, p core.Partner) error {
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	up, err := s.deps.Store.Upline(ctx, shop.ID, p.ID, core.MaxPartnerLevels)
	if err != nil {
		return err
	}
	moves, err := s.deps.Store.Moves(ctx, shop.ID, p.ID)
	if err != nil {
		return err
	}
	if moves == nil {
		moves = []core.PartnerMove{}
	}
	return c.JSON(partnerDetail{Partner: p, Account: p.Owner().String(), ShareLink: core.ShareLink(shop, p.Code), Upline: up, Moves: moves})
}

func (s *Server) getPartner(c *fiber.Ctx) error {
	shop, id, err := s.scopedPartner(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	p, err := s.deps.Store.Partner(ctx, shop.ID, id)
	if err != nil {
		return err
	}
	return s.partnerView(c, shop, p)
}

func (s *Server) savePartner(c *fiber.Ctx, shop core.Shop, p core.Partner, status int) error {
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	out, err := s.deps.Store.SavePartner(ctx, shop, p, getPrincipal(c).actor)
	if err != nil {
		return err
	}
	if out.CustomerID != "" && s.deps.Notify != nil {
		s.deps.Notify(ctx, shop, []core.Owner{out.Owner()})
	}
	out, err = s.deps.Store.Partner(ctx, shop.ID, out.ID)
	if err != nil {
		return err
	}
	c.Status(status)
	return s.partnerView(c, shop, out)
}

// putPartner creates or replaces a partner: absent fields are cleared,
// except the code (kept, or generated) and the customer link (permanent).
func (s *Server) putPartner(c *fiber.Ctx) error {
	shop, id, err := s.scopedPartner(c)
	if err != nil {
		return err
	}
	var p core.Partner
	if err := decode(c, &p); err != nil {
		return err
	}
	p.ID = id
	return s.savePartner(c, shop, p, fiber.StatusOK)
}

// patchPartner changes the fields it is sent: "sponsor_id": "" makes the
// partner a root; moving a partner changes only future earnings.
func (s *Server) patchPartner(c *fiber.Ctx) error {
	shop, id, err := s.scopedPartner(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	p, err := s.deps.Store.Partner(ctx, shop.ID, id)
	if err != nil {
		return err
	}
	if err := decode(c, &p); err != nil {
		return err
	}
	p.ID = id
	return s.savePartner(c, shop, p, fiber.StatusOK)
}

// enrolPartner makes a customer a partner (id c-<customer id> unless
// given).
func (s *Server) enrolPartner(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	var p core.Partner
	if err := decode(c, &p); err != nil {
		return err
	}
	if p.CustomerID == "" {
		return core.Errorf(core.EINVALID, "customer_id is required: a partner is a shop customer")
	}
	if !platformID.MatchString(p.CustomerID) {
		return core.Errorf(core.EINVALID, "customer_id must be the platform customer id (digits)")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	if cur, ok, err := s.deps.Store.PartnerByCustomer(ctx, shop.ID, p.CustomerID); err != nil {
		return err
	} else if ok {
		return core.Errorf(core.ECONFLICT, "customer %s is already partner %s", p.CustomerID, cur.ID)
	}
	if p.ID == "" {
		p.ID = core.PartnerIDForCustomer(p.CustomerID)
	}
	if _, err := s.deps.Store.Partner(ctx, shop.ID, p.ID); err == nil {
		return core.Errorf(core.ECONFLICT, "partner %s exists: change it with PATCH", p.ID)
	} else if core.ErrorCode(err) != core.ENOTFOUND {
		return err
	}
	return s.savePartner(c, shop, p, fiber.StatusCreated)
}

// partnerAccount maps partner:<id> to the account it spends from: its
// linked customer's.
func (s *Server) partnerAccount(c *fiber.Ctx, shop core.Shop, owner core.Owner) (core.Owner, error) {
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	p, err := s.deps.Store.Partner(ctx, shop.ID, owner.ID)
	if err != nil {
		return owner, err
	}
	if p.CustomerID == "" {
		return owner, core.Errorf(core.EINVALID, "partner %s is not linked to a customer: link it (PATCH …/partners/%s with customer_id) so it can spend its credit", p.ID, p.ID)
	}
	return p.Owner(), nil
}

// referralJSON is a customer's share code, link and partner status.
func (s *Server) referralJSON(c *fiber.Ctx, shop core.Shop, owner core.Owner) error {
	pid, ok := customerPlatformID(owner)
	out := fiber.Map{"signup": shop.Settings.Referral.SignupMode(), "partner": nil, "code": nil, "share_link": nil}
	if !ok {
		return c.JSON(out)
	}
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	p, found, err := s.deps.Store.PartnerByCustomer(ctx, shop.ID, pid)
	if err != nil {
		return err
	}
	if found {
		out["partner"] = fiber.Map{"id": p.ID, "status": p.Status, "downline": p.Downline}
		out["code"] = p.Code
		out["share_link"] = core.ShareLink(shop, p.Code)
	}
	return c.JSON(out)
}

func customerPlatformID(o core.Owner) (string, bool) {
	if o.Kind != core.OwnerCustomer || len(o.ID) < 3 || o.ID[:2] != "c:" {
		return "", false
	}
	return o.ID[2:], true
}

// referralSignup enrols the customer as a partner (self-signup): active
// when the shop's signup is open, pending its approval otherwise. The
// sponsor is the partner the customer is bound to, if any.
func (s *Server) referralSignup(c *fiber.Ctx, shop core.Shop, owner core.Owner) error {
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	created, err := s.selfEnrol(ctx, shop, owner)
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return s.referralJSON(c, shop, owner)
}

// selfEnrol makes the customer a partner (self-signup) unless they are
// one; created says whether it did.
func (s *Server) selfEnrol(ctx context.Context, shop core.Shop, owner core.Owner) (bool, error) {
	pid, ok := customerPlatformID(owner)
	if !ok {
		return false, core.Errorf(core.EINVALID, "only registered customers can become partners")
	}
	mode := shop.Settings.Referral.SignupMode()
	if mode == core.SignupClosed {
		return false, core.Errorf(core.EINVALID, "this shop enrols partners itself (self-signup is closed)")
	}
	if _, found, err := s.deps.Store.PartnerByCustomer(ctx, shop.ID, pid); err != nil || found {
		return false, err
	}
	p := core.Partner{ID: core.PartnerIDForCustomer(pid), CustomerID: pid, Status: core.PartnerPending}
	if mode == core.SignupOpen {
		p.Status = core.PartnerActive
	}
	if sponsor, ok, err := s.deps.Store.BoundPartner(ctx, shop.ID, owner); err != nil {
		return false, err
	} else if ok && sponsor != p.ID {
		p.SponsorID = sponsor
	}
	if _, err := s.deps.Store.SavePartner(ctx, shop, p, "self-signup"); err != nil {
		return false, err
	}
	return true, nil
}

func (s *Server) meReferral(c *fiber.Ctx) error {
	shop, owner := s.meOwner(c)
	return s.referralJSON(c, shop, owner)
}

func (s *Server) meReferralSignup(c *fiber.Ctx) error {
	shop, owner := s.meOwner(c)
	return s.referralSignup(c, shop, owner)
}

func (s *Server) pluginReferral(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	return s.referralJSON(c, shop, owner)
}

func (s *Server) pluginReferralSignup(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	return s.referralSignup(c, shop, owner)
}

// claimGuest moves the credit of a guest e-mail's orders to a registered
// customer. The merchant vouches that the customer owns the address
// (Shopify does so itself for verified e-mails, see customers/update).
func (s *Server) claimGuest(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	pid, ok := customerPlatformID(owner)
	if !ok {
		return core.Errorf(core.EINVALID, "guest credit is claimed by a registered customer (a platform customer id)")
	}
	var r struct {
		Email string `json:"email"`
	}
	if err := decode(c, &r); err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	txs, err := s.deps.Store.ClaimGuest(ctx, shop, r.Email, pid, getPrincipal(c).actor)
	if err != nil {
		return err
	}
	if len(txs) > 0 && s.deps.Notify != nil {
		s.deps.Notify(ctx, shop, []core.Owner{owner})
	}
	ids := make([]int64, len(txs))
	for i, t := range txs {
		ids[i] = t.ID
	}
	return c.JSON(fiber.Map{"account": owner.ID, "transaction_ids": ids})
}

// listReferralRewards lists the shop's bring-a-friend decisions, newest
// first: rewards paid, refusals with their reason (monthly_limit,
// min_order, not_first, currency, inactive) and reversals.
func (s *Server) listReferralRewards(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	q := core.ReferralQuery{Status: core.ReferralStatus(utils.CopyString(c.Query("status")))}
	switch q.Status {
	case "", core.ReferralRewarded, core.ReferralRefused, core.ReferralReversed:
	default:
		return core.Errorf(core.EINVALID, "status must be rewarded, refused or reversed")
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return core.Errorf(core.EINVALID, "cursor must be a cursor from an earlier page")
		}
		q.Before = n
	}
	if q.Limit, err = queryLimit(c); err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	page, err := s.deps.Store.ReferralRewards(ctx, shop.ID, q)
	if err != nil {
		return err
	}
	// Amounts with the currency's minor units, like every other amount.
	out := make([]fiber.Map, len(page.Rewards))
	for i, r := range page.Rewards {
		m := fiber.Map{"referred": r.Referred, "referrer": r.Referrer, "order_id": r.OrderID, "order_number": r.OrderNumber, "status": r.Status,
			"currency": r.Currency, "order_net": core.StringFixedFor(r.Currency, r.OrderNet), "reward_amount": core.StringFixedFor(r.Currency, r.RewardAmount),
			"welcome_amount": core.StringFixedFor(r.Currency, r.WelcomeAmount), "ordered_at": r.OrderedAt, "created_at": r.CreatedAt}
		if r.Refusal != "" {
			m["refusal"] = r.Refusal
		}
		if r.RewardTxID != 0 {
			m["reward_transaction_id"] = r.RewardTxID
		}
		if r.WelcomeTxID != 0 {
			m["welcome_transaction_id"] = r.WelcomeTxID
		}
		if r.ReversedAt != nil {
			m["reversed_at"] = r.ReversedAt
		}
		out[i] = m
	}
	return c.JSON(fiber.Map{"rewards": out, "next_cursor": page.Next})
}

// listReferralRefusals lists the shop's self-referrals, newest first: the
// orders that credited no partner because the buyer is a partner of the
// chain (reason customer, email or household), with the reason's text in
// the shop's language ("text") and in both ("text_de", "text_en").
func (s *Server) listReferralRefusals(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	var before int64
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return core.Errorf(core.EINVALID, "cursor must be a cursor from an earlier page")
		}
		before = n
	}
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return core.Errorf(core.EINVALID, "limit must be 1..200")
		}
		limit = n
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	list, next, err := s.deps.Store.ReferralRefusals(ctx, shop.ID, before, limit)
	if err != nil {
		return err
	}
	out := make([]fiber.Map, len(list))
	for i, r := range list {
		out[i] = s.refusalJSON(c, shop, r)
	}
	return c.JSON(fiber.Map{"refusals": out, "next_cursor": next})
}

// refusalJSON is one recorded self-referral with its reason and status
// in the shop's language ("text", "status_text") and in both.
func (s *Server) refusalJSON(c *fiber.Ctx, shop core.Shop, r core.ReferralRefusal) fiber.Map {
	de, en := i18n.New(i18n.Match("de", ""), shop.Settings.TimeZone), i18n.New(i18n.Match("en", ""), shop.Settings.TimeZone)
	loc := localeFor(c, shop, "")
	key, st := "admin.referral.self."+r.Reason, "admin.referral.self.status."+r.Status()
	m := fiber.Map{"order_id": r.OrderID, "order_number": r.OrderNumber, "buyer": r.Buyer, "partner": r.Partner, "reason": r.Reason,
		"found_later": r.FoundLater, "status": r.Status(), "created_at": r.CreatedAt,
		"text": loc.T(key), "text_de": de.T(key), "text_en": en.T(key),
		"status_text": loc.T(st), "status_text_de": de.T(st), "status_text_en": en.T(st)}
	if r.ReversedAt != nil {
		m["reversed_at"], m["reversed_by"] = r.ReversedAt, r.ReversedBy
	}
	return m
}

// reverseReferralRefusal takes back the partner credit (every level, and
// the bring-a-friend reward and welcome credit it paid) of an order whose
// self-referral was found after it earned: correction entries pointing at
// what they correct, never below zero without a recorded overdraft. A
// repeat books nothing and answers the same refusal.
func (s *Server) reverseReferralRefusal(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	orderID := utils.CopyString(c.Params("order"))
	if orderID == "" || len(orderID) > 64 {
		return core.Errorf(core.EINVALID, "order must be an order id")
	}
	ctx, cancel := reqCtx(c, 15*time.Second)
	defer cancel()
	r, txs, changed, err := s.deps.Store.ReverseReferralRefusal(ctx, shop, orderID, getPrincipal(c).actor)
	if err != nil {
		return err
	}
	if s.deps.Notify != nil && len(changed) > 0 {
		s.deps.Notify(ctx, shop, changed)
	}
	ids := make([]int64, 0, len(txs))
	for _, t := range txs {
		ids = append(ids, t.ID)
	}
	out := s.refusalJSON(c, shop, r)
	out["transaction_ids"] = ids
	return c.JSON(out)
}
