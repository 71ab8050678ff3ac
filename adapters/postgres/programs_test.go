package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// fakeClock is a settable clock for the ledger and the program jobs.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// Lots expire FIFO, each N months after it became available: spending
// consumed the oldest lot first, so only its rest expires; the next lot
// expires on its own date; running twice changes nothing; held credit is
// not expired; the customer sees an expire booking.
func TestExpiryFIFOPerLot(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	clock := &fakeClock{t: day("2025-01-10 12:00")}
	s.SetClock(clock.Now)
	ctx := context.Background()
	shop := core.Shop{ID: 7, Currency: "EUR", Settings: core.ShopSettings{ProgramSettings: core.ProgramSettings{ExpiryMonths: 12}}}
	c := cust("c:1")
	post := func(tx core.Transaction) {
		t.Helper()
		if _, err := s.Post(ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	post(earnTx(7, "a", c, "10.00")) // lot A, 2025-01-10
	clock.t = day("2025-04-10 12:00")
	post(earnTx(7, "b", c, "5.00")) // lot B, 2025-04-10
	clock.t = day("2025-06-01 12:00")
	h, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 7, Currency: "EUR", Owner: c, Amount: dec("8.00"), ExpiresAt: clock.t.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holdsOf(s).Capture(ctx, 7, h.ID, dec("8.00"), core.Reason{OrderID: "9"}); err != nil {
		t.Fatal(err)
	}
	expire := func(at string, want ...core.Owner) {
		t.Helper()
		clock.t = day(at)
		got, err := s.ExpireCredit(ctx, shop, clock.t)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: expired for %v, want %v", at, got, want)
		}
	}
	expire("2026-01-10 11:59")
	wantBalance(t, s, 7, c, "7.00", "0")
	expire("2026-01-10 12:01", c) // A's rest: 10 - 8 = 2
	wantBalance(t, s, 7, c, "5.00", "0")
	expire("2026-01-11 00:00") // idempotent
	wantBalance(t, s, 7, c, "5.00", "0")
	// Credit held for a checkout waits: 3 of B's 5 are held when B is due.
	clock.t = day("2026-04-10 11:00")
	h2, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 7, Currency: "EUR", Owner: c, Amount: dec("3.00"), ExpiresAt: clock.t.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expire("2026-04-10 12:01", c)
	wantBalance(t, s, 7, c, "0.00", "3.00")
	if _, err := s.ResolveHold(ctx, 7, h2.ID, decimal.Zero, core.Reason{}, core.HoldExpired); err != nil {
		t.Fatal(err)
	}
	expire("2026-04-10 13:30", c) // the released rest of B
	wantBalance(t, s, 7, c, "0.00", "0.00")
	page, err := s.Statement(ctx, core.StatementQuery{ShopID: 7, Currency: "EUR", Owner: c, Limit: 50, HideHolds: true})
	if err != nil {
		t.Fatal(err)
	}
	var expired []string
	for _, e := range page.Entries {
		if e.Reason.Kind == core.ReasonExpire {
			expired = append(expired, e.Available.String()+"@"+e.CreatedAt.UTC().Format("2006-01-02 15:04"))
		}
	}
	if len(expired) != 3 || expired[2] != "-2@2026-01-10 12:01" || expired[1] != "-2@2026-04-10 12:01" || expired[0] != "-3@2026-04-10 13:30" {
		t.Fatalf("expire entries %v", expired)
	}
	var programExpired decimal.Decimal
	if err := pool.QueryRow(ctx, `SELECT sum(amount) FROM ledger_postings WHERE shop_id = 7 AND owner_kind = 'program' AND bucket = 'expired'`).Scan(&programExpired); err != nil {
		t.Fatal(err)
	}
	if !programExpired.Equal(dec("7")) {
		t.Fatalf("program expired %s, want 7", programExpired)
	}
	mustAuditClean(t, pool)
}

// Inactivity mode: everything expires N months after the last order, and
// nothing while orders keep coming; a customer who never ordered counts
// from their first credit.
func TestExpiryAfterInactivity(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	clock := &fakeClock{t: day("2025-01-10 12:00")}
	s.SetClock(clock.Now)
	ctx := context.Background()
	shop := core.Shop{ID: 8, Currency: "EUR", Settings: core.ShopSettings{ProgramSettings: core.ProgramSettings{ExpiryMonths: 6, ExpiryMode: core.ExpiryInactivity}}}
	buyer, fan := cust("c:1"), cust("c:2")
	if _, err := s.Post(ctx, earnTx(8, "a", buyer, "10.00")); err != nil { // an order (earnTx carries order 1001)
		t.Fatal(err)
	}
	act := core.Transaction{ShopID: 8, Key: "activity:x", Reason: core.Reason{Kind: core.ReasonActivity, Rule: "account_created"}, Postings: []core.Posting{
		{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: dec("-3")},
		{Currency: "EUR", Owner: fan, Bucket: core.BucketAvailable, Amount: dec("3")},
	}}
	if _, err := s.Post(ctx, act); err != nil {
		t.Fatal(err)
	}
	clock.t = day("2025-05-01 12:00")
	if _, err := s.Post(ctx, earnTx(8, "b", buyer, "1.00")); err != nil { // a later order
		t.Fatal(err)
	}
	got, err := s.ExpireCredit(ctx, shop, day("2025-08-01 00:00"))
	if err != nil || len(got) != 1 || got[0] != fan {
		t.Fatalf("expired %v, %v; want only the customer without orders", got, err)
	}
	got, err = s.ExpireCredit(ctx, shop, day("2025-11-01 12:01"))
	if err != nil || len(got) != 1 || got[0] != buyer {
		t.Fatalf("expired %v, %v; want the buyer 6 months after the last order", got, err)
	}
	wantBalance(t, s, 8, buyer, "0.00", "0")
	mustAuditClean(t, pool)
}

// The minimum balance before credit can be used holds for vouchers under
// the balance lock.
func TestVoucherMinimumBalance(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("c:5")
	if _, err := s.Post(ctx, earnTx(9, "a", c, "9.99")); err != nil {
		t.Fatal(err)
	}
	vs := postgres.VoucherStore{L: s}
	v := core.Voucher{ShopID: 9, Code: "cbv-x1", Currency: "EUR", Owner: c, Amount: dec("5.00"), Status: core.VoucherPending,
		ExpiresAt: time.Now().Add(time.Hour), MinAvailable: decimal.NewNullDecimal(dec("10.00"))}
	if _, err := vs.CreatePending(ctx, v); core.ErrorCode(err) != core.EINSUFFICIENT {
		t.Fatalf("below the minimum: %v, want insufficient", err)
	}
	if _, err := s.Post(ctx, earnTx(9, "b", c, "0.01")); err != nil {
		t.Fatal(err)
	}
	if _, err := vs.CreatePending(ctx, v); err != nil {
		t.Fatalf("at the minimum: %v", err)
	}
	wantBalance(t, s, 9, c, "5.00", "0")
	mustAuditClean(t, pool)
}
