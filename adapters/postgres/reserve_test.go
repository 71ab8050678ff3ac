package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func TestReserveKeepsReplacesReleases(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("r1")
	if _, err := s.Post(ctx, earnTx(1, "e1", c, "30.00")); err != nil {
		t.Fatal(err)
	}
	req := core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, CartKey: "cart", ExpiresAt: time.Now().Add(time.Hour)}
	fixed := func(v string) func(decimal.Decimal) (decimal.Decimal, error) {
		return func(sp decimal.Decimal) (decimal.Decimal, error) { return decimal.Min(sp, dec(v)), nil }
	}
	r1, err := s.Reserve(ctx, req, fixed("20"))
	if err != nil || !r1.Placed || r1.Hold == nil || !r1.Spendable.Equal(dec("30")) {
		t.Fatalf("first: %v %+v", err, r1)
	}
	// Same amount: same hold, expiry extended, nothing posted.
	req2 := req
	req2.ExpiresAt = req.ExpiresAt.Add(time.Hour)
	r2, err := s.Reserve(ctx, req2, fixed("20"))
	if err != nil || r2.Placed || r2.Hold.ID != r1.Hold.ID || r2.Hold.ExpiresAt.Before(req2.ExpiresAt.Add(-time.Second)) || !r2.Spendable.Equal(dec("30")) {
		t.Fatalf("same: %v %+v", err, r2)
	}
	// More than available alone but within available + this cart's hold.
	r3, err := s.Reserve(ctx, req, fixed("25"))
	if err != nil || !r3.Placed || !r3.Released || r3.Hold.ID == r1.Hold.ID {
		t.Fatalf("replace: %v %+v", err, r3)
	}
	wantBalance(t, s, 1, c, "5.00", "25.00")
	// Zero releases.
	r4, err := s.Reserve(ctx, req, fixed("0"))
	if err != nil || r4.Hold != nil || !r4.Released {
		t.Fatalf("release: %v %+v", err, r4)
	}
	wantBalance(t, s, 1, c, "30.00", "0")
	// An amount above the spendable credit is refused and changes nothing.
	if _, err := s.Reserve(ctx, req, func(decimal.Decimal) (decimal.Decimal, error) { return dec("31"), nil }); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("over: %v", err)
	}
	wantBalance(t, s, 1, c, "30.00", "0")
	mustAuditClean(t, pool)
}

// TestReserveConcurrentCartsNeverOverdraw quotes many carts of one customer
// at once: the holds never add up to more than the credit.
func TestReserveConcurrentCartsNeverOverdraw(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("hot")
	if _, err := s.Post(ctx, earnTx(1, "e1", c, "100.00")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := decimal.Zero
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for rep := 0; rep < 2; rep++ { // quote, then quote again (reuse)
				res, err := s.Reserve(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, CartKey: fmt.Sprintf("cart-%d", i), ExpiresAt: time.Now().Add(time.Hour)},
					func(sp decimal.Decimal) (decimal.Decimal, error) { return decimal.Min(sp, dec("7.00")), nil })
				if err != nil {
					t.Error(err)
					return
				}
				if rep == 1 && res.Hold != nil {
					mu.Lock()
					held = held.Add(res.Hold.Amount)
					mu.Unlock()
				}
			}
		}(i)
	}
	wg.Wait()
	b, err := s.Balance(ctx, 1, "EUR", c)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Held.Equal(held) || !b.Available.Add(b.Held).Equal(dec("100")) || b.Held.GreaterThan(dec("100")) {
		t.Fatalf("held %s (sum of answers %s) available %s", b.Held, held, b.Available)
	}
	if !b.Held.Equal(dec("100")) {
		t.Fatalf("40 carts × 7.00 > 100: all credit should be held, got %s", b.Held)
	}
	mustAuditClean(t, pool)
}

// TestReserveRepeatedQuoteChangesNothing: quoting a cart again with the
// same amount and an expiry its hold already (nearly) has answers from
// plain reads: same hold, same expiry, no transaction. A different amount
// or a later expiry still goes through the locked path.
func TestReserveRepeatedQuoteChangesNothing(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("fast")
	if _, err := s.Post(ctx, earnTx(1, "e-fast", c, "30.00")); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	req := core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, CartKey: "cart-fast", ExpiresAt: exp}
	upTo := func(v string) func(decimal.Decimal) (decimal.Decimal, error) {
		return func(sp decimal.Decimal) (decimal.Decimal, error) { return decimal.Min(sp, dec(v)), nil }
	}
	txCount := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger_transactions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	r1, err := s.Reserve(ctx, req, upTo("20"))
	if err != nil || !r1.Placed {
		t.Fatalf("first: %v %+v", err, r1)
	}
	before := txCount()
	again := req
	again.ExpiresAt = exp.Add(30 * time.Second) // within the slack
	r2, err := s.Reserve(ctx, again, upTo("20"))
	if err != nil || r2.Placed || r2.Released || r2.Hold == nil || r2.Hold.ID != r1.Hold.ID || !r2.Hold.ExpiresAt.Equal(r1.Hold.ExpiresAt) || !r2.Spendable.Equal(dec("30")) {
		t.Fatalf("repeat: %v %+v (first %+v)", err, r2, r1.Hold)
	}
	if txCount() != before {
		t.Fatal("a repeated quote posted a transaction")
	}
	// Asked expiry well past the hold's: extended through the locked path.
	later := req
	later.ExpiresAt = exp.Add(10 * time.Minute)
	r3, err := s.Reserve(ctx, later, upTo("20"))
	if err != nil || r3.Placed || r3.Hold.ID != r1.Hold.ID || r3.Hold.ExpiresAt.Before(later.ExpiresAt.Add(-time.Second)) {
		t.Fatalf("extend: %v %+v", err, r3)
	}
	// A different amount replaces the hold.
	r4, err := s.Reserve(ctx, req, upTo("25"))
	if err != nil || !r4.Placed || !r4.Released || r4.Hold.ID == r1.Hold.ID {
		t.Fatalf("change: %v %+v", err, r4)
	}
	wantBalance(t, s, 1, c, "5.00", "25.00")
	mustAuditClean(t, pool)
}
