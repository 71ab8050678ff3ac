package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitForBudget(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var slept []time.Duration
	c := NewClient("s.myshopify.com", "t", "",
		WithNowFunc(func() time.Time { return now }),
		WithSleepFunc(func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }))
	ctx := context.Background()
	// Unknown bucket: no wait.
	if err := c.waitForBudget(ctx, ShopQuery); err != nil || len(slept) != 0 {
		t.Fatalf("unknown bucket: slept %v err %v", slept, err)
	}
	c.observe(ShopQuery, Cost{RequestedQueryCost: 40, ThrottleStatus: ThrottleStatus{MaximumAvailable: 1000, CurrentlyAvailable: 10, RestoreRate: 50}})
	// 10 available, 40 needed, 50/s → 0.6 s.
	if err := c.waitForBudget(ctx, ShopQuery); err != nil || len(slept) != 1 || slept[0] != 600*time.Millisecond {
		t.Fatalf("slept %v, want [600ms]", slept)
	}
	// The first caller reserved its 40 points (bucket now -30), so a
	// concurrent second caller queues behind it: (40+30)/50 = 1.4 s.
	if err := c.waitForBudget(ctx, ShopQuery); err != nil || len(slept) != 2 || slept[1] != 1400*time.Millisecond {
		t.Fatalf("slept %v, want second wait 1.4s", slept)
	}
	// Time passes: the bucket refills, capped at the maximum.
	now = now.Add(time.Hour)
	if err := c.waitForBudget(ctx, ShopQuery); err != nil || len(slept) != 2 {
		t.Fatalf("slept %v after refill, want no new wait", slept)
	}
	if ts := c.Throttle(); ts.CurrentlyAvailable != 960 {
		t.Errorf("available after refill and reservation = %v, want 960", ts.CurrentlyAvailable)
	}
	// Unknown queries use the default estimate.
	if got := c.estimate("query { other }"); got != defaultCostEstimate {
		t.Errorf("estimate = %v", got)
	}
}

func TestPerRequestTimeout(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	c := NewClient("s.myshopify.com", "t", "", WithBaseURL(srv.URL), WithTimeout(50*time.Millisecond), WithBackoff(time.Millisecond))
	start := time.Now()
	_, err := c.Shop(context.Background())
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if n := calls.Load(); n != maxAttempts {
		t.Errorf("%d attempts, want %d (queries retry after timeouts)", n, maxAttempts)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	// A non-idempotent mutation is not repeated after a timeout.
	calls.Store(0)
	if _, err := c.CreateAutomaticCreditDiscount(context.Background(), "fn", "t"); err == nil {
		t.Fatal("want error")
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("mutation sent %d times, want 1", n)
	}
}

func TestCanceledContextStopsRetries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	c := NewClient("s.myshopify.com", "t", "", WithBaseURL(srv.URL), WithSleepFunc(func(ctx context.Context, d time.Duration) error {
		cancel()
		return context.Canceled
	}))
	if _, err := c.Shop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestIsMutation(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		MetafieldsSetMutation:           true,
		ShopQuery:                       false,
		"# comment\n  mutation X { a }": true,
		"{ shop { name } }":             false,
		"# mutation in a comment\nquery { shop { id } }": false,
	} {
		if got := isMutation(q); got != want {
			t.Errorf("isMutation(%q) = %t", q, got)
		}
	}
	if !idempotentQuery(MetafieldsSetMutation) || idempotentQuery(DiscountCodeBasicCreateMutation) || idempotentQuery("mutation { x }") {
		t.Error("idempotentQuery misclassifies")
	}
}

func TestCheckUserErrors(t *testing.T) {
	t.Parallel()
	err := checkUserErrors([]byte(`{"a":{"userErrors":[]},"b":{"userErrors":[{"field":["x","y"],"code":"INVALID","message":"bad"}]}}`))
	var ue *UserErrors
	if !errors.As(err, &ue) || ue.Mutation != "b" || !strings.Contains(err.Error(), "x.y: bad") {
		t.Fatalf("err = %v", err)
	}
	if err := checkUserErrors([]byte(`{"shop":{"name":"x"},"n":null}`)); err != nil {
		t.Errorf("no user errors: %v", err)
	}
}
