// Package cache is the one in-memory cache of creditbridge: a bounded,
// least-recently-used map whose entries expire after a TTL. The stores
// (shops, rules, known customers) and the HTTP layer's shop look-ups,
// negative answers included, use it, so no cache grows with what clients
// send.
//
// A small hand-written cache rather than github.com/hashicorp/golang-lru/v2
// expirable: that one starts a cleanup goroutine per cache that can never
// be stopped (its Close is commented out in v2.0.7), which leaks one
// goroutine per server built in tests. Expired entries here are dropped
// when they are read or evicted; capacity bounds the memory either way.
package cache

import (
	"container/list"
	"sync"
	"time"
)

// Cache is a bounded LRU cache with a per-entry TTL. It is safe for
// concurrent use. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	ll    *list.List // front = most recently used
	items map[K]*list.Element
	now   func() time.Time
}

type entry[K comparable, V any] struct {
	key K
	val V
	exp time.Time
}

// New returns a cache of at most max entries (at least 1), each kept for
// ttl after it was stored.
func New[K comparable, V any](max int, ttl time.Duration) *Cache[K, V] {
	if max < 1 {
		max = 1
	}
	return &Cache[K, V]{max: max, ttl: ttl, ll: list.New(), items: make(map[K]*list.Element), now: time.Now}
}

// Get returns the value stored for k if it has not expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[K, V])
	if !c.now().Before(e.exp) {
		c.ll.Remove(el)
		delete(c.items, k)
		return zero, false
	}
	c.ll.MoveToFront(el)
	return e.val, true
}

// Set stores v for k with the cache's TTL.
func (c *Cache[K, V]) Set(k K, v V) { c.SetTTL(k, v, c.ttl) }

// SetTTL stores v for k for ttl (negative answers may live shorter).
func (c *Cache[K, V]) SetTTL(k K, v V, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(ttl)
	if el, ok := c.items[k]; ok {
		e := el.Value.(*entry[K, V])
		e.val, e.exp = v, exp
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(&entry[K, V]{key: k, val: v, exp: exp})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*entry[K, V]).key)
	}
}

// Delete drops k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.Remove(el)
		delete(c.items, k)
	}
}

// Clear drops everything.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
}

// Len is the number of entries held (expired ones included until they
// are read or evicted).
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
