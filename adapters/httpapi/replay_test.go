package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
)

// Regression (hardening finding 2): the webhook HMAC covers only the body,
// so shop A's signed shop/redact body replayed with shop B's domain header
// deleted shop B's data. Bodies that name their shop must name the shop of
// the header; they are refused before they are stored.
func TestShopifyBodyReplayedAgainstAnotherShopIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	a := e.shopifyShop("shop-a.myshopify.com")
	b := e.shopifyShop("shop-b.myshopify.com")
	e.putRules(b, map[string]any{"target": "default", "mode": "percent", "value": "5"})
	fix := func(name string) []byte {
		return bytes.ReplaceAll(sharedfixtures.Read(t, "fixtures/shopify/"+name), []byte("{shop}.myshopify.com"), []byte(a.Domain))
	}
	for _, c := range []struct {
		topic string
		body  []byte
	}{
		{shopify.TopicShopRedact, fix("shop-redact.json")},
		{shopify.TopicCustomersRedact, fix("customers-redact.json")},
		{shopify.TopicCustomersDataRequest, fix("customers-data_request.json")},
		{shopify.TopicAppUninstalled, []byte(`{"id":548380009,"name":"Shop A","domain":null,"myshopify_domain":"shop-a.myshopify.com"}`)},
		// A body of another topic relabelled as a destructive one.
		{shopify.TopicShopRedact, fix("customers-redact.json")},
		{shopify.TopicAppUninstalled, sharedfixtures.Read(t, "fixtures/shopify/orders-paid.json")},
	} {
		// The genuine delivery for shop A is accepted...
		if c.topic == shopify.TopicShopRedact && bytes.Contains(c.body, []byte(`"customer"`)) || c.topic == shopify.TopicAppUninstalled && bytes.Contains(c.body, []byte("line_items")) {
			r := e.shopifyWebhook(b.Domain, c.topic, "evt-"+randomHex(6), c.body, shopifySecret)
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s with a body of another topic: %d %s, want 401", c.topic, r.Status, r.Body)
			}
			continue
		}
		// ...the same signed body with shop B's domain is not.
		r := e.shopifyWebhook(b.Domain, c.topic, "evt-"+randomHex(6), c.body, shopifySecret)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Err(t).Error.Message, "another shop") {
			t.Errorf("%s replayed against shop B: %d %s, want 401", c.topic, r.Status, r.Body)
		}
	}
	if n := e.inboxCount(); n != 0 {
		t.Fatalf("%d refused deliveries stored", n)
	}
	// Shop B is untouched: its admin token works, its rules are there.
	r := must(t, e.as(b.AdminToken, "GET", b.Path+"/rules", nil), http.StatusOK)
	if !strings.Contains(string(r.Body), `"percent"`) {
		t.Fatalf("shop B's rules after the replays: %s", r.Body)
	}
	must(t, e.as(b.AdminToken, "GET", b.Path, nil), http.StatusOK)
	// Shop A's genuine compliance delivery is still accepted.
	must(t, e.shopifyWebhook(a.Domain, shopify.TopicCustomersDataRequest, "evt-a", fix("customers-data_request.json"), shopifySecret), http.StatusOK)
}

// An order body of shop A (its order_status_url is on shop A's myshopify
// domain) replayed against shop B credits nothing there: the worker
// dead-letters it with the reason.
func TestShopifyOrderOfAnotherShopIsDeadLettered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.shopifyShop("victim.myshopify.com")
	e.putRules(b, map[string]any{"target": "default", "mode": "percent", "value": "5"})
	body := sharedfixtures.Read(t, "fixtures/shopify/orders-create.discounts.real-devstore.json") // order_status_url on webhook-manager-app.myshopify.com
	must(t, e.shopifyWebhook(b.Domain, shopify.TopicOrdersPaid, "evt-replay", body, shopifySecret), http.StatusOK)
	e.drain()
	dl := e.deadLetters(b, b.AdminToken)
	if len(dl) != 1 || !strings.Contains(dl[0].LastError, "an order of another shop") {
		t.Fatalf("dead letters %+v, want the replayed order with its reason", dl)
	}
	var n int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM ledger_transactions WHERE shop_id = $1`, b.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d ledger transactions in shop B from another shop's order", n)
	}
}
