package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Balance returns an owner's balances; an owner without entries has zero.
func (s *LedgerStore) Balance(ctx context.Context, shopID int64, currency string, owner core.Owner) (core.Balance, error) {
	return getBalance(ctx, s.pool, shopID, currency, owner)
}

func getBalance(ctx context.Context, q DBTX, shopID int64, currency string, owner core.Owner) (core.Balance, error) {
	b := core.Balance{ShopID: shopID, Currency: currency, Owner: owner}
	err := q.QueryRow(ctx, `SELECT available, pending, held, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4`, shopID, currency, string(owner.Kind), owner.ID).
		Scan(&b.Available, &b.Pending, &b.Held, &b.Overdraft, &b.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, nil
	}
	if err != nil {
		return b, fmt.Errorf("postgres: balance: %w", err)
	}
	return b, nil
}

// MaxStatementPage bounds a statement page.
const MaxStatementPage = 200

// Statement returns an owner's entries newest first, each with its running
// balances and reason, paginated by seq both ways (see core.StatementQuery).
func (s *LedgerStore) Statement(ctx context.Context, q core.StatementQuery) (core.StatementPage, error) {
	limit := q.Limit
	if limit <= 0 || limit > MaxStatementPage {
		limit = 50
	}
	forward := q.Before <= 0 && q.After > 0
	cond, order, bound := "e.seq < $5", "DESC", q.Before
	if forward {
		cond, order, bound = "e.seq > $5", "ASC", q.After
	} else if bound <= 0 {
		bound = 1<<63 - 1
	}
	hideHolds := ""
	if q.HideHolds {
		hideHolds = " AND t.reason->>'kind' NOT IN ('hold_place', 'hold_void', 'hold_expire')"
	}
	cond += hideHolds
	rows, err := s.pool.Query(ctx, `SELECT e.seq, e.tx_id, t.idem_key, t.reason, t.reverses, e.currency,
	e.d_available, e.d_pending, e.d_held, e.d_overdraft, e.available_after, e.pending_after, e.held_after, e.overdraft_after, e.created_at
FROM ledger_entries e JOIN ledger_transactions t ON t.shop_id = e.shop_id AND t.id = e.tx_id
WHERE e.shop_id = $1 AND e.currency = $2 AND e.owner_kind = $3 AND e.owner_id = $4 AND `+cond+`
ORDER BY e.seq `+order+` LIMIT $6`, q.ShopID, q.Currency, string(q.Owner.Kind), q.Owner.ID, bound, limit+1)
	if err != nil {
		return core.StatementPage{}, fmt.Errorf("postgres: statement: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.StatementEntry, error) {
		var e core.StatementEntry
		var reason []byte
		var rev *int64
		err := r.Scan(&e.Seq, &e.TransactionID, &e.Key, &reason, &rev, &e.Currency, &e.Available, &e.Pending, &e.Held, &e.Overdraft,
			&e.AvailableAfter, &e.PendingAfter, &e.HeldAfter, &e.OverdraftAfter, &e.CreatedAt)
		if err != nil {
			return e, err
		}
		if rev != nil {
			e.Reverses = *rev
		}
		return e, json.Unmarshal(reason, &e.Reason)
	})
	if err != nil {
		return core.StatementPage{}, fmt.Errorf("postgres: statement: %w", err)
	}
	more := len(entries) > limit
	if more {
		entries = entries[:limit]
	}
	page := core.StatementPage{Entries: entries}
	if forward {
		slices.Reverse(page.Entries)
		// Older entries exist: the page starts right after q.After.
		if len(page.Entries) > 0 {
			page.NextBefore = page.Entries[len(page.Entries)-1].Seq
		}
		if more {
			page.PrevAfter = page.Entries[0].Seq
		}
	} else {
		if more {
			page.NextBefore = entries[limit-1].Seq
		}
		if q.Before > 0 && len(page.Entries) > 0 {
			page.PrevAfter = page.Entries[0].Seq
		}
	}
	if page.Entries == nil {
		page.Entries = []core.StatementEntry{}
	}
	if page.Withheld, err = s.withheldNotices(ctx, q, page, hideHolds); err != nil {
		return core.StatementPage{}, err
	}
	return page, nil
}

