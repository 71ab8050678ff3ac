package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func cust(id string) core.Owner { return core.Owner{Kind: core.OwnerCustomer, ID: id} }

func earnTx(shop int64, key string, o core.Owner, amount string) core.Transaction {
	return core.Transaction{ShopID: shop, Key: key, Reason: core.Reason{Kind: core.ReasonEarn, OrderID: "1001", LineID: "1"},
		Postings: []core.Posting{
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: dec(amount).Neg()},
			{Currency: "EUR", Owner: o, Bucket: core.BucketAvailable, Amount: dec(amount)},
		}}
}

// holdsOf is the hold service on a store (the path every hold change takes).
func holdsOf(s *postgres.LedgerStore) *core.Holds { return &core.Holds{Store: s} }

func newStore(t *testing.T) (*postgres.LedgerStore, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t, 8)
	s := postgres.NewLedgerStore(pool, 2)
	t.Cleanup(s.Close)
	return s, pool
}

func mustAuditClean(t *testing.T, pool *pgxpool.Pool) core.AuditReport {
	t.Helper()
	r, err := postgres.Audit(context.Background(), pool, 0)
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if !r.OK() {
		t.Fatalf("audit not clean:\n%s", r)
	}
	return r
}

func wantBalance(t *testing.T, s *postgres.LedgerStore, shop int64, o core.Owner, av, held string) {
	t.Helper()
	b, err := s.Balance(context.Background(), shop, "EUR", o)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Available.Equal(dec(av)) || !b.Held.Equal(dec(held)) {
		t.Fatalf("balance of %s: available=%s held=%s, want %s/%s", o, b.Available, b.Held, av, held)
	}
}

