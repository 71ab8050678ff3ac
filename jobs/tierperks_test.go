package jobs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

// perkTiers is one tier, Gold from 100 EUR net spend, whose perks raise
// the shop's checkout caps (20 %, 10.00) to 50 % and 40.00.
func perkTiers(settings core.ShopSettings) core.ShopSettings {
	d := decimal.RequireFromString
	settings.MaxPercent = decimal.NewNullDecimal(d("20"))
	settings.MaxAmount = decimal.NewNullDecimal(d("10"))
	settings.TierSettings = core.TierSettings{Tiers: []core.Tier{{Name: "Gold", Threshold: d("100"), Multiplier: d("1"),
		MaxPercent: decimal.NewNullDecimal(d("50")), MaxAmount: decimal.NewNullDecimal(d("40"))}}}
	return settings
}

func perkOrder(id, customer, net string, at time.Time) core.Order {
	return core.Order{Platform: core.PlatformShopify, OrderID: id, OrderNumber: "#" + id, Currency: "EUR", Paid: true, Status: "paid",
		Customer: core.CustomerRef{PlatformID: customer}, CreatedAt: at, UpdatedAt: at,
		Lines: []core.OrderLine{{LineID: id + "1", ProductID: "10", Title: "Shirt", Quantity: 1, NetTotal: decimal.RequireFromString(net)}}}
}

