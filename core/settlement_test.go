package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/core/coretest"
	"github.com/shopspring/decimal"
)

// fakeShop runs the Earner, Redeemer and Holds on the in-memory store:
// the settlement rules end to end, without PostgreSQL.
type fakeShop struct {
	t      *testing.T
	store  *coretest.Store
	shop   core.Shop
	earner *core.Earner
	holds  *core.Holds
	at     time.Time
}

func newFakeShop(t *testing.T) *fakeShop {
	t.Helper()
	s := coretest.New()
	red := &core.Redeemer{Ledger: s}
	f := &fakeShop{t: t, store: s, shop: core.Shop{ID: 1, Platform: core.PlatformWooCommerce, Currency: "EUR", Active: true},
		earner: &core.Earner{Orders: s, Directory: s, Ledger: s, Redeemer: red}, holds: red.Holds(),
		at: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	return f
}

// grant gives the buyer credit (an adjustment).
func (f *fakeShop) grant(amount string) {
	f.t.Helper()
	if _, err := f.store.Post(context.Background(), core.Transaction{ShopID: 1, Key: "grant:" + amount + f.at.String(), Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "grant"},
		Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: d(amount).Neg()},
			{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: d(amount)}}}); err != nil {
		f.t.Fatal(err)
	}
}

// apply applies the order as a newer snapshot.
func (f *fakeShop) apply(o core.Order) core.ApplyResult {
	f.t.Helper()
	f.at = f.at.Add(time.Minute)
	o.UpdatedAt, o.Customer = f.at, core.CustomerRef{PlatformID: "1"}
	res, err := f.earner.ApplyOrder(context.Background(), f.shop, o, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// want checks the buyer's buckets and the program's redeemed total, and
// that the books balance: every transaction and all of them together
// sum to zero per currency, and each balance is the sum of its postings.
func (f *fakeShop) want(available, held, overdraft, redeemed string) {
	f.t.Helper()
	b, err := f.store.Balance(context.Background(), 1, "EUR", buyer)
	if err != nil {
		f.t.Fatal(err)
	}
	sums := map[string]decimal.Decimal{}
	owned := map[core.Bucket]decimal.Decimal{}
	red := decimal.Zero
	for _, t := range f.store.Transactions() {
		mustBalance(f.t, t)
		for _, p := range t.Postings {
			sums[p.Currency] = sums[p.Currency].Add(p.Amount)
			if p.Owner == buyer {
				owned[p.Bucket] = owned[p.Bucket].Add(p.Amount)
			}
			if p.Owner.Kind == core.OwnerProgram && p.Bucket == core.ProgramRedeemed {
				red = red.Add(p.Amount)
			}
		}
	}
	for cur, s := range sums {
		if !s.IsZero() {
			f.t.Fatalf("the books do not balance in %s: %s", cur, s)
		}
	}
	if !owned[core.BucketAvailable].Equal(b.Available) || !owned[core.BucketHeld].Equal(b.Held) || !owned[core.BucketOverdraft].Equal(b.Overdraft) {
		f.t.Fatalf("balance %+v is not the sum of its postings %v", b, owned)
	}
	if !b.Available.Equal(d(available)) || !b.Held.Equal(d(held)) || !b.Overdraft.Equal(d(overdraft)) || !red.Equal(d(redeemed)) {
		f.t.Fatalf("available %s held %s overdraft %s redeemed %s, want %s %s %s %s", b.Available, b.Held, b.Overdraft, red, available, held, overdraft, redeemed)
	}
}

func (f *fakeShop) quote(subtotal string) core.Quote {
	f.t.Helper()
	q, err := (&core.Redeemer{Ledger: f.store, Now: func() time.Time { return f.at }}).Quote(context.Background(), f.shop,
		core.QuoteRequest{Owner: buyer, Currency: "EUR", Subtotal: d(subtotal), CartKey: "cart-1"})
	if err != nil {
		f.t.Fatal(err)
	}
	return q
}

// TestSettlementOnTheFake runs each settlement case through the Earner
// and the in-memory store, checking exact amounts after every step.
func TestSettlementOnTheFake(t *testing.T) {
	t.Parallel()
	t.Run("capture releases what the order did not use", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("30.00")
		if q := f.quote("20.00"); !q.Amount.Equal(d("20")) || !q.Placed {
			t.Fatalf("quote %+v", q)
		}
		f.want("10.00", "20.00", "0", "0")
		f.apply(settleOrder(true, false, "18.00"))
		f.want("12.00", "0", "0", "18.00")
		f.apply(settleOrder(true, false, "18.00")) // a replayed snapshot changes nothing
		f.want("12.00", "0", "0", "18.00")
	})
	t.Run("paid without the credit voids the hold", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("30.00")
		f.quote("20.00")
		f.apply(settleOrder(true, false, ""))
		f.want("30.00", "0", "0", "0")
		if _, err := f.store.OpenHoldByCart(context.Background(), 1, "cart-1"); core.ErrorCode(err) != core.ENOTFOUND {
			t.Fatalf("the cart's hold is still open: %v", err)
		}
	})
	t.Run("overdraft: more used than held and available", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("12.00")
		f.quote("10.00") // holds 10 of 12
		f.apply(settleOrder(true, false, "15.00"))
		f.want("0", "0", "-3.00", "15.00")
		f.grant("5.00") // later credit; the order's own overdraft stays until settled
		f.want("5.00", "0", "-3.00", "15.00")
	})
	t.Run("cancel gives back, restore takes again", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("8.00")
		f.apply(settleOrder(true, false, "10.00")) // used without a hold: 2.00 short
		f.want("0", "0", "-2.00", "10.00")
		f.apply(settleOrder(false, true, "10.00"))
		f.want("8.00", "0", "0", "0")
		f.apply(settleOrder(true, false, "10.00"))
		f.want("0", "0", "-2.00", "10.00")
		f.apply(settleOrder(false, true, "10.00"))
		f.want("8.00", "0", "0", "0")
	})
	t.Run("cancel after capture returns the captured hold", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("20.00")
		f.quote("10.00")
		f.apply(settleOrder(true, false, "10.00"))
		f.want("10.00", "0", "0", "10.00")
		f.apply(settleOrder(false, true, "10.00"))
		f.want("20.00", "0", "0", "0")
	})
	t.Run("partial refund gives back its share", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("20.00")
		f.quote("10.00")
		o := settleOrder(true, false, "10.00") // lines 50.00 + 50.00
		f.apply(o)
		o.Refunds = []core.Refund{{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "2", Quantity: 1}}}}
		f.apply(o)
		f.want("15.00", "0", "0", "5.00")
		o.Refunds = append(o.Refunds, core.Refund{RefundID: "r2", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}})
		f.apply(o) // 75 of 100 refunded
		f.want("17.50", "0", "0", "2.50")
	})
	t.Run("voucher converges on cancel and restore", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("20.00")
		v, err := f.store.IssueVoucher(core.Voucher{ShopID: 1, Code: "GIFT-5", Currency: "EUR", Owner: buyer, Amount: d("15.00")})
		if err != nil {
			t.Fatal(err)
		}
		f.want("5.00", "0", "0", "0")
		o := settleOrder(true, false, "")
		o.Redemptions = []core.Redemption{{Kind: core.RedemptionVoucher, Code: "gift-5", Amount: d("15.00")}}
		f.apply(o)
		f.want("5.00", "0", "0", "15.00")
		if got, _ := f.store.Voucher(1, v.Code); got.Status != core.VoucherUsed || got.OrderID != "9001" {
			t.Fatalf("voucher %+v", got)
		}
		c := o
		c.Paid, c.Cancelled = false, true
		f.apply(c)
		f.want("20.00", "0", "0", "0")
		if _, err := f.store.Post(context.Background(), core.Transaction{ShopID: 1, Key: "spend", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "spent elsewhere"},
			Postings: []core.Posting{{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: d("-10.00")}, {Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: d("10.00")}}}); err != nil {
			t.Fatal(err)
		}
		f.apply(o) // restored: the 15.00 are taken again, 5.00 of them as an overdraft
		f.want("0", "0", "-5.00", "15.00")
		f.apply(c)
		f.want("10.00", "0", "0", "0")
	})
	t.Run("the order's transaction is all or nothing and marks its event", func(t *testing.T) {
		f := newFakeShop(t)
		f.grant("5.00")
		ev := core.EventRef{ShopID: 1, ID: 7}
		f.store.AddEvent(ev)
		o := settleOrder(true, false, "3.00")
		o.UpdatedAt, o.Customer = f.at.Add(time.Minute), core.CustomerRef{PlatformID: "1"}
		res, err := f.earner.ApplyOrder(context.Background(), f.shop, o, &ev)
		if err != nil || !res.Marked || f.store.EventStatus(ev) != core.InboxProcessed {
			t.Fatalf("apply: %v marked %v status %s", err, res.Marked, f.store.EventStatus(ev))
		}
		before := len(f.store.Transactions())
		err = f.store.WithOrder(context.Background(), core.OrderWork{ShopID: 1, OrderID: "9001", Fn: func(tx core.OrderTx) error {
			if _, err := tx.Post(context.Background(), core.Transaction{ShopID: 1, Key: "x", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "x"},
				Postings: []core.Posting{{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: d("1.00")}, {Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: d("-1.00")}}}); err != nil {
				return err
			}
			return core.Errorf(core.EINTERNAL, "boom")
		}})
		if err == nil || len(f.store.Transactions()) != before {
			t.Fatalf("failed work left %d transactions (had %d): %v", len(f.store.Transactions()), before, err)
		}
		f.want("2.00", "0", "0", "3.00")
	})
}

