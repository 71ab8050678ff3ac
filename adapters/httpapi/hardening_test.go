package httpapi_test

// Regression tests for the attack review (issue 8): each test failed
// before its fix.

import (
	"net/http"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
)

// TestWooTopicHeaderCannotReverseCredit: X-WC-Webhook-Topic is not
// signed. A signed order.updated body replayed as order.deleted must
// neither reverse the credit nor make the genuine delivery a duplicate
// that is dropped; a real deletion (id-only body) is checked against the
// shop's REST API before it reverses anything.
func TestWooTopicHeaderCannotReverseCredit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	fake := wcfake.New(t, "ck_test_key", "cs_test_secret")
	s := e.wooShop(map[string]any{"domain": fake.URL, "consumer_key": "ck_test_key", "consumer_secret": "cs_test_secret", "webhook_secret": "whsec-topic"})
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "sku", "target_id": "TEA-1", "mode": "fixed", "value": "1.50"},
	)
	processing := readTestdata(t, "woocommerce/order-4242-processing.json")
	fake.PutOrder(processing)
	// The replay arrives first, relabelled; then the genuine delivery.
	must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderDeleted, processing, "whsec-topic"), http.StatusOK)
	must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderUpdated, processing, "whsec-topic"), http.StatusOK)
	e.drain()
	// 1.50 × 3 + 10 % of 12.50 = 5.75
	if b := e.balance(s, "55"); b.Available != "5.75" {
		t.Fatalf("after a relabelled replay and the genuine delivery: balance %+v, want 5.75", b)
	}
	// Replayed again after the credit was booked.
	must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderDeleted, processing, "whsec-topic"), http.StatusOK)
	e.drain()
	if b := e.balance(s, "55"); b.Available != "5.75" {
		t.Fatalf("a relabelled replay reversed credit: balance %+v, want 5.75", b)
	}
	// An id-only deletion for an order the shop still has is not believed.
	deletion := []byte(`{"id":4242}`)
	must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderDeleted, deletion, "whsec-topic"), http.StatusOK)
	e.drain()
	if b := e.balance(s, "55"); b.Available != "5.75" {
		t.Fatalf("a deletion of an order the shop still has reversed credit: balance %+v, want 5.75", b)
	}
	// The genuine deletion: the shop no longer has the order.
	fake.DeleteOrder(4242)
	must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderDeleted, deletion, "whsec-topic"), http.StatusOK)
	e.drain()
	if b := e.balance(s, "55"); b.Available != "0.00" && b.Available != "0" {
		t.Fatalf("after the order was deleted: balance %+v, want 0", b)
	}
	if st := e.inboxStatuses(); st["dead"] != 0 {
		t.Fatalf("inbox statuses %v", st)
	}
	e.auditOK(s.ID)
}
