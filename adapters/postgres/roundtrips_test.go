package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// stmtCounter counts what a pool sends: round trips (a query, or a batch
// of statements) and statements.
type stmtCounter struct{ roundTrips, stmts atomic.Int64 }

func (c *stmtCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if ctx.Value(inBatch{}) == nil {
		c.roundTrips.Add(1)
		c.stmts.Add(1)
	}
	return ctx
}
func (c *stmtCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

type inBatch struct{}

func (c *stmtCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.roundTrips.Add(1)
	c.stmts.Add(int64(d.Batch.Len()))
	return context.WithValue(ctx, inBatch{}, true)
}
func (c *stmtCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *stmtCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestOrderRoundTrips reports the database round trips and statements per
// order of the worker's order path (what cbbench e2e measures end to end),
// plain, with 3-level partner chains on half the orders, and with one
// tier and one campaign: orders applied 64 at a time, concurrently,
// through the order batcher, as the worker does. A measurement, not a
// check: it runs only with CB_ROUNDTRIPS=1.
func TestOrderRoundTrips(t *testing.T) {
	if os.Getenv("CB_ROUNDTRIPS") == "" {
		t.Skip("a measurement: set CB_ROUNDTRIPS=1")
	}
	for _, mode := range []string{"plain", "partners", "programs"} {
		t.Run(mode, func(t *testing.T) {
			cnt := &stmtCounter{}
			pool := pgtest.NewPoolWith(t, 16, func(c *pgxpool.Config) { c.ConnConfig.Tracer = cnt })
			ctx := context.Background()
			l := postgres.NewLedgerStore(pool, 4)
			t.Cleanup(l.Close)
			b := postgres.NewOrderBatcher(l, 2, 64)
			t.Cleanup(b.Close)
			dir := postgres.NewDirectory(pool)
			k := make([]byte, 32)
			_, _ = rand.Read(k)
			box, err := secretbox.New(k, nil)
			if err != nil {
				t.Fatal(err)
			}
			shops := postgres.NewShopStore(pool, box)
			d := decimal.RequireFromString
			st := core.ShopSettings{}
			if mode == "partners" {
				st.PartnerLevels = 3
			}
			if mode == "programs" {
				now := time.Now().UTC()
				st.Campaigns = []core.Campaign{{Name: "bench", Multiplier: d("1.5"), Target: core.CampaignShop,
					Starts: now.AddDate(0, 0, -1).Format(core.CampaignTimeLayout), Ends: now.AddDate(0, 0, 1).Format(core.CampaignTimeLayout)}}
				st.Tiers = []core.Tier{{Name: "Gold", Threshold: d("200"), Multiplier: d("2")}}
			}
			shop, err := shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "rt.myshopify.com", Currency: "EUR", Active: true,
				Settings: st, Secrets: core.ShopSecrets{CustomerKey: "k"}}, "cba_roundtrips_token_0123456789")
			if err != nil {
				t.Fatal(err)
			}
			rules := []core.Rule{{Target: core.TargetDefault, Mode: core.ModePercent, Value: d("5")}}
			var codes []string
			if mode == "partners" {
				for lvl := 1; lvl <= 3; lvl++ {
					rules = append(rules, core.Rule{Target: core.TargetDefault, Beneficiary: core.PartnerLevel(lvl), Mode: core.ModePercent, Value: d(fmt.Sprint(4 - lvl))})
				}
				for c := range 50 {
					sponsor := ""
					for lvl := 3; lvl >= 1; lvl-- {
						p := core.Partner{ID: fmt.Sprintf("p-%d-%d", c, lvl), Code: fmt.Sprintf("RT%d%d", c, lvl), SponsorID: sponsor}
						if err := dir.UpsertPartner(ctx, shop.ID, p); err != nil {
							t.Fatal(err)
						}
						sponsor = p.ID
					}
					codes = append(codes, fmt.Sprintf("RT%d1", c))
				}
			}
			if _, err := dir.PutRules(ctx, shop.ID, rules); err != nil {
				t.Fatal(err)
			}
			earner := &core.Earner{Orders: postgres.OrderStore{L: l, Batcher: b}, Directory: dir, Ledger: l, Tiers: postgres.TierStore{L: l}}
			order := func(i int) core.Order {
				o := core.Order{Platform: core.PlatformShopify, OrderID: fmt.Sprint(100000 + i), OrderNumber: fmt.Sprint(i), Currency: "EUR", Paid: true,
					Customer: core.CustomerRef{PlatformID: fmt.Sprint(1 + i%200), Email: "bench@example.com"}, UpdatedAt: time.Now().UTC(), CreatedAt: time.Now().UTC()}
				for ln := range 3 {
					o.Lines = append(o.Lines, core.OrderLine{LineID: fmt.Sprintf("%d-%d", i, ln), ProductID: fmt.Sprint(7000 + ln), SKU: fmt.Sprint("SKU-", ln),
						Title: "Product", Quantity: int64(1 + ln), NetTotal: d("19.90").Mul(decimal.NewFromInt(int64(1 + ln)))})
				}
				if codes != nil && i%2 == 0 {
					o.PartnerRef = codes[(i/2)%len(codes)]
				}
				return o
			}
			apply := func(from, to int) {
				var wg sync.WaitGroup
				for i := from; i < to; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := earner.ApplyOrder(ctx, shop, order(i), nil); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			apply(0, 200) // every customer known, caches warm
			rt0, st0 := cnt.roundTrips.Load(), cnt.stmts.Load()
			const n = 1280
			for g := 200; g < 200+n; g += 64 {
				apply(g, g+64)
			}
			rt, sts := cnt.roundTrips.Load()-rt0, cnt.stmts.Load()-st0
			t.Logf("%s: %d orders: %.2f round trips and %.2f statements per order", mode, n, float64(rt)/n, float64(sts)/n)
			mustAuditClean(t, pool)
		})
	}
}
