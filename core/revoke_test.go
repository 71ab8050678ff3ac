package core_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestPartnerRevocationProperty: over seeded random orders with up to
// three partner levels, earned and partly refunded, a partner revocation
// (a self-referral found later, reversed by the merchant) books one
// balanced self_referral_reversal per partner level that still holds
// credit, pointing at its earning, taking what the partner has and
// recording the rest as overdraft; afterwards no partner slot holds
// anything, a repeat plans nothing, and later refunds and a cancellation
// move only the buyer's credit.
func TestPartnerRevocationProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 2026))
	for i := 0; i < 500; i++ {
		buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:buyer"}
		rules := []core.Rule{{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: decimal.New(1+rng.Int64N(2000), -2)}}
		var partners []core.Owner
		for l := 1; l <= 1+rng.IntN(3); l++ {
			partners = append(partners, core.Owner{Kind: core.OwnerCustomer, ID: fmt.Sprint("c:p", l)})
			rules = append(rules, core.Rule{Target: core.TargetDefault, Beneficiary: core.PartnerLevel(l), Mode: core.ModePercent, Value: decimal.New(1+rng.Int64N(1000), -2)})
		}
		o := core.Order{ShopID: 1, OrderID: fmt.Sprint(i), Currency: "EUR", Paid: true}
		for j := 0; j < 1+rng.IntN(4); j++ {
			o.Lines = append(o.Lines, core.OrderLine{LineID: fmt.Sprint("L", j), Quantity: int64(2 + rng.IntN(5)), NetTotal: decimal.New(100+rng.Int64N(100000), -2)})
		}
		st := core.OrderState{Order: o, Rates: core.FreezeRatesWith(core.ShopSettings{}, o, nil, core.NewRuleSet(rules), buyer, partners), Refunds: map[string]core.Refund{}}
		var posted []core.Transaction
		funds := map[core.Owner]decimal.Decimal{}
		post := func(plan []core.Transaction) {
			for _, tx := range plan {
				if err := tx.Validate(); err != nil {
					t.Fatalf("case %d: %v", i, err)
				}
				tx.ID = int64(len(posted) + 1)
				posted = append(posted, tx)
				for _, p := range tx.Postings {
					if p.Owner.Kind != core.OwnerProgram && p.Bucket != core.BucketOverdraft {
						funds[p.Owner] = funds[p.Owner].Add(p.Amount)
					}
				}
			}
		}
		avail := func(ow core.Owner) core.OwnerFunds { return core.OwnerFunds{Available: funds[ow]} }
		converge := func() []core.Transaction {
			plan, err := core.PlanEarnings(st, posted, avail, false)
			if err != nil {
				t.Fatal(err)
			}
			post(plan)
			return plan
		}
		refund := func(id string) {
			refunded := st.RefundedQuantities()
			l := o.Lines[rng.IntN(len(o.Lines))]
			if left := l.Quantity - refunded[l.LineID]; left > 0 {
				st.Refunds[id] = core.Refund{RefundID: id, LinesKnown: true, Lines: []core.RefundLine{{LineID: l.LineID, Quantity: 1}}}
			}
		}
		converge()
		if rng.IntN(2) == 0 {
			refund("r0")
			converge()
		}
		// Partners spent part of their credit.
		for _, p := range partners {
			funds[p] = funds[p].Div(decimal.NewFromInt(int64(1 + rng.IntN(3)))).Round(2)
		}
		held, _ := core.PostedCredit(posted)
		plan, err := core.PlanPartnerRevocation(st, posted, avail)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range plan {
			if tx.Reason.Kind != core.ReasonSelfReferralReversal || !strings.HasPrefix(tx.Reason.Beneficiary, "partner") || tx.Reverses == 0 {
				t.Fatalf("case %d: revocation %+v", i, tx)
			}
			var owner core.Owner
			took, owed := decimal.Zero, decimal.Zero
			for _, p := range tx.Postings {
				switch {
				case p.Owner.Kind == core.OwnerProgram:
				case p.Bucket == core.BucketOverdraft:
					owner, owed = p.Owner, owed.Add(p.Amount.Neg())
				default:
					owner, took = p.Owner, took.Add(p.Amount.Neg())
				}
			}
			want := decimal.Zero
			for k, v := range held {
				if strings.HasSuffix(k, "/"+tx.Reason.Beneficiary) {
					want = want.Add(v)
				}
			}
			if !took.Add(owed).Equal(want) || took.GreaterThan(funds[owner]) || (owed.IsPositive() && !took.Equal(funds[owner])) {
				t.Fatalf("case %d: %s took %s and owes %s of %s (had %s)", i, tx.Reason.Beneficiary, took, owed, want, funds[owner])
			}
		}
		post(plan)
		if again, _ := core.PlanPartnerRevocation(st, posted, avail); len(again) != 0 {
			t.Fatalf("case %d: a repeated revocation plans %d", i, len(again))
		}
		check := func(what string) {
			have, _ := core.PostedCredit(posted)
			desired, _ := core.DesiredCredit(st)
			for k, v := range have {
				partner := strings.Contains(k, "/partner")
				if partner && !v.IsZero() || !partner && !v.Equal(desired[k]) {
					t.Fatalf("case %d %s: slot %s holds %s (desired %s)", i, what, k, v, desired[k])
				}
			}
		}
		check("revoked")
		refund("r1")
		for _, tx := range converge() {
			if strings.HasPrefix(tx.Reason.Beneficiary, "partner") {
				t.Fatalf("case %d: a refund after the revocation booked %s", i, tx.Key)
			}
		}
		check("refund")
		st.Order.Cancelled = true
		converge()
		check("cancelled")
	}
}
