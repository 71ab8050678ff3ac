package httpapi_test

// The test harness builds the real stack with the production builder
// (internal/wire, which cmd/creditbridge uses): PostgreSQL stores on a
// fresh schema, secrets sealed with a random key, an asynq client and
// worker on Redis with a queue name unique to the test, the order
// batcher, the shop cache, the dispatcher with both platform processors,
// and the fiber app served on a real listener. Nothing is mocked.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	cbredis "github.com/creditbridge/creditbridge/adapters/redis"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/wire"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// Credentials of the test bridge.
const (
	operatorToken   = "test-operator-token-0123456789abcdef"
	shopifyClientID = "test-shopify-client-id"
	shopifySecret   = "shpss_test_current_secret"
	shopifyPrevious = "shpss_test_previous_secret"
)

func redisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// envOptions tunes a test environment.
type envOptions struct {
	BodyLimit        int
	CustomerTokenTTL time.Duration
	NoWorker         bool // do not start the asynq worker (call startWorker later)
	MetricsToken     string
	FailedPerIPMin   int // httpapi.Config.FailedPerIPMinute
	// ShopifyHTTPClient sends the Admin API requests (a shopifyfake's
	// HTTPClient; nil: the real network).
	ShopifyHTTPClient *http.Client
}

// env is one isolated creditbridge: its own schema, queue and listener.
type env struct {
	t          *testing.T
	pool       *pgxpool.Pool
	rdb        *goredis.Client
	queue      string
	inspector  *asynq.Inspector
	aclient    *asynq.Client
	ledger     *postgres.LedgerStore
	shops      *postgres.ShopStore
	dir        *postgres.Directory
	inbox      *postgres.Inbox
	enqueuer   *jobs.Enqueuer
	batches    *countingBatches
	dispatcher *core.Dispatcher
	app        *fiber.App
	server     *httpapi.Server
	base       string
	log        *slog.Logger

	wired *wire.App

	mu     sync.Mutex
	worker *asynq.Server
}

// testLog forwards log lines to t.Log until the test's cleanup ends, so
// background goroutines (asynq) never log into a finished test.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done && testing.Verbose() {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func newEnv(t *testing.T, opt envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := &env{t: t, queue: "cbtest-" + randomHex(8)}
	tl := &testLog{t: t}
	e.log = slog.New(slog.NewTextHandler(tl, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() { tl.mu.Lock(); tl.done = true; tl.mu.Unlock() })

	e.pool = pgtest.NewPool(t, 16)
	var err error
	e.rdb, err = cbredis.Open(ctx, redisURL())
	if err != nil {
		t.Fatalf("redis (set TEST_REDIS_URL): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	e.base = "http://" + ln.Addr().String()
	// The production wiring (internal/wire, as cmd/creditbridge builds
	// it), on this test's schema, Redis queue and listener.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg := configs.Config{EncryptionKey: hex.EncodeToString(key), AdminToken: operatorToken, MetricsToken: opt.MetricsToken,
		ShopifyClientID: shopifyClientID, ShopifySecret: shopifySecret, ShopifySecretPrev: shopifyPrevious, ShopifyAPIVersion: admin.DefaultAPIVersion,
		ShopifyScopes: admin.DefaultScopes, PublicURL: e.base, Queue: e.queue, BodyLimit: cmp.Or(opt.BodyLimit, 1<<20),
		CustomerTokenTTL: cmp.Or(opt.CustomerTokenTTL, 15*time.Minute), FailedPerIPMinute: cmp.Or(opt.FailedPerIPMin, 600),
		LedgerCommitters: 2, WorkerConcurrency: 4, ShutdownTimeout: 6 * time.Second}
	a, err := wire.Build(ctx, cfg, e.log, wire.Options{Pool: e.pool, Redis: e.rdb, ShopifyHTTPClient: opt.ShopifyHTTPClient, WrapBatches: func(b core.BatchEnqueuer) core.BatchEnqueuer {
		e.batches = &countingBatches{BatchEnqueuer: b}
		return e.batches
	}})
	if err != nil {
		t.Fatalf("wire: %v", err)
	}
	e.wired = a
	t.Cleanup(func() {
		// asynq keys embed the queue name: remove this test's queue.
		_ = a.Inspector.DeleteQueue(e.queue, true)
		_, _ = e.flushQueue(context.Background())
		a.Close()
		_ = e.rdb.Close()
	})
	e.aclient, e.inspector = a.Asynq, a.Inspector
	e.ledger, e.shops, e.dir, e.inbox, e.enqueuer, e.dispatcher = a.Ledger, a.Shops, a.Directory, a.Inbox, a.Enqueuer, a.Dispatcher
	e.app, e.server = a.HTTP, a.Server
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = e.app.Listener(ln)
	}()
	t.Cleanup(func() {
		_ = e.app.ShutdownWithTimeout(5 * time.Second)
		<-served
	})
	if !opt.NoWorker {
		e.startWorker()
	}
	return e
}

