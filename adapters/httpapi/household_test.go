package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
)

type refusalList struct {
	Refusals []struct {
		OrderID string `json:"order_id"`
		Partner string `json:"partner"`
		Reason  string `json:"reason"`
		TextDE  string `json:"text_de"`
		TextEN  string `json:"text_en"`
	} `json:"refusals"`
}

// shopifyHomeOrder is the orders-paid fixture for customer at an address
// (billing and shipping; ship, when set, is another shipping street),
// carrying ref as the creditbridge_partner cart attribute.
func shopifyHomeOrder(t *testing.T, domain string, id, customer int64, street, ship, ref string, at time.Time) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(shopifyOrder(t, domain, id, at, shopifySunglasses), &m); err != nil {
		t.Fatal(err)
	}
	email := "c" + strconv.FormatInt(customer, 10) + "@example.com"
	m["email"], m["contact_email"] = email, email
	c := m["customer"].(map[string]any)
	c["id"], c["email"] = customer, email
	bill := m["billing_address"].(map[string]any)
	bill["address1"], bill["zip"], bill["country_code"] = street, "10115", "DE"
	// The customer record's default address is the billing address (the
	// fixture's own would make every test customer one household).
	home := c["default_address"].(map[string]any)
	home["customer_id"], home["address1"], home["zip"], home["country_code"] = customer, street, "10115", "DE"
	shipTo := map[string]any{}
	for k, v := range bill {
		shipTo[k] = v
	}
	if ship != "" {
		shipTo["address1"] = ship
	}
	m["shipping_address"] = shipTo
	m["note_attributes"] = []any{}
	if ref != "" {
		m["note_attributes"] = []any{map[string]any{"name": "creditbridge_partner", "value": ref}}
	}
	b, _ := json.Marshal(m)
	return b
}

// TestHouseholdSelfReferralShopify: with referral.household_check on, an
// order to the partner's home (another customer, the street spelled
// differently, the billing address elsewhere) carrying the partner's
// cart attribute credits no partner, also when redelivered; it is listed
// with German and English text; a neighbour's order credits the partner;
// the check off (the default) earns as before.
func TestHouseholdSelfReferralShopify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.createShop(map[string]any{"platform": "shopify", "domain": "home-" + randomHex(3) + ".myshopify.com", "name": "Home", "currency": "USD"})
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "5"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"redemption_mode": "function", "partner_levels": 1,
		"referral": map[string]any{"household_check": true}}), http.StatusOK)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", map[string]any{"customer_id": "501", "code": "HOME"}), http.StatusCreated)
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	n := 0
	send := func(body []byte) {
		t.Helper()
		n++
		must(t, e.shopifyWebhook(s.Domain, "orders/paid", "hh-"+strconv.Itoa(n), body, shopifySecret), http.StatusOK)
		e.drain()
	}
	send(shopifyHomeOrder(t, s.Domain, 7101, 501, "Hauptstraße 5", "", "", t0)) // the partner's own order at home
	own := e.balance(s, "501").Available

	referred := shopifyHomeOrder(t, s.Domain, 7102, 42, "Lindenweg 2", "HAUPTSTR. 5", "home", t0.Add(time.Minute))
	send(referred)
	send(referred) // redelivered under another event id
	if got := e.balance(s, "501").Available; got != own {
		t.Fatalf("household order credited the partner: %s, had %s", got, own)
	}
	if b := e.balance(s, "42"); b.Available == "0.00" {
		t.Fatalf("the buyer's own credit is kept: %+v", b)
	}
	send(shopifyHomeOrder(t, s.Domain, 7103, 43, "Hauptstraße 7", "", "HOME", t0.Add(2*time.Minute))) // the neighbour
	neighbour := e.balance(s, "501").Available
	if neighbour == own {
		t.Fatal("the neighbour's referral credited nobody")
	}
	var list refusalList
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-refusals", nil), http.StatusOK).JSON(t, &list)
	if len(list.Refusals) != 1 || list.Refusals[0].OrderID != "7102" || list.Refusals[0].Reason != "household" || list.Refusals[0].Partner != "c-501" ||
		list.Refusals[0].TextDE == "" || list.Refusals[0].TextEN == "" || list.Refusals[0].TextDE == list.Refusals[0].TextEN {
		t.Fatalf("refusals %+v", list.Refusals)
	}
	// Switched off, the same household earns the chain again.
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"referral": map[string]any{"household_check": false}}), http.StatusOK)
	send(shopifyHomeOrder(t, s.Domain, 7104, 44, "Hauptstraße 5", "", "HOME", t0.Add(3*time.Minute)))
	if e.balance(s, "501").Available == neighbour {
		t.Fatal("with the check off the household order credited nobody")
	}
	e.auditOK(s.ID)
}

