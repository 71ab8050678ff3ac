package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/jackc/pgx/v5"
)

// TestPipeTxIsOneTransaction checks the pipelined transaction used by
// checkout quotes: BEGIN rides with the first batch and COMMIT with the
// last, and a failure anywhere (a statement of the committing batch, or
// the caller between batches) leaves nothing behind and no connection
// stuck inside a transaction.
func TestPipeTxIsOneTransaction(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE pipe_probe (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pipe_probe`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(ids ...int) *pgx.Batch {
		b := &pgx.Batch{}
		for _, id := range ids {
			b.Queue(`INSERT INTO pipe_probe VALUES ($1)`, id)
		}
		return b
	}
	// The committing batch fails on its last statement: the first batch's
	// row and the committing batch's first row are both rolled back.
	err := postgres.PipeTxForTest(ctx, s, func(tx pgx.Tx, commit func(*pgx.Batch) error) error {
		if err := tx.SendBatch(ctx, insert(1)).Close(); err != nil {
			return err
		}
		return commit(insert(2, 1))
	})
	if err == nil {
		t.Fatal("duplicate key in the committing batch: want an error")
	}
	if n := count(); n != 0 {
		t.Fatalf("after a failed commit batch: %d rows, want 0", n)
	}
	// The caller fails between batches: rolled back.
	boom := errors.New("decided against it")
	err = postgres.PipeTxForTest(ctx, s, func(tx pgx.Tx, commit func(*pgx.Batch) error) error {
		if err := tx.SendBatch(ctx, insert(1)).Close(); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("caller error: got %v", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("after a caller error: %d rows, want 0", n)
	}
	// Success with an explicit commit batch, then without one (committed
	// by the runner).
	for i, withCommit := range []bool{true, false} {
		err = postgres.PipeTxForTest(ctx, s, func(tx pgx.Tx, commit func(*pgx.Batch) error) error {
			if err := tx.SendBatch(ctx, insert(10*i+1)).Close(); err != nil {
				return err
			}
			if withCommit {
				return commit(insert(10*i + 2))
			}
			_, err := tx.Exec(ctx, `INSERT INTO pipe_probe VALUES ($1)`, 10*i+2)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 4 {
		t.Fatalf("after two commits: %d rows, want 4", n)
	}
	// Every connection went back to the pool outside a transaction: many
	// more transactions than the pool has connections still work.
	for i := 0; i < 20; i++ {
		err = postgres.PipeTxForTest(ctx, s, func(tx pgx.Tx, commit func(*pgx.Batch) error) error {
			if err := tx.SendBatch(ctx, insert(1)).Close(); err != nil {
				return err
			}
			return commit(insert(100 + i))
		})
		if err == nil {
			t.Fatal("duplicate key in the first batch: want an error")
		}
	}
	if n := count(); n != 4 {
		t.Fatalf("after failing first batches: %d rows, want 4", n)
	}
}
