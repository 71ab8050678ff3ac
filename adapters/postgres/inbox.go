package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/batch"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// InboxStatus and InboxEvent are the core types.
type (
	InboxStatus = core.InboxStatus
	InboxEvent  = core.InboxEvent
)

// Inbox states.
const (
	InboxReceived  = core.InboxReceived
	InboxProcessed = core.InboxProcessed
	InboxSkipped   = core.InboxSkipped
	InboxDead      = core.InboxDead
)

// Inbox stores webhook deliveries before they are acknowledged.
//
// Concurrent Insert calls are group-committed (internal/batch): one
// multi-row INSERT (one WAL flush) for all deliveries waiting at that
// moment, so ingest is not limited by one commit per webhook. Each caller
// still returns only after its row is durable.
type Inbox struct {
	pool    *pgxpool.Pool
	inserts *batch.Batcher[InboxEvent, inboxRes]
	enq     core.BatchEnqueuer
}

// EnqueueBatches makes the inbox enqueue the new events of each group
// commit as one task (after the commit, before the callers return; a
// failed enqueue is left to the caller and the sweeper). Call it before
// the first Insert.
func (b *Inbox) EnqueueBatches(e core.BatchEnqueuer) { b.enq = e }

type inboxRes struct {
	e   InboxEvent
	dup bool
	err error
}

// inboxCommitters is the number of concurrent group commits.
const inboxCommitters = 4

var _ core.InboxStore = (*Inbox)(nil)

// NewInbox returns an Inbox; its group commits start with the first
// Insert. Close stops them.
func NewInbox(pool *pgxpool.Pool) *Inbox {
	b := &Inbox{pool: pool}
	b.inserts = batch.New(batch.Config[InboxEvent, inboxRes]{Commit: b.insertBatch, Committers: inboxCommitters, MaxBatch: 500})
	return b
}

// Insert stores a delivery. A repeat of the same platform event returns the
// original row with duplicate=true. Once handed over, the outcome is
// waited for (the batch has its own deadline).
func (b *Inbox) Insert(ctx context.Context, e InboxEvent) (stored InboxEvent, duplicate bool, err error) {
	res, err := b.inserts.Do(ctx, e)
	if err != nil {
		return e, false, err
	}
	return res.e, res.dup, res.err
}

