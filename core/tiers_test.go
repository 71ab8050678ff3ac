package core

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func tierShop() ShopSettings {
	d := decimal.RequireFromString
	return ShopSettings{TimeZone: "Europe/Berlin", ProgramSettings: ProgramSettings{TierSettings: TierSettings{
		Tiers: []Tier{
			{Name: "Silver", Threshold: d("100"), Multiplier: d("1.5")},
			{Name: "Gold", Threshold: d("500"), Multiplier: d("2"), MaxPercent: decimal.NewNullDecimal(d("80"))},
			{Name: "Plus", Membership: true, Multiplier: d("3")},
		},
		TierPeriod: PeriodQuarter,
		Membership: &MembershipSettings{Tier: "Plus", SKUs: []string{"PLUS-12"},
			Rules: []MemberRule{{Target: CampaignSKU, TargetIDs: []string{"VIP"}, OnlyMember: true}, {Target: CampaignProduct, TargetIDs: []string{"7"}, Multiplier: decimal.NewNullDecimal(d("2"))}}},
	}}}
}

func TestTierSettingsValidate(t *testing.T) {
	s := tierShop()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*TierSettings){
		func(x *TierSettings) { x.Tiers[1].Threshold = decimal.RequireFromString("50") },    // thresholds must rise
		func(x *TierSettings) { x.Tiers[0].Multiplier = decimal.Zero },                      // multiplier > 0
		func(x *TierSettings) { x.Tiers[1].Name = "Silver" },                                // unique names
		func(x *TierSettings) { x.TierPeriod = "week" },                                     // month, quarter, year
		func(x *TierSettings) { x.TierBasis = "orders" },                                    // spend or credit
		func(x *TierSettings) { x.Membership.Tier = "Gold" },                                // membership tier must be one
		func(x *TierSettings) { x.Membership.SKUs = nil },                                   // membership article needed
		func(x *TierSettings) { x.Membership.Rules = []MemberRule{{Target: CampaignShop}} }, // rule does nothing
		func(x *TierSettings) { x.Membership = nil },                                        // a membership tier without membership
	}
	for i, f := range bad {
		x := tierShop()
		x.TierSettings.Tiers = append([]Tier(nil), x.Tiers...)
		m := *x.Membership
		x.Membership = &m
		f(&x.TierSettings)
		if err := x.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("case %d: %v, want EINVALID", i, err)
		}
	}
}

// The qualifying window starts 12 months before the review period: in a
// quarter nothing ages out, at the next quarter the oldest quarter does.
func TestTierWindowAndReview(t *testing.T) {
	s := tierShop()
	loc := s.Location()
	at := time.Date(2026, 5, 20, 12, 0, 0, 0, loc)
	if got, want := s.QualifyingWindow(at, loc), time.Date(2025, 4, 1, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Fatalf("window %s, want %s", got, want)
	}
	if got, want := s.NextReview(at, loc), time.Date(2026, 7, 1, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Fatalf("next review %s, want %s", got, want)
	}
	// Midnight of 1 July in Berlin is 22:00 UTC on 30 June.
	edge := time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC)
	if got, want := s.QualifyingWindow(edge, loc), time.Date(2025, 7, 1, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Fatalf("window at the quarter's start %s, want %s", got, want)
	}
	if got, want := s.QualifyingWindow(edge.Add(-time.Second), loc), time.Date(2025, 4, 1, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Fatalf("window a second before %s, want %s", got, want)
	}
	y := s
	y.TierPeriod = PeriodYear
	if got, want := y.NextReview(at, loc), time.Date(2027, 1, 1, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Fatalf("yearly review %s", got)
	}
	m := s
	m.TierPeriod = ""
	if got, want := m.NextReview(at, loc), time.Date(2026, 6, 1, 0, 0, 0, 0, loc); !got.Equal(want) {
		t.Fatalf("monthly review (default) %s", got)
	}
}

func TestTierEvaluate(t *testing.T) {
	s := tierShop()
	loc := s.Location()
	at := time.Date(2026, 5, 20, 12, 0, 0, 0, loc)
	d := decimal.RequireFromString
	cases := []struct {
		spend  string
		member bool
		tier   string
		mult   string
		next   string
	}{
		{"0", false, "", "1", "Silver"},
		{"99.99", false, "", "1", "Silver"},
		{"100", false, "Silver", "1.5", "Gold"},
		{"500", false, "Gold", "2", ""},
		{"20", true, "Plus", "3", "Silver"},
		{"600", true, "Plus", "3", ""},
	}
	for _, c := range cases {
		f := TierFacts{Spend: d(c.spend), Credit: decimal.Zero, Member: c.member, MemberUntil: at.AddDate(0, 1, 0)}
		st := s.Evaluate(f, at, loc)
		if st.Tier != c.tier || !st.Multiplier.Equal(d(c.mult)) || st.Next != c.next {
			t.Errorf("spend %s member %v: %+v, want %s ×%s next %q", c.spend, c.member, st, c.tier, c.mult, c.next)
		}
		if c.member && !st.ReviewAt.Equal(at.AddDate(0, 1, 0)) {
			t.Errorf("a membership tier is reviewed when the membership ends: %s", st.ReviewAt)
		}
	}
	// Credit basis counts the credit, not the spend.
	c := s
	c.TierBasis = TierBasisCredit
	if st := c.Evaluate(TierFacts{Spend: d("1000"), Credit: d("120")}, at, loc); st.Tier != "Silver" {
		t.Fatalf("credit basis: %+v", st)
	}
	// Perks: Gold's checkout cap replaces the shop's.
	if p := s.WithTierPerks("Gold"); !p.MaxPercent.Valid || !p.MaxPercent.Decimal.Equal(d("80")) {
		t.Fatalf("gold perks %+v", p.MaxPercent)
	}
	if p := s.WithTierPerks("Silver"); p.MaxPercent.Valid {
		t.Fatalf("silver has no perk: %+v", p.MaxPercent)
	}
}

