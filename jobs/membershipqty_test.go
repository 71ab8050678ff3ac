package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestMembershipQuantityLengthens: a membership article bought with
// quantity 2 lasts two periods (frozen with the first paid snapshot: a
// replay with another quantity changes nothing); one bought while it runs
// starts at its end; refunding the line ends it at once.
func TestMembershipQuantityLengthens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC)
	e := newNotifyEnv(t, t0)
	d := decimal.RequireFromString
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://club.example", Name: "Club", Currency: "EUR", Active: true,
		Settings: core.ShopSettings{ProgramSettings: core.ProgramSettings{TierSettings: core.TierSettings{
			Tiers:      []core.Tier{{Name: "Club", Membership: true, Multiplier: d("2")}},
			Membership: &core.MembershipSettings{Tier: "Club", SKUs: []string{"CLUB"}, Months: 3}}}},
		Secrets: core.ShopSecrets{CustomerKey: "ck"}}, "cba_club_token_0123456789012")
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.TierStore{L: e.ledger}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Now: e.clock.Now, Tiers: store}
	cust := core.Owner{Kind: core.OwnerCustomer, ID: "c:5"}
	orders := map[string]core.Order{}
	buy := func(id string, qty int64, at time.Time) {
		t.Helper()
		e.clock.Set(at)
		o := core.Order{OrderID: id, OrderNumber: id, Customer: core.CustomerRef{PlatformID: "5"}, Currency: "EUR", Paid: true, Status: "processing",
			CreatedAt: at, UpdatedAt: at, Lines: []core.OrderLine{{LineID: id + "-1", ProductID: "1", SKU: "CLUB", Quantity: qty, NetTotal: d("30.00").Mul(decimal.NewFromInt(qty))}}}
		orders[id] = o
		if _, err := earner.ApplyOrder(ctx, shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	memberUntil := func(at time.Time) time.Time {
		t.Helper()
		f, err := store.TierFacts(ctx, shop, cust, at, "")
		if err != nil {
			t.Fatal(err)
		}
		if !f.Member {
			return time.Time{}
		}
		return f.MemberUntil
	}
	buy("1", 2, t0)
	if got, want := memberUntil(t0.Add(time.Hour)), t0.AddDate(0, 6, 0); !near(got, want) {
		t.Fatalf("quantity 2 of 3 months: member until %s, want %s", got, want)
	}
	// A replay with another quantity (an edited order) keeps what was frozen.
	o := orders["1"]
	o.UpdatedAt = t0.Add(time.Minute)
	o.Lines[0].Quantity = 3
	if _, err := earner.ApplyOrder(ctx, shop, o, nil); err != nil {
		t.Fatal(err)
	}
	if got := memberUntil(t0.Add(time.Hour)); !near(got, t0.AddDate(0, 6, 0)) {
		t.Fatalf("after a replay: member until %s", got)
	}
	// Bought again while it runs: starts at its end, one period.
	buy("2", 1, t0.AddDate(0, 1, 0))
	if got, want := memberUntil(t0.AddDate(0, 6, 1)), t0.AddDate(0, 9, 0); !near(got, want) {
		t.Fatalf("second membership: member until %s, want %s", got, want)
	}
	// Refunding the first line ends it at the refund's time; the second
	// keeps its frozen start and end.
	refundAt := t0.AddDate(0, 2, 0)
	e.clock.Set(refundAt)
	r := orders["1"]
	r.UpdatedAt = refundAt
	r.Refunds = []core.Refund{{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1-1", Quantity: 2}}, CreatedAt: refundAt}}
	if _, err := earner.ApplyOrder(ctx, shop, r, nil); err != nil {
		t.Fatal(err)
	}
	if got := memberUntil(refundAt.Add(time.Hour)); !got.IsZero() {
		t.Fatalf("after the refund: still a member until %s", got)
	}
	if got := memberUntil(t0.AddDate(0, 7, 0)); !near(got, t0.AddDate(0, 9, 0)) {
		t.Fatalf("the second membership: member until %s", got)
	}
}

// near compares membership ends computed by PostgreSQL's month interval
// (in the session's time zone, so a DST change may shift it by an hour).
func near(got, want time.Time) bool {
	d := got.Sub(want)
	return !got.IsZero() && d > -2*time.Hour && d < 2*time.Hour
}
