package httpapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

// Activity events API (issue 11): POST /api/v1/shops/:shop/events reports
// an activity (or revokes one). It takes the shop's admin token, or a
// request signed like the plugin's (X-Creditbridge-Timestamp and
// X-Creditbridge-Signature over "ts\nMETHOD\npath?query\nbody") with the
// shop's events secret or, on WooCommerce, its plugin secret.

func (s *Server) eventRoutes(api fiber.Router) {
	api.Post("/shops/:shop/events", s.eventsAuth, s.postEvent)
	api.Post("/shops/:shop/events/secret", s.adminAuth, s.rotateEventsSecret)
	api.Get("/shops/:shop/customers/:customer/activities", s.adminAuth, s.listActivities)
}

// eventsAuth accepts a bearer token (adminAuth) or a signed request.
func (s *Server) eventsAuth(c *fiber.Ctx) error {
	if bearer(c) != "" {
		return s.adminAuth(c)
	}
	id, err := strconv.ParseInt(c.Params("shop"), 10, 64)
	if err != nil || id <= 0 {
		return core.Errorf(core.EUNAUTHORIZED, "unknown shop")
	}
	ts := c.Get("X-Creditbridge-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "missing bearer token or X-Creditbridge-Timestamp and X-Creditbridge-Signature")
	}
	if d := time.Since(time.Unix(sec, 0)); d > pluginMaxSkew || d < -pluginMaxSkew {
		return core.Errorf(core.EUNAUTHORIZED, "request timestamp outside the allowed 300 s window")
	}
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	got := strings.ToLower(c.Get("X-Creditbridge-Signature"))
	check := func(shop core.Shop) bool {
		for _, secret := range []string{shop.Secrets.EventsSecret, shop.Secrets.PluginSecret} {
			if secret == "" {
				continue
			}
			probe := shop
			probe.Secrets.PluginSecret = secret
			if s.pluginSigned(probe, ts, c, got) {
				return true
			}
		}
		return false
	}
	shop, ok, err := s.cachedShopBy(ctx, "id:"+strconv.FormatInt(id, 10), func() (core.Shop, error) { return s.deps.Store.ShopByID(ctx, id) })
	if err != nil {
		return err
	}
	if !ok || !check(shop) {
		// A secret rotated by another replica: reload once.
		fresh, err := s.deps.Store.ShopByID(ctx, id)
		if err != nil || !check(fresh) {
			return core.Errorf(core.EUNAUTHORIZED, "bad request signature")
		}
		s.shopCache.Set("id:"+strconv.FormatInt(id, 10), cachedShop{shop: fresh, ok: true})
		shop = fresh
	}
	c.Locals(localsPrincipal, principal{shop: shop, actor: "events"})
	return c.Next()
}

type eventReq struct {
	Kind    string `json:"kind"`
	Subject flexID `json:"subject"`
	Object  flexID `json:"object"`
	Key     string `json:"idempotency_key"`
	Action  string `json:"action"` // "" or "record", "revoke"
}

func (s *Server) postEvent(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	if s.deps.Activities == nil {
		return core.Errorf(core.ENOTFOUND, "activity rewards are not enabled")
	}
	var r eventReq
	if err := decodeLenient(c, &r); err != nil {
		return err
	}
	owner, err := ownerParam(string(r.Subject))
	if err != nil || owner.Kind != core.OwnerCustomer {
		return core.Errorf(core.EINVALID, "subject must be a platform customer id (digits), c:<digits> or g:<32 hex>")
	}
	key := r.Key
	if key == "" {
		key = c.Get("Idempotency-Key")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	var ev core.ActivityEvent
	switch r.Action {
	case "", "record":
		ev, err = s.deps.Activities.Record(ctx, shop, core.ActivityRequest{Kind: r.Kind, Owner: owner, Object: string(r.Object), Key: key})
	case "revoke":
		if key == "" {
			return core.Errorf(core.EINVALID, "revoke needs the idempotency_key of the activity")
		}
		ev, err = s.deps.Activities.Revoke(ctx, shop, owner, key)
	default:
		return core.Errorf(core.EINVALID, "action must be record or revoke")
	}
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if !ev.Replayed && (r.Action == "" || r.Action == "record") {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(fiber.Map{"event": ev})
}

// rotateEventsSecret sets a new events secret and returns it once.
func (s *Server) rotateEventsSecret(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	fresh, err := s.deps.Store.ShopByID(ctx, shop.ID) // secrets as stored now
	if err != nil {
		return err
	}
	fresh.Secrets.EventsSecret = randomToken("evsec_", 24)
	if err := s.deps.Store.UpdateShop(ctx, fresh); err != nil {
		return err
	}
	s.ForgetShops()
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"events_secret": fresh.Secrets.EventsSecret})
}

func (s *Server) listActivities(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	if s.deps.ActivityLog == nil {
		return core.Errorf(core.ENOTFOUND, "activity rewards are not enabled")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	evs, err := s.deps.ActivityLog(ctx, shop.ID, owner, 100)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []core.ActivityEvent{}
	}
	return c.JSON(fiber.Map{"activities": evs})
}
