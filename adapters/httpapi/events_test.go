package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
)

type eventView struct {
	Event struct {
		ID         int64  `json:"id"`
		Key        string `json:"idempotency_key"`
		Kind       string `json:"kind"`
		Object     string `json:"object"`
		Status     string `json:"status"`
		Refusal    string `json:"refusal"`
		Amount     string `json:"amount"`
		TxID       int64  `json:"transaction_id"`
		RevokeTxID int64  `json:"revoke_transaction_id"`
		Replayed   bool   `json:"replayed"`
	} `json:"event"`
}

func (e *env) event(token, path string, body map[string]any, status int) eventView {
	e.t.Helper()
	var v eventView
	must(e.t, e.as(token, "POST", path+"/events", body), status).JSON(e.t, &v)
	return v
}

// Activity rewards through the events API: per-activity amounts, one pay
// per slot, a monthly cap, revocation by a reversing transaction, replays,
// signed requests and tenancy.
func TestActivityEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	shop := e.wooShop(nil)
	other := e.wooShop(nil)
	must(t, e.as(shop.AdminToken, "PATCH", shop.Path+"/settings", map[string]any{"activities": []map[string]any{
		{"kind": "account_created", "amount": "5.00"},
		{"kind": "review", "amount": "2.50", "per_object": true, "max_per_period": 3, "period": "month"},
	}}), http.StatusOK)
	// Bad settings are refused with a specific message.
	r := must(t, e.as(shop.AdminToken, "PATCH", shop.Path+"/settings", map[string]any{"activities": []map[string]any{{"kind": "review", "amount": "2", "max_per_period": 3}}}), http.StatusBadRequest)
	if msg := r.Err(t).Error.Message; msg != "activity review: max_per_period needs a period (day, week, month or year)" {
		t.Fatalf("message %q", msg)
	}

	v := e.event(shop.AdminToken, shop.Path, map[string]any{"kind": "account_created", "subject": "42", "idempotency_key": "acc-42"}, http.StatusCreated)
	if v.Event.Status != "rewarded" || v.Event.Amount != "5" || v.Event.TxID == 0 {
		t.Fatalf("account_created: %+v", v.Event)
	}
	// The same key again: the same answer, nothing posted.
	again := e.event(shop.AdminToken, shop.Path, map[string]any{"kind": "account_created", "subject": 42, "idempotency_key": "acc-42"}, http.StatusOK)
	if !again.Event.Replayed || again.Event.TxID != v.Event.TxID {
		t.Fatalf("replay: %+v", again.Event)
	}
	// Another key for the same slot pays nothing: at most once per subject.
	dup := e.event(shop.AdminToken, shop.Path, map[string]any{"kind": "account_created", "subject": "42", "idempotency_key": "acc-42-b"}, http.StatusCreated)
	if dup.Event.Status != "refused" || dup.Event.Refusal == "" || dup.Event.TxID != 0 {
		t.Fatalf("second account_created: %+v", dup.Event)
	}
	// The same key for another activity is a conflict.
	must(t, e.as(shop.AdminToken, "POST", shop.Path+"/events", map[string]any{"kind": "review", "subject": "42", "object": "p1", "idempotency_key": "acc-42"}), http.StatusConflict)

	// Reviews: one per product, at most 3 a month.
	for i := 1; i <= 4; i++ {
		want, status := "rewarded", http.StatusCreated
		if i == 4 {
			want = "refused"
		}
		v := e.event(shop.AdminToken, shop.Path, map[string]any{"kind": "review", "subject": "42", "object": "p" + strconv.Itoa(i), "idempotency_key": "rev-" + strconv.Itoa(i)}, status)
		if v.Event.Status != want {
			t.Fatalf("review %d: %+v", i, v.Event)
		}
		if i == 4 && v.Event.Refusal != "cap reached for this period" {
			t.Fatalf("review 4 refusal %q", v.Event.Refusal)
		}
	}
	samePr := e.event(shop.AdminToken, shop.Path, map[string]any{"kind": "review", "subject": "42", "object": "p1", "idempotency_key": "rev-1-again"}, http.StatusCreated)
	if samePr.Event.Status != "refused" || samePr.Event.Refusal != "this activity was already rewarded for this subject" {
		t.Fatalf("second review of p1: %+v", samePr.Event)
	}
	// A per-object activity without object is a bad request.
	must(t, e.as(shop.AdminToken, "POST", shop.Path+"/events", map[string]any{"kind": "review", "subject": "42", "idempotency_key": "rev-x"}), http.StatusBadRequest)
	// Unknown kinds are recorded as refused.
	unk := e.event(shop.AdminToken, shop.Path, map[string]any{"kind": "birthday", "subject": "42", "idempotency_key": "bd-42"}, http.StatusCreated)
	if unk.Event.Status != "refused" {
		t.Fatalf("unknown kind: %+v", unk.Event)
	}
	if b := e.balance(shop, "42"); b.Available != "12.50" {
		t.Fatalf("balance %+v, want 12.5 (5 + 3 × 2.5)", b)
	}

	// Revocation: a transaction reversing the reward.
	rv := e.event(shop.AdminToken, shop.Path, map[string]any{"action": "revoke", "subject": "42", "idempotency_key": "rev-2"}, http.StatusOK)
	if rv.Event.Status != "revoked" || rv.Event.RevokeTxID == 0 {
		t.Fatalf("revoke: %+v", rv.Event)
	}
	rv2 := e.event(shop.AdminToken, shop.Path, map[string]any{"action": "revoke", "subject": "42", "idempotency_key": "rev-2"}, http.StatusOK)
	if !rv2.Event.Replayed || rv2.Event.RevokeTxID != rv.Event.RevokeTxID {
		t.Fatalf("second revoke: %+v", rv2.Event)
	}
	if b := e.balance(shop, "42"); b.Available != "10.00" {
		t.Fatalf("balance after revoke %+v", b)
	}
	// The revoked review keeps its slot: re-reporting p2 pays nothing.
	re := e.event(shop.AdminToken, shop.Path, map[string]any{"kind": "review", "subject": "42", "object": "p2", "idempotency_key": "rev-2-again"}, http.StatusCreated)
	if re.Event.Status != "refused" {
		t.Fatalf("re-reported revoked review: %+v", re.Event)
	}
	st := e.statement(shop.AdminToken, shop.Path+"/customers/42/statement")
	var sawRevoke bool
	for _, en := range st.Entries {
		if en.Kind == "activity_revoke" {
			sawRevoke = true
			if en.Delta != "-2.50" || en.Rule != "review" || en.Note != "p2" || en.Description != "Reward revoked · product review" {
				t.Fatalf("revoke entry %+v", en)
			}
		}
	}
	if !sawRevoke {
		t.Fatalf("no activity_revoke entry in %+v", st.Entries)
	}
	var acts struct {
		Activities []struct {
			Key    string `json:"idempotency_key"`
			Status string `json:"status"`
		} `json:"activities"`
	}
	must(t, e.as(shop.AdminToken, "GET", shop.Path+"/customers/42/activities", nil), http.StatusOK).JSON(t, &acts)
	if len(acts.Activities) != 9 {
		t.Fatalf("activities %+v", acts.Activities)
	}

	// Signed requests: with the events secret, over the exact bytes.
	var sec struct {
		Secret string `json:"events_secret"`
	}
	must(t, e.as(shop.AdminToken, "POST", shop.Path+"/events/secret", nil), http.StatusCreated).JSON(t, &sec)
	body := []byte(`{"kind":"account_created","subject":"77","idempotency_key":"acc-77"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := httpapi.PluginSignature(sec.Secret, ts, "POST", shop.Path+"/events", body)
	must(t, e.do("POST", shop.Path+"/events", body, "X-Creditbridge-Timestamp", ts, "X-Creditbridge-Signature", sig), http.StatusCreated)
	must(t, e.do("POST", shop.Path+"/events", body, "X-Creditbridge-Timestamp", ts, "X-Creditbridge-Signature", sig), http.StatusOK)
	// The same signature on another shop, a stale timestamp, a changed body: 401.
	must(t, e.do("POST", other.Path+"/events", body, "X-Creditbridge-Timestamp", ts, "X-Creditbridge-Signature", sig), http.StatusUnauthorized)
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
	must(t, e.do("POST", shop.Path+"/events", body, "X-Creditbridge-Timestamp", old,
		"X-Creditbridge-Signature", httpapi.PluginSignature(sec.Secret, old, "POST", shop.Path+"/events", body)), http.StatusUnauthorized)
	must(t, e.do("POST", shop.Path+"/events", []byte(`{"kind":"account_created","subject":"78","idempotency_key":"acc-77"}`),
		"X-Creditbridge-Timestamp", ts, "X-Creditbridge-Signature", sig), http.StatusUnauthorized)
	must(t, e.do("POST", shop.Path+"/events", body), http.StatusUnauthorized)
	// Tenancy: another shop's admin token sees nothing.
	must(t, e.as(other.AdminToken, "POST", shop.Path+"/events", map[string]any{"kind": "account_created", "subject": "9", "idempotency_key": "x"}), http.StatusNotFound)
	if b := e.balance(shop, "77"); b.Available != "5.00" {
		t.Fatalf("signed account_created: %+v", b)
	}
	e.auditOK(shop.ID)
}

// Shopify customers/create (the docs fixture) pays account_created once,
// however often it is delivered, and records the marketing consent when
// Shopify reports it; an order body relabelled customers/create pays
// nothing.
func TestShopifyCustomerCreatedActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	shop := e.shopifyShop("activity-" + randomHex(3) + ".myshopify.com")
	must(t, e.as(shop.AdminToken, "PATCH", shop.Path+"/settings", map[string]any{"activities": []map[string]any{{"kind": "account_created", "amount": "5.00"}}}), http.StatusOK)
	body := sharedfixtures.Read(t, "fixtures/shopify/customers-create.json")
	must(t, e.shopifyWebhook(shop.Domain, shopify.TopicCustomersCreate, "cc-1", body, shopifySecret), http.StatusOK)
	must(t, e.shopifyWebhook(shop.Domain, shopify.TopicCustomersCreate, "cc-2", body, shopifySecret), http.StatusOK)
	// The same customer again, now with Shopify's consent object.
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["email_marketing_consent"] = map[string]any{"state": "subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": "2026-01-01T00:00:00Z"}
	withConsent, _ := json.Marshal(m)
	must(t, e.shopifyWebhook(shop.Domain, shopify.TopicCustomersCreate, "cc-3", withConsent, shopifySecret), http.StatusOK)
	order := bytes.ReplaceAll(sharedfixtures.Read(t, "fixtures/shopify/orders-paid.json"), []byte("{shop}.myshopify.com"), []byte(shop.Domain))
	must(t, e.shopifyWebhook(shop.Domain, shopify.TopicCustomersCreate, "cc-4", order, shopifySecret), http.StatusOK)
	e.drain()
	if st := e.inboxStatuses(); st["processed"] != 3 || st["dead"] != 1 {
		t.Fatalf("inbox %v: want 3 processed and the relabelled order dead", st)
	}
	if b := e.balance(shop, "706405506930370000"); b.Available != "5.00" {
		t.Fatalf("balance %+v, want one account_created reward", b)
	}
	var consent *bool
	var email string
	if err := e.pool.QueryRow(context.Background(), `SELECT marketing_consent, email FROM customers WHERE shop_id = $1 AND owner_id = 'c:706405506930370000'`, shop.ID).Scan(&consent, &email); err != nil {
		t.Fatal(err)
	}
	if consent == nil || !*consent || email != "bob@biller.com" {
		t.Fatalf("consent %v, email %q", consent, email)
	}
	e.auditOK(shop.ID)
}

// Notification settings are validated, the signing secret is set once per
// call, and a customer's signed unsubscribe link withdraws the marketing
// consent (GET asks, POST acts; a forged link is 404).
func TestNotificationRoutesAndUnsubscribe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	shop := e.shopifyShop("notify-" + randomHex(3) + ".myshopify.com")
	r := must(t, e.as(shop.AdminToken, "PATCH", shop.Path+"/settings", map[string]any{"notify_endpoints": []map[string]any{{"url": "http://hooks.example.com/x"}}}), http.StatusBadRequest)
	if msg := r.Err(t).Error.Message; msg != `notify endpoint "http://hooks.example.com/x" must use https (http only on localhost)` {
		t.Fatalf("message %q", msg)
	}
	must(t, e.as(shop.AdminToken, "PATCH", shop.Path+"/settings", map[string]any{"notify_endpoints": []map[string]any{{"url": "https://hooks.example.com/x", "topics": []string{"credit.earned"}}},
		"reminder_days": 30}), http.StatusOK)
	var sec struct {
		Secret string `json:"notify_secret"`
	}
	must(t, e.as(shop.AdminToken, "POST", shop.Path+"/notifications/secret", nil), http.StatusCreated).JSON(t, &sec)
	if !strings.HasPrefix(sec.Secret, "whsig_") {
		t.Fatalf("secret %q", sec.Secret)
	}
	var list struct {
		Notifications []any `json:"notifications"`
	}
	must(t, e.as(shop.AdminToken, "GET", shop.Path+"/notifications", nil), http.StatusOK).JSON(t, &list)

	ctx := context.Background()
	full, err := e.shops.ShopByID(ctx, shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	owner, err := e.dir.RegisterCustomer(ctx, full, core.CustomerRef{PlatformID: "55", Email: "c55@example.com"}, &yes, "de")
	if err != nil {
		t.Fatal(err)
	}
	link := jobs.UnsubscribeURL(e.base, full, owner)
	path := strings.TrimPrefix(link, e.base)
	page := must(t, e.do("GET", path, nil, "Accept-Language", "de"), http.StatusOK)
	if !strings.Contains(string(page.Body), "Abmelden") {
		t.Fatalf("page %s", page.Body)
	}
	if c, _ := e.dir.CustomerContact(ctx, shop.ID, owner); c.Consent == nil || !*c.Consent {
		t.Fatal("GET changed the consent")
	}
	must(t, e.do("POST", path+"x", nil), http.StatusNotFound)
	must(t, e.do("POST", path, nil), http.StatusOK)
	if c, _ := e.dir.CustomerContact(ctx, shop.ID, owner); c.Consent == nil || *c.Consent || c.Email != "c55@example.com" || c.Locale != "de" {
		t.Fatalf("after unsubscribe: %+v", c)
	}
}
