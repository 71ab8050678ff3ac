package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/shopspring/decimal"
)

// foundLaterList is the refusal list with the fields of a self-referral
// found after the order earned.
type foundLaterList struct {
	Refusals []map[string]any `json:"refusals"`
}

func (l foundLaterList) byOrder(id string) map[string]any {
	for _, r := range l.Refusals {
		if r["order_id"] == id {
			return r
		}
	}
	return nil
}

func (e *env) refusals(s testShop) foundLaterList {
	e.t.Helper()
	var l foundLaterList
	must(e.t, e.as(s.AdminToken, "GET", s.Path+"/referral-refusals?limit=200", nil), http.StatusOK).JSON(e.t, &l)
	props := specSchemaProperties(e.t, "ReferralRefusal")
	for _, r := range l.Refusals {
		for k := range r {
			if !props[k] {
				e.t.Errorf("refusal field %q is not in openapi.yaml's ReferralRefusal", k)
			}
		}
	}
	return l
}

// wantRefusal checks one listed order: its status, whether it was found
// later, and that the status has texts in both languages.
func wantRefusal(t *testing.T, l foundLaterList, order, status string, later bool) {
	t.Helper()
	r := l.byOrder(order)
	if r == nil {
		t.Fatalf("order %s is not listed: %v", order, l.Refusals)
	}
	if r["status"] != status || r["found_later"] != later || r["reason"] != "household" ||
		r["status_text_de"] == "" || r["status_text_en"] == "" || r["status_text_de"] == r["status_text_en"] {
		t.Fatalf("order %s: %v, want status %s found_later %v", order, r, status, later)
	}
}

func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return d
}

// shopifyCustomerAt is the customers-update fixture (the shared
// customers-create body) for customer with a verified e-mail and the
// default address street, 10115, DE.
func shopifyCustomerAt(t *testing.T, customer int64, street string) []byte {
	t.Helper()
	m := decodeFixture(t, "fixtures/shopify/customers-create.json")
	email := "c" + strconv.FormatInt(customer, 10) + "@example.com"
	m["id"], m["email"], m["verified_email"] = customer, email, true
	a := m["default_address"].(map[string]any)
	a["customer_id"], a["address1"], a["zip"], a["country_code"], a["country"] = customer, street, "10115", "DE", "DE"
	m["addresses"] = []any{a}
	b, _ := json.Marshal(m)
	return b
}

