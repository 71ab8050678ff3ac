// Package wire builds the creditbridge service from its configuration:
// the one place where adapters, core services and jobs are put together.
// cmd/creditbridge (serve, worker, demo, reseal) and the end-to-end test
// harnesses build through it, so the tests run the production wiring
// (order batcher, shop cache, vouchers, notifiers and all).
package wire

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
	"github.com/creditbridge/creditbridge/adapters/mail"
	"github.com/creditbridge/creditbridge/adapters/metrics"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	cbredis "github.com/creditbridge/creditbridge/adapters/redis"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// Options are what a caller may hand in instead of what the configuration
// names. The zero value builds everything from the configuration.
type Options struct {
	// Pool, when set, is used instead of opening Config.DatabaseURL (the
	// tests hand in a pool on a fresh schema); Close leaves it open.
	Pool *pgxpool.Pool
	// Redis, when set, is used instead of Config.RedisURL; Close leaves
	// it open.
	Redis *goredis.Client
	// WrapBatches, when set, wraps the enqueuer the inbox hands each group
	// commit of webhooks to (the tests count the tasks).
	WrapBatches func(core.BatchEnqueuer) core.BatchEnqueuer
	// ShopifyHTTPClient sends Shopify's OAuth and Admin API requests (the
	// tests point it at the fake Shopify); nil: the adapters' defaults.
	ShopifyHTTPClient *http.Client
}

// App is the wired service. Its fields are the parts callers and tests
// use; Close releases what Build opened.
type App struct {
	Config configs.Config
	Log    *slog.Logger

	Pool      *pgxpool.Pool
	Redis     *goredis.Client
	Asynq     *asynq.Client
	Inspector *asynq.Inspector
	Metrics   *metrics.Metrics

	Ledger     *postgres.LedgerStore
	Orders     *postgres.OrderBatcher
	Shops      *postgres.ShopStore
	Directory  *postgres.Directory
	Inbox      *postgres.Inbox
	Notify     *postgres.NotifyStore
	Tiers      postgres.TierStore
	Enqueuer   *jobs.Enqueuer
	Earner     *core.Earner
	Redeemer   *core.Redeemer
	Vouchers   *core.Vouchers
	Activities *core.Activities
	Dispatcher *core.Dispatcher

	// Shopify app: token-refreshing Admin API clients, store credit.
	Shopify     *jobs.ShopifyClients
	StoreCredit *jobs.StoreCreditHandler
	// Collections keeps the products of Shopify collection rules current
	// (periodically and on collections/update).
	Collections *jobs.CollectionRefresh
	Mail        *mail.Sender // nil without SMTP_HOST

	HTTP   *fiber.App
	Server *httpapi.Server

	ownPool, ownRedis bool
}

// OpenDB opens the configured PostgreSQL pool.
func OpenDB(ctx context.Context, cfg configs.Config) (*pgxpool.Pool, error) {
	return postgres.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
}

// EnsureSchema migrates an empty database and refuses an outdated one.
func EnsureSchema(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	st, err := postgres.CheckSchema(ctx, pool)
	if err != nil {
		return err
	}
	switch {
	case st.Empty:
		applied, err := postgres.Migrate(ctx, pool)
		if err != nil {
			return err
		}
		log.Info("empty database: schema created", slog.Any("migrations", applied))
	case len(st.Unknown) > 0:
		return fmt.Errorf("the database has migrations this binary does not know (%s): it was migrated by a newer creditbridge; run that version", strings.Join(st.Unknown, ", "))
	case len(st.Pending) > 0:
		return fmt.Errorf("the database schema is outdated (pending: %s): run `creditbridge migrate` first", strings.Join(st.Pending, ", "))
	}
	var av string
	if err := pool.QueryRow(ctx, `SHOW autovacuum`).Scan(&av); err == nil && av != "on" {
		log.Warn("PostgreSQL runs with autovacuum off: holds, orders and the inbox are never vacuumed and query statistics go stale; turn it on in production (see deploy/README.md)")
	}
	return nil
}

