package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	cbredis "github.com/creditbridge/creditbridge/adapters/redis"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/wire"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

type shopifyEnv struct {
	fake    *shopifyfake.Server
	shops   *postgres.ShopStore
	ledger  *postgres.LedgerStore
	dir     *postgres.Directory
	clients *jobs.ShopifyClients
	log     *slog.Logger
}

func newShopifyEnv(t *testing.T) *shopifyEnv {
	t.Helper()
	e, _ := newWiredShopifyEnv(t, pgtest.NewPool(t, 6))
	return e
}

// newWiredShopifyEnv builds the service with the production builder
// (internal/wire) on pool, its Shopify app pointed at a fake Shopify,
// and returns the parts the Shopify jobs use.
func newWiredShopifyEnv(t *testing.T, pool *pgxpool.Pool) (*shopifyEnv, *wire.App) {
	t.Helper()
	fake := shopifyfake.New(t, shopifyfake.Options{})
	rdb, err := cbredis.Open(context.Background(), redisURL())
	if err != nil {
		t.Fatalf("redis (set TEST_REDIS_URL): %v", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := wire.Build(context.Background(), configs.Config{EncryptionKey: hex.EncodeToString(key), ShopifyClientID: fake.ClientID(),
		ShopifySecret: fake.ClientSecret(), ShopifyAPIVersion: admin.DefaultAPIVersion, Queue: "test-shopify-unused", LedgerCommitters: 2},
		log, wire.Options{Pool: pool, Redis: rdb, ShopifyHTTPClient: fake.HTTPClient()})
	if err != nil {
		t.Fatalf("wire: %v", err)
	}
	t.Cleanup(func() { a.Close(); _ = rdb.Close() })
	return &shopifyEnv{fake: fake, shops: a.Shops, ledger: a.Ledger, dir: a.Directory, clients: a.Shopify, log: log}, a
}

func redisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func (e *shopifyEnv) createShop(t *testing.T, settings core.ShopSettings, secrets core.ShopSecrets) core.Shop {
	t.Helper()
	secrets.CustomerKey = "customer-key"
	sh, err := e.shops.CreateShop(context.Background(), core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Settings: settings, Secrets: secrets}, "")
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func newQueue(t *testing.T) (*asynq.Client, *asynq.Inspector, string) {
	t.Helper()
	rdb, err := cbredis.Open(context.Background(), redisURL())
	if err != nil {
		t.Fatalf("redis (set TEST_REDIS_URL): %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	queue := "test-shopify-" + hex.EncodeToString(b)
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() {
		_ = insp.DeleteQueue(queue, true)
		_ = client.Close()
		_ = insp.Close()
		_ = rdb.Close()
	})
	return client, insp, queue
}

func TestMetafieldSyncAfterEarn(t *testing.T) {
	t.Parallel()
	e := newShopifyEnv(t)
	ctx := context.Background()
	shop := e.createShop(t, core.ShopSettings{RedemptionMode: core.RedemptionFunction, MaxPercent: decimal.NewNullDecimal(decimal.RequireFromString("50")),
		MinOrder: decimal.NewNullDecimal(decimal.RequireFromString("10"))}, core.ShopSecrets{AccessToken: e.fake.AccessToken()})
	if _, err := e.dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: decimal.RequireFromString("10")}); err != nil {
		t.Fatal(err)
	}
	client, insp, queue := newQueue(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// Tasks run at the end of their window: the notifier's clock must be
	// real for them to be scheduled rather than due.
	notifyAt := time.Now().Add(time.Minute)
	notifier := &jobs.MetafieldNotifier{Client: client, Queue: queue, Log: e.log, Now: func() time.Time { return notifyAt }}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Notify: notifier.Notify}

	order := func(id string, c core.CustomerRef) core.Order {
		return core.Order{Platform: core.PlatformShopify, OrderID: id, OrderNumber: "#" + id, Currency: "EUR", Paid: true, Customer: c, UpdatedAt: now,
			Lines: []core.OrderLine{{LineID: "1", ProductID: "10", Title: "Shirt", Quantity: 3, NetTotal: decimal.RequireFromString("45.00")}}}
	}
	if _, err := earner.ApplyOrder(ctx, shop, order("5001", core.CustomerRef{PlatformID: "77", Email: "buyer@example.com"}), nil); err != nil {
		t.Fatal(err)
	}
	// A guest earns too, but has no Shopify customer to sync.
	if _, err := earner.ApplyOrder(ctx, shop, order("5002", core.CustomerRef{Email: "guest@example.com"}), nil); err != nil {
		t.Fatal(err)
	}
	// A burst of changes within one window collapses into one task.
	notifier.Notify(ctx, shop, []core.Owner{{Kind: core.OwnerCustomer, ID: "c:77"}, {Kind: core.OwnerPartner, ID: "p-1"}})

	tasks, err := insp.ListScheduledTasks(queue)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].Type != jobs.TypeShopifyMetafieldSync {
		t.Fatalf("scheduled tasks = %d", len(tasks))
	}
	wantID, runAt := jobs.MetafieldTaskID(shop.ID, "c:77", notifyAt, jobs.DefaultMetafieldDelay)
	var p jobs.MetafieldPayload
	if err := json.Unmarshal(tasks[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if tasks[0].ID != wantID || p.ShopID != shop.ID || p.OwnerID != "c:77" || !tasks[0].NextProcessAt.Equal(runAt.Truncate(time.Second)) || !runAt.After(notifyAt) {
		t.Fatalf("task %s at %s payload %+v; want %s at %s", tasks[0].ID, tasks[0].NextProcessAt, p, wantID, runAt)
	}
	// A change in the next window gets its own task.
	later := &jobs.MetafieldNotifier{Client: client, Queue: queue, Now: func() time.Time { return runAt }}
	later.Notify(ctx, shop, []core.Owner{{Kind: core.OwnerCustomer, ID: "c:77"}})
	if tasks, _ = insp.ListScheduledTasks(queue); len(tasks) != 2 {
		t.Fatalf("next window: %d scheduled tasks, want 2", len(tasks))
	}

	h := &jobs.MetafieldHandler{Shops: e.shops, Ledger: e.ledger, Holds: e.ledger, Admin: e.clients, Log: e.log, Now: func() time.Time { return now.Add(time.Second) }}
	for _, ti := range tasks[:1] {
		if err := h.ProcessTask(ctx, asynq.NewTask(ti.Type, ti.Payload)); err != nil {
			t.Fatal(err)
		}
	}
	got, ok := e.fake.Metafield("gid://shopify/Customer/77")
	want := `{"amount":"4.50","currency":"EUR","max_percent":"50","min_order":"10.00","labels":{"de":"Guthaben","en":"Store credit"},"updated_at":"2026-01-02T03:04:06Z"}`
	if !ok || got != want {
		t.Fatalf("metafield = %s, want %s", got, want)
	}
	// A cancellation converges the credit to zero and syncs again.
	cancelled := order("5001", core.CustomerRef{PlatformID: "77"})
	cancelled.Cancelled, cancelled.UpdatedAt = true, now.Add(time.Minute)
	if _, err := earner.ApplyOrder(ctx, shop, cancelled, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.Sync(ctx, shop.ID, "c:77"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.fake.Metafield("gid://shopify/Customer/77"); got != `{"amount":"0.00","currency":"EUR","max_percent":"50","min_order":"10.00","labels":{"de":"Guthaben","en":"Store credit"},"updated_at":"2026-01-02T03:04:06Z"}` {
		t.Fatalf("metafield after cancel = %s", got)
	}

	// Guests, partners and malformed payloads write nothing.
	n := len(e.fake.Requests())
	for _, owner := range []string{"g:abc", "partner:p-1", "c:not-a-number"} {
		if err := h.Sync(ctx, shop.ID, owner); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.fake.Requests()) != n {
		t.Fatal("skipped owners reached Shopify")
	}
	if err := h.ProcessTask(ctx, asynq.NewTask(jobs.TypeShopifyMetafieldSync, []byte(`{`))); err == nil {
		t.Fatal("bad payload accepted")
	}
}

func TestMetafieldSyncWithoutTokenIsNotRetried(t *testing.T) {
	t.Parallel()
	e := newShopifyEnv(t)
	shop := e.createShop(t, core.ShopSettings{RedemptionMode: core.RedemptionFunction}, core.ShopSecrets{AccessToken: "shpat_revoked"})
	h := &jobs.MetafieldHandler{Shops: e.shops, Ledger: e.ledger, Admin: e.clients, Log: e.log}
	b, _ := json.Marshal(jobs.MetafieldPayload{ShopID: shop.ID, OwnerID: "c:77"})
	err := h.ProcessTask(context.Background(), asynq.NewTask(jobs.TypeShopifyMetafieldSync, b))
	if err == nil || core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Fatalf("revoked token: err = %v", err)
	}
	if !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("revoked token is retried: %v", err)
	}
}

func TestShopifyClientsRefreshExpiringToken(t *testing.T) {
	t.Parallel()
	e := newShopifyEnv(t)
	ctx := context.Background()
	// An expiring offline token pair, as the install stores it.
	tok, err := admin.ExchangeCode(ctx, e.fake.HTTPClient(), e.fake.ShopDomain(), e.fake.ClientID(), e.fake.ClientSecret(), e.fake.IssueAuthCode())
	if err != nil {
		t.Fatal(err)
	}
	shop := e.createShop(t, core.ShopSettings{}, core.ShopSecrets{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
		TokenExpiresAt: time.Now().Add(2 * time.Minute)})

	cl, err := e.clients.AdminClient(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Shop(ctx); err != nil {
		t.Fatalf("refreshed client: %v", err)
	}
	reqs := e.fake.OAuthRequests()
	if last := reqs[len(reqs)-1]; last.Get("grant_type") != "refresh_token" || last.Get("refresh_token") != tok.RefreshToken {
		t.Fatalf("last token request grant = %q", last.Get("grant_type"))
	}
	stored, err := e.shops.ShopByID(ctx, shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := stored.Secrets
	if s.AccessToken == tok.AccessToken || s.RefreshToken == tok.RefreshToken || s.RefreshToken == "" || time.Until(s.TokenExpiresAt) < 50*time.Minute || s.CustomerKey != "customer-key" {
		t.Fatalf("stored token not rotated (expires %s)", s.TokenExpiresAt)
	}

	// The caller's stale copy still says "expiring": the stored, fresh
	// token is used without another refresh.
	n := len(e.fake.OAuthRequests())
	if _, err := e.clients.AdminClient(ctx, shop); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.OAuthRequests()) != n {
		t.Fatal("refreshed twice")
	}

	// A spent refresh token (rotated away) is EUNAUTHORIZED.
	stored.Secrets.RefreshToken, stored.Secrets.TokenExpiresAt = tok.RefreshToken, time.Now().Add(-time.Minute)
	if err := e.shops.UpdateShop(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if _, err := e.clients.AdminClient(ctx, stored); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Fatalf("spent refresh token: err = %v", err)
	}
	// No token at all.
	if _, err := e.clients.AdminClient(ctx, core.Shop{ID: shop.ID, Platform: core.PlatformShopify}); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Fatalf("no token: err = %v", err)
	}
}

func TestCreditMetafieldFor(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	shop := core.Shop{Currency: "JPY", Settings: core.ShopSettings{MaxAmount: decimal.NewNullDecimal(d("5000"))}}
	for _, tc := range []struct {
		name                 string
		avail, held, largest string
		maxPercent           string
		wantAmount, wantPerc string
	}{
		{"no holds", "300", "0", "0", "", "300", ""},
		{"open holds are left out but the largest one", "300", "500", "300", "", "600", ""},
		{"one checkout keeps its own hold", "0", "200", "200", "", "200", ""},
		{"largest never above what is held", "100", "50", "80", "", "150", ""},
		{"never negative", "-100", "0", "0", "", "0", ""},
		{"percent rounded", "100", "0", "0", "33.333", "100", "33.33"},
		{"zero percent means no credit", "100", "0", "0", "0", "0", ""},
	} {
		s := shop
		if tc.maxPercent != "" {
			s.Settings.MaxPercent = decimal.NewNullDecimal(d(tc.maxPercent))
		}
		mf := jobs.CreditMetafieldFor(s, core.Balance{Currency: "JPY", Available: d(tc.avail), Held: d(tc.held)}, d(tc.largest), at)
		if mf.Amount != tc.wantAmount || mf.MaxPercent != tc.wantPerc || mf.MaxAmount != "5000" || mf.Currency != "JPY" || !mf.UpdatedAt.Equal(at) {
			t.Errorf("%s: %+v", tc.name, mf)
		}
		if mf.Labels["de"] != "Guthaben" || mf.Labels["en"] != "Store credit" {
			t.Errorf("%s: default labels %v", tc.name, mf.Labels)
		}
	}
	// The shop's labels per checkout language.
	shop.Settings.DiscountLabel, shop.Settings.DiscountLabels = "Bonus", map[string]string{"de": "Treuebonus"}
	mf := jobs.CreditMetafieldFor(shop, core.Balance{Currency: "JPY", Available: d("1")}, d("0"), at)
	if mf.Labels["de"] != "Treuebonus" || mf.Labels["en"] != "Bonus" {
		t.Errorf("configured labels %v", mf.Labels)
	}
}