func TestPostIdempotentAndStatement(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("c1")
	first, err := s.Post(ctx, earnTx(1, "order:1001:line:1:buyer:earn", c, "5.00"))
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || first.Replayed {
		t.Fatalf("first post: id=%d replayed=%v", first.ID, first.Replayed)
	}
	again, err := s.Post(ctx, earnTx(1, "order:1001:line:1:buyer:earn", c, "5.00"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.ID != first.ID {
		t.Fatalf("replay: id=%d replayed=%v, want id %d replayed", again.ID, again.Replayed, first.ID)
	}
	_, err = s.Post(ctx, earnTx(1, "order:1001:line:1:buyer:earn", c, "6.00"))
	if core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("same key other content: err=%v, want conflict", err)
	}
	// Same key in another shop is another transaction.
	if _, err := s.Post(ctx, earnTx(2, "order:1001:line:1:buyer:earn", c, "6.00")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, earnTx(1, "order:1002:line:1:buyer:earn", c, "2.50")); err != nil {
		t.Fatal(err)
	}
	wantBalance(t, s, 1, c, "7.50", "0")
	wantBalance(t, s, 2, c, "6.00", "0")

	page, err := s.Statement(ctx, core.StatementQuery{ShopID: 1, Currency: "EUR", Owner: c, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || !page.Entries[0].AvailableAfter.Equal(dec("7.50")) || !page.Entries[0].Available.Equal(dec("2.50")) {
		t.Fatalf("newest entry: %+v", page.Entries)
	}
	if page.NextBefore == 0 {
		t.Fatal("expected a next page")
	}
	page2, err := s.Statement(ctx, core.StatementQuery{ShopID: 1, Currency: "EUR", Owner: c, Limit: 10, Before: page.NextBefore})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.Entries) != 1 || !page2.Entries[0].AvailableAfter.Equal(dec("5.00")) || page2.Entries[0].Reason.OrderID != "1001" || page2.NextBefore != 0 {
		t.Fatalf("second page: %+v next=%d", page2.Entries, page2.NextBefore)
	}
	mustAuditClean(t, pool)
}

func TestPostRejectsInvalid(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	cases := map[string]core.Transaction{
		"unbalanced": {ShopID: 1, Key: "k1", Reason: core.Reason{Kind: core.ReasonEarn}, Postings: []core.Posting{
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: dec("-5")},
			{Currency: "EUR", Owner: cust("a"), Bucket: core.BucketAvailable, Amount: dec("4.99")}}},
		"too many decimals": earnTx(1, "k2", cust("a"), "1.005"),
		"yen decimals": {ShopID: 1, Key: "k3", Reason: core.Reason{Kind: core.ReasonEarn}, Postings: []core.Posting{
			{Currency: "JPY", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: dec("-5.5")},
			{Currency: "JPY", Owner: cust("a"), Bucket: core.BucketAvailable, Amount: dec("5.5")}}},
		"cross currency": {ShopID: 1, Key: "k4", Reason: core.Reason{Kind: core.ReasonEarn}, Postings: []core.Posting{
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: dec("-5")},
			{Currency: "USD", Owner: cust("a"), Bucket: core.BucketAvailable, Amount: dec("5")}}},
		"bad bucket":          {ShopID: 1, Key: "k5", Reason: core.Reason{Kind: core.ReasonEarn}, Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.BucketAvailable, Amount: dec("-5")}, {Currency: "EUR", Owner: cust("a"), Bucket: core.BucketAvailable, Amount: dec("5")}}},
		"no key":              earnTx(1, "", cust("a"), "1"),
		"adjustment no actor": {ShopID: 1, Key: "k6", Reason: core.Reason{Kind: core.ReasonAdjustment}, Postings: earnTx(1, "x", cust("a"), "1").Postings},
	}
	for name, tx := range cases {
		if _, err := s.Post(ctx, tx); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: err=%v, want invalid", name, err)
		}
	}
	// Overdrawing: a debit larger than available fails and changes nothing.
	if _, err := s.Post(ctx, earnTx(1, "e1", cust("a"), "3.00")); err != nil {
		t.Fatal(err)
	}
	debit := core.Transaction{ShopID: 1, Key: "adj1", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "admin", Note: "test"}, Postings: []core.Posting{
		{Currency: "EUR", Owner: cust("a"), Bucket: core.BucketAvailable, Amount: dec("-3.01")},
		{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: dec("3.01")}}}
	if _, err := s.Post(ctx, debit); core.ErrorCode(err) != core.EINSUFFICIENT {
		t.Fatalf("overdraw: err=%v, want insufficient", err)
	}
	wantBalance(t, s, 1, cust("a"), "3.00", "0")
	// The rejected key stays free: the same key can be used once funds exist.
	if _, err := s.Post(ctx, earnTx(1, "e2", cust("a"), "0.01")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, debit); err != nil {
		t.Fatalf("debit after top-up: %v", err)
	}
	wantBalance(t, s, 1, cust("a"), "0.00", "0")
	// Reversal of an unknown transaction is refused.
	rev := earnTx(1, "rev", cust("a"), "1")
	rev.Reverses = 99999
	if _, err := s.Post(ctx, rev); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("reverse unknown: err=%v", err)
	}
	mustAuditClean(t, pool)
}

func TestAppendOnly(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if _, err := s.Post(ctx, earnTx(1, "e1", cust("a"), "3.00")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE ledger_transactions SET idem_key = 'x'",
		"DELETE FROM ledger_transactions",
		"UPDATE ledger_postings SET amount = 100",
		"DELETE FROM ledger_postings",
		"UPDATE ledger_entries SET available_after = 100",
		"DELETE FROM ledger_entries",
		"TRUNCATE ledger_postings CASCADE",
		"TRUNCATE ledger_transactions CASCADE",
	} {
		if _, err := pool.Exec(ctx, q); err == nil {
			t.Errorf("%q succeeded; the ledger must be append-only", q)
		}
	}
	wantBalance(t, s, 1, cust("a"), "3.00", "0")
	mustAuditClean(t, pool)
}

