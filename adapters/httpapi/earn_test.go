package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

// liability reads the program report's liability in one currency.
func (e *env) liability(s testShop, cur string) string {
	e.t.Helper()
	var rep struct {
		Currencies map[string]map[string]string `json:"currencies"`
	}
	must(e.t, e.as(s.AdminToken, "GET", s.Path+"/report", nil), http.StatusOK).JSON(e.t, &rep)
	return rep.Currencies[cur]["liability"]
}

// sumDeltas adds up a statement's available deltas.
func sumDeltas(t *testing.T, p statementPage) decimal.Decimal {
	t.Helper()
	sum := decimal.Zero
	for _, en := range p.Entries {
		sum = sum.Add(decimal.RequireFromString(en.Delta))
	}
	return sum
}

// TestShopifyOrderEarnsEndToEnd drives one order through HTTP → inbox →
// asynq → worker → ledger with duplicate, out-of-order deliveries.
func TestShopifyOrderEarnsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("e2e-shop.myshopify.com")
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "5"},
		map[string]any{"target": "sku", "target_id": "SERUM-30", "mode": "fixed", "value": "4.00"},
		map[string]any{"target": "product", "target_id": "7003", "mode": "exclude"},
	)
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	ord := payload.Order{ID: 5500000000001, Number: 1001, CustomerID: 6100000000001, Email: "buyer@example.com", Currency: "EUR", Financial: "paid",
		UpdatedAt: t0, CheckoutToken: "chk-1", Lines: []payload.Line{
			{ID: 9001, ProductID: 7001, VariantID: 8001, SKU: "SERUM-30", Title: "Vitamin C Serum", Quantity: 3, Price: "39.00"},
			{ID: 9002, ProductID: 7002, VariantID: 8002, SKU: "CREAM-50", Title: "Night Cream", Quantity: 2, Price: "24.90", Discount: "4.98"},
			{ID: 9003, ProductID: 7003, VariantID: 8003, SKU: "GIFTBOX", Title: "Gift box", Quantity: 1, Price: "5.00"},
			{ID: 9004, ProductID: 7004, VariantID: 8004, SKU: "SOAP-1", Title: "Soap", Quantity: 4, Price: "3.35"},
		}}
	// Credit of the paid order, by hand (rounded once per line, half away
	// from zero):
	//   9001 SERUM-30: sku rule 4.00/unit × 3               = 12.00
	//   9002 CREAM-50: 5 % of (2 × 24.90 − 4.98) = 5 % of 44.82 = 2.241 → 2.24
	//   9003 product 7003: excluded                          =  0.00
	//   9004 SOAP-1:   5 % of 4 × 3.35 = 5 % of 13.40        =  0.67
	//   total                                                = 14.91
	// Refund r1 returns 1 × 9001 → 4.00 × 2 = 8.00; refund r2 returns 1 ×
	// 9004 → 0.1675 × 3 = 0.5025 → 0.50. After both refunds:
	//   8.00 + 2.24 + 0.00 + 0.50                            = 10.74
	// The cancellation (newer updated_at) brings the order to 0.00.
	paid := payload.OrderJSON(ord)
	refund1 := payload.RefundJSON(ord.ID, 771, 9001, 1, "EUR", t0.Add(time.Hour))
	refund2 := payload.RefundJSON(ord.ID, 772, 9004, 1, "EUR", t0.Add(90*time.Minute))

	send := func(topic, id string, body []byte, wantDup bool) {
		t.Helper()
		r := must(t, e.shopifyWebhook(s.Domain, topic, id, body, shopifySecret), http.StatusOK)
		if dup := r.Map(t)["duplicate"]; dup != wantDup {
			t.Fatalf("%s %s: duplicate=%v, want %v", topic, id, dup, wantDup)
		}
	}
	// Refunds first (before the order is known), then the paid order three
	// times (Shopify retries carry the same event id), and the same state
	// once more as orders/updated under another event id.
	send(shopify.TopicRefundsCreate, "evt-r2", refund2, false)
	send(shopify.TopicOrdersPaid, "evt-paid", paid, false)
	send(shopify.TopicRefundsCreate, "evt-r1", refund1, false)
	send(shopify.TopicOrdersPaid, "evt-paid", paid, true)
	send(shopify.TopicOrdersUpdated, "evt-upd-1", paid, false)
	send(shopify.TopicOrdersPaid, "evt-paid", paid, true)
	send(shopify.TopicRefundsCreate, "evt-r1", refund1, true)
	e.drain()

	if b := e.balance(s, "6100000000001"); b.Available != "10.74" || b.Pending != "0.00" || b.Held != "0.00" || b.Overdraft != "0.00" {
		t.Fatalf("balance after paid + 2 refunds: %+v, want available 10.74", b)
	}
	if got := e.liability(s, "EUR"); got != "10.74" {
		t.Fatalf("report liability %q, want 10.74", got)
	}
	st := e.statement(s.AdminToken, s.Path+"/customers/6100000000001/statement")
	if sum := sumDeltas(t, st); !sum.Equal(decimal.RequireFromString("10.74")) {
		t.Fatalf("statement deltas sum to %s, want 10.74: %+v", sum, st.Entries)
	}
	if st.Entries[0].AvailableAfter != "10.74" {
		t.Fatalf("newest entry's available_after %q", st.Entries[0].AvailableAfter)
	}
	sawSerum := false
	for _, en := range st.Entries {
		if en.SKU == "GIFTBOX" {
			t.Fatalf("the excluded product earned: %+v", en)
		}
		for _, l := range en.Lines { // one entry per order and beneficiary, with its lines
			if l.SKU == "GIFTBOX" {
				t.Fatalf("the excluded product earned: %+v", en)
			}
			if l.SKU == "SERUM-30" && en.Kind == "earn" {
				sawSerum = true
				if !strings.Contains(l.Rule, "sku:SERUM-30") || en.OrderID != "5500000000001" || !strings.Contains(en.Description, "Vitamin C Serum") || l.Amount == "" {
					t.Fatalf("serum entry does not say why: %+v", en)
				}
			}
		}
	}
	if !sawSerum {
		t.Fatalf("no earn entry for SERUM-30: %+v", st.Entries)
	}

	// The cancellation, then a late, stale redelivery of the paid state
	// under a new event id: the newest snapshot wins.
	cancelled := ord
	cancelled.Cancelled, cancelled.Financial, cancelled.UpdatedAt = true, "partially_refunded", t0.Add(3*time.Hour)
	stale := ord
	stale.UpdatedAt = t0.Add(30 * time.Minute)
	send(shopify.TopicOrdersCancelled, "evt-cancel", payload.OrderJSON(cancelled), false)
	send(shopify.TopicOrdersUpdated, "evt-upd-stale", payload.OrderJSON(stale), false)
	send(shopify.TopicOrdersPaid, "evt-paid", paid, true)
	e.drain()

	if b := e.balance(s, "6100000000001"); b.Available != "0.00" {
		t.Fatalf("balance after cancellation: %+v, want 0.00", b)
	}
	if got := e.liability(s, "EUR"); got != "0.00" {
		t.Fatalf("report liability after cancellation %q, want 0.00", got)
	}
	st = e.statement(s.AdminToken, s.Path+"/customers/6100000000001/statement")
	if sum := sumDeltas(t, st); !sum.IsZero() {
		t.Fatalf("statement after cancellation sums to %s", sum)
	}
	reversals := 0
	for _, en := range st.Entries {
		if en.Kind == "earn_reversal" {
			reversals++
		}
	}
	if reversals == 0 {
		t.Fatalf("no reversal entries after the cancellation: %+v", st.Entries)
	}
	if stt := e.inboxStatuses(); stt["dead"] != 0 || stt["received"] != 0 || stt["processed"]+stt["skipped"] != 6 {
		t.Fatalf("inbox statuses %v, want 6 handled events (3 duplicates never stored), none dead", stt)
	}
	e.auditOK(s.ID)
	var audit struct {
		OK bool `json:"ok"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/audit", nil), http.StatusOK).JSON(t, &audit)
	if !audit.OK {
		t.Fatal("GET /audit is not ok")
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.TrimSpace(string(b)))
}

// TestWooOrderEarnsEndToEnd: order.updated deliveries whose refund line
// detail comes from the shop's REST API (wcfake).
func TestWooOrderEarnsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	fake := wcfake.New(t, "ck_test_key", "cs_test_secret")
	s := e.wooShop(map[string]any{"domain": fake.URL, "consumer_key": "ck_test_key", "consumer_secret": "cs_test_secret", "webhook_secret": "whsec-e2e"})
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "sku", "target_id": "TEA-1", "mode": "fixed", "value": "1.50"},
	)
	processing := readTestdata(t, "woocommerce/order-4242-processing.json")
	refunded := readTestdata(t, "woocommerce/order-4242-refunded.json")
	fake.PutOrder(refunded)
	fake.AddRefund(4242, readTestdata(t, "woocommerce/refund-901.json"))
	// By hand:
	//   line 101 TEA-1: 1.50/unit × 3 = 4.50; line 102: 10 % of 12.50 = 1.25
	//   paid: 5.75. Refund 901 returns 1 × line 101 → 1.50 × 2 = 3.00
	//   after the refund: 3.00 + 1.25 = 4.25
	send := func(body []byte, wantDup bool) {
		t.Helper()
		r := must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderUpdated, body, "whsec-e2e"), http.StatusOK)
		if dup := r.Map(t)["duplicate"]; dup != wantDup {
			t.Fatalf("duplicate=%v, want %v", dup, wantDup)
		}
	}
	// Out of order: the refunded state arrives first, the older paid state
	// three times afterwards (webhook plus poller plus a manual resend).
	send(refunded, false)
	send(processing, false)
	send(processing, true)
	send(processing, true)
	e.drain()
	if b := e.balance(s, "55"); b.Available != "4.25" || b.Owner != "c:55" {
		t.Fatalf("balance %+v, want 4.25", b)
	}
	refundCalls := 0
	for _, r := range fake.Requests() {
		if r.Path == wcfake.APIPrefix+"/orders/4242/refunds" {
			refundCalls++
		}
	}
	if refundCalls == 0 {
		t.Fatal("the worker never asked the shop for the refund's lines")
	}
	if got := e.liability(s, "EUR"); got != "4.25" {
		t.Fatalf("liability %q, want 4.25", got)
	}
	if stt := e.inboxStatuses(); stt["dead"] != 0 || stt["processed"]+stt["skipped"] != 2 {
		t.Fatalf("inbox statuses %v", stt)
	}
	e.auditOK(s.ID)
}

// TestRedisLossIsRecoveredBySweeper: an event whose task vanished from
// Redis is re-enqueued by the sweeper and credited exactly once.
func TestRedisLossIsRecoveredBySweeper(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("flush-shop.myshopify.com")
	e.putRules(s, map[string]any{"target": "default", "mode": "fixed", "value": "1.25"})
	body := payload.OrderJSON(simpleOrder(8801, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)))
	must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-flush", body, shopifySecret), http.StatusOK)
	if n := e.pendingTasks(); n != 1 {
		t.Fatalf("%d tasks pending before the flush, want 1", n)
	}
	// Redis loses the task (a flush, a restart without persistence).
	if n, err := e.flushQueue(context.Background()); err != nil || n == 0 {
		t.Fatalf("flush: %d keys, %v", n, err)
	}
	if n := e.pendingTasks(); n != 0 {
		t.Fatalf("%d tasks pending after the flush", n)
	}
	if st := e.inboxStatuses(); st["received"] != 1 {
		t.Fatalf("inbox %v, want the event still received", st)
	}
	sw := &jobs.Sweeper{Inbox: e.inbox, Enqueuer: e.enqueuer, After: 0, Log: e.log}
	n, err := sw.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want 1 re-enqueued", n, err)
	}
	// A second sweep before the worker runs finds the task already queued
	// (same task id): still one task.
	if _, err := sw.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.pendingTasks(); n != 1 {
		t.Fatalf("%d tasks pending after two sweeps, want 1", n)
	}
	e.startWorker()
	e.drain()
	// 1.25 per unit × 2 units = 2.50, once.
	if b := e.balance(s, "7001"); b.Available != "2.50" {
		t.Fatalf("balance %+v, want 2.50", b)
	}
	st := e.statement(s.AdminToken, s.Path+"/customers/7001/statement")
	if len(st.Entries) != 1 {
		t.Fatalf("statement has %d entries, want 1: %+v", len(st.Entries), st.Entries)
	}
	if n, err := sw.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep after processing: %d, %v; want 0", n, err)
	}
	e.auditOK(s.ID)
}

// TestConcurrentWebhooksShareTasks sends many orders at once: the inbox
// stores them in group commits and enqueues each group as one task, the
// worker processes every event of such a task, and each order is credited
// exactly once (a duplicate delivery of every order included).
func TestConcurrentWebhooksShareTasks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("batch-shop.myshopify.com")
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	const n = 80
	var wg sync.WaitGroup
	errs := make(chan string, 2*n)
	for i := 0; i < 2*n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o := i % n // every order twice: the second is a duplicate delivery
			ord := payload.Order{ID: 7700000000000 + int64(o), Number: 2000 + o, CustomerID: 6200000000001, Email: "batch@example.com", Currency: "EUR",
				Financial: "paid", UpdatedAt: t0, Lines: []payload.Line{{ID: 99000 + int64(o), ProductID: 7001, VariantID: 8001, SKU: "S", Title: "Serum", Quantity: 1, Price: "20.00"}}}
			r := e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, fmt.Sprintf("evt-batch-%d", o), payload.OrderJSON(ord), shopifySecret)
			if r.Status != http.StatusOK {
				errs <- fmt.Sprintf("order %d: HTTP %d", o, r.Status)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
	e.drain()
	if e.batches.multi.Load() == 0 {
		t.Fatalf("no task carried more than one event: the batch path was not exercised")
	}
	// 80 orders × 10 % of 20.00 = 160.00, once each.
	if b := e.balance(s, "6200000000001"); b.Available != "160.00" {
		t.Fatalf("available %s, want 160.00 (tasks with several events: %d)", b.Available, e.batches.multi.Load())
	}
	if st := e.inboxStatuses(); st["processed"] != n || st["received"] != 0 {
		t.Fatalf("inbox statuses %v, want %d processed", st, n)
	}
	e.auditOK(s.ID)
}