// wooHomeOrder is the synthetic order.updated fixture of customer at an
// address (billing; shipping when ship is set), with the referral meta.
func wooHomeOrder(t *testing.T, id, customer int, status, street, ship, ref string, created, modified time.Time) []byte {
	t.Helper()
	m := decodeFixture(t, "fixtures/woocommerce/synthetic/order-updated.body.json")
	m["id"], m["number"], m["status"], m["customer_id"] = id, strconv.Itoa(id), status, customer
	m["date_created_gmt"] = created.UTC().Format("2006-01-02T15:04:05")
	m["date_modified_gmt"] = modified.UTC().Format("2006-01-02T15:04:05")
	m["line_items"] = keepByID(m["line_items"], "id", "315")
	bill := m["billing"].(map[string]any)
	bill["address_1"], bill["postcode"], bill["country"], bill["email"] = street, "80331", "DE", "w"+strconv.Itoa(customer)+"@example.com"
	shipTo := m["shipping"].(map[string]any)
	shipTo["address_1"], shipTo["postcode"], shipTo["country"] = street, "80331", "DE"
	if ship != "" {
		shipTo["address_1"] = ship
	}
	meta := []any{}
	if ref != "" {
		meta = append(meta, map[string]any{"id": 1, "key": "_creditbridge_partner", "value": ref})
	}
	m["meta_data"] = meta
	b, _ := json.Marshal(m)
	return b
}

// TestHouseholdSelfReferralWooCommerce: the same on WooCommerce (billing
// and shipping from the order, referral from the order meta), including a
// stale snapshot delivered after a newer one and a replay.
func TestHouseholdSelfReferralWooCommerce(t *testing.T) {
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
	wantPartner := func(step, want string) {
		t.Helper()
		if b := e.balance(s, "7"); b.Available != want {
			t.Fatalf("%s: partner %+v, want %s", step, b, want)
		}
	}
	t0 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	// Line 315: 6.00 net → 0.60 to the buyer, 3.00 to the partner.
	send(wooHomeOrder(t, 801, 7, "processing", "Sendlinger Straße 1", "", "", t0, t0))
	wantPartner("own order", "0.60")
	// The partner's flatmate: billing elsewhere, shipping to the flat.
	completed := wooHomeOrder(t, 802, 8, "completed", "Marienplatz 8", "sendlinger str. 1", "HOME", t0.Add(time.Minute), t0.Add(3*time.Minute))
	processing := wooHomeOrder(t, 802, 8, "processing", "Marienplatz 8", "sendlinger str. 1", "HOME", t0.Add(time.Minute), t0.Add(2*time.Minute))
	send(completed)
	send(processing) // older, arriving late: stale
	send(completed)  // replay
	wantPartner("household order", "0.60")
	if b := e.balance(s, "8"); b.Available != "0.60" {
		t.Fatalf("the flatmate's own credit: %+v", b)
	}
	send(wooHomeOrder(t, 803, 9, "processing", "Sendlinger Straße 3", "", "HOME", t0.Add(4*time.Minute), t0.Add(4*time.Minute)))
	wantPartner("neighbour", "3.60")
	var list refusalList
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-refusals?limit=10", nil), http.StatusOK).JSON(t, &list)
	if len(list.Refusals) != 1 || list.Refusals[0].OrderID != "802" || list.Refusals[0].Reason != "household" {
		t.Fatalf("refusals %+v", list.Refusals)
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/referral-refusals?limit=0", nil), http.StatusBadRequest)
	e.auditOK(s.ID)
}
