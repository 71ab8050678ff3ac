package httpapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
)

// TestWithheldCreditOnTheStatement: credit an earning cap keeps from
// being booked is on the statement, per order and cap, in the reader's
// language, also for an order that booked nothing at all (no ledger entry:
// the ledger books only real money).
//
// 10 % of a 50.00 line is 5.00; the order cap is 1.00 and the yearly cap
// 1.50. Order 1001 books 1.00 (4.00 above the order limit); 1002 books the
// 0.50 left of the year (4.00 above the order limit, 0.50 above the yearly
// limit); 1003 books nothing (4.00 and 1.00).
func TestWithheldCreditOnTheStatement(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("capped-shop.myshopify.com")
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"earn_cap_order_amount": "1.00", "earn_cap_year_amount": "1.50"}), http.StatusOK)
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	for i := int64(0); i < 3; i++ {
		ord := payload.Order{ID: 5600000000001 + i, Number: 1001 + int(i), CustomerID: 6200000000001, Email: "capped@example.com", Currency: "EUR",
			Financial: "paid", UpdatedAt: t0.Add(time.Duration(i) * time.Hour), Lines: []payload.Line{
				{ID: 9101 + i, ProductID: 7101, VariantID: 8101, SKU: "TEA", Title: "Tee", Quantity: 1, Price: "50.00"}}}
		must(t, e.shopifyWebhook(s.Domain, shopify.TopicOrdersPaid, "evt-cap-"+string(rune('a'+i)), payload.OrderJSON(ord), shopifySecret), http.StatusOK)
		e.drain() // in order: the yearly budget goes to the earlier orders
	}
	if b := e.balance(s, "6200000000001"); b.Available != "1.50" {
		t.Fatalf("balance %+v, want 1.50", b)
	}

	// The merchant: two earn entries, five notices.
	st := e.statement(s.AdminToken, s.Path+"/customers/6200000000001/statement")
	if len(st.Entries) != 2 {
		t.Fatalf("entries %+v", st.Entries)
	}
	want := map[string]string{"#1001/order": "4.00", "#1002/order": "4.00", "#1002/customer_year": "0.50", "#1003/order": "4.00", "#1003/customer_year": "1.00"}
	got := map[string]string{}
	for _, w := range st.Withheld {
		got[w.OrderNumber+"/"+w.Cap] = w.Amount
	}
	if len(got) != len(want) || len(st.Withheld) != len(want) {
		t.Fatalf("withheld %+v, want %v", st.Withheld, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("withheld %s = %q, want %s", k, got[k], v)
		}
	}
	if st.Withheld[0].OrderNumber != "#1003" {
		t.Errorf("newest first: %+v", st.Withheld)
	}

	// The customer (and the plugin's My Account, which renders entries):
	// each notice is an entry without a change, beside its order's entry.
	var tok struct {
		Token string `json:"token"`
	}
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/6200000000001/token", nil), http.StatusOK).JSON(t, &tok)
	for lang, texts := range map[string][]string{
		"de": {"Nicht gutgeschrieben · Bestellung #1003 · 1,00\u00a0€ über der Jahresobergrenze des Shops pro Kunde",
			"Nicht gutgeschrieben · Bestellung #1003 · 4,00\u00a0€ über der Obergrenze des Shops pro Bestellung",
			"Nicht gutgeschrieben · Bestellung #1001 · 4,00\u00a0€ über der Obergrenze des Shops pro Bestellung"},
		"en": {"Not credited · Order #1003 · €1.00 above the shop's yearly limit per customer",
			"Not credited · Order #1002 · €0.50 above the shop's yearly limit per customer",
			"Not credited · Order #1001 · €4.00 above the shop's limit per order"},
	} {
		cs := e.statement(tok.Token, "/api/v1/me/statement?locale="+lang)
		if len(cs.Entries) != 7 {
			t.Fatalf("%s: entries %+v", lang, cs.Entries)
		}
		// Newest first: 1003's two notices, then 1002's earning and its
		// notices, then 1001's.
		var kinds []string
		for _, en := range cs.Entries {
			kinds = append(kinds, en.Kind)
			if en.Kind == "earn_withheld" && (en.Delta != "" || en.AvailableAfter != "" || en.Withheld == "") {
				t.Errorf("%s: notice %+v", lang, en)
			}
		}
		if strings.Join(kinds[:2], ",") != "earn_withheld,earn_withheld" || kinds[2] != "earn_withheld" && kinds[2] != "earn" {
			t.Errorf("%s: order of entries %v", lang, kinds)
		}
		var all []string
		for _, en := range cs.Entries {
			all = append(all, en.Description)
		}
		for _, text := range texts {
			found := false
			for _, d := range all {
				found = found || d == text
			}
			if !found {
				t.Errorf("%s: no entry %q in %q", lang, text, all)
			}
		}
	}

	// The Shopify storefront page (app proxy) renders the same rows.
	for lang, text := range map[string]string{
		"de": "Nicht gutgeschrieben · Bestellung #1003 · 1,00\u00a0€ über der Jahresobergrenze des Shops pro Kunde",
		"en": "Not credited · Order #1003 · €1.00 above the shop&#39;s yearly limit per customer",
	} {
		v := url.Values{"shop": {s.Domain}, "logged_in_customer_id": {"6200000000001"}, "path_prefix": {"/apps/credit"},
			"timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}}
		v.Set("signature", shopify.SignAppProxy(v, shopifySecret))
		page := string(must(t, e.do("GET", "/proxy/statement?"+v.Encode(), nil, "Accept-Language", lang), http.StatusOK).Body)
		if !strings.Contains(page, text) {
			t.Errorf("%s storefront page lacks %q:\n%s", lang, text, page)
		}
	}
	e.auditOK(s.ID)
}
