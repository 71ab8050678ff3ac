package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/batch"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// LedgerStore implements core.Ledger on PostgreSQL.
//
// Concurrency: every transaction runs at READ COMMITTED. Owner balance rows
// are changed only by atomic increments (INSERT ... ON CONFLICT DO UPDATE
// SET x = x + delta) in a global order (currency, owner kind, owner id), so
// concurrent writers never deadlock; CHECK constraints on the row make a
// debit that would go below zero fail (EINSUFFICIENT) and roll the whole
// transaction back. The shop's program accounts have no balance row, so
// they are never a lock.
//
// Throughput: transactions that only credit owners (earnings) are
// group-committed (internal/batch): concurrent Post calls are collected
// into one database transaction of up to ledgerMaxBatch ledger
// transactions using set-based statements. If a batch fails for any
// reason, each of its transactions is retried on its own, so one bad
// transaction never fails its neighbours.
type LedgerStore struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	posts *batch.Batcher[*postReq, postRes]
	// tierFacts reads the tier facts of concurrent orders with one
	// statement (TierStore.TierFacts).
	tierFacts *batch.Combiner[tierReq, core.TierFacts]

	// OnCommit, when set, is called after every committed database
	// transaction with the number of ledger transactions it wrote (for
	// metrics). Set it before the first Post.
	OnCommit func(n int)
}

// ledgerMaxBatch bounds a group commit of the ledger.
const ledgerMaxBatch = 500

type postReq struct {
	ctx context.Context
	t   core.Transaction
}

type postRes struct {
	t   core.Transaction
	err error
}

// NewLedgerStore returns a store with committers group-committing credits
// (they start with the first credit). Close stops them.
func NewLedgerStore(pool *pgxpool.Pool, committers int) *LedgerStore {
	if committers <= 0 {
		committers = 4
	}
	s := &LedgerStore{pool: pool, now: time.Now}
	s.posts = batch.New(batch.Config[*postReq, postRes]{Commit: s.commitBatch, Committers: committers, MaxBatch: ledgerMaxBatch})
	s.tierFacts = &batch.Combiner[tierReq, core.TierFacts]{Run: s.readTierFacts, MaxBatch: 500, MaxRunning: 2}
	return s
}

// Close waits until every credit handed over is written and stops the
// committers; later Posts commit on their own.
func (s *LedgerStore) Close() { s.posts.Stop() }

var _ core.Ledger = (*LedgerStore)(nil)

// Post validates and stores a transaction (see core.Ledger).
func (s *LedgerStore) Post(ctx context.Context, t core.Transaction) (core.Transaction, error) {
	if err := t.Validate(); err != nil {
		return core.Transaction{}, err
	}
	creditOnly := true
	for _, d := range t.Deltas {
		if d.Debits() || d.Overdraft.IsPositive() {
			creditOnly = false
			break
		}
	}
	if !creditOnly {
		return s.postAlone(ctx, t)
	}
	// Once handed over, the outcome is waited for even if ctx ends: the
	// batch has its own deadline, and a caller that gave up would not
	// know whether its credit was written.
	r, err := s.posts.Do(ctx, &postReq{ctx: ctx, t: t})
	if err != nil {
		return core.Transaction{}, err
	}
	return r.t, r.err
}

// commitBatch is the ledger's group commit (one result per request).
func (s *LedgerStore) commitBatch(batch []*postReq) []postRes {
	out := make([]postRes, len(batch))
	live := make([]*postReq, 0, len(batch))
	liveIdx := make([]int, 0, len(batch))
	for i, r := range batch {
		if r.ctx.Err() != nil {
			out[i] = postRes{err: r.ctx.Err()}
			continue
		}
		live, liveIdx = append(live, r), append(liveIdx, i)
	}
	switch len(live) {
	case 0:
		return out
	case 1:
		t, err := s.postAlone(live[0].ctx, live[0].t)
		out[liveIdx[0]] = postRes{t, err}
		return out
	}
	ctx := context.WithoutCancel(live[0].ctx)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var results []postRes
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		results, err = s.postMany(ctx, tx, live)
		return err
	})
	if err != nil {
		// Isolate: one failing transaction must not fail the others.
		for j, r := range live {
			t, err := s.postAlone(r.ctx, r.t)
			out[liveIdx[j]] = postRes{t, err}
		}
		return out
	}
	if s.OnCommit != nil {
		s.OnCommit(len(live))
	}
	for j := range live {
		out[liveIdx[j]] = results[j]
	}
	return out
}

