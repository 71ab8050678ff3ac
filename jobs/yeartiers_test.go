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

// yearTiers is the tier shop of TestProgramYearOnAFakeClock: Silver from
// 100 EUR net spend (×1.5), Gold from 400 (×2), the paid membership Plus
// (×3, SKU PLUS, 3 months), reviewed monthly in Europe/Berlin; 10 % credit
// on everything but the membership article; a weekend campaign (×2) over
// the DST change of 29 March, which multiplies with the tier.
type yearTiers struct {
	e      *notifyEnv
	shop   core.Shop
	earner *core.Earner
	review func(t *testing.T)
	orders map[string]core.Order
}

func newYearTiers(t *testing.T, e *notifyEnv) *yearTiers {
	t.Helper()
	ctx := context.Background()
	d := decimal.RequireFromString
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://year-tiers.example", Name: "Stufen", Currency: "EUR", Active: true,
		Settings: core.ShopSettings{TimeZone: "Europe/Berlin", ProgramSettings: core.ProgramSettings{
			NotifySettings: core.NotifySettings{Email: true},
			Campaigns:      []core.Campaign{{Name: "Wochenende", Multiplier: d("2"), Target: core.CampaignShop, Starts: "2026-03-28T00:00", Ends: "2026-03-30T00:00"}},
			TierSettings: core.TierSettings{TierPeriod: core.PeriodMonth, Tiers: []core.Tier{
				{Name: "Silver", Threshold: d("100"), Multiplier: d("1.5")},
				{Name: "Gold", Threshold: d("400"), Multiplier: d("2")},
				{Name: "Plus", Membership: true, Multiplier: d("3")},
			}, Membership: &core.MembershipSettings{Tier: "Plus", SKUs: []string{"PLUS"}, Months: 3}}}},
		Secrets: core.ShopSecrets{CustomerKey: "ck"}}, "cba_year_tiers_token_0123456")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []core.Rule{
		{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: d("10")},
		{Target: core.TargetSKU, TargetID: "PLUS", Beneficiary: core.BeneficiaryBuyer, Mode: core.ModeExclude},
	} {
		if _, err := e.dir.PutRule(ctx, shop.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	store := postgres.TierStore{L: e.ledger}
	y := &yearTiers{e: e, shop: shop, orders: map[string]core.Order{},
		earner: &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Now: e.clock.Now, Tiers: store}}
	rev := &jobs.TierReview{Shops: e.shops, Store: store, Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	y.review = func(t *testing.T) {
		t.Helper()
		if _, err := rev.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return y
}

func (y *yearTiers) order(t *testing.T, id string, created time.Time, lines ...core.OrderLine) {
	t.Helper()
	o := core.Order{OrderID: id, OrderNumber: "#" + id, Customer: core.CustomerRef{PlatformID: "7"}, Currency: "EUR", Paid: true, Status: "processing",
		Lines: lines, CreatedAt: created, UpdatedAt: y.e.clock.Now()}
	y.orders[id] = o
	y.apply(t, o)
}

func (y *yearTiers) apply(t *testing.T, o core.Order) {
	t.Helper()
	if _, err := y.earner.ApplyOrder(context.Background(), y.shop, o, nil); err != nil {
		t.Fatal(err)
	}
}

func (y *yearTiers) refund(t *testing.T, id, refundID, line string, qty int64) {
	t.Helper()
	o := y.orders[id]
	o.UpdatedAt = y.e.clock.Now()
	o.Refunds = append(o.Refunds, core.Refund{RefundID: refundID, LinesKnown: true, Lines: []core.RefundLine{{LineID: line, Quantity: qty}}, CreatedAt: y.e.clock.Now()})
	y.orders[id] = o
	y.apply(t, o)
}

func (y *yearTiers) balance(t *testing.T) string {
	t.Helper()
	b, err := y.e.ledger.Balance(context.Background(), y.shop.ID, "EUR", core.Owner{Kind: core.OwnerCustomer, ID: "c:7"})
	if err != nil {
		t.Fatal(err)
	}
	return b.Available.StringFixed(2)
}

func line(id, sku string, qty int64, net string) core.OrderLine {
	return core.OrderLine{LineID: id, ProductID: "p" + id, SKU: sku, Quantity: qty, NetTotal: decimal.RequireFromString(net)}
}

// day runs the tier shop's events of one day (at 10:00 UTC, before the
// noon jobs) and checks the credit each earned.
func (y *yearTiers) day(t *testing.T, day time.Time) {
	t.Helper()
	at := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, time.UTC)
	step := func(want string, f func()) {
		t.Helper()
		y.e.clock.Set(at)
		f()
		if got := y.balance(t); got != want {
			t.Fatalf("%s: tier shop balance %s, want %s", at.Format("01-02"), got, want)
		}
	}
	switch at.Format("01-02") {
	case "01-01":
		// A late order placed on 15 February 2025 (no tier then): 30.00.
		step("30.00", func() { y.order(t, "Z", time.Date(2025, 2, 15, 10, 0, 0, 0, time.UTC), line("z", "", 1, "300.00")) })
	case "01-10":
		// Silver (300 in the window): 15.00 × 1.5.
		step("52.50", func() { y.order(t, "A", at, line("a", "", 1, "150.00")) })
	case "02-20":
		// Z is more than 12 months old, but within January's review
		// window nothing ages out: still Gold (450), 10.00 × 2.
		step("72.50", func() { y.order(t, "B", at, line("b", "", 2, "100.00")) })
	case "03-10":
		// Silver since 1 March; a refund of one of B's two units
		// reverses exactly half of its frozen Gold credit.
		step("62.50", func() { y.refund(t, "B", "rb", "b", 1) })
	case "03-30":
		// Four late webhooks of orders placed at the campaign's edges in
		// Berlin (CET before 29 March, CEST after): Silver 1.00 × 1.5,
		// and × 2 inside the window.
		berlin, _ := time.LoadLocation("Europe/Berlin")
		for i, c := range []struct {
			at   time.Time
			want string
		}{
			{time.Date(2026, 3, 27, 23, 59, 59, 0, berlin), "64.00"}, // a second before: 1.50
			{time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), "67.00"},    // local midnight (23:00 UTC): 3.00
			{time.Date(2026, 3, 29, 23, 59, 59, 0, berlin), "70.00"}, // the last second (21:59:59 UTC): 3.00
			{time.Date(2026, 3, 30, 0, 0, 0, 0, berlin), "71.50"},    // Monday's midnight (22:00 UTC): 1.50
		} {
			id := "W" + string(rune('1'+i))
			step(c.want, func() { y.order(t, id, c.at.UTC(), line("w"+id, "", 1, "10.00")) })
		}
	case "04-05":
		// The order that buys the membership earns as a member: 10.00 × 3.
		step("101.50", func() { y.order(t, "M", at, line("m", "PLUS", 1, "49.00"), line("n", "", 1, "100.00")) })
	case "04-06":
		// A replay changes nothing.
		step("101.50", func() { y.apply(t, y.orders["M"]) })
	case "04-20":
		// Refunding the membership ends it at once; M's other line keeps
		// its frozen member credit.
		step("101.50", func() { y.refund(t, "M", "rm", "m", 1) })
	case "05-05":
		// Silver again (A 150 + B 50 + W 40 + M 100): 10.00 × 1.5; E
		// itself lifts the window to 440, so the next order earns at Gold.
		step("116.50", func() { y.order(t, "E", at, line("e", "", 1, "100.00")) })
	case "05-06":
		step("126.50", func() { y.order(t, "F", at, line("f", "", 1, "50.00")) }) // 5.00 × 2
	}
}

