package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/batch"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// OrderStore implements core.OrderStore on the ledger's pool: the order's
// row lock, its state and its postings share one database transaction.
// With a Batcher, concurrent orders are group-committed (see OrderBatcher).
type OrderStore struct {
	L       *LedgerStore
	Batcher *OrderBatcher
}

var _ core.OrderStore = OrderStore{}

// WithOrder locks the order row (creating it) and runs fn in one
// transaction, retrying deadlocks. The lock, the order's state and its
// ledger transactions are read in one round trip; snapshot and rate
// writes are queued and sent with the next statement or before commit.
// w.Done, when set, is marked processed in the same transaction.
func (s OrderStore) WithOrder(ctx context.Context, w core.OrderWork) error {
	r := &orderReq{ctx: ctx, shopID: w.ShopID, orderID: w.OrderID, mark: w.Done, fn: w.Fn}
	if w.Guest.Kind == core.OwnerCustomer {
		r.guest = w.Guest.ID
	}
	if s.Batcher != nil {
		return s.Batcher.do(r)
	}
	return s.L.inTx(ctx, func(tx pgx.Tx) error { return runBatch(ctx, s.L, tx, []*orderReq{r}) })
}

// OrderBatcher group-commits order processing (internal/batch): the
// orders that workers hand over while a commit is under way are applied
// one after the other in one database transaction (one BEGIN, one
// COMMIT, one WAL flush). Two events of one order never share a batch:
// the second must see the first's writes when its state is read. If
// anything in a batch fails, each of its orders is applied again on its
// own, so one bad order never fails the others; each order's work (fn) is
// written to be re-run.
type OrderBatcher struct {
	l      *LedgerStore
	orders *batch.Batcher[*orderReq, error]
}

type orderReq struct {
	ctx     context.Context
	shopID  int64
	orderID string
	fn      func(core.OrderTx) error
	mark    *core.EventRef // inbox event to mark processed with the order
	guest   string         // the order's guest buyer (owner id): its claiming customer is read with the state
}

// NewOrderBatcher returns a batcher with committers concurrent commits of
// at most maxBatch orders (they start with the first order); Close stops
// them.
func NewOrderBatcher(l *LedgerStore, committers, maxBatch int) *OrderBatcher {
	b := &OrderBatcher{l: l}
	b.orders = batch.New(batch.Config[*orderReq, error]{Commit: b.commit, Committers: committers, MaxBatch: maxBatch, Queue: 1024,
		Distinct: func(r *orderReq) any { return orderKey{r.shopID, r.orderID} }})
	return b
}

// Close waits until every order handed over is applied and stops the
// committers; an order handed over later (a task still finishing after
// shutdown) runs on its own.
func (b *OrderBatcher) Close() { b.orders.Stop() }

func (b *OrderBatcher) do(r *orderReq) error {
	res, err := b.orders.Do(r.ctx, r)
	if err != nil {
		return err
	}
	return res
}

func (b *OrderBatcher) alone(r *orderReq) error {
	return b.l.inTx(r.ctx, func(tx pgx.Tx) error { return runBatch(r.ctx, b.l, tx, []*orderReq{r}) })
}

