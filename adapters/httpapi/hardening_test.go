package httpapi_test

// Regression tests for the attack review (issue 8): each test failed
// before its fix.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/hibiken/asynq"
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

// TestAbsurdRefundQuantitiesAreDeadLetters: refund quantities that
// overflowed the refunded-units sum minted 9,223,372,036,854,775,807.00 EUR
// on a one-unit order. Refunds beyond the sanity bound or beyond what was
// ordered are dead letters with their reason; the books keep the order's
// real credit.
func TestAbsurdRefundQuantitiesAreDeadLetters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("absurd-refund.myshopify.com")
	e.putRules(s, map[string]any{"target": "default", "mode": "fixed", "value": "1.00"})
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	ord := payload.Order{ID: 5600000000001, Number: 1, CustomerID: 6200000000001, Email: "buyer@example.com", Currency: "EUR", Financial: "paid",
		UpdatedAt: t0, Lines: []payload.Line{{ID: 9101, ProductID: 1, VariantID: 2, SKU: "ONE", Title: "One", Quantity: 1, Price: "10.00"}}}
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-paid", payload.OrderJSON(ord), shopifySecret), http.StatusOK)
	e.drain()
	// (2^63−1) + 3 refunded units wrapped around to −(2^63−2).
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicRefundsCreate, "evt-r1", payload.RefundJSON(ord.ID, 1, 9101, math.MaxInt64, "EUR", t0.Add(time.Hour)), shopifySecret), http.StatusOK)
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicRefundsCreate, "evt-r2", payload.RefundJSON(ord.ID, 2, 9101, 3, "EUR", t0.Add(2*time.Hour)), shopifySecret), http.StatusOK)
	e.drain()
	if b := e.balance(s, "6200000000001"); b.Available != "1.00" {
		t.Fatalf("balance %+v, want the order's 1.00", b)
	}
	dl := e.deadLetters(s, s.AdminToken)
	if len(dl) != 2 {
		t.Fatalf("dead letters %+v, want both refunds", dl)
	}
	reasons := dl[0].LastError + " | " + dl[1].LastError
	if !strings.Contains(reasons, "quantity 9223372036854775807 is outside 0..1000000") || !strings.Contains(reasons, "refunds return 3 unit(s) of line 9101, which has 1") {
		t.Fatalf("dead letter reasons %q", reasons)
	}
	for _, d := range dl {
		if d.Attempts.String() != "1" {
			t.Fatalf("dead letter after %s attempts, want 1: %+v", d.Attempts, d)
		}
	}
	// A line total beyond the sane bound is refused too.
	huge := ord
	huge.ID, huge.Lines = 5600000000002, []payload.Line{{ID: 9201, ProductID: 1, VariantID: 2, SKU: "X", Title: "X", Quantity: 1, Price: "1000000000001.00"}}
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-huge", payload.OrderJSON(huge), shopifySecret), http.StatusOK)
	e.drain()
	if dl := e.deadLetters(s, s.AdminToken); len(dl) != 3 {
		t.Fatalf("dead letters %+v, want the huge order too", dl)
	}
	e.auditOK(s.ID)
}

// TestNULInputIsABadRequest: PostgreSQL cannot store NUL in text or
// jsonb; admin and customer routes answer 400 to it, never 500.
func TestNULInputIsABadRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("nul-input.myshopify.com")
	tok := must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/7/token", nil), http.StatusOK).Map(t)["token"].(string)
	cases := []struct {
		token, method, path string
		body                any
	}{
		{operatorToken, "POST", "/api/v1/shops/", map[string]any{"platform": "woocommerce", "domain": "https://nul.example", "name": "a\x00b", "currency": "EUR"}},
		{s.AdminToken, "PUT", s.Path + "/rules", map[string]any{"target": "sku", "target_id": "A\x00B", "mode": "fixed", "value": "1.00"}},
		{s.AdminToken, "PUT", s.Path + "/partners/p1", map[string]any{"name": "P\x00", "code": "C\x00"}},
		{s.AdminToken, "PATCH", s.Path + "/settings", map[string]any{"discount_label": "Credit\x00"}},
		{s.AdminToken, "POST", s.Path + "/customers/7/adjustments", map[string]any{"amount": "1.00", "currency": "EUR", "actor": "ops\x00", "note": "n\x00", "idempotency_key": "k\x00"}},
		{s.AdminToken, "GET", s.Path + "/customers/a%00b/balance", nil},
		{s.AdminToken, "GET", s.Path + "/customers/7/statement?currency=EU%00R", nil},
		{s.AdminToken, "POST", s.Path + "/customers/7/vouchers", map[string]any{"amount": "1.00", "currency": "EUR", "idempotency_key": "x\x00"}},
		{tok, "POST", "/api/v1/me/vouchers", map[string]any{"amount": "1.00", "currency": "EUR", "idempotency_key": "x\x00"}},
		{tok, "GET", "/api/v1/me/statement?currency=%00", nil},
	}
	for _, c := range cases {
		r := e.as(c.token, c.method, c.path, c.body)
		if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 400: %s", c.method, c.path, r.Status, r.Body)
		}
	}
}