func TestHoldLifecycle(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("h1")
	if _, err := s.Post(ctx, earnTx(1, "e1", c, "20.00")); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	h, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, Amount: dec("15.00"), CartKey: "cart-1", ExpiresAt: exp})
	if err != nil {
		t.Fatal(err)
	}
	wantBalance(t, s, 1, c, "5.00", "15.00")
	// Same cart, same amount: the same hold.
	h2, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, Amount: dec("15.00"), CartKey: "cart-1", ExpiresAt: exp})
	if err != nil || h2.ID != h.ID {
		t.Fatalf("re-quote same cart: %v id=%d want %d", err, h2.ID, h.ID)
	}
	later := exp.Add(30 * time.Minute)
	h2b, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, Amount: dec("15.00"), CartKey: "cart-1", ExpiresAt: later})
	if err != nil || h2b.ID != h.ID || h2b.ExpiresAt.Before(later.Add(-time.Second)) {
		t.Fatalf("re-quote must extend the expiry: %v %+v", err, h2b)
	}
	// Same cart, new amount: replaced, never stacked.
	h3, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, Amount: dec("12.00"), CartKey: "cart-1", ExpiresAt: exp})
	if err != nil || h3.ID == h.ID {
		t.Fatalf("re-quote new amount: %v", err)
	}
	wantBalance(t, s, 1, c, "8.00", "12.00")
	old, _ := s.GetHold(ctx, 1, h.ID)
	if old.Status != core.HoldVoided {
		t.Fatalf("replaced hold status %s", old.Status)
	}
	// More than available is refused.
	if _, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, Amount: dec("8.01"), CartKey: "cart-2", ExpiresAt: exp}); core.ErrorCode(err) != core.EINSUFFICIENT {
		t.Fatalf("overdraw hold: %v", err)
	}
	// Partial capture releases the rest.
	got, err := holdsOf(s).Capture(ctx, 1, h3.ID, dec("10.00"), core.Reason{OrderID: "1001", OrderNumber: "#1001"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != core.HoldCaptured || !got.Captured.Equal(dec("10")) {
		t.Fatalf("captured hold: %+v", got)
	}
	wantBalance(t, s, 1, c, "10.00", "0")
	// Same capture again is a no-op; another resolution is a conflict.
	if _, err := holdsOf(s).Capture(ctx, 1, h3.ID, dec("10.00"), core.Reason{OrderID: "1001"}); err != nil {
		t.Fatalf("replayed capture: %v", err)
	}
	if _, err := holdsOf(s).Capture(ctx, 1, h3.ID, dec("11.00"), core.Reason{}); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("second capture: %v", err)
	}
	if _, err := holdsOf(s).Void(ctx, 1, h3.ID, core.Reason{}); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("void after capture: %v", err)
	}
	// Capture more than held is invalid.
	h4, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, Amount: dec("4.00"), ExpiresAt: time.Now().Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holdsOf(s).Capture(ctx, 1, h4.ID, dec("4.01"), core.Reason{}); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("over-capture: %v", err)
	}
	expired, err := s.ExpiredHolds(ctx, time.Now(), 10)
	if err != nil || len(expired) != 1 || expired[0].ID != h4.ID {
		t.Fatalf("expired holds: %v %+v", err, expired)
	}
	if n, err := holdsOf(s).Expire(ctx, time.Now(), 10); err != nil || n != 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	if x, _ := s.GetHold(ctx, 1, h4.ID); x.Status != core.HoldExpired {
		t.Fatalf("expired hold is %s", x.Status)
	}
	wantBalance(t, s, 1, c, "10.00", "0")
	// Holds cannot be rewritten behind the ledger's back.
	if _, err := pool.Exec(ctx, "UPDATE ledger_holds SET status = 'open', resolve_tx_id = NULL WHERE id = $1", h4.ID); err == nil {
		t.Fatal("reopening a resolved hold succeeded")
	}
	mustAuditClean(t, pool)
}

