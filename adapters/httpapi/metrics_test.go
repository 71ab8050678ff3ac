package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
)

// Regression (hardening finding 1): webhook topic labels were fiber's
// zero-copy header strings, so after crafted WooCommerce deliveries and
// ordinary API traffic /metrics showed other requests' bytes (the
// operator's bearer token, another shop's admin token) as topic values,
// and duplicate label sets made the scrape answer 500. Labels now come from
// a fixed set of topics and every fiber string is a copy.
func TestMetricsNeverShowRequestData(t *testing.T) {
	e := newEnv(t, envOptions{NoWorker: true})
	shopA := e.wooShop(nil)
	shopB := e.wooShop(nil)
	body := sharedfixtures.Read(t, "fixtures/woocommerce/synthetic/order-updated.body.json")
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				// A tenant's crafted topics, each signed with its own secret.
				topic := fmt.Sprintf("crafted.topic-%d-%d-%s", w, i, strings.Repeat("x", i%17))
				b := []byte(strings.Replace(string(body), `"id":`, fmt.Sprintf(`"crafted":"%d-%d","id":`, w, i), 1))
				crafted := b
				if i%2 == 1 {
					// Not an order body: the header's topic is kept (and
					// counted as other). An order body is an order
					// snapshot whatever the unsigned header says.
					crafted = []byte(fmt.Sprintf(`{"crafted":"%d-%d"}`, w, i))
				}
				if r := e.wooWebhook(shopA.ID, topic, crafted, shopA.WebhookSecret); r.Status != http.StatusOK {
					t.Errorf("crafted delivery: %d %s", r.Status, r.Body)
					return
				}
				// Normal traffic carrying credentials in headers.
				e.as(operatorToken, "GET", shopB.Path, nil)
				e.as(shopB.AdminToken, "GET", shopB.Path+"/rules", nil)
				e.wooWebhook(shopB.ID, woocommerce.TopicOrderUpdated, b, shopB.WebhookSecret)
			}
		}(w)
	}
	wg.Wait()
	r := e.do("GET", "/metrics", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics answered %d: %s", r.Status, r.Body)
	}
	out := string(r.Body)
	for _, secret := range []string{operatorToken, shopA.AdminToken, shopB.AdminToken, shopA.WebhookSecret, shopB.WebhookSecret, "Bearer", "crafted"} {
		if strings.Contains(out, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
	allowed := map[string]bool{"other": true}
	for _, tp := range append(shopify.Topics(), woocommerce.Topics()...) {
		allowed[tp] = true
	}
	labels := regexp.MustCompile(`topic="([^"]*)"`).FindAllStringSubmatch(out, -1)
	if len(labels) == 0 {
		t.Fatalf("no topic label in /metrics:\n%s", out)
	}
	seen := map[string]bool{}
	for _, m := range labels {
		if !allowed[m[1]] {
			t.Errorf("topic label %q is not a known topic", m[1])
		}
		seen[m[1]] = true
	}
	if !seen["other"] || !seen[woocommerce.TopicOrderUpdated] {
		t.Errorf("topic labels %v: want the crafted topics counted as other and order.updated as itself", seen)
	}
}

// /metrics can require a bearer token (METRICS_TOKEN).
func TestMetricsToken(t *testing.T) {
	const token = "metrics-token-0123456789abcdef"
	e := newEnv(t, envOptions{NoWorker: true, MetricsToken: token})
	if r := e.do("GET", "/metrics", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("without token: %d", r.Status)
	}
	if r := e.do("GET", "/metrics", nil, "Authorization", "Bearer wrong-token-0123456789abcdef"); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", r.Status)
	}
	r := e.do("GET", "/metrics", nil, "Authorization", "Bearer "+token)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "creditbridge_webhooks_received_total") && !strings.Contains(string(r.Body), "go_goroutines") {
		t.Fatalf("with token: %d %s", r.Status, r.Body)
	}
}
