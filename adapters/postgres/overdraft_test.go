package postgres_test

import (
	"context"
	"testing"

	"github.com/creditbridge/creditbridge/core"
)

// An overdraft whose settlement after the earning was missed (a crash, a
// failed write) is paid back by the periodic sweep, exactly once, with the
// key the earner would have used.
func TestSettleOverdraftsSweep(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("c-owes")
	other := cust("c-fine")
	// 15.00 used on an order with 0.00 available: 15.00 overdraft.
	if _, err := s.Post(ctx, core.Transaction{ShopID: 1, Key: "order:1:redeem:v1", Reason: core.Reason{Kind: core.ReasonRedeem, OrderID: "1"},
		Postings: []core.Posting{
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: dec("15.00")},
			{Currency: "EUR", Owner: c, Bucket: core.BucketOverdraft, Amount: dec("-15.00")},
		}}); err != nil {
		t.Fatal(err)
	}
	// Later credit lands without the settlement.
	if _, err := s.Post(ctx, earnTx(1, "order:2:line:1:buyer:earn", c, "10.00")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, earnTx(1, "order:3:line:1:buyer:earn", other, "4.00")); err != nil {
		t.Fatal(err)
	}
	n, err := s.SettleOverdrafts(ctx, 1, 100)
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d settled, %v; want 1", n, err)
	}
	b, err := s.Balance(ctx, 1, "EUR", c)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Available.IsZero() || !b.Overdraft.Equal(dec("-5.00")) {
		t.Fatalf("after the sweep: available %s overdraft %s, want 0.00 / -5.00", b.Available, b.Overdraft)
	}
	wantBalance(t, s, 1, other, "4.00", "0.00")
	if n, err := s.SettleOverdrafts(ctx, 1, 100); err != nil || n != 0 {
		t.Fatalf("second sweep: %d settled, %v; want 0", n, err)
	}
	// Another shop's owners are never touched.
	if n, err := s.SettleOverdrafts(ctx, 2, 100); err != nil || n != 0 {
		t.Fatalf("other shop: %d settled, %v", n, err)
	}
	mustAuditClean(t, pool)
}
