package postgres_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
)

// Webhook payloads are compressed with lz4 where the server has it
// (migration 0024), and a payload written after the change reads back
// byte for byte.
func TestInboxPayloadCompression(t *testing.T) {
	pool := pgtest.NewPool(t, 2)
	ctx := context.Background()
	var method string
	if err := pool.QueryRow(ctx, `SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'inbox'::regclass AND attname = 'payload'`).Scan(&method); err != nil {
		t.Fatal(err)
	}
	var lz4 bool
	// A server built without lz4 refuses the method; the migration then keeps pglz ("").
	if _, err := pool.Exec(ctx, `CREATE TEMP TABLE lz4_probe (b bytea COMPRESSION lz4)`); err == nil {
		lz4 = true
	}
	if lz4 && method != "l" {
		t.Fatalf("inbox.payload compression = %q, want lz4 ('l') on a server that has it", method)
	}
	if !lz4 && method != "" {
		t.Fatalf("inbox.payload compression = %q on a server without lz4", method)
	}
	if !lz4 {
		t.Skip("this PostgreSQL has no lz4: payloads stay pglz-compressed")
	}
	var shopID int64
	if err := pool.QueryRow(ctx, `INSERT INTO shops (platform, domain, name, currency) VALUES ('shopify', 'lz4.myshopify.com', 'lz4', 'EUR') RETURNING id`).Scan(&shopID); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 0, 6000)
	for len(payload) < 6000 {
		payload = append(payload, `{"line_items":[{"id":9001,"price":"39.00"}]},`...)
	}
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO inbox (shop_id, platform, event_key, topic, shop_domain, payload) VALUES ($1, 'shopify', 'k1', 'orders/paid', 'lz4.myshopify.com', $2) RETURNING id`, shopID, payload).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var stored string
	var back []byte
	if err := pool.QueryRow(ctx, `SELECT coalesce(pg_column_compression(payload), ''), payload FROM inbox WHERE shop_id = $1 AND id = $2`, shopID, id).Scan(&stored, &back); err != nil {
		t.Fatal(err)
	}
	if stored != "lz4" {
		t.Fatalf("stored payload compression = %q, want lz4", stored)
	}
	if !bytes.Equal(back, payload) {
		t.Fatal("payload did not read back byte for byte")
	}
}
