package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/cache"
	"github.com/creditbridge/creditbridge/adapters/metrics"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/shopspring/decimal"
)

// Store is what the HTTP layer needs from storage beyond the core
// interfaces (implemented by adapters/postgres types, wired in cmd).
type Store interface {
	core.ShopStore
	ListRules(ctx context.Context, shopID int64) ([]core.Rule, error)
	PutRule(ctx context.Context, shopID int64, r core.Rule) (core.Rule, error)
	DeleteRule(ctx context.Context, shopID, ruleID int64) error
	core.PartnerStore
	ClaimGuest(ctx context.Context, shop core.Shop, email, platformID, actor string) ([]core.Transaction, error)
	core.ReferralRewardStore
	core.ReferralRefusalStore
	// ReverseReferralRefusal takes back the partner credit of an order
	// whose self-referral was found after it earned (correction entries;
	// a repeat books nothing): the refusal as now recorded, the
	// transactions booked and the owners whose balances changed.
	ReverseReferralRefusal(ctx context.Context, shop core.Shop, orderID, actor string) (core.ReferralRefusal, []core.Transaction, []core.Owner, error)
	// GuestOwnerFor returns the guest owner of an e-mail if that guest ever
	// earned (guest claims).
	GuestOwnerFor(ctx context.Context, shop core.Shop, email string) (core.Owner, bool, error)
	// RecordCustomerAddresses keeps a customer record's normalized
	// addresses for the household check (household.go).
	RecordCustomerAddresses(ctx context.Context, shop core.Shop, platformID string, addresses []string) error
	DeadLetters(ctx context.Context, shop core.Shop, limit int) ([]core.InboxEvent, error)
	RetryDeadLetter(ctx context.Context, shop core.Shop, id int64) (core.InboxEvent, error)
	ProgramBalances(ctx context.Context, shopID int64) (map[string]map[core.Bucket]decimal.Decimal, error)
	Audit(ctx context.Context, shopID int64) (core.AuditReport, error)
	SetAdminToken(ctx context.Context, shopID int64, token string) error
	// VouchersFor lists an owner's voucher codes (statement pages, plugin).
	VouchersFor(ctx context.Context, shopID int64, owner core.Owner) ([]core.Voucher, error)
	// SearchCustomers finds customers by id, e-mail or name (admin).
	SearchCustomers(ctx context.Context, shopID int64, q string, limit int) ([]core.CustomerMatch, error)
	// Rule imports and collection members (rules_io.go).
	rulesWriter
	// The program review and its simulation (review.go).
	reviewStore
}

// Config is the HTTP layer's configuration.
type Config struct {
	BodyLimit        int
	AdminToken       string // operator token
	ShopifyClientID  string
	ShopifySecrets   []string // current first, then previous
	PublicURL        string
	CustomerTokenTTL time.Duration
	ReadTimeout      time.Duration
	ShopifyApp       ShopifyAppConfig // install flow, embedded page, app proxy (shopifyapp.go)
	// MetricsToken, when set, is the bearer token /metrics requires
	// (Prometheus: authorization.credentials). Empty serves /metrics to
	// anyone who reaches the listener.
	MetricsToken string
	// FailedPerIPMinute bounds the requests answered with a status of 400
	// or more that one client IP may make per minute; beyond it the IP
	// gets 429 until the minute is over. Successful requests never count,
	// so platforms delivering webhooks at volume are never throttled,
	// while a client spraying unknown shop ids or bad tokens is. Zero
	// means the default (600); negative disables the limit.
	FailedPerIPMinute int
}

// Deps are the server's collaborators.
type Deps struct {
	Log      *slog.Logger
	Metrics  *metrics.Metrics
	Store    Store
	Inbox    core.InboxStore
	Enqueuer core.Enqueuer
	Ledger   core.Ledger
	Redeemer *core.Redeemer
	Vouchers Vouchers // optional (redeem path)
	// Activities pays activity rewards (optional: without it the events
	// API answers 404).
	Activities *core.Activities
	// ActivityLog lists a customer's activities, newest first (optional).
	ActivityLog func(ctx context.Context, shopID int64, owner core.Owner, limit int) ([]core.ActivityEvent, error)
	// NotificationLog lists a shop's notifications, newest first (optional).
	NotificationLog func(ctx context.Context, shopID int64, limit int) (any, error)
	// Consent records a customer's marketing consent (unsubscribe links;
	// optional).
	Consent func(ctx context.Context, shop core.Shop, owner core.Owner, consent bool) error
	// Tiers reads customers' tiers (optional: statements then show none
	// and the customer tier endpoint answers 404).
	Tiers TierService
	// Notify is told whose balance an admin adjustment changed (optional).
	Notify core.BalanceNotifier
	// Ready reports whether dependencies answer (PostgreSQL, Redis, schema).
	Ready func(ctx context.Context) error
	// Health reads a shop's connection health for the plugin's health box
	// (optional: without it GET /api/v1/plugin/health answers 404).
	Health HealthReader
	// Exports streams a period's postings for the CSV export (optional:
	// without it the export answers 404).
	Exports Exporter
	// Accounting streams the program's postings for the DATEV export and
	// the period report (optional: without it they answer 404).
	Accounting core.ProgramPostingSource
}