// NewSealer opens the shop secrets' keys from the configuration.
func NewSealer(cfg configs.Config) (*secretbox.Box, error) {
	key, err := secretbox.ParseKey(cfg.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("CREDITBRIDGE_ENCRYPTION_KEY %w", err)
	}
	var prev []byte
	if cfg.EncryptionKeyPrev != "" {
		if prev, err = secretbox.ParseKey(cfg.EncryptionKeyPrev); err != nil {
			return nil, fmt.Errorf("CREDITBRIDGE_ENCRYPTION_KEY_PREVIOUS %w", err)
		}
	}
	return secretbox.New(key, prev)
}

// Build wires the service. It opens (or takes) PostgreSQL and Redis,
// checks the schema and the encryption key, and builds every store,
// service, processor and the HTTP app; it starts no goroutine of its own
// (the group commits start with their first request). Start the worker
// and the periodic jobs with StartWorker and StartPeriodic.
func Build(ctx context.Context, cfg configs.Config, log *slog.Logger, opt Options) (_ *App, err error) {
	box, err := NewSealer(cfg)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Pool: opt.Pool, Redis: opt.Redis}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Pool == nil {
		if a.Pool, err = OpenDB(ctx, cfg); err != nil {
			return nil, err
		}
		a.ownPool = true
	}
	if err := EnsureSchema(ctx, a.Pool, log); err != nil {
		return nil, err
	}
	if a.Redis == nil {
		if a.Redis, err = cbredis.Open(ctx, cfg.RedisURL); err != nil {
			return nil, err
		}
		a.ownRedis = true
	}
	a.Asynq = asynq.NewClientFromRedisClient(a.Redis)
	a.Inspector = asynq.NewInspectorFromRedisClient(a.Redis)
	a.Metrics = metrics.New(a.QueueLag, a.QueueSize)
	a.Ledger = postgres.NewLedgerStore(a.Pool, cfg.LedgerCommitters)
	a.Ledger.OnCommit = a.Metrics.OnCommit
	a.Shops = postgres.NewShopStore(a.Pool, box)
	a.Shops.Unreadable = func(id int64, err error) {
		log.Error("shop secrets cannot be opened: the shop is skipped by periodic jobs", slog.Int64("shop", id), slog.Any("error", err))
	}
	if err := a.Shops.CheckKey(ctx); err != nil {
		return nil, err
	}
	a.Directory = postgres.NewDirectory(a.Pool)
	a.Inbox = postgres.NewInbox(a.Pool)
	a.Enqueuer = &jobs.Enqueuer{Client: a.Asynq, Queue: cfg.Queue, Inspector: a.Inspector, MaxRetry: cfg.EventMaxAttempts}
	var batches core.BatchEnqueuer = a.Enqueuer
	if opt.WrapBatches != nil {
		batches = opt.WrapBatches(batches)
	}
	a.Inbox.EnqueueBatches(batches) // one task per group commit of webhooks
	a.Redeemer = &core.Redeemer{Ledger: a.Ledger}
	// Fewer, larger order batches: a batch's statements are set-based, so
	// its cost grows far less than its size.
	a.Orders = postgres.NewOrderBatcher(a.Ledger, max(1, cfg.LedgerCommitters/2), 64)
	a.Earner = &core.Earner{Orders: postgres.OrderStore{L: a.Ledger, Batcher: a.Orders}, Directory: a.Directory, Ledger: a.Ledger, Redeemer: a.Redeemer}
	// --- Shopify app (adapters/httpapi/shopifyapp.go, jobs/shopify.go) ---
	// Admin API clients refresh expiring offline tokens; every balance
	// change of a Shopify customer schedules a sync of the credit metafield
	// the discount Function reads.
	a.Shopify = &jobs.ShopifyClients{Shops: a.Shops, ClientID: cfg.ShopifyClientID, ClientSecret: cfg.ShopifySecret, APIVersion: cfg.ShopifyAPIVersion,
		HTTPClient: opt.ShopifyHTTPClient, Log: log}
	mfNotifier := &jobs.MetafieldNotifier{Client: a.Asynq, Queue: cfg.Queue, Log: log}
	a.Earner.Notify = mfNotifier.Notify
	a.Redeemer.Notify = mfNotifier.Notify
	// Store credit mode: orders paid or refunded in store credit are booked
	// from their webhooks; balances are pushed into Shopify store credit and
	// reconciled periodically (jobs/storecredit.go).
	scStore := postgres.StoreCreditStore{L: a.Ledger}
	scBooker := &jobs.StoreCreditBooker{Admin: a.Shopify, Book: scStore, Notify: mfNotifier.Notify}
	a.StoreCredit = &jobs.StoreCreditHandler{Shops: a.Shops, Ledger: a.Ledger, Mirrors: scStore, Admin: a.Shopify, Lock: jobs.RedisLocker{R: a.Redis},
		Log: log, Notify: mfNotifier.Notify}
	a.Collections = &jobs.CollectionRefresh{Shops: a.Shops, Rules: a.Directory, Admin: a.Shopify, Log: log}
	// --- end Shopify app ---
	// Second purchase within N days: the first paid order opens the offer.
	// Bring a friend: a referred customer's first paid order rewards the
	// referrer (and welcomes the customer); its refund takes both back.
	a.Earner.AfterOrder = core.OrderFollowers{postgres.SecondPurchaseStore{L: a.Ledger},
		postgres.ReferralStore{L: a.Ledger, Dir: a.Directory, Notify: mfNotifier.Notify}}
	// Tiers and membership: the tier an order earns with, and the tier
	// perks at checkout (core/tiers.go).
	a.Tiers = postgres.TierStore{L: a.Ledger}
	a.Earner.Tiers = a.Tiers
	a.Redeemer.Tiers = a.Tiers
	a.StoreCredit.Tiers = a.Tiers
	a.Notify = &postgres.NotifyStore{L: a.Ledger}
	if cfg.SMTPHost != "" {
		if a.Mail, err = mail.New(mail.Config{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			From: cfg.SMTPFrom, TLS: cfg.SMTPTLS}); err != nil {
			return nil, err
		}
	}
	activityStore := postgres.ActivityStore{L: a.Ledger}
	a.Activities = &core.Activities{Store: activityStore, Notify: mfNotifier.Notify}
	compliance := &postgres.Compliance{Shops: a.Shops, Directory: a.Directory, Ledger: a.Ledger}
	a.Vouchers = &core.Vouchers{Store: postgres.VoucherStore{L: a.Ledger}, Email: a.Directory.CustomerEmail, Rand: VoucherSuffix,
		Issuers: map[core.Platform]core.CodeIssuer{
			core.PlatformWooCommerce: woocommerce.VoucherIssuer{Client: func(s core.Shop) (woocommerce.CouponAPI, error) { return a.WooClient(s) }},
			core.PlatformShopify:     admin.VoucherIssuer{Client: a.Shopify.AdminClient},
		}, Notify: mfNotifier.Notify}
	// The worker resolves the shop of every event: from memory for 2 s.
	a.Dispatcher = &core.Dispatcher{Inbox: a.Inbox, Shops: postgres.NewShopCache(a.Shops, 2*time.Second), Log: log, Observe: a.Metrics.ObserveEvent,
		MaxAttempts: cfg.EventMaxAttempts,
		Handlers: map[core.Platform]core.EventHandler{
			core.PlatformShopify: &shopify.Processor{Earner: a.Earner, Compliance: compliance, OnCheckout: shopify.HoldCheckouts(a.Redeemer),
				Installed: a.Shopify.Installed, ClaimGuest: a.claimGuest, Customers: a.Directory, Activities: a.Activities, Households: a.Directory,
				OnCollection: a.Collections.RefreshCollection,
				OnStoreCredit: func(ctx context.Context, shop core.Shop, o shopify.StoreCreditOrder) error {
					return scBooker.BookOrder(ctx, shop, o.OrderID, o.OrderNumber)
				}},
			core.PlatformWooCommerce: &woocommerce.Processor{Earner: a.Earner, Refunds: a.wooRefunds},
		}}
	secrets := []string{}
	for _, s := range []string{cfg.ShopifySecret, cfg.ShopifySecretPrev} {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	a.HTTP, a.Server = httpapi.New(httpapi.Config{BodyLimit: cfg.BodyLimit, AdminToken: cfg.AdminToken, ShopifyClientID: cfg.ShopifyClientID,
		ShopifySecrets: secrets, PublicURL: cfg.PublicURL, CustomerTokenTTL: cfg.CustomerTokenTTL, MetricsToken: cfg.MetricsToken,
		FailedPerIPMinute: cmp.Or(cfg.FailedPerIPMinute, -1), // 0 in the environment disables the limit
		ShopifyApp:        httpapi.ShopifyAppConfig{Scopes: cfg.ShopifyScopes, APIVersion: cfg.ShopifyAPIVersion, HTTPClient: opt.ShopifyHTTPClient}},
		httpapi.Deps{Log: log, Metrics: a.Metrics, Store: postgres.APIStore{ShopStore: a.Shops, Directory: a.Directory, Inbox: a.Inbox, Ledger: a.Ledger},
			Inbox: a.Inbox, Enqueuer: a.Enqueuer, Ledger: a.Ledger, Redeemer: a.Redeemer, Vouchers: a.Vouchers, Notify: mfNotifier.Notify, Ready: a.Ready,
			Health: a.Inbox, Exports: a.Ledger, Accounting: a.Ledger, Activities: a.Activities, ActivityLog: activityStore.ActivityEvents,
			NotificationLog: func(ctx context.Context, shopID int64, limit int) (any, error) {
				return a.Notify.Notifications(ctx, shopID, limit)
			},
			Consent: a.Directory.SetConsent, Tiers: a.Tiers})
	return a, nil
}

