package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

func bodyDigest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

func (s *Server) refuse(c *fiber.Ctx, platform, reason string, status int, msg string) error {
	if s.deps.Metrics != nil {
		s.deps.Metrics.WebhooksRefused.WithLabelValues(platform, reason).Inc()
	}
	s.log.Warn("webhook refused", slog.String("platform", platform), slog.String("reason", reason))
	code := core.EINVALID
	switch status {
	case fiber.StatusUnauthorized:
		code = core.EUNAUTHORIZED
	case fiber.StatusNotFound:
		code = core.ENOTFOUND
	}
	return c.Status(status).JSON(fiber.Map{"error": fiber.Map{"code": code, "message": msg}})
}

// store writes the verified event to the inbox, enqueues it and answers
// 200. The inbox row is the durable copy: an enqueue failure is logged and
// left to the sweeper, never turned into a failed delivery.
func (s *Server) store(c *fiber.Ctx, ev core.InboxEvent, start time.Time) error {
	ctx, cancel := reqCtx(c, 4*time.Second)
	defer cancel()
	stored, dup, err := s.deps.Inbox.Insert(ctx, ev)
	if err != nil {
		return err // 500: the platform retries (Shopify) / the poller catches it (WooCommerce)
	}
	p := string(ev.Platform)
	if dup {
		if s.deps.Metrics != nil {
			s.deps.Metrics.WebhookDuplicates.WithLabelValues(p).Inc()
		}
	} else {
		if s.deps.Metrics != nil {
			m := s.deps.Metrics
			m.WebhooksReceived.WithLabelValues(p, m.TopicLabel(ev.Platform, ev.Topic)).Inc()
		}
		if stored.Status == core.InboxReceived && !stored.Enqueued {
			if err := s.deps.Enqueuer.Enqueue(ctx, stored.ShopID, stored.ID); err != nil {
				s.log.Warn("enqueue failed; the inbox sweeper will pick the event up", slog.Int64("event", stored.ID), slog.Any("error", err))
			}
		}
	}
	if s.deps.Metrics != nil {
		s.deps.Metrics.IngestSeconds.WithLabelValues(p).Observe(time.Since(start).Seconds())
	}
	return c.JSON(fiber.Map{"ok": true, "event_id": stored.ID, "duplicate": dup})
}

func (s *Server) shopifyWebhook(c *fiber.Ctx) error {
	start := time.Now()
	body := c.BodyRaw()
	if len(s.cfg.ShopifySecrets) == 0 {
		return s.refuse(c, "shopify", "not_configured", fiber.StatusNotFound, "Shopify is not configured on this bridge")
	}
	if err := shopify.VerifyWebhook(body, c.Get(shopify.HeaderHmacSHA256), s.cfg.ShopifySecrets...); err != nil {
		return s.refuse(c, "shopify", "signature", fiber.StatusUnauthorized, core.ErrorMessage(err))
	}
	topic := c.Get(shopify.HeaderTopic)
	domain := c.Get(shopify.HeaderShopDomain)
	if topic == "" || !shopify.ValidShopDomain(domain) {
		return s.refuse(c, "shopify", "headers", fiber.StatusBadRequest, "missing X-Shopify-Topic or invalid X-Shopify-Shop-Domain")
	}
	// The headers are not signed: a body that says it belongs to another
	// shop or is another kind of event is refused before it is stored
	// (compliance and uninstall bodies here; order bodies in the worker).
	if shopify.CheckOriginAtIngest(topic) {
		if err := shopify.CheckOrigin(topic, domain, body); err != nil {
			status := fiber.StatusBadRequest
			if core.ErrorCode(err) == core.EUNAUTHORIZED {
				status = fiber.StatusUnauthorized
			}
			return s.refuse(c, "shopify", "origin", status, core.ErrorMessage(err))
		}
	}
	key := c.Get(shopify.HeaderEventID)
	if key == "" {
		key = c.Get(shopify.HeaderWebhookID)
	}
	if key == "" {
		key = "sha:" + bodyDigest(body)
	}
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	shop, ok, err := s.cachedShopBy(ctx, "shopify:"+domain, func() (core.Shop, error) { return s.deps.Store.ShopByDomain(ctx, core.PlatformShopify, domain) })
	if err != nil {
		return err
	}
	var shopID int64
	if ok {
		shopID = shop.ID
	}
	return s.store(c, core.InboxEvent{ShopID: shopID, Platform: core.PlatformShopify, EventKey: key, Topic: topic, ShopDomain: domain, Payload: body}, start)
}

// wooEventKey keys a WooCommerce delivery by order id and modification
// time: WooCommerce has no event id, and the same state delivered twice
// (webhook and poller) must be stored once.
func wooEventKey(body []byte) (string, time.Time, error) {
	var o struct {
		ID       json.Number `json:"id"`
		Modified string      `json:"date_modified_gmt"`
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return "", time.Time{}, err
	}
	if _, err := strconv.ParseInt(o.ID.String(), 10, 64); err != nil {
		return "", time.Time{}, core.Errorf(core.EINVALID, "order id missing")
	}
	t, _ := time.Parse("2006-01-02T15:04:05", o.Modified)
	return "order:" + o.ID.String() + ":" + o.Modified, t, nil
}

