package postgres_test

import (
	"context"
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
