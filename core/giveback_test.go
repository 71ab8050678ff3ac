package core_test

import (
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func TestGiveBackShare(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	lines := []core.OrderLine{{LineID: "a", Quantity: 1, NetTotal: d("40.00")}, {LineID: "b", Quantity: 5, NetTotal: d("20.00")}}
	refund := func(qa, qb int64) map[string]core.Refund {
		return map[string]core.Refund{"r": {RefundID: "r", LinesKnown: true, Lines: []core.RefundLine{{LineID: "a", Quantity: qa}, {LineID: "b", Quantity: qb}}}}
	}
	cases := []struct {
		name  string
		o     core.Order
		refs  map[string]core.Refund
		keep  bool
		share string
	}{
		{"paid, nothing refunded", core.Order{Paid: true, Lines: lines}, nil, false, "0"},
		{"cancelled", core.Order{Cancelled: true, Lines: lines}, nil, true, "1"},
		{"fully refunded by the platform", core.Order{Paid: true, FullyRefunded: true, Lines: lines}, nil, false, "1"},
		{"one unit of b: 4.00 of 60.00", core.Order{Paid: true, Lines: lines}, refund(0, 1), false, "0.066666666667"},
		{"every unit by lines", core.Order{Paid: true, Lines: lines}, refund(1, 5), false, "1"},
		{"the shop keeps spent credit", core.Order{Paid: true, FullyRefunded: true, Lines: lines}, refund(1, 5), true, "0"},
		{"unpaid", core.Order{Lines: lines}, refund(1, 0), false, "0"},
	}
	for _, c := range cases {
		got, err := core.GiveBackShare(core.ShopSettings{KeepCreditOnRefund: c.keep}, core.OrderState{Order: c.o, Refunds: c.refs})
		if err != nil || !got.Equal(d(c.share)) {
			t.Errorf("%s: share %s (%v), want %s", c.name, got, err, c.share)
		}
	}
}
