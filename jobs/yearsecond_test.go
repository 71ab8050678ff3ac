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

// yearSecond is the second-purchase shop of TestProgramYearOnAFakeClock:
// 10 % credit, and 5.00 for a second purchase within 14 days of the first
// paid order. Over the year four customers' windows are granted and used
// (A), granted and expired by the noon job exactly once (B), granted and
// taken back when the first order is refunded in full (C, replays
// included), and granted, used, and the second order refunded afterwards
// (D: a used offer stays used).
type yearSecond struct {
	e       *notifyEnv
	shop    core.Shop
	earner  *core.Earner
	expire  *jobs.SecondPurchaseExpiry
	orders  map[string]core.Order
	expired int
}

func newYearSecond(t *testing.T, e *notifyEnv) *yearSecond {
	t.Helper()
	ctx := context.Background()
	d := decimal.RequireFromString
	var s core.ShopSettings
	s.TimeZone = "Europe/Berlin"
	s.SecondPurchase = &core.SecondPurchaseSettings{Days: 14, Amount: d("5.00")}
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://year-second.example", Name: "Zweitkauf", Currency: "EUR", Active: true,
		Settings: s, Secrets: core.ShopSecrets{CustomerKey: "ck"}}, "cba_year_second_token_012345")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: d("10")}); err != nil {
		t.Fatal(err)
	}
	sp := postgres.SecondPurchaseStore{L: e.ledger, Now: e.clock.Now}
	return &yearSecond{e: e, shop: shop, orders: map[string]core.Order{},
		earner: &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Now: e.clock.Now, AfterOrder: sp},
		expire: &jobs.SecondPurchaseExpiry{Shops: shopList{shop}, Store: sp, Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
}

func (y *yearSecond) apply(t *testing.T, o core.Order) {
	t.Helper()
	y.orders[o.OrderID] = o
	if _, err := y.earner.ApplyOrder(context.Background(), y.shop, o, nil); err != nil {
		t.Fatal(err)
	}
}

func (y *yearSecond) order(t *testing.T, id, customer, net string) {
	t.Helper()
	now := y.e.clock.Now()
	y.apply(t, core.Order{Platform: core.PlatformWooCommerce, OrderID: id, OrderNumber: id, Customer: core.CustomerRef{PlatformID: customer}, Currency: "EUR",
		Paid: true, Status: "processing", CreatedAt: now, UpdatedAt: now,
		Lines: []core.OrderLine{{LineID: id + "-1", ProductID: "7", Quantity: 1, NetTotal: decimal.RequireFromString(net)}}})
}

// refundAll refunds an order in full (WooCommerce status refunded).
func (y *yearSecond) refundAll(t *testing.T, id string) {
	t.Helper()
	o := y.orders[id]
	now := y.e.clock.Now()
	o.Status, o.FullyRefunded, o.UpdatedAt = "refunded", true, now
	o.Refunds = []core.Refund{{RefundID: "r-" + id, LinesKnown: true, Lines: []core.RefundLine{{LineID: id + "-1", Quantity: 1}}, CreatedAt: now}}
	y.apply(t, o)
}

func (y *yearSecond) balance(t *testing.T, customer string) string {
	t.Helper()
	b, err := y.e.ledger.Balance(context.Background(), y.shop.ID, "EUR", core.Owner{Kind: core.OwnerCustomer, ID: "c:" + customer})
	if err != nil {
		t.Fatal(err)
	}
	return b.Available.Add(b.Overdraft).StringFixed(2)
}

// day runs the shop's orders of one day at 10:00 UTC.
func (y *yearSecond) day(t *testing.T, day time.Time) {
	t.Helper()
	y.e.clock.Set(time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, time.UTC))
	step := func(customer, want string, f func()) {
		t.Helper()
		f()
		if got := y.balance(t, customer); got != want {
			t.Fatalf("%s: customer %s has %s, want %s", day.Format("01-02"), customer, got, want)
		}
	}
	switch day.Format("01-02") {
	case "02-01":
		step("1", "15.00", func() { y.order(t, "A1", "1", "100.00") }) // 10.00 + the 5.00 bonus
	case "02-10":
		step("1", "20.00", func() { y.order(t, "A2", "1", "50.00") }) // in the window: used
	case "05-01":
		step("2", "15.00", func() { y.order(t, "B1", "2", "100.00") })
	case "05-20":
		step("2", "20.00", func() { y.order(t, "B2", "2", "100.00") }) // after the window closed on 15 May
	case "08-01":
		step("3", "15.00", func() { y.order(t, "C1", "3", "100.00") })
	case "08-05":
		step("3", "0.00", func() { y.refundAll(t, "C1") }) // the credit and the bonus, at once
	case "08-06":
		step("3", "0.00", func() { y.apply(t, y.orders["C1"]) }) // a replay
	case "11-01":
		step("4", "15.00", func() { y.order(t, "D1", "4", "100.00") })
	case "11-03":
		step("4", "15.00", func() { y.apply(t, y.orders["D1"]) }) // a replay grants nothing twice
	case "11-10":
		step("4", "25.00", func() { y.order(t, "D2", "4", "100.00") })
	case "11-12":
		step("4", "15.00", func() { y.refundAll(t, "D2") }) // the used bonus stays
	}
}

// noon runs the window expiry job (after the noon clock was set) and
// checks B's bonus is taken back on 15 May, not before.
func (y *yearSecond) noon(t *testing.T, day time.Time) {
	t.Helper()
	n, err := y.expire.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	y.expired += n
	switch day.Format("01-02") {
	case "05-14":
		if got := y.balance(t, "2"); got != "15.00" {
			t.Fatalf("B's bonus taken before its window closed: %s", got)
		}
	case "05-15":
		if got := y.balance(t, "2"); got != "10.00" || n != 1 {
			t.Fatalf("B's window closed: balance %s, %d offers closed", got, n)
		}
	}
}

func (y *yearSecond) check(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if y.expired != 1 {
		t.Fatalf("the expiry job closed %d offers over the year, want 1", y.expired)
	}
	for c, want := range map[string]string{"1": "20.00", "2": "20.00", "3": "0.00", "4": "15.00"} {
		if got := y.balance(t, c); got != want {
			t.Fatalf("customer %s at the end of the year: %s, want %s", c, got, want)
		}
	}
	rows, err := y.e.pool.Query(ctx, `SELECT owner_id, status FROM second_purchase_offers WHERE shop_id = $1`, y.shop.ID)
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
	if len(got) != 4 || got["c:1"] != "used" || got["c:2"] != "expired" || got["c:3"] != "cancelled" || got["c:4"] != "used" {
		t.Fatalf("offers %v", got)
	}
	var grants, ends int
	if err := y.e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE idem_key LIKE '%:grant'), count(*) FILTER (WHERE idem_key LIKE '%:end')
FROM ledger_transactions WHERE shop_id = $1 AND idem_key LIKE 'second_purchase:%'`, y.shop.ID).Scan(&grants, &ends); err != nil {
		t.Fatal(err)
	}
	if grants != 4 || ends != 2 {
		t.Fatalf("second-purchase transactions: %d grants, %d ends; want 4 and 2", grants, ends)
	}
	r, err := postgres.Audit(ctx, y.e.pool, y.shop.ID)
	if err != nil || !r.OK() {
		t.Fatalf("audit of the second-purchase shop: %v\n%s", err, r)
	}
}
