package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
)

type healthAnswer struct {
	LastWebhookAt string `json:"last_webhook_at"`
	LastPollAt    string `json:"last_poll_at"`
	LastPollOK    bool   `json:"last_poll_ok"`
	LastFailure   *struct {
		At     string `json:"at"`
		Source string `json:"source"`
		Reason string `json:"reason"`
	} `json:"last_failure"`
}

func (e *plugEnv) health(r registration) healthAnswer {
	e.t.Helper()
	var h healthAnswer
	e.signed(r, "GET", "/api/v1/plugin/health", nil).want(e.t, http.StatusOK).decode(e.t, &h)
	return h
}

func TestPluginHealth(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	ctx := context.Background()
	r := e.mustRegister(plugOperator, "https://health-"+plugHex(4)+".example", "ck_h", "cs_h", http.StatusCreated)
	other := e.mustRegister(plugOperator, "https://health-other-"+plugHex(4)+".example", "ck_o", "cs_o", http.StatusCreated)
	e.do("GET", "/api/v1/plugin/health", nil).want(t, http.StatusUnauthorized)

	if h := e.health(r); h.LastWebhookAt != "" || h.LastPollAt != "" || h.LastPollOK || h.LastFailure != nil {
		t.Fatalf("new shop health = %+v, want nothing yet", h)
	}

	// A webhook arrives.
	before := time.Now().Add(-time.Second)
	e.webhook(r, buildOrder(t, orderSpec{ID: 501, Status: "processing", Modified: time.Now(), CartKey: "ck-h", Lines: []string{"10.00"}}))
	h := e.health(r)
	if at, err := time.Parse(time.RFC3339, h.LastWebhookAt); err != nil || at.Before(before.Truncate(time.Second)) {
		t.Fatalf("last_webhook_at = %q (%v)", h.LastWebhookAt, err)
	}

	// Polls: a successful one, then a failed one with its reason.
	inbox := postgres.NewInbox(e.pool)
	t.Cleanup(inbox.Close)
	id := r.id(t)
	t1 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	if err := inbox.RecordPoll(ctx, id, t1, nil); err != nil {
		t.Fatal(err)
	}
	if h := e.health(r); h.LastPollAt != "2026-12-06T09:00:00Z" || !h.LastPollOK || h.LastFailure != nil {
		t.Fatalf("after a good poll: %+v", h)
	}
	t2 := t1.Add(5 * time.Minute)
	reason := "woocommerce: GET /orders: HTTP 401 woocommerce_rest_cannot_view: Sorry, you cannot list resources. " + strings.Repeat("é", 400)
	if err := inbox.RecordPoll(ctx, id, t2, errors.New(reason)); err != nil {
		t.Fatal(err)
	}
	h = e.health(r)
	if h.LastPollAt != "2026-12-06T09:05:00Z" || h.LastPollOK || h.LastFailure == nil || h.LastFailure.Source != "poll" ||
		h.LastFailure.At != "2026-12-06T09:05:00Z" || !strings.HasPrefix(h.LastFailure.Reason, "woocommerce: GET /orders: HTTP 401") {
		t.Fatalf("after a failed poll: %+v", h)
	}
	if n := len(h.LastFailure.Reason); n > 500 || !strings.HasSuffix(h.LastFailure.Reason, "é") {
		t.Errorf("reason is %d bytes or cut inside a character", n)
	}
	// A good poll keeps the last failure (it is history) but clears last_poll_ok's failure.
	if err := inbox.RecordPoll(ctx, id, t2.Add(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if h := e.health(r); !h.LastPollOK || h.LastFailure == nil || h.LastFailure.At != "2026-12-06T09:05:00Z" {
		t.Fatalf("after recovery: %+v", h)
	}

	// An event that becomes a dead letter now is the newest failure.
	body := []byte(`{"id":"12x","date_modified_gmt":"2026-01-01T00:00:00"}`)
	e.do("POST", "/webhooks/woocommerce/"+r.ShopID, body, woocommerce.TopicHeader, woocommerce.TopicOrderUpdated,
		woocommerce.DeliveryIDHeader, plugHex(6), woocommerce.SignatureHeader, woocommerce.Sign(body, r.WebhookSecret)).want(t, http.StatusOK)
	deadline := time.Now().Add(30 * time.Second)
	for {
		h = e.health(r)
		if h.LastFailure != nil && h.LastFailure.Source == "processing" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letter not reported: %+v", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(h.LastFailure.Reason, "dead letter") || !strings.Contains(h.LastFailure.Reason, "malformed JSON") {
		t.Errorf("dead letter reason = %q", h.LastFailure.Reason)
	}

	// Another shop sees only its own.
	if h := e.health(other); h.LastWebhookAt != "" || h.LastPollAt != "" || h.LastFailure != nil {
		t.Errorf("other shop health = %+v", h)
	}
}

// Refused deliveries (a bad signature, a delivery URL naming a shop the
// bridge does not know) are the shop's last failure in the health box, so
// a merchant whose webhooks WooCommerce disables after failed deliveries
// sees why. A burst of the same refusal is written once.
func TestPluginHealthRefusedWebhooks(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	site := "https://refused-" + plugHex(4) + ".example"
	r := e.mustRegister(plugOperator, site, "ck_r", "cs_r", http.StatusCreated)
	other := e.mustRegister(plugOperator, "https://refused-other-"+plugHex(4)+".example", "ck_ro", "cs_ro", http.StatusCreated)
	body := buildOrder(t, orderSpec{ID: 601, Status: "processing", Modified: time.Now(), CartKey: "ck-r", Lines: []string{"10.00"}})

	// A delivery signed with another secret: 401, recorded for the shop of the URL.
	e.do("POST", "/webhooks/woocommerce/"+r.ShopID, body, woocommerce.TopicHeader, woocommerce.TopicOrderUpdated,
		woocommerce.SourceHeader, site+"/", woocommerce.SignatureHeader, woocommerce.Sign(body, "an-old-secret")).want(t, http.StatusUnauthorized)
	h := e.health(r)
	if h.LastFailure == nil || h.LastFailure.Source != "webhook" || !strings.Contains(h.LastFailure.Reason, "does not match the body") ||
		!strings.Contains(h.LastFailure.Reason, "register the plugin again") {
		t.Fatalf("after a bad signature: %+v", h.LastFailure)
	}
	if h.LastWebhookAt != "" || h.LastPollAt != "" {
		t.Errorf("a refused delivery counted as received or polled: %+v", h)
	}
	first := h.LastFailure.At
	var at time.Time
	if err := e.pool.QueryRow(context.Background(), `SELECT last_failure_at FROM shop_health WHERE shop_id = $1`, r.id(t)).Scan(&at); err != nil {
		t.Fatal(err)
	}
	// The same refusal again within the minute: not written again.
	time.Sleep(10 * time.Millisecond)
	e.do("POST", "/webhooks/woocommerce/"+r.ShopID, body, woocommerce.TopicHeader, woocommerce.TopicOrderUpdated,
		woocommerce.SignatureHeader, woocommerce.Sign(body, "an-old-secret")).want(t, http.StatusUnauthorized)
	var again time.Time
	if err := e.pool.QueryRow(context.Background(), `SELECT last_failure_at FROM shop_health WHERE shop_id = $1`, r.id(t)).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if !again.Equal(at) {
		t.Errorf("a repeated refusal was written again: %v then %v", at, again)
	}

	// A delivery to a shop id the bridge does not know, sent by this site
	// (X-WC-Webhook-Source is the home URL with a slash): 404, recorded for
	// the site's shop with the id it was addressed to.
	e.do("POST", "/webhooks/woocommerce/999999999", body, woocommerce.TopicHeader, woocommerce.TopicOrderUpdated,
		woocommerce.SourceHeader, strings.ToUpper(site)+"/", woocommerce.SignatureHeader, woocommerce.Sign(body, r.WebhookSecret)).want(t, http.StatusNotFound)
	h = e.health(r)
	if h.LastFailure == nil || h.LastFailure.Source != "webhook" || !strings.Contains(h.LastFailure.Reason, "addressed to shop 999999999, which this bridge does not know") {
		t.Fatalf("after an unknown shop: %+v (first %s)", h.LastFailure, first)
	}
	// From a site the bridge does not know, or without the header: nothing
	// is recorded anywhere.
	e.do("POST", "/webhooks/woocommerce/999999998", body, woocommerce.SourceHeader, "https://stranger.example/",
		woocommerce.SignatureHeader, woocommerce.Sign(body, r.WebhookSecret)).want(t, http.StatusNotFound)
	e.do("POST", "/webhooks/woocommerce/abc", body, woocommerce.SignatureHeader, woocommerce.Sign(body, r.WebhookSecret)).want(t, http.StatusNotFound)
	if h2 := e.health(r); h2.LastFailure == nil || h2.LastFailure.Reason != h.LastFailure.Reason {
		t.Errorf("an unattributable refusal changed the failure: %+v", h2.LastFailure)
	}
	if h := e.health(other); h.LastFailure != nil {
		t.Errorf("other shop health = %+v", h.LastFailure)
	}

	// A good delivery afterwards is received; the refusal stays as history.
	e.webhook(r, body)
	if h := e.health(r); h.LastWebhookAt == "" || h.LastFailure == nil || h.LastFailure.Source != "webhook" {
		t.Errorf("after a good delivery: %+v", h)
	}
}