// commit is the order store's group commit (one error per order).
func (b *OrderBatcher) commit(reqs []*orderReq) []error {
	out := make([]error, len(reqs))
	if len(reqs) == 1 {
		out[0] = b.alone(reqs[0])
		return out
	}
	// Lock order rows in one global order, so that two committers never
	// wait on each other in a cycle. Sort a copy: results go back in the
	// order of reqs.
	sorted := slices.Clone(reqs)
	slices.SortFunc(sorted, func(x, y *orderReq) int {
		if c := cmp.Compare(x.shopID, y.shopID); c != 0 {
			return c
		}
		return cmp.Compare(x.orderID, y.orderID)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	err := pgx.BeginFunc(ctx, b.l.pool, func(tx pgx.Tx) error { return runBatch(ctx, b.l, tx, sorted) })
	cancel()
	if err == nil {
		if b.l.OnCommit != nil {
			b.l.OnCommit(len(reqs))
		}
		return out
	}
	for i, r := range reqs {
		out[i] = b.alone(r)
	}
	return out
}

type orderKey struct {
	shop  int64
	order string
}

// runBatch applies several orders in one database transaction with as
// few statements as their work allows: one round trip locks every order
// row and reads every order's state and transactions; each order's work
// then runs with its writes queued and its credit-only postings deferred
// (see PostDeferred); the queued writes, the deferred postings of all the
// orders (set-based) and the inbox marks go out together at the end, or
// earlier when an order's work needs to read (a reversal reading funds,
// a hold being captured), so every read sees every earlier write.
func runBatch(ctx context.Context, l *LedgerStore, tx pgx.Tx, batch []*orderReq) error {
	bt := &batchTx{l: l, tx: tx}
	orders := make([]*orderTx, len(batch))
	for i, r := range batch {
		orders[i] = &orderTx{s: l, tx: tx, shop: r.shopID, order: r.orderID, bt: bt, guest: r.guest}
	}
	if err := prefetchBatch(ctx, tx, orders); err != nil {
		return err
	}
	var markShop, markID []int64
	for i, r := range batch {
		if err := r.fn(orders[i]); err != nil {
			return err
		}
		if m := r.mark; m != nil {
			markShop, markID = append(markShop, m.ShopID), append(markID, m.ID)
		}
	}
	if len(markID) > 0 {
		bt.queue(`UPDATE inbox SET status = 'processed', attempts = attempts + 1, processed_at = now(), last_error = NULL
FROM unnest($1::bigint[], $2::bigint[]) AS u(s, i) WHERE inbox.shop_id = u.s AND inbox.id = u.i AND inbox.status = 'received'`, markShop, markID)
	}
	return bt.flush(ctx)
}

// batchStateSQL also reads, for an order of a guest buyer (u.g), the
// customer that guest's credit moved to (a claimed guest; no probe for
// registered buyers).
const batchStateSQL = `SELECT o.shop_id, o.order_id, ` + orderStateCols + `,
	CASE WHEN u.g <> '' THEN (SELECT l.to_id FROM owner_links l WHERE l.shop_id = u.s AND l.from_kind = 'customer' AND l.from_id = u.g AND l.to_kind = 'customer') END
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(s, id, g) JOIN orders o ON o.shop_id = u.s AND o.order_id = u.id`

// batchTxsSQL is orderTxsSQL for many orders (with the same pinned plan).
const batchTxsSQL = `SELECT u.s, u.id, t.id, t.idem_key, t.reason, t.reverses, t.created_at,
	p.currency, p.owner_kind, p.owner_id, p.bucket, p.amount
FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS u(s, id, n)
CROSS JOIN LATERAL (SELECT id, idem_key, reason, reverses, created_at FROM ledger_transactions WHERE shop_id = u.s AND order_id = u.id OFFSET 0) t
CROSS JOIN LATERAL (SELECT seq, currency, owner_kind, owner_id, bucket, amount FROM ledger_postings WHERE shop_id = u.s AND tx_id = t.id OFFSET 0) p
ORDER BY u.n, t.id, p.seq`

// prefetchBatch locks the orders' rows (creating them; in the batch's
// key order) and reads every order's state and transactions: three
// statements in one round trip, whatever the batch's size.
func prefetchBatch(ctx context.Context, tx pgx.Tx, orders []*orderTx) error {
	shops := make([]int64, len(orders))
	ids := make([]string, len(orders))
	guests := make([]string, len(orders))
	byKey := make(map[orderKey]*orderTx, len(orders))
	for i, o := range orders {
		shops[i], ids[i], guests[i] = o.shop, o.order, o.guest
		byKey[orderKey{o.shop, o.order}] = o
		o.txs, o.txsValid = nil, true
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO orders (shop_id, order_id) SELECT * FROM unnest($1::bigint[], $2::text[])
ON CONFLICT (shop_id, order_id) DO UPDATE SET updated_at = orders.updated_at`, shops, ids)
	b.Queue(batchStateSQL, shops, ids, guests).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k orderKey
			var snap, refunds, rates []byte
			var buyer, claimed *string
			if err := rows.Scan(&k.shop, &k.order, &snap, &buyer, &refunds, &rates, &claimed); err != nil {
				return err
			}
			st, err := parseOrderState(snap, buyer, refunds, rates)
			if err != nil {
				return err
			}
			if o := byKey[k]; o != nil {
				if claimed != nil && *claimed != "" {
					o.claimed = core.Owner{Kind: core.OwnerCustomer, ID: *claimed}
				}
				st.Claimed = o.claimed
				o.state = &st
			}
		}
		return rows.Err()
	})
	b.Queue(batchTxsSQL, shops, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var k orderKey
			var r txRow
			if err := rows.Scan(append([]any{&k.shop, &k.order}, r.dest()...)...); err != nil {
				return err
			}
			o := byKey[k]
			if o == nil {
				continue
			}
			var err error
			if o.txs, err = r.appendTo(o.txs, k.shop); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	for _, o := range orders {
		if o.state == nil {
			return fmt.Errorf("postgres: order %s: no state after locking it", o.order)
		}
	}
	return nil
}

// batchTx is what the orders of one batch share: queued writes and
// deferred credit-only postings, applied in the order they were made.
type batchTx struct {
	l        *LedgerStore
	tx       pgx.Tx
	pending  *pgx.Batch
	deferred []deferredPost
	snaps    snapCols // snapshots to store, one statement for the batch
	rates    rateCols // frozen rates to store, one statement for the batch
	withheld heldCols // credit caps withheld, one statement for the batch
	reds     redCols  // redemption tax splits to store, two statements for the batch
	tiers    tierCols // tier activity to store, one statement for the batch
}

type redCols struct {
	delShop                     []int64 // orders whose redemptions are replaced
	delOrder                    []string
	shop                        []int64
	order, kind, code, cur, src []string
	amount                      []decimal.Decimal
	net, tax                    []*decimal.Decimal
	pit                         []*bool
}

type snapCols struct {
	shop  []int64
	order []string
	doc   []string
	at    []time.Time
	buyer []*string
}

type rateCols struct {
	shop                    []int64
	order, line, bene, docs []string
}

type heldCols struct {
	shop                                            []int64
	order, line, bene, cur, okind, oid, number, cap []string
	amount                                          []decimal.Decimal
}

// queueSets queues the batch's snapshot and rate writes as one statement
// each (an order appears at most once per batch: NewOrderBatcher keeps
// two events of one order apart).
func (bt *batchTx) queueSets() {
	bt.queueTiers()
	if n := len(bt.snaps.shop); n > 0 {
		c := bt.snaps
		bt.snaps = snapCols{}
		bt.queue(`UPDATE orders o SET snapshot = u.s::jsonb, platform_updated_at = u.at, buyer_owner = coalesce(u.b, o.buyer_owner), updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[]) AS u(shop, id, s, at, b)
WHERE o.shop_id = u.shop AND o.order_id = u.id`, c.shop, c.order, c.doc, c.at, c.buyer)
	}
	if n := len(bt.reds.delShop); n > 0 {
		c := bt.reds
		bt.reds = redCols{}
		bt.queue(`DELETE FROM order_redemptions r USING unnest($1::bigint[], $2::text[]) AS u(s, o) WHERE r.shop_id = u.s AND r.order_id = u.o`, c.delShop, c.delOrder)
		if len(c.shop) > 0 {
			bt.queue(`INSERT INTO order_redemptions (shop_id, order_id, kind, code, currency, amount, net, tax, tax_source, prices_include_tax)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[], $9::text[], $10::boolean[])
ON CONFLICT (shop_id, order_id, kind, code) DO UPDATE SET currency = EXCLUDED.currency, amount = EXCLUDED.amount, net = EXCLUDED.net,
	tax = EXCLUDED.tax, tax_source = EXCLUDED.tax_source, prices_include_tax = EXCLUDED.prices_include_tax, updated_at = now()`,
				c.shop, c.order, c.kind, c.code, c.cur, c.amount, c.net, c.tax, c.src, c.pit)
		}
	}
	if n := len(bt.rates.shop); n > 0 {
		c := bt.rates
		bt.rates = rateCols{}
		bt.queue(`INSERT INTO order_rate_sets (shop_id, order_id, first_line_id, first_beneficiary, rates)
SELECT s, o, l, b, r::jsonb FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(s, o, l, b, r) ON CONFLICT DO NOTHING`,
			c.shop, c.order, c.line, c.bene, c.docs)
	}
	if n := len(bt.withheld.shop); n > 0 {
		c := bt.withheld
		bt.withheld = heldCols{}
		bt.queue(`INSERT INTO earn_withheld (shop_id, order_id, line_id, beneficiary, cap, currency, owner_kind, owner_id, order_number, amount)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::numeric[])
ON CONFLICT DO NOTHING`, c.shop, c.order, c.line, c.bene, c.cap, c.cur, c.okind, c.oid, c.number, c.amount)
	}
}

type deferredPost struct {
	ts   []core.Transaction
	done func([]core.Transaction)
}

func (bt *batchTx) queue(sql string, args ...any) {
	if bt.pending == nil {
		bt.pending = &pgx.Batch{}
	}
	bt.pending.Queue(sql, args...)
}

// flush sends the queued writes, then posts the deferred transactions of
// every order in one set-based step and hands each order its results.
func (bt *batchTx) flush(ctx context.Context) error {
	bt.queueSets()
	if bt.pending != nil && bt.pending.Len() > 0 {
		b := bt.pending
		bt.pending = nil
		if err := bt.tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: order writes: %w", err)
		}
	}
	if len(bt.deferred) == 0 {
		return nil
	}
	ds := bt.deferred
	bt.deferred = nil
	var all []core.Transaction
	for _, d := range ds {
		all = append(all, d.ts...)
	}
	res, err := bt.l.postManyTx(ctx, bt.tx, all)
	if err != nil {
		return translate(err)
	}
	i := 0
	for _, d := range ds {
		out := make([]core.Transaction, len(d.ts))
		for j := range d.ts {
			if res[i].err != nil {
				return fmt.Errorf("%s: %w", all[i].Key, res[i].err)
			}
			out[j] = res[i].t
			i++
		}
		d.done(out)
	}
	return nil
}

type orderTx struct {
	s     *LedgerStore
	tx    pgx.Tx
	shop  int64
	order string

	state    *core.OrderState   // prefetched; nil once stale
	txs      []core.Transaction // prefetched; valid while txsValid
	txsValid bool
	bt       *batchTx   // the batch this order is applied in (possibly alone)
	hadReds  bool       // a stored snapshot had redemptions (their records may need replacing)
	guest    string     // the order's guest buyer, if any (orderReq.guest)
	claimed  core.Owner // the customer that guest's credit moved to (read with the prefetched state)
}

// flush sends the batch's queued writes (of every order) and its deferred
// postings.
func (o *orderTx) flush(ctx context.Context) error { return o.bt.flush(ctx) }

func (o *orderTx) queue(sql string, args ...any) { o.bt.queue(sql, args...) }

// The order transaction has every capability core.OrderTx requires
// (holds, vouchers, redemptions, yearly caps, deferred posting).
var _ core.OrderTx = (*orderTx)(nil)

// orderStateCols reads an order's state. The owner link of each frozen
// rate is a primary-key probe per rate (OFFSET 0 keeps it one): the view
// order_rates expands rate sets with jsonb_array_elements, which the
// planner guesses at 100 rows, and with a plain join it then hashed the
// shop's whole owner_links table for every order.
const orderStateCols = `o.snapshot, o.buyer_owner,
	(SELECT coalesce(json_agg(json_build_object('RefundID', r.refund_id, 'LinesKnown', r.lines_known, 'Amount', r.amount::text, 'Lines', r.lines, 'CreatedAt', r.created_at)), '[]')
	   FROM order_refunds r WHERE r.shop_id = o.shop_id AND r.order_id = o.order_id),
	(SELECT coalesce(json_agg(CASE WHEN l.to_id IS NULL THEN x.rate ELSE jsonb_set(x.rate, '{owner}', jsonb_build_object('kind', l.to_kind, 'id', l.to_id)) END
	   ORDER BY x.line_id, x.beneficiary), '[]')
	   FROM order_rates x LEFT JOIN LATERAL (SELECT to_kind, to_id FROM owner_links
	     WHERE shop_id = x.shop_id AND from_kind = x.rate->'owner'->>'kind' AND from_id = x.rate->'owner'->>'id' OFFSET 0) l ON true
	   WHERE x.shop_id = o.shop_id AND x.order_id = o.order_id)`

const orderStateSQL = `SELECT ` + orderStateCols + `
FROM orders o WHERE o.shop_id = $1 AND o.order_id = $2`

// State returns the order's snapshot, refunds and frozen rates (the
// snapshot is stored without the e-mail).
func (o *orderTx) State(ctx context.Context) (core.OrderState, error) {
	if o.state != nil {
		st := *o.state
		o.state = nil // a second call reads again (after AddRefunds, say)
		o.hadReds = o.hadReds || len(st.Order.Redemptions) > 0
		return st, nil
	}
	if err := o.flush(ctx); err != nil {
		return core.OrderState{}, err
	}
	st, err := scanOrderState(o.tx.QueryRow(ctx, orderStateSQL, o.shop, o.order))
	o.hadReds = o.hadReds || len(st.Order.Redemptions) > 0
	st.Claimed = o.claimed
	return st, err
}

func scanOrderState(row pgx.Row) (core.OrderState, error) {
	var snap, refunds, rates []byte
	var buyer *string
	if err := row.Scan(&snap, &buyer, &refunds, &rates); err != nil {
		return core.OrderState{}, fmt.Errorf("postgres: order state: %w", err)
	}
	return parseOrderState(snap, buyer, refunds, rates)
}

func parseOrderState(snap []byte, buyer *string, refunds, rates []byte) (core.OrderState, error) {
	st := core.OrderState{Refunds: map[string]core.Refund{}}
	if snap != nil {
		if err := json.Unmarshal(snap, &st.Order); err != nil {
			return st, fmt.Errorf("postgres: order snapshot: %w", err)
		}
	}
	if buyer != nil && *buyer != "" {
		st.Buyer = core.Owner{Kind: core.OwnerCustomer, ID: *buyer}
	}
	var rs []core.Refund
	if err := json.Unmarshal(refunds, &rs); err != nil {
		return st, fmt.Errorf("postgres: order refunds: %w", err)
	}
	for _, r := range rs {
		st.Refunds[r.RefundID] = r
	}
	if err := json.Unmarshal(rates, &st.Rates); err != nil {
		return st, fmt.Errorf("postgres: order rates: %w", err)
	}
	return st, nil
}

func (o *orderTx) SaveSnapshot(ctx context.Context, ord core.Order, buyer core.Owner) error {
	ord.Customer.Email = "" // no personal data in snapshots
	ord.Refunds = nil       // kept in order_refunds
	b, err := json.Marshal(ord)
	if err != nil {
		return err
	}
	var bo *string
	if buyer.Kind != "" {
		bo = &buyer.ID
	}
	c := &o.bt.snaps
	c.shop, c.order, c.doc, c.at, c.buyer = append(c.shop, o.shop), append(c.order, o.order), append(c.doc, string(b)), append(c.at, ord.UpdatedAt), append(c.buyer, bo)
	return nil
}

func (o *orderTx) AddRefunds(ctx context.Context, rs []core.Refund) error {
	if len(rs) > 0 {
		o.state = nil
	}
	for _, r := range rs {
		if r.RefundID == "" {
			return core.Errorf(core.EINVALID, "refund without id on order %s", o.order)
		}
		lines := r.Lines
		if lines == nil {
			lines = []core.RefundLine{}
		}
		lb, err := json.Marshal(lines)
		if err != nil {
			return err
		}
		created := r.CreatedAt
		if created.IsZero() {
			created = time.Now().UTC()
		}
		// A refund with line detail replaces its line-less record; known
		// detail is never replaced by less.
		o.queue(`INSERT INTO order_refunds (shop_id, order_id, refund_id, lines_known, amount, lines, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (shop_id, order_id, refund_id) DO UPDATE SET lines_known = true, lines = EXCLUDED.lines, amount = EXCLUDED.amount
WHERE NOT order_refunds.lines_known AND EXCLUDED.lines_known`, o.shop, o.order, r.RefundID, r.LinesKnown, r.Amount, lb, created)
	}
	return nil
}

// SaveRates queues the rates the order's unit of work freezes now as one
// set (migration 0025): one row, keyed by its first rate's line and
// beneficiary. They are new: the order's row is locked while its frozen
// rates are read and these chosen.
func (o *orderTx) SaveRates(ctx context.Context, rates []core.FrozenRate) error {
	if len(rates) == 0 {
		return nil
	}
	b, err := json.Marshal(rates)
	if err != nil {
		return err
	}
	c := &o.bt.rates
	c.shop, c.order = append(c.shop, o.shop), append(c.order, o.order)
	c.line, c.bene, c.docs = append(c.line, rates[0].LineID), append(c.bene, rates[0].Beneficiary), append(c.docs, string(b))
	return nil
}

// SaveWithheld stores what the caps of rates frozen now kept from being
// booked (queued with the rates; a rate is frozen once, so is this).
func (o *orderTx) SaveWithheld(ctx context.Context, ws []core.Withheld) error {
	c := &o.bt.withheld
	for _, w := range ws {
		c.shop, c.order, c.line, c.bene = append(c.shop, o.shop), append(c.order, o.order), append(c.line, w.LineID), append(c.bene, w.Beneficiary)
		c.cur, c.okind, c.oid = append(c.cur, w.Currency), append(c.okind, string(w.Owner.Kind)), append(c.oid, w.Owner.ID)
		c.number, c.cap = append(c.number, w.OrderNumber), append(c.cap, w.Cap)
		c.amount = append(c.amount, w.Amount)
	}
	return nil
}

func (o *orderTx) Transactions(ctx context.Context) ([]core.Transaction, error) {
	if o.txsValid {
		return o.txs, nil
	}
	if err := o.flush(ctx); err != nil {
		return nil, err
	}
	return txsForOrder(ctx, o.tx, o.shop, o.order)
}

func (o *orderTx) Funds(ctx context.Context, currency string, owner core.Owner) (core.Balance, error) {
	if err := o.flush(ctx); err != nil {
		return core.Balance{}, err
	}
	b := core.Balance{ShopID: o.shop, Currency: currency, Owner: owner}
	err := o.tx.QueryRow(ctx, `SELECT available, pending, held, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`, o.shop, currency, string(owner.Kind), owner.ID).
		Scan(&b.Available, &b.Pending, &b.Held, &b.Overdraft, &b.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, nil
	}
	return b, err
}

func (o *orderTx) Post(ctx context.Context, t core.Transaction) (core.Transaction, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	if err := o.flush(ctx); err != nil {
		return t, err
	}
	o.txsValid = false
	return o.s.postInTx(ctx, o.tx, t)
}

// PostAll posts transactions that debit someone, one by one, after the
// batch's earlier writes (credit-only ones go through PostDeferred).
func (o *orderTx) PostAll(ctx context.Context, ts []core.Transaction) ([]core.Transaction, error) {
	for i := range ts {
		if err := ts[i].Validate(); err != nil {
			return nil, err
		}
	}
	if err := o.flush(ctx); err != nil {
		return nil, err
	}
	o.txsValid = false
	out := make([]core.Transaction, len(ts))
	for i, t := range ts {
		p, err := o.s.postInTx(ctx, o.tx, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Key, err)
		}
		out[i] = p
	}
	return out, nil
}

var _ core.DeferredPoster = (*orderTx)(nil)

// PostDeferred defers credit-only transactions of an order applied in a
// batch to the batch's next flush (see runBatch).
func (o *orderTx) PostDeferred(ctx context.Context, ts []core.Transaction, done func([]core.Transaction)) (bool, error) {
	for i := range ts {
		if err := ts[i].Validate(); err != nil {
			return false, err
		}
		for _, d := range ts[i].Deltas {
			if d.Debits() || d.Overdraft.IsPositive() {
				return false, nil
			}
		}
	}
	o.txsValid = false
	o.bt.deferred = append(o.bt.deferred, deferredPost{ts: ts, done: done})
	return true, nil
}

func (o *orderTx) FindHold(ctx context.Context, holdID int64, cartKey string) (core.Hold, bool, error) {
	if holdID <= 0 && cartKey == "" {
		return core.Hold{}, false, nil // no hold to look for: nothing to flush either
	}
	if err := o.flush(ctx); err != nil {
		return core.Hold{}, false, err
	}
	var h core.Hold
	var err error
	switch {
	case holdID > 0:
		h, err = scanHold(o.shop, o.tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND id = $2 FOR UPDATE`, o.shop, holdID))
	case cartKey != "":
		// The cart's open hold, or the hold this order already captured.
		h, err = scanHold(o.shop, o.tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND cart_key = $2 AND (status = 'open' OR order_id = $3)
ORDER BY (status = 'open') DESC, id DESC LIMIT 1 FOR UPDATE`, o.shop, cartKey, o.order))
	default:
		return h, false, nil
	}
	if core.ErrorCode(err) == core.ENOTFOUND {
		return h, false, nil
	}
	return h, err == nil, err
}

func (o *orderTx) ResolveHold(ctx context.Context, h core.Hold, amount decimal.Decimal, reason core.Reason, st core.HoldStatus) (core.Hold, error) {
	if err := o.flush(ctx); err != nil {
		return core.Hold{}, err
	}
	o.txsValid = false
	return o.s.resolveHoldTx(ctx, o.tx, h, amount, reason, st)
}

var _ core.YearCapTx = (*orderTx)(nil)

// TakeYearBudget takes up to want from the owner's yearly earning budget
// under a row lock (two orders of one owner never both spend the same
// budget) and returns what it granted.
func (o *orderTx) TakeYearBudget(ctx context.Context, currency string, owner core.Owner, year int, want, limit decimal.Decimal) (decimal.Decimal, error) {
	if err := o.flush(ctx); err != nil {
		return decimal.Zero, err
	}
	var used decimal.Decimal
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO earn_year_caps (shop_id, currency, owner_kind, owner_id, year) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		o.shop, currency, string(owner.Kind), owner.ID, year)
	b.Queue(`SELECT used FROM earn_year_caps WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 AND year = $5 FOR UPDATE`,
		o.shop, currency, string(owner.Kind), owner.ID, year).QueryRow(func(r pgx.Row) error { return r.Scan(&used) })
	if err := o.tx.SendBatch(ctx, b).Close(); err != nil {
		return decimal.Zero, fmt.Errorf("postgres: yearly earning cap: %w", err)
	}
	granted := decimal.Min(want, decimal.Max(limit.Sub(used), decimal.Zero))
	if granted.IsPositive() {
		if _, err := o.tx.Exec(ctx, `UPDATE earn_year_caps SET used = used + $6, updated_at = now()
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 AND year = $5`, o.shop, currency, string(owner.Kind), owner.ID, year, granted); err != nil {
			return decimal.Zero, fmt.Errorf("postgres: yearly earning cap: %w", err)
		}
	}
	return granted, nil
}

var _ core.RedemptionTx = (*orderTx)(nil)

// SaveRedemptions replaces the order's recorded redemptions (with their
// tax split) by rs, with the batch's other writes. Two redemptions of one
// kind and code (a code applied twice) are added up.
func (o *orderTx) SaveRedemptions(ctx context.Context, currency string, rs []core.Redemption) error {
	c := &o.bt.reds
	for _, r := range rs {
		if r.Net.Valid != r.Tax.Valid || (r.Net.Valid && !r.Net.Decimal.Add(r.Tax.Decimal).Equal(r.Amount)) {
			return fmt.Errorf("postgres: order %s: redemption %s: net %v + tax %v is not the amount %s", o.order, r.Code, r.Net, r.Tax, r.Amount)
		}
	}
	if len(rs) == 0 && !o.hadReds {
		return nil // nothing recorded, nothing to record: no statement
	}
	o.hadReds = len(rs) > 0
	// A code applied twice is one row: amounts (and splits, when every
	// part has one) are added up.
	var merged []core.Redemption
	at := map[string]int{}
	for _, r := range rs {
		k := string(r.Kind) + "\x00" + r.Code
		i, ok := at[k]
		if !ok {
			at[k] = len(merged)
			merged = append(merged, r)
			continue
		}
		m := &merged[i]
		m.Amount = m.Amount.Add(r.Amount)
		if m.Net.Valid && r.Net.Valid {
			m.Net.Decimal, m.Tax.Decimal = m.Net.Decimal.Add(r.Net.Decimal), m.Tax.Decimal.Add(r.Tax.Decimal)
		} else {
			m.Net, m.Tax, m.TaxSource = decimal.NullDecimal{}, decimal.NullDecimal{}, ""
		}
	}
	c.delShop, c.delOrder = append(c.delShop, o.shop), append(c.delOrder, o.order)
	for _, r := range merged {
		src := r.TaxSource
		var net, tax *decimal.Decimal
		if r.Net.Valid {
			n, t := r.Net.Decimal, r.Tax.Decimal
			net, tax = &n, &t
		} else {
			src = "unknown"
		}
		c.shop, c.order, c.kind, c.code, c.cur, c.src = append(c.shop, o.shop), append(c.order, o.order), append(c.kind, string(r.Kind)),
			append(c.code, r.Code), append(c.cur, currency), append(c.src, src)
		c.amount, c.net, c.tax, c.pit = append(c.amount, r.Amount), append(c.net, net), append(c.tax, tax), append(c.pit, r.PricesIncludeTax)
	}
	return nil
}
