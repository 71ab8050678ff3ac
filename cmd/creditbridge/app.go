package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only when PPROF_ADDR is set
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
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// app is the wired service.
type app struct {
	cfg  configs.Config
	log  *slog.Logger
	pool *pgxpool.Pool
	rdb  *goredis.Client
	// storeCredit syncs and reconciles Shopify store credit.
	storeCredit *jobs.StoreCreditHandler
	aclient     *asynq.Client
	inspector   *asynq.Inspector
	ledger      *postgres.LedgerStore
	shops       *postgres.ShopStore
	dir         *postgres.Directory
	inbox       *postgres.Inbox
	earner      *core.Earner
	redeemer    *core.Redeemer
	orders      *postgres.OrderBatcher
	vouchers    *core.Vouchers
	dispatcher  *core.Dispatcher
	enqueuer    *jobs.Enqueuer
	metrics     *metrics.Metrics
	http        *fiber.App
	server      *httpapi.Server
	shopify     *jobs.ShopifyClients // Shopify app: token-refreshing Admin API clients
	notify      *postgres.NotifyStore
	tiers       postgres.TierStore
	mail        *mail.Sender // nil without SMTP_HOST
}

func openDB(ctx context.Context, cfg configs.Config) (*pgxpool.Pool, error) {
	return postgres.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
}