// postAlone stores one transaction in its own database transaction,
// retrying deadlocks and serialization failures.
func (s *LedgerStore) postAlone(ctx context.Context, t core.Transaction) (core.Transaction, error) {
	var out core.Transaction
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = s.postInTx(ctx, tx, t)
		return err
	})
	return out, err
}

// inTx runs fn in a READ COMMITTED transaction, retrying deadlocks.
func (s *LedgerStore) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.withRetry(func() error { return pgx.BeginFunc(ctx, s.pool, fn) })
}

// withRetry runs one database transaction (once) until it commits or
// fails with an error other than a serialization failure or deadlock (at
// most five attempts), and counts the commit.
func (s *LedgerStore) withRetry(once func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = once()
		if err == nil {
			if s.OnCommit != nil {
				s.OnCommit(1)
			}
			return nil
		}
		if !retryable(err) {
			return translate(err)
		}
		time.Sleep(time.Duration(attempt+1) * 3 * time.Millisecond)
	}
	return translate(err)
}

const updateBalanceSQL = `UPDATE ledger_balances SET
	available = available + $5, pending = pending + $6, held = held + $7, overdraft = overdraft + $8,
	version = version + 1, updated_at = $9
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4
RETURNING available, pending, held, overdraft, version`

const insertTxSQL = `INSERT INTO ledger_transactions (shop_id, idem_key, content_hash, kind, order_id, reason, reverses, created_at)
VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, NULLIF($7, 0::bigint), $8)
ON CONFLICT (shop_id, idem_key) DO NOTHING
RETURNING id`

const upsertBalanceSQL = `INSERT INTO ledger_balances AS b (shop_id, currency, owner_kind, owner_id, available, pending, held, overdraft, version, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)
ON CONFLICT (shop_id, currency, owner_kind, owner_id) DO UPDATE SET
	available = b.available + EXCLUDED.available,
	pending = b.pending + EXCLUDED.pending,
	held = b.held + EXCLUDED.held,
	overdraft = b.overdraft + EXCLUDED.overdraft,
	version = b.version + 1,
	updated_at = EXCLUDED.updated_at
RETURNING available, pending, held, overdraft, version`

// postInTx writes t inside tx. On a replay it returns the stored
// transaction; on a key reused with other content, ECONFLICT.
func (s *LedgerStore) postInTx(ctx context.Context, tx pgx.Tx, t core.Transaction) (core.Transaction, error) {
	if t.Deltas == nil && len(t.Postings) > 0 && t.Hash == ([32]byte{}) {
		if err := t.Validate(); err != nil {
			return core.Transaction{}, err
		}
	}
	reason, err := json.Marshal(t.Reason)
	if err != nil {
		return core.Transaction{}, err
	}
	now := s.now().UTC()
	var id int64
	err = tx.QueryRow(ctx, insertTxSQL, t.ShopID, t.Key, t.Hash[:], string(t.Reason.Kind), t.Reason.OrderID, reason, t.Reverses, now).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.replay(ctx, tx, t)
	}
	if err != nil {
		return core.Transaction{}, fmt.Errorf("postgres: insert transaction %s: %w", t.Key, translateFK(err, t))
	}
	t.ID, t.CreatedAt = id, now
	// One round trip for the rest: the postings, then per owner the
	// balance change and its statement entry in one statement. Balance
	// rows (the only locks) are touched last, in lock order, so they are
	// held for as short a time as possible.
	b := &pgx.Batch{}
	queuePostings(b, []core.Transaction{t})
	for _, d := range t.Deltas {
		d := d
		// A row to insert must itself satisfy the CHECKs (PostgreSQL checks
		// the candidate row before ON CONFLICT), so a debit is an UPDATE of
		// the existing row; no row means nothing to take.
		q := upsertEntrySQL
		if d.Available.IsNegative() || d.Pending.IsNegative() || d.Held.IsNegative() || d.Overdraft.IsPositive() {
			q = updateEntrySQL
		}
		b.Queue(q, t.ShopID, d.Currency, string(d.Owner.Kind), d.Owner.ID, d.Available, d.Pending, d.Held, d.Overdraft, now, id).QueryRow(func(row pgx.Row) error {
			var av, pe, he, ov decimal.Decimal
			var ver int64
			if err := row.Scan(&av, &pe, &he, &ov, &ver); errors.Is(err, pgx.ErrNoRows) {
				return core.Errorf(core.EINSUFFICIENT, "not enough credit")
			} else if err != nil {
				return err
			}
			t.After = append(t.After, core.Balance{ShopID: t.ShopID, Currency: d.Currency, Owner: d.Owner, Available: av, Pending: pe, Held: he, Overdraft: ov, Version: ver})
			return nil
		})
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return core.Transaction{}, fmt.Errorf("postgres: post %s: %w", t.Key, translate(err))
	}
	return t, nil
}

