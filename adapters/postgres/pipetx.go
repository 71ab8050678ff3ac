package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pipeTx is a database transaction whose BEGIN travels in the same round
// trip as its first statements and whose COMMIT travels with its last
// batch (see commitWith). pgx.BeginFunc spends a round trip on each; on
// the checkout path (Reserve) that is half of all round trips, and each
// costs a context switch on both sides of a busy machine.
//
// Safety rests on the protocol: a batch is executed in order up to its
// Sync, and once a statement fails the server skips the rest, COMMIT
// included, and the transaction is rolled back. So COMMIT in a batch
// commits only if every server-side statement before it succeeded; the
// caller must not rely on a client-side check of a result in that batch
// to abort the transaction (Reserve has none that could fail: its rows
// are locked in the first round trip).
//
// pipeTx implements pgx.Tx so the ledger's statement helpers work with it;
// it does not support nested transactions or large objects.
type pipeTx struct {
	c     *pgx.Conn
	begun bool // BEGIN was sent
	ended bool // COMMIT was sent (successfully or not)
}

var errPipeNested = errors.New("postgres: nested transactions are not supported in a pipelined transaction")

func (t *pipeTx) begin(ctx context.Context) error {
	if t.begun {
		return nil
	}
	t.begun = true
	_, err := t.c.Exec(ctx, "BEGIN")
	return err
}

// withBegin returns b, preceded by BEGIN if the transaction has not begun.
func (t *pipeTx) withBegin(b *pgx.Batch) *pgx.Batch {
	if t.begun {
		return b
	}
	t.begun = true
	nb := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(b.QueuedQueries)+2)}
	nb.Queue("BEGIN")
	nb.QueuedQueries = append(nb.QueuedQueries, b.QueuedQueries...)
	return nb
}

// commitWith sends b followed by COMMIT in one round trip.
func (t *pipeTx) commitWith(ctx context.Context, b *pgx.Batch) error {
	if t.ended {
		return pgx.ErrTxClosed
	}
	b = t.withBegin(b)
	t.ended = true
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() != "COMMIT" {
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	return t.c.SendBatch(ctx, b).Close()
}

func (t *pipeTx) Begin(context.Context) (pgx.Tx, error) { return nil, errPipeNested }

func (t *pipeTx) Commit(ctx context.Context) error {
	return t.commitWith(ctx, &pgx.Batch{})
}

// Rollback ends the transaction if it is still open on the connection
// (also after a failed commitWith, which leaves it aborted).
func (t *pipeTx) Rollback(ctx context.Context) error {
	if t.c.PgConn().TxStatus() == 'I' {
		return nil
	}
	_, err := t.c.Exec(ctx, "ROLLBACK")
	return err
}

func (t *pipeTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.c.CopyFrom(ctx, table, cols, src)
}

func (t *pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, t.withBegin(b))
}

func (t *pipeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *pipeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}

func (t *pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.begin(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.c.Exec(ctx, sql, args...)
}

func (t *pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return t.c.Query(ctx, sql, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (t *pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.begin(ctx); err != nil {
		return errRow{err}
	}
	return t.c.QueryRow(ctx, sql, args...)
}

func (t *pipeTx) Conn() *pgx.Conn { return t.c }

// inPipeTx runs fn in a pipelined transaction, committing it if fn has
// not (fn commits by sending its last batch with commitWith), and retries
// serialization failures and deadlocks like inTx.
func (s *LedgerStore) inPipeTx(ctx context.Context, fn func(*pipeTx) error) error {
	return s.withRetry(func() error { return s.pipeOnce(ctx, fn) })
}

func (s *LedgerStore) pipeOnce(ctx context.Context, fn func(*pipeTx) error) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection left inside a transaction (a failed ROLLBACK) is
	// destroyed by Release, never reused.
	defer pc.Release()
	t := &pipeTx{c: pc.Conn()}
	err = fn(t)
	if err == nil && !t.ended {
		err = t.Commit(ctx)
	}
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = t.Rollback(rctx)
		cancel()
	}
	return err
}
