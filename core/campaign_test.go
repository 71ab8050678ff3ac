package core_test

import (
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// A weekend campaign doubling one product's credit, decided by the order's
// creation time in Europe/Berlin across the DST change of 29 March 2026;
// the multiplier is frozen with the rate, for the buyer only.
func TestCampaignWindowInShopTimeZone(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	s := core.ShopSettings{TimeZone: "Europe/Berlin", PartnerLevels: 1, ProgramSettings: core.ProgramSettings{Campaigns: []core.Campaign{
		{Name: "Wochenende", Multiplier: d("2"), Target: core.CampaignProduct, TargetIDs: []string{"p1"}, Starts: "2026-03-28T00:00", Ends: "2026-03-30T00:00"},
		{Name: "Kleiner", Multiplier: d("1.5"), Target: core.CampaignShop, Starts: "2026-03-28T00:00", Ends: "2026-03-29T00:00"},
	}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	rules := core.NewRuleSet([]core.Rule{{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: d("10")},
		{Target: core.TargetDefault, Beneficiary: core.PartnerLevel(1), Mode: core.ModePercent, Value: d("2")}})
	buyer, partner := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}, core.Owner{Kind: core.OwnerPartner, ID: "p"}
	for _, c := range []struct {
		created  time.Time
		product  string
		full     string
		campaign string
	}{
		{time.Date(2026, 3, 27, 23, 59, 59, 0, berlin), "p1", "4", ""},           // Friday, one second before
		{time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), "p1", "8", "Wochenende"},    // local midnight (23:00 UTC)
		{time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), "p2", "6", "Kleiner"},      // another product: the shop-wide one
		{time.Date(2026, 3, 29, 3, 0, 0, 0, berlin), "p1", "8", "Wochenende"},    // after the DST change
		{time.Date(2026, 3, 29, 23, 59, 59, 0, berlin), "p1", "8", "Wochenende"}, // last second (21:59:59 UTC)
		{time.Date(2026, 3, 30, 0, 0, 0, 0, berlin), "p1", "4", ""},              // Monday local midnight (22:00 UTC)
	} {
		o := core.Order{OrderID: "1", Currency: "EUR", Paid: true, CreatedAt: c.created.UTC(),
			Lines: []core.OrderLine{{LineID: "l1", ProductID: c.product, Quantity: 2, NetTotal: d("40.00")}}}
		rates := core.FreezeRatesWith(s, o, nil, rules, buyer, []core.Owner{partner})
		if len(rates) != 2 {
			t.Fatalf("%s: %d rates", c.created, len(rates))
		}
		for _, r := range rates {
			if r.Beneficiary != core.BeneficiaryBuyer {
				if !r.Full.Decimal.Equal(d("0.8")) || r.Campaign != "" {
					t.Fatalf("%s: partner rate %+v changed by a campaign", c.created, r)
				}
				continue
			}
			if !r.Full.Decimal.Equal(d(c.full)) || r.Campaign != c.campaign {
				t.Fatalf("%s %s: full %s campaign %q, want %s %q", c.created, c.product, r.Full.Decimal, r.Campaign, c.full, c.campaign)
			}
		}
	}
	// Without campaigns the rates are exactly the rule's.
	o := core.Order{OrderID: "1", Currency: "EUR", Paid: true, CreatedAt: time.Date(2026, 3, 28, 12, 0, 0, 0, berlin),
		Lines: []core.OrderLine{{LineID: "l1", ProductID: "p1", Quantity: 2, NetTotal: d("40.00")}}}
	plain := core.FreezeRatesWith(core.ShopSettings{}, o, nil, rules, buyer, nil)
	if len(plain) != 1 || !plain[0].Full.Decimal.Equal(d("4")) || plain[0].Multiplier.Valid {
		t.Fatalf("without campaigns: %+v", plain)
	}
	bad := core.Campaign{Name: "x", Multiplier: d("2"), Target: core.CampaignShop, Starts: "2026-03-30T00:00", Ends: "2026-03-28T00:00"}
	if err := bad.Validate(); err == nil {
		t.Fatal("a window ending before it starts was accepted")
	}

}

// The storefront's "you earn X" quote applies a campaign whose window
// covers the moment asked about, in the shop's time zone, and only then.
func TestQuoteEarningsAppliesCampaigns(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	s := core.ShopSettings{TimeZone: "Europe/Berlin", ProgramSettings: core.ProgramSettings{Campaigns: []core.Campaign{
		{Name: "Wochenende", Multiplier: d("2"), Target: core.CampaignProduct, TargetIDs: []string{"p1"}, Starts: "2026-03-28T00:00", Ends: "2026-03-30T00:00"},
	}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	rules := core.NewRuleSet([]core.Rule{{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: d("10")}})
	lines := []core.OrderLine{{LineID: "1", ProductID: "p1", Quantity: 2, NetTotal: d("40.00")}, {LineID: "2", ProductID: "p2", Quantity: 1, NetTotal: d("10.00")}}
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 27, 23, 59, 59, 0, berlin), "5"}, // 4 + 1
		{time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), "9"},    // 8 + 1: p1 doubled from local midnight
		{time.Date(2026, 3, 30, 0, 0, 0, 0, berlin), "5"},
	} {
		got, err := core.QuoteEarnings(s, rules, "EUR", lines, c.at.UTC())
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(d(c.want)) {
			t.Errorf("at %s: quote %s, want %s", c.at, got, c.want)
		}
	}
}