// TestPoisonPayloadsAreDeadLettersAtOnce: NUL characters in text fields
// and duplicate line ids failed in PostgreSQL (22P05/22021) and were
// retried as transient. They are dead letters on the first attempt, with
// the reason.
func TestPoisonPayloadsAreDeadLettersAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("poison.myshopify.com")
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	base := func(id int64) payload.Order {
		return payload.Order{ID: id, Number: int(id % 1000), CustomerID: 6300000000001, Email: "buyer@example.com", Currency: "EUR", Financial: "paid",
			UpdatedAt: t0, Lines: []payload.Line{{ID: id*10 + 1, ProductID: 1, VariantID: 2, SKU: "A", Title: "A", Quantity: 1, Price: "10.00"}}}
	}
	nulSKU := base(5700000000001)
	nulSKU.Lines[0].SKU = "A\x00B"
	nulTitle := base(5700000000002)
	nulTitle.Lines[0].Title = "Tea\x00"
	nulMail := base(5700000000003)
	nulMail.CustomerID, nulMail.Email = 0, "gu\x00est@example.com"
	dupLines := base(5700000000004)
	dupLines.Lines = append(dupLines.Lines, dupLines.Lines[0])
	for i, o := range []payload.Order{nulSKU, nulTitle, nulMail, dupLines} {
		must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-poison-"+strconv.Itoa(i), payload.OrderJSON(o), shopifySecret), http.StatusOK)
	}
	// A NUL in a note attribute (the partner reference).
	withNote := base(5700000000005)
	withNote.PartnerRef = "p\x00"
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-poison-note", payload.OrderJSON(withNote), shopifySecret), http.StatusOK)
	e.drain()
	dl := e.deadLetters(s, s.AdminToken)
	if len(dl) != 5 {
		t.Fatalf("dead letters %+v, want 5", dl)
	}
	for _, d := range dl {
		if d.Attempts.String() != "1" || (!strings.Contains(d.LastError, "NUL") && !strings.Contains(d.LastError, "appears twice")) {
			t.Errorf("dead letter %+v: want one attempt and the reason", d)
		}
	}
}

// TestUnknownShopsAreRateLimitedPerIP: a client spraying unknown shop ids
// (each one a database query) is refused with 429 after the configured
// number of refused requests per minute; health checks stay open.
func TestUnknownShopsAreRateLimitedPerIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{FailedPerIPMin: 40})
	s := e.wooShop(map[string]any{"webhook_secret": "whsec-rl"})
	body := readTestdata(t, "woocommerce/order-4242-processing.json")
	// Successful deliveries never count.
	for i := 0; i < 60; i++ {
		must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderUpdated, body, "whsec-rl"), http.StatusOK)
	}
	limited := 0
	for i := 0; i < 60; i++ {
		r := e.wooWebhook(int64(900000+i), woocommerce.TopicOrderUpdated, body, "whsec-rl")
		switch r.Status {
		case http.StatusNotFound:
			if limited > 0 {
				t.Fatalf("request %d answered 404 after the limit was reached", i)
			}
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("unknown shop: status %d %s", r.Status, r.Body)
		}
	}
	if limited != 20 {
		t.Fatalf("%d requests limited, want 20 (40 refusals allowed)", limited)
	}
	must(t, e.do("GET", "/healthz", nil), http.StatusOK)
}