// check compares the tier changes announced over the year.
func (y *yearTiers) check(t *testing.T) {
	t.Helper()
	rows, err := y.e.pool.Query(context.Background(), `SELECT created_at, payload->>'tier', coalesce(payload->>'previous_tier', ''), coalesce(payload->>'lowered', 'false')
FROM notifications WHERE shop_id = $1 AND topic = 'tier.changed' ORDER BY id`, y.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var at time.Time
		var tier, prev, lowered string
		if err := rows.Scan(&at, &tier, &prev, &lowered); err != nil {
			t.Fatal(err)
		}
		got = append(got, at.UTC().Format("01-02")+" "+prev+">"+tier+" lowered="+lowered)
	}
	rows.Close()
	want := []string{
		"01-01 >Silver lowered=false",
		"01-10 Silver>Gold lowered=false",
		"03-01 Gold>Silver lowered=true", // the month's end: Z (Feb 2025) aged out
		"04-05 Silver>Plus lowered=false",
		"04-20 Plus>Silver lowered=true",  // the membership refunded
		"05-05 Silver>Gold lowered=false", // E brings the window to 440
	}
	if len(got) != len(want) {
		t.Fatalf("tier changes:\n%v\nwant:\n%v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tier change %d: %q, want %q\nall: %v", i, got[i], want[i], got)
		}
	}
	r, err := postgres.Audit(context.Background(), y.e.pool, y.shop.ID)
	if err != nil || !r.OK() {
		t.Fatalf("audit of the tier shop: %v\n%s", err, r)
	}
}