// TestHoldsServiceOnTheFake: Place, Release, ReleaseCart and Expire keep
// the books balanced and resolve each hold once.
func TestHoldsServiceOnTheFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFakeShop(t)
	f.grant("10.00")
	var notified []core.Owner
	f.holds.Notify = func(_ context.Context, _ core.Shop, o []core.Owner) { notified = append(notified, o...) }
	exp := f.at.Add(time.Hour)
	if _, err := f.holds.Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: buyer, Amount: d("10.01"), ExpiresAt: exp}); core.ErrorCode(err) != core.EINSUFFICIENT {
		t.Fatalf("over-hold: %v", err)
	}
	a, err := f.holds.Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: buyer, Amount: d("4.00"), CartKey: "cart-a", ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.holds.Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: buyer, Amount: d("5.00"), ExpiresAt: f.at.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	f.want("1.00", "9.00", "0", "0")
	if again, err := f.holds.Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: buyer, Amount: d("4.00"), CartKey: "cart-a", ExpiresAt: exp.Add(time.Hour)}); err != nil || again.ID != a.ID || !again.ExpiresAt.Equal(exp.Add(time.Hour)) {
		t.Fatalf("same cart and amount: %v %+v", err, again)
	}
	if n, err := f.holds.Expire(ctx, f.at, 10); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if ok, err := f.holds.Release(ctx, f.shop, b.ID, "x"); err != nil || ok {
		t.Fatalf("release of an expired hold: %v %v", ok, err)
	}
	if ok, err := f.holds.ReleaseCart(ctx, f.shop, "cart-a", "cart no longer uses credit"); err != nil || !ok || len(notified) != 1 {
		t.Fatalf("release cart: %v %v, notified %v", ok, err, notified)
	}
	if ok, err := f.holds.ReleaseCart(ctx, f.shop, "cart-a", "again"); err != nil || ok {
		t.Fatalf("second release: %v %v", ok, err)
	}
	if _, err := f.holds.Capture(ctx, 1, a.ID, d("1.00"), core.Reason{OrderID: "1"}); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("capture of a voided hold: %v", err)
	}
	f.want("10.00", "0", "0", "0")
}
