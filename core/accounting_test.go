package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	p, err := core.ParsePeriod("2026-01-01", "2027-01-01", berlin) // exactly one year
	if err != nil || p.From.Format(time.RFC3339) != "2026-01-01T00:00:00+01:00" || p.LastDay().Format("2006-01-02") != "2026-12-31" {
		t.Fatalf("one year: %v %v", p, err)
	}
	if _, err := core.ParsePeriod("2026-03-01", "2027-03-02", berlin); err == nil || !strings.Contains(core.ErrorMessage(err), "longer than a year") {
		t.Errorf("a year and a day was accepted: %v", err)
	}
	for _, c := range [][2]string{{"", "2026-01-01"}, {"2026-01-01", ""}, {"2026-02-01", "2026-01-31"}, {"2026-01-01", "2026-01-01"}, {"01.01.2026", "2026-02-01"}} {
		if _, err := core.ParsePeriod(c[0], c[1], berlin); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%v: %v", c, err)
		}
	}
}

func TestAccountingSettingsDefaults(t *testing.T) {
	t.Parallel()
	if err := (core.AccountingSettings{}).Validate(); err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	r := core.AccountingSettings{Chart: core.ChartSKR04, AccountLength: 6}.Resolved()
	if r.Accounts != (core.GLAccounts{Liability: "350000", Grant: "660000", Redemption: "470000", Clearing: "146000", Expiry: "483000"}) || r.TaxKeys["19"] != "3" || r.TaxKeys["7"] != "2" {
		t.Errorf("SKR04 with Sachkontenlänge 6: %+v", r)
	}
	for _, c := range []struct {
		s    core.ShopSettings
		want string
	}{
		{core.ShopSettings{}, "Europe/Berlin"},
		{core.ShopSettings{TimeZone: "Europe/Vienna"}, "Europe/Vienna"},
		{core.ShopSettings{TimeZone: "Europe/Vienna", Accounting: core.AccountingSettings{TimeZone: "UTC"}}, "UTC"},
	} {
		if got := c.s.AccountingLocation().String(); got != c.want {
			t.Errorf("accounting zone %q, want %q", got, c.want)
		}
	}
	if err := (core.AccountingSettings{AccountLength: 5, Accounts: core.GLAccounts{Liability: "1700"}}).Validate(); err == nil {
		t.Error("a 4-digit account with Sachkontenlänge 5 was accepted")
	}
	if err := (core.AccountingSettings{VATRate: "7.00", TaxKeys: map[string]string{"7": "2"}}).Validate(); err != nil {
		t.Errorf("7.00 is the 7 %% rate: %v", err)
	}
}

// TestBookingsBalanceTheLiability: for every kind of program posting the
// DATEV lines move the liability account by exactly the posting's effect,
// and the other accounts of a forward booking and its reversal cancel.
func TestBookingsBalanceTheLiability(t *testing.T) {
	t.Parallel()
	a := core.AccountingSettings{}.Resolved()
	d := decimal.RequireFromString
	for _, c := range []struct {
		bucket core.Bucket
		amount string
		lines  int
	}{
		{core.ProgramIssued, "-3.10", 1}, {core.ProgramIssued, "3.10", 1}, {core.ProgramAdjustments, "-1", 1}, {core.ProgramAdjustments, "1", 1},
		{core.ProgramRedeemed, "4.20", 2}, {core.ProgramRedeemed, "-4.20", 2}, {core.ProgramExpired, "0.01", 1}, {core.ProgramExpired, "-0.01", 1},
		{core.ProgramVouchers, "5", 0},
	} {
		r := core.PostingRecord{Owner: core.ProgramOwner, Bucket: c.bucket, Amount: d(c.amount), TransactionID: 9, CreatedAt: time.Now()}
		bs := a.Bookings(r, time.UTC)
		if len(bs) != c.lines {
			t.Fatalf("%s %s: %d lines, want %d", c.bucket, c.amount, len(bs), c.lines)
		}
		saldo := map[string]decimal.Decimal{} // credit side positive
		for _, b := range bs {
			amt := b.Amount
			if b.Debit {
				amt = amt.Neg()
			}
			saldo[b.Account] = saldo[b.Account].Add(amt)
			saldo[b.Counter] = saldo[b.Counter].Sub(amt)
			if b.Kind == core.BookRedemption && b.Account == a.Accounts.Redemption && b.TaxKey != "3" {
				t.Errorf("sales deduction without the 19 %% tax key: %+v", b)
			}
		}
		if c.lines == 0 {
			continue
		}
		effect, _, _ := core.LiabilityEffect(r)
		if !saldo[a.Accounts.Liability].Equal(effect) {
			t.Errorf("%s %s: liability account moves by %s, the ledger by %s", c.bucket, c.amount, saldo[a.Accounts.Liability], effect)
		}
	}
}