// flushQueue deletes every Redis key of the test's queue, as a Redis
// flush or a restart without persistence would, and returns how many.
func (e *env) flushQueue(ctx context.Context) (int, error) {
	keys, err := e.rdb.Keys(ctx, "asynq:{"+e.queue+"}:*").Result()
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	return len(keys), e.rdb.Del(ctx, keys...).Err()
}

// pendingTasks counts the tasks waiting in the test's queue.
func (e *env) pendingTasks() int64 {
	e.t.Helper()
	n, err := e.rdb.LLen(context.Background(), "asynq:{"+e.queue+"}:pending").Result()
	if err != nil {
		e.t.Fatalf("redis: %v", err)
	}
	return n
}

// startWorker starts the asynq worker on the test's queue (once).
func (e *env) startWorker() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.worker != nil {
		return
	}
	srv, err := e.wired.StartWorker()
	if err != nil {
		e.t.Fatalf("asynq worker: %v", err)
	}
	e.worker = srv
	e.t.Cleanup(func() {
		srv.Stop()
		srv.Shutdown()
	})
}

// response is a decoded HTTP answer.
type response struct {
	Status int
	Body   []byte
}

// JSON decodes the body into v (numbers as json.Number).
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r response) Map(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// apiError is the error format of every route.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Err decodes the error body and checks it has the documented shape.
func (r response) Err(t *testing.T) apiError {
	t.Helper()
	var e apiError
	r.JSON(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error body %q lacks error.code or error.message", r.Body)
	}
	return e
}

// do sends a request. body may be nil, []byte (sent as is) or a value
// marshalled to JSON. headers are name, value pairs.
func (e *env) do(method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Body: b}
}