// insertBatch is the inbox's group commit (one result per delivery).
func (b *Inbox) insertBatch(batch []InboxEvent) []inboxRes {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make([]inboxRes, len(batch))
	if len(batch) == 1 {
		e, dup, err := b.insertOne(ctx, batch[0])
		out[0] = inboxRes{e, dup, err}
		return out
	}
	n := len(batch)
	shop, plat, key, topic, dom := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payload := make([][]byte, n)
	for i, e := range batch {
		shop[i], plat[i], key[i], topic[i], dom[i], payload[i] = e.ShopID, string(e.Platform), e.EventKey, e.Topic, e.ShopDomain, e.Payload
	}
	rows, err := b.pool.Query(ctx, `INSERT INTO inbox (shop_id, platform, event_key, topic, shop_domain, payload)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])
ON CONFLICT (platform, shop_id, event_key) DO NOTHING RETURNING platform, shop_id, event_key, id, received_at, status`, shop, plat, key, topic, dom, payload)
	type k struct {
		p    string
		shop int64
		key  string
	}
	got := map[k]InboxEvent{}
	if err == nil {
		for rows.Next() {
			var e InboxEvent
			var p, st string
			if err = rows.Scan(&p, &e.ShopID, &e.EventKey, &e.ID, &e.ReceivedAt, &st); err != nil {
				break
			}
			e.Platform, e.Status = core.Platform(p), InboxStatus(st)
			got[k{p, e.ShopID, e.EventKey}] = e
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		// Fall back to one insert per delivery so one bad row cannot fail
		// the others.
		for i, e := range batch {
			e, dup, err := b.insertOne(ctx, e)
			out[i] = inboxRes{e, dup, err}
		}
		return out
	}
	// Enqueue the batch's new events as one task before anyone returns.
	enqueued := false
	if b.enq != nil && len(got) > 1 {
		refs := make([]core.EventRef, 0, len(got))
		for _, e := range got {
			if e.Status == InboxReceived {
				refs = append(refs, core.EventRef{ShopID: e.ShopID, ID: e.ID})
			}
		}
		slices.SortFunc(refs, func(x, y core.EventRef) int { return cmp.Compare(x.ID, y.ID) })
		// Bounded well inside the platforms' 5 s answer deadline: with
		// Redis down the callers fall back to their own enqueue attempt
		// and the sweeper.
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		enqueued = b.enq.EnqueueMany(ectx, refs) == nil
		cancel()
	}
	claimed := map[k]bool{}
	for i, req := range batch {
		kk := k{string(req.Platform), req.ShopID, req.EventKey}
		if e, ok := got[kk]; ok && !claimed[kk] {
			claimed[kk] = true
			stored := req
			stored.ID, stored.ReceivedAt, stored.Status = e.ID, e.ReceivedAt, e.Status
			stored.Enqueued = enqueued && e.Status == InboxReceived
			out[i] = inboxRes{e: stored}
			continue
		}
		e, dup, err := b.insertOne(ctx, req) // already stored: returns the original as a duplicate
		out[i] = inboxRes{e, dup, err}
	}
	return out
}

func (b *Inbox) insertOne(ctx context.Context, e InboxEvent) (stored InboxEvent, duplicate bool, err error) {
	err = b.pool.QueryRow(ctx, `INSERT INTO inbox (shop_id, platform, event_key, topic, shop_domain, payload) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (platform, shop_id, event_key) DO NOTHING RETURNING id, received_at, status`,
		e.ShopID, string(e.Platform), e.EventKey, e.Topic, e.ShopDomain, e.Payload).Scan(&e.ID, &e.ReceivedAt, &e.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		err = b.pool.QueryRow(ctx, `SELECT id, received_at, status FROM inbox WHERE platform = $1 AND shop_id = $2 AND event_key = $3`,
			string(e.Platform), e.ShopID, e.EventKey).Scan(&e.ID, &e.ReceivedAt, &e.Status)
		if err != nil {
			return e, false, fmt.Errorf("postgres: inbox duplicate: %w", err)
		}
		return e, true, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("postgres: inbox insert: %w", err)
	}
	return e, false, nil
}

const inboxCols = `shop_id, id, platform, event_key, topic, shop_domain, payload, received_at, status, attempts, coalesce(last_error, '')`

func scanInbox(row pgx.Row) (InboxEvent, error) {
	var e InboxEvent
	var p, st string
	err := row.Scan(&e.ShopID, &e.ID, &p, &e.EventKey, &e.Topic, &e.ShopDomain, &e.Payload, &e.ReceivedAt, &st, &e.Attempts, &e.LastError)
	e.Platform, e.Status = core.Platform(p), InboxStatus(st)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, core.Errorf(core.ENOTFOUND, "inbox event not found")
	}
	return e, err
}

var _ core.EventInbox = (*Inbox)(nil)

// GetMany loads several deliveries in one query (those that exist).
func (b *Inbox) GetMany(ctx context.Context, refs []core.EventRef) ([]InboxEvent, error) {
	shops, ids := make([]int64, len(refs)), make([]int64, len(refs))
	for i, r := range refs {
		shops[i], ids[i] = r.ShopID, r.ID
	}
	// One primary-key lookup per event, whatever the statistics say.
	rows, err := b.pool.Query(ctx, `SELECT x.* FROM unnest($1::bigint[], $2::bigint[]) AS u(s, i)
CROSS JOIN LATERAL (SELECT `+inboxCols+` FROM inbox WHERE shop_id = u.s AND id = u.i OFFSET 0) x`, shops, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: inbox events: %w", err)
	}
	defer rows.Close()
	out := make([]InboxEvent, 0, len(refs))
	for rows.Next() {
		e, err := scanInbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Get loads a delivery.
func (b *Inbox) Get(ctx context.Context, shopID, id int64) (InboxEvent, error) {
	return scanInbox(b.pool.QueryRow(ctx, `SELECT `+inboxCols+` FROM inbox WHERE shop_id = $1 AND id = $2`, shopID, id))
}

// Finish records the outcome of processing a delivery.
func (b *Inbox) Finish(ctx context.Context, shopID, id int64, st InboxStatus, reason string) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	var r *string
	if reason != "" {
		r = &reason
	}
	_, err := b.pool.Exec(ctx, `UPDATE inbox SET status = $3, last_error = $4, attempts = attempts + 1, processed_at = now() WHERE shop_id = $1 AND id = $2`,
		shopID, id, string(st), r)
	return err
}

// Failed records a failed attempt that will be retried.
func (b *Inbox) Failed(ctx context.Context, shopID, id int64, reason string) error {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	_, err := b.pool.Exec(ctx, `UPDATE inbox SET attempts = attempts + 1, last_error = $3 WHERE shop_id = $1 AND id = $2`, shopID, id, reason)
	return err
}

// Unprocessed lists deliveries still 'received' after olderThan (for the
// sweeper that re-enqueues them), without their payloads.
func (b *Inbox) Unprocessed(ctx context.Context, olderThan time.Time, after core.InboxCursor, limit int) ([]InboxEvent, error) {
	return b.list(ctx, `SELECT `+inboxMetaCols+` FROM inbox WHERE status = 'received' AND received_at < $1
AND (received_at, shop_id, id) > ($2, $3, $4) ORDER BY received_at, shop_id, id LIMIT $5`, olderThan, after.ReceivedAt, after.ShopID, after.ID, limit)
}

// DeadLetters lists a shop's dead letters, newest first, without their
// payloads. Shopify events for a shop we did not know (shop_id 0) are
// listed for the shop whose domain they name.
func (b *Inbox) DeadLetters(ctx context.Context, shop core.Shop, limit int) ([]InboxEvent, error) {
	return b.list(ctx, `SELECT `+inboxMetaCols+` FROM inbox WHERE status = 'dead' AND (shop_id = $1 OR (shop_id = 0 AND platform = $2 AND shop_domain = $3)) ORDER BY id DESC LIMIT $4`,
		shop.ID, string(shop.Platform), shop.Domain, limit)
}

// inboxMetaCols is inboxCols with an empty payload (lists never need it).
const inboxMetaCols = `shop_id, id, platform, event_key, topic, shop_domain, ''::bytea, received_at, status, attempts, coalesce(last_error, '')`

func (b *Inbox) list(ctx context.Context, sql string, args ...any) ([]InboxEvent, error) {
	rows, err := b.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: inbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxEvent, error) {
		e, err := scanInbox(r)
		e.Payload = nil
		return e, err
	})
}

