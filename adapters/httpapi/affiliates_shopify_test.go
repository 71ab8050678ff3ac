package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
)

// TestShopifyGuestCreditClaimedByVerifiedCustomer: a guest order earns to
// the guest account; customers/update without a verified e-mail moves
// nothing, with one the credit moves to the customer; the order's later
// refund reverses from the customer's account.
func TestShopifyGuestCreditClaimedByVerifiedCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.shopifyShop("guest-claim.myshopify.com")
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	raw, err := os.ReadFile("../../../shared/fixtures/shopify/customers-create.json")
	if err != nil {
		t.Skipf("shared fixtures: %v", err)
	}
	var cust map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&cust); err != nil {
		t.Fatal(err)
	}
	customerID := cust["id"].(json.Number).String()
	email := cust["email"].(string)

	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	ord := payload.Order{ID: 5600000000001, Number: 1101, Email: email, Currency: "EUR", Financial: "paid", UpdatedAt: t0,
		Lines: []payload.Line{{ID: 9101, ProductID: 7101, VariantID: 8101, SKU: "TEA", Title: "Tea", Quantity: 2, Price: "25.00"}}}
	must(t, e.shopifyWebhook(s.Domain, "orders/paid", "g-1", payload.OrderJSON(ord), shopifySecret), http.StatusOK)
	e.drain()
	if b := e.balance(s, customerID); b.Available != "0.00" {
		t.Fatalf("customer before the claim: %+v", b)
	}

	send := func(id string, verified bool) {
		t.Helper()
		cust["verified_email"] = verified
		body, _ := json.Marshal(cust)
		must(t, e.shopifyWebhook(s.Domain, "customers/update", id, body, shopifySecret), http.StatusOK)
		e.drain()
	}
	send("c-1", false)
	if b := e.balance(s, customerID); b.Available != "0.00" {
		t.Fatalf("an unverified e-mail claimed: %+v", b)
	}
	send("c-2", true)
	if b := e.balance(s, customerID); b.Available != "5.00" {
		t.Fatalf("after the verified customer: %+v", b)
	}
	send("c-3", true) // a later update moves nothing more
	if b := e.balance(s, customerID); b.Available != "5.00" {
		t.Fatalf("after a repeated update: %+v", b)
	}
	refund := payload.RefundJSON(ord.ID, 881, 9101, 1, "EUR", t0.Add(time.Hour))
	must(t, e.shopifyWebhook(s.Domain, "refunds/create", "r-1", refund, shopifySecret), http.StatusOK)
	e.drain()
	if b := e.balance(s, customerID); b.Available != "2.50" {
		t.Fatalf("after refunding one of two units: %+v", b)
	}
	e.auditOK(s.ID)
}
