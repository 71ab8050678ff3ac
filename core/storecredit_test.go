package core_test

import (
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestPlanStoreCredit converges an order's booked store credit on what
// Shopify reports, step by step, replaying each step.
func TestPlanStoreCredit(t *testing.T) {
	t.Parallel()
	dd := decimal.RequireFromString
	owner := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	var posted []core.Transaction
	funds := core.Balance{Currency: "EUR", Available: dd("15.00")}
	step := func(name, spent, refunded, wantDelta string, wantPostings int) {
		t.Helper()
		use := core.StoreCreditUse{OrderID: "9", OrderNumber: "#9", Currency: "EUR", Owner: owner, Spent: dd(spent), Refunded: dd(refunded)}
		tx, delta, err := core.PlanStoreCredit(1, use, posted, funds)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if wantPostings == 0 {
			if tx != nil {
				t.Fatalf("%s: posted %+v, want nothing", name, tx)
			}
			return
		}
		if tx == nil || !delta.Equal(dd(wantDelta)) || len(tx.Postings) != wantPostings {
			t.Fatalf("%s: tx %+v delta %s; want delta %s with %d postings", name, tx, delta, wantDelta, wantPostings)
		}
		if err := tx.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range tx.Postings {
			switch {
			case p.Owner == owner && p.Bucket == core.BucketAvailable:
				funds.Available = funds.Available.Add(p.Amount)
			case p.Owner == owner && p.Bucket == core.BucketOverdraft:
				funds.Overdraft = funds.Overdraft.Add(p.Amount)
			}
		}
		posted = append(posted, *tx)
		// The same snapshot again posts nothing.
		if again, _, err := core.PlanStoreCredit(1, use, posted, funds); err != nil || again != nil {
			t.Fatalf("%s replayed: %+v %v", name, again, err)
		}
	}
	step("nothing yet", "0", "0", "0", 0)
	// 20.00 spent with 15.00 available: 5.00 becomes an overdraft.
	step("spent", "20.00", "0", "-20.00", 3)
	if !funds.Available.IsZero() || !funds.Overdraft.Equal(dd("-5.00")) {
		t.Fatalf("after spend: %+v", funds)
	}
	// 8.00 refunded to store credit: repays the overdraft first.
	step("refunded", "20.00", "8.00", "8.00", 3)
	if !funds.Available.Equal(dd("3.00")) || !funds.Overdraft.IsZero() {
		t.Fatalf("after refund: %+v", funds)
	}
	// A refund beyond what was spent (card money refunded as store
	// credit) is new credit issued to the customer.
	step("refunded beyond", "20.00", "30.00", "22.00", 3)
	if !funds.Available.Equal(dd("25.00")) {
		t.Fatalf("after refund beyond: %+v", funds)
	}
	var redeemed, issued decimal.Decimal
	for _, tx := range posted {
		for _, p := range tx.Postings {
			if p.Owner.Kind == core.OwnerProgram && p.Bucket == core.ProgramRedeemed {
				redeemed = redeemed.Add(p.Amount)
			}
			if p.Owner.Kind == core.OwnerProgram && p.Bucket == core.ProgramIssued {
				issued = issued.Add(p.Amount)
			}
		}
	}
	if !redeemed.IsZero() || !issued.Equal(dd("-10.00")) {
		t.Fatalf("program: redeemed %s issued %s; want 0 and -10.00", redeemed, issued)
	}
	if _, _, err := core.PlanStoreCredit(1, core.StoreCreditUse{OrderID: "9", Currency: "EUR", Owner: owner, Spent: dd("0.001")}, nil, funds); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("sub-cent amount: %v", err)
	}
}

func TestRedemptionModeSetting(t *testing.T) {
	t.Parallel()
	if m := (core.ShopSettings{}).Mode(); m != core.RedemptionStoreCredit {
		t.Fatalf("default mode %s", m)
	}
	for _, m := range []core.RedemptionMode{"", core.RedemptionStoreCredit, core.RedemptionFunction, core.RedemptionCodes} {
		if err := (core.ShopSettings{RedemptionMode: m}).Validate(); err != nil {
			t.Errorf("%q: %v", m, err)
		}
	}
	if err := (core.ShopSettings{RedemptionMode: "coupon"}).Validate(); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("unknown mode: %v", err)
	}
	if err := (core.ShopSettings{StoreCreditExpiryDays: -1}).Validate(); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("negative expiry: %v", err)
	}
}
