// Command cbbench is creditbridge's load generator. Each mode drives one
// path of the running system on this machine and prints throughput and
// latency percentiles, then audits the books it touched.
//
//	cbbench ledger  -duration 30s -concurrency 256   earn transactions, one shop, distinct customers (hot program account)
//	cbbench holds   -duration 10s -concurrency 16    place+void holds on ONE customer
//	cbbench ingest  -duration 30s -concurrency 64    signed Shopify webhooks against a running server
//	cbbench e2e     -duration 60s -rate 2000         webhooks until credit is in the ledger, then audit
//	cbbench quote   -duration 30s -rate 1000         signed checkout quotes (hold placement)
//	cbbench export  -transactions 1000000            seed a month, stream its DATEV file and period report; duration and peak RSS
//	cbbench chaos   -events 100000                   fault run: worker kill -9, Redis FLUSHALL, PostgreSQL terminations,
//	                                                 platform API down; checks every event against the books
//
// See the README's Benchmarks section for the figures on the reference
// machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cbbench ledger|holds|ingest|e2e|quote|export|chaos [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	dbURL := fs.String("db", envOr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=cbbench"), "PostgreSQL URL (ledger and holds modes; the schema in search_path is created)")
	duration := fs.Duration("duration", 30*time.Second, "how long to run")
	conc := fs.Int("concurrency", 256, "concurrent clients")
	conns := fs.Int("conns", 16, "PostgreSQL pool size")
	committers := fs.Int("committers", 4, "ledger group-commit workers")
	txs := fs.Int("transactions", 1_000_000, "export mode: ledger transactions of the month (two postings each)")
	hopts := registerHTTP(fs)
	copts := registerChaos(fs)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of this process to the file")
	_ = fs.Parse(os.Args[2:])
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch mode {
	case "export":
		err = runExport(ctx, *dbURL, *txs)
	case "chaos":
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		c := *conc
		if !set["concurrency"] {
			c = 32
		}
		err = runChaos(ctx, *copts, c, hopts.rate)
	case "ledger", "holds":
		err = runLedger(ctx, mode, *dbURL, *duration, *conc, int32(*conns), *committers)
	default:
		err = runHTTP(ctx, mode, *hopts, *duration, *conc)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cbbench:", err)
		stop()
		pprof.StopCPUProfile()
		os.Exit(1) //nolint:gocritic // what the defers do is done just above
	}
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// load calls op from conc goroutines until d has passed, paced to rate
// calls per second in total when rate > 0, and records the latency of every
// successful call. worker is the goroutine's index (for per-worker state).
func load(ctx context.Context, d time.Duration, conc, rate int, op func(worker int) error) (rec *recorder, errs int64, elapsed time.Duration) {
	rec = &recorder{}
	// With a rate, operation i is due at start + i/rate: workers take the
	// next due slot and wait for it, so the rate holds exactly as long as
	// the workers keep up (a ticker drops ticks on a busy machine). A slot
	// that is already due starts at once.
	var slot atomic.Int64
	var interval time.Duration
	if rate > 0 {
		interval = time.Second / time.Duration(rate)
	}
	var nerr atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<14)
			defer func() { rec.merge(lat) }()
			for ctx.Err() == nil {
				if interval > 0 {
					due := start.Add(time.Duration(slot.Add(1)-1) * interval)
					if !due.Before(deadline) {
						return
					}
					if wait := time.Until(due); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
							return
						}
					}
				} else if !time.Now().Before(deadline) {
					return
				}
				t0 := time.Now()
				if err := op(w); err != nil {
					nerr.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
		}(w)
	}
	wg.Wait()
	return rec, nerr.Load(), time.Since(start)
}

// recorder collects latencies per worker without locks on the hot path.
type recorder struct {
	mu  sync.Mutex
	all []time.Duration
}

func (r *recorder) merge(l []time.Duration) {
	r.mu.Lock()
	r.all = append(r.all, l...)
	r.mu.Unlock()
}

func (r *recorder) report(what string, elapsed time.Duration, errors int64) {
	slices.Sort(r.all)
	n := len(r.all)
	pct := func(p float64) time.Duration {
		if n == 0 {
			return 0
		}
		return r.all[min(n-1, int(float64(n)*p))]
	}
	fmt.Printf("%s: %d ok, %d errors in %s = %.0f/s; latency p50 %s p99 %s max %s\n",
		what, n, errors, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
}

func runLedger(ctx context.Context, mode, url string, d time.Duration, conc int, conns int32, committers int) error {
	pool, err := postgres.Open(ctx, url, conns)
	if err != nil {
		return err
	}
	defer pool.Close()
	if sp := pool.Config().ConnConfig.RuntimeParams["search_path"]; sp != "" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{sp}.Sanitize()); err != nil {
			return err
		}
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		return err
	}
	store := postgres.NewLedgerStore(pool, committers)
	defer store.Close()
	shop := time.Now().UnixNano() / 1000 // a fresh shop per run
	fmt.Printf("mode=%s shop=%d concurrency=%d conns=%d committers=%d duration=%s\n", mode, shop, conc, conns, committers, d)
	one := decimal.RequireFromString("1.00")
	if mode == "holds" {
		seed := core.Transaction{ShopID: shop, Key: "seed", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "cbbench", Note: "seed"},
			Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: decimal.NewFromInt(-1_000_000)},
				{Currency: "EUR", Owner: core.Owner{Kind: core.OwnerCustomer, ID: "hot"}, Bucket: core.BucketAvailable, Amount: decimal.NewFromInt(1_000_000)}}}
		if _, err := store.Post(ctx, seed); err != nil {
			return err
		}
	}
	stopMaint := autovacuumStandIn(ctx, pool, 10*time.Second)
	holds := &core.Holds{Store: store}
	var seq atomic.Int64
	rec, errs, elapsed := load(ctx, d, conc, 0, func(int) error {
		i := seq.Add(1)
		if mode == "ledger" {
			c := core.Owner{Kind: core.OwnerCustomer, ID: fmt.Sprintf("c%d", i)}
			_, err := store.Post(ctx, core.Transaction{ShopID: shop, Key: fmt.Sprintf("order:%d:line:1:buyer:earn", i),
				Reason: core.Reason{Kind: core.ReasonEarn, OrderID: fmt.Sprint(i), LineID: "1", Rule: "default 5%"},
				Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: one.Neg()},
					{Currency: "EUR", Owner: c, Bucket: core.BucketAvailable, Amount: one}}})
			return err
		}
		h, err := holds.Place(ctx, core.HoldRequest{ShopID: shop, Currency: "EUR", Owner: core.Owner{Kind: core.OwnerCustomer, ID: "hot"}, Amount: one, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			return err
		}
		_, err = holds.Void(ctx, shop, h.ID, core.Reason{})
		return err
	})
	what := "earn transactions"
	if mode == "holds" {
		what = "hold place+void pairs on one customer"
	}
	rec.report(what, elapsed, errs)
	stopMaint()
	return auditShop(context.Background(), pool, shop)
}