// withheldNotices reads the credit earning caps withheld from the owner
// (or from an account linked to it: a guest or partner account whose
// credit moved to it) that falls into the page's stretch of time: from
// its oldest entry (open on the last page) to the next newer entry shown
// (open on the first page). Consecutive pages so show every notice once,
// beside the entries of its time; a notice is written in the transaction
// that froze its order's rates, so it shares that earning's timestamp.
func (s *LedgerStore) withheldNotices(ctx context.Context, q core.StatementQuery, page core.StatementPage, hide string) ([]core.WithheldNotice, error) {
	var from, to *time.Time
	if n := len(page.Entries); n > 0 {
		minE, maxE := page.Entries[0], page.Entries[0]
		for _, e := range page.Entries {
			if e.Seq < minE.Seq {
				minE = e
			}
			if e.Seq > maxE.Seq {
				maxE = e
			}
		}
		if page.NextBefore != 0 {
			t := minE.CreatedAt
			from = &t
		}
		if page.PrevAfter != 0 {
			var t time.Time
			err := s.pool.QueryRow(ctx, `SELECT e.created_at FROM ledger_entries e JOIN ledger_transactions t ON t.shop_id = e.shop_id AND t.id = e.tx_id
WHERE e.shop_id = $1 AND e.currency = $2 AND e.owner_kind = $3 AND e.owner_id = $4 AND e.seq > $5`+hide+`
ORDER BY e.seq LIMIT 1`, q.ShopID, q.Currency, string(q.Owner.Kind), q.Owner.ID, maxE.Seq).Scan(&t)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return nil, fmt.Errorf("postgres: statement: %w", err)
			}
			if err == nil {
				to = &t
			}
		}
	} else if q.Before > 0 || q.After > 0 {
		return nil, nil // an empty page inside the statement
	}
	rows, err := s.pool.Query(ctx, `SELECT w.order_id, max(w.order_number), w.beneficiary, w.cap, sum(w.amount), w.created_at
FROM earn_withheld w
WHERE w.shop_id = $1 AND w.currency = $2
	AND ((w.owner_kind = $3 AND w.owner_id = $4) OR EXISTS (SELECT 1 FROM owner_links l
		WHERE l.shop_id = w.shop_id AND l.from_kind = w.owner_kind AND l.from_id = w.owner_id AND l.to_kind = $3 AND l.to_id = $4))
	AND ($5::timestamptz IS NULL OR w.created_at >= $5) AND ($6::timestamptz IS NULL OR w.created_at < $6)
GROUP BY w.order_id, w.beneficiary, w.cap, w.created_at
ORDER BY w.created_at DESC, w.order_id, w.beneficiary, w.cap
LIMIT $7`, q.ShopID, q.Currency, string(q.Owner.Kind), q.Owner.ID, from, to, MaxStatementPage)
	if err != nil {
		return nil, fmt.Errorf("postgres: withheld credit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.WithheldNotice, error) {
		var w core.WithheldNotice
		return w, r.Scan(&w.OrderID, &w.OrderNumber, &w.Beneficiary, &w.Cap, &w.Amount, &w.CreatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: withheld credit: %w", err)
	}
	return out, nil
}

// ProgramBalances sums the program's buckets of a shop per currency by
// aggregation (there is no program balance row to contend on).
func (s *LedgerStore) ProgramBalances(ctx context.Context, shopID int64) (map[string]map[core.Bucket]decimal.Decimal, error) {
	rows, err := s.pool.Query(ctx, `SELECT currency, bucket, sum(amount) FROM ledger_postings
WHERE shop_id = $1 AND owner_kind = 'program' GROUP BY currency, bucket`, shopID)
	if err != nil {
		return nil, fmt.Errorf("postgres: program balances: %w", err)
	}
	defer rows.Close()
	out := map[string]map[core.Bucket]decimal.Decimal{}
	for rows.Next() {
		var cur, bucket string
		var sum decimal.Decimal
		if err := rows.Scan(&cur, &bucket, &sum); err != nil {
			return nil, err
		}
		if out[cur] == nil {
			out[cur] = map[core.Bucket]decimal.Decimal{}
		}
		out[cur][core.Bucket(bucket)] = sum
	}
	return out, rows.Err()
}

// TransactionsForOrder lists an order's transactions in id order.
func (s *LedgerStore) TransactionsForOrder(ctx context.Context, shopID int64, orderID string) ([]core.Transaction, error) {
	return txsForOrder(ctx, s.pool, shopID, orderID)
}

// orderTxsSQL runs for every order event, mostly for orders with no
// transactions yet. Its shape pins the plan: the order's transactions by
// the (shop, order) index, then each one's postings by primary key. As a
// plain join the planner could, with statistics that lag a fast-growing
// shop, hash-join the shop's postings instead (seen: 0.6 ms instead of
// 0.03 ms per event).
const orderTxsSQL = `SELECT t.id, t.idem_key, t.reason, t.reverses, t.created_at,
	p.currency, p.owner_kind, p.owner_id, p.bucket, p.amount
FROM (SELECT id, idem_key, reason, reverses, created_at FROM ledger_transactions WHERE shop_id = $1 AND order_id = $2 OFFSET 0) t
CROSS JOIN LATERAL (SELECT seq, currency, owner_kind, owner_id, bucket, amount FROM ledger_postings WHERE shop_id = $1 AND tx_id = t.id OFFSET 0) p
ORDER BY t.id, p.seq`

func txsForOrder(ctx context.Context, q DBTX, shopID int64, orderID string) ([]core.Transaction, error) {
	rows, err := q.Query(ctx, orderTxsSQL, shopID, orderID)
	if err != nil {
		return nil, fmt.Errorf("postgres: order transactions: %w", err)
	}
	return collectOrderTxs(rows, shopID)
}

func collectOrderTxs(rows pgx.Rows, shopID int64) ([]core.Transaction, error) {
	defer rows.Close()
	var out []core.Transaction
	for rows.Next() {
		var r txRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		var err error
		if out, err = r.appendTo(out, shopID); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// txRow is one row of orderTxsSQL: a transaction with one of its postings.
type txRow struct {
	id      int64
	key     string
	reason  []byte
	rev     *int64
	created time.Time
	p       core.Posting
	kind    string
	bucket  string
}

func (r *txRow) dest() []any {
	return []any{&r.id, &r.key, &r.reason, &r.rev, &r.created, &r.p.Currency, &r.kind, &r.p.Owner.ID, &r.bucket, &r.p.Amount}
}

// appendTo adds the row to out (rows come ordered by transaction, then
// posting): a new transaction, or one more posting of the last one.
func (r *txRow) appendTo(out []core.Transaction, shopID int64) ([]core.Transaction, error) {
	p := r.p
	p.Owner.Kind, p.Bucket = core.OwnerKind(r.kind), core.Bucket(r.bucket)
	if len(out) == 0 || out[len(out)-1].ID != r.id {
		t := core.Transaction{ID: r.id, ShopID: shopID, Key: r.key, CreatedAt: r.created}
		if r.rev != nil {
			t.Reverses = *r.rev
		}
		if err := json.Unmarshal(r.reason, &t.Reason); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	last := &out[len(out)-1]
	last.Postings = append(last.Postings, p)
	return out, nil
}