// HealthReader reads what the bridge knows about a shop's connection;
// pollTopic is the inbox topic of polled orders (not webhooks). It also
// records the webhook deliveries the bridge refused for a shop, as the
// shop's last failure.
type HealthReader interface {
	ShopHealth(ctx context.Context, shopID int64, pollTopic string) (core.ShopHealth, error)
	RecordRefusedWebhook(ctx context.Context, shopID int64, at time.Time, reason string) error
}

// Server holds the handlers.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	shopCache *cache.Cache[string, cachedShop] // look-up key -> shop or "unknown"
}

type cachedShop struct {
	shop core.Shop
	ok   bool
}

// New builds the fiber app.
func New(cfg Config, deps Deps) (*fiber.App, *Server) {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.CustomerTokenTTL <= 0 {
		cfg.CustomerTokenTTL = 15 * time.Minute
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Log, shopCache: cache.New[string, cachedShop](maxCachedShops, shopCacheTTL)}
	if deps.Metrics != nil {
		deps.Metrics.AllowTopics(core.PlatformShopify, shopify.Topics()...)
		deps.Metrics.AllowTopics(core.PlatformWooCommerce, woocommerce.Topics()...)
	}
	app := fiber.New(fiber.Config{
		// Immutable: every string fiber hands out (headers, params, query
		// values) is a copy, not a view into fasthttp's reused buffers, so
		// nothing kept past a request (labels, cache keys, log attributes,
		// batched inbox rows) can later read another request's bytes.
		// Raw bodies (c.BodyRaw) are still views: handlers that keep them
		// past the request must copy.
		Immutable: true,
		BodyLimit: cfg.BodyLimit,
		// Bodies above BodyLimit reach limitBody as a stream, which drains
		// them so the client receives its 413 (closing the connection on a
		// client still sending made it see a reset instead).
		StreamRequestBody:     true,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		JSONEncoder:           json.Marshal,
		JSONDecoder:           json.Unmarshal,
	})
	app.Use(s.limitBody)
	if cfg.FailedPerIPMinute == 0 {
		cfg.FailedPerIPMinute = 600
	}
	if cfg.FailedPerIPMinute > 0 {
		app.Use(limiter.New(limiter.Config{
			Next: func(c *fiber.Ctx) bool {
				p := c.Path()
				return p == "/healthz" || p == "/readyz" || p == "/metrics"
			},
			Max:                    cfg.FailedPerIPMinute,
			Expiration:             time.Minute,
			SkipSuccessfulRequests: true,
			LimitReached: func(c *fiber.Ctx) error {
				return c.Status(fiber.StatusTooManyRequests).JSON(fiber.Map{"error": fiber.Map{"code": "rate_limited",
					"message": "too many refused requests from this address; retry after a minute"}})
			},
		}))
	}
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.readyz)
	if deps.Metrics != nil {
		app.Get("/metrics", s.metricsAuth, adaptor.HTTPHandler(promhttp.HandlerFor(deps.Metrics.Registry, promhttp.HandlerOpts{})))
	}
	app.Post("/webhooks/shopify", s.shopifyWebhook)
	app.Post("/webhooks/woocommerce/:shop", s.wooWebhook)
	s.routes(app)
	return app, s
}

// maxDrain bounds how much of an oversized body is read and discarded so
// that its client receives the 413; beyond it the connection is closed.
const maxDrain = 64 << 20

