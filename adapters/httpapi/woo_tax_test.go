package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
	"github.com/shopspring/decimal"
)

// A WooCommerce shop with prices entered excluding tax. By default (B2C,
// redeem_base gross) the quote tells the plugin to size the coupon so the
// gross total falls by the credit: 11.90 of credit on a 100.00 + 19 %
// cart is a 10.00 coupon, which WooCommerce reports as discount 10.00 and
// discount_tax 1.90; the hold is captured by exactly 11.90 and the
// redemption is recorded as 10.00 net + 1.90 tax. With redeem_base net
// (B2B) the coupon is the credit off the net total: discount 11.90 (and
// 2.26 less VAT on top), captured 11.90, recorded as all net.
func TestWooTaxExclusiveRedemption(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	shopWC := wcfake.New(t, "ck_tax", "cs_tax")
	reg := e.mustRegister(plugOperator, shopWC.URL, "ck_tax", "cs_tax", http.StatusCreated)
	shopID := reg.id(t)
	admin := func(method, path, body string) {
		t.Helper()
		r := e.do(method, "/api/v1/shops/"+reg.ShopID+path, []byte(body), "Authorization", "Bearer "+reg.AdminToken)
		if r.Status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
	}
	admin("PUT", "/rules", `{"target":"default","mode":"percent","value":"10"}`)
	admin("PATCH", "/settings", `{"max_amount":"11.90"}`)
	const customer = "42"
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	e.webhook(reg, buildOrder(t, orderSpec{ID: 2001, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"300.00"}}))
	e.wantBalance(reg, customer, "30.00", "0.00")

	type split struct{ amount, net, tax, src string }
	recorded := func(order string) split {
		t.Helper()
		var a, n, x decimal.Decimal
		var s split
		if err := e.pool.QueryRow(context.Background(), `SELECT amount, net, tax, tax_source FROM order_redemptions WHERE shop_id = $1 AND order_id = $2`,
			shopID, order).Scan(&a, &n, &x, &s.src); err != nil {
			t.Fatalf("order_redemptions of %s: %v", order, err)
		}
		s.amount, s.net, s.tax = a.StringFixed(2), n.StringFixed(2), x.StringFixed(2)
		return s
	}
	var raw map[string]any
	cart := plugHex(16)
	e.signed(reg, "POST", "/api/v1/plugin/quote", quoteBody(customer, cart, "100.00")).want(t, http.StatusOK).decode(t, &raw)
	if raw["amount"] != "11.90" || raw["redeem_base"] != "gross" {
		t.Fatalf("quote %v", raw)
	}
	e.webhook(reg, buildOrder(t, orderSpec{ID: 2002, Status: "processing", Modified: t0.Add(time.Minute), CartKey: cart, Lines: []string{"90.00"},
		Coupons: []map[string]any{{"code": raw["coupon_code"], "discount": "10.00", "discount_tax": "1.90"}}}))
	if st, _, capt := holdRow(t, e.pool, raw["hold_id"].(string)); st != "captured" || capt != "11.90" {
		t.Fatalf("B2C hold %s captured %s, want 11.90", st, capt)
	}
	// 30.00 − 11.90 + 10 % of the order's 90.00 net.
	e.wantBalance(reg, customer, "27.10", "0.00")
	if s := recorded("2002"); s != (split{"11.90", "10.00", "1.90", "platform"}) {
		t.Fatalf("B2C redemption recorded %+v", s)
	}

	admin("PATCH", "/settings", `{"redeem_base":"net"}`)
	cart = plugHex(16)
	e.signed(reg, "POST", "/api/v1/plugin/quote", quoteBody(customer, cart, "100.00")).want(t, http.StatusOK).decode(t, &raw)
	if raw["amount"] != "11.90" || raw["redeem_base"] != "net" {
		t.Fatalf("quote %v", raw)
	}
	e.webhook(reg, buildOrder(t, orderSpec{ID: 2003, Status: "processing", Modified: t0.Add(2 * time.Minute), CartKey: cart, Lines: []string{"88.10"},
		Coupons: []map[string]any{{"code": raw["coupon_code"], "discount": "11.90", "discount_tax": "2.26"}}}))
	if st, _, capt := holdRow(t, e.pool, raw["hold_id"].(string)); st != "captured" || capt != "11.90" {
		t.Fatalf("B2B hold %s captured %s, want 11.90", st, capt)
	}
	// 27.10 − 11.90 + 10 % of 88.10 = 8.81.
	e.wantBalance(reg, customer, "24.01", "0.00")
	if s := recorded("2003"); s != (split{"11.90", "11.90", "0.00", "platform"}) {
		t.Fatalf("B2B redemption recorded %+v", s)
	}
	e.audit(shopID)
}