// TestHouseholdFoundLaterShopify: with the household check on, addresses
// learned after referred orders earned put those orders on the refusal
// list as found later, in either order (the buyer's customer record
// first and the partner's own order later; or the partner's address
// first and the buyer's customer record later), once however often the
// webhooks are redelivered; their partner credit stands until the
// merchant reverses one (a correction entry pointing at the earning,
// idempotent); the buyer's later orders credit the partner no more, even
// shipped elsewhere; a refund and a replay of the reversed order never
// book the partner's lines again.
func TestHouseholdFoundLaterShopify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.createShop(map[string]any{"platform": "shopify", "domain": "later-" + randomHex(3) + ".myshopify.com", "name": "Later", "currency": "USD"})
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "5"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"redemption_mode": "function", "partner_levels": 1,
		"referral": map[string]any{"household_check": true}}), http.StatusOK)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", map[string]any{"customer_id": "501", "code": "HOME"}), http.StatusCreated)
	t0 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	n := 0
	send := func(topic string, body []byte) {
		t.Helper()
		n++
		must(t, e.shopifyWebhook(s.Domain, topic, "fl-"+strconv.Itoa(n), body, shopifySecret), http.StatusOK)
		e.drain()
	}
	partner := func() decimal.Decimal { t.Helper(); return dec(t, e.balance(s, "501").Available) }

	// Buyer 42 orders twice through the partner's link, shipped to its
	// own address: both credit the partner.
	send("orders/paid", shopifyHomeOrder(t, s.Domain, 7201, 42, "Lindenweg 2", "", "HOME", t0))
	share := partner()
	if !share.IsPositive() {
		t.Fatal("the referred order credited no partner")
	}
	send("orders/paid", shopifyHomeOrder(t, s.Domain, 7202, 42, "Lindenweg 2", "", "HOME", t0.Add(time.Minute)))
	if got := partner(); !got.Equal(share.Mul(decimal.NewFromInt(2))) {
		t.Fatalf("two referred orders: partner %s, want twice %s", got, share)
	}
	// Buyer 42's customer record says it lives at Hauptstraße 5; nobody
	// is known there yet.
	send("customers/update", shopifyCustomerAt(t, 42, "Hauptstraße 5"))
	if l := e.refusals(s); len(l.Refusals) != 0 {
		t.Fatalf("nothing is known about the partner's household yet: %v", l.Refusals)
	}
	// The partner's own order at home arrives: both earned orders are
	// found later, their credit stands.
	own := shopifyHomeOrder(t, s.Domain, 7101, 501, "Hauptstr. 5", "", "", t0.Add(-time.Hour))
	send("orders/paid", own)
	send("orders/paid", own) // redelivered
	before := partner()
	l := e.refusals(s)
	if len(l.Refusals) != 2 {
		t.Fatalf("refusals %v", l.Refusals)
	}
	wantRefusal(t, l, "7201", "review", true)
	wantRefusal(t, l, "7202", "review", true)
	if l.byOrder("7201")["partner"] != "c-501" || l.byOrder("7201")["buyer"] != "c:42" {
		t.Fatalf("refusal %v", l.byOrder("7201"))
	}
	// (a) The buyer's next referred order, shipped elsewhere, credits no
	// partner: the buyer's household is the partner's.
	send("orders/paid", shopifyHomeOrder(t, s.Domain, 7203, 42, "Lindenweg 2", "", "HOME", t0.Add(2*time.Minute)))
	if got := partner(); !got.Equal(before) {
		t.Fatalf("a later order of the household credited the partner: %s, had %s", got, before)
	}
	wantRefusal(t, e.refusals(s), "7203", "refused", false)

	// The other direction: the partner's address is known, buyer 43's
	// referred order earns, then its customer record reveals the
	// household.
	send("orders/paid", shopifyHomeOrder(t, s.Domain, 7301, 43, "Birkenweg 9", "", "HOME", t0.Add(3*time.Minute)))
	if got := partner(); !got.Equal(before.Add(share)) {
		t.Fatalf("buyer 43's referred order: partner %s, want %s", got, before.Add(share))
	}
	send("customers/update", shopifyCustomerAt(t, 43, "HAUPTSTRASSE 5"))
	send("customers/update", shopifyCustomerAt(t, 43, "HAUPTSTRASSE 5")) // redelivered
	l = e.refusals(s)
	if len(l.Refusals) != 4 {
		t.Fatalf("refusals %v", l.Refusals)
	}
	wantRefusal(t, l, "7301", "review", true)

	// The merchant reverses 7201: one correction entry for the partner,
	// pointing at the earning; a repeat books nothing.
	var rev map[string]any
	must(t, e.as(s.AdminToken, "POST", s.Path+"/referral-refusals/7201/reverse", nil), http.StatusOK).JSON(t, &rev)
	if rev["status"] != "reversed" || len(rev["transaction_ids"].([]any)) != 1 || rev["reversed_by"] == "" {
		t.Fatalf("reverse: %v", rev)
	}
	after := before // 7301's share earned, 7201's taken back
	if got := partner(); !got.Equal(after) {
		t.Fatalf("after the reversal: partner %s, want %s", got, after)
	}
	must(t, e.as(s.AdminToken, "POST", s.Path+"/referral-refusals/7201/reverse", nil), http.StatusOK).JSON(t, &rev)
	if rev["status"] != "reversed" || len(rev["transaction_ids"].([]any)) != 0 {
		t.Fatalf("repeated reverse: %v", rev)
	}
	if got := partner(); !got.Equal(after) {
		t.Fatalf("a repeated reversal booked again: partner %s, want %s", got, after)
	}
	var correction *statementEntry
	st := e.statement(s.AdminToken, s.Path+"/customers/501/statement")
	for i, x := range st.Entries {
		if x.Kind == "self_referral_reversal" {
			if correction != nil {
				t.Fatal("two correction entries")
			}
			correction = &st.Entries[i]
		}
	}
	if correction == nil || correction.OrderID != "7201" || dec(t, correction.Delta).Neg().Cmp(share) != 0 {
		t.Fatalf("correction entry %+v, want -%s for order 7201", correction, share)
	}
	wantRefusal(t, e.refusals(s), "7201", "reversed", true)
	wantRefusal(t, e.refusals(s), "7202", "review", true)

	// A refund and a replay of the reversed order leave the partner alone;
	// the buyer's own credit follows the refund.
	buyer := dec(t, e.balance(s, "42").Available)
	send("refunds/create", shopifyRefund(t, 7201, 97201, t0.Add(time.Hour), shopifySunglasses))
	send("orders/paid", shopifyHomeOrder(t, s.Domain, 7201, 42, "Lindenweg 2", "", "HOME", t0))
	if got := partner(); !got.Equal(after) {
		t.Fatalf("refund and replay of a reversed order: partner %s, want %s", got, after)
	}
	if got := dec(t, e.balance(s, "42").Available); !got.LessThan(buyer) {
		t.Fatalf("the refund did not reverse the buyer's own credit: %s, had %s", got, buyer)
	}
	// An order refused when it earned has nothing to reverse; an order
	// never listed is not found.
	must(t, e.as(s.AdminToken, "POST", s.Path+"/referral-refusals/7203/reverse", nil), http.StatusConflict)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/referral-refusals/9999/reverse", nil), http.StatusNotFound)
	e.auditOK(s.ID)
}

