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

// TestProductionRefusesSampleSecrets: the sample values of example.env
// were accepted on a public deployment.
func TestProductionRefusesSampleSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DATABASE_URL":                "postgres://postgres@127.0.0.1:5432/test",
		"CREDITBRIDGE_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"CREDITBRIDGE_ADMIN_TOKEN":    "change-me-to-a-long-random-operator-token",
		"METRICS_TOKEN":               "short",
		"PUBLIC_URL":                  "https://credit.example.com",
	}
	_, err := configs.Load(lookup(env))
	if err == nil {
		t.Fatal("a production configuration with sample secrets was accepted")
	}
	for _, want := range []string{"CREDITBRIDGE_ENCRYPTION_KEY is a published sample value", "CREDITBRIDGE_ADMIN_TOKEN is the sample value", "METRICS_TOKEN must be at least 24 characters"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// The same values on localhost (development, the demo) are fine.
	env["PUBLIC_URL"], env["METRICS_TOKEN"] = "http://localhost:8080", ""
	if _, err := configs.Load(lookup(env)); err != nil {
		t.Fatalf("local development refused: %v", err)
	}
	// Real secrets in production are fine.
	env["PUBLIC_URL"] = "https://credit.example.com"
	env["CREDITBRIDGE_ENCRYPTION_KEY"] = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs="
	env["CREDITBRIDGE_ADMIN_TOKEN"] = "op-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	if _, err := configs.Load(lookup(env)); err != nil {
		t.Fatalf("production with real secrets refused: %v", err)
	}
}
