package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
)

// flakyHandler fails with a transient error while down is set.
type flakyHandler struct{ down atomic.Bool }

func (h *flakyHandler) Handle(context.Context, core.Shop, core.InboxEvent) (core.Outcome, error) {
	if h.down.Load() {
		return core.Outcome{}, errors.New("platform API: HTTP 503")
	}
	return core.Outcome{Status: core.InboxProcessed}, nil
}

// TestRetriedDeadLetterGetsAFreshBudget: a dead letter's reason said only
// "Internal error." instead of what kept failing, and a dead letter
// retried from the API kept its attempt count, so the first transient failure after the
// retry (a terminated database connection, the platform still flaky)
// dead-lettered it again at once instead of retrying it with backoff.
// The chaos run (cbbench chaos) retries the dead letters of a platform
// outage this way.
func TestRetriedDeadLetterGetsAFreshBudget(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	inbox := postgres.NewInbox(e.pool)
	ev, _, err := inbox.Insert(ctx, core.InboxEvent{ShopID: e.shop.ID, Platform: core.PlatformShopify, EventKey: "outage-1", Topic: "orders/paid", Payload: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	h := &flakyHandler{}
	h.down.Store(true)
	d := &core.Dispatcher{Inbox: inbox, Shops: e.shops, Handlers: map[core.Platform]core.EventHandler{core.PlatformShopify: h},
		Log: slog.New(slog.DiscardHandler), MaxAttempts: 3}
	status := func() core.InboxEvent {
		t.Helper()
		got, err := inbox.Get(ctx, e.shop.ID, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// The budget of 3: two failures are retried, the third dead-letters.
	for i := 1; i <= 2; i++ {
		if err := d.Process(ctx, e.shop.ID, ev.ID); !errors.Is(err, core.ErrRetry) {
			t.Fatalf("attempt %d: %v, want a retry", i, err)
		}
	}
	if got := status(); got.Status != core.InboxReceived || got.Attempts != 2 {
		t.Fatalf("after two failures: %s with %d attempts, want received with 2", got.Status, got.Attempts)
	}
	if err := d.Process(ctx, e.shop.ID, ev.ID); err != nil {
		t.Fatalf("third attempt: %v, want the dead letter recorded", err)
	}
	if got := status(); got.Status != core.InboxDead || got.LastError != "gave up after 3 attempts: platform API: HTTP 503" {
		t.Fatalf("after the budget: %s (%q), want dead with the failure that kept happening", got.Status, got.LastError)
	}
	retried, err := inbox.Retry(ctx, e.shop, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if retried.Status != core.InboxReceived || retried.Attempts != 0 || retried.LastError != "" {
		t.Fatalf("retried dead letter: %s, %d attempts, reason %q; want received with a fresh budget", retried.Status, retried.Attempts, retried.LastError)
	}
	// One more transient failure is retried, not dead-lettered again.
	if err := d.Process(ctx, e.shop.ID, ev.ID); !errors.Is(err, core.ErrRetry) {
		t.Fatalf("first failure after the retry: %v, want a retry", err)
	}
	if got := status(); got.Status != core.InboxReceived || got.Attempts != 1 {
		t.Fatalf("first failure after the retry: %s with %d attempts, want received with 1", got.Status, got.Attempts)
	}
	h.down.Store(false)
	if err := d.Process(ctx, e.shop.ID, ev.ID); err != nil {
		t.Fatal(err)
	}
	if got := status(); got.Status != core.InboxProcessed {
		t.Fatalf("after the platform came back: %s, want processed", got.Status)
	}
}