const entryFromBalance = `
INSERT INTO ledger_entries (shop_id, currency, owner_kind, owner_id, seq, tx_id,
	d_available, d_pending, d_held, d_overdraft, available_after, pending_after, held_after, overdraft_after, created_at)
SELECT $1, $2, $3, $4, b.version, $10, $5, $6, $7, $8, b.available, b.pending, b.held, b.overdraft, $9 FROM b
RETURNING available_after, pending_after, held_after, overdraft_after, seq`

// upsertEntrySQL credits an owner (creating the balance row) and writes
// the statement entry with the new running balance.
const upsertEntrySQL = `WITH b AS (` + upsertBalanceSQL + `)` + entryFromBalance

// updateEntrySQL debits an existing owner row; CHECK constraints refuse an
// overdraw, and no row means there is nothing to take.
const updateEntrySQL = `WITH b AS (` + updateBalanceSQL + `)` + entryFromBalance

func translateFK(err error, t core.Transaction) error {
	if c, con := pgCode(err); c == "23503" && con == "ledger_transactions_reverses_fk" {
		return core.Errorf(core.EINVALID, "transaction %s reverses unknown transaction %d", t.Key, t.Reverses)
	}
	return translate(err)
}

// replay loads the stored transaction for t's key and compares content.
func (s *LedgerStore) replay(ctx context.Context, q DBTX, t core.Transaction) (core.Transaction, error) {
	stored, hash, err := getTxByKey(ctx, q, t.ShopID, t.Key)
	if err != nil {
		return core.Transaction{}, err
	}
	if hash != t.Hash {
		return core.Transaction{}, core.Errorf(core.ECONFLICT, "idempotency key %q was already used for a different transaction (id %d)", t.Key, stored.ID)
	}
	stored.Replayed = true
	return stored, nil
}

const postingsByTxSQL = `SELECT currency, owner_kind, owner_id, bucket, amount FROM ledger_postings WHERE shop_id = $1 AND tx_id = $2 ORDER BY seq`

func getTxByKey(ctx context.Context, q DBTX, shopID int64, key string) (core.Transaction, [32]byte, error) {
	var t core.Transaction
	var hash []byte
	var reason []byte
	var rev *int64
	err := q.QueryRow(ctx, `SELECT id, idem_key, content_hash, reason, reverses, created_at FROM ledger_transactions WHERE shop_id = $1 AND idem_key = $2`, shopID, key).
		Scan(&t.ID, &t.Key, &hash, &reason, &rev, &t.CreatedAt)
	if err != nil {
		return t, [32]byte{}, fmt.Errorf("postgres: load transaction %s: %w", key, translate(err))
	}
	t.ShopID = shopID
	if rev != nil {
		t.Reverses = *rev
	}
	if err := json.Unmarshal(reason, &t.Reason); err != nil {
		return t, [32]byte{}, fmt.Errorf("postgres: decode reason of %s: %w", key, err)
	}
	rows, err := q.Query(ctx, postingsByTxSQL, shopID, t.ID)
	if err != nil {
		return t, [32]byte{}, fmt.Errorf("postgres: load postings of %s: %w", key, err)
	}
	t.Postings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Posting, error) {
		var p core.Posting
		var kind, bucket string
		err := r.Scan(&p.Currency, &kind, &p.Owner.ID, &bucket, &p.Amount)
		p.Owner.Kind, p.Bucket = core.OwnerKind(kind), core.Bucket(bucket)
		return p, err
	})
	if err != nil {
		return t, [32]byte{}, fmt.Errorf("postgres: load postings of %s: %w", key, err)
	}
	var h [32]byte
	copy(h[:], hash)
	t.Hash = h
	return t, h, nil
}

