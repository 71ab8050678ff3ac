package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// Earning caps are frozen with the rate: the per-article cap (a fixed 2.50
// per unit on a 2.00 article), the per-order cap and the yearly cap per
// customer, kept in the database so that replays and refunds never book
// above them, and statement entries say what a cap cut.
func TestEarnCapsFrozenWithTheRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	e.shop.Settings.EarnCapOrderAmount = decimal.NewNullDecimal(dec("6.00"))
	e.shop.Settings.EarnCapYearAmount = decimal.NewNullDecimal(dec("9.00"))
	if err := e.shops.UpdateSettings(ctx, e.shop); err != nil {
		t.Fatal(err)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	mk := func(id string, at time.Time, refunds ...core.Refund) core.Order {
		return core.Order{Platform: core.PlatformShopify, OrderID: id, OrderNumber: "#" + id, Currency: "EUR", Paid: true,
			Customer: core.CustomerRef{PlatformID: "77"}, CreatedAt: at, UpdatedAt: at, Refunds: refunds,
			Lines: []core.OrderLine{
				// fixed 2.50 × 2 = 5.00, capped at the net price 4.00
				{LineID: "1", ProductID: "10", SKU: "SHIRT", Title: "Shirt", Quantity: 2, NetTotal: dec("4.00")},
				// 5 % of 100.00 = 5.00
				// The order cap (6.00) shares 6.00 of the 9.00 in proportion:
				// 4.00 → 2.666… and 5.00 → 3.333…, the leftover cent to the
				// larger remainder: 2.67 and 3.33.
				{LineID: "2", ProductID: "11", SKU: "MUG", Title: "Mug", Quantity: 1, NetTotal: dec("100.00")},
			}}
	}
	apply := func(o core.Order) {
		t.Helper()
		if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := func(s string) {
		t.Helper()
		if got := e.balance(t, buyer); !got.Equal(dec(s)) {
			t.Fatalf("balance %s, want %s", got, s)
		}
	}
	apply(mk("1", t0))
	want("6.00")
	apply(mk("1", t0)) // a replay books nothing more and takes no more budget
	want("6.00")
	// The second order would earn 6.00 but only 3.00 of the year's 9.00
	// are left, shared in proportion: 2.67 → 1.335 and 3.33 → 1.665, the
	// tie broken for the first line: 1.34 and 1.66.
	apply(mk("2", t0.Add(time.Hour)))
	want("9.00")
	// The third order gets nothing: no budget left, no entry.
	apply(mk("3", t0.Add(2*time.Hour)))
	want("9.00")
	// A refund lowers booked credit proportionally (1 of 2 shirts:
	// 2.67 → round(1.335) = 1.34, so 1.33 is reversed); the budget is not
	// given back.
	apply(mk("1", t0.Add(3*time.Hour), core.Refund{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}))
	want("7.67")
	apply(mk("4", t0.Add(4*time.Hour)))
	want("7.67")
	apply(mk("2", t0.Add(5*time.Hour))) // replay after other orders: unchanged
	want("7.67")
	// Next year has a new budget.
	apply(mk("5", t0.AddDate(1, 0, 0)))
	want("13.67")

	page, err := e.ledger.Statement(ctx, core.StatementQuery{ShopID: e.shop.ID, Currency: "EUR", Owner: buyer, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string]string{}
	for _, en := range page.Entries {
		if en.Reason.Kind == core.ReasonEarn {
			caps[en.Reason.OrderID+"/"+en.Reason.LineID] = en.Reason.Cap
			if en.Reason.Cap != "" && en.Reason.Note == "" {
				t.Errorf("capped entry without a note: %+v", en.Reason)
			}
		}
	}
	wantCaps := map[string]string{"1/1": core.CapOrder, "1/2": core.CapOrder, "2/1": core.CapCustomerYear, "2/2": core.CapCustomerYear,
		"5/1": core.CapOrder, "5/2": core.CapOrder}
	for k, v := range wantCaps {
		if caps[k] != v {
			t.Errorf("entry %s: cap %q, want %q (all: %v)", k, caps[k], v, caps)
		}
	}
	if len(caps) != len(wantCaps) {
		t.Errorf("earn entries %v, want %v", caps, wantCaps)
	}
}
