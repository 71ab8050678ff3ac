package core_test

import (
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestCheckScale(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cur, amt string
		ok       bool
	}{{"EUR", "1.23", true}, {"EUR", "1.230", true}, {"EUR", "1.235", false}, {"JPY", "100", true}, {"JPY", "100.5", false}, {"KWD", "1.234", true}, {"KWD", "1.2345", false}}
	for _, c := range cases {
		if err := core.CheckScale(c.cur, d(c.amt)); (err == nil) != c.ok {
			t.Errorf("%s %s: err=%v want ok=%v", c.cur, c.amt, err, c.ok)
		}
	}
	if _, err := core.NormalizeCurrency("xxx"); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("unknown currency: %v", err)
	}
}

func TestTransactionValidate(t *testing.T) {
	t.Parallel()
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	ok := core.Transaction{ShopID: 1, Key: "k", Reason: core.Reason{Kind: core.ReasonEarn}, Postings: []core.Posting{
		{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: d("-2.50")},
		{Currency: "EUR", Owner: c, Bucket: core.BucketAvailable, Amount: d("2.00")},
		{Currency: "EUR", Owner: c, Bucket: core.BucketPending, Amount: d("0.50")},
	}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(ok.Deltas) != 1 || !ok.Deltas[0].Available.Equal(d("2")) || !ok.Deltas[0].Pending.Equal(d("0.5")) {
		t.Fatalf("deltas %+v", ok.Deltas)
	}
	// The hash ignores posting order but not amounts.
	other := ok
	other.Postings = []core.Posting{ok.Postings[2], ok.Postings[0], ok.Postings[1]}
	_ = other.Validate()
	if other.Hash != ok.Hash {
		t.Fatal("hash depends on posting order")
	}
	changed := ok
	changed.Postings = append([]core.Posting(nil), ok.Postings...)
	changed.Postings[1].Amount, changed.Postings[2].Amount = d("1.50"), d("1.00")
	_ = changed.Validate()
	if changed.Hash == ok.Hash {
		t.Fatal("hash ignores amounts")
	}
}

func TestRuleResolution(t *testing.T) {
	t.Parallel()
	rs := core.NewRuleSet([]core.Rule{
		{Target: core.TargetDefault, Beneficiary: "buyer", Mode: core.ModePercent, Value: d("5")},
		{Target: core.TargetProduct, TargetID: "P1", Beneficiary: "buyer", Mode: core.ModeFixed, Value: d("1")},
		{Target: core.TargetSKU, TargetID: "S1", Beneficiary: "buyer", Mode: core.ModeFixed, Value: d("2")},
		{Target: core.TargetVariant, TargetID: "V1", Beneficiary: "buyer", Mode: core.ModeFixed, Value: d("3")},
		{Target: core.TargetProduct, TargetID: "PX", Beneficiary: "buyer", Mode: core.ModeExclude},
		{Target: core.TargetDefault, Beneficiary: "partner1", Mode: core.ModePercent, Value: d("2")},
	})
	cases := []struct {
		line core.OrderLine
		ben  string
		want string
	}{
		{core.OrderLine{ProductID: "P1", SKU: "S1", VariantID: "V1"}, "buyer", "variant:V1 3/unit"},
		{core.OrderLine{ProductID: "P1", SKU: "S1", VariantID: "V9"}, "buyer", "sku:S1 2/unit"},
		{core.OrderLine{ProductID: "P1", SKU: "S9"}, "buyer", "product:P1 1/unit"},
		{core.OrderLine{ProductID: "P9"}, "buyer", "default 5%"},
		{core.OrderLine{ProductID: "PX", SKU: "S1"}, "buyer", "sku:S1 2/unit"}, // more specific wins
		{core.OrderLine{ProductID: "PX"}, "partner1", "product:PX excluded"},   // exclusion covers partners
		{core.OrderLine{ProductID: "P1"}, "partner1", "default 2%"},
	}
	for _, c := range cases {
		r, ok := rs.Resolve(c.line, c.ben)
		if !ok || r.Describe() != c.want {
			t.Errorf("%+v %s: got %q (%v), want %q", c.line, c.ben, r.Describe(), ok, c.want)
		}
	}
	if _, ok := rs.Resolve(core.OrderLine{ProductID: "P1"}, "partner2"); ok {
		t.Error("partner2 has no rule but one resolved")
	}
	bad := []core.Rule{
		{Target: "category", TargetID: "x", Mode: core.ModeFixed, Value: d("1")},
		{Target: core.TargetSKU, Mode: core.ModeFixed, Value: d("1")},
		{Target: core.TargetDefault, Mode: core.ModePercent, Value: d("101")},
		{Target: core.TargetDefault, Mode: core.ModeFixed, Value: d("-1")},
		{Target: core.TargetDefault, Beneficiary: "partner9", Mode: core.ModeFixed, Value: d("1")},
	}
	for _, r := range bad {
		if err := r.Validate(); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

func TestDesiredCreditRoundsOncePerLine(t *testing.T) {
	t.Parallel()
	// 3 units at 3.33 net each, 5% => 0.1665/unit. Earned for 3: round(0.4995) = 0.50.
	// After refunding 1 unit: round(0.333) = 0.33, so the reversal is 0.17 and a full
	// refund reverses exactly the 0.50 earned.
	o := core.Order{OrderID: "1", Currency: "EUR", Paid: true, Lines: []core.OrderLine{{LineID: "L", Quantity: 3, NetTotal: d("9.99")}}}
	rs := core.NewRuleSet([]core.Rule{{Target: core.TargetDefault, Beneficiary: "buyer", Mode: core.ModePercent, Value: d("5")}})
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	rates := core.FreezeRates(o, nil, rs, buyer, nil)
	if len(rates) != 1 {
		t.Fatalf("rates %+v", rates)
	}
	st := core.OrderState{Order: o, Rates: rates, Refunds: map[string]core.Refund{}}
	got, err := core.DesiredCredit(st)
	if err != nil || !got["L/buyer"].Equal(d("0.50")) {
		t.Fatalf("desired %v %v", got, err)
	}
	st.Refunds["r"] = core.Refund{RefundID: "r", LinesKnown: true, Lines: []core.RefundLine{{LineID: "L", Quantity: 1}}}
	got, _ = core.DesiredCredit(st)
	if !got["L/buyer"].Equal(d("0.33")) {
		t.Fatalf("after refund %v", got)
	}
	st.Order.Cancelled = true
	got, _ = core.DesiredCredit(st)
	if !got["L/buyer"].IsZero() {
		t.Fatalf("cancelled %v", got)
	}
	// Fully refunded (amount-only refunds without lines): nothing either.
	st.Order.Cancelled, st.Order.FullyRefunded = false, true
	st.Refunds = map[string]core.Refund{"r2": {RefundID: "r2"}}
	got, _ = core.DesiredCredit(st)
	if !got["L/buyer"].IsZero() {
		t.Fatalf("fully refunded %v", got)
	}
	// A frozen rate survives a rule change.
	rs2 := core.NewRuleSet([]core.Rule{{Target: core.TargetDefault, Beneficiary: "buyer", Mode: core.ModePercent, Value: d("50")}})
	if again := core.FreezeRates(o, rates, rs2, buyer, nil); len(again) != 0 {
		t.Fatalf("refroze %+v", again)
	}
}

func TestPlanEarningsReversalSplitsIntoOverdraft(t *testing.T) {
	t.Parallel()
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	o := core.Order{ShopID: 1, OrderID: "9", Currency: "EUR", Paid: true, Cancelled: true, Lines: []core.OrderLine{{LineID: "L", Quantity: 1, NetTotal: d("100")}}}
	rate := core.FrozenRate{LineID: "L", Beneficiary: "buyer", Owner: buyer, UnitRate: d("10")}
	earned := core.Transaction{ID: 7, ShopID: 1, Key: "order:9:line:L:buyer:earn:v1", Reason: core.Reason{Kind: core.ReasonEarn, OrderID: "9", LineID: "L", Beneficiary: "buyer"},
		Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: d("-10")}, {Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: d("10")}}}
	plan, err := core.PlanEarnings(core.OrderState{Order: o, Rates: []core.FrozenRate{rate}, Refunds: map[string]core.Refund{}}, []core.Transaction{earned},
		func(core.Owner) core.OwnerFunds { return core.OwnerFunds{Available: d("4")} }, false)
	if err != nil || len(plan) != 1 {
		t.Fatalf("plan %v %+v", err, plan)
	}
	p := plan[0]
	// A transaction posted before per-order earnings (one line, no Lines)
	// is reversed by a per-order transaction that points at it.
	if p.Key != "order:9:buyer:reverse:v1" || p.Reverses != 7 || p.Reason.Kind != core.ReasonEarnReversal ||
		len(p.Reason.Lines) != 1 || p.Reason.Lines[0].LineID != "L" || !p.Reason.Lines[0].Amount.Equal(d("-10")) {
		t.Fatalf("reversal %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if !p.Deltas[0].Available.Equal(d("-4")) || !p.Deltas[0].Overdraft.Equal(d("-6")) {
		t.Fatalf("split %+v", p.Deltas)
	}
}

func TestCapCredit(t *testing.T) {
	t.Parallel()
	s := core.ShopSettings{MaxPercent: decimal.NewNullDecimal(d("30")), MaxAmount: decimal.NewNullDecimal(d("25")), MinOrder: decimal.NewNullDecimal(d("20"))}
	cases := []struct{ avail, sub, want string }{
		{"100", "50", "15"},      // 30% of 50
		{"10", "50", "10"},       // available
		{"100", "200", "25"},     // max amount
		{"100", "19.99", "0"},    // below minimum order
		{"100", "33.33", "9.99"}, // 30% = 9.999 rounds down
		{"0", "50", "0"},
	}
	for _, c := range cases {
		got, err := core.CapCredit(s, "EUR", d(c.avail), d(c.sub))
		if err != nil || !got.Equal(d(c.want)) {
			t.Errorf("avail %s subtotal %s: %s %v want %s", c.avail, c.sub, got, err, c.want)
		}
	}
	got, _ := core.CapCredit(core.ShopSettings{}, "JPY", d("1000"), d("640"))
	if !got.Equal(d("640")) {
		t.Fatalf("JPY %s", got)
	}
}

func TestSettleOverdraft(t *testing.T) {
	t.Parallel()
	o := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	tx, ok := core.SettleOverdraft(1, "EUR", o, core.Balance{Available: d("10"), Overdraft: d("-6"), Version: 4})
	if !ok || tx.Validate() != nil || !tx.Deltas[0].Available.Equal(d("-6")) || !tx.Deltas[0].Overdraft.Equal(d("6")) {
		t.Fatalf("%v %+v", ok, tx)
	}
	if _, ok := core.SettleOverdraft(1, "EUR", o, core.Balance{Available: d("10")}); ok {
		t.Fatal("nothing to settle")
	}
}

func TestParseAmountRejectsExponents(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"1e-2147483648", "1E5", "+1", "1.2.3", "", " ", "0x10", "1,5"} {
		if _, err := core.ParseAmount("EUR", s); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%q accepted: %v", s, err)
		}
	}
	if v, err := core.ParseAmount("EUR", " 12.50 "); err != nil || !v.Equal(d("12.5")) {
		t.Fatalf("12.50: %v %v", v, err)
	}
}