// Close releases what Build opened, in order: the queue clients and Redis
// (unless handed in), then the group commits (each waits for the work
// handed to it), then PostgreSQL (unless handed in). Stop the HTTP server
// and the worker first.
func (a *App) Close() {
	if a.Asynq != nil {
		_ = a.Asynq.Close()
	}
	if a.Inspector != nil {
		_ = a.Inspector.Close()
	}
	if a.Redis != nil && a.ownRedis {
		_ = a.Redis.Close()
	}
	if a.Inbox != nil {
		a.Inbox.Close()
	}
	if a.Orders != nil {
		a.Orders.Close()
	}
	if a.Ledger != nil {
		a.Ledger.Close()
	}
	if a.Pool != nil && a.ownPool {
		a.Pool.Close()
	}
}

// Ready reports whether PostgreSQL, Redis and the schema are usable
// (/readyz).
func (a *App) Ready(ctx context.Context) error {
	if err := a.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := a.Redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	st, err := postgres.CheckSchema(ctx, a.Pool)
	if err != nil {
		return err
	}
	if !st.UpToDate() {
		return errors.New("schema not up to date")
	}
	return nil
}

// QueueLag is the age in seconds of the oldest unprocessed inbox event
// (-1 when it cannot be read).
func (a *App) QueueLag() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	d, err := a.Inbox.Lag(ctx)
	if err != nil {
		return -1
	}
	return d.Seconds()
}

