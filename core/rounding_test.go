package core_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// The issue's example: 3 × 47.45 with 2.00 of discounts is 140.35 net; 10 %
// of it is exactly 14.035, which half away from zero books as 14.04 (the
// truncated unit rate 4.678333333333 × 3 booked 14.03).
func TestExactRoundingIssueExample(t *testing.T) {
	t.Parallel()
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	o := core.Order{ShopID: 1, OrderID: "1", Currency: "EUR", Paid: true,
		Lines: []core.OrderLine{{LineID: "L", Quantity: 3, NetTotal: d("47.45").Mul(d("3")).Sub(d("2.00"))}}}
	rs := core.NewRuleSet([]core.Rule{{Target: core.TargetDefault, Beneficiary: "buyer", Mode: core.ModePercent, Value: d("10")}})
	for _, c := range []struct {
		mode core.RoundingMode
		want string
	}{{"", "14.04"}, {core.RoundHalfAwayFromZero, "14.04"}, {core.RoundHalfEven, "14.04"}} {
		rates := core.FreezeRatesWith(core.ShopSettings{Rounding: c.mode}, o, nil, rs, buyer, nil)
		plan, err := core.PlanEarnings(core.OrderState{Order: o, Rates: rates, Refunds: map[string]core.Refund{}}, nil, nil, false)
		if err != nil || len(plan) != 1 {
			t.Fatalf("%s: %v %+v", c.mode, err, plan)
		}
		if got := ownerAmount(plan[0], buyer); !got.Equal(d(c.want)) {
			t.Fatalf("%s: booked %s, want %s", c.mode, got, c.want)
		}
	}
	// The old rate (a unit rate cut to 12 decimals) keeps booking what it
	// booked, so replays of orders earned before exact rounding change nothing.
	old := core.FrozenRate{LineID: "L", Beneficiary: "buyer", Owner: buyer, UnitRate: d("4.678333333333")}
	got, err := core.DesiredCredit(core.OrderState{Order: o, Rates: []core.FrozenRate{old}})
	if err != nil || !got["L/buyer"].Equal(d("14.03")) {
		t.Fatalf("old rate: %v %v", got, err)
	}
}

func TestRoundRatioModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		x        string
		num, den int64
		scale    int32
		away     string
		even     string
	}{
		{"140.35", 1, 10, 2, "14.04", "14.04"}, // 14.035
		{"0.125", 1, 1, 2, "0.13", "0.12"},
		{"0.135", 1, 1, 2, "0.14", "0.14"},
		{"-0.125", 1, 1, 2, "-0.13", "-0.12"},
		{"1", 1, 3, 2, "0.33", "0.33"},
		{"2", 1, 3, 2, "0.67", "0.67"},
		{"0.01", 1, 2, 2, "0.01", "0.00"},
		{"0.03", 1, 2, 2, "0.02", "0.02"},
		{"1005", 1, 10, 0, "101", "100"}, // JPY 100.5
		{"12345678901234567890.123456", 7, 9, 3, "9602194700960219470.096", "9602194700960219470.096"},
	}
	for _, c := range cases {
		if got := core.RoundRatio(d(c.x), c.num, c.den, c.scale, core.RoundHalfAwayFromZero); !got.Equal(d(c.away)) {
			t.Errorf("%s×%d/%d away: %s want %s", c.x, c.num, c.den, got, c.away)
		}
		if got := core.RoundRatio(d(c.x), c.num, c.den, c.scale, core.RoundHalfEven); !got.Equal(d(c.even)) {
			t.Errorf("%s×%d/%d even: %s want %s", c.x, c.num, c.den, got, c.even)
		}
	}
}

