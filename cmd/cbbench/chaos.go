package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"
)

// chaosOpts are the flags of the chaos mode.
type chaosOpts struct {
	events       int
	seed         uint64
	bin          string
	db           string
	redisURL     string
	killEvery    time.Duration
	platformDown time.Duration
	attempts     int
	drain        time.Duration
	pgKills      int
}

func registerChaos(fs *flag.FlagSet) *chaosOpts {
	o := &chaosOpts{}
	fs.IntVar(&o.events, "events", 100_000, "chaos: distinct webhook events (each delivered 1-5 times, shuffled)")
	fs.Uint64Var(&o.seed, "seed", 1, "chaos: random seed (duplicates, shuffle, kill jitter)")
	fs.StringVar(&o.bin, "bin", "", "chaos: the creditbridge binary to run (default: creditbridge beside cbbench, else on PATH)")
	fs.StringVar(&o.db, "chaos-db", envOr("CHAOS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"chaos: PostgreSQL URL; the run recreates its own schema cbbench_chaos there")
	fs.StringVar(&o.redisURL, "redis", "", "chaos: Redis URL to use and FLUSHALL (default: a private redis-server on a free port, so no other user of a shared Redis loses data)")
	fs.DurationVar(&o.killEvery, "kill-every", 5*time.Second, "chaos: kill -9 the worker about this often (±50%) and restart it")
	fs.DurationVar(&o.platformDown, "platform-down", 90*time.Second, "chaos: the fake WooCommerce API answers 503 for at least this long, and until 5% of the events that read it exhausted their retry budget")
	fs.IntVar(&o.attempts, "attempts", 3, "chaos: the worker's retry budget (EVENT_MAX_ATTEMPTS)")
	fs.DurationVar(&o.drain, "drain-timeout", 10*time.Minute, "chaos: how long to wait for every event to reach a final state before counting the rest as stuck")
	fs.IntVar(&o.pgKills, "pg-kills", 2, "chaos: how often the service's PostgreSQL connections are terminated")
	return o
}

// The chaos run's shops credit 5% of the net line total; every line costs
// 20.00 a unit, so every unit earns exactly 1.00 and expected credit is
// counted in whole cents.
const (
	chaosUnitPrice  = "20.00"
	chaosUnitCredit = 100 // cents
	chaosSchema     = "cbbench_chaos"
	chaosApp        = "cbchaos-service" // application_name of the service's connections
	chaosWooModTime = "2026-12-01T10:00:00"
	// maxPlatformDown bounds the outage when no event exhausts its budget.
	maxPlatformDown = 10 * time.Minute
)

// chaosEvent is one distinct platform event (delivered 1..5 times).
type chaosEvent struct {
	woo        bool
	key        string // inbox event key: Shopify event id, WooCommerce order:<id>:<modified>
	topic      string
	order      int // index into orders
	body       []byte
	sig        string
	deliveries int
	needsAPI   bool // processing reads the platform's REST API (WooCommerce refund lines)
}

// chaosOrder is what the books must show for one order once its accepted
// events are applied.
type chaosOrder struct {
	woo    bool
	id     int64
	owner  string
	units  int64 // credited units when the order alone is applied
	refund int64 // units a refund event takes back
	events []int
}

// fakePlatform is the WooCommerce REST API the run controls: it serves
// the refunds the orders list and can be taken down (503).
type fakePlatform struct {
	down          atomic.Bool
	refunds       map[int64]int64 // order id -> refunded line id
	served, down5 atomic.Int64
}

func (f *fakePlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if f.down.Load() {
		f.down5.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"code":"chaos_platform_down","message":"the platform is down for this chaos run","data":{"status":503}}`)
		return
	}
	f.served.Add(1)
	rest, ok := strings.CutPrefix(r.URL.Path, "/wp-json/wc/v3/orders")
	switch {
	case ok && rest == "":
		// The poller: nothing was missed.
		w.Header().Set("X-WP-Total", "0")
		w.Header().Set("X-WP-TotalPages", "0")
		_, _ = io.WriteString(w, "[]")
	case ok && strings.HasSuffix(rest, "/refunds"):
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/refunds"), 10, 64)
		line, known := f.refunds[id]
		if err != nil || !known {
			w.Header().Set("X-WP-TotalPages", "0")
			_, _ = io.WriteString(w, "[]")
			return
		}
		w.Header().Set("X-WP-Total", "1")
		w.Header().Set("X-WP-TotalPages", "1")
		b, _ := json.Marshal([]any{map[string]any{"id": id*10 + 9, "date_created_gmt": chaosWooModTime, "amount": "20.00", "reason": "chaos",
			"line_items": []any{map[string]any{"id": id*10 + 8, "quantity": -1, "total": "-20.00",
				"meta_data": []any{map[string]any{"id": 1, "key": "_refunded_item_id", "value": strconv.FormatInt(line, 10)}}}}}})
		_, _ = w.Write(b)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"code":"woocommerce_rest_invalid_id","message":"Invalid ID.","data":{"status":404}}`)
	}
}

