package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one embedded schema migration.
type Migration struct {
	Name string
	SQL  string
}

// Migrations returns the embedded migrations in the order they apply.
func Migrations() []Migration {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is a constant
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		out = append(out, Migration{Name: strings.TrimPrefix(n, "migrations/"), SQL: string(b)})
	}
	return out
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	name       text PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrationLock is the advisory lock key that serializes concurrent
// migrators ("cbmigrat" as an int64).
const migrationLock = 0x63626d6967726174

// Migrate applies every pending migration, each in its own transaction,
// serialized across processes by an advisory lock. It returns the names it
// applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	var applied []string
	for _, m := range Migrations() {
		done := false
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
				return err
			}
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)", m.Name).Scan(&exists); err != nil {
				return err
			}
			if exists {
				done = true
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", m.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
		if !done {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

// SchemaStatus describes the database schema relative to this binary.
type SchemaStatus struct {
	Empty   bool     // no migration was ever applied
	Pending []string // migrations this binary has that the database lacks
	Unknown []string // migrations the database has that this binary does not know (newer binary ran)
}

// UpToDate reports whether the schema matches this binary exactly.
func (s SchemaStatus) UpToDate() bool { return !s.Empty && len(s.Pending) == 0 && len(s.Unknown) == 0 }

// CheckSchema compares the applied migrations with the embedded ones.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) (SchemaStatus, error) {
	var st SchemaStatus
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return st, fmt.Errorf("postgres: check schema: %w", err)
	}
	have := map[string]bool{}
	if exists {
		rows, err := pool.Query(ctx, "SELECT name FROM schema_migrations")
		if err != nil {
			return st, fmt.Errorf("postgres: check schema: %w", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return st, fmt.Errorf("postgres: check schema: %w", err)
		}
		for _, n := range names {
			have[n] = true
		}
	}
	st.Empty = len(have) == 0
	known := map[string]bool{}
	for _, m := range Migrations() {
		known[m.Name] = true
		if !have[m.Name] {
			st.Pending = append(st.Pending, m.Name)
		}
	}
	for n := range have {
		if !known[n] {
			st.Unknown = append(st.Unknown, n)
		}
	}
	sort.Strings(st.Unknown)
	return st, nil
}