// queuePostings queues the postings of transactions on a batch.
func queuePostings(b *pgx.Batch, ts []core.Transaction) {
	args := postingArgs(ts)
	b.Queue(insertPostingsSQL, args...)
}

const insertPostingsSQL = `INSERT INTO ledger_postings (shop_id, tx_id, seq, currency, owner_kind, owner_id, bucket, amount)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[])`

func postingArgs(ts []core.Transaction) []any {
	n := 0
	for _, t := range ts {
		n += len(t.Postings)
	}
	shop := make([]int64, 0, n)
	txid := make([]int64, 0, n)
	seq := make([]int32, 0, n)
	cur := make([]string, 0, n)
	ok := make([]string, 0, n)
	oid := make([]string, 0, n)
	bucket := make([]string, 0, n)
	amt := make([]decimal.Decimal, 0, n)
	for _, t := range ts {
		for i, p := range t.Postings {
			shop = append(shop, t.ShopID)
			txid = append(txid, t.ID)
			seq = append(seq, int32(i))
			cur = append(cur, p.Currency)
			ok = append(ok, string(p.Owner.Kind))
			oid = append(oid, p.Owner.ID)
			bucket = append(bucket, string(p.Bucket))
			amt = append(amt, p.Amount)
		}
	}
	return []any{shop, txid, seq, cur, ok, oid, bucket, amt}
}

// postMany group-commits credit-only transactions with set-based
// statements. It returns one result per request; an error aborts the batch
// (the caller then retries each transaction alone).
func (s *LedgerStore) postMany(ctx context.Context, tx pgx.Tx, reqs []*postReq) ([]postRes, error) {
	ts := make([]core.Transaction, len(reqs))
	for i, r := range reqs {
		ts[i] = r.t
	}
	return s.postManyTx(ctx, tx, ts)
}

