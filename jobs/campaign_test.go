package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// A campaign's multiplier is frozen with the line: after the campaign is
// gone, a refund of one of two units reverses exactly half of the doubled
// credit, and a later order earns the plain rate.
func TestCampaignFrozenThroughRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newNotifyEnv(t, time.Date(2026, 3, 28, 10, 0, 0, 0, time.UTC))
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://campaign.example", Name: "C", Currency: "EUR", Active: true,
		Settings: core.ShopSettings{TimeZone: "Europe/Berlin", ProgramSettings: core.ProgramSettings{Campaigns: []core.Campaign{
			{Name: "Wochenende", Multiplier: decimal.RequireFromString("2"), Target: core.CampaignShop, Starts: "2026-03-28T00:00", Ends: "2026-03-30T00:00"}}}},
		Secrets: core.ShopSecrets{CustomerKey: "ck"}}, "cba_campaign_token_012345678")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: decimal.RequireFromString("10")}); err != nil {
		t.Fatal(err)
	}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger, Now: e.clock.Now}
	order := func(id string, created time.Time, refunds ...core.Refund) {
		t.Helper()
		o := core.Order{OrderID: id, OrderNumber: "#" + id, Customer: core.CustomerRef{PlatformID: "1"}, Currency: "EUR", Paid: true,
			Lines:     []core.OrderLine{{LineID: id + "1", ProductID: "9", Quantity: 2, NetTotal: decimal.RequireFromString("40.00")}},
			CreatedAt: created, UpdatedAt: e.clock.Now(), Refunds: refunds}
		if _, err := earner.ApplyOrder(ctx, shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	balance := func() string {
		b, _ := e.ledger.Balance(ctx, shop.ID, "EUR", core.Owner{Kind: core.OwnerCustomer, ID: "c:1"})
		return b.Available.StringFixed(2)
	}
	order("1", time.Date(2026, 3, 28, 9, 0, 0, 0, time.UTC))
	if got := balance(); got != "8.00" {
		t.Fatalf("in the campaign: %s, want 8.00 (10 %% of 40.00, doubled)", got)
	}
	shop.Settings.Campaigns = nil
	if err := e.shops.UpdateSettings(ctx, shop); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC))
	order("1", time.Date(2026, 3, 28, 9, 0, 0, 0, time.UTC),
		core.Refund{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "11", Quantity: 1}}, CreatedAt: e.clock.Now()})
	if got := balance(); got != "4.00" {
		t.Fatalf("after refunding one of two units: %s, want 4.00 (half of the frozen 8.00)", got)
	}
	order("2", e.clock.Now())
	if got := balance(); got != "8.00" {
		t.Fatalf("after a plain order: %s, want 4.00 + 4.00", got)
	}
}