// TestTierPerksInCreditMetafield: the Shopify credit metafield the
// discount Function reads carries the customer's tier caps (through the
// fake Admin API, which validates against the 2026-04 schema); a refund
// that takes the tier away brings the shop's caps back; the tier review
// re-syncs customers whose tier changed in a shop with perks.
func TestTierPerksInCreditMetafield(t *testing.T) {
	t.Parallel()
	e := newShopifyEnv(t)
	ctx := context.Background()
	shop := e.createShop(t, perkTiers(core.ShopSettings{RedemptionMode: core.RedemptionFunction}), core.ShopSecrets{AccessToken: e.fake.AccessToken()})
	if _, err := e.dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: decimal.RequireFromString("10")}); err != nil {
		t.Fatal(err)
	}
	tiers := postgres.TierStore{L: e.ledger}
	now := time.Now().UTC().Add(-time.Hour)
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Tiers: tiers}
	h := &jobs.MetafieldHandler{Shops: e.shops, Ledger: e.ledger, Holds: e.ledger, Admin: e.clients, Log: e.log, Tiers: tiers}
	check := func(step, amount, maxPercent, maxAmount string) {
		t.Helper()
		if err := h.Sync(ctx, shop.ID, "c:77"); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		raw, ok := e.fake.Metafield("gid://shopify/Customer/77")
		var mf map[string]any
		if !ok || json.Unmarshal([]byte(raw), &mf) != nil {
			t.Fatalf("%s: metafield %q", step, raw)
		}
		if mf["amount"] != amount || mf["max_percent"] != maxPercent || mf["max_amount"] != maxAmount {
			t.Fatalf("%s: metafield %s, want amount %s max_percent %s max_amount %s", step, raw, amount, maxPercent, maxAmount)
		}
	}
	apply := func(o core.Order) {
		t.Helper()
		if _, err := earner.ApplyOrder(ctx, shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	apply(perkOrder("1", "77", "60.00", now))
	check("no tier: the shop's caps", "6.00", "20", "10.00")
	second := perkOrder("2", "77", "50.00", now.Add(time.Minute))
	apply(second)
	check("Gold: the tier's caps", "11.00", "50", "40.00")

	// The tier review tells the notifier about the change (perks here).
	var told []core.Owner
	rev := &jobs.TierReview{Shops: shopList{shop}, Store: tiers, Log: e.log, Notify: func(_ context.Context, _ core.Shop, owners []core.Owner) { told = append(told, owners...) }}
	if n, err := rev.Run(ctx); err != nil || n != 1 || len(told) != 1 || told[0].ID != "c:77" {
		t.Fatalf("tier review: %d changes, told %v, %v", n, told, err)
	}

	second.UpdatedAt = second.UpdatedAt.Add(time.Minute)
	second.Refunds = []core.Refund{{RefundID: "r2", LinesKnown: true, Lines: []core.RefundLine{{LineID: "21", Quantity: 1}}, CreatedAt: second.UpdatedAt}}
	apply(second)
	check("the tier refunded away", "6.00", "20", "10.00")
	told = nil
	if n, err := rev.Run(ctx); err != nil || n != 1 || len(told) != 1 {
		t.Fatalf("tier review after the refund: %d changes, told %v, %v", n, told, err)
	}

	// Without perks on its tiers the review tells nobody (no needless
	// Admin API calls).
	plain := shop
	plain.Settings.Tiers = []core.Tier{{Name: "Gold", Threshold: decimal.RequireFromString("100"), Multiplier: decimal.RequireFromString("1.5")}}
	if jobs.HasTierPerks(plain.Settings.TierSettings) || !jobs.HasTierPerks(shop.Settings.TierSettings) {
		t.Fatal("HasTierPerks")
	}
}

// TestTierPerksInStoreCredit: in store credit mode the customer's
// max_amount (the tier's, else the shop's) is the most mirrored into
// Shopify store credit at once, through the production wiring's handler;
// losing the tier takes the excess back out of Shopify.
func TestTierPerksInStoreCredit(t *testing.T) {
	t.Parallel()
	e := newStoreCreditEnv(t, perkTiers(core.ShopSettings{}))
	ctx := context.Background()
	if _, err := e.dir.PutRule(ctx, e.shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: decimal.RequireFromString("10")}); err != nil {
		t.Fatal(err)
	}
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:501"}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Tiers: postgres.TierStore{L: e.ledger}}
	sync := func() {
		t.Helper()
		if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.post(t, "earn-1", c, "30.00")
	sync()
	e.want(t, "no tier: at most the shop's 10.00", c, "30.00", "10.00", "10.00")

	at := e.now.UTC().Add(-time.Hour)
	big := perkOrder("9001", "501", "150.00", at)
	if _, err := earner.ApplyOrder(ctx, e.shop, big, nil); err != nil {
		t.Fatal(err)
	}
	sync()
	e.want(t, "Gold: at most 40.00", c, "45.00", "40.00", "40.00")

	big.UpdatedAt = at.Add(time.Minute)
	big.Cancelled, big.Paid = true, false
	if _, err := earner.ApplyOrder(ctx, e.shop, big, nil); err != nil {
		t.Fatal(err)
	}
	sync()
	e.want(t, "cancelled: back to 10.00", c, "30.00", "10.00", "10.00")

	// A shop without caps mirrors everything, as before.
	if got := jobs.StoreCreditTarget(core.ShopSettings{}, core.Balance{Available: decimal.RequireFromString("30.00")}); !got.Equal(decimal.RequireFromString("30")) {
		t.Fatalf("uncapped target %s", got)
	}
	if got := jobs.StoreCreditTarget(core.ShopSettings{}, core.Balance{Available: decimal.RequireFromString("-3.00")}); !got.IsZero() {
		t.Fatalf("negative target %s", got)
	}
}

// TestMinimumBalanceReachesShopify: below min_redeem_balance the credit
// metafield offers nothing and store credit mirrors nothing, as checkout
// quotes answer 0; at the minimum everything is offered.
func TestMinimumBalanceReachesShopify(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	shop := core.Shop{Currency: "EUR"}
	shop.Settings.MinRedeemBalance = decimal.NewNullDecimal(d("20"))
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ avail, hold, want string }{{"19.99", "0", "0.00"}, {"15.00", "5.00", "20.00"}, {"20.00", "0", "20.00"}} {
		mf := jobs.CreditMetafieldFor(shop, core.Balance{Available: d(c.avail), Held: d(c.hold)}, d(c.hold), at)
		if mf.Amount != c.want {
			t.Errorf("metafield of %s (+%s held): %s, want %s", c.avail, c.hold, mf.Amount, c.want)
		}
	}
	if got := jobs.StoreCreditTarget(shop.Settings, core.Balance{Available: d("19.99")}); !got.IsZero() {
		t.Errorf("store credit below the minimum: %s", got)
	}
	if got := jobs.StoreCreditTarget(shop.Settings, core.Balance{Available: d("25.00")}); !got.Equal(d("25")) {
		t.Errorf("store credit at the minimum: %s", got)
	}
}