// A tier's multiplier is frozen with the buyer's rate (partners are not
// multiplied); members-only lines earn nothing for others; a member rule
// multiplies for members; without a tier nothing changes.
func TestFreezeWithTier(t *testing.T) {
	s := tierShop()
	d := decimal.RequireFromString
	rules := NewRuleSet([]Rule{
		{Target: TargetDefault, Beneficiary: BeneficiaryBuyer, Mode: ModePercent, Value: d("10")},
		{Target: TargetDefault, Beneficiary: "partner1", Mode: ModePercent, Value: d("5")},
	})
	o := Order{OrderID: "1", Currency: "EUR", Paid: true, CreatedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Lines: []OrderLine{
		{LineID: "a", ProductID: "1", Quantity: 2, NetTotal: d("40.00")},
		{LineID: "b", ProductID: "2", SKU: "VIP", Quantity: 1, NetTotal: d("30.00")},
		{LineID: "c", ProductID: "7", Quantity: 1, NetTotal: d("10.00")},
	}}
	buyer, partner := Owner{Kind: OwnerCustomer, ID: "c:1"}, Owner{Kind: OwnerPartner, ID: "p1"}
	credit := func(rs []FrozenRate) map[string]string {
		out := map[string]string{}
		for _, r := range rs {
			c, err := r.Credit("EUR", r.Quantity)
			if err != nil {
				t.Fatal(err)
			}
			out[r.Key()] = c.StringFixed(2)
		}
		return out
	}
	plain := credit(FreezeRatesWith(s, o, nil, rules, buyer, []Owner{partner}))
	none := credit(FreezeRatesTier(s, o, nil, rules, buyer, []Owner{partner}, nil))
	for k, v := range plain {
		if none[k] != v {
			t.Fatalf("no tier changed %s: %s vs %s", k, none[k], v)
		}
	}
	if plain["a/buyer"] != "4.00" || plain["b/buyer"] != "3.00" {
		t.Fatalf("plain %v", plain)
	}
	silver := FreezeRatesTier(s, o, nil, rules, buyer, []Owner{partner}, &BuyerTier{Status: TierStatus{Tier: "Silver", Multiplier: d("1.5")}})
	got := credit(silver)
	want := map[string]string{"a/buyer": "6.00", "b/buyer": "0.00", "c/buyer": "1.50", "a/partner1": "2.00", "b/partner1": "1.50", "c/partner1": "0.50"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("silver %s: %s, want %s (all %v)", k, got[k], v, got)
		}
	}
	for _, r := range silver {
		if r.Key() == "a/buyer" && (r.Tier != "Silver" || !r.TierMultiplier.Valid || r.Rule != "default 10% ×1.5 (Silver)") {
			t.Fatalf("frozen tier %+v", r)
		}
		if r.Key() == "b/buyer" && !r.MembersOnly {
			t.Fatalf("members-only line %+v", r)
		}
	}
	member := credit(FreezeRatesTier(s, o, nil, rules, buyer, nil, &BuyerTier{Status: TierStatus{Tier: "Plus", Multiplier: d("3"), Member: true}}))
	if member["a/buyer"] != "12.00" || member["b/buyer"] != "9.00" || member["c/buyer"] != "6.00" {
		t.Fatalf("member %v, want a 12.00 (×3), b 9.00 (members only, ×3), c 6.00 (×3 ×2 member rule)", member)
	}
}

// Tier activity: spend after refunds without the membership line, the
// buyer's credit, and the membership line's state.
func TestTierActivityOf(t *testing.T) {
	s := tierShop()
	d := decimal.RequireFromString
	st := OrderState{Order: Order{OrderID: "1", Currency: "EUR", Paid: true, CreatedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Lines: []OrderLine{
		{LineID: "a", ProductID: "1", Quantity: 3, NetTotal: d("10.00")},
		{LineID: "m", ProductID: "9", SKU: "PLUS-12", Quantity: 1, NetTotal: d("49.00")},
	}}, Refunds: map[string]Refund{"r": {RefundID: "r", LinesKnown: true, Lines: []RefundLine{{LineID: "a", Quantity: 1}}}},
		Rates: []FrozenRate{{LineID: "a", Beneficiary: BeneficiaryBuyer, Quantity: 3, Full: decimal.NewNullDecimal(d("3")), Rounding: RoundHalfAwayFromZero},
			{LineID: "a", Beneficiary: "partner1", Quantity: 3, Full: decimal.NewNullDecimal(d("1")), Rounding: RoundHalfAwayFromZero}}}
	a, err := TierActivityOf(s, st, Owner{Kind: OwnerCustomer, ID: "c:1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a.Spend.StringFixed(2) != "6.67" || a.Credit.StringFixed(2) != "2.00" || len(a.Memberships) != 1 || !a.Memberships[0].Active {
		t.Fatalf("%+v", a)
	}
	st.Refunds["r2"] = Refund{RefundID: "r2", LinesKnown: true, Lines: []RefundLine{{LineID: "m", Quantity: 1}}}
	if a, _ = TierActivityOf(s, st, Owner{Kind: OwnerCustomer, ID: "c:1"}, time.Now()); a.Memberships[0].Active {
		t.Fatal("a refunded membership line is not active")
	}
	st.Order.Cancelled = true
	if a, _ = TierActivityOf(s, st, Owner{Kind: OwnerCustomer, ID: "c:1"}, time.Now()); !a.Spend.IsZero() || !a.Credit.IsZero() {
		t.Fatalf("cancelled %+v", a)
	}
}