// TestRoundingProperty checks, over many seeded random lines, rules and
// refund sequences, that (1) every booked amount is the exact rounding of
// the exact product rate × net × (ordered − refunded) / ordered (computed
// independently with big.Rat), capped at the article's net price, and (2)
// the postings of a refund series sum to exactly what is desired after
// each step, so refunding every unit reverses exactly what was earned.
func TestRoundingProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 2026))
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	currencies := []string{"EUR", "EUR", "EUR", "JPY", "KWD"}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		cur := currencies[rng.IntN(len(currencies))]
		scale, _ := core.CurrencyScale(cur)
		qty := int64(1 + rng.IntN(40))
		net := decimal.New(rng.Int64N(2_000_000), -scale) // up to 20,000.00
		rule := core.Rule{Target: core.TargetDefault, Beneficiary: "buyer"}
		var exact *big.Rat // credit for all units, uncapped
		if rng.IntN(4) == 0 {
			rule.Mode = core.ModeFixed
			rule.Value = decimal.New(rng.Int64N(5000), -int32(rng.IntN(4))) // up to 3 decimals
			exact = new(big.Rat).Mul(rat(rule.Value), new(big.Rat).SetInt64(qty))
		} else {
			rule.Mode = core.ModePercent
			rule.Value = decimal.New(rng.Int64N(10001), -int32(rng.IntN(3))) // 0..100.00
			if rule.Value.GreaterThan(decimal.NewFromInt(100)) {
				rule.Value = decimal.NewFromInt(100)
			}
			exact = new(big.Rat).Mul(rat(net), rat(rule.Value))
			exact.Quo(exact, big.NewRat(100, 1))
		}
		if exact.Cmp(rat(net)) > 0 { // per-article cap
			exact = rat(net)
		}
		mode := core.RoundHalfAwayFromZero
		if rng.IntN(2) == 0 {
			mode = core.RoundHalfEven
		}
		o := core.Order{ShopID: 1, OrderID: "1", Currency: cur, Paid: true, Lines: []core.OrderLine{{LineID: "L", Quantity: qty, NetTotal: net}}}
		rates := core.FreezeRatesWith(core.ShopSettings{Rounding: mode}, o, nil, core.NewRuleSet([]core.Rule{rule}), buyer, nil)
		st := core.OrderState{Order: o, Rates: rates, Refunds: map[string]core.Refund{}}
		var posted []core.Transaction
		booked := decimal.Zero
		refunded := int64(0)
		for step := 0; ; step++ {
			plan, err := core.PlanEarnings(st, posted, func(core.Owner) core.OwnerFunds { return core.OwnerFunds{Available: booked} }, false)
			if err != nil {
				t.Fatal(err)
			}
			for j := range plan {
				if err := plan[j].Validate(); err != nil {
					t.Fatalf("case %d: %v", i, err)
				}
				plan[j].ID = int64(len(posted) + 1)
				posted = append(posted, plan[j])
				booked = booked.Add(ownerAmount(plan[j], buyer))
			}
			want := ratRound(new(big.Rat).Mul(exact, big.NewRat(qty-refunded, qty)), scale, mode)
			if !booked.Equal(want) {
				t.Fatalf("case %d (%s %s %s×%d, %s, refunded %d): booked %s, exact rounding %s",
					i, cur, rule.Mode, rule.Value, qty, net, refunded, booked, want)
			}
			if refunded == qty {
				break
			}
			k := 1 + rng.Int64N(qty-refunded)
			refunded += k
			id := fmt.Sprint("r", step)
			st.Refunds[id] = core.Refund{RefundID: id, LinesKnown: true, Lines: []core.RefundLine{{LineID: "L", Quantity: k}}}
		}
		if !booked.IsZero() {
			t.Fatalf("case %d: %s left after a full refund", i, booked)
		}
	}
}

func ownerAmount(t core.Transaction, o core.Owner) decimal.Decimal {
	sum := decimal.Zero
	for _, p := range t.Postings {
		if p.Owner == o {
			sum = sum.Add(p.Amount)
		}
	}
	return sum
}

func rat(x decimal.Decimal) *big.Rat { return x.Rat() }

// ratRound rounds r to scale decimals: the model the ledger is checked
// against, written with big.Rat rather than the code under test.
func ratRound(r *big.Rat, scale int32, mode core.RoundingMode) decimal.Decimal {
	s := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	fl := new(big.Int).Quo(s.Num(), s.Denom()) // r >= 0: truncation is floor
	frac := new(big.Rat).Sub(s, new(big.Rat).SetInt(fl))
	switch frac.Cmp(big.NewRat(1, 2)) {
	case 1:
		fl.Add(fl, big.NewInt(1))
	case 0:
		if mode != core.RoundHalfEven || fl.Bit(0) == 1 {
			fl.Add(fl, big.NewInt(1))
		}
	}
	return decimal.NewFromBigInt(fl, -scale)
}