// QueueSize is the number of accepted events not yet processed, read from
// the inbox: Redis may have lost their tasks (a FLUSHALL, a restart
// without persistence) while the work still waits.
func (a *App) QueueSize() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := a.Inbox.Waiting(ctx)
	if err != nil {
		return -1
	}
	return float64(n)
}

// WooClient is the WooCommerce REST client of a shop with stored
// consumer credentials.
func (a *App) WooClient(shop core.Shop) (*woocommerce.Client, error) {
	if shop.Secrets.ConsumerKey == "" || shop.Secrets.ConsumerSecret == "" {
		return nil, errors.New("no REST consumer key/secret stored for this shop")
	}
	return woocommerce.NewClient(shop.Domain, shop.Secrets.ConsumerKey, shop.Secrets.ConsumerSecret)
}

func (a *App) wooRefunds(shop core.Shop) (woocommerce.ShopAPI, error) { return a.WooClient(shop) }

// claimGuest moves a guest's credit to the Shopify customer who verified
// that e-mail (customers/create, customers/update).
func (a *App) claimGuest(ctx context.Context, shop core.Shop, email, platformID string) error {
	_, err := postgres.Affiliates{Dir: a.Directory, Ledger: a.Ledger}.ClaimGuest(ctx, shop, email, platformID, "shopify:verified-email")
	return err
}

