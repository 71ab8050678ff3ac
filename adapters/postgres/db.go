package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditbridge/creditbridge/core"
	pgxdecimal "github.com/jackc/pgx-shopspring-decimal"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects a pool to url (a PostgreSQL URL or DSN), registers the
// decimal type and pings the server.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		pgxdecimal.Register(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	return pool, nil
}

// DBTX is what both a pool and a transaction offer.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pgCode returns the SQLSTATE and constraint of a PostgreSQL error.
func pgCode(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

// retryable reports serialization failures and deadlocks.
func retryable(err error) bool {
	c, _ := pgCode(err)
	return c == "40001" || c == "40P01"
}

// translate maps driver errors onto core errors at the boundary.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Errorf(core.ENOTFOUND, "not found")
	}
	code, constraint := pgCode(err)
	switch code {
	case "23514":
		switch constraint {
		case "ledger_balances_available_nonneg", "ledger_balances_pending_nonneg", "ledger_balances_held_nonneg":
			return core.Errorf(core.EINSUFFICIENT, "not enough credit")
		case "ledger_balances_overdraft_nonpos":
			return core.Errorf(core.EINVALID, "payment exceeds the overdraft")
		}
	case "CB001", "CB002":
		return core.Errorf(core.ECONFLICT, "%s", err.Error())
	}
	return err
}

var txOptsSnapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
