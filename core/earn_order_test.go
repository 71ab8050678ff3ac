package core_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestPerOrderEarningsProperty checks, over seeded random orders (1–6
// lines, a buyer and up to three partner levels, random refund series and
// a final cancellation), that PlanEarnings posts at most one transaction
// per (beneficiary, direction) per step, that every transaction balances
// and its lines add up to its owner postings, that the per-line credit
// read back from the posted transactions equals the desired credit after
// each step, and that cancelling reverses exactly what was earned.
func TestPerOrderEarningsProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 2026))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:buyer"}
		levels := rng.IntN(4)
		var partners []core.Owner
		rules := []core.Rule{{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: decimal.New(rng.Int64N(2001), -2)}}
		for l := 1; l <= levels; l++ {
			partners = append(partners, core.Owner{Kind: core.OwnerCustomer, ID: fmt.Sprint("c:p", l)})
			rules = append(rules, core.Rule{Target: core.TargetDefault, Beneficiary: core.PartnerLevel(l), Mode: core.ModePercent, Value: decimal.New(rng.Int64N(1001), -2)})
		}
		o := core.Order{ShopID: 1, OrderID: fmt.Sprint(i), Currency: "EUR", Paid: true}
		for j := 0; j < 1+rng.IntN(6); j++ {
			o.Lines = append(o.Lines, core.OrderLine{LineID: fmt.Sprint("L", j), Quantity: int64(1 + rng.IntN(9)), NetTotal: decimal.New(rng.Int64N(100000), -2)})
		}
		rates := core.FreezeRatesWith(core.ShopSettings{}, o, nil, core.NewRuleSet(rules), buyer, partners)
		st := core.OrderState{Order: o, Rates: rates, Refunds: map[string]core.Refund{}}
		var posted []core.Transaction
		booked := map[core.Owner]decimal.Decimal{}
		step := func(what string) {
			t.Helper()
			plan, err := core.PlanEarnings(st, posted, func(ow core.Owner) core.OwnerFunds { return core.OwnerFunds{Available: booked[ow]} }, false)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for j := range plan {
				tx := &plan[j]
				if err := tx.Validate(); err != nil {
					t.Fatalf("case %d %s: %v", i, what, err)
				}
				slot := tx.Reason.Beneficiary + string(tx.Reason.Kind)
				if seen[slot] {
					t.Fatalf("case %d %s: two %s transactions for %s", i, what, tx.Reason.Kind, tx.Reason.Beneficiary)
				}
				seen[slot] = true
				lines := decimal.Zero
				for _, l := range tx.Reason.Lines {
					lines = lines.Add(l.Amount)
				}
				var owner core.Owner
				sum := decimal.Zero
				for _, p := range tx.Postings {
					if p.Owner.Kind != core.OwnerProgram {
						owner, sum = p.Owner, sum.Add(p.Amount)
					}
				}
				if !lines.Equal(sum) {
					t.Fatalf("case %d %s: lines add up to %s, postings to %s", i, what, lines, sum)
				}
				tx.ID = int64(len(posted) + 1)
				posted = append(posted, *tx)
				booked[owner] = booked[owner].Add(sum)
			}
			desired, _ := core.DesiredCredit(st)
			have, _ := core.PostedCredit(posted)
			for k, v := range desired {
				if !have[k].Equal(v) {
					t.Fatalf("case %d %s: slot %s has %s, desired %s", i, what, k, have[k], v)
				}
			}
			if again, _ := core.PlanEarnings(st, posted, nil, false); len(again) != 0 {
				t.Fatalf("case %d %s: a replay plans %d more transactions", i, what, len(again))
			}
		}
		step("earn")
		for r := 0; r < rng.IntN(4); r++ {
			var lines []core.RefundLine
			refunded := st.RefundedQuantities()
			for _, l := range o.Lines {
				if left := l.Quantity - refunded[l.LineID]; left > 0 && rng.IntN(2) == 0 {
					lines = append(lines, core.RefundLine{LineID: l.LineID, Quantity: 1 + rng.Int64N(left)})
				}
			}
			id := fmt.Sprint("r", r)
			st.Refunds[id] = core.Refund{RefundID: id, LinesKnown: true, Lines: lines}
			step("refund " + id)
		}
		st.Order.Cancelled = true
		step("cancel")
		for ow, b := range booked {
			if !b.IsZero() {
				t.Fatalf("case %d: %s keeps %s after the cancellation", i, ow, b)
			}
		}
	}
}
