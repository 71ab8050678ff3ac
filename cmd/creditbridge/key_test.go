package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
)

// TestWrongEncryptionKeyRefusesToStart: a wrong CREDITBRIDGE_ENCRYPTION_KEY
// started anyway, answered ready and sealed new shops with the wrong key.
// The key must open the canary stored at first start; during a rotation
// the previous key opens it, and reseal moves it to the new key.
func TestWrongEncryptionKeyRefusesToStart(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, 2)
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	const keyA = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	const keyB = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	cfg := func(key, prev string) configs.Config {
		t.Helper()
		get := map[string]string{"DATABASE_URL": pgtest.URL() + "&search_path=" + schema, "CREDITBRIDGE_ENCRYPTION_KEY": key,
			"CREDITBRIDGE_ENCRYPTION_KEY_PREVIOUS": prev, "QUEUE_NAME": "cbtest-key"}
		c, err := configs.Load(func(k string) (string, bool) { v, ok := get[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	start := func(key, prev string) error {
		t.Helper()
		a, err := build(ctx, cfg(key, prev), log)
		if err == nil {
			if _, err := a.Shops.ListShops(ctx, core.PlatformWooCommerce); err != nil {
				t.Fatalf("list shops: %v", err)
			}
			a.Close()
		}
		return err
	}
	// First start stores the canary; a shop is sealed with key A.
	a, err := build(ctx, cfg(keyA, ""), log)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	if _, err := a.Shops.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://key.example", Currency: "EUR",
		Secrets: core.ShopSecrets{WebhookSecret: "s"}}, "admin-token-0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := start(keyB, ""); !errors.Is(err, postgres.ErrWrongKey) {
		t.Fatalf("start with a wrong key: %v, want ErrWrongKey", err)
	}
	if err := start(keyB, keyA); err != nil {
		t.Fatalf("start during a rotation: %v", err)
	}
	out := io.Discard
	if err := reseal(ctx, cfg(keyB, keyA), log, out); err != nil {
		t.Fatalf("reseal: %v", err)
	}
	if err := start(keyB, ""); err != nil {
		t.Fatalf("start with the new key after reseal: %v", err)
	}
	if err := start(keyA, ""); !errors.Is(err, postgres.ErrWrongKey) {
		t.Fatalf("start with the old key after reseal: %v, want ErrWrongKey", err)
	}
}

// TestDatabaseWithoutCanaryChecksAShop: a database from before the canary
// with a shop sealed by another key is refused too.
func TestDatabaseWithoutCanaryChecksAShop(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, 2)
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	mk := func(key string) configs.Config {
		get := map[string]string{"DATABASE_URL": pgtest.URL() + "&search_path=" + schema, "CREDITBRIDGE_ENCRYPTION_KEY": key, "QUEUE_NAME": "cbtest-key2"}
		c, err := configs.Load(func(k string) (string, bool) { v, ok := get[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	a, err := build(ctx, mk("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="), log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "canary.myshopify.com", Currency: "EUR",
		Secrets: core.ShopSecrets{AccessToken: "t"}}, "admin-token-0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := pool.Exec(ctx, `DELETE FROM key_canary`); err != nil {
		t.Fatal(err)
	}
	if _, err := build(ctx, mk("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="), log); !errors.Is(err, postgres.ErrWrongKey) {
		t.Fatalf("pre-canary database with a wrong key: %v, want ErrWrongKey", err)
	}
}

// TestPendingMetricComesFromTheInbox: after a Redis FLUSHALL the pending
// tasks gauge read 0 while accepted events waited in the inbox.
func TestPendingMetricComesFromTheInbox(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, 2)
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	get := map[string]string{"DATABASE_URL": pgtest.URL() + "&search_path=" + schema, "CREDITBRIDGE_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"QUEUE_NAME": "cbtest-pending-" + strings.ReplaceAll(schema, "_", "-")}
	c, err := configs.Load(func(k string) (string, bool) { v, ok := get[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := build(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	t.Cleanup(func() { _ = a.Inspector.DeleteQueue(c.Queue, true) })
	for i := range 3 {
		if _, _, err := a.Inbox.Insert(ctx, core.InboxEvent{Platform: core.PlatformShopify, EventKey: "k" + strconv.Itoa(i), Topic: "orders/paid", ShopDomain: "x.myshopify.com", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	// Redis loses the queue.
	_ = a.Inspector.DeleteQueue(c.Queue, true)
	if got := a.QueueSize(); got != 3 {
		t.Fatalf("pending gauge %v after the queue was lost, want the 3 waiting events", got)
	}
}