// ensureSchema migrates an empty database and refuses an outdated one.
func ensureSchema(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
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

// newSealer opens the shop secrets' keys from the configuration.
func newSealer(cfg configs.Config) (*secretbox.Box, error) {
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

func build(ctx context.Context, cfg configs.Config, log *slog.Logger) (*app, error) {
	box, err := newSealer(cfg)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log}
	if a.pool, err = openDB(ctx, cfg); err != nil {
		return nil, err
	}
	if err := ensureSchema(ctx, a.pool, log); err != nil {
		a.pool.Close()
		return nil, err
	}
	if a.rdb, err = cbredis.Open(ctx, cfg.RedisURL); err != nil {
		a.pool.Close()
		return nil, err
	}
	a.aclient = asynq.NewClientFromRedisClient(a.rdb)
	a.inspector = asynq.NewInspectorFromRedisClient(a.rdb)
	a.metrics = metrics.New(a.queueLag, a.queueSize)
	a.ledger = postgres.NewLedgerStore(a.pool, cfg.LedgerCommitters)
	a.ledger.OnCommit = a.metrics.OnCommit
	a.shops = postgres.NewShopStore(a.pool, box)
	a.shops.Unreadable = func(id int64, err error) {
		log.Error("shop secrets cannot be opened: the shop is skipped by periodic jobs", slog.Int64("shop", id), slog.Any("error", err))
	}
	if err := a.shops.CheckKey(ctx); err != nil {
		a.rdb.Close()
		a.pool.Close()
		return nil, err
	}
	a.dir = postgres.NewDirectory(a.pool)
	a.inbox = postgres.NewInbox(a.pool)
	a.enqueuer = &jobs.Enqueuer{Client: a.aclient, Queue: cfg.Queue, Inspector: a.inspector, MaxRetry: cfg.EventMaxAttempts}
	a.inbox.EnqueueBatches(a.enqueuer) // one task per group commit of webhooks
	a.redeemer = &core.Redeemer{Ledger: a.ledger}
	// Fewer, larger order batches: a batch's statements are set-based, so
	// its cost grows far less than its size.
	a.orders = postgres.NewOrderBatcher(a.ledger, max(1, cfg.LedgerCommitters/2), 64)
	a.earner = &core.Earner{Orders: postgres.OrderStore{L: a.ledger, Batcher: a.orders}, Directory: a.dir, Ledger: a.ledger, Redeemer: a.redeemer}
	// --- Shopify app (adapters/httpapi/shopifyapp.go, jobs/shopify.go) ---
	// Admin API clients refresh expiring offline tokens; every balance
	// change of a Shopify customer schedules a sync of the credit metafield
	// the discount Function reads.
	a.shopify = &jobs.ShopifyClients{Shops: a.shops, ClientID: cfg.ShopifyClientID, ClientSecret: cfg.ShopifySecret, APIVersion: cfg.ShopifyAPIVersion, Log: log}
	mfNotifier := &jobs.MetafieldNotifier{Client: a.aclient, Queue: cfg.Queue, Log: log}
	a.earner.Notify = mfNotifier.Notify
	a.redeemer.Notify = mfNotifier.Notify
	// Store credit mode: orders paid or refunded in store credit are booked
	// from their webhooks; balances are pushed into Shopify store credit and
	// reconciled periodically (jobs/storecredit.go).
	scStore := postgres.StoreCreditStore{L: a.ledger}
	scBooker := &jobs.StoreCreditBooker{Admin: a.shopify, Book: scStore, Notify: mfNotifier.Notify}
	a.storeCredit = &jobs.StoreCreditHandler{Shops: a.shops, Ledger: a.ledger, Mirrors: scStore, Admin: a.shopify, Lock: jobs.RedisLocker{R: a.rdb},
		Log: log, Notify: mfNotifier.Notify}
	// --- end Shopify app ---
	// Second purchase within N days: the first paid order opens the offer.
	// Bring a friend: a referred customer's first paid order rewards the
	// referrer (and welcomes the customer); its refund takes both back.
	a.earner.AfterOrder = core.OrderFollowers{postgres.SecondPurchaseStore{L: a.ledger},
		postgres.ReferralStore{L: a.ledger, Dir: a.dir, Notify: mfNotifier.Notify}}
	// Tiers and membership: the tier an order earns with, and the tier
	// perks at checkout (core/tiers.go).
	a.tiers = postgres.TierStore{L: a.ledger}
	a.earner.Tiers = a.tiers
	a.redeemer.Tiers = a.tiers
	a.notify = &postgres.NotifyStore{L: a.ledger}
	if cfg.SMTPHost != "" {
		if a.mail, err = mail.New(mail.Config{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			From: cfg.SMTPFrom, TLS: cfg.SMTPTLS}); err != nil {
			a.pool.Close()
			return nil, err
		}
	}
	activityStore := postgres.ActivityStore{L: a.ledger}
	activities := &core.Activities{Store: activityStore, Notify: mfNotifier.Notify}
	compliance := &postgres.Compliance{Shops: a.shops, Directory: a.dir, Ledger: a.ledger}
	a.vouchers = &core.Vouchers{Store: postgres.VoucherStore{L: a.ledger}, Email: a.dir.CustomerEmail, Rand: voucherSuffix,
		Issuers: map[core.Platform]core.CodeIssuer{
			core.PlatformWooCommerce: woocommerce.VoucherIssuer{Client: func(s core.Shop) (woocommerce.CouponAPI, error) { return a.wooClient(s) }},
			core.PlatformShopify:     admin.VoucherIssuer{Client: a.shopifyClient},
		}, Notify: mfNotifier.Notify}
	// The worker resolves the shop of every event: from memory for 2 s.
	a.dispatcher = &core.Dispatcher{Inbox: a.inbox, Shops: postgres.NewShopCache(a.shops, 2*time.Second), Log: log, Observe: a.metrics.ObserveEvent,
		MaxAttempts: cfg.EventMaxAttempts,
		Handlers: map[core.Platform]core.EventHandler{
			core.PlatformShopify: &shopify.Processor{Earner: a.earner, Compliance: compliance, OnCheckout: shopify.HoldCheckouts(a.redeemer),
				Installed: a.shopify.Installed, ClaimGuest: a.claimGuest, Customers: a.dir, Activities: activities,
				OnStoreCredit: func(ctx context.Context, shop core.Shop, o shopify.StoreCreditOrder) error {
					return scBooker.BookOrder(ctx, shop, o.OrderID, o.OrderNumber)
				}},
			core.PlatformWooCommerce: &woocommerce.Processor{Earner: a.earner, Refunds: a.wooRefunds},
		}}
	secrets := []string{}
	for _, s := range []string{cfg.ShopifySecret, cfg.ShopifySecretPrev} {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	a.http, a.server = httpapi.New(httpapi.Config{BodyLimit: cfg.BodyLimit, AdminToken: cfg.AdminToken, ShopifyClientID: cfg.ShopifyClientID,
		ShopifySecrets: secrets, PublicURL: cfg.PublicURL, CustomerTokenTTL: cfg.CustomerTokenTTL, MetricsToken: cfg.MetricsToken,
		FailedPerIPMinute: cmp.Or(cfg.FailedPerIPMinute, -1),                                                       // 0 in the environment disables the limit
		ShopifyApp:        httpapi.ShopifyAppConfig{Scopes: cfg.ShopifyScopes, APIVersion: cfg.ShopifyAPIVersion}}, // Shopify app
		httpapi.Deps{Log: log, Metrics: a.metrics, Store: postgres.APIStore{ShopStore: a.shops, Directory: a.dir, Inbox: a.inbox, Ledger: a.ledger},
			Inbox: a.inbox, Enqueuer: a.enqueuer, Ledger: a.ledger, Redeemer: a.redeemer, Vouchers: a.vouchers, Notify: mfNotifier.Notify, Ready: a.ready,
			Health: a.inbox, Activities: activities, ActivityLog: activityStore.ActivityEvents,
			NotificationLog: func(ctx context.Context, shopID int64, limit int) (any, error) {
				return a.notify.Notifications(ctx, shopID, limit)
			},
			Consent: a.dir.SetConsent, Tiers: a.tiers})
	return a, nil
}

func (a *app) ready(ctx context.Context) error {
	if err := a.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	st, err := postgres.CheckSchema(ctx, a.pool)
	if err != nil {
		return err
	}
	if !st.UpToDate() {
		return errors.New("schema not up to date")
	}
	return nil
}

func (a *app) queueLag() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	d, err := a.inbox.Lag(ctx)
	if err != nil {
		return -1
	}
	return d.Seconds()
}

// queueSize is the number of accepted events not yet processed, read from
// the inbox: Redis may have lost their tasks (a FLUSHALL, a restart without
// persistence) while the work still waits.
func (a *app) queueSize() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := a.inbox.Waiting(ctx)
	if err != nil {
		return -1
	}
	return float64(n)
}

