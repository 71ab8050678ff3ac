package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestCollectionRefresh: the periodic refresh reads the members of a
// Shopify collection rule from the Admin API (the fake validates the
// query against the 2026-04 schema) and stores them only when they
// changed; collections/update refreshes one collection through the wired
// worker. Rates stay frozen: an order that earned by the collection keeps
// its credit after its product left the collection, a new order of that
// product earns nothing, and a product added to the collection earns on
// the next order.
func TestCollectionRefresh(t *testing.T) {
	t.Parallel()
	e, a := newWiredShopifyEnv(t, pgtest.NewPool(t, 6))
	ctx := context.Background()
	shop := e.createShop(t, core.ShopSettings{}, core.ShopSecrets{AccessToken: e.fake.AccessToken()})
	e.fake.SetCollection("841564295", "Sommertee", "101", "102")
	if _, err := e.dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetCollection, TargetID: "841564295", Title: "Sommertee",
		Mode: core.ModePercent, Value: decimal.RequireFromString("10"), Products: []string{"101", "102"}}); err != nil {
		t.Fatal(err)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	order := func(id, product string, at time.Time) core.Order {
		return core.Order{Platform: core.PlatformShopify, OrderID: id, OrderNumber: "#" + id, Currency: "EUR", Paid: true,
			Customer: core.CustomerRef{PlatformID: "77"}, CreatedAt: now, UpdatedAt: at,
			Lines: []core.OrderLine{{LineID: "1", ProductID: product, Title: "Tee " + product, Quantity: 1, NetTotal: decimal.RequireFromString("20.00")}}}
	}
	apply := func(o core.Order) {
		t.Helper()
		if _, err := a.Earner.ApplyOrder(ctx, shop, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantAvailable := func(what, want string) {
		t.Helper()
		b, err := e.ledger.Balance(ctx, shop.ID, "EUR", buyer)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Available.Equal(decimal.RequireFromString(want)) {
			t.Fatalf("%s: available %s, want %s", what, b.Available, want)
		}
	}
	apply(order("1", "101", now))
	wantAvailable("order 1 earns by the collection", "2")

	// Nothing changed in Shopify: nothing is stored.
	n, err := a.Collections.Run(ctx)
	if err != nil || n != 0 {
		t.Fatalf("unchanged collection: %d refreshed, %v", n, err)
	}
	// Product 101 leaves the collection, 103 joins: the periodic run
	// stores the new members (read page by page: the fake pages by 2).
	e.fake.SetCollection("841564295", "Sommertee", "102", "103")
	if n, err = a.Collections.Run(ctx); err != nil || n != 1 {
		t.Fatalf("changed collection: %d refreshed, %v", n, err)
	}
	rules, err := e.dir.Rules(ctx, shop.ID)
	if err != nil || len(rules) != 1 || len(rules[0].Products) != 2 || rules[0].Products[0] != "102" || rules[0].Products[1] != "103" {
		t.Fatalf("rules after refresh = %+v, %v", rules, err)
	}
	found := false
	for _, r := range e.fake.Requests() {
		found = found || len(r.RootFields) == 1 && r.RootFields[0] == "collection" && len(r.Errors) == 0
	}
	if !found {
		t.Fatalf("no valid collection query was sent: %+v", e.fake.Requests())
	}
	// Frozen: order 1 replayed keeps its credit; a new order of 101 earns
	// nothing, one of 103 earns.
	apply(order("1", "101", now.Add(time.Hour)))
	wantAvailable("order 1 replayed", "2")
	apply(order("2", "101", now.Add(time.Hour)))
	wantAvailable("order 2 of a product that left", "2")
	apply(order("3", "103", now.Add(time.Hour)))
	wantAvailable("order 3 of a product that joined", "4")

	// collections/update through the wired worker's Shopify processor.
	e.fake.SetCollection("841564295", "Sommertee", "102", "103", "104")
	proc := a.Dispatcher.Handlers[core.PlatformShopify]
	body := []byte(`{"id":841564295,"handle":"sommertee","title":"Sommertee","updated_at":"2026-03-01T12:00:00-05:00",` +
		`"admin_graphql_api_id":"gid://shopify/Collection/841564295"}`)
	out, err := proc.Handle(ctx, shop, core.InboxEvent{ShopID: shop.ID, Platform: core.PlatformShopify, Topic: shopify.TopicCollectionsUpdate, Payload: body})
	if err != nil || out.Status != core.InboxProcessed {
		t.Fatalf("collections/update: %+v, %v", out, err)
	}
	if rules, _ = e.dir.Rules(ctx, shop.ID); len(rules[0].Products) != 3 {
		t.Fatalf("after collections/update: %+v", rules)
	}
	// A collection of no rule of this shop, and a body that is no
	// collection: nothing read; refused.
	before := len(e.fake.Requests())
	other := []byte(`{"id":999,"handle":"x","title":"X"}`)
	if out, err = proc.Handle(ctx, shop, core.InboxEvent{ShopID: shop.ID, Platform: core.PlatformShopify, Topic: shopify.TopicCollectionsUpdate, Payload: other}); err != nil ||
		out.Status != core.InboxProcessed || len(e.fake.Requests()) != before {
		t.Fatalf("unrelated collection: %+v, %v, %d requests", out, err, len(e.fake.Requests())-before)
	}
	if _, err = proc.Handle(ctx, shop, core.InboxEvent{ShopID: shop.ID, Platform: core.PlatformShopify, Topic: shopify.TopicCollectionsUpdate,
		Payload: []byte(`{"id":1,"line_items":[],"financial_status":"paid"}`)}); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Fatalf("an order body as collections/update: %v", err)
	}
	// A collection deleted in Shopify keeps its rule's last members.
	e.fake.DeleteCollection("841564295")
	if n, err = a.Collections.Run(ctx); err != nil || n != 0 {
		t.Fatalf("deleted collection: %d refreshed, %v", n, err)
	}
	if rules, _ = e.dir.Rules(ctx, shop.ID); len(rules[0].Products) != 3 {
		t.Fatalf("after deletion in Shopify: %+v", rules)
	}
	// An uninstalled shop is not asked.
	shop.Active = false
	if err := e.shops.UpdateShop(ctx, shop); err != nil {
		t.Fatal(err)
	}
	before = len(e.fake.Requests())
	if _, err = a.Collections.Run(ctx); err != nil || len(e.fake.Requests()) != before {
		t.Fatalf("inactive shop: %v, %d requests", err, len(e.fake.Requests())-before)
	}
}
