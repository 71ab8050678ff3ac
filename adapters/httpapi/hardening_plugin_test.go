package httpapi

// Regression tests for issue 8 #5 and issue 12's refund give-back, on
// the plugin test environment (real PostgreSQL, Redis, wcfake).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/woocommerce/wcfake"
	"github.com/creditbridge/creditbridge/core"
)

// withRefunds adds refund summaries ({id, total}) to a WooCommerce order
// body, as WooCommerce lists them in the order.
func withRefunds(t *testing.T, body []byte, refunds map[int64]string) []byte {
	t.Helper()
	var o map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&o); err != nil {
		t.Fatal(err)
	}
	var list []any
	for id, total := range refunds {
		list = append(list, map[string]any{"id": json.Number(strconv.FormatInt(id, 10)), "reason": "", "total": "-" + total})
	}
	o["refunds"] = list
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wooRefund is a GET /orders/<id>/refunds object returning qty units of
// one order line.
func wooRefund(id, lineID int64, qty int, amount string) []byte {
	return []byte(fmt.Sprintf(`{"id":%d,"date_created_gmt":"2026-02-02T09:00:00","amount":%q,"reason":"","line_items":[{"id":%d,"quantity":%d,"total":"-%s","meta_data":[{"id":1,"key":"_refunded_item_id","value":"%d"}]}]}`,
		id, amount, id*10, -qty, amount, lineID))
}

// TestWooVoucherConvergesOnCancelAndRestore: a voucher used on an order
// that is cancelled and then restored was returned on cancel and never
// taken again. Voucher credit now converges like redemptions.
func TestWooVoucherConvergesOnCancelAndRestore(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	wc := wcfake.New(t, "ck_v", "cs_v")
	reg := e.mustRegister(plugOperator, wc.URL, "ck_v", "cs_v", http.StatusCreated)
	shopID := reg.id(t)
	e.do("PUT", "/api/v1/shops/"+reg.ShopID+"/rules", []byte(`{"target":"default","mode":"percent","value":"10"}`), "Authorization", "Bearer "+reg.AdminToken).want(t, http.StatusOK)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	// 150.00 + 50.00 earn 20.00.
	e.webhook(reg, buildOrder(t, orderSpec{ID: 2001, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"150.00", "50.00"}}))
	e.wantBalance(reg, "42", "20.00", "0.00")
	var vr map[string]any
	e.signed(reg, "POST", "/api/v1/plugin/customers/42/vouchers", map[string]string{"amount": "5.00", "currency": "EUR"}).want(t, http.StatusCreated).decode(t, &vr)
	code, _ := vr["code"].(string)
	e.wantBalance(reg, "42", "15.00", "0.00")
	// An order of 30.00 uses the voucher and earns 3.00.
	at := t0.Add(time.Minute)
	state := func(status string) {
		t.Helper()
		at = at.Add(time.Minute)
		e.webhook(reg, buildOrder(t, orderSpec{ID: 2002, Status: status, Modified: at, CartKey: plugHex(16), Lines: []string{"30.00"},
			Coupons: []map[string]any{{"code": code, "discount": "5.00", "discount_tax": "0.95"}}}))
	}
	state("completed")
	e.wantBalance(reg, "42", "18.00", "0.00")
	for i := 0; i < 2; i++ {
		state("cancelled") // the 3.00 go, the 5.00 come back
		e.wantBalance(reg, "42", "20.00", "0.00")
		e.audit(shopID)
		state("processing") // restored: the 3.00 again, the voucher's 5.00 used again
		e.wantBalance(reg, "42", "18.00", "0.00")
		e.audit(shopID)
	}
}