func (a *app) wooClient(shop core.Shop) (*woocommerce.Client, error) {
	if shop.Secrets.ConsumerKey == "" || shop.Secrets.ConsumerSecret == "" {
		return nil, errors.New("no REST consumer key/secret stored for this shop")
	}
	return woocommerce.NewClient(shop.Domain, shop.Secrets.ConsumerKey, shop.Secrets.ConsumerSecret)
}

// shopifyClient returns an Admin API client for a shop's stored token,
// refreshing an expiring token first (Shopify app: jobs.ShopifyClients).
func (a *app) shopifyClient(ctx context.Context, shop core.Shop) (*admin.Client, error) {
	return a.shopify.AdminClient(ctx, shop)
}

// voucherSuffix is the random part of a voucher code: 10 characters from
// an alphabet without look-alikes.
func voucherSuffix() string {
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

func (a *app) wooRefunds(shop core.Shop) (woocommerce.RefundSource, error) { return a.wooClient(shop) }

func (a *app) close() {
	_ = a.aclient.Close()
	_ = a.inspector.Close()
	_ = a.rdb.Close()
	a.inbox.Close()
	a.orders.Close()
	a.ledger.Close()
	a.pool.Close()
}

// serve runs the HTTP server and/or the worker until ctx ends, then shuts
// down in order: HTTP (finish requests) → worker (finish tasks) → clients
// → Redis → ledger committers → PostgreSQL. started, if set, is called
// with the listening address once HTTP accepts connections.
func serve(ctx context.Context, cfg configs.Config, log *slog.Logger, started func(addr string, a *app)) error {
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	web := cfg.Role == "all" || cfg.Role == "web"
	work := cfg.Role == "all" || cfg.Role == "worker"
	if cfg.PprofAddr != "" {
		go func() {
			log.Info("pprof listening", slog.String("addr", cfg.PprofAddr))
			srv := &http.Server{Addr: cfg.PprofAddr, ReadHeaderTimeout: 5 * time.Second} // DefaultServeMux carries net/http/pprof
			if err := srv.ListenAndServe(); err != nil {
				log.Warn("pprof listener stopped", slog.Any("error", err))
			}
		}()
	}
	var ln net.Listener
	if web {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.http.Listener(ln); err != nil {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
		log.Info("http listening", slog.String("addr", ln.Addr().String()))
	}
	var srv *asynq.Server
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if work {
		srv = jobs.NewServer(a.rdb, cfg.Queue, cfg.WorkerConcurrency, cfg.ShutdownTimeout/2, log)
		mux := jobs.NewMux(&jobs.EventHandler{Dispatcher: a.dispatcher})
		// Shopify app: credit metafield sync (mode function), store credit
		// sync (mode store_credit).
		jobs.RegisterShopify(mux, &jobs.MetafieldHandler{Shops: a.shops, Ledger: a.ledger, Holds: a.ledger, Admin: a.shopify, Log: log})
		jobs.RegisterStoreCredit(mux, a.storeCredit)
		// Notifications: signed webhooks and e-mail (jobs/notify.go).
		jobs.RegisterNotify(mux, &jobs.Deliverer{Shops: a.shops, Store: a.notify, Mail: a.mail, Contacts: a.dir.CustomerContact,
			PublicURL: cfg.PublicURL, Log: log})
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		log.Info("worker started", slog.String("queue", cfg.Queue), slog.Int("concurrency", cfg.WorkerConcurrency))
		a.startPeriodic(bg, &wg)
	}
	if started != nil && ln != nil {
		started(ln.Addr().String(), a)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	stopBG()
	if web {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout/2)
		if e := a.http.ShutdownWithContext(sctx); e != nil {
			log.Warn("http shutdown", slog.Any("error", e))
		}
		cancel()
	}
	if srv != nil {
		srv.Stop()
		srv.Shutdown()
	}
	wg.Wait()
	log.Info("stopped")
	return err
}

func (a *app) startPeriodic(ctx context.Context, wg *sync.WaitGroup) {
	sweeper := &jobs.Sweeper{Inbox: a.inbox, Enqueuer: a.enqueuer, After: a.cfg.SweepAfter, Log: a.log}
	expirer := &jobs.HoldExpirer{Ledger: a.ledger, Log: a.log}
	poller := &jobs.Poller{Store: a.inbox, Enqueuer: a.enqueuer, Log: a.log, EventKey: httpapi.WooEventKey}
	run := func(name string, every time.Duration, fn func(context.Context) error) {
		wg.Add(1)
		go func() { defer wg.Done(); jobs.Every(ctx, every, name, a.log, fn) }()
	}
	run("inbox-sweeper", max(a.cfg.SweepAfter/2, 10*time.Second), func(ctx context.Context) error { _, err := sweeper.Sweep(ctx); return err })
	run("store-credit-reconcile", 15*time.Minute, func(ctx context.Context) error {
		_, booked, err := a.storeCredit.Reconcile(ctx, a.shops.ListShops)
		if booked > 0 {
			a.log.Info("store credit changed in Shopify booked into the ledger", slog.Int("customers", booked))
		}
		return err
	})
	run("hold-expiry", 30*time.Second, func(ctx context.Context) error { _, err := expirer.Expire(ctx); return err })
	run("voucher-expiry", 10*time.Minute, func(ctx context.Context) error {
		_, err := a.vouchers.ExpireVouchers(ctx, a.shops.ShopByID)
		return err
	})
	run("inbox-retention", time.Hour, func(ctx context.Context) error {
		n, err := a.inbox.PrunePayloads(ctx, time.Now().AddDate(0, 0, -a.cfg.InboxRetentionDays))
		if n > 0 {
			a.log.Info("pruned raw payloads of old inbox events", slog.Int64("count", n))
		}
		return err
	})
	run("pending-maturation", 10*time.Minute, func(ctx context.Context) error {
		return jobs.EachShop(ctx, a.shops, a.log, "maturing pending credit", func(ctx context.Context, s core.Shop) error {
			if s.Settings.PendingDays <= 0 {
				return nil
			}
			_, err := a.ledger.MaturePending(ctx, s.ID, time.Now().AddDate(0, 0, -s.Settings.PendingDays), 10000)
			return err
		})
	})
	// Overdrafts are paid back right after the credit that covers them;
	// this sweep settles any that a crash or failed write left behind.
	run("overdraft-settlement", time.Minute, func(ctx context.Context) error {
		return jobs.EachShop(ctx, a.shops, a.log, "settling overdrafts", func(ctx context.Context, s core.Shop) error {
			_, err := a.ledger.SettleOverdrafts(ctx, s.ID, 10000)
			return err
		})
	})
	notifier := &jobs.Notifier{Shops: a.shops, Store: a.notify, Client: a.aclient, Queue: a.cfg.Queue, Log: a.log}
	run("notifications", time.Minute, func(ctx context.Context) error { _, err := notifier.Run(ctx); return err })
	tierReview := &jobs.TierReview{Shops: a.shops, Store: a.tiers, Client: a.aclient, Queue: a.cfg.Queue, Log: a.log}
	run("tier-review", time.Minute, func(ctx context.Context) error { _, err := tierReview.Run(ctx); return err })
	offers := &jobs.SecondPurchaseExpiry{Shops: a.shops, Store: postgres.SecondPurchaseStore{L: a.ledger}, Notify: a.earner.Notify, Log: a.log}
	run("second-purchase-expiry", 5*time.Minute, func(ctx context.Context) error { _, err := offers.Run(ctx); return err })
	creditExpiry := &jobs.CreditExpiry{Shops: a.shops, Ledger: a.ledger, Notify: a.earner.Notify, Log: a.log}
	run("credit-expiry", time.Hour, func(ctx context.Context) error { _, err := creditExpiry.Run(ctx); return err })
	run("woocommerce-poller", a.cfg.PollInterval, func(ctx context.Context) error {
		shops, err := a.shops.ListShops(ctx, core.PlatformWooCommerce)
		if err != nil {
			return err
		}
		for _, s := range shops {
			c, err := a.wooClient(s)
			if err != nil {
				continue // no REST credentials: webhooks only
			}
			start := time.Now()
			_, err = poller.Poll(ctx, s, c, woocommerce.TopicPolled)
			if err != nil {
				a.log.Warn("poll failed", slog.Int64("shop", s.ID), slog.Any("error", err))
			}
			if ctx.Err() == nil {
				// For the plugin's health box.
				if herr := a.inbox.RecordPoll(ctx, s.ID, start, err); herr != nil {
					a.log.Warn("recording the poll failed", slog.Int64("shop", s.ID), slog.Any("error", herr))
				}
			}
		}
		return nil
	})
}

func migrate(ctx context.Context, cfg configs.Config, log *slog.Logger, out io.Writer) error {
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(out, "schema is up to date")
	}
	for _, n := range applied {
		fmt.Fprintln(out, "applied", n)
	}
	return nil
}

func audit(ctx context.Context, cfg configs.Config, shop int64, asJSON bool, out io.Writer) (bool, error) {
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer pool.Close()
	r, err := postgres.Audit(ctx, pool, shop)
	if err != nil {
		return false, err
	}
	if asJSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintln(out, string(b))
	} else {
		fmt.Fprint(out, r.String())
	}
	return r.OK(), nil
}