// WooEventKey is exported for the poller.
func WooEventKey(body []byte) (string, time.Time, error) { return wooEventKey(body) }

func (s *Server) wooWebhook(c *fiber.Ctx) error {
	start := time.Now()
	body := c.BodyRaw()
	if woocommerce.IsPing(body, func(h string) string { return c.Get(h) }) {
		return c.SendStatus(fiber.StatusOK)
	}
	ctx, cancel := reqCtx(c, 2*time.Second)
	defer cancel()
	shopID, err := strconv.ParseInt(c.Params("shop"), 10, 64)
	if err != nil || shopID <= 0 {
		s.recordWooRefusalBySource(ctx, c, unknownShopReason(c.Params("shop")))
		return s.refuse(c, "woocommerce", "unknown_shop", fiber.StatusNotFound, "unknown shop")
	}
	shop, ok, err := s.cachedShopBy(ctx, "woo:"+strconv.FormatInt(shopID, 10), func() (core.Shop, error) { return s.deps.Store.ShopByID(ctx, shopID) })
	if err != nil {
		return err
	}
	if !ok || shop.Platform != core.PlatformWooCommerce {
		s.recordWooRefusalBySource(ctx, c, unknownShopReason(strconv.FormatInt(shopID, 10)))
		return s.refuse(c, "woocommerce", "unknown_shop", fiber.StatusNotFound, "unknown shop")
	}
	if err := woocommerce.VerifyWebhook(body, c.Get(woocommerce.SignatureHeader), shop.Secrets.WebhookSecret); err != nil {
		s.recordWooRefusal(ctx, shop.ID, "a webhook delivery was refused: "+core.ErrorMessage(err)+
			" (the webhook in WooCommerce has another secret than the bridge, or the delivery was forged); register the plugin again to renew the webhooks")
		return s.refuse(c, "woocommerce", "signature", fiber.StatusUnauthorized, core.ErrorMessage(err))
	}
	// The topic header is not signed: what the delivery does is read
	// from the body (an order snapshot or an id-only deletion notice).
	topic := woocommerce.EffectiveTopic(c.Get(woocommerce.TopicHeader), body)
	key, _, kerr := wooEventKey(body)
	if topic == woocommerce.TopicOrderDeleted || kerr != nil {
		// No modification time to key on: key on the delivery (or the bytes).
		if d := c.Get(woocommerce.DeliveryIDHeader); d != "" {
			key = "delivery:" + d
		} else {
			key = "sha:" + bodyDigest(body)
		}
		if topic == woocommerce.TopicOrderDeleted {
			key = "deleted:" + key
		}
	}
	return s.store(c, core.InboxEvent{ShopID: shop.ID, Platform: core.PlatformWooCommerce, EventKey: key, Topic: topic, ShopDomain: shop.Domain, Payload: body}, start)
}

// unknownShopReason is the health box's reason for a delivery addressed to
// a shop this bridge does not know (the id is echoed only when it is a
// short number: it comes from the request).
func unknownShopReason(id string) string {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
		id = "shop " + strconv.FormatInt(n, 10)
	} else {
		id = "a shop id that is not a number"
	}
	return "a webhook delivery was refused: it was addressed to " + id +
		", which this bridge does not know (a webhook in WooCommerce has an out-of-date delivery URL); register the plugin again to renew the webhooks"
}

// recordWooRefusal records a refused WooCommerce delivery as the shop's
// last failure for the plugin's health box. It never changes the answer:
// a failure to record is logged.
func (s *Server) recordWooRefusal(ctx context.Context, shopID int64, reason string) {
	if s.deps.Health == nil {
		return
	}
	if err := s.deps.Health.RecordRefusedWebhook(ctx, shopID, time.Now(), reason); err != nil {
		s.log.Warn("recording a refused webhook failed", slog.Int64("shop", shopID), slog.Any("error", err))
	}
}

// recordWooRefusalBySource attributes a delivery addressed to an unknown
// shop to the WooCommerce shop whose site sent it (X-WC-Webhook-Source,
// the site's home URL), when this bridge knows that site. The header is
// not signed: it only chooses whose health box shows the (fixed) reason.
func (s *Server) recordWooRefusalBySource(ctx context.Context, c *fiber.Ctx, reason string) {
	if s.deps.Health == nil {
		return
	}
	domain, err := NormalizeSiteURL(c.Get(woocommerce.SourceHeader))
	if err != nil {
		return
	}
	shop, err := s.deps.Store.ShopByDomain(ctx, core.PlatformWooCommerce, domain)
	if err != nil {
		if core.ErrorCode(err) != core.ENOTFOUND {
			s.log.Warn("looking up the site of a refused webhook failed", slog.Any("error", err))
		}
		return
	}
	s.recordWooRefusal(ctx, shop.ID, reason)
}