// child is a creditbridge (or redis-server) process of the run.
type child struct {
	name string
	bin  string
	args []string
	env  []string
	log  *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (c *child) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd := exec.Command(c.bin, c.args...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = c.log, c.log
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.cmd, c.done = cmd, done
	return nil
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (c *child) kill9() {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// stop asks the process to shut down gracefully (SIGINT), then kills it.
func (c *child) stop(grace time.Duration) {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withParams returns the URL with query parameters set.
func withParams(raw string, kv ...string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func findCreditbridge(flagged string) (string, error) {
	if flagged != "" {
		return flagged, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "creditbridge")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath("creditbridge"); err == nil {
		return p, nil
	}
	return "", errors.New("no creditbridge binary: build both (go build -o /tmp/cb/ ./cmd/...) and run /tmp/cb/cbbench, or pass -bin")
}

// chaosCounts is what the run prints at the end.
type chaosCounts struct {
	accepted, refused, credited, lost, doubled, stuck, dead int
	deadLettered, deadUnexpected                            int
	deadReasons                                             map[string]int
}

// runChaos reproduces the fault runs on one machine: it starts the web
// process and a worker it kills with SIGKILL every few seconds, sends
// every event 1-5 times (shuffled) through the signed webhook ingress,
// flushes Redis, terminates the service's PostgreSQL connections and takes
// the platform API down for longer than the retry budget; then it retries
// the dead letters through the admin API and checks every accepted event
// against the books.
func runChaos(ctx context.Context, o chaosOpts, conc, rate int) (err error) {
	t0 := time.Now()
	bin, err := findCreditbridge(o.bin)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "cbchaos-")
	if err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		fmt.Printf("[%6.1fs] %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
	}
	logf("chaos run: %d events, concurrency %d, rate %d deliveries/s (0 = unpaced), retry budget %d attempts, worker kill -9 every ~%s, platform down %s; logs in %s",
		o.events, conc, rate, o.attempts, o.killEvery, o.platformDown, dir)
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	openLog := func(name string) (*os.File, error) {
		f, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err == nil {
			cleanups = append(cleanups, func() { f.Close() })
		}
		return f, err
	}

	// --- Redis: private unless one is given (FLUSHALL empties all of it) ---
	redisURL := o.redisURL
	if redisURL == "" {
		rs, err := exec.LookPath("redis-server")
		if err != nil {
			return errors.New("no redis-server on PATH for the private Redis; pass -redis URL (that Redis is FLUSHALLed)")
		}
		port, err := freePort()
		if err != nil {
			return err
		}
		lf, err := openLog("redis")
		if err != nil {
			return err
		}
		r := &child{name: "redis-server", bin: rs, args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir},
			env: []string{"PATH=" + os.Getenv("PATH")}, log: lf}
		if err := r.start(); err != nil {
			return err
		}
		cleanups = append(cleanups, func() { r.stop(5 * time.Second) })
		redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	}
	ropt, err := goredis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := goredis.NewClient(ropt)
	defer rdb.Close()
	for i := 0; ; i++ {
		if err = rdb.Ping(ctx).Err(); err == nil {
			break
		}
		if i > 50 {
			return fmt.Errorf("redis at %s: %w", redisURL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// --- PostgreSQL: the run's own schema, recreated ---
	admin, err := pgx.Connect(ctx, o.db)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if _, err := admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+chaosSchema+" CASCADE"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+chaosSchema); err != nil {
		return err
	}
	_ = admin.Close(ctx)
	serviceDB, err := withParams(o.db, "search_path", chaosSchema, "application_name", chaosApp)
	if err != nil {
		return err
	}
	checkDB, err := withParams(o.db, "search_path", chaosSchema, "application_name", "cbchaos-check")
	if err != nil {
		return err
	}

	// --- the fake platform ---
	fake := &fakePlatform{refunds: map[int64]int64{}}
	fl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fsrv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = fsrv.Serve(fl) }()
	cleanups = append(cleanups, func() { _ = fsrv.Close() })
	siteURL := "http://" + fl.Addr().String()

	// --- the service: migrate, web, worker ---
	port, err := freePort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	opToken, secret := "cbchaos-operator-"+randHex(16), "cbchaos-shopify-"+randHex(16)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + serviceDB,
		"REDIS_URL=" + redisURL,
		"CREDITBRIDGE_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key),
		"CREDITBRIDGE_ADMIN_TOKEN=" + opToken,
		"SHOPIFY_CLIENT_ID=cbchaos",
		"SHOPIFY_CLIENT_SECRET=" + secret,
		"HTTP_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"PUBLIC_URL=" + base,
		"QUEUE_NAME=cbchaos",
		"INBOX_SWEEP_AFTER=10s",
		"EVENT_MAX_ATTEMPTS=" + strconv.Itoa(o.attempts),
		// One load generator on one IP: its refused deliveries (500s while
		// PostgreSQL connections are terminated) must not rate-limit it.
		"RATE_LIMIT_FAILED_PER_MINUTE=0",
		"LOG_FORMAT=text",
		"LOG_LEVEL=warn",
	}
	mlog, err := openLog("migrate")
	if err != nil {
		return err
	}
	mig := exec.CommandContext(ctx, bin, "migrate")
	mig.Env, mig.Stdout, mig.Stderr = env, mlog, mlog
	if err := mig.Run(); err != nil {
		return fmt.Errorf("creditbridge migrate: %w (see %s)", err, mlog.Name())
	}
	wlog, err := openLog("web")
	if err != nil {
		return err
	}
	web := &child{name: "web", bin: bin, args: []string{"serve"}, env: append(slices.Clone(env), "ROLE=web"), log: wlog}
	if err := web.start(); err != nil {
		return err
	}
	cleanups = append(cleanups, func() { web.stop(30 * time.Second) })
	klog, err := openLog("worker")
	if err != nil {
		return err
	}
	worker := &child{name: "worker", bin: bin, args: []string{"worker"}, env: env, log: klog}
	if err := worker.start(); err != nil {
		return err
	}
	cleanups = append(cleanups, func() { worker.stop(30 * time.Second) })
	hc := &http.Client{Timeout: 10 * time.Second}
	for i := 0; ; i++ {
		resp, err := hc.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 300 {
			return fmt.Errorf("the web process did not become ready (see %s)", wlog.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// --- shops ---
	ho := httpOpts{url: base, opToken: opToken}
	shopifyID, domain, shopifyAdmin, err := benchShop(hc, ho)
	if err != nil {
		return fmt.Errorf("create the Shopify shop: %w", err)
	}
	var reg struct {
		ShopID        string `json:"shop_id"`
		WebhookSecret string `json:"webhook_secret"`
		AdminToken    string `json:"admin_token"`
	}
	if err := postJSON(hc, base+"/api/v1/woocommerce/register", opToken, map[string]any{"site_url": siteURL, "consumer_key": "ck_chaos",
		"consumer_secret": "cs_chaos", "currency": "EUR"}, &reg); err != nil {
		return fmt.Errorf("register the WooCommerce shop: %w", err)
	}
	wooID, _ := strconv.ParseInt(reg.ShopID, 10, 64)
	if err := adminDo(hc, "PUT", fmt.Sprintf("%s/api/v1/shops/%d/rules", base, wooID), reg.AdminToken, `{"target":"default","mode":"percent","value":"5"}`, nil); err != nil {
		return fmt.Errorf("WooCommerce rule: %w", err)
	}
	logf("service up (web %s, worker, Redis %s, schema %s); Shopify shop %d, WooCommerce shop %d on the fake API %s", base, redisURL, chaosSchema, shopifyID, wooID, siteURL)

	// --- events ---
	rng := mrand.New(mrand.NewPCG(o.seed, 0x63626368616f73))
	orders, events := chaosEvents(o.events, fake)
	for i := range events {
		events[i].deliveries = 1 + rng.IntN(5)
	}
	signEvents(events, orders, secret, reg.WebhookSecret)
	var deliveries []int32
	for i, e := range events {
		for range e.deliveries {
			deliveries = append(deliveries, int32(i))
		}
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	nAPI := 0
	for _, e := range events {
		if e.needsAPI {
			nAPI++
		}
	}
	logf("%d events (%d need the platform API) in %d deliveries, shuffled", len(events), nAPI, len(deliveries))

	// --- faults, driven by how many deliveries were sent ---
	var sent atomic.Int64
	total := int64(len(deliveries))
	stopKills := make(chan struct{})
	var kills atomic.Int64
	var faultWG sync.WaitGroup
	faultWG.Add(1)
	go func() { // kill -9 the worker every few seconds and restart it
		defer faultWG.Done()
		krng := mrand.New(mrand.NewPCG(o.seed, 9))
		for {
			d := o.killEvery/2 + time.Duration(krng.Int64N(int64(o.killEvery)+1))
			select {
			case <-stopKills:
				return
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
			worker.kill9()
			kills.Add(1)
			if err := worker.start(); err != nil {
				logf("worker restart failed: %v", err)
				return
			}
		}
	}()
	spool, err := postgres.Open(ctx, checkDB, 4)
	if err != nil {
		return err
	}
	defer spool.Close()
	type fault struct {
		at   float64
		name string
		do   func()
	}
	var flushMetric, flushWaiting int64 = -1, -1
	var downFor time.Duration
	wantDead := max(1, nAPI/20)
	if nAPI == 0 {
		wantDead = 0
	}
	platformBack := make(chan struct{})
	faults := []fault{{0.15, "platform down", func() {
		fake.down.Store(true)
		downAt := time.Now()
		logf("fault: the platform API is down (503) for at least %s, and until %d events exhausted their retry budget", o.platformDown, wantDead)
		go func() {
			defer close(platformBack)
			select {
			case <-time.After(o.platformDown):
			case <-ctx.Done():
			}
			// A backlog stretches the retries (a retried task waits its turn
			// behind it, a killed attempt counts nothing): stay down until
			// events did exhaust the budget.
			var dead int
			for time.Since(downAt) < maxPlatformDown && ctx.Err() == nil {
				if spool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE shop_id = $1 AND status = 'dead'`, wooID).Scan(&dead) == nil && dead >= wantDead {
					break
				}
				time.Sleep(time.Second)
			}
			fake.down.Store(false)
			downFor = time.Since(downAt)
			logf("fault over: the platform API is back after %s (%d requests refused while down, %d dead letters)", downFor.Round(time.Second), fake.down5.Load(), dead)
		}()
	}}, {0.5, "redis flushall", func() {
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			logf("FLUSHALL failed: %v", err)
			return
		}
		waiting := int64(-1)
		_ = spool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE status = 'received'`).Scan(&waiting)
		m, merr := scrapeGauge(hc, base+"/metrics", "creditbridge_queue_pending_tasks")
		if merr != nil {
			logf("fault: Redis FLUSHALL; reading the pending-tasks metric failed: %v", merr)
			return
		}
		flushMetric, flushWaiting = int64(m), waiting
		logf("fault: Redis FLUSHALL (%d events waiting in the inbox; creditbridge_queue_pending_tasks reads %d)", waiting, int64(m))
	}}}
	for k := 1; k <= o.pgKills; k++ {
		at := 0.3 + 0.4*float64(k-1)/float64(max(o.pgKills-1, 1))
		faults = append(faults, fault{at, "pg terminate", func() {
			var n int
			err := spool.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t`, chaosApp).Scan(&n)
			if err != nil {
				logf("pg_terminate_backend failed: %v", err)
				return
			}
			logf("fault: terminated %d PostgreSQL connections of the service", n)
		}})
	}
	sort.Slice(faults, func(i, j int) bool { return faults[i].at < faults[j].at })
	faultWG.Add(1)
	go func() {
		defer faultWG.Done()
		next := 0
		for next < len(faults) && ctx.Err() == nil {
			if float64(sent.Load()) >= faults[next].at*float64(total) {
				faults[next].do()
				next++
				continue
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()

	// --- send ---
	accepted := make([]atomic.Bool, len(events))
	var refusedDeliveries atomic.Int64
	fc := &fasthttp.Client{MaxConnsPerHost: conc * 2, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second}
	shopifyURL := base + "/webhooks/shopify"
	wooURL := fmt.Sprintf("%s/webhooks/woocommerce/%d", base, wooID)
	deliver := func(i int64) error {
		defer sent.Add(1)
		ei := deliveries[i]
		e := &events[ei]
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		if e.woo {
			req.SetRequestURI(wooURL)
			req.Header.Set(woocommerce.SignatureHeader, e.sig)
			req.Header.Set(woocommerce.TopicHeader, e.topic)
			req.Header.Set(woocommerce.DeliveryIDHeader, strconv.FormatInt(i, 10))
		} else {
			req.SetRequestURI(shopifyURL)
			req.Header.Set("X-Shopify-Topic", e.topic)
			req.Header.Set("X-Shopify-Shop-Domain", domain)
			req.Header.Set("X-Shopify-Event-Id", e.key)
			req.Header.Set("X-Shopify-Hmac-Sha256", e.sig)
		}
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(e.body)
		// Like the platforms, deliver again until the service says 200
		// (here: with a short backoff, for at most two minutes).
		backoff := 50 * time.Millisecond
		deadline := time.Now().Add(2 * time.Minute)
		for {
			err := fc.DoTimeout(req, resp, 15*time.Second)
			if err == nil && resp.StatusCode() == 200 {
				accepted[ei].Store(true)
				return nil
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				refusedDeliveries.Add(1)
				if err == nil {
					err = fmt.Errorf("HTTP %d", resp.StatusCode())
				}
				return err
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, 2*time.Second)
		}
	}
	logf("sending")
	rec, errs, elapsed := sendAll(ctx, conc, rate, total, deliver)
	logf("sent %d deliveries in %s (%.0f/s), %d given up after retrying for 2 minutes; webhook latency p50 %s p99 %s",
		len(rec.all), elapsed.Round(time.Millisecond), float64(len(rec.all))/elapsed.Seconds(), errs, pct(rec, 0.5), pct(rec, 0.99))
	if ctx.Err() != nil {
		close(stopKills)
		return ctx.Err()
	}

	// --- drain: kills go on until every event is final ---
	select {
	case <-platformBack:
	case <-ctx.Done():
		close(stopKills)
		return ctx.Err()
	}
	shops := []int64{shopifyID, wooID}
	drainStart := time.Now()
	waitFinal := func(limit time.Duration) (int64, error) {
		deadline := time.Now().Add(limit)
		last := time.Now()
		for {
			var waiting int64
			err := spool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE status = 'received' AND shop_id = ANY($1)`, shops).Scan(&waiting)
			if err != nil {
				return -1, err
			}
			if waiting == 0 || time.Now().After(deadline) || ctx.Err() != nil {
				return waiting, ctx.Err()
			}
			if time.Since(last) > 15*time.Second {
				logf("waiting for %d events", waiting)
				last = time.Now()
			}
			time.Sleep(time.Second)
		}
	}
	if _, err := waitFinal(o.drain); err != nil {
		close(stopKills)
		return err
	}
	close(stopKills)
	faultWG.Wait()
	logf("first drain done in %s; the worker was killed %d times; now retrying the dead letters through the admin API", time.Since(drainStart).Round(time.Second), kills.Load())

	// --- dead letters: retried from the API once the platform is back ---
	counts := chaosCounts{deadReasons: map[string]int{}}
	apiKeys := map[string]bool{}
	for _, e := range events {
		if e.needsAPI {
			apiKeys[e.key] = true
		}
	}
	for _, s := range []struct {
		id    int64
		token string
	}{{shopifyID, shopifyAdmin}, {wooID, reg.AdminToken}} {
		for round := 0; round < 1000; round++ {
			var dl struct {
				DeadLetters []core.InboxEvent `json:"dead_letters"`
			}
			if err := adminDo(hc, "GET", fmt.Sprintf("%s/api/v1/shops/%d/dead-letters?limit=500", base, s.id), s.token, "", &dl); err != nil {
				return fmt.Errorf("list dead letters: %w", err)
			}
			if len(dl.DeadLetters) == 0 {
				break
			}
			for _, d := range dl.DeadLetters {
				counts.deadLettered++
				if !apiKeys[d.EventKey] {
					counts.deadUnexpected++
				}
				counts.deadReasons[reasonClass(d.LastError)]++
				if err := adminDo(hc, "POST", fmt.Sprintf("%s/api/v1/shops/%d/dead-letters/%d/retry", base, s.id, d.ID), s.token, "", nil); err != nil {
					return fmt.Errorf("retry dead letter %d: %w", d.ID, err)
				}
			}
		}
	}
	stuck, err := waitFinal(o.drain)
	if err != nil {
		return err
	}
	logf("dead letters retried: %d; final drain done (%d still waiting)", counts.deadLettered, stuck)

	// --- check every accepted event against the books ---
	if err := chaosCheck(ctx, spool, shopifyID, wooID, orders, events, accepted, &counts); err != nil {
		return err
	}
	counts.refused = int(refusedDeliveries.Load())
	ok := counts.lost == 0 && counts.doubled == 0 && counts.stuck == 0 && counts.dead == 0 && counts.deadUnexpected == 0
	if nAPI > 0 && counts.deadLettered == 0 {
		fmt.Println("no event exhausted its retry budget while the platform was down")
		ok = false
	}

	// --- the audit command ---
	alog, err := openLog("audit")
	if err != nil {
		return err
	}
	var aout bytes.Buffer
	audit := exec.CommandContext(ctx, bin, "audit")
	audit.Env, audit.Stdout, audit.Stderr = env, io.MultiWriter(&aout, alog), alog
	auditErr := audit.Run()
	auditOK := auditErr == nil
	if !auditOK {
		ok = false
	}
	metricOK := flushMetric != 0 || flushWaiting <= 0
	if !metricOK {
		ok = false
	}

	fmt.Printf("\nchaos result (%d events, %d deliveries, %s in all; worker killed %d times, 1 Redis FLUSHALL, %d PostgreSQL terminations, platform API down %s, retry budget %d attempts):\n",
		len(events), total, time.Since(t0).Round(time.Second), kills.Load(), o.pgKills, downFor.Round(time.Second), o.attempts)
	fmt.Printf("  accepted       %d\n  credited       %d\n  lost           %d\n  doubled        %d\n  stuck          %d\n  dead-lettered  %d (retried through the API; %d still dead at the end, %d for a reason other than the platform being down)\n",
		counts.accepted, counts.credited, counts.lost, counts.doubled, counts.stuck, counts.deadLettered, counts.dead, counts.deadUnexpected)
	if counts.refused > 0 {
		fmt.Printf("  never accepted %d deliveries (not counted as events: the service never said 200)\n", counts.refused)
	}
	for r, n := range counts.deadReasons {
		fmt.Printf("    dead letter reason ×%d: %s\n", n, r)
	}
	fmt.Printf("  pending-tasks metric right after FLUSHALL: %d (inbox waiting: %d)\n", flushMetric, flushWaiting)
	fmt.Printf("  audit (creditbridge audit): %s\n", firstLine(aout.String(), auditOK))
	if !ok {
		return fmt.Errorf("chaos run failed (logs in %s)", dir)
	}
	fmt.Println("  result: OK")
	return nil
}

// sendAll calls op for 0..n-1 from conc goroutines, operation i due at
// start + i/rate when rate > 0, and records the latency of every success.
func sendAll(ctx context.Context, conc, rate int, n int64, op func(i int64) error) (rec *recorder, errs int64, elapsed time.Duration) {
	rec = &recorder{}
	var next, nerr atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			defer func() { rec.merge(lat) }()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				if rate > 0 {
					if wait := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); wait > 0 {
						time.Sleep(wait)
					}
				}
				t := time.Now()
				if err := op(i); err != nil {
					nerr.Add(1)
					continue
				}
				lat = append(lat, time.Since(t))
			}
		}()
	}
	wg.Wait()
	return rec, nerr.Load(), time.Since(start)
}

func pct(r *recorder, p float64) time.Duration {
	slices.Sort(r.all)
	if len(r.all) == 0 {
		return 0
	}
	return r.all[min(len(r.all)-1, int(float64(len(r.all))*p))].Round(10 * time.Microsecond)
}

func firstLine(s string, ok bool) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 && ok {
		s = s[:i]
	}
	if ok {
		return "clean — " + s
	}
	return "FAILED\n" + s
}

// reasonClass shortens a dead letter's reason for grouping (order ids and
// attempt counts vary).
func reasonClass(s string) string {
	var b strings.Builder
	digits := false
	for _, r := range s {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
		if b.Len() > 160 {
			break
		}
	}
	return b.String()
}

func adminDo(client *http.Client, method, url, token, body string, out any) error {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// scrapeGauge reads one unlabelled gauge from a Prometheus text page.
func scrapeGauge(client *http.Client, url, name string) (float64, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	return 0, fmt.Errorf("%s not on %s (HTTP %d)", name, url, resp.StatusCode)
}

// chaosEvents builds the run's orders and events: Shopify orders/paid
// (1-3 lines), a refunds/create for every fifth Shopify order, and every
// twentieth order a WooCommerce order.updated; half of those carry a
// refund whose lines only the platform's REST API knows.
func chaosEvents(n int, fake *fakePlatform) ([]chaosOrder, []chaosEvent) {
	var orders []chaosOrder
	events := make([]chaosEvent, 0, n)
	for i := 0; len(events) < n; i++ {
		oi := len(orders)
		if i%20 == 19 {
			id := int64(2_000_000 + i)
			o := chaosOrder{woo: true, id: id, owner: core.CustomerOwnerID(strconv.Itoa(1 + i%1000)), units: 2}
			e := chaosEvent{woo: true, key: "order:" + strconv.FormatInt(id, 10) + ":" + chaosWooModTime, topic: woocommerce.TopicOrderUpdated, order: oi}
			if i%40 == 39 {
				o.units = 1 // the refund's line detail comes from the API
				e.needsAPI = true
				fake.refunds[id] = id * 10
			}
			o.events = []int{len(events)}
			events = append(events, e)
			orders = append(orders, o)
			continue
		}
		id := int64(1_000_000 + i)
		nl := 1 + i%3
		var units int64
		for j := range nl {
			units += int64(1 + (i+j)%3)
		}
		o := chaosOrder{id: id, owner: core.CustomerOwnerID(strconv.Itoa(1 + i%5000)), units: units}
		o.events = []int{len(events)}
		events = append(events, chaosEvent{key: fmt.Sprintf("chaos-%d-paid", id), topic: "orders/paid", order: oi})
		if i%5 == 0 && len(events) < n {
			o.refund = 1
			o.events = append(o.events, len(events))
			events = append(events, chaosEvent{key: fmt.Sprintf("chaos-%d-refund", id), topic: "refunds/create", order: oi})
		}
		orders = append(orders, o)
	}
	return orders, events
}

// signEvents renders and signs every event's body on every core.
func signEvents(events []chaosEvent, orders []chaosOrder, shopifySecret, wooSecret string) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	workers := runtime.NumCPU()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(events); i += workers {
				e := &events[i]
				o := orders[e.order]
				cust, _ := strings.CutPrefix(o.owner, "c:")
				switch {
				case e.woo:
					body := map[string]any{"id": o.id, "number": strconv.FormatInt(o.id, 10), "status": "processing", "currency": "EUR",
						"date_created_gmt": chaosWooModTime, "date_modified_gmt": chaosWooModTime, "prices_include_tax": false,
						"customer_id": json.Number(cust), "billing": map[string]any{"email": ""},
						"line_items": []any{map[string]any{"id": o.id * 10, "name": "Chaos article", "product_id": 1, "variation_id": 0,
							"quantity": 2, "total": "40.00", "total_tax": "0.00", "sku": "CHAOS"}},
						"refunds": []any{}, "coupon_lines": []any{}, "meta_data": []any{}}
					if e.needsAPI {
						body["refunds"] = []any{map[string]any{"id": o.id*10 + 9, "reason": "chaos", "total": "-20.00"}}
					}
					e.body, _ = json.Marshal(body)
					e.sig = woocommerce.Sign(e.body, wooSecret)
				case e.topic == "refunds/create":
					e.body = payload.RefundJSON(o.id, o.id*10+9, o.id*10, 1, "EUR", at.Add(time.Hour))
					e.sig = shopify.SignWebhook(e.body, shopifySecret)
				default:
					n := int(o.id-1_000_000)%3 + 1
					lines := make([]payload.Line, n)
					for j := range lines {
						lines[j] = payload.Line{ID: o.id*10 + int64(j), ProductID: 7000 + int64(j), VariantID: 8000 + int64(j), SKU: fmt.Sprintf("CHAOS-%d", j),
							Title: fmt.Sprintf("Chaos article %d", j), Quantity: 1 + (int(o.id-1_000_000)+j)%3, Price: chaosUnitPrice}
					}
					cid, _ := strconv.ParseInt(cust, 10, 64)
					e.body = payload.OrderJSON(payload.Order{ID: o.id, Number: int(o.id), CustomerID: cid, Email: "chaos@example.com", Currency: "EUR",
						Financial: "paid", UpdatedAt: at, Lines: lines})
					e.sig = shopify.SignWebhook(e.body, shopifySecret)
				}
			}
		}()
	}
	wg.Wait()
}

// chaosCheck compares every accepted event with the inbox and the books:
// an event whose inbox row is missing, or whose order holds less credit
// than its accepted events add up to, is lost; more credit is doubled; an
// event still waiting is stuck; one still dead after the retries is dead.
func chaosCheck(ctx context.Context, pool *pgxpool.Pool, shopifyID, wooID int64, orders []chaosOrder, events []chaosEvent, accepted []atomic.Bool, c *chaosCounts) error {
	type ik struct {
		woo bool
		key string
	}
	status := map[ik]string{}
	rows, err := pool.Query(ctx, `SELECT shop_id, event_key, status FROM inbox WHERE shop_id = ANY($1)`, []int64{shopifyID, wooID})
	if err != nil {
		return err
	}
	for rows.Next() {
		var shop int64
		var key, st string
		if err := rows.Scan(&shop, &key, &st); err != nil {
			rows.Close()
			return err
		}
		status[ik{shop == wooID, key}] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	type ok struct {
		woo   bool
		order string
		owner string
	}
	booked := map[ok]int64{}
	rows, err = pool.Query(ctx, `SELECT t.shop_id, t.order_id, p.owner_id, (sum(p.amount) * 100)::bigint
FROM ledger_transactions t JOIN ledger_postings p ON p.shop_id = t.shop_id AND p.tx_id = t.id
WHERE t.shop_id = ANY($1) AND t.order_id IS NOT NULL AND p.owner_kind <> 'program'
GROUP BY 1, 2, 3`, []int64{shopifyID, wooID})
	if err != nil {
		return err
	}
	for rows.Next() {
		var shop, cents int64
		var order, owner string
		if err := rows.Scan(&shop, &order, &owner, &cents); err != nil {
			rows.Close()
			return err
		}
		booked[ok{shop == wooID, order, owner}] += cents
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	seen := map[ok]bool{}
	for _, o := range orders {
		k := ok{o.woo, strconv.FormatInt(o.id, 10), o.owner}
		seen[k] = true
		var want int64
		paidAccepted := false
		for _, ei := range o.events {
			if !accepted[ei].Load() {
				continue
			}
			if events[ei].topic == "refunds/create" {
				continue
			}
			paidAccepted = true
		}
		if paidAccepted {
			want = o.units * chaosUnitCredit
			for _, ei := range o.events {
				if accepted[ei].Load() && events[ei].topic == "refunds/create" {
					want -= o.refund * chaosUnitCredit
				}
			}
		}
		got := booked[k]
		for _, ei := range o.events {
			if !accepted[ei].Load() {
				continue
			}
			c.accepted++
			st, found := status[ik{o.woo, events[ei].key}]
			switch {
			case !found:
				c.lost++
			case st == string(core.InboxReceived):
				c.stuck++
			case st == string(core.InboxDead):
				c.dead++
			case got < want:
				c.lost++
			case got > want:
				c.doubled++
			default:
				c.credited++
			}
		}
	}
	// Credit on orders or owners the run never sent is doubled too.
	for k, cents := range booked {
		if !seen[k] && cents != 0 {
			c.doubled++
		}
	}
	return nil
}
