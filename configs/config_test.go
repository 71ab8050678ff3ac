package configs_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/configs"
)

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := configs.Load(lookup(map[string]string{
		"DATABASE_URL":                "postgres://postgres@127.0.0.1:5432/test",
		"CREDITBRIDGE_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.SweepAfter != 2*time.Minute || c.Role != "all" || c.ShopifyAPIVersion != "2026-04" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := configs.Load(lookup(map[string]string{
		"DATABASE_URL":      "mysql://x",
		"REDIS_URL":         "http://x",
		"DB_MAX_CONNS":      "abc",
		"INBOX_SWEEP_AFTER": "soon",
		"ROLE":              "both",
		"SHOPIFY_CLIENT_ID": "id-only",
		"LOG_LEVEL":         "loud",
	}))
	var ce *configs.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *configs.Error, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"DATABASE_URL must be a postgres", "REDIS_URL", "DB_MAX_CONNS must be an integer", "INBOX_SWEEP_AFTER", "ROLE must be", "SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET", "CREDITBRIDGE_ENCRYPTION_KEY is required", "LOG_LEVEL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}
