package postgres

import (
	"context"
	"fmt"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxFindingsPerCheck keeps a report readable on a badly broken database.
const maxFindingsPerCheck = 100

type auditQuery struct {
	check    string
	severity string
	sql      string // selects (shop_id, detail text); $1 = shop id or 0 for all
}

var auditQueries = []auditQuery{
	{core.CheckBalanced, core.SeverityError, `
SELECT shop_id, format('transaction %s: postings in %s sum to %s', tx_id, currency, s)
FROM (SELECT shop_id, tx_id, currency, sum(amount) AS s FROM ledger_postings WHERE ($1::bigint = 0 OR shop_id = $1) GROUP BY 1, 2, 3) x
WHERE s <> 0
UNION ALL
SELECT t.shop_id, format('transaction %s (%s) has %s posting(s)', t.id, t.idem_key, count(p.seq))
FROM ledger_transactions t LEFT JOIN ledger_postings p ON p.shop_id = t.shop_id AND p.tx_id = t.id
WHERE ($1::bigint = 0 OR t.shop_id = $1) GROUP BY t.shop_id, t.id, t.idem_key HAVING count(p.seq) < 2
UNION ALL
SELECT p.shop_id, format('posting %s/%s references no transaction', p.tx_id, p.seq)
FROM ledger_postings p LEFT JOIN ledger_transactions t ON t.shop_id = p.shop_id AND t.id = p.tx_id
WHERE ($1::bigint = 0 OR p.shop_id = $1) AND t.id IS NULL
UNION ALL
SELECT e.shop_id, format('statement entry %s %s:%s #%s references no transaction', e.currency, e.owner_kind, e.owner_id, e.seq)
FROM ledger_entries e LEFT JOIN ledger_transactions t ON t.shop_id = e.shop_id AND t.id = e.tx_id
WHERE ($1::bigint = 0 OR e.shop_id = $1) AND t.id IS NULL`},
	{core.CheckBalanceRows, core.SeverityError, `
WITH p AS (
	SELECT shop_id, currency, owner_kind, owner_id,
		coalesce(sum(amount) FILTER (WHERE bucket = 'available'), 0) AS av,
		coalesce(sum(amount) FILTER (WHERE bucket = 'pending'), 0) AS pe,
		coalesce(sum(amount) FILTER (WHERE bucket = 'held'), 0) AS he,
		coalesce(sum(amount) FILTER (WHERE bucket = 'overdraft'), 0) AS ov
	FROM ledger_postings WHERE owner_kind <> 'program' AND ($1::bigint = 0 OR shop_id = $1) GROUP BY 1, 2, 3, 4),
b AS (SELECT * FROM ledger_balances WHERE ($1::bigint = 0 OR shop_id = $1))
SELECT coalesce(b.shop_id, p.shop_id), format('%s %s:%s stored available/pending/held/overdraft %s/%s/%s/%s but postings sum to %s/%s/%s/%s',
	coalesce(b.currency, p.currency), coalesce(b.owner_kind, p.owner_kind), coalesce(b.owner_id, p.owner_id),
	coalesce(b.available, 0), coalesce(b.pending, 0), coalesce(b.held, 0), coalesce(b.overdraft, 0),
	coalesce(p.av, 0), coalesce(p.pe, 0), coalesce(p.he, 0), coalesce(p.ov, 0))
FROM b FULL JOIN p USING (shop_id, currency, owner_kind, owner_id)
WHERE coalesce(b.available, 0) <> coalesce(p.av, 0) OR coalesce(b.pending, 0) <> coalesce(p.pe, 0)
   OR coalesce(b.held, 0) <> coalesce(p.he, 0) OR coalesce(b.overdraft, 0) <> coalesce(p.ov, 0)`},
	{core.CheckEntries, core.SeverityError, `
WITH last AS (
	SELECT DISTINCT ON (shop_id, currency, owner_kind, owner_id) shop_id, currency, owner_kind, owner_id, seq,
		available_after, pending_after, held_after, overdraft_after
	FROM ledger_entries WHERE ($1::bigint = 0 OR shop_id = $1) ORDER BY shop_id, currency, owner_kind, owner_id, seq DESC),
cnt AS (SELECT shop_id, currency, owner_kind, owner_id, count(*) AS n FROM ledger_entries WHERE ($1::bigint = 0 OR shop_id = $1) GROUP BY 1, 2, 3, 4)
SELECT b.shop_id, format('%s %s:%s statement ends at seq %s with %s/%s/%s/%s (%s entries) but balance row says %s/%s/%s/%s version %s',
	b.currency, b.owner_kind, b.owner_id, l.seq, l.available_after, l.pending_after, l.held_after, l.overdraft_after, c.n,
	b.available, b.pending, b.held, b.overdraft, b.version)
FROM ledger_balances b
LEFT JOIN last l USING (shop_id, currency, owner_kind, owner_id)
LEFT JOIN cnt c USING (shop_id, currency, owner_kind, owner_id)
WHERE ($1::bigint = 0 OR b.shop_id = $1) AND (l.seq IS DISTINCT FROM b.version OR c.n IS DISTINCT FROM b.version
	OR l.available_after <> b.available OR l.pending_after <> b.pending OR l.held_after <> b.held OR l.overdraft_after <> b.overdraft)`},
	{core.CheckNonNegative, core.SeverityError, `
SELECT shop_id, format('%s %s:%s available=%s pending=%s held=%s overdraft=%s', currency, owner_kind, owner_id, available, pending, held, overdraft)
FROM ledger_balances WHERE ($1::bigint = 0 OR shop_id = $1) AND (available < 0 OR pending < 0 OR held < 0 OR overdraft > 0)
UNION ALL
SELECT shop_id, format('%s %s:%s went below zero in entry %s (available=%s pending=%s held=%s)', currency, owner_kind, owner_id, seq, available_after, pending_after, held_after)
FROM ledger_entries WHERE ($1::bigint = 0 OR shop_id = $1) AND (available_after < 0 OR pending_after < 0 OR held_after < 0 OR overdraft_after > 0)`},
	{core.CheckHoldsResolved, core.SeverityError, `
SELECT h.shop_id, format('hold %s is %s but has %s resolving transaction(s)', h.id, h.status, count(t.id))
FROM ledger_holds h LEFT JOIN ledger_transactions t ON t.shop_id = h.shop_id AND t.kind IN ('hold_capture', 'hold_void', 'hold_expire') AND t.reason->>'hold_id' = h.id::text
WHERE ($1::bigint = 0 OR h.shop_id = $1)
GROUP BY h.shop_id, h.id, h.status
HAVING count(t.id) > 1 OR (h.status = 'open') <> (count(t.id) = 0)`},
	{core.CheckHeldMatchesOpen, core.SeverityError, `
WITH o AS (SELECT shop_id, currency, owner_kind, owner_id, sum(amount) AS s FROM ledger_holds WHERE status = 'open' AND ($1::bigint = 0 OR shop_id = $1) GROUP BY 1, 2, 3, 4)
SELECT coalesce(b.shop_id, o.shop_id), format('%s %s:%s held=%s but open holds sum to %s', coalesce(b.currency, o.currency), coalesce(b.owner_kind, o.owner_kind), coalesce(b.owner_id, o.owner_id), coalesce(b.held, 0), coalesce(o.s, 0))
FROM (SELECT * FROM ledger_balances WHERE ($1::bigint = 0 OR shop_id = $1) AND held <> 0) b FULL JOIN o USING (shop_id, currency, owner_kind, owner_id)
WHERE coalesce(b.held, 0) <> coalesce(o.s, 0)`},
	// What the orders could ever earn: per (order, line, beneficiary) the
	// frozen unit rate times the ordered quantity of the stored snapshot,
	// rounded up to a whole unit (so rounding never shows up as a
	// finding). No slot may have earned more; no owner may hold more than
	// its slots' bounds plus what grants gave it (adjustments, activity
	// rewards: every kind that is not a movement of earned credit or a
	// return of spent credit). Earn transactions
	// posted without any stored order (tests, the ledger benchmark) have
	// no bound and count as what they earned.
	{core.CheckEarnedBound, core.SeverityError, `
WITH slot AS (
	SELECT shop_id, currency, owner_kind, owner_id, order_id, line_id, ben, sum(amount) AS earned FROM (
		-- one line per transaction (posted before per-order earnings)
		SELECT t.shop_id, p.currency, p.owner_kind, p.owner_id, t.order_id, t.reason->>'line_id' AS line_id, t.reason->>'beneficiary' AS ben, p.amount
		FROM ledger_transactions t JOIN ledger_postings p ON p.shop_id = t.shop_id AND p.tx_id = t.id
		WHERE t.kind IN ('earn', 'earn_reversal') AND p.owner_kind <> 'program' AND ($1::bigint = 0 OR t.shop_id = $1)
			AND jsonb_typeof(t.reason->'lines') IS DISTINCT FROM 'array'
		UNION ALL
		-- one transaction per (order, beneficiary): its lines carry their amounts (one owner per transaction)
		SELECT t.shop_id, o.currency, o.owner_kind, o.owner_id, t.order_id, l->>'line_id', t.reason->>'beneficiary', (l->>'amount')::numeric
		FROM ledger_transactions t CROSS JOIN LATERAL jsonb_array_elements(t.reason->'lines') l
		JOIN LATERAL (SELECT DISTINCT p.currency, p.owner_kind, p.owner_id FROM ledger_postings p
			WHERE p.shop_id = t.shop_id AND p.tx_id = t.id AND p.owner_kind <> 'program') o ON true
		WHERE t.kind IN ('earn', 'earn_reversal') AND ($1::bigint = 0 OR t.shop_id = $1) AND jsonb_typeof(t.reason->'lines') = 'array') x
	GROUP BY 1, 2, 3, 4, 5, 6, 7),
bounded AS (
	SELECT s.*, CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = s.shop_id AND o.order_id = s.order_id AND o.snapshot IS NOT NULL)
		THEN coalesce(b.maxc, 0) END AS maxc
	FROM slot s LEFT JOIN LATERAL (
		SELECT ceil(max((r.rate->>'unit_rate')::numeric * greatest((l->>'Quantity')::numeric, 0))) AS maxc
		FROM order_rates r JOIN orders o ON o.shop_id = r.shop_id AND o.order_id = r.order_id
		CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(o.snapshot->'Lines') = 'array' THEN o.snapshot->'Lines' ELSE '[]' END) l
		WHERE r.shop_id = s.shop_id AND r.order_id = s.order_id AND r.line_id = s.line_id AND r.beneficiary = s.ben AND l->>'LineID' = s.line_id) b ON true),
own AS (SELECT shop_id, currency, owner_kind, owner_id, sum(coalesce(maxc, greatest(earned, 0))) AS maxc FROM bounded GROUP BY 1, 2, 3, 4),
adj AS (
	SELECT p.shop_id, p.currency, p.owner_kind, p.owner_id, sum(p.amount) AS added
	FROM ledger_transactions t JOIN ledger_postings p ON p.shop_id = t.shop_id AND p.tx_id = t.id
	WHERE t.kind NOT IN ('earn', 'earn_reversal', 'hold_place', 'hold_capture', 'hold_void', 'hold_expire', 'redeem', 'redeem_reversal',
		'overdraft_settle', 'voucher_issue', 'voucher_settle', 'voucher_return', 'voucher_failed', 'mature', 'store_credit_use', 'store_credit_back')
		AND p.owner_kind <> 'program' AND p.amount > 0 AND ($1::bigint = 0 OR t.shop_id = $1)
	GROUP BY 1, 2, 3, 4)
SELECT shop_id, format('order %s line %s (%s): %s %s:%s earned %s, more than the order could ever earn (%s)', order_id, line_id, ben, currency, owner_kind, owner_id, earned, maxc)
FROM bounded WHERE maxc IS NOT NULL AND earned > maxc
UNION ALL
SELECT b.shop_id, format('%s %s:%s holds %s (available+pending+held-overdraft) but its orders could earn at most %s and grants (adjustments, activities) gave %s',
	b.currency, b.owner_kind, b.owner_id, b.available + b.pending + b.held + b.overdraft, coalesce(own.maxc, 0), coalesce(adj.added, 0))
FROM ledger_balances b LEFT JOIN own USING (shop_id, currency, owner_kind, owner_id) LEFT JOIN adj USING (shop_id, currency, owner_kind, owner_id)
WHERE ($1::bigint = 0 OR b.shop_id = $1) AND b.available + b.pending + b.held + b.overdraft > coalesce(own.maxc, 0) + coalesce(adj.added, 0)`},
	// A per-order earn or earn_reversal transaction carries its lines with
	// their amounts (reason.lines): refunds and the earned-bound check read
	// per-line credit from there, so they must add up to what the
	// transaction moved for its one beneficiary.
	{core.CheckEarnLines, core.SeverityError, `
SELECT t.shop_id, format('transaction %s (%s): its lines add up to %s, its postings move %s for %s owner(s)', t.id, t.idem_key, l.s, o.s, o.n)
FROM ledger_transactions t
CROSS JOIN LATERAL (SELECT coalesce(sum((x->>'amount')::numeric), 0) AS s FROM jsonb_array_elements(t.reason->'lines') x) l
CROSS JOIN LATERAL (SELECT coalesce(sum(p.amount), 0) AS s, count(DISTINCT (p.owner_kind, p.owner_id)) AS n FROM ledger_postings p
	WHERE p.shop_id = t.shop_id AND p.tx_id = t.id AND p.owner_kind <> 'program') o
WHERE t.kind IN ('earn', 'earn_reversal') AND jsonb_typeof(t.reason->'lines') = 'array' AND ($1::bigint = 0 OR t.shop_id = $1)
	AND (l.s <> o.s OR o.n <> 1)`},
	{core.CheckOverdraft, core.SeverityNotice, `
SELECT shop_id, format('%s %s:%s has an overdraft of %s (offset by later earnings)', currency, owner_kind, owner_id, -overdraft)
FROM ledger_balances WHERE ($1::bigint = 0 OR shop_id = $1) AND overdraft < 0`},
}

// Audit checks every ledger invariant for one shop (or all with shopID 0)
// inside one REPEATABLE READ snapshot, so concurrent writes cannot produce
// false findings.
func Audit(ctx context.Context, pool *pgxpool.Pool, shopID int64) (core.AuditReport, error) {
	r := core.AuditReport{ShopID: shopID, Findings: []core.AuditFinding{}}
	tx, err := pool.BeginTx(ctx, txOptsSnapshot)
	if err != nil {
		return r, fmt.Errorf("postgres: audit: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	// Every check reads a whole shop (or everything): hash joins are right.
	// With stale statistics (a shop that grew since the last ANALYZE) the
	// planner otherwise picks nested loops that take minutes instead of
	// seconds.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return r, fmt.Errorf("postgres: audit: %w", err)
	}
	err = tx.QueryRow(ctx, `SELECT
	(SELECT count(*) FROM ledger_transactions WHERE ($1::bigint = 0 OR shop_id = $1)),
	(SELECT count(*) FROM ledger_postings WHERE ($1::bigint = 0 OR shop_id = $1)),
	(SELECT count(*) FROM ledger_balances WHERE ($1::bigint = 0 OR shop_id = $1)),
	(SELECT count(*) FROM ledger_holds WHERE ($1::bigint = 0 OR shop_id = $1))`, shopID).Scan(&r.Transactions, &r.Postings, &r.Accounts, &r.Holds)
	if err != nil {
		return r, fmt.Errorf("postgres: audit counts: %w", err)
	}
	for _, q := range auditQueries {
		rows, err := tx.Query(ctx, q.sql+fmt.Sprintf("\nLIMIT %d", maxFindingsPerCheck), shopID)
		if err != nil {
			return r, fmt.Errorf("postgres: audit %s: %w", q.check, err)
		}
		for rows.Next() {
			f := core.AuditFinding{Check: q.check, Severity: q.severity}
			if err := rows.Scan(&f.ShopID, &f.Detail); err != nil {
				rows.Close()
				return r, fmt.Errorf("postgres: audit %s: %w", q.check, err)
			}
			r.Findings = append(r.Findings, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return r, fmt.Errorf("postgres: audit %s: %w", q.check, err)
		}
	}
	return r, nil
}
