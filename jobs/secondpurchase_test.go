package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

// Second purchase within 7 days, on a fake clock: the first paid order
// grants 5.00 once (replays change nothing); a second order in the window
// uses the offer; an unused bonus is taken back when the window closes,
// exactly once; cancelling the first order takes it back at once; an order
// after the window changes nothing; a customer with earlier orders gets no
// offer.
func TestSecondPurchaseWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	e := newNotifyEnv(t, t0)
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://second.example", Name: "Second", Currency: "EUR", Active: true,
		Secrets: core.ShopSecrets{CustomerKey: "ck"}}, "cba_second_token_0123456789")
	if err != nil {
		t.Fatal(err)
	}
	sp := postgres.SecondPurchaseStore{L: e.ledger, Now: e.clock.Now}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Now: e.clock.Now, AfterOrder: sp}
	order := func(id, customer string, placed time.Time, paid, cancelled bool) {
		t.Helper()
		e.clock.Set(placed.Add(time.Minute))
		o := core.Order{OrderID: id, OrderNumber: "#" + id, Customer: core.CustomerRef{PlatformID: customer}, Currency: "EUR", Paid: paid, Cancelled: cancelled,
			Lines:     []core.OrderLine{{LineID: id + "1", ProductID: "9", Quantity: 1, NetTotal: decimal.RequireFromString("40.00")}},
			CreatedAt: placed, UpdatedAt: e.clock.Now()}
		if _, err := earner.ApplyOrder(ctx, shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	balance := func(customer string) string {
		t.Helper()
		b, err := e.ledger.Balance(ctx, shop.ID, "EUR", core.Owner{Kind: core.OwnerCustomer, ID: "c:" + customer})
		if err != nil {
			t.Fatal(err)
		}
		return b.Available.StringFixed(2)
	}
	// erik ordered before the offer existed.
	order("50", "5", t0.Add(-48*time.Hour), true, false)
	shop.Settings.SecondPurchase = &core.SecondPurchaseSettings{Days: 7, Amount: decimal.RequireFromString("5.00")}
	if err := shop.Settings.Validate(); err != nil {
		t.Fatal(err)
	}
	order("10", "1", t0, true, false) // anna
	order("10", "1", t0, true, false) // a replay
	order("20", "2", t0, true, false) // bob
	order("30", "3", t0, true, false) // carl
	order("40", "4", t0, true, false) // dora
	order("51", "5", t0, true, false) // erik's second order
	for c, want := range map[string]string{"1": "5.00", "2": "5.00", "3": "5.00", "4": "5.00", "5": "0.00"} {
		if got := balance(c); got != want {
			t.Fatalf("customer %s after the first order: %s, want %s", c, got, want)
		}
	}
	order("30", "3", t0, true, true)                      // carl's first order cancelled
	order("11", "1", t0.Add(3*24*time.Hour), true, false) // anna's second order, in the window
	expire := &jobs.SecondPurchaseExpiry{Shops: shopList{shop}, Store: sp, Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	run := func(at time.Time, want int) {
		t.Helper()
		e.clock.Set(at)
		if n, err := expire.Run(ctx); err != nil || n != want {
			t.Fatalf("expiry at %s: n=%d err=%v, want %d", at, n, err, want)
		}
	}
	run(t0.Add(7*24*time.Hour-time.Minute), 0)
	run(t0.Add(7*24*time.Hour), 2) // bob and dora
	run(t0.Add(8*24*time.Hour), 0)
	order("41", "4", t0.Add(9*24*time.Hour), true, false) // dora, too late
	for c, want := range map[string]string{"1": "5.00", "2": "0.00", "3": "0.00", "4": "0.00", "5": "0.00"} {
		if got := balance(c); got != want {
			t.Fatalf("customer %s at the end: %s, want %s", c, got, want)
		}
	}
	rows, err := e.pool.Query(ctx, `SELECT owner_id, status FROM second_purchase_offers WHERE shop_id = $1 ORDER BY owner_id`, shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var o, st string
		if err := rows.Scan(&o, &st); err != nil {
			t.Fatal(err)
		}
		got[o] = st
	}
	rows.Close()
	if len(got) != 4 || got["c:1"] != "used" || got["c:2"] != "expired" || got["c:3"] != "cancelled" || got["c:4"] != "expired" {
		t.Fatalf("offers %v", got)
	}
	page, err := e.ledger.Statement(ctx, core.StatementQuery{ShopID: shop.ID, Currency: "EUR", Owner: core.Owner{Kind: core.OwnerCustomer, ID: "c:2"}, Limit: 10})
	if err != nil || len(page.Entries) != 2 || page.Entries[0].Reason.Kind != core.ReasonSecondPurchaseEnd || page.Entries[0].Reverses != page.Entries[1].TransactionID {
		t.Fatalf("bob's statement %+v, %v", page.Entries, err)
	}
	r, err := postgres.Audit(ctx, e.pool, shop.ID)
	if err != nil || !r.OK() {
		t.Fatalf("audit: %v\n%s", err, r)
	}
}
