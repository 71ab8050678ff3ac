package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

// recordingEnqueuer stands in for asynq here: the poller's contract is
// "store in the inbox, then hand over"; asynq itself is exercised by the
// end-to-end tests in adapters/httpapi.
type recordingEnqueuer struct {
	mu  sync.Mutex
	ids []int64
}

func (r *recordingEnqueuer) Enqueue(_ context.Context, _ int64, id int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

func wooOrder(id int, modified time.Time, status string) map[string]any {
	return map[string]any{
		"id": id, "number": fmt.Sprint(id), "status": status, "currency": "EUR", "prices_include_tax": false,
		"date_created_gmt": modified.Add(-time.Hour).UTC().Format("2006-01-02T15:04:05"), "date_modified_gmt": modified.UTC().Format("2006-01-02T15:04:05"),
		"customer_id": 5, "billing": map[string]any{"email": "buyer@example.com"}, "meta_data": []any{},
		"line_items":   []any{map[string]any{"id": id * 10, "name": "Tea", "product_id": 3, "variation_id": 0, "quantity": 1, "total": "10.00", "sku": "TEA", "meta_data": []any{}, "price": 10}},
		"coupon_lines": []any{}, "refunds": []any{},
	}
}

func TestPollerFeedsMissedOrdersOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, 4)
	inbox := postgres.NewInbox(pool)
	t.Cleanup(inbox.Close)
	wc := wcfake.New(t, "ck_test", "cs_test")
	client, err := woocommerce.NewClient(wc.URL, "ck_test", "cs_test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	wc.PutOrderObject(wooOrder(101, now.Add(-10*time.Minute), "processing"))
	wc.PutOrderObject(wooOrder(102, now.Add(-5*time.Minute), "completed"))
	enq := &recordingEnqueuer{}
	p := &jobs.Poller{Store: inbox, Enqueuer: enq, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), EventKey: httpapi.WooEventKey}
	sealKey := make([]byte, 32)
	_, _ = rand.Read(sealKey)
	box, err := secretbox.New(sealKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	shop, err := postgres.NewShopStore(pool, box).CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: wc.URL, Currency: "EUR"}, "")
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Poll(ctx, shop, client, woocommerce.TopicPolled)
	if err != nil || n != 2 || len(enq.ids) != 2 {
		t.Fatalf("first poll: n=%d enqueued=%d err=%v", n, len(enq.ids), err)
	}
	cursor, _ := inbox.Cursor(ctx, shop.ID, "woocommerce.orders")
	if !cursor.Equal(now.Add(-5 * time.Minute)) {
		t.Fatalf("cursor %s, want the newest modification %s", cursor, now.Add(-5*time.Minute))
	}
	// Nothing new: the overlap re-reads the newest order, the inbox keeps it once.
	if n, err := p.Poll(ctx, shop, client, woocommerce.TopicPolled); err != nil || n != 0 {
		t.Fatalf("second poll: n=%d err=%v", n, err)
	}
	// An order changes: a new state is a new event; a webhook that already
	// delivered the same state (same event key) is not stored twice.
	changed := wooOrder(101, now.Add(time.Minute), "cancelled")
	wc.PutOrderObject(changed)
	key, _, err := httpapi.WooEventKey([]byte(fmt.Sprintf(`{"id":101,"date_modified_gmt":%q}`, now.Add(time.Minute).Format("2006-01-02T15:04:05"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, dup, err := inbox.Insert(ctx, core.InboxEvent{ShopID: shop.ID, Platform: core.PlatformWooCommerce, EventKey: key, Topic: "order.updated", Payload: []byte(`{}`)}); err != nil || dup {
		t.Fatalf("webhook insert: dup=%v err=%v", dup, err)
	}
	if n, err := p.Poll(ctx, shop, client, woocommerce.TopicPolled); err != nil || n != 0 {
		t.Fatalf("poll after webhook: n=%d err=%v (the webhook already stored this state)", n, err)
	}
	wc.PutOrderObject(wooOrder(103, now.Add(2*time.Minute), "processing"))
	if n, err := p.Poll(ctx, shop, client, woocommerce.TopicPolled); err != nil || n != 1 {
		t.Fatalf("poll new order: n=%d err=%v", n, err)
	}
}

func TestHoldExpirerVoidsExpiredHoldsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, 4)
	ledger := postgres.NewLedgerStore(pool, 1)
	t.Cleanup(ledger.Close)
	owner := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	var b [8]byte
	_, _ = rand.Read(b[:])
	if _, err := ledger.Post(ctx, core.Transaction{ShopID: 1, Key: "seed-" + hex.EncodeToString(b[:]), Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "test", Note: "seed"},
		Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: decimal.RequireFromString("-10")},
			{Currency: "EUR", Owner: owner, Bucket: core.BucketAvailable, Amount: decimal.RequireFromString("10")}}}); err != nil {
		t.Fatal(err)
	}
	old, err := (&core.Holds{Store: ledger}).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: owner, Amount: decimal.RequireFromString("4"), ExpiresAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	live, err := (&core.Holds{Store: ledger}).Place(ctx, core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: owner, Amount: decimal.RequireFromString("3"), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	x := &jobs.HoldExpirer{Holds: &core.Holds{Store: ledger}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if n, err := x.Expire(ctx); err != nil || n != 1 {
		t.Fatalf("expire: n=%d err=%v", n, err)
	}
	if n, err := x.Expire(ctx); err != nil || n != 0 {
		t.Fatalf("second expire: n=%d err=%v", n, err)
	}
	h, _ := ledger.GetHold(ctx, 1, old.ID)
	l, _ := ledger.GetHold(ctx, 1, live.ID)
	if h.Status != core.HoldExpired || l.Status != core.HoldOpen {
		t.Fatalf("statuses: expired hold %s, live hold %s", h.Status, l.Status)
	}
	bal, _ := ledger.Balance(ctx, 1, "EUR", owner)
	if !bal.Available.Equal(decimal.RequireFromString("7")) || !bal.Held.Equal(decimal.RequireFromString("3")) {
		t.Fatalf("balance %+v", bal)
	}
	r, err := postgres.Audit(ctx, pool, 1)
	if err != nil || !r.OK() {
		t.Fatalf("audit: %v\n%s", err, r)
	}
}

// TestSweeperPagesThroughBacklog: after a Redis loss with more waiting
// events than one page, one sweep re-enqueues each of them once (it read
// the first page again and again before).
func TestSweeperPagesThroughBacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, 4)
	in := postgres.NewInbox(pool)
	t.Cleanup(in.Close)
	const n = 1234
	if _, err := pool.Exec(ctx, `INSERT INTO inbox (shop_id, platform, event_key, topic, payload, received_at)
SELECT 1, 'shopify', 'ev-' || g, 'orders/paid', '\x7b7d'::bytea, now() - interval '1 hour' + (g % 7) * interval '1 second' FROM generate_series(1, $1) g`, n); err != nil {
		t.Fatal(err)
	}
	rec := &recordingEnqueuer{}
	sw := &jobs.Sweeper{Inbox: in, Enqueuer: rec, After: time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	got, err := sw.Sweep(ctx)
	if err != nil || got != n {
		t.Fatalf("sweep: %d, %v; want %d", got, err, n)
	}
	seen := map[int64]bool{}
	for _, id := range rec.ids {
		if seen[id] {
			t.Fatalf("event %d re-enqueued twice in one sweep", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct events re-enqueued, want %d", len(seen), n)
	}
}
