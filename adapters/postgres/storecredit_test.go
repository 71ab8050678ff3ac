package postgres_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
)

// TestPurgeShopLeavesNoRow: shop/redact deletes the shop's rows from every
// table that has a shop_id column, the store credit mirror included, and
// every such table is on PurgeShop's list (so a new table cannot be
// forgotten: partner links, moves and referral bindings once were).
func TestPurgeShopLeavesNoRow(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	box, err := secretbox.New(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	shops := postgres.NewShopStore(pool, box)
	shop, err := shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "purge-sc.myshopify.com", Currency: "EUR"}, "")
	if err != nil {
		t.Fatal(err)
	}
	c := cust("c:42")
	if _, err := s.Post(ctx, earnTx(shop.ID, "e1", c, "10.00")); err != nil {
		t.Fatal(err)
	}
	mirrors := postgres.StoreCreditStore{L: s}
	if err := mirrors.BeginPush(ctx, shop.ID, c.ID, "EUR", dec("10.00")); err != nil {
		t.Fatal(err)
	}
	if err := mirrors.FinishPush(ctx, shop.ID, c.ID, "EUR", dec("10.00")); err != nil {
		t.Fatal(err)
	}
	if m, err := mirrors.Mirror(ctx, shop.ID, c.ID, "EUR"); err != nil || !m.Mirrored.Equal(dec("10")) || m.Pending.Valid {
		t.Fatalf("mirror %+v, %v", m, err)
	}
	if err := shops.PurgeShop(ctx, shop.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT c.table_name FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
WHERE c.column_name = 'shop_id' AND c.table_schema = current_schema() ORDER BY c.table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables with shop_id: %v, %v", tables, err)
	}
	purged := map[string]bool{}
	for _, tb := range postgres.PurgedTables() {
		purged[tb] = true
	}
	for _, tb := range tables {
		if !purged[tb] {
			t.Errorf("table %s has a shop_id column but shop/redact does not delete from it", tb)
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{tb}.Sanitize()+` WHERE shop_id = $1`, shop.ID).Scan(&n); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		if n != 0 {
			t.Errorf("%s keeps %d row(s) of the purged shop", tb, n)
		}
	}
}