// VoucherSuffix is the random part of a voucher code: 10 characters from
// an alphabet without look-alikes.
func VoucherSuffix() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// StartWorker starts the asynq worker on the configured queue with every
// task handler (events, Shopify syncs, notifications). Stop it with
// Stop and Shutdown before Close.
func (a *App) StartWorker() (*asynq.Server, error) {
	cfg := a.Config
	srv := jobs.NewServer(a.Redis, cfg.Queue, cfg.WorkerConcurrency, cfg.ShutdownTimeout/2, a.Log)
	mux := jobs.NewMux(&jobs.EventHandler{Dispatcher: a.Dispatcher})
	// Shopify app: credit metafield sync (mode function), store credit
	// sync (mode store_credit).
	jobs.RegisterShopify(mux, &jobs.MetafieldHandler{Shops: a.Shops, Ledger: a.Ledger, Holds: a.Ledger, Admin: a.Shopify, Log: a.Log, Tiers: a.Tiers})
	jobs.RegisterStoreCredit(mux, a.StoreCredit)
	// Notifications: signed webhooks and e-mail (jobs/notify.go).
	jobs.RegisterNotify(mux, &jobs.Deliverer{Shops: a.Shops, Store: a.Notify, Mail: a.Mail, Contacts: a.Directory.CustomerContact,
		PublicURL: cfg.PublicURL, Log: a.Log})
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	return srv, nil
}

