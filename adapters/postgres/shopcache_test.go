package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
)

// TestShopCache: the worker's shop cache answers from memory within its
// TTL, drops an entry on an update made through it, and reloads after the
// TTL a change made elsewhere.
func TestShopCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	c := postgres.NewShopCache(e.shops, time.Hour)
	s1, err := c.ShopByID(ctx, e.shop.ID)
	if err != nil || s1.ID != e.shop.ID {
		t.Fatalf("%v %+v", err, s1)
	}
	// Changed elsewhere (another process: its own store on the same
	// database): the cache keeps its copy within the TTL.
	elsewhere := postgres.NewShopStore(e.pool, nil)
	other := e.shop
	other.Settings.PendingDays = 9
	if err := elsewhere.UpdateSettings(ctx, other); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.ShopByID(ctx, e.shop.ID); s.Settings.PendingDays != s1.Settings.PendingDays {
		t.Fatalf("within the TTL: pending days %d, want the cached %d", s.Settings.PendingDays, s1.Settings.PendingDays)
	}
	// Changed in this process through the store the cache wraps (the
	// worker's app/uninstalled, settings saved through the API): seen at once.
	other.Settings.PendingDays = 10
	if err := e.shops.UpdateSettings(ctx, other); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.ShopByID(ctx, e.shop.ID); s.Settings.PendingDays != 10 {
		t.Fatalf("after an update through the wrapped store: pending days %d, want 10", s.Settings.PendingDays)
	}
	// Changed through the cache: seen at once.
	other.Settings.PendingDays = 11
	if err := c.UpdateSettings(ctx, other); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.ShopByID(ctx, e.shop.ID); s.Settings.PendingDays != 11 {
		t.Fatalf("after an update through the cache: pending days %d, want 11", s.Settings.PendingDays)
	}
	// A short TTL reloads a change made elsewhere.
	c = postgres.NewShopCache(e.shops, time.Millisecond)
	_, _ = c.ShopByID(ctx, e.shop.ID)
	other.Settings.PendingDays = 12
	if err := elsewhere.UpdateSettings(ctx, other); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if s, _ := c.ShopByID(ctx, e.shop.ID); s.Settings.PendingDays != 12 {
		t.Fatalf("after the TTL: pending days %d, want 12", s.Settings.PendingDays)
	}
	if _, err := c.ShopByID(ctx, 987654); err == nil {
		t.Fatal("unknown shop: want an error")
	}
}
