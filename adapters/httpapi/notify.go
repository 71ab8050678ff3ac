package httpapi

import (
	"crypto/hmac"
	"encoding/base64"
	"net/url"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

// Notifications (issue 11): the merchant's signing secret and log, and
// the customers' unsubscribe link.

func init() { extraRouteFuncs = append(extraRouteFuncs, notifyRoutes) }

func notifyRoutes(s *Server, app *fiber.App, api fiber.Router) {
	api.Post("/shops/:shop/notifications/secret", s.adminAuth, s.rotateNotifySecret)
	api.Get("/shops/:shop/notifications", s.adminAuth, s.listNotifications)
	app.Get("/unsubscribe", s.unsubscribe)
	app.Post("/unsubscribe", s.unsubscribe)
}

// rotateNotifySecret sets a new webhook signing secret and returns it once.
func (s *Server) rotateNotifySecret(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	fresh, err := s.deps.Store.ShopByID(ctx, shop.ID)
	if err != nil {
		return err
	}
	fresh.Secrets.NotifySecret = randomToken("whsig_", 24)
	if err := s.deps.Store.UpdateShop(ctx, fresh); err != nil {
		return err
	}
	s.ForgetShops()
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"notify_secret": fresh.Secrets.NotifySecret})
}

func (s *Server) listNotifications(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	if s.deps.NotificationLog == nil {
		return core.Errorf(core.ENOTFOUND, "notifications are not enabled")
	}
	limit := c.QueryInt("limit", 50)
	if limit <= 0 || limit > 500 {
		return core.Errorf(core.EINVALID, "limit must be 1..500")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	out, err := s.deps.NotificationLog(ctx, shop.ID, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"notifications": out})
}

// unsubscribe: GET shows a confirmation, POST (the button, or a mail
// client's RFC 8058 one-click request) withdraws the customer's marketing
// consent. The link is signed with the shop's customer key.
func (s *Server) unsubscribe(c *fiber.Ctx) error {
	if s.deps.Consent == nil {
		return core.Errorf(core.ENOTFOUND, "not found")
	}
	bad := core.Errorf(core.ENOTFOUND, "this unsubscribe link is not valid")
	shopID, err := strconv.ParseInt(c.Query("s"), 10, 64)
	if err != nil || shopID <= 0 {
		return bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Query("c"))
	if err != nil || len(raw) == 0 || len(raw) > 200 {
		return bad
	}
	owner := core.Owner{Kind: core.OwnerCustomer, ID: string(raw)}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	shop, err := s.deps.Store.ShopByID(ctx, shopID)
	if err != nil || shop.Secrets.CustomerKey == "" {
		return bad
	}
	want := core.SignLink(shop.Secrets.CustomerKey, "unsubscribe:"+strconv.FormatInt(shop.ID, 10)+":"+owner.ID)
	if !hmac.Equal([]byte(want), []byte(c.Query("sig"))) {
		return bad
	}
	data := struct {
		L      any
		Shop   string
		Done   bool
		Action string
	}{L: localeFor(c, shop, ""), Shop: shop.Name, Action: "/unsubscribe?" + url.Values{"s": {c.Query("s")}, "c": {c.Query("c")}, "sig": {c.Query("sig")}}.Encode()}
	if c.Method() == fiber.MethodPost {
		if err := s.deps.Consent(ctx, shop, owner, false); err != nil {
			return err
		}
		data.Done = true
	}
	out, err := render("unsubscribe.html", data)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString(out)
}
