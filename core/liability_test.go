package core_test

import (
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func TestSummarizeProgram(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	// 100 issued, 5 granted by hand, 30 redeemed, 10 expired, 20 in
	// voucher codes: the shop still owes 65, the vouchers included.
	s := core.SummarizeProgram(map[core.Bucket]decimal.Decimal{
		core.ProgramIssued: d("-100.00"), core.ProgramAdjustments: d("-5.00"), core.ProgramRedeemed: d("30.00"),
		core.ProgramExpired: d("10.00"), core.ProgramVouchers: d("20.00"),
	})
	for name, c := range map[string][2]decimal.Decimal{
		"issued": {s.Issued, d("100")}, "adjustments": {s.Adjustments, d("5")}, "redeemed": {s.Redeemed, d("30")},
		"expired": {s.Expired, d("10")}, "vouchers": {s.VouchersOutstanding, d("20")}, "liability": {s.Liability, d("65")},
	} {
		if !c[0].Equal(c[1]) {
			t.Errorf("%s = %s, want %s", name, c[0], c[1])
		}
	}
	// Credit taken back by hand lowers the liability.
	if got := core.SummarizeProgram(map[core.Bucket]decimal.Decimal{core.ProgramIssued: d("-10"), core.ProgramAdjustments: d("4")}).Liability; !got.Equal(d("6")) {
		t.Errorf("liability after a negative adjustment = %s, want 6", got)
	}
	if got := core.SummarizeProgram(nil).Liability; !got.IsZero() {
		t.Errorf("liability of an empty program = %s", got)
	}
}
