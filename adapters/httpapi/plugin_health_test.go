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
