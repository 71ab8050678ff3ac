package cache

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestBoundedAndExpiring(t *testing.T) {
	t.Parallel()
	c := New[string, int](3, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	for i := range 10 {
		c.Set(strconv.Itoa(i), i)
	}
	if c.Len() != 3 {
		t.Fatalf("len %d, want the bound 3", c.Len())
	}
	if _, ok := c.Get("0"); ok {
		t.Fatal("the least recently used entry survived")
	}
	if v, ok := c.Get("9"); !ok || v != 9 {
		t.Fatalf("newest entry: %d %v", v, ok)
	}
	// Reading 7 makes 8 the least recently used.
	c.Get("7")
	c.Set("10", 10)
	if _, ok := c.Get("8"); ok {
		t.Fatal("LRU order not kept")
	}
	c.SetTTL("short", 1, time.Second)
	now = now.Add(2 * time.Second)
	if _, ok := c.Get("short"); ok {
		t.Fatal("an expired entry was returned")
	}
	if _, ok := c.Get("7"); !ok {
		t.Fatal("an entry expired before its TTL")
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get("7"); ok {
		t.Fatal("an entry outlived its TTL")
	}
	c.Set("a", 1)
	c.Delete("a")
	c.Set("b", 2)
	c.Clear()
	if c.Len() != 0 {
		t.Fatal("Clear left entries")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c := New[int, int](100, time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				c.Set(g*10000+i, i)
				c.Get(i)
			}
		}()
	}
	wg.Wait()
	if c.Len() > 100 {
		t.Fatalf("len %d above the bound", c.Len())
	}
}
