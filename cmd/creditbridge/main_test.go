package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
)

func env(m map[string]string) (func(string) string, func(string) (string, bool)) {
	return func(k string) string { return m[k] }, func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestRunRejectsBadConfig(t *testing.T) {
	t.Parallel()
	get, look := env(map[string]string{"DATABASE_URL": "mysql://nope"})
	var out, errb bytes.Buffer
	code := run([]string{"serve"}, get, look, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{"DATABASE_URL must be a postgres", "CREDITBRIDGE_ENCRYPTION_KEY is required"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	if code := run([]string{"frobnicate"}, get, look, &out, &errb); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

func TestMigrateThenAuditAndOutdatedSchema(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, 2) // a migrated, empty schema
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	url := pgtest.URL() + "&search_path=" + schema
	get, look := env(map[string]string{"DATABASE_URL": url, "CREDITBRIDGE_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="})
	var out, errb bytes.Buffer
	if code := run([]string{"migrate"}, get, look, &out, &errb); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"audit"}, get, look, &out, &errb); code != 0 || !strings.Contains(out.String(), "OK: every invariant holds") {
		t.Fatalf("audit: %d %s %s", code, out.String(), errb.String())
	}
	// Break an invariant: the audit exits 1 and names it.
	if _, err := pool.Exec(context.Background(), `INSERT INTO ledger_balances (shop_id, currency, owner_kind, owner_id, available) VALUES (1, 'EUR', 'customer', 'c:1', 5)`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"audit", "--shop", "1"}, get, look, &out, &errb); code != 1 || !strings.Contains(out.String(), "balance_matches") {
		t.Fatalf("broken audit: %d %s", code, out.String())
	}
	// A schema with a pending migration is refused by serve.
	if _, err := pool.Exec(context.Background(), `DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run([]string{"serve"}, get, look, &out, &errb); code != 1 || !strings.Contains(errb.String(), "run `creditbridge migrate` first") {
		t.Fatalf("outdated schema: %d %s", code, errb.String())
	}
}