// TestTaxPartsFromTheOrdersSplit: a redemption is split by the net and tax
// the platform reported: one rate when the tax matches it, the 19 % / 7 %
// mix otherwise, the configured rate when nothing fits; the parts always
// sum to the posting.
func TestTaxPartsFromTheOrdersSplit(t *testing.T) {
	t.Parallel()
	a := core.AccountingSettings{}.Resolved()
	d := decimal.RequireFromString
	red := func(amount string, split *core.OrderTaxSplit) core.PostingRecord {
		return core.PostingRecord{Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: d(amount), OrderTax: split}
	}
	for _, c := range []struct {
		split  *core.OrderTaxSplit
		amount string
		want   string // rate=amount,...
	}{
		{nil, "10.00", "19=10.00"},
		{&core.OrderTaxSplit{Amount: d("10.00"), Net: d("9.35"), Tax: d("0.65")}, "10.00", "7=10.00"},     // 9.35 × 7 % = 0.6545
		{&core.OrderTaxSplit{Amount: d("11.90"), Net: d("10.00"), Tax: d("1.90")}, "-11.90", "19=-11.90"}, // a reversal keeps its sign
		// 10.00 net at 19 % (11.90) + 10.00 net at 7 % (10.70): net 20.00, tax 2.60, gross 22.60; half of it captured
		{&core.OrderTaxSplit{Amount: d("22.60"), Net: d("20.00"), Tax: d("2.60")}, "11.30", "19=5.95,7=5.35"},
		{&core.OrderTaxSplit{Amount: d("10.00"), Net: d("10.00"), Tax: d("0")}, "10.00", "0=10.00"},
		{&core.OrderTaxSplit{Amount: d("10.00"), Net: d("5.00"), Tax: d("5.00")}, "10.00", "19=10.00"}, // 100 % tax fits nothing
	} {
		var got []string
		sum := decimal.Zero
		for _, p := range a.TaxParts(red(c.amount, c.split), d(c.amount)) {
			got = append(got, p.VATRate+"="+p.Amount.StringFixed(2))
			sum = sum.Add(p.Amount)
		}
		if strings.Join(got, ",") != c.want || !sum.Equal(d(c.amount)) {
			t.Errorf("%+v %s: %v, want %s", c.split, c.amount, got, c.want)
		}
	}
}

// TestNoSalesDeduction: a shop whose sales export already books the
// reduced price gets only the release of the liability for a redemption.
func TestNoSalesDeduction(t *testing.T) {
	t.Parallel()
	a := core.AccountingSettings{NoSalesDeduction: true}.Resolved()
	r := core.PostingRecord{Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: decimal.RequireFromString("4.20")}
	bs := a.Bookings(r, time.UTC)
	if len(bs) != 1 || bs[0].Account != "1700" || bs[0].Counter != "4600" || !bs[0].Debit || bs[0].TaxKey != "" {
		t.Errorf("bookings: %+v", bs)
	}
}
