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
			// One entry per order; each line says which cap cut it.
			for _, l := range en.Reason.Lines {
				caps[en.Reason.OrderID+"/"+l.LineID] = l.Cap
				if l.Cap != "" && l.Note == "" {
					t.Errorf("capped line without a note: %+v", l)
				}
			}
			if en.Reason.Cap == "" || en.Reason.Note == "" {
				t.Errorf("capped entry without its cap and note: %+v", en.Reason)
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

	// What each cap kept from being booked, per order: frozen with the
	// rates (the refund of order 1 changes nothing), including orders 3
	// and 4, which booked nothing at all and so have no entry. Per line:
	// the article cap takes 5.00 − 4.00; the order cap 4.00 − 2.67 and
	// 5.00 − 3.33; the yearly cap what was left of 2.67 and 3.33.
	wantHeld := map[string]string{
		"1/article": "1.00", "1/order": "3.00",
		"2/article": "1.00", "2/order": "3.00", "2/customer_year": "3.00",
		"3/article": "1.00", "3/order": "3.00", "3/customer_year": "6.00",
		"4/article": "1.00", "4/order": "3.00", "4/customer_year": "6.00",
		"5/article": "1.00", "5/order": "3.00",
	}
	held := map[string]string{}
	for _, w := range page.Withheld {
		if w.Beneficiary != core.BeneficiaryBuyer || w.OrderNumber != "#"+w.OrderID {
			t.Errorf("withheld notice %+v", w)
		}
		held[w.OrderID+"/"+w.Cap] = w.Amount.StringFixed(2)
	}
	if len(held) != len(wantHeld) || len(page.Withheld) != len(wantHeld) {
		t.Errorf("withheld %v, want %v", held, wantHeld)
	}
	for k, v := range wantHeld {
		if held[k] != v {
			t.Errorf("withheld %s: %q, want %s", k, held[k], v)
		}
	}
	// Paging through the statement, two entries at a time, both ways,
	// shows every notice exactly once.
	for _, forward := range []bool{false, true} {
		seen := map[string]int{}
		q := core.StatementQuery{ShopID: e.shop.ID, Currency: "EUR", Owner: buyer, Limit: 2}
		if forward {
			q.After = 1 // from the oldest entry on (entry 1's notices are on the page before)
			p, err := e.ledger.Statement(ctx, core.StatementQuery{ShopID: e.shop.ID, Currency: "EUR", Owner: buyer, Before: 2, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range p.Withheld {
				seen[w.OrderID+"/"+w.Cap]++
			}
		}
		for pages := 0; ; pages++ {
			p, err := e.ledger.Statement(ctx, q)
			if err != nil || pages > 20 {
				t.Fatal(err, pages)
			}
			for _, w := range p.Withheld {
				seen[w.OrderID+"/"+w.Cap]++
			}
			if forward {
				if p.PrevAfter == 0 {
					break
				}
				q.After = p.PrevAfter
			} else {
				if p.NextBefore == 0 {
					break
				}
				q.Before = p.NextBefore
			}
		}
		for k := range wantHeld {
			if seen[k] != 1 {
				t.Errorf("forward %v: notice %s shown %d times (%v)", forward, k, seen[k], seen)
			}
		}
	}
}