// TestOrderCapProperty: over seeded random multi-line orders, per-order
// caps and refund series, what one order books never passes the cap, a
// refund series lowers it step by step to exactly zero, and an order the
// cap does not bind books what it would book without the cap.
func TestOrderCapProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 13))
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	rules := core.NewRuleSet([]core.Rule{{Target: core.TargetDefault, Beneficiary: "buyer", Mode: core.ModePercent, Value: d("12.5")}})
	for i := 0; i < 3000; i++ {
		o := core.Order{ShopID: 1, OrderID: "1", Currency: "EUR", Paid: true}
		for l := 0; l < 1+rng.IntN(5); l++ {
			o.Lines = append(o.Lines, core.OrderLine{LineID: fmt.Sprint("L", l), Quantity: int64(1 + rng.IntN(6)), NetTotal: decimal.New(rng.Int64N(50000), -2)})
		}
		s := core.ShopSettings{EarnCapOrderAmount: decimal.NewNullDecimal(decimal.New(rng.Int64N(3000), -2))}
		if rng.IntN(2) == 0 {
			s.EarnCapOrderPercent = decimal.NewNullDecimal(decimal.New(rng.Int64N(2000), -2))
		}
		limit, _ := core.OrderCapLimit(s, o)
		uncapped := core.FreezeRatesWith(core.ShopSettings{}, o, nil, rules, buyer, nil)
		rates := core.FreezeRatesWith(s, o, nil, rules, buyer, nil)
		core.ApplyOrderCap(s, o, nil, rates)
		total := func(rs []core.FrozenRate, refunds map[string]core.Refund) decimal.Decimal {
			got, err := core.DesiredCredit(core.OrderState{Order: o, Rates: rs, Refunds: refunds})
			if err != nil {
				t.Fatal(err)
			}
			sum := decimal.Zero
			for _, v := range got {
				sum = sum.Add(v)
			}
			return sum
		}
		full, free := total(rates, nil), total(uncapped, nil)
		if full.GreaterThan(limit) {
			t.Fatalf("case %d: books %s above the cap %s", i, full, limit)
		}
		if free.LessThanOrEqual(limit) && !full.Equal(free) {
			t.Fatalf("case %d: the cap %s does not bind (%s) but %s is booked", i, limit, free, full)
		}
		refunds := map[string]core.Refund{}
		prev := full
		for j, l := range o.Lines {
			for q := int64(0); q < l.Quantity; q++ {
				id := fmt.Sprint(j, "-", q)
				refunds[id] = core.Refund{RefundID: id, LinesKnown: true, Lines: []core.RefundLine{{LineID: l.LineID, Quantity: 1}}}
				now := total(rates, refunds)
				if now.GreaterThan(prev) {
					t.Fatalf("case %d: a refund raised the credit from %s to %s", i, prev, now)
				}
				prev = now
			}
		}
		if !prev.IsZero() {
			t.Fatalf("case %d: %s left after refunding everything", i, prev)
		}
	}
}

// A capped line's earn entry says which cap cut it and by how much.
func TestCapNoteOnTheEntry(t *testing.T) {
	t.Parallel()
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	o := core.Order{ShopID: 1, OrderID: "1", Currency: "EUR", Paid: true,
		Lines: []core.OrderLine{{LineID: "L", SKU: "SHIRT", Quantity: 2, NetTotal: d("4.00")}, {LineID: "M", Quantity: 1, NetTotal: d("100.00")}}}
	rs := core.NewRuleSet([]core.Rule{{Target: core.TargetSKU, TargetID: "SHIRT", Beneficiary: "buyer", Mode: core.ModeFixed, Value: d("2.50")},
		{Target: core.TargetDefault, Beneficiary: "buyer", Mode: core.ModePercent, Value: d("5")}})
	rates := core.FreezeRatesWith(core.ShopSettings{}, o, nil, rs, buyer, nil)
	plan, err := core.PlanEarnings(core.OrderState{Order: o, Rates: rates, Refunds: map[string]core.Refund{}}, nil, nil, false)
	if err != nil || len(plan) != 1 || len(plan[0].Reason.Lines) != 2 || !ownerAmount(plan[0], buyer).Equal(d("9.00")) {
		t.Fatalf("%v %+v", err, plan)
	}
	// One transaction for the order's buyer; each line keeps its amount,
	// cap and note.
	l, m := plan[0].Reason.Lines[0], plan[0].Reason.Lines[1]
	if l.Cap != core.CapArticle || l.Note != "credit capped at the article's net price; not booked: 1.00 of 5.00 for 2 units" || !l.Amount.Equal(d("4.00")) {
		t.Fatalf("article cap line %+v", l)
	}
	if plan[0].Reason.Cap != core.CapArticle || plan[0].Reason.Note != l.Note {
		t.Fatalf("capped entry %+v", plan[0].Reason)
	}
	if m.Cap != "" || m.Note != "" || !m.Amount.Equal(d("5.00")) {
		t.Fatalf("uncapped line %+v", m)
	}
	// An order cap of 3.00 shares itself out: 4.00 and 5.00 → 1.33 and 1.67.
	s := core.ShopSettings{EarnCapOrderAmount: decimal.NewNullDecimal(d("3.00"))}
	rates = core.FreezeRatesWith(s, o, nil, rs, buyer, nil)
	core.ApplyOrderCap(s, o, nil, rates)
	plan, _ = core.PlanEarnings(core.OrderState{Order: o, Rates: rates, Refunds: map[string]core.Refund{}}, nil, nil, false)
	if len(plan) != 1 || !ownerAmount(plan[0], buyer).Equal(d("3.00")) || !plan[0].Reason.Lines[0].Amount.Equal(d("1.33")) || !plan[0].Reason.Lines[1].Amount.Equal(d("1.67")) ||
		plan[0].Reason.Lines[1].Cap != core.CapOrder || plan[0].Reason.Lines[1].Note != "credit capped by the shop's per-order limit; not booked: 3.33 of 5.00 for 1 unit" {
		t.Fatalf("order cap entries %+v", plan)
	}
}