func TestAuditFindsCorruption(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if _, err := s.Post(ctx, earnTx(7, "e1", cust("a"), "3.00")); err != nil {
		t.Fatal(err)
	}
	mustAuditClean(t, pool)
	// Forge an unbalanced transaction and a drifted balance directly in SQL.
	if _, err := pool.Exec(ctx, `WITH t AS (INSERT INTO ledger_transactions (shop_id, idem_key, content_hash, kind, reason) VALUES (7, 'forged', '\x00', 'earn', '{}') RETURNING id)
INSERT INTO ledger_postings (shop_id, tx_id, seq, currency, owner_kind, owner_id, bucket, amount) SELECT 7, id, 0, 'EUR', 'customer', 'a', 'available', 1 FROM t`); err != nil {
		t.Fatal(err)
	}
	r, err := postgres.Audit(ctx, pool, 7)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() {
		t.Fatalf("audit missed forged rows:\n%s", r)
	}
	checks := map[string]bool{}
	for _, f := range r.Findings {
		checks[f.Check] = true
	}
	if !checks[core.CheckBalanced] || !checks[core.CheckBalanceRows] {
		t.Fatalf("want %s and %s findings, got:\n%s", core.CheckBalanced, core.CheckBalanceRows, r)
	}
	// Another shop's audit is unaffected.
	if r2, err := postgres.Audit(ctx, pool, 8); err != nil || !r2.OK() {
		t.Fatalf("shop 8 audit: %v\n%s", err, r2)
	}
}

// TestConcurrentHoldsAndEarns hammers one customer and one shop program
// account with holds, captures, voids and earnings from many goroutines.
func TestConcurrentHoldsAndEarns(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("hot")
	if _, err := s.Post(ctx, earnTx(1, "seed", c, "50.00")); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 16, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	var captured, earned decimal.Decimal
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if i%5 == 0 {
					if _, err := s.Post(ctx, earnTx(1, fmt.Sprintf("earn:%d:%d", w, i), c, "1.00")); err != nil {
						errs <- err
						return
					}
					// Other customers of the same shop too (hot program account).
					if _, err := s.Post(ctx, earnTx(1, fmt.Sprintf("other:%d:%d", w, i), cust(fmt.Sprintf("o%d", w)), "1.00")); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					earned = earned.Add(dec("1.00"))
					mu.Unlock()
				}
				h, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: c, Amount: dec("3.00"), ExpiresAt: time.Now().Add(time.Hour)})
				if core.ErrorCode(err) == core.EINSUFFICIENT {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if i%2 == 0 {
					if _, err := holdsOf(s).Capture(ctx, 1, h.ID, dec("1.50"), core.Reason{OrderID: fmt.Sprintf("%d-%d", w, i)}); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					captured = captured.Add(dec("1.50"))
					mu.Unlock()
				} else if _, err := holdsOf(s).Void(ctx, 1, h.ID, core.Reason{}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := dec("50.00").Add(earned).Sub(captured)
	b, err := s.Balance(ctx, 1, "EUR", c)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Available.Equal(want) || !b.Held.IsZero() {
		t.Fatalf("hot customer: available %s held %s, want %s held 0", b.Available, b.Held, want)
	}
	if captured.IsZero() {
		t.Fatal("no capture happened; the test exercised nothing")
	}
	r := mustAuditClean(t, pool) // includes: no entry ever below zero
	if r.Holds == 0 {
		t.Fatal("no holds recorded")
	}
}

// TestGroupCommitDuplicatesInBatch posts the same keys concurrently so that
// duplicates land in one batch; each key is stored once.
func TestGroupCommitDuplicatesInBatch(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	const n = 200
	results := make([]core.Transaction, 2*n)
	errs := make([]error, 2*n)
	for i := 0; i < 2*n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			k := i % n
			results[i], errs[i] = s.Post(ctx, earnTx(3, fmt.Sprintf("k%d", k), cust(fmt.Sprintf("c%d", k%17)), "1.25"))
		}(i)
	}
	wg.Wait()
	ids := map[int64]int{}
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("post %d: %v", i, errs[i])
		}
		ids[results[i].ID]++
	}
	if len(ids) != n {
		t.Fatalf("%d distinct transactions, want %d", len(ids), n)
	}
	for id, c := range ids {
		if c != 2 {
			t.Fatalf("transaction %d returned %d times, want 2", id, c)
		}
	}
	r := mustAuditClean(t, pool)
	if r.Transactions != n {
		t.Fatalf("audit counts %d transactions, want %d", r.Transactions, n)
	}
}