// Retry puts a dead letter back to 'received' so it is processed again,
// with a fresh retry budget: keeping the spent attempts would dead-letter
// it again on its first transient failure.
func (b *Inbox) Retry(ctx context.Context, shop core.Shop, id int64) (InboxEvent, error) {
	return scanInbox(b.pool.QueryRow(ctx, `UPDATE inbox SET status = 'received', last_error = NULL, attempts = 0 WHERE id = $1 AND status = 'dead'
AND (shop_id = $2 OR (shop_id = 0 AND platform = $3 AND shop_domain = $4)) RETURNING `+inboxCols, id, shop.ID, string(shop.Platform), shop.Domain))
}

// Lag returns the age of the oldest unprocessed delivery (0 if none).
func (b *Inbox) Lag(ctx context.Context) (time.Duration, error) {
	var oldest *time.Time
	if err := b.pool.QueryRow(ctx, `SELECT min(received_at) FROM inbox WHERE status = 'received'`).Scan(&oldest); err != nil {
		return 0, err
	}
	if oldest == nil {
		return 0, nil
	}
	return time.Since(*oldest), nil
}

// Waiting counts the events accepted and not yet processed.
func (b *Inbox) Waiting(ctx context.Context) (int64, error) {
	var n int64
	err := b.pool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE status = 'received'`).Scan(&n)
	return n, err
}

// Cursor returns a poller cursor (zero time if none).
func (b *Inbox) Cursor(ctx context.Context, shopID int64, name string) (time.Time, error) {
	var t time.Time
	err := b.pool.QueryRow(ctx, `SELECT cursor_at FROM poll_cursors WHERE shop_id = $1 AND name = $2`, shopID, name).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	return t, err
}

// SetCursor stores a poller cursor.
func (b *Inbox) SetCursor(ctx context.Context, shopID int64, name string, at time.Time) error {
	_, err := b.pool.Exec(ctx, `INSERT INTO poll_cursors (shop_id, name, cursor_at) VALUES ($1, $2, $3)
ON CONFLICT (shop_id, name) DO UPDATE SET cursor_at = EXCLUDED.cursor_at, updated_at = now()`, shopID, name, at)
	return err
}

// Close waits until every delivery handed over is stored and stops the
// group commits (call it after the HTTP server stopped); an Insert that
// still arrives is written on its own.
func (b *Inbox) Close() { b.inserts.Stop() }

// PrunePayloads blanks the raw payloads (which carry personal data) of
// deliveries processed or skipped before olderThan; the rows stay as the
// record of what was received. Dead letters keep their payload for retry.
func (b *Inbox) PrunePayloads(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := b.pool.Exec(ctx, `UPDATE inbox SET payload = ''::bytea
WHERE status IN ('processed', 'skipped') AND coalesce(processed_at, received_at) < $1 AND length(payload) > 0`, olderThan)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune inbox payloads: %w", err)
	}
	return tag.RowsAffected(), nil
}