// limitBody enforces BodyLimit before any handler reads the body. With
// StreamRequestBody, fasthttp hands over a body it did not read in full as
// a stream: a declared length above the limit, or a chunked body that
// turns out larger, is drained (up to maxDrain) and answered 413; any
// other body is read into memory here, so handlers see it as usual.
func (s *Server) limitBody(c *fiber.Ctx) error {
	req := c.Request()
	if !req.IsBodyStream() {
		return c.Next()
	}
	limit := s.cfg.BodyLimit
	if n := req.Header.ContentLength(); n > limit {
		_, _ = io.Copy(io.Discard, io.LimitReader(req.BodyStream(), maxDrain))
		_ = req.CloseBodyStream()
		return fiber.ErrRequestEntityTooLarge
	}
	// Chunked, or declared within the limit: read at most limit+1 bytes.
	body, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(limit)+1))
	if err != nil {
		return fiber.ErrBadRequest
	}
	if len(body) > limit {
		_, _ = io.Copy(io.Discard, io.LimitReader(req.BodyStream(), maxDrain))
		_ = req.CloseBodyStream()
		return fiber.ErrRequestEntityTooLarge
	}
	_ = req.CloseBodyStream()
	req.SetBodyRaw(body)
	return c.Next()
}

// metricsAuth requires the metrics bearer token when one is configured.
func (s *Server) metricsAuth(c *fiber.Ctx) error {
	if s.cfg.MetricsToken == "" {
		return c.Next()
	}
	got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.MetricsToken)) != 1 {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"error": fiber.Map{"code": core.EUNAUTHORIZED, "message": "metrics need the bearer token METRICS_TOKEN"}})
	}
	return c.Next()
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if s.deps.Ready != nil {
		if err := s.deps.Ready(ctx); err != nil {
			s.log.Warn("not ready", slog.Any("error", err))
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": "a dependency is not ready (see the service log)"})
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// codes maps core error codes to HTTP statuses: the one place it happens.
var codes = map[string]int{
	core.ECONFLICT:     fiber.StatusConflict,
	core.EINVALID:      fiber.StatusBadRequest,
	core.ENOTFOUND:     fiber.StatusNotFound,
	core.EUNAUTHORIZED: fiber.StatusUnauthorized,
	core.EINSUFFICIENT: fiber.StatusUnprocessableEntity,
	core.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	core.EINTERNAL:     fiber.StatusInternalServerError,
}

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		msg := fe.Message
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			msg = "request body too large"
		}
		return c.Status(fe.Code).JSON(fiber.Map{"error": fiber.Map{"code": httpCodeName(fe.Code), "message": msg}})
	}
	code := core.ErrorCode(err)
	status, ok := codes[code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	if code == core.EINTERNAL {
		s.log.Error("internal error", slog.String("method", c.Method()), slog.String("path", c.Route().Path), slog.Any("error", err))
	}
	return c.Status(status).JSON(fiber.Map{"error": fiber.Map{"code": code, "message": core.ErrorMessage(err)}})
}

func httpCodeName(status int) string {
	switch status {
	case fiber.StatusRequestEntityTooLarge:
		return core.ETOOLARGE
	case fiber.StatusNotFound:
		return core.ENOTFOUND
	case fiber.StatusUnauthorized:
		return core.EUNAUTHORIZED
	case fiber.StatusMethodNotAllowed, fiber.StatusBadRequest:
		return core.EINVALID
	}
	return "http_" + strconv.Itoa(status)
}

// ctx returns a request-scoped context with a deadline (fiber's own
// context is not cancelled on client disconnect).
func reqCtx(c *fiber.Ctx, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), d)
}

// The shop look-up cache is bounded: clients choose the keys (shop ids,
// domains), so unknown ones are remembered only briefly and the least
// recently used entries make room.
const (
	shopCacheTTL   = 30 * time.Second
	unknownShopTTL = 5 * time.Second
	maxCachedShops = 10_000
)

// cachedShopBy loads a shop through a short-lived cache (webhook hot path).
func (s *Server) cachedShopBy(ctx context.Context, key string, load func() (core.Shop, error)) (core.Shop, bool, error) {
	if cs, ok := s.shopCache.Get(key); ok {
		return cs.shop, cs.ok, nil
	}
	sh, err := load()
	if core.ErrorCode(err) == core.ENOTFOUND {
		s.shopCache.SetTTL(key, cachedShop{ok: false}, unknownShopTTL)
		return sh, false, nil
	}
	if err != nil {
		return sh, false, err
	}
	s.shopCache.Set(key, cachedShop{shop: sh, ok: true})
	return sh, true, nil
}

// ForgetShops drops the shop cache (after a shop changes).
func (s *Server) ForgetShops() { s.shopCache.Clear() }
