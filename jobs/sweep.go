package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// UnprocessedLister lists inbox rows still waiting, in arrival order
// after a cursor.
type UnprocessedLister interface {
	Unprocessed(ctx context.Context, olderThan time.Time, after core.InboxCursor, limit int) ([]core.InboxEvent, error)
}

// maxSweep is how many events one sweep re-enqueues at most (the rest
// wait for the next sweep).
const maxSweep = 20000

// Sweeper re-enqueues inbox rows that stayed unprocessed (a Redis restart
// or flush, a crash between insert and enqueue), so nothing is lost.
type Sweeper struct {
	Inbox    UnprocessedLister
	Enqueuer core.Enqueuer
	After    time.Duration
	Log      *slog.Logger
}

// Sweep re-enqueues what it finds and returns how many.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	n := 0
	var cur core.InboxCursor
	older := time.Now().Add(-s.After)
	for {
		evs, err := s.Inbox.Unprocessed(ctx, older, cur, 500)
		if err != nil {
			return n, err
		}
		for _, e := range evs {
			if err := s.Enqueuer.Enqueue(ctx, e.ShopID, e.ID); err != nil {
				return n, fmt.Errorf("jobs: re-enqueue %d/%d: %w", e.ShopID, e.ID, err)
			}
			n++
			cur = core.InboxCursor{ReceivedAt: e.ReceivedAt, ShopID: e.ShopID, ID: e.ID}
		}
		if len(evs) < 500 || n >= maxSweep {
			if n > 0 {
				s.Log.Info("sweeper re-enqueued unprocessed events", slog.Int("count", n))
			}
			return n, nil
		}
	}
}

// HoldExpirer is the periodic job that expires abandoned checkout holds
// (core.Holds.Expire), 1000 per run.
type HoldExpirer struct {
	Holds *core.Holds
	Log   *slog.Logger
}

// Expire expires the holds whose expiry passed and returns how many.
func (h *HoldExpirer) Expire(ctx context.Context) (int, error) {
	n, err := h.Holds.Expire(ctx, time.Now(), 1000)
	if err != nil {
		return n, err
	}
	if n > 0 {
		h.Log.Info("expired holds voided", slog.Int("count", n))
	}
	return n, nil
}

// OrderLister lists WooCommerce orders modified after a time.
type OrderLister interface {
	ListOrdersModifiedAfter(ctx context.Context, after time.Time, page, perPage int) ([]json.RawMessage, int, error)
}

// PollStore keeps poller cursors and stores polled orders in the inbox.
type PollStore interface {
	core.InboxStore
	Cursor(ctx context.Context, shopID int64, name string) (time.Time, error)
	SetCursor(ctx context.Context, shopID int64, name string, at time.Time) error
}

// Poller backs WooCommerce webhooks, which are never retried: it lists
// orders modified since its cursor and feeds them through the same inbox,
// where the unique event key (order id + modification time) drops the ones
// a webhook already delivered.
type Poller struct {
	Store    PollStore
	Enqueuer core.Enqueuer
	Log      *slog.Logger
	// EventKey derives the inbox key and modification time of an order.
	EventKey func(body []byte) (key string, modified time.Time, err error)
}

// Overlap re-reads a little before the cursor: WooCommerce compares
// modified_after in whole seconds and strictly.
const Overlap = 5 * time.Second

// Poll polls one shop and returns the number of new inbox rows.
func (p *Poller) Poll(ctx context.Context, shop core.Shop, api OrderLister, topic string) (int, error) {
	cursor, err := p.Store.Cursor(ctx, shop.ID, "woocommerce.orders")
	if err != nil {
		return 0, err
	}
	if cursor.IsZero() {
		cursor = time.Now().Add(-24 * time.Hour)
	}
	newest := cursor
	added := 0
	for page := 1; page <= 50; page++ {
		orders, pages, err := api.ListOrdersModifiedAfter(ctx, cursor.Add(-Overlap), page, 100)
		if err != nil {
			return added, err
		}
		for _, raw := range orders {
			key, mod, err := p.EventKey(raw)
			if err != nil {
				p.Log.Warn("poller skipped an order it cannot key", slog.Int64("shop", shop.ID), slog.Any("error", err))
				continue
			}
			ev, dup, err := p.Store.Insert(ctx, core.InboxEvent{ShopID: shop.ID, Platform: core.PlatformWooCommerce, EventKey: key, Topic: topic, ShopDomain: shop.Domain, Payload: raw})
			if err != nil {
				return added, err
			}
			if !dup {
				added++
				if err := p.Enqueuer.Enqueue(ctx, ev.ShopID, ev.ID); err != nil {
					p.Log.Warn("enqueue failed; the sweeper will retry", slog.Any("error", err))
				}
			}
			if mod.After(newest) {
				newest = mod
			}
		}
		if page >= pages {
			break
		}
	}
	if newest.After(cursor) {
		if err := p.Store.SetCursor(ctx, shop.ID, "woocommerce.orders", newest); err != nil {
			return added, err
		}
	}
	return added, nil
}
