package main

import (
	"context"
	"fmt"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresPool reads the server's database to watch progress.
type postgresPool struct{ *pgxpool.Pool }

func openServerDB(ctx context.Context, url string) (*postgresPool, error) {
	p, err := postgres.Open(ctx, url, 2)
	if err != nil {
		return nil, err
	}
	return &postgresPool{p}, nil
}

// processed counts the shop's inbox events that are done, given how many
// were accepted: it counts those still waiting (on the small partial
// index of unprocessed events) instead of scanning every processed one,
// which would load the server it measures.
func (p *postgresPool) processed(ctx context.Context, shopID, accepted int64) (int64, error) {
	var waiting int64
	err := p.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE status = 'received' AND shop_id = $1`, shopID).Scan(&waiting)
	return accepted - waiting, err
}

// creditedOrders counts orders with at least one earning.
func (p *postgresPool) creditedOrders(ctx context.Context, shopID int64) (int64, error) {
	var n int64
	err := p.QueryRow(ctx, `SELECT count(DISTINCT order_id) FROM ledger_transactions WHERE shop_id = $1 AND kind = 'earn'`, shopID).Scan(&n)
	return n, err
}

// maintainedTables are the tables autovacuum would keep analyzed (and
// vacuumed) while a benchmark writes to them.
// Partners (and what partner chains, tiers and caps write) are among
// them: without an ANALYZE after the bench's 1,500 partners were enrolled,
// a plan made for an empty partners table scans the shop's partners for
// every referral.
var maintainedTables = []string{"ledger_transactions", "ledger_postings", "ledger_balances", "ledger_entries", "ledger_holds",
	"inbox", "orders", "order_rate_sets", "order_refunds", "customers", "vouchers",
	"partners", "owner_links", "referral_bindings", "tier_activity", "memberships", "customer_tiers", "earn_withheld", "earn_year_caps"}

// autovacuumStandIn stands in for PostgreSQL's autovacuum when the server
// runs with it turned off (as this project's CI machine does): without
// it, table statistics never change, cached plans made while a table was
// empty stay in use as it grows, and updated rows are never reclaimed,
// which a production server (autovacuum on by default) never shows. Every
// interval it applies autovacuum's default rules to the benchmark's tables
// (ANALYZE after 50 + 10% of the rows changed; VACUUM after 50 + 20% dead
// or 1000 + 20% inserted rows), throttled like autovacuum (cost delay
// 2 ms, cost limit 200), until the returned stop is called. With
// autovacuum on it does nothing.
func autovacuumStandIn(ctx context.Context, pool *pgxpool.Pool, every time.Duration) (stop func()) {
	var on string
	if err := pool.QueryRow(ctx, `SHOW autovacuum`).Scan(&on); err != nil || on == "on" {
		return func() {}
	}
	fmt.Printf("note: the server runs with autovacuum = off; standing in for it (default thresholds, checked every %s)\n", every)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return func() {}
	}
	_, _ = conn.Exec(ctx, `SET vacuum_cost_delay = '2ms'`)
	_, _ = conn.Exec(ctx, `SET vacuum_cost_limit = 200`)
	run := func() {
		rows, err := conn.Query(ctx, `SELECT s.relname,
	s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0) OR s.n_ins_since_vacuum > 1000 + 0.2 * greatest(c.reltuples, 0),
	s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema() AND s.relname = ANY($1)`, maintainedTables)
		if err != nil {
			return
		}
		type job struct {
			table           string
			vacuum, analyze bool
		}
		var jobs []job
		for rows.Next() {
			var j job
			if rows.Scan(&j.table, &j.vacuum, &j.analyze) == nil {
				jobs = append(jobs, j)
			}
		}
		rows.Close()
		for _, j := range jobs {
			switch {
			case j.vacuum:
				_, _ = conn.Exec(ctx, `VACUUM (ANALYZE, SKIP_LOCKED) `+pgx.Identifier{j.table}.Sanitize())
			case j.analyze:
				_, _ = conn.Exec(ctx, `ANALYZE (SKIP_LOCKED) `+pgx.Identifier{j.table}.Sanitize())
			}
		}
	}
	run()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		defer conn.Release()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				run()
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// auditShop runs the ledger audit of the shop a run created, prints it
// with how long it took, and fails unless every invariant holds.
func auditShop(ctx context.Context, pool *pgxpool.Pool, shopID int64) error {
	a0 := time.Now()
	r, err := postgres.Audit(ctx, pool, shopID)
	if err != nil {
		return err
	}
	fmt.Printf("audit (%s): %s", time.Since(a0).Round(time.Millisecond), r)
	if !r.OK() {
		return fmt.Errorf("audit failed")
	}
	return nil
}
