package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/datev"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
)

// exportSchema is the export mode's own schema, dropped and rebuilt per
// run so runs do not slow each other down.
const exportSchema = "cbbench_export"

// runExport seeds one month (March 2026, Berlin time) of a fresh shop with
// n ledger transactions, set-based and insert-only (the append-only
// triggers stay on): 80 % earn 2.00 for distinct customers, 20 % of those
// customers redeem 0.50 a second later (with the order's tax split, so
// the export looks each redemption's split up). Each transaction has two postings
// and a statement entry, and every customer a balance row, so the audit
// holds. Then it streams the month's DATEV Buchungsstapel to a byte
// counter and builds the period report, and prints the duration and the
// process's peak RSS (VmHWM).
func runExport(ctx context.Context, url string, n int) error {
	if !strings.Contains(url, "search_path=") {
		return fmt.Errorf("the export mode needs a search_path in -db")
	}
	url = replaceSearchPath(url, exportSchema)
	pool, err := postgres.Open(ctx, url, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+exportSchema+" CASCADE; CREATE SCHEMA "+exportSchema); err != nil {
		return err
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		return err
	}
	shop := core.Shop{ID: 1, Currency: "EUR", Settings: core.ShopSettings{Accounting: core.AccountingSettings{ConsultantNumber: 1001, ClientNumber: 1}}}
	customers := int64(n) * 4 / 5
	loc := shop.Settings.AccountingLocation()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	month := time.Date(2026, 4, 1, 0, 0, 0, 0, loc).Sub(base) - 2*time.Second
	step := month.Microseconds() / customers
	fmt.Printf("mode=export transactions=%d postings=%d customers=%d schema=%s\n", customers+customers/4, 2*(customers+customers/4), customers, exportSchema)
	t0 := time.Now()
	const chunk = 100_000
	for lo := int64(1); lo <= customers; lo += chunk {
		hi := min(lo+chunk-1, customers)
		if _, err := pool.Exec(ctx, seedSQL, shop.ID, base, step, lo, hi); err != nil {
			return fmt.Errorf("seed %d..%d: %w", lo, hi, err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO ledger_balances (shop_id, currency, owner_kind, owner_id, available, version)
SELECT $1, 'EUR', 'customer', 'c:' || j, CASE WHEN j % 4 = 0 THEN 1.50 ELSE 2.00 END, CASE WHEN j % 4 = 0 THEN 2 ELSE 1 END
FROM generate_series(1, $2::bigint) j`, shop.ID, customers); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, "ANALYZE ledger_transactions; ANALYZE ledger_postings"); err != nil {
		return err
	}
	fmt.Printf("seeded in %s\n", time.Since(t0).Round(time.Millisecond))

	store := postgres.NewLedgerStore(pool, 1)
	defer store.Close()
	p, err := core.ParsePeriod("2026-03-01", "2026-04-01", loc)
	if err != nil {
		return err
	}
	h, a, err := datev.Prepare(shop, "EUR", p, time.Now())
	if err != nil {
		return err
	}
	var cw countingWriter
	t1 := time.Now()
	lines, err := datev.Export(ctx, bufio.NewWriterSize(&cw, 64<<10), store, shop.ID, a, h, p)
	if err != nil {
		return err
	}
	dExport := time.Since(t1)
	fmt.Printf("DATEV export: %d booking lines, %.1f MB in %s (%.0f lines/s); peak RSS %s\n", lines, float64(cw.n)/1e6,
		dExport.Round(time.Millisecond), float64(lines)/dExport.Seconds(), peakRSS())
	t2 := time.Now()
	rep, err := core.BuildPeriodReport(ctx, store, shop, "EUR", p)
	if err != nil {
		return err
	}
	fmt.Printf("period report: %d postings, issued %s, redeemed %s, closing liability %s in %s; peak RSS %s\n", rep.Postings,
		rep.Issued.StringFixed(2), rep.Redeemed.StringFixed(2), rep.ClosingLiability.StringFixed(2), time.Since(t2).Round(time.Millisecond), peakRSS())
	return auditShop(context.Background(), pool, shop.ID)
}

// seedSQL inserts the transactions of customers $4..$5 in time order with
// their postings and statement entries (one statement, set-based).
const seedSQL = `WITH src AS (
	SELECT j, 'earn' AS kind, 1 AS step, $2::timestamptz + (j - 1) * $3::bigint * interval '1 microsecond' AS at
	FROM generate_series($4::bigint, $5::bigint) j
	UNION ALL
	SELECT j, 'redeem', 2, $2::timestamptz + (j - 1) * $3::bigint * interval '1 microsecond' + interval '1 second'
	FROM generate_series($4::bigint, $5::bigint) j WHERE j % 4 = 0
), tx AS (
	INSERT INTO ledger_transactions (shop_id, idem_key, content_hash, kind, order_id, reason, created_at)
	SELECT $1, 'bench:' || kind || ':' || j, decode(md5(kind || j), 'hex'), kind, 'o' || j,
		CASE WHEN kind = 'earn' THEN jsonb_build_object('kind', 'earn', 'order_id', 'o' || j, 'order_number', '#' || j, 'line_id', '1', 'rule', 'default 5%')
		ELSE jsonb_build_object('kind', 'redeem', 'order_id', 'o' || j, 'order_number', '#' || j, 'note', 'credit used without a matching hold') END,
		at
	FROM src ORDER BY at, step
	RETURNING id, kind, order_id, created_at
), po AS (
	INSERT INTO ledger_postings (shop_id, tx_id, seq, currency, owner_kind, owner_id, bucket, amount)
	SELECT $1, tx.id, p.seq, 'EUR', p.okind, p.oid, p.bucket, p.amount
	FROM tx CROSS JOIN LATERAL (VALUES
		(1, 'program', '', CASE WHEN tx.kind = 'earn' THEN 'issued' ELSE 'redeemed' END, CASE WHEN tx.kind = 'earn' THEN -2.00 ELSE 0.50 END),
		(2, 'customer', 'c:' || substr(tx.order_id, 2), 'available', CASE WHEN tx.kind = 'earn' THEN 2.00 ELSE -0.50 END)
	) p(seq, okind, oid, bucket, amount)
	RETURNING 1
), red AS (
	-- the tax split the redemption path records: 0.50 = 0.42 net + 0.08 VAT at 19 %
	INSERT INTO order_redemptions (shop_id, order_id, kind, code, currency, amount, net, tax, tax_source, prices_include_tax)
	SELECT $1, order_id, 'discount', 'CREDIT', 'EUR', 0.50, 0.42, 0.08, 'platform', true FROM tx WHERE kind = 'redeem'
	RETURNING 1
)
INSERT INTO ledger_entries (shop_id, currency, owner_kind, owner_id, seq, tx_id, d_available, d_pending, d_held, d_overdraft,
	available_after, pending_after, held_after, overdraft_after, created_at)
SELECT $1, 'EUR', 'customer', 'c:' || substr(order_id, 2), CASE WHEN kind = 'earn' THEN 1 ELSE 2 END, id,
	CASE WHEN kind = 'earn' THEN 2.00 ELSE -0.50 END, 0, 0, 0, CASE WHEN kind = 'earn' THEN 2.00 ELSE 1.50 END, 0, 0, 0, created_at
FROM tx`

func replaceSearchPath(url, schema string) string {
	i := strings.Index(url, "search_path=")
	j := strings.IndexByte(url[i:], '&')
	if j < 0 {
		return url[:i] + "search_path=" + schema
	}
	return url[:i] + "search_path=" + schema + url[i+j:]
}

// countingWriter discards what it is given and counts the bytes.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// peakRSS reads the process's peak resident set size (VmHWM) from
// /proc/self/status.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb int64
			_, _ = fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmHWM:"), "kB")), &kb)
			return fmt.Sprintf("%.1f MB", float64(kb)/1024)
		}
	}
	return "unknown"
}