// TestRefundGivesBackSpentCredit (issue 12): credit spent on an order
// comes back when the order is refunded, in proportion for a partial
// refund and exactly for a full one, unless the shop keeps it.
func TestRefundGivesBackSpentCredit(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	wc := wcfake.New(t, "ck_r", "cs_r")
	reg := e.mustRegister(plugOperator, wc.URL, "ck_r", "cs_r", http.StatusCreated)
	shopID := reg.id(t)
	adminPath := "/api/v1/shops/" + reg.ShopID
	e.do("PUT", adminPath+"/rules", []byte(`{"target":"default","mode":"percent","value":"10"}`), "Authorization", "Bearer "+reg.AdminToken).want(t, http.StatusOK)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	e.webhook(reg, buildOrder(t, orderSpec{ID: 3001, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"150.00", "50.00"}}))
	e.wantBalance(reg, "42", "20.00", "0.00")
	// An order of two lines (line 30020: 1 × 40.00, line 30021: 5 × 20.00)
	// uses 10.00 of credit (hold of 15.00, 25 % of 60.00... the cap is the
	// quote's) and earns 10 % = 14.00.
	cart := plugHex(16)
	q := e.quote(reg, "42", cart, "10.00")
	if q.Amount != "10.00" {
		t.Fatalf("quote %+v", q)
	}
	at := t0.Add(time.Minute)
	coupons := func() []map[string]any {
		return []map[string]any{{"code": q.CouponCode, "discount": "10.00", "discount_tax": "0.00"}}
	}
	spec := orderSpec{ID: 3002, Status: "processing", Modified: at, CartKey: cart, Lines: []string{"40.00", "20.00"}, Coupons: coupons()}
	e.webhook(reg, buildOrder(t, spec))
	// 20.00 − 10.00 spent + 4.00 + 2.00 earned
	e.wantBalance(reg, "42", "16.00", "0.00")
	// Refund 1 unit of line 30021 (5 × 4.00): 4.00 of 60.00 is 1/15 of
	// the goods, so round(10.00 / 15) = 0.67 comes back; the unit's
	// earning (0.40) goes.
	wc.AddRefund(3002, wooRefund(801, 30021, 1, "4.00"))
	spec.Modified, spec.Coupons = at.Add(time.Minute), coupons()
	e.webhook(reg, withRefunds(t, buildOrder(t, spec), map[int64]string{801: "4.00"}))
	e.wantBalance(reg, "42", "16.27", "0.00")
	e.audit(shopID)
	// The full refund: everything spent is back, everything earned gone.
	wc.AddRefund(3002, wooRefund(802, 30020, 1, "40.00"))
	wc.AddRefund(3002, wooRefund(803, 30021, 4, "16.00"))
	spec.Status, spec.Modified, spec.Coupons = "refunded", at.Add(2*time.Minute), coupons()
	e.webhook(reg, withRefunds(t, buildOrder(t, spec), map[int64]string{801: "4.00", 802: "40.00", 803: "16.00"}))
	e.wantBalance(reg, "42", "20.00", "0.00")
	e.audit(shopID)

	// A shop that keeps spent credit on refunds.
	e.do("PATCH", adminPath+"/settings", []byte(`{"keep_credit_on_refund":true}`), "Authorization", "Bearer "+reg.AdminToken).want(t, http.StatusOK)
	cart2 := plugHex(16)
	q2 := e.quote(reg, "42", cart2, "10.00")
	spec2 := orderSpec{ID: 3003, Status: "processing", Modified: at.Add(3 * time.Minute), CartKey: cart2, Lines: []string{"40.00"},
		Coupons: []map[string]any{{"code": q2.CouponCode, "discount": "10.00", "discount_tax": "0.00"}}}
	e.webhook(reg, buildOrder(t, spec2))
	e.wantBalance(reg, "42", "14.00", "0.00") // 20 − 10 + 4
	spec2.Status, spec2.Modified = "refunded", spec2.Modified.Add(time.Minute)
	spec2.Coupons = []map[string]any{{"code": q2.CouponCode, "discount": "10.00", "discount_tax": "0.00"}}
	e.webhook(reg, buildOrder(t, spec2))
	e.wantBalance(reg, "42", "10.00", "0.00") // the earning goes, the spent credit stays spent
	e.audit(shopID)
}

// TestShopLookupCacheIsBounded: every unknown shop id a client sent was a
// sync.Map entry kept for good (150,000 requests took the service from 50
// to 818 MB). The look-up cache is bounded.
func TestShopLookupCacheIsBounded(t *testing.T) {
	t.Parallel()
	_, s := New(Config{}, Deps{Log: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for i := 0; i < 3*maxCachedShops; i++ {
		id := int64(i)
		_, ok, err := s.cachedShopBy(ctx, "id:"+strconv.FormatInt(id, 10), func() (core.Shop, error) {
			return core.Shop{}, core.Errorf(core.ENOTFOUND, "shop %d not found", id)
		})
		if ok || err != nil {
			t.Fatalf("unknown shop: ok=%v err=%v", ok, err)
		}
	}
	if n := s.shopCache.Len(); n > maxCachedShops {
		t.Fatalf("cache holds %d entries, above its bound %d", n, maxCachedShops)
	}
}

// TestPluginVoucherReplayIssuesOneVoucher: an identical signed voucher
// request replayed within the 300 s window issued a second voucher. The
// signature is the request's nonce.
func TestPluginVoucherReplayIssuesOneVoucher(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	wc := wcfake.New(t, "ck_n", "cs_n")
	reg := e.mustRegister(plugOperator, wc.URL, "ck_n", "cs_n", http.StatusCreated)
	e.do("PUT", "/api/v1/shops/"+reg.ShopID+"/rules", []byte(`{"target":"default","mode":"percent","value":"10"}`), "Authorization", "Bearer "+reg.AdminToken).want(t, http.StatusOK)
	e.webhook(reg, buildOrder(t, orderSpec{ID: 4001, Status: "processing", Modified: time.Now().Add(-time.Hour).Truncate(time.Second), CartKey: plugHex(16), Lines: []string{"150.00", "50.00"}}))
	e.wantBalance(reg, "42", "20.00", "0.00")
	body := []byte(`{"amount":"5.00","currency":"EUR"}`)
	ts := time.Now().Unix()
	var first, replay map[string]any
	e.signedAt(reg.ShopID, reg.PluginSecret, ts, "POST", "/api/v1/plugin/customers/42/vouchers", body).want(t, http.StatusCreated).decode(t, &first)
	e.signedAt(reg.ShopID, reg.PluginSecret, ts, "POST", "/api/v1/plugin/customers/42/vouchers", body).want(t, http.StatusOK).decode(t, &replay)
	if first["code"] != replay["code"] {
		t.Fatalf("a replay issued another voucher: %v and %v", first, replay)
	}
	e.wantBalance(reg, "42", "15.00", "0.00")
	// A new request (new timestamp, new signature) is a new voucher.
	e.signedAt(reg.ShopID, reg.PluginSecret, ts+1, "POST", "/api/v1/plugin/customers/42/vouchers", body).want(t, http.StatusCreated)
	e.wantBalance(reg, "42", "10.00", "0.00")
	e.audit(reg.id(t))
}
