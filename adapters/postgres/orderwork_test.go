package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
)

// TestOrderWorkMarksItsEvent: the inbox event named by OrderWork.Done is
// marked processed in the order's own transaction, alone and in a
// group-committed batch; work that fails leaves it received, and work
// without Done touches no event.
func TestOrderWorkMarksItsEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, batched := range []bool{false, true} {
		e := newEarnEnv(t)
		if batched {
			e.useBatcher(t, 2, 8)
		}
		in := postgres.NewInbox(e.pool)
		t.Cleanup(in.Close)
		insert := func(key string) core.EventRef {
			t.Helper()
			ev, _, err := in.Insert(ctx, core.InboxEvent{ShopID: e.shop.ID, Platform: core.PlatformShopify, EventKey: key, Topic: "orders/paid", Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			return core.EventRef{ShopID: ev.ShopID, ID: ev.ID}
		}
		status := func(r core.EventRef) core.InboxStatus {
			t.Helper()
			ev, err := in.Get(ctx, r.ShopID, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ev.Status
		}
		paid, failed, untouched := insert("paid"), insert("failed"), insert("untouched")
		res, err := e.earner.ApplyOrder(ctx, e.shop, order(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true, false), &paid)
		if err != nil || !res.Marked || len(res.Posted) == 0 {
			t.Fatalf("batched=%v: apply: %v, marked %v, %d posted", batched, err, res.Marked, len(res.Posted))
		}
		if st := status(paid); st != core.InboxProcessed {
			t.Fatalf("batched=%v: event of the applied order is %s, want processed", batched, st)
		}
		boom := errors.New("boom")
		err = e.earner.Orders.WithOrder(ctx, core.OrderWork{ShopID: e.shop.ID, OrderID: "5001", Done: &failed, Fn: func(tx core.OrderTx) error {
			if _, err := tx.State(ctx); err != nil {
				return err
			}
			return boom
		}})
		if !errors.Is(err, boom) {
			t.Fatalf("batched=%v: failing work: %v", batched, err)
		}
		if st := status(failed); st != core.InboxReceived {
			t.Fatalf("batched=%v: event of failed work is %s, want received", batched, st)
		}
		if _, err := e.earner.ApplyOrder(ctx, e.shop, order(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), true, false), nil); err != nil {
			t.Fatal(err)
		}
		if st := status(untouched); st != core.InboxReceived {
			t.Fatalf("batched=%v: work without Done changed an event to %s", batched, st)
		}
	}
}
