package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/shopspring/decimal"
)

// TestShopifyPartnerSpendsStoreCreditAndVoucher: a partner's downline
// credit (a referred order through its code) is mirrored to its Shopify
// store credit account (store credit mode), spent at checkout as Shopify
// store credit (orders/paid with shopify_store_credit), and the rest is
// turned into a voucher code (app proxy) used on an order
// (discount_codes): each booked once, audit clean.
func TestShopifyPartnerSpendsStoreCreditAndVoucher(t *testing.T) {
	t.Parallel()
	fake := shopifyfake.New(t, shopifyfake.Options{ShopDomain: "spend-" + randomHex(4) + ".myshopify.com"})
	e := newEnv(t, envOptions{ShopifyHTTPClient: fake.HTTPClient()})
	domain := fake.ShopDomain()
	s := e.createShop(map[string]any{"platform": "shopify", "domain": domain, "name": "Spend", "currency": "EUR", "access_token": fake.AccessToken()})
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "20"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"partner_levels": 1, "redemption_mode": "store_credit"}), http.StatusOK)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", map[string]any{"customer_id": "502", "code": "LEAF"}), http.StatusCreated)
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	line := func(id int64, price string) []payload.Line {
		return []payload.Line{{ID: id, ProductID: 7001, VariantID: 8001, SKU: "TEA", Title: "Tea", Quantity: 1, Price: price}}
	}
	send := func(id string, body []byte) {
		t.Helper()
		must(t, e.shopifyWebhook(domain, "orders/paid", id, body, shopifySecret), http.StatusOK)
		e.drain()
	}
	partner := "gid://shopify/Customer/502"
	mirrored := func(step, want string) {
		t.Helper()
		e.waitFor(step, 15*time.Second, func() (bool, string) {
			got := fake.StoreCredit(partner, "EUR")
			return got.Equal(decimal.RequireFromString(want)), "store credit " + got.String()
		})
	}

	// A referred customer buys for 100.00 through LEAF: 20.00 to the partner.
	send("o-1", payload.OrderJSON(payload.Order{ID: 9501, Number: 1501, CustomerID: 42, Email: "mia.buyer@example.net", Currency: "EUR",
		Financial: "paid", UpdatedAt: t0, PartnerRef: "LEAF", Lines: line(95011, "100.00")}))
	if b := e.balance(s, "502"); b.Available != "20.00" {
		t.Fatalf("partner after the referred order: %+v", b)
	}
	mirrored("partner credit mirrored to Shopify store credit", "20")

	// The partner pays 8.00 of an order with Shopify store credit.
	fake.PayWithStoreCredit("gid://shopify/Order/9502", partner, "EUR", decimal.RequireFromString("8.00"))
	var paid map[string]any
	if err := json.Unmarshal(payload.OrderJSON(payload.Order{ID: 9502, Number: 1502, CustomerID: 502, Email: "leaf@example.com", Currency: "EUR",
		Financial: "paid", UpdatedAt: t0.Add(time.Minute), Lines: line(95021, "30.00")}), &paid); err != nil {
		t.Fatal(err)
	}
	paid["payment_gateway_names"] = []string{"shopify_store_credit", "bogus"}
	body, _ := json.Marshal(paid)
	send("o-2", body)
	send("o-2b", body) // redelivered
	e.waitFor("store credit use booked", 15*time.Second, func() (bool, string) {
		b := e.balance(s, "502")
		return b.Available == "15.00", "available " + b.Available // 20.00 − 8.00 + 10 % of 30.00
	})
	mirrored("mirror after the spend", "15")

	// The rest becomes a voucher code on the storefront...
	var v struct {
		Code   string `json:"code"`
		Amount string `json:"amount"`
	}
	must(t, e.proxyJSON(domain, "502", "POST", "/proxy/vouchers", map[string]any{"amount": "15.00"}), http.StatusCreated).JSON(t, &v)
	if v.Code == "" {
		t.Fatalf("voucher %+v", v)
	}
	if b := e.balance(s, "502"); b.Available != "0.00" {
		t.Fatalf("partner after the voucher: %+v", b)
	}
	mirrored("mirror after the voucher", "0")
	// ...used on an order (discount_codes, its discount application).
	var withCode map[string]any
	if err := json.Unmarshal(payload.OrderJSON(payload.Order{ID: 9503, Number: 1503, CustomerID: 502, Email: "leaf@example.com", Currency: "EUR",
		Financial: "paid", UpdatedAt: t0.Add(2 * time.Minute), Lines: []payload.Line{{ID: 95031, ProductID: 7001, VariantID: 8001, SKU: "TEA",
			Title: "Tea", Quantity: 1, Price: "40.00", Discount: "15.00"}}}), &withCode); err != nil {
		t.Fatal(err)
	}
	withCode["discount_applications"].([]any)[0].(map[string]any)["code"] = v.Code
	withCode["discount_applications"].([]any)[0].(map[string]any)["value_type"] = "fixed_amount"
	withCode["discount_codes"] = []any{map[string]any{"code": v.Code, "amount": "15.00", "type": "fixed_amount"}}
	body, _ = json.Marshal(withCode)
	send("o-3", body)
	page := e.statement(s.AdminToken, s.Path+"/customers/502/statement?limit=100")
	kinds := map[string]int{}
	for _, en := range page.Entries {
		kinds[en.Kind]++
	}
	if kinds["store_credit_use"] != 1 || kinds["voucher_issue"] != 1 {
		t.Fatalf("partner's statement kinds %v", kinds)
	}
	// The settlement moves the program's voucher bucket to redeemed.
	var status string
	var settled int
	if err := e.pool.QueryRow(context.Background(), `SELECT v.status, (SELECT count(*) FROM ledger_transactions t WHERE t.shop_id = v.shop_id AND t.idem_key = 'voucher:' || v.id || ':settle' AND t.order_id = '9503')
FROM vouchers v WHERE v.shop_id = $1 AND v.code = $2`, s.ID, v.Code).Scan(&status, &settled); err != nil {
		t.Fatal(err)
	}
	if status != "used" || settled != 1 {
		t.Fatalf("voucher %s: status %s, %d settlements", v.Code, status, settled)
	}
	if b := e.balance(s, "502"); b.Available != "2.50" { // 10 % of 40.00 − 15.00
		t.Fatalf("partner after the voucher order: %+v", b)
	}
	e.auditOK(s.ID)
}
