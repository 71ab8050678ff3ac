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

// TestGuestClaimCarriesTierSpend (issues 9 and 11): a guest's qualifying
// spend follows their credit to the customer who claims it, so the
// customer's next order earns at the tier the guest spend reached; a
// repeated claim counts nothing twice; the tier review announces it; a
// later refund of the guest order counts against the customer (the tier
// falls at once, the refund reverses from the customer's account); a
// guest order placed after the claim counts for the customer's tier too.
func TestGuestClaimCarriesTierSpend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	e := newNotifyEnv(t, t0)
	d := decimal.RequireFromString
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "claim-tiers.myshopify.com", Name: "Claim", Currency: "EUR", Active: true,
		Settings: core.ShopSettings{TimeZone: "Europe/Berlin", ProgramSettings: core.ProgramSettings{TierSettings: core.TierSettings{
			Tiers: []core.Tier{{Name: "Silber", Threshold: d("100"), Multiplier: d("1.5")}}}}},
		Secrets: core.ShopSecrets{CustomerKey: "ck"}}, "cba_claim_tiers_token_012345")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: d("10")}); err != nil {
		t.Fatal(err)
	}
	store := postgres.TierStore{L: e.ledger}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Now: e.clock.Now, Tiers: store}
	aff := postgres.Affiliates{Dir: e.dir, Ledger: e.ledger}
	rev := &jobs.TierReview{Shops: e.shops, Store: store, Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cust := core.Owner{Kind: core.OwnerCustomer, ID: "c:7"}
	orders := map[string]core.Order{}
	apply := func(o core.Order) {
		t.Helper()
		orders[o.OrderID] = o
		if _, err := earner.ApplyOrder(ctx, shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	order := func(id string, c core.CustomerRef, net string, at time.Time) {
		t.Helper()
		e.clock.Set(at)
		apply(core.Order{Platform: core.PlatformShopify, OrderID: id, OrderNumber: "#" + id, Currency: "EUR", Paid: true, Status: "paid", Customer: c,
			CreatedAt: at, UpdatedAt: at, Lines: []core.OrderLine{{LineID: id + "1", ProductID: "1", Quantity: 1, NetTotal: d(net)}}})
		e.clock.Set(at.Add(time.Minute)) // the tier counts orders placed before now
	}
	want := func(step, balance, tier string) {
		t.Helper()
		b, err := e.ledger.Balance(ctx, shop.ID, "EUR", cust)
		if err != nil {
			t.Fatal(err)
		}
		st, err := core.CustomerTier(ctx, store, shop, cust, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Available.Add(b.Overdraft).StringFixed(2); got != balance || st.Tier != tier {
			t.Fatalf("%s: balance %s tier %q, want %s %q (qualifying %s)", step, got, st.Tier, balance, tier, st.Qualifying)
		}
	}
	review := func(step string, n int) {
		t.Helper()
		got, err := rev.Run(ctx)
		if err != nil || got != n {
			t.Fatalf("%s: review %d changes (%v), want %d", step, got, err, n)
		}
	}
	guest := core.CustomerRef{Email: "gast@example.com"}
	order("G1", guest, "150.00", t0) // 15.00 to the guest; the guest's spend is 150
	review("the guest's own tier", 1)
	want("before the claim", "0.00", "")

	e.clock.Set(t0.Add(24 * time.Hour))
	if _, err := aff.ClaimGuest(ctx, shop, "gast@example.com", "7", "test"); err != nil {
		t.Fatal(err)
	}
	want("claimed", "15.00", "Silber")
	if _, err := aff.ClaimGuest(ctx, shop, "gast@example.com", "7", "test"); err != nil {
		t.Fatal(err)
	}
	want("claimed twice", "15.00", "Silber")
	review("the claim", 1)
	hist, err := store.TierHistory(ctx, shop.ID, cust, 10)
	if err != nil || len(hist) != 1 || hist[0].To != "Silber" || !hist[0].Qualifying.Equal(d("150")) {
		t.Fatalf("customer's tier history %+v (%v)", hist, err)
	}
	review("nothing new", 0)

	// The customer's own order earns at Silber: 2.00 × 1.5.
	order("C1", core.CustomerRef{PlatformID: "7"}, "20.00", t0.Add(48*time.Hour))
	want("own order at Silber", "18.00", "Silber")

	// The guest order is refunded: its 15.00 comes back from the customer
	// and its spend no longer counts (20 < 100).
	e.clock.Set(t0.Add(72 * time.Hour))
	g := orders["G1"]
	g.UpdatedAt = e.clock.Now()
	g.Refunds = []core.Refund{{RefundID: "rg", LinesKnown: true, Lines: []core.RefundLine{{LineID: "G11", Quantity: 1}}, CreatedAt: e.clock.Now()}}
	apply(g)
	want("guest order refunded", "3.00", "")
	review("the refund", 1)
	order("C2", core.CustomerRef{PlatformID: "7"}, "10.00", t0.Add(96*time.Hour))
	want("own order without a tier", "4.00", "")

	// A guest order under the claimed address after the claim counts for
	// the customer's tier (20 + 10 + 90), and its credit is booked to the
	// customer (9.00, earned before the order counted: no tier yet).
	order("G2", guest, "90.00", t0.Add(120*time.Hour))
	want("guest order after the claim", "13.00", "Silber")
	r, err := postgres.Audit(ctx, e.pool, shop.ID)
	if err != nil || !r.OK() {
		t.Fatalf("audit: %v\n%s", err, r)
	}
}
