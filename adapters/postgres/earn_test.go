package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

type earnEnv struct {
	pool   *pgxpool.Pool
	ledger *postgres.LedgerStore
	shops  *postgres.ShopStore
	dir    *postgres.Directory
	earner *core.Earner
	shop   core.Shop
}

func newEarnEnv(t *testing.T) *earnEnv {
	t.Helper()
	l, pool := newStore(t)
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	box, err := secretbox.New(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &earnEnv{pool: pool, ledger: l, shops: postgres.NewShopStore(pool, box), dir: postgres.NewDirectory(pool)}
	e.earner = &core.Earner{Orders: postgres.OrderStore{L: l}, Directory: e.dir, Ledger: l, Redeemer: &core.Redeemer{Ledger: l}}
	e.shop, err = e.shops.CreateShop(context.Background(), core.Shop{Platform: core.PlatformShopify, Domain: "demo.myshopify.com", Currency: "EUR",
		Settings: core.ShopSettings{PartnerLevels: 2}, Secrets: core.ShopSecrets{CustomerKey: "k"}}, "admintoken")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range []core.Rule{
		{Target: core.TargetDefault, Mode: core.ModePercent, Value: dec("5")},
		{Target: core.TargetSKU, TargetID: "SHIRT", Mode: core.ModeFixed, Value: dec("2.50")},
		{Target: core.TargetProduct, TargetID: "99", Mode: core.ModeExclude},
		{Target: core.TargetDefault, Beneficiary: "partner1", Mode: core.ModePercent, Value: dec("2")},
		{Target: core.TargetDefault, Beneficiary: "partner2", Mode: core.ModePercent, Value: dec("1")},
	} {
		if _, err := e.dir.PutRule(ctx, e.shop.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.dir.UpsertPartner(ctx, e.shop.ID, core.Partner{ID: "p-top"}); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.UpsertPartner(ctx, e.shop.ID, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-top"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// useBatcher makes the earner apply orders through a batching order store.
func (e *earnEnv) useBatcher(t *testing.T, committers, maxBatch int) {
	b := postgres.NewOrderBatcher(e.ledger, committers, maxBatch)
	t.Cleanup(b.Close)
	e.earner.Orders = postgres.OrderStore{L: e.ledger, Batcher: b}
}

// seed gives o amount of available credit (an adjustment).
func (e *earnEnv) seed(t *testing.T, o core.Owner, amount string) {
	t.Helper()
	seed := core.Transaction{ShopID: e.shop.ID, Key: "seed:" + o.ID, Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "seed"}, Postings: []core.Posting{
		{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: dec(amount).Neg()},
		{Currency: "EUR", Owner: o, Bucket: core.BucketAvailable, Amount: dec(amount)}}}
	if _, err := e.ledger.Post(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
}

func order(updated time.Time, paid, cancelled bool, refunds ...core.Refund) core.Order {
	return core.Order{Platform: core.PlatformShopify, OrderID: "5001", OrderNumber: "#1001", Currency: "EUR", Paid: paid, Cancelled: cancelled,
		Customer: core.CustomerRef{PlatformID: "77", Email: "Buyer@Example.com"}, PartnerRef: "ANNA", UpdatedAt: updated,
		Lines: []core.OrderLine{
			{LineID: "1", ProductID: "10", SKU: "SHIRT", Title: "Shirt", Quantity: 3, NetTotal: dec("60.00")},
			{LineID: "2", ProductID: "11", SKU: "MUG", Title: "Mug", Quantity: 2, NetTotal: dec("19.99")},
			{LineID: "3", ProductID: "99", SKU: "GIFT", Title: "Excluded", Quantity: 1, NetTotal: dec("50.00")},
		},
		Refunds: refunds}
}

func (e *earnEnv) balance(t *testing.T, o core.Owner) decimal.Decimal {
	t.Helper()
	b, err := e.ledger.Balance(context.Background(), e.shop.ID, "EUR", o)
	if err != nil {
		t.Fatal(err)
	}
	return b.Available.Add(b.Overdraft)
}

func TestEarnConvergesInAnyOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	refund := core.Refund{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}, {LineID: "2", Quantity: 1}}}
	snapshots := []core.Order{
		order(t0, false, false),                           // created, unpaid
		order(t0.Add(time.Minute), true, false),           // paid
		order(t0.Add(2*time.Minute), true, false, refund), // partial refund
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	p1 := core.Owner{Kind: core.OwnerPartner, ID: "p-1"}
	p2 := core.Owner{Kind: core.OwnerPartner, ID: "p-top"}
	// buyer: shirt 2.50 x 2 = 5.00; mug 5% of 9.995 x 1 = 0.49975 -> 0.50; total 5.50
	// partner1: 2% of 20 x 2 = 0.80 + 2% of 9.995 = 0.1999 -> 0.20; total 1.00
	// partner2: 1% of 20 x 2 = 0.40 + 1% of 9.995 = 0.09995 -> 0.10; total 0.50
	orders := [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 1, 0, 2}, {2, 2, 0}}
	for i, seq := range orders {
		e := newEarnEnv(t)
		for _, k := range seq {
			if _, err := e.earner.ApplyOrder(ctx, e.shop, snapshots[k], nil); err != nil {
				t.Fatalf("sequence %d: %v", i, err)
			}
		}
		for o, want := range map[core.Owner]string{buyer: "5.50", p1: "1.00", p2: "0.50"} {
			if got := e.balance(t, o); !got.Equal(dec(want)) {
				t.Errorf("sequence %v: %s has %s, want %s", seq, o, got, want)
			}
		}
		// Cancellation brings everything back to zero, even with a stale replay after it.
		if _, err := e.earner.ApplyOrder(ctx, e.shop, order(t0.Add(3*time.Minute), true, true), nil); err != nil {
			t.Fatal(err)
		}
		res, err := e.earner.ApplyOrder(ctx, e.shop, snapshots[1], nil)
		if err != nil || !res.Stale {
			t.Fatalf("stale replay: %v stale=%v", err, res.Stale)
		}
		for _, o := range []core.Owner{buyer, p1, p2} {
			if got := e.balance(t, o); !got.IsZero() {
				t.Errorf("sequence %v after cancel: %s has %s", seq, o, got)
			}
		}
		mustAuditClean(t, e.pool)
	}
}

func TestEarnFrozenRateAndRefundAfterRuleChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if _, err := e.earner.ApplyOrder(ctx, e.shop, order(t0, true, false), nil); err != nil {
		t.Fatal(err)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	// 2.50 x 3 + round(9.995 x 2 x 5%) = 7.50 + 1.00 = 8.50
	if got := e.balance(t, buyer); !got.Equal(dec("8.50")) {
		t.Fatalf("earned %s want 8.50", got)
	}
	// The merchant changes the shirt rule; a refund must reverse the old rate.
	if _, err := e.dir.PutRule(ctx, e.shop.ID, core.Rule{Target: core.TargetSKU, TargetID: "SHIRT", Mode: core.ModeFixed, Value: dec("10")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.earner.ApplyRefund(ctx, e.shop, "5001", core.Refund{RefundID: "r9", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.balance(t, buyer); !got.Equal(dec("6.00")) {
		t.Fatalf("after refund %s want 6.00", got)
	}
	// The customer spends it all, then the rest is refunded: overdraft, paid back by later earning.
	spend := core.Transaction{ShopID: e.shop.ID, Key: "spend", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "spend"}, Postings: []core.Posting{
		{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: dec("-6.00")},
		{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: dec("6.00")}}}
	if _, err := e.ledger.Post(ctx, spend); err != nil {
		t.Fatal(err)
	}
	if _, err := e.earner.ApplyRefund(ctx, e.shop, "5001", core.Refund{RefundID: "r10", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 2}, {LineID: "2", Quantity: 2}}}, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := e.ledger.Balance(ctx, e.shop.ID, "EUR", buyer)
	if !b.Available.IsZero() || !b.Overdraft.Equal(dec("-6.00")) {
		t.Fatalf("overdraft: %+v", b)
	}
	o2 := order(t0, true, false)
	o2.OrderID = "5002"
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o2, nil); err != nil { // earns 10 x 3 + 1.00 = 31.00
		t.Fatal(err)
	}
	b, _ = e.ledger.Balance(ctx, e.shop.ID, "EUR", buyer)
	if !b.Available.Equal(dec("25.00")) || !b.Overdraft.IsZero() {
		t.Fatalf("after settling overdraft: %+v", b)
	}
	r := mustAuditClean(t, e.pool)
	_ = r
}

func TestPendingCreditMatures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	e.shop.Settings.PendingDays = 14
	if err := e.shops.UpdateShop(ctx, e.shop); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if _, err := e.earner.ApplyOrder(ctx, e.shop, order(t0, true, false), nil); err != nil {
		t.Fatal(err)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	b, _ := e.ledger.Balance(ctx, e.shop.ID, "EUR", buyer)
	if !b.Pending.Equal(dec("8.50")) || !b.Available.IsZero() {
		t.Fatalf("pending: %+v", b)
	}
	// A refund during the holding period takes from pending.
	if _, err := e.earner.ApplyRefund(ctx, e.shop, "5001", core.Refund{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := e.ledger.MaturePending(ctx, e.shop.ID, time.Now().Add(-time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("matured too early: %d %v", n, err)
	}
	n, err := e.ledger.MaturePending(ctx, e.shop.ID, time.Now().Add(time.Hour), 100)
	if err != nil || n == 0 {
		t.Fatalf("mature: %d %v", n, err)
	}
	if again, _ := e.ledger.MaturePending(ctx, e.shop.ID, time.Now().Add(time.Hour), 100); again != 0 {
		t.Fatalf("matured twice: %d", again)
	}
	b, _ = e.ledger.Balance(ctx, e.shop.ID, "EUR", buyer)
	if !b.Pending.IsZero() || !b.Available.Equal(dec("6.00")) {
		t.Fatalf("after maturing: %+v", b)
	}
	mustAuditClean(t, e.pool)
}

func TestInboxPrunesOldPayloadsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, 4)
	in := postgres.NewInbox(pool)
	t.Cleanup(in.Close)
	var ids []int64
	for i, st := range []core.InboxStatus{core.InboxProcessed, core.InboxDead, core.InboxReceived} {
		e, _, err := in.Insert(ctx, core.InboxEvent{ShopID: 1, Platform: core.PlatformShopify, EventKey: fmt.Sprint("k", i), Topic: "orders/paid", Payload: []byte(`{"email":"x@example.com"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if st != core.InboxReceived {
			if err := in.Finish(ctx, 1, e.ID, st, ""); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, e.ID)
	}
	if n, err := in.PrunePayloads(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruned recent events: %d %v", n, err)
	}
	if n, err := in.PrunePayloads(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
	for i, id := range ids {
		e, err := in.Get(ctx, 1, id)
		if err != nil {
			t.Fatal(err)
		}
		if (len(e.Payload) == 0) != (i == 0) {
			t.Errorf("event %d (%s): payload %q", id, e.Status, e.Payload)
		}
	}
}

// TestRedemptionConvergesThroughCancelAndRestore: credit an order used
// without a hold is taken when paid, given back when cancelled, taken again
// when the order is restored (WooCommerce), and replays change nothing.
func TestRedemptionConvergesThroughCancelAndRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	e.seed(t, buyer, "20")
	// An order with only an excluded line (earns nothing) that used 12.00 of credit.
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	snap := func(at time.Time, paid, cancelled bool) core.Order {
		return core.Order{Platform: core.PlatformWooCommerce, OrderID: "7001", OrderNumber: "7001", Currency: "EUR", Paid: paid, Cancelled: cancelled,
			Customer: core.CustomerRef{PlatformID: "77"}, UpdatedAt: at,
			Lines:       []core.OrderLine{{LineID: "1", ProductID: "99", Quantity: 1, NetTotal: dec("30.00")}},
			Redemptions: []core.Redemption{{Kind: core.RedemptionDiscount, Code: "cb-x", Amount: dec("12.00")}}}
	}
	steps := []struct {
		name  string
		order core.Order
		avail string
	}{
		{"pending payment", snap(t0, false, false), "20.00"},
		{"paid", snap(t0.Add(time.Minute), true, false), "8.00"},
		{"paid again (replay)", snap(t0.Add(time.Minute), true, false), "8.00"},
		{"cancelled", snap(t0.Add(2*time.Minute), false, true), "20.00"},
		{"stale paid snapshot after the cancel", snap(t0.Add(time.Minute), true, false), "20.00"},
		{"restored", snap(t0.Add(3*time.Minute), true, false), "8.00"},
		{"restored (replay)", snap(t0.Add(3*time.Minute), true, false), "8.00"},
	}
	for _, st := range steps {
		if _, err := e.earner.ApplyOrder(ctx, e.shop, st.order, nil); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := e.balance(t, buyer); !got.Equal(dec(st.avail)) {
			t.Fatalf("%s: available %s, want %s", st.name, got, st.avail)
		}
	}
	mustAuditClean(t, e.pool)
}

// TestCancelledRedemptionRepaysOverdraftFirst: credit used beyond the
// balance became an overdraft; cancelling the order clears the overdraft
// instead of handing spendable credit back.
func TestCancelledRedemptionRepaysOverdraftFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	e.seed(t, buyer, "3")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	o := core.Order{Platform: core.PlatformWooCommerce, OrderID: "7002", Currency: "EUR", Paid: true, Customer: core.CustomerRef{PlatformID: "77"}, UpdatedAt: t0,
		Lines:       []core.OrderLine{{LineID: "1", ProductID: "99", Quantity: 1, NetTotal: dec("30.00")}},
		Redemptions: []core.Redemption{{Kind: core.RedemptionDiscount, Amount: dec("8.00")}}}
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := e.ledger.Balance(ctx, e.shop.ID, "EUR", buyer)
	if !b.Available.IsZero() || !b.Overdraft.Equal(dec("-5")) {
		t.Fatalf("after use: %+v", b)
	}
	o.Cancelled, o.Paid, o.UpdatedAt = true, false, t0.Add(time.Minute)
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	b, _ = e.ledger.Balance(ctx, e.shop.ID, "EUR", buyer)
	if !b.Available.Equal(dec("3")) || !b.Overdraft.IsZero() {
		t.Fatalf("after cancel: available %s overdraft %s, want 3.00 and 0", b.Available, b.Overdraft)
	}
	mustAuditClean(t, e.pool)
}

// TestOrderBatcherGroupCommitsAndIsolatesFailures applies many orders
// concurrently through the group-committing order store; one order that
// fails does not fail its batch neighbours, and the books are exact.
func TestOrderBatcherGroupCommitsAndIsolatesFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	e.useBatcher(t, 2, 16)
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	const n = 60
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o := order(t0, true, false)
			o.OrderID = fmt.Sprint(9000 + i)
			o.PartnerRef = ""
			if i == 7 {
				o.Currency = "XXX" // no such currency: this order must fail alone
			}
			_, errs[i] = e.earner.ApplyOrder(ctx, e.shop, o, nil)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 7) {
			t.Fatalf("order %d: err=%v", i, err)
		}
	}
	// each good order earns 8.50 for customer 77 (see TestEarnFrozenRateAndRefundAfterRuleChange)
	if got := e.balance(t, core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}); !got.Equal(dec("8.50").Mul(decimal.NewFromInt(n - 1))) {
		t.Fatalf("balance %s, want %s", got, dec("8.50").Mul(decimal.NewFromInt(n-1)))
	}
	mustAuditClean(t, e.pool)
}

// TestOrderBatcherAfterClose: an order handed over after Close (a task
// still finishing at shutdown) is applied on its own instead of panicking.
func TestOrderBatcherAfterClose(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	b := postgres.NewOrderBatcher(e.ledger, 1, 8)
	b.Close()
	b.Close() // idempotent
	e.earner.Orders = postgres.OrderStore{L: e.ledger, Batcher: b}
	if _, err := e.earner.ApplyOrder(context.Background(), e.shop, order(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), true, false), nil); err != nil {
		t.Fatal(err)
	}
	if got := e.balance(t, core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}); !got.Equal(dec("8.50")) {
		t.Fatalf("balance %s", got)
	}
}

// TestOrderBatcherMixedWorkConverges sends paid snapshots, their
// duplicates, later cancellations and orders that used credit, all at once
// and in no particular order, through the batching order store: orders
// sharing a batch have their credits posted together, reads in the middle
// of a batch (a redemption's hold lookup and funds) see earlier writes, two
// events of one order never share a batch, and every order converges.
func TestOrderBatcherMixedWorkConverges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	e.useBatcher(t, 2, 16)
	var biggest atomic.Int64
	e.ledger.OnCommit = func(n int) {
		for cur := biggest.Load(); int64(n) > cur && !biggest.CompareAndSwap(cur, int64(n)); cur = biggest.Load() {
		}
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	e.seed(t, buyer, "100")
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	const n = 40
	type event struct {
		i int
		o core.Order
	}
	var events []event
	for i := 0; i < n; i++ {
		o := order(t0, true, false)
		o.OrderID = fmt.Sprint(8000 + i)
		o.PartnerRef = ""
		if i%4 == 1 {
			o.Redemptions = []core.Redemption{{Kind: core.RedemptionDiscount, Amount: dec("2.00")}}
		}
		events = append(events, event{i, o}, event{i, o}) // and a duplicate delivery
		if i%2 == 0 {
			c := o
			c.Paid, c.Cancelled, c.UpdatedAt = false, true, t0.Add(time.Minute)
			events = append(events, event{i, c})
		}
	}
	posted := make([]int, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(events))
	for k := range events {
		ev := events[(k*7)%len(events)] // a fixed shuffle (7 is coprime with 100)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.earner.ApplyOrder(ctx, e.shop, ev.o, nil)
			if err != nil {
				errs <- fmt.Errorf("order %s: %w", ev.o.OrderID, err)
				return
			}
			mu.Lock()
			for _, tx := range res.Posted {
				if tx.Reason.Kind == core.ReasonEarn && tx.ID > 0 {
					posted[ev.i]++
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if biggest.Load() < 2 {
		t.Fatalf("no batch held more than one order (largest %d): the test did not exercise batching", biggest.Load())
	}
	// 20 paid orders earn 8.50 each; 10 of them used 2.00 of credit.
	if got := e.balance(t, buyer); !got.Equal(dec("250.00")) {
		t.Fatalf("available %s, want 250.00", got)
	}
	for i := 1; i < n; i += 2 {
		var earns int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM ledger_transactions WHERE shop_id = $1 AND order_id = $2 AND kind = 'earn'`,
			e.shop.ID, fmt.Sprint(8000+i)).Scan(&earns); err != nil {
			t.Fatal(err)
		}
		if earns == 0 || posted[i] != earns {
			t.Fatalf("order %d: %d earn transactions reported as posted, %d in the ledger", 8000+i, posted[i], earns)
		}
	}
	mustAuditClean(t, e.pool)
}

// TestInboxGetMany loads several deliveries in one query; unknown ones
// are left out.
func TestInboxGetMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	in := postgres.NewInbox(e.pool)
	t.Cleanup(in.Close)
	var refs []core.EventRef
	for i := 0; i < 3; i++ {
		ev, _, err := in.Insert(ctx, core.InboxEvent{ShopID: e.shop.ID, Platform: core.PlatformShopify, EventKey: fmt.Sprint("many-", i), Topic: "orders/paid", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, core.EventRef{ShopID: ev.ShopID, ID: ev.ID})
	}
	got, err := in.GetMany(ctx, append(refs, core.EventRef{ShopID: e.shop.ID, ID: 987654321}))
	if err != nil || len(got) != 3 {
		t.Fatalf("GetMany: %v, %d events, want 3", err, len(got))
	}
	for _, ev := range got {
		if ev.Topic != "orders/paid" || string(ev.Payload) != "{}" || ev.Status != core.InboxReceived {
			t.Fatalf("event %+v", ev)
		}
	}
}

type fakeBatches struct {
	mu    sync.Mutex
	calls [][]core.EventRef
	err   error
}

func (f *fakeBatches) EnqueueMany(_ context.Context, evs []core.EventRef) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, evs)
	return f.err
}

// TestInboxEnqueuesGroups: the events one group commit stores are handed
// to the batch enqueuer together and reported as enqueued; when that
// fails they are reported as not enqueued (the caller enqueues each), and
// a duplicate delivery is never enqueued again.
func TestInboxEnqueuesGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, failing := range []bool{false, true} {
		e := newEarnEnv(t)
		in := postgres.NewInbox(e.pool)
		t.Cleanup(in.Close)
		fb := &fakeBatches{}
		if failing {
			fb.err = fmt.Errorf("redis is down")
		}
		in.EnqueueBatches(fb)
		const n = 40
		var wg sync.WaitGroup
		res := make([]core.InboxEvent, 2*n)
		dups := make([]bool, 2*n)
		for i := 0; i < 2*n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				ev, dup, err := in.Insert(ctx, core.InboxEvent{ShopID: e.shop.ID, Platform: core.PlatformShopify, EventKey: fmt.Sprint("grp-", i%n), Topic: "orders/paid", Payload: []byte(`{}`)})
				if err != nil {
					t.Error(err)
				}
				res[i], dups[i] = ev, dup
			}(i)
		}
		wg.Wait()
		handed := map[int64]int{}
		for _, c := range fb.calls {
			for _, r := range c {
				handed[r.ID]++
			}
		}
		enqueued := 0
		for i, ev := range res {
			if ev.Enqueued {
				enqueued++
				if failing || dups[i] || handed[ev.ID] != 1 {
					t.Fatalf("failing=%v: event %d reported enqueued (duplicate %v, handed over %d times)", failing, ev.ID, dups[i], handed[ev.ID])
				}
			}
		}
		for id, k := range handed {
			if k != 1 {
				t.Fatalf("event %d handed to the enqueuer %d times", id, k)
			}
		}
		if !failing && (len(fb.calls) == 0 || enqueued == 0) {
			t.Fatalf("no group was enqueued (%d calls)", len(fb.calls))
		}
	}
}
