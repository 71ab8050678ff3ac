package woocommerce_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/creditbridge/creditbridge/adapters/woocommerce"
)

// A webhook handler answers the creation ping, verifies the signature on
// the raw bytes, then normalizes the order.
func Example() {
	body := []byte(`{"id":731,"number":"731","status":"processing","currency":"EUR",` +
		`"date_created_gmt":"2025-05-01T10:00:00","date_modified_gmt":"2025-05-01T10:00:02",` +
		`"prices_include_tax":true,"customer_id":0,"billing":{"email":"Guest@Example.com"},` +
		`"line_items":[{"id":9,"name":"Tea","product_id":4,"variation_id":0,"quantity":2,"total":"16.81","sku":"T","price":8.403}],` +
		`"coupon_lines":[{"id":10,"code":"cb-h42","discount":"4.20","discount_tax":"0.80"}],"refunds":[]}`)
	const secret = "per-webhook-secret"
	h := http.Header{}
	h.Set(woocommerce.TopicHeader, "order.updated")
	h.Set(woocommerce.SignatureHeader, woocommerce.Sign(body, secret))

	if woocommerce.IsPing(body, h.Get) {
		fmt.Println("ping: answer 200")
		return
	}
	if err := woocommerce.VerifyWebhook(body, h.Get(woocommerce.SignatureHeader), secret); err != nil {
		fmt.Println("401:", err)
		return
	}
	o, err := woocommerce.ParseOrder(body, woocommerce.DefaultParseOptions())
	if errors.Is(err, woocommerce.ErrIgnoredStatus) {
		return
	} else if err != nil {
		fmt.Println("invalid:", err)
		return
	}
	fmt.Println(o.OrderID, o.Currency, o.Paid, o.Customer.IsGuest(), o.Customer.Email)
	fmt.Println(o.Lines[0].LineID, o.Lines[0].Quantity, o.Lines[0].NetTotal)
	fmt.Println(o.Redemptions[0].Kind, o.Redemptions[0].HoldID, o.Redemptions[0].Amount)
	// Output:
	// 731 EUR true true guest@example.com
	// 9 2 16.81
	// discount h42 5
}
