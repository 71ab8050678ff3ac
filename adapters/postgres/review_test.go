package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// reviewOrders are three orders of one buyer: paid with a partner and a
// partial refund, paid without a partner, and one paid then cancelled.
func reviewOrders(at time.Time) []core.Order {
	refund := core.Refund{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}
	a := order(at, true, false, refund)
	a.CreatedAt = at
	b := order(at.Add(time.Minute), true, false)
	b.OrderID, b.OrderNumber, b.PartnerRef, b.CreatedAt = "5002", "#1002", "", at.Add(time.Minute)
	b.Lines = []core.OrderLine{{LineID: "7", ProductID: "12", SKU: "TEA", Title: "Tea", Quantity: 4, NetTotal: dec("33.33")}}
	c := order(at.Add(2*time.Minute), true, true)
	c.OrderID, c.OrderNumber, c.CreatedAt = "5003", "#1003", at.Add(2*time.Minute)
	return []core.Order{a, b, c}
}

func (e *earnEnv) replaceRules(t *testing.T, rules []core.Rule) {
	t.Helper()
	ctx := context.Background()
	old, err := e.dir.Rules(ctx, e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range old {
		if err := e.dir.DeleteRule(ctx, e.shop.ID, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rules {
		if _, err := e.dir.PutRule(ctx, e.shop.ID, r); err != nil {
			t.Fatal(err)
		}
	}
}

// booked is the credit every owner holds (available + pending +
// overdraft) after the orders were booked.
func (e *earnEnv) booked(t *testing.T, owners []core.Owner) map[core.Owner]decimal.Decimal {
	t.Helper()
	out := map[core.Owner]decimal.Decimal{}
	for _, o := range owners {
		b, err := e.ledger.Balance(context.Background(), e.shop.ID, "EUR", o)
		if err != nil {
			t.Fatal(err)
		}
		out[o] = b.Available.Add(b.Pending).Add(b.Held).Add(b.Overdraft)
	}
	return out
}

// TestSimulationMatchesBooking: the "what if" simulation replays booked
// orders without booking anything. Under the rules they were booked with
// it finds exactly the credit the ledger holds per owner; under edited
// rules it finds exactly what booking the same orders under those rules
// in another shop books.
func TestSimulationMatchesBooking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	p1 := core.Owner{Kind: core.OwnerPartner, ID: "p-1"}
	p2 := core.Owner{Kind: core.OwnerPartner, ID: "p-top"}
	owners := []core.Owner{buyer, p1, p2}
	edited := []core.Rule{
		{Target: core.TargetDefault, Mode: core.ModePercent, Value: dec("10")},
		{Target: core.TargetSKU, TargetID: "SHIRT", Mode: core.ModeExclude},
		{Target: core.TargetCollection, TargetID: "teas", Mode: core.ModeFixed, Value: dec("0.35"), Products: []string{"12"}},
		{Target: core.TargetDefault, Beneficiary: "partner1", Mode: core.ModePercent, Value: dec("3")},
		{Target: core.TargetDefault, Beneficiary: "partner2", Mode: core.ModePercent, Value: dec("0.5")},
	}
	for i := range edited {
		if err := edited[i].Validate(); err != nil { // as the API checks edited rules
			t.Fatal(err)
		}
	}

	e := newEarnEnv(t)
	for _, o := range reviewOrders(at) {
		if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	orders, err := e.dir.SimulationOrders(ctx, e.shop, at.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 3 {
		t.Fatalf("%d orders to replay, want 3", len(orders))
	}
	rules, err := e.dir.Rules(ctx, e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	same, err := core.SimulateEarnings(e.shop.Settings, core.NewRuleSet(rules), "EUR", orders)
	if err != nil {
		t.Fatal(err)
	}
	want := e.booked(t, owners)
	total := decimal.Zero
	for _, o := range owners {
		if !same.ByOwner[o].Equal(want[o]) {
			t.Errorf("same rules: simulated %s for %s, booked %s", same.ByOwner[o], o, want[o])
		}
		total = total.Add(want[o])
	}
	if !same.Current.Equal(total) || !same.Simulated.Equal(total) || !same.Difference.IsZero() || total.IsZero() {
		t.Errorf("same rules: current %s simulated %s, booked %s", same.Current, same.Simulated, total)
	}

	// The edited rules: simulated in the first shop, booked in a second.
	sim, err := core.SimulateEarnings(e.shop.Settings, core.NewRuleSet(edited), "EUR", orders)
	if err != nil {
		t.Fatal(err)
	}
	e2 := newEarnEnv(t)
	e2.replaceRules(t, edited)
	for _, o := range reviewOrders(at) {
		if _, err := e2.earner.ApplyOrder(ctx, e2.shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	want2 := e2.booked(t, owners)
	total2 := decimal.Zero
	for _, o := range owners {
		if !sim.ByOwner[o].Equal(want2[o]) {
			t.Errorf("edited rules: simulated %s for %s, booking gave %s", sim.ByOwner[o], o, want2[o])
		}
		total2 = total2.Add(want2[o])
	}
	if !sim.Simulated.Equal(total2) || !sim.Current.Equal(total) || !sim.Difference.Equal(total2.Sub(total)) || total2.Equal(total) {
		t.Errorf("edited rules: %+v, booked %s before and %s after", sim, total, total2)
	}
	// Nothing was booked by simulating.
	if after := e.booked(t, owners); !after[buyer].Equal(want[buyer]) {
		t.Errorf("simulating changed the books: %s, was %s", after[buyer], want[buyer])
	}

	// The review of the month: issued equals what the ledger booked, the
	// buyer bought again with credit, the partners earned.
	rev, err := core.BuildReview(ctx, e.ledger, e.dir, e.shop, "EUR", 2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Months) != 2 {
		t.Fatalf("months = %+v", rev.Months)
	}
	last := rev.Months[1]
	if !last.Issued.Equal(total) || !last.Liability.Equal(total) || !last.Redeemed.IsZero() || rev.RedemptionRate.Valid && !rev.RedemptionRate.Decimal.IsZero() {
		t.Errorf("month %+v, redemption rate %v; booked %s", last, rev.RedemptionRate, total)
	}
	if rev.WithCredit.Customers != 1 || rev.WithCredit.Repeat != 1 || !rev.WithCredit.Rate.Valid || !rev.WithCredit.Rate.Decimal.Equal(dec("1")) ||
		rev.WithoutCredit.Customers != 0 || rev.WithoutCredit.Rate.Valid {
		t.Errorf("repeat: with %+v without %+v", rev.WithCredit, rev.WithoutCredit)
	}
	if len(rev.TopPartners) != 2 || rev.TopPartners[0].PartnerID != "p-1" || !rev.TopPartners[0].Earned.Equal(want[p1]) || !rev.TopPartners[1].Earned.Equal(want[p2]) {
		t.Errorf("top partners %+v, booked p-1 %s p-top %s", rev.TopPartners, want[p1], want[p2])
	}
}

// setYearCap gives the env's shop a yearly earning cap per owner.
func (e *earnEnv) setYearCap(t *testing.T, amount string) {
	t.Helper()
	e.shop.Settings.EarnCapYearAmount = decimal.NewNullDecimal(dec(amount))
	if err := e.shops.UpdateSettings(context.Background(), e.shop); err != nil {
		t.Fatal(err)
	}
}

// TestSimulationStartsFromYearToDateBudget extends
// TestSimulationMatchesBooking to a shop with a yearly cap: an order
// before the simulated period used most of the buyer's and partners'
// budgets, so the period's orders are cut. The simulation (streamed, core.Simulate)
// starts each owner from the budget booking had used before the period
// and finds exactly what the period's orders booked, under the rules they
// were booked with and under edited rules (booked in a second shop whose
// earlier order was booked under the first rules); an empty budget
// (SimulateEarnings) would find more.
func TestSimulationStartsFromYearToDateBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	feb := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	mar := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	p1 := core.Owner{Kind: core.OwnerPartner, ID: "p-1"}
	p2 := core.Owner{Kind: core.OwnerPartner, ID: "p-top"}
	owners := []core.Owner{buyer, p1, p2}
	early := order(feb, true, false)
	early.OrderID, early.OrderNumber, early.CreatedAt = "4001", "#0901", feb
	edited := []core.Rule{
		{Target: core.TargetDefault, Mode: core.ModePercent, Value: dec("10")},
		{Target: core.TargetDefault, Beneficiary: "partner1", Mode: core.ModePercent, Value: dec("3")},
		{Target: core.TargetDefault, Beneficiary: "partner2", Mode: core.ModePercent, Value: dec("0.5")},
	}
	for i := range edited {
		if err := edited[i].Validate(); err != nil { // as the API checks edited rules
			t.Fatal(err)
		}
	}
	// period is what each owner gained from the orders after early.
	book := func(e *earnEnv, after func()) (period map[core.Owner]decimal.Decimal) {
		t.Helper()
		if _, err := e.earner.ApplyOrder(ctx, e.shop, early, nil); err != nil {
			t.Fatal(err)
		}
		before := e.booked(t, owners)
		if after != nil {
			after()
		}
		for _, o := range reviewOrders(mar) {
			if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
				t.Fatal(err)
			}
		}
		period = e.booked(t, owners)
		for _, o := range owners {
			period[o] = period[o].Sub(before[o])
		}
		return period
	}
	e := newEarnEnv(t)
	e.setYearCap(t, "12.00")
	want := book(e, nil)
	rules, err := e.dir.Rules(ctx, e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	since := mar.Add(-time.Minute)
	same, err := core.Simulate(ctx, e.dir, e.shop, core.NewRuleSet(rules), since)
	if err != nil {
		t.Fatal(err)
	}
	if same.Orders != 3 {
		t.Fatalf("replayed %d orders, want 3", same.Orders)
	}
	total := decimal.Zero
	for _, o := range owners {
		if !same.ByOwner[o].Equal(want[o]) {
			t.Errorf("same rules: simulated %s for %s, the period booked %s", same.ByOwner[o], o, want[o])
		}
		total = total.Add(want[o])
	}
	if !same.Simulated.Equal(total) || !same.Current.Equal(total) {
		t.Errorf("same rules: current %s simulated %s, booked %s", same.Current, same.Simulated, total)
	}
	// The cap cut the period: an empty budget would have found more.
	orders, err := e.dir.SimulationOrders(ctx, e.shop, since)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := core.SimulateEarnings(e.shop.Settings, core.NewRuleSet(rules), "EUR", orders)
	if err != nil {
		t.Fatal(err)
	}
	if !empty.ByOwner[buyer].GreaterThan(want[buyer]) {
		t.Fatalf("the cap did not cut the period (empty budget %s, booked %s): the test proves nothing", empty.ByOwner[buyer], want[buyer])
	}

	// Edited rules: simulated in the first shop, booked in a second whose
	// earlier order was booked under the first shop's rules.
	sim, err := core.Simulate(ctx, e.dir, e.shop, core.NewRuleSet(edited), since)
	if err != nil {
		t.Fatal(err)
	}
	e2 := newEarnEnv(t)
	e2.setYearCap(t, "12.00")
	want2 := book(e2, func() { e2.replaceRules(t, edited) })
	for _, o := range owners {
		if !sim.ByOwner[o].Equal(want2[o]) {
			t.Errorf("edited rules: simulated %s for %s, booking the period gave %s", sim.ByOwner[o], o, want2[o])
		}
	}
}

// TestSimulationStreamsManyOrders: more orders than one cursor page (and
// than the old limit of a page-free load would hold comfortably) replay
// in creation order with the yearly budget carried across pages, starting
// from what booking had used.
func TestSimulationStreamsManyOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	e.setYearCap(t, "100.00")
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	o := core.Order{Platform: core.PlatformShopify, OrderID: "x", Currency: "EUR", Paid: true, Customer: core.CustomerRef{PlatformID: "88"},
		UpdatedAt: start, CreatedAt: start, Lines: []core.OrderLine{{LineID: "1", ProductID: "11", Title: "Mug", Quantity: 1, NetTotal: dec("10.00")}}}
	snap, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1201 // three pages of the cursor
	if _, err := e.pool.Exec(ctx, `INSERT INTO orders (shop_id, order_id, snapshot, buyer_owner)
SELECT $1, 'bulk-' || g, jsonb_set(jsonb_set($2::jsonb, '{OrderID}', to_jsonb('bulk-' || g)), '{CreatedAt}',
	to_jsonb(to_char(($3::timestamptz + g * interval '1 minute') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))), 'c:88'
FROM generate_series(1, $4::int) AS g`, e.shop.ID, string(snap), start, n); err != nil {
		t.Fatal(err)
	}
	// Booking had used 30.00 of the buyer's 2026 budget (before the period).
	if _, err := e.pool.Exec(ctx, `INSERT INTO earn_year_caps (shop_id, currency, owner_kind, owner_id, year, used) VALUES ($1, 'EUR', 'customer', 'c:88', 2026, 30)`,
		e.shop.ID); err != nil {
		t.Fatal(err)
	}
	rules, err := e.dir.Rules(ctx, e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen, last := 0, time.Time{}
	if err := e.dir.EachSimulationOrder(ctx, e.shop, start, func(so core.SimOrder) error {
		if so.State.Order.CreatedAt.Before(last) {
			t.Fatalf("order %s out of creation order", so.State.Order.OrderID)
		}
		last = so.State.Order.CreatedAt
		seen++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("streamed %d orders, want %d", seen, n)
	}
	res, err := core.Simulate(ctx, e.dir, e.shop, core.NewRuleSet(rules), start)
	if err != nil {
		t.Fatal(err)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:88"}
	// 5 % of 10.00 a order, until the 70.00 left of the budget are used.
	if res.Orders != n || !res.Current.IsZero() || !res.ByOwner[buyer].Equal(dec("70")) || !res.Simulated.Equal(dec("70")) {
		t.Fatalf("simulated %d orders: current %s, buyer %s, total %s", res.Orders, res.Current, res.ByOwner[buyer], res.Simulated)
	}
}