// StartPeriodic starts the periodic jobs (sweeper, expiries, reconcile,
// poller, ...) until ctx ends; wg counts them.
func (a *App) StartPeriodic(ctx context.Context, wg *sync.WaitGroup) {
	sweeper := &jobs.Sweeper{Inbox: a.Inbox, Enqueuer: a.Enqueuer, After: a.Config.SweepAfter, Log: a.Log}
	expirer := &jobs.HoldExpirer{Holds: &core.Holds{Store: a.Ledger}, Log: a.Log}
	poller := &jobs.Poller{Store: a.Inbox, Enqueuer: a.Enqueuer, Log: a.Log, EventKey: httpapi.WooEventKey}
	run := func(name string, every time.Duration, fn func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); jobs.Every(ctx, every, name, a.Log, fn) }()
	}
	run("inbox-sweeper", max(a.Config.SweepAfter/2, 10*time.Second), func(ctx context.Context) error { _, err := sweeper.Sweep(ctx); return err })
	run("store-credit-reconcile", 15*time.Minute, func(ctx context.Context) error {
		_, booked, err := a.StoreCredit.Reconcile(ctx, a.Shops.ListShops)
		if booked > 0 {
			a.Log.Info("store credit changed in Shopify booked into the ledger", slog.Int("customers", booked))
		}
		return err
	})
	run("collection-refresh", cmp.Or(a.Config.CollectionRefresh, jobs.DefaultCollectionRefreshInterval), func(ctx context.Context) error {
		n, err := a.Collections.Run(ctx)
		if n > 0 {
			a.Log.Info("collection rules with changed products refreshed", slog.Int("collections", n))
		}
		return err
	})
	run("hold-expiry", 30*time.Second, func(ctx context.Context) error { _, err := expirer.Expire(ctx); return err })
	run("voucher-expiry", 10*time.Minute, func(ctx context.Context) error {
		_, err := a.Vouchers.ExpireVouchers(ctx, a.Shops.ShopByID)
		return err
	})
	run("inbox-retention", time.Hour, func(ctx context.Context) error {
		n, err := a.Inbox.PrunePayloads(ctx, time.Now().AddDate(0, 0, -a.Config.InboxRetentionDays))
		if n > 0 {
			a.Log.Info("pruned raw payloads of old inbox events", slog.Int64("count", n))
		}
		return err
	})
	run("pending-maturation", 10*time.Minute, func(ctx context.Context) error {
		return jobs.EachShop(ctx, a.Shops, a.Log, "maturing pending credit", func(ctx context.Context, s core.Shop) error {
			if s.Settings.PendingDays <= 0 {
				return nil
			}
			_, err := a.Ledger.MaturePending(ctx, s.ID, time.Now().AddDate(0, 0, -s.Settings.PendingDays), 10000)
			return err
		})
	})
	// Overdrafts are paid back right after the credit that covers them;
	// this sweep settles any that a crash or failed write left behind.
	run("overdraft-settlement", time.Minute, func(ctx context.Context) error {
		return jobs.EachShop(ctx, a.Shops, a.Log, "settling overdrafts", func(ctx context.Context, s core.Shop) error {
			_, err := a.Ledger.SettleOverdrafts(ctx, s.ID, 10000)
			return err
		})
	})
	notifier := &jobs.Notifier{Shops: a.Shops, Store: a.Notify, Client: a.Asynq, Queue: a.Config.Queue, Log: a.Log}
	run("notifications", time.Minute, func(ctx context.Context) error { _, err := notifier.Run(ctx); return err })
	offers := &jobs.SecondPurchaseExpiry{Shops: a.Shops, Store: postgres.SecondPurchaseStore{L: a.Ledger}, Notify: a.Earner.Notify, Log: a.Log}
	run("second-purchase-expiry", 5*time.Minute, func(ctx context.Context) error { _, err := offers.Run(ctx); return err })
	creditExpiry := &jobs.CreditExpiry{Shops: a.Shops, Ledger: a.Ledger, Notify: a.Earner.Notify, Log: a.Log}
	run("credit-expiry", time.Hour, func(ctx context.Context) error { _, err := creditExpiry.Run(ctx); return err })
	// Tier changes become tier.changed notifications; customers whose
	// tier perks changed get their Shopify credit synced with the new caps.
	tierReview := &jobs.TierReview{Shops: a.Shops, Store: a.Tiers, Client: a.Asynq, Queue: a.Config.Queue, Notify: a.Earner.Notify, Log: a.Log}
	run("tier-review", time.Minute, func(ctx context.Context) error { _, err := tierReview.Run(ctx); return err })
	run("woocommerce-poller", a.Config.PollInterval, func(ctx context.Context) error {
		shops, err := a.Shops.ListShops(ctx, core.PlatformWooCommerce)
		if err != nil {
			return err
		}
		for _, s := range shops {
			c, err := a.WooClient(s)
			if err != nil {
				continue // no REST credentials: webhooks only
			}
			start := time.Now()
			_, err = poller.Poll(ctx, s, c, woocommerce.TopicPolled)
			if err != nil {
				a.Log.Warn("poll failed", slog.Int64("shop", s.ID), slog.Any("error", err))
			}
			if ctx.Err() == nil {
				// For the plugin's health box.
				if herr := a.Inbox.RecordPoll(ctx, s.ID, start, err); herr != nil {
					a.Log.Warn("recording the poll failed", slog.Int64("shop", s.ID), slog.Any("error", herr))
				}
			}
		}
		return nil
	})
}