// as sends an authenticated request with a bearer token.
func (e *env) as(token, method, path string, body any, headers ...string) response {
	e.t.Helper()
	return e.do(method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// must checks the status of a response and returns it.
func must(t *testing.T, r response, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// testShop is a shop created through the API.
type testShop struct {
	ID            int64
	Domain        string
	Currency      string
	AdminToken    string
	WebhookSecret string
	Path          string // /api/v1/shops/<id>
}

func (e *env) createShop(req map[string]any) testShop {
	e.t.Helper()
	r := must(e.t, e.as(operatorToken, "POST", "/api/v1/shops/", req), http.StatusCreated)
	var out struct {
		Shop struct {
			ID       json.Number `json:"id"`
			Domain   string      `json:"domain"`
			Currency string      `json:"currency"`
		} `json:"shop"`
		AdminToken    string `json:"admin_token"`
		WebhookSecret string `json:"webhook_secret"`
		WebhookURL    string `json:"webhook_url"`
	}
	r.JSON(e.t, &out)
	id, err := out.Shop.ID.Int64()
	if err != nil || id <= 0 || out.AdminToken == "" {
		e.t.Fatalf("create shop answered %s", r.Body)
	}
	if req["platform"] == "woocommerce" && out.WebhookURL != e.base+"/webhooks/woocommerce/"+out.Shop.ID.String() {
		e.t.Fatalf("webhook_url = %q", out.WebhookURL)
	}
	return testShop{ID: id, Domain: out.Shop.Domain, Currency: out.Shop.Currency, AdminToken: out.AdminToken, WebhookSecret: out.WebhookSecret,
		Path: "/api/v1/shops/" + out.Shop.ID.String()}
}

// shopifyShop registers a Shopify shop with the given domain.
func (e *env) shopifyShop(domain string) testShop {
	e.t.Helper()
	return e.createShop(map[string]any{"platform": "shopify", "domain": domain, "name": "Test " + domain, "currency": "EUR"})
}

// wooShop registers a WooCommerce shop; extra fields override defaults.
func (e *env) wooShop(extra map[string]any) testShop {
	e.t.Helper()
	req := map[string]any{"platform": "woocommerce", "domain": "https://shop-" + randomHex(4) + ".example", "name": "Woo", "currency": "EUR"}
	for k, v := range extra {
		req[k] = v
	}
	return e.createShop(req)
}

// putRules installs rules for a shop through the API.
func (e *env) putRules(s testShop, rules ...map[string]any) {
	e.t.Helper()
	for _, r := range rules {
		must(e.t, e.as(s.AdminToken, "PUT", s.Path+"/rules", r), http.StatusOK)
	}
}

// shopifyWebhook delivers a Shopify webhook signed with secret.
func (e *env) shopifyWebhook(domain, topic, eventID string, body []byte, secret string) response {
	e.t.Helper()
	h := []string{shopify.HeaderTopic, topic, shopify.HeaderShopDomain, domain}
	if eventID != "" {
		h = append(h, shopify.HeaderEventID, eventID)
	}
	if secret != "" {
		h = append(h, shopify.HeaderHmacSHA256, shopify.SignWebhook(body, secret))
	}
	return e.do("POST", "/webhooks/shopify", body, h...)
}

// wooWebhook delivers a WooCommerce webhook signed with secret.
func (e *env) wooWebhook(shopID int64, topic string, body []byte, secret string) response {
	e.t.Helper()
	h := []string{woocommerce.TopicHeader, topic, woocommerce.DeliveryIDHeader, randomHex(8)}
	if secret != "" {
		h = append(h, woocommerce.SignatureHeader, woocommerce.Sign(body, secret))
	}
	return e.do("POST", "/webhooks/woocommerce/"+strconv.FormatInt(shopID, 10), body, h...)
}

// inboxCount counts inbox rows (all shops).
func (e *env) inboxCount() int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM inbox`).Scan(&n); err != nil {
		e.t.Fatalf("count inbox: %v", err)
	}
	return n
}

// inboxStatuses returns the count of inbox rows per status.
func (e *env) inboxStatuses() map[string]int {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT status, count(*) FROM inbox GROUP BY status`)
	if err != nil {
		e.t.Fatalf("inbox statuses: %v", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			e.t.Fatalf("inbox statuses: %v", err)
		}
		out[s] = n
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func (e *env) waitFor(what string, timeout time.Duration, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s (last state: %s)", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// drain waits until no inbox row is left 'received' (the worker handled
// everything stored so far).
func (e *env) drain() {
	e.t.Helper()
	e.waitFor("the inbox to drain", 30*time.Second, func() (bool, string) {
		lag, err := e.inbox.Lag(context.Background())
		if err != nil {
			return false, err.Error()
		}
		return lag == 0, fmt.Sprintf("lag %s, statuses %v", lag, e.inboxStatuses())
	})
}

// balance reads a balance through the admin API.
type balanceView struct {
	Currency  string `json:"currency"`
	Owner     string `json:"owner"`
	Available string `json:"available"`
	Pending   string `json:"pending"`
	Held      string `json:"held"`
	Overdraft string `json:"overdraft"`
}

func (e *env) balance(s testShop, customer string) balanceView {
	e.t.Helper()
	var b balanceView
	must(e.t, e.as(s.AdminToken, "GET", s.Path+"/customers/"+customer+"/balance", nil), http.StatusOK).JSON(e.t, &b)
	return b
}

// statementEntry is one statement line as the API renders it.
type statementEntry struct {
	ID            string      `json:"id"`
	Seq           json.Number `json:"seq"`
	TransactionID json.Number `json:"transaction_id"`
	Kind          string      `json:"kind"`
	Description   string      `json:"description"`
	OrderID       string      `json:"order_id"`
	Product       string      `json:"product"`
	SKU           string      `json:"sku"`
	Rule          string      `json:"rule"`
	Note          string      `json:"note"`
	Cap           string      `json:"cap"`
	Lines         []struct {
		LineID  string `json:"line_id"`
		Product string `json:"product"`
		SKU     string `json:"sku"`
		Rule    string `json:"rule"`
		Amount  string `json:"amount"`
		Cap     string `json:"cap"`
		Note    string `json:"note"`
	} `json:"lines"`
	Withheld       string `json:"withheld"`
	Delta          string `json:"delta"`
	AvailableAfter string `json:"available_after"`
}

// withheldNotice is credit a cap kept from being booked, as the API
// renders it.
type withheldNotice struct {
	OrderID     string `json:"order_id"`
	OrderNumber string `json:"order_number"`
	Beneficiary string `json:"beneficiary"`
	Cap         string `json:"cap"`
	Amount      string `json:"amount"`
	Description string `json:"description"`
}

type statementPage struct {
	Currency   string           `json:"currency"`
	Entries    []statementEntry `json:"entries"`
	NextCursor string           `json:"next_cursor"`
	Withheld   []withheldNotice `json:"withheld"`
}

func (e *env) statement(token, path string) statementPage {
	e.t.Helper()
	var p statementPage
	must(e.t, e.as(token, "GET", path, nil), http.StatusOK).JSON(e.t, &p)
	return p
}

// auditOK runs the ledger audit of a shop directly on the database.
func (e *env) auditOK(shopID int64) {
	e.t.Helper()
	r, err := postgres.Audit(context.Background(), e.pool, shopID)
	if err != nil {
		e.t.Fatalf("audit: %v", err)
	}
	if !r.OK() {
		e.t.Fatalf("audit of shop %d found violations:\n%s", shopID, r.String())
	}
	if r.Transactions == 0 {
		e.t.Fatalf("audit of shop %d saw no transactions: the test posted nothing", shopID)
	}
}

// countingBatches is the production batch enqueuer, counting the tasks
// that carry more than one event.
type countingBatches struct {
	core.BatchEnqueuer
	multi, events atomic.Int64
}

func (c *countingBatches) EnqueueMany(ctx context.Context, evs []core.EventRef) error {
	err := c.BatchEnqueuer.EnqueueMany(ctx, evs)
	if err == nil && len(evs) > 1 {
		c.multi.Add(1)
		c.events.Add(int64(len(evs)))
	}
	return err
}
