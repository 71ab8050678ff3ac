package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// PipeTxForTest runs fn in a pipelined transaction (see pipeTx); commit
// sends its batch with COMMIT.
func PipeTxForTest(ctx context.Context, s *LedgerStore, fn func(tx pgx.Tx, commit func(*pgx.Batch) error) error) error {
	return s.inPipeTx(ctx, func(t *pipeTx) error {
		return fn(t, func(b *pgx.Batch) error { return t.commitWith(ctx, b) })
	})
}

// SetClockForTest makes s stamp new transactions and holds with now.
func SetClockForTest(s *LedgerStore, now func() time.Time) { s.now = now }