// postManyTx writes credit-only transactions with set-based statements
// inside tx (see postMany).
func (s *LedgerStore) postManyTx(ctx context.Context, tx pgx.Tx, txs []core.Transaction) ([]postRes, error) {
	now := s.now().UTC()
	n := len(txs)
	shop := make([]int64, n)
	key := make([]string, n)
	hash := make([][]byte, n)
	kind := make([]string, n)
	order := make([]string, n)
	reason := make([]string, n)
	rev := make([]int64, n)
	for i, t := range txs {
		rb, err := json.Marshal(t.Reason)
		if err != nil {
			return nil, err
		}
		h := t.Hash
		shop[i], key[i], hash[i], kind[i], order[i], reason[i], rev[i] = t.ShopID, t.Key, h[:], string(t.Reason.Kind), t.Reason.OrderID, string(rb), t.Reverses
	}
	rows, err := tx.Query(ctx, `INSERT INTO ledger_transactions (shop_id, idem_key, content_hash, kind, order_id, reason, reverses, created_at)
SELECT s, k, h, kd, NULLIF(o, ''), r::jsonb, NULLIF(rv, 0::bigint), $8 FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS u(s, k, h, kd, o, r, rv)
ON CONFLICT (shop_id, idem_key) DO NOTHING
RETURNING shop_id, idem_key, id`, shop, key, hash, kind, order, reason, rev, now)
	if err != nil {
		return nil, err
	}
	type sk struct {
		shop int64
		key  string
	}
	ids := map[sk]int64{}
	for rows.Next() {
		var s int64
		var k string
		var id int64
		if err := rows.Scan(&s, &k, &id); err != nil {
			rows.Close()
			return nil, err
		}
		ids[sk{s, k}] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	results := make([]postRes, n)
	var fresh []core.Transaction
	var freshIdx []int
	claimed := map[sk]bool{}
	for i, t := range txs {
		k := sk{t.ShopID, t.Key}
		id, ok := ids[k]
		if ok && !claimed[k] {
			claimed[k] = true
			t.ID, t.CreatedAt = id, now
			fresh = append(fresh, t)
			freshIdx = append(freshIdx, i)
			continue
		}
		// Replay (stored before, or a duplicate inside this batch): decided
		// after the fresh ones are fully written.
		results[i] = postRes{err: errReplayPending}
	}
	entries, err := s.applyBalances(ctx, tx, fresh, now)
	if err != nil {
		return nil, err
	}
	// Statement entries and postings in one round trip.
	wb := &pgx.Batch{}
	if len(entries.shop) > 0 {
		entries.queue(wb)
	}
	if len(fresh) > 0 {
		queuePostings(wb, fresh)
	}
	if wb.Len() > 0 {
		if err := tx.SendBatch(ctx, wb).Close(); err != nil {
			return nil, fmt.Errorf("postgres: entries and postings: %w", translate(err))
		}
	}
	for j, i := range freshIdx {
		results[i] = postRes{t: fresh[j]}
	}
	for i, t := range txs {
		if errors.Is(results[i].err, errReplayPending) {
			t, err := s.replay(ctx, tx, t)
			results[i] = postRes{t: t, err: err}
		}
	}
	return results, nil
}

var errReplayPending = errors.New("replay pending")

// applyBalances nets the deltas of many transactions per owner row, applies
// them in lock order with one statement and writes each transaction's
// statement entry with its running balance.
func (s *LedgerStore) applyBalances(ctx context.Context, tx pgx.Tx, ts []core.Transaction, now time.Time) (*entryCols, error) {
	type okey struct {
		shop int64
		cur  string
		o    core.Owner
	}
	type agg struct {
		k                  okey
		av, pe, he, ov     decimal.Decimal
		count              int64
		txs                []int // indexes into ts, in order
		deltas             []core.OwnerDelta
		fav, fpe, fhe, fov decimal.Decimal
		fver               int64
	}
	idx := map[okey]int{}
	var aggs []*agg
	for ti, t := range ts {
		for _, d := range t.Deltas {
			k := okey{t.ShopID, d.Currency, d.Owner}
			i, ok := idx[k]
			if !ok {
				i = len(aggs)
				idx[k] = i
				aggs = append(aggs, &agg{k: k})
			}
			a := aggs[i]
			a.av, a.pe, a.he, a.ov = a.av.Add(d.Available), a.pe.Add(d.Pending), a.he.Add(d.Held), a.ov.Add(d.Overdraft)
			a.count++
			a.txs = append(a.txs, ti)
			a.deltas = append(a.deltas, d)
		}
	}
	if len(aggs) == 0 {
		return &entryCols{}, nil
	}
	// global lock order
	sort.Slice(aggs, func(i, j int) bool {
		a, b := aggs[i].k, aggs[j].k
		if a.shop != b.shop {
			return a.shop < b.shop
		}
		return core.LessOwnerKey(a.cur, a.o, b.cur, b.o)
	})
	for i, a := range aggs {
		idx[a.k] = i
	}
	m := len(aggs)
	shop := make([]int64, m)
	cur := make([]string, m)
	ok := make([]string, m)
	oid := make([]string, m)
	av := make([]decimal.Decimal, m)
	pe := make([]decimal.Decimal, m)
	he := make([]decimal.Decimal, m)
	ov := make([]decimal.Decimal, m)
	cnt := make([]int64, m)
	for i, a := range aggs {
		shop[i], cur[i], ok[i], oid[i] = a.k.shop, a.k.cur, string(a.k.o.Kind), a.k.o.ID
		av[i], pe[i], he[i], ov[i], cnt[i] = a.av, a.pe, a.he, a.ov, a.count
	}
	rows, err := tx.Query(ctx, `INSERT INTO ledger_balances AS b (shop_id, currency, owner_kind, owner_id, available, pending, held, overdraft, version, updated_at)
SELECT s, c, k, o, a, p, h, v, n, $10 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::bigint[]) WITH ORDINALITY AS u(s, c, k, o, a, p, h, v, n, ord)
ORDER BY ord
ON CONFLICT (shop_id, currency, owner_kind, owner_id) DO UPDATE SET
	available = b.available + EXCLUDED.available,
	pending = b.pending + EXCLUDED.pending,
	held = b.held + EXCLUDED.held,
	overdraft = b.overdraft + EXCLUDED.overdraft,
	version = b.version + EXCLUDED.version,
	updated_at = EXCLUDED.updated_at
RETURNING shop_id, currency, owner_kind, owner_id, available, pending, held, overdraft, version`, shop, cur, ok, oid, av, pe, he, ov, cnt, now)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k okey
		var kind string
		var fav, fpe, fhe, fov decimal.Decimal
		var ver int64
		if err := rows.Scan(&k.shop, &k.cur, &kind, &k.o.ID, &fav, &fpe, &fhe, &fov, &ver); err != nil {
			rows.Close()
			return nil, err
		}
		k.o.Kind = core.OwnerKind(kind)
		a := aggs[idx[k]]
		a.fav, a.fpe, a.fhe, a.fov, a.fver = fav, fpe, fhe, fov, ver
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// entries: walk each owner's transactions backwards from the final
	// balance to get every running balance.
	var e entryCols
	for _, a := range aggs {
		cav, cpe, che, cov, ver := a.fav, a.fpe, a.fhe, a.fov, a.fver
		for j := len(a.txs) - 1; j >= 0; j-- {
			d := a.deltas[j]
			e.add(a.k.shop, a.k.cur, a.k.o, ver, ts[a.txs[j]].ID, d, cav, cpe, che, cov, now)
			ts[a.txs[j]].After = append(ts[a.txs[j]].After, core.Balance{ShopID: a.k.shop, Currency: a.k.cur, Owner: a.k.o, Available: cav, Pending: cpe, Held: che, Overdraft: cov, Version: ver})
			cav, cpe, che, cov, ver = cav.Sub(d.Available), cpe.Sub(d.Pending), che.Sub(d.Held), cov.Sub(d.Overdraft), ver-1
		}
	}
	return &e, nil
}

type entryCols struct {
	shop, seq, tx                  []int64
	cur, kind, oid                 []string
	da, dp, dh, do, aa, pa, ha, oa []decimal.Decimal
	at                             []time.Time
}

func (e *entryCols) add(shop int64, cur string, o core.Owner, seq, tx int64, d core.OwnerDelta, av, pe, he, ov decimal.Decimal, at time.Time) {
	e.shop, e.seq, e.tx = append(e.shop, shop), append(e.seq, seq), append(e.tx, tx)
	e.cur, e.kind, e.oid = append(e.cur, cur), append(e.kind, string(o.Kind)), append(e.oid, o.ID)
	e.da, e.dp, e.dh, e.do = append(e.da, d.Available), append(e.dp, d.Pending), append(e.dh, d.Held), append(e.do, d.Overdraft)
	e.aa, e.pa, e.ha, e.oa = append(e.aa, av), append(e.pa, pe), append(e.ha, he), append(e.oa, ov)
	e.at = append(e.at, at)
}

func (e *entryCols) queue(b *pgx.Batch) {
	b.Queue(insertEntriesSQL, e.shop, e.cur, e.kind, e.oid, e.seq, e.tx, e.da, e.dp, e.dh, e.do, e.aa, e.pa, e.ha, e.oa, e.at)
}

const insertEntriesSQL = `INSERT INTO ledger_entries (shop_id, currency, owner_kind, owner_id, seq, tx_id,
	d_available, d_pending, d_held, d_overdraft, available_after, pending_after, held_after, overdraft_after, created_at)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[], $15::timestamptz[])`