// reseal opens every shop's secrets (with the current or previous key) and
// stores them sealed with the current key.
func reseal(ctx context.Context, cfg configs.Config, log *slog.Logger, out io.Writer) error {
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	n := 0
	for _, p := range []core.Platform{core.PlatformShopify, core.PlatformWooCommerce} {
		rows, err := a.pool.Query(ctx, `SELECT id FROM shops WHERE platform = $1 ORDER BY id`, string(p))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			shop, err := a.shops.ShopByID(ctx, id)
			if err != nil {
				return fmt.Errorf("shop %d: %w", id, err)
			}
			if err := a.shops.UpdateShop(ctx, shop); err != nil {
				return fmt.Errorf("shop %d: %w", id, err)
			}
			n++
		}
	}
	if err := a.shops.ResealCanary(ctx); err != nil {
		return fmt.Errorf("key canary: %w", err)
	}
	fmt.Fprintf(out, "re-sealed the secrets of %d shop(s) and the key canary with the current key\n", n)
	return nil
}

// claimGuest moves a guest's credit to the Shopify customer who verified
// that e-mail (customers/create, customers/update).
func (a *app) claimGuest(ctx context.Context, shop core.Shop, email, platformID string) error {
	_, err := postgres.Affiliates{Dir: a.dir, Ledger: a.ledger}.ClaimGuest(ctx, shop, email, platformID, "shopify:verified-email")
	return err
}