// TestArchivedTaskDoesNotStrandItsEvent: an event whose task asynq
// archived (its dependency was down longer than the task's retries) stayed
// 'received' for good: the sweeper's re-enqueue hit the archived task's id
// and Enqueue took the conflict for success. The archived task is now
// replaced and the event processed.
func TestArchivedTaskDoesNotStrandItsEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("archived-task.myshopify.com")
	e.putRules(s, map[string]any{"target": "default", "mode": "fixed", "value": "1.25"})
	body := payload.OrderJSON(simpleOrder(8811, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)))
	r := must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-archived", body, shopifySecret), http.StatusOK)
	id, err := r.Map(t)["event_id"].(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The group task is gone; the sweeper's own task for the event was
	// archived after its retries.
	if _, err := e.flushQueue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.enqueuer.Enqueue(ctx, s.ID, id); err != nil {
		t.Fatal(err)
	}
	if err := e.inspector.ArchiveTask(e.queue, jobs.TaskID(s.ID, id)); err != nil {
		t.Fatalf("archive: %v", err)
	}
	sw := &jobs.Sweeper{Inbox: e.inbox, Enqueuer: e.enqueuer, After: 0, Log: e.log}
	if _, err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := e.inspector.GetTaskInfo(e.queue, jobs.TaskID(s.ID, id))
	if err != nil || info.State != asynq.TaskStatePending {
		t.Fatalf("after the sweep the event's task is %v (%v), want pending", info, err)
	}
	// One owner of retries: asynq never gives up before the dispatcher's
	// attempt count dead-letters the event.
	if info.MaxRetry < core.MaxEventAttempts {
		t.Fatalf("task max retry %d below the dispatcher's %d attempts", info.MaxRetry, core.MaxEventAttempts)
	}
	e.startWorker()
	e.drain()
	if b := e.balance(s, "7001"); b.Available != "2.50" {
		t.Fatalf("balance %+v, want 2.50", b)
	}
	e.auditOK(s.ID)
}

// TestUninstalledShop: after app/uninstalled the admin token still worked
// and orders were still credited. An uninstalled shop's admin token,
// customer tokens and session tokens are refused; its order, refund and
// checkout webhooks are acknowledged and skipped; the operator can still
// read its books until shop/redact deletes them.
func TestUninstalledShop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("uninstalled.myshopify.com")
	e.putRules(s, map[string]any{"target": "default", "mode": "fixed", "value": "1.25"})
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-u1", payload.OrderJSON(simpleOrder(8821, t0)), shopifySecret), http.StatusOK)
	e.drain()
	tok := must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/7001/token", nil), http.StatusOK).Map(t)["token"].(string)
	body := []byte(`{"id":548380009,"name":"Uninstalled","domain":null,"myshopify_domain":"uninstalled.myshopify.com"}`)
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicAppUninstalled, "evt-uninstall", body, shopifySecret), http.StatusOK)
	e.drain()
	if r := e.as(s.AdminToken, "GET", s.Path, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("admin token of an uninstalled shop: %d %s, want 401", r.Status, r.Body)
	}
	if r := e.as(tok, "GET", "/api/v1/me/balance", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("customer token of an uninstalled shop: %d %s, want 401", r.Status, r.Body)
	}
	// A new order is acknowledged, and not credited.
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-u2", payload.OrderJSON(simpleOrder(8822, t0.Add(time.Hour))), shopifySecret), http.StatusOK)
	e.drain()
	var b balanceView
	must(t, e.as(operatorToken, "GET", s.Path+"/customers/7001/balance", nil), http.StatusOK).JSON(t, &b)
	if b.Available != "2.50" {
		t.Fatalf("balance after an order of the uninstalled shop: %+v, want the 2.50 earned before", b)
	}
	if st := e.inboxStatuses(); st["skipped"] != 1 || st["dead"] != 0 {
		t.Fatalf("inbox %v: want the order after the uninstall skipped", st)
	}
	e.auditOK(s.ID)
}

// TestOversizedBodyGets413: a body far above the limit made the server
// close the connection while the client was still sending, so the client
// saw a reset instead of the 413. The body is drained (up to a hard cap)
// and the 413 arrives.
func TestOversizedBodyGets413(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{BodyLimit: 64 << 10, NoWorker: true})
	big := []byte(`{"id":1,"pad":"` + strings.Repeat("x", 16<<20) + `"}`)
	for i := 0; i < 5; i++ {
		req, err := http.NewRequest("POST", e.base+"/webhooks/shopify", bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("try %d: the client got no answer: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "too_large") {
			t.Fatalf("try %d: %d %s, want 413 too_large", i, resp.StatusCode, b)
		}
	}
}