// TestHouseholdFoundLaterWooCommerce: the partner's own earlier order
// arrives after a referred order of its flatmate earned (out of order):
// the referred order is found later; the flatmate's next order to the
// flat is refused; the partner has spent part of the credit, so the
// merchant's reversal takes what is there and records the rest as an
// overdraft; a replay and the order's refund never book the partner's
// line again.
func TestHouseholdFoundLaterWooCommerce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.wooShop(map[string]any{"currency": "USD"})
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "50"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"partner_levels": 1, "referral": map[string]any{"household_check": true}}), http.StatusOK)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", map[string]any{"customer_id": "7", "code": "HOME"}), http.StatusCreated)
	send := func(body []byte) {
		t.Helper()
		must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderUpdated, body, s.WebhookSecret), http.StatusOK)
		e.drain()
	}
	wantPartner := func(step, avail, overdraft string) {
		t.Helper()
		if b := e.balance(s, "7"); b.Available != avail || b.Overdraft != overdraft {
			t.Fatalf("%s: partner %+v, want available %s overdraft %s", step, b, avail, overdraft)
		}
	}
	t0 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	// Line 315: 6.00 net → 0.60 to the buyer, 3.00 to the partner.
	referred := wooHomeOrder(t, 802, 8, "processing", "Marienplatz 8", "", "HOME", t0.Add(time.Minute), t0.Add(time.Minute))
	send(referred)
	wantPartner("referred order", "3.00", "0.00")
	// The partner spends 2.50 of it.
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/7/adjustments", map[string]any{"amount": "-2.50", "note": "spent", "idempotency_key": "spend-1"}), http.StatusCreated)
	// The partner's own order, placed before, delivered now: same flat.
	send(wooHomeOrder(t, 801, 7, "processing", "Marienplatz 8", "", "", t0, t0))
	wantPartner("own order", "1.10", "0.00")
	l := e.refusals(s)
	if len(l.Refusals) != 1 {
		t.Fatalf("refusals %v", l.Refusals)
	}
	wantRefusal(t, l, "802", "review", true)
	// The flatmate's next referred order to the flat credits no partner.
	send(wooHomeOrder(t, 803, 8, "processing", "Marienplatz 8", "", "HOME", t0.Add(2*time.Minute), t0.Add(2*time.Minute)))
	wantPartner("next order of the household", "1.10", "0.00")
	wantRefusal(t, e.refusals(s), "803", "refused", false)

	// Reversal: 1.10 available taken, 1.90 recorded as overdraft.
	var rev map[string]any
	must(t, e.as(s.AdminToken, "POST", s.Path+"/referral-refusals/802/reverse", nil), http.StatusOK).JSON(t, &rev)
	if rev["status"] != "reversed" || len(rev["transaction_ids"].([]any)) != 1 {
		t.Fatalf("reverse: %v", rev)
	}
	wantPartner("reversed", "0.00", "1.90")
	must(t, e.as(s.AdminToken, "POST", s.Path+"/referral-refusals/802/reverse", nil), http.StatusOK)
	wantPartner("reversed twice", "0.00", "1.90")
	// Replay and refund of the reversed order.
	send(referred)
	wantPartner("replayed", "0.00", "1.90")
	send(wooHomeOrder(t, 802, 8, "refunded", "Marienplatz 8", "", "HOME", t0.Add(time.Minute), t0.Add(time.Hour)))
	wantPartner("refunded", "0.00", "1.90")
	if b := e.balance(s, "8"); b.Available != "0.60" { // 803's own 0.60; 802's reversed by the refund
		t.Fatalf("the flatmate after the refund: %+v", b)
	}
	e.auditOK(s.ID)
}
