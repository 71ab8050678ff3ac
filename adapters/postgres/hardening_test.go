package postgres_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/core"
)

// TestAuditFlagsCreditBeyondOrders: credit no order could have earned (a
// minted earn, an over-generous give-back) is an audit error, while the
// order's real earnings are not.
func TestAuditFlagsCreditBeyondOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if _, err := e.earner.ApplyOrder(ctx, e.shop, order(t0, true, false), nil); err != nil {
		t.Fatal(err)
	}
	clean := func() core.AuditReport {
		t.Helper()
		r, err := postgres.Audit(ctx, e.pool, e.shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := clean(); !r.OK() {
		t.Fatalf("a genuine order fails the audit:\n%s", r)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	// Line 1 (3 shirts at 2.50) can earn 7.50 at most.
	mint := core.Transaction{ShopID: e.shop.ID, Key: "order:5001:line:1:buyer:earn:v9", Reason: core.Reason{Kind: core.ReasonEarn, OrderID: "5001", LineID: "1", Beneficiary: "buyer"},
		Postings: []core.Posting{
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: dec("-1000000.00")},
			{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: dec("1000000.00")}}}
	if _, err := e.ledger.Post(ctx, mint); err != nil {
		t.Fatal(err)
	}
	r := clean()
	if r.OK() || !strings.Contains(r.String(), core.CheckEarnedBound) || !strings.Contains(r.String(), "order 5001 line 1 (buyer)") {
		t.Fatalf("a minted earn passes the audit:\n%s", r)
	}
	// A per-order earning whose lines do not add up to what it moved.
	skew := core.Transaction{ShopID: e.shop.ID, Key: "order:5001:buyer:earn:v9", Reason: core.Reason{Kind: core.ReasonEarn, OrderID: "5001", Beneficiary: "buyer",
		Lines: []core.ReasonLine{{LineID: "1", Amount: dec("0.10")}}},
		Postings: []core.Posting{
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: dec("-0.20")},
			{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: dec("0.20")}}}
	if _, err := e.ledger.Post(ctx, skew); err != nil {
		t.Fatal(err)
	}
	if r := clean(); !strings.Contains(r.String(), core.CheckEarnLines) || !strings.Contains(r.String(), "its lines add up to 0.1, its postings move 0.20 for 1 owner(s)") {
		t.Fatalf("an earning whose lines do not add up passes the audit:\n%s", r)
	}

	// Another shop's owner given back credit it never spent.
	e2 := newEarnEnv(t)
	if _, err := e2.earner.ApplyOrder(ctx, e2.shop, order(t0, true, false), nil); err != nil {
		t.Fatal(err)
	}
	back := core.Transaction{ShopID: e2.shop.ID, Key: "order:5001:redeem:v1", Reason: core.Reason{Kind: core.ReasonRedeemReversal, OrderID: "5001"},
		Postings: []core.Posting{
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: dec("-50.00")},
			{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: dec("50.00")}}}
	if _, err := e2.ledger.Post(ctx, back); err != nil {
		t.Fatal(err)
	}
	r2, err := postgres.Audit(ctx, e2.pool, e2.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r2.OK() || !strings.Contains(r2.String(), "customer:c:77 holds") {
		t.Fatalf("credit given back beyond what was earned passes the audit:\n%s", r2)
	}
}

// TestListShopsSkipsUnreadableShops: one shop sealed with another key
// made ListShops fail, and with it every periodic job for every shop.
func TestListShopsSkipsUnreadableShops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, pool := newStore(t)
	box := func() *secretbox.Box {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		b, err := secretbox.New(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wrong := postgres.NewShopStore(pool, box())
	right := postgres.NewShopStore(pool, box())
	if _, err := wrong.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://wrong.example", Currency: "EUR", Secrets: core.ShopSecrets{WebhookSecret: "a"}}, "tok-wrong-0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	good, err := right.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://right.example", Currency: "EUR", Secrets: core.ShopSecrets{WebhookSecret: "b"}}, "tok-right-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	var skipped []int64
	right.Unreadable = func(id int64, _ error) { skipped = append(skipped, id) }
	shops, err := right.ListShops(ctx, core.PlatformWooCommerce)
	if err != nil {
		t.Fatalf("ListShops failed for every shop because of one: %v", err)
	}
	if len(shops) != 1 || shops[0].ID != good.ID || len(skipped) != 1 {
		t.Fatalf("shops %+v, skipped %v: want only the readable shop and one skipped", shops, skipped)
	}
}

// timeoutHandler fails like a task that ran out of time.
type timeoutHandler struct{}

func (timeoutHandler) Handle(ctx context.Context, _ core.Shop, _ core.InboxEvent) (core.Outcome, error) {
	<-ctx.Done()
	return core.Outcome{}, ctx.Err()
}

// TestTimedOutAttemptCounts: an attempt that ran out of time was not
// counted (the inbox update used the expired context), so such an event
// was retried for ever instead of becoming a dead letter.
func TestTimedOutAttemptCounts(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	inbox := postgres.NewInbox(e.pool)
	t.Cleanup(inbox.Close)
	ev, _, err := inbox.Insert(context.Background(), core.InboxEvent{ShopID: e.shop.ID, Platform: core.PlatformShopify, EventKey: "slow-1", Topic: "orders/paid", Payload: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	d := &core.Dispatcher{Inbox: inbox, Shops: e.shops, Handlers: map[core.Platform]core.EventHandler{core.PlatformShopify: timeoutHandler{}},
		Log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := d.Process(ctx, e.shop.ID, ev.ID); err == nil {
		t.Fatal("a timed-out attempt reported success")
	}
	got, err := inbox.Get(context.Background(), e.shop.ID, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 1 || got.LastError == "" {
		t.Fatalf("after a timed-out attempt: attempts %d, last error %q; want 1 and the reason", got.Attempts, got.LastError)
	}
}
