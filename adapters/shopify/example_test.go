package shopify_test

import (
	"fmt"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

// A webhook handler verifies the raw body against the current and the
// previous client secret, then parses the snapshot.
func ExampleParseOrder() {
	body := []byte(`{"id":9007199254740993,"name":"#1001","currency":"EUR","financial_status":"paid",
		"customer":null,"email":"Guest@Example.com","checkout_token":"tok",
		"line_items":[{"id":1,"product_id":2,"variant_id":3,"quantity":2,
			"price_set":{"shop_money":{"amount":"12.50","currency_code":"EUR"}},
			"discount_allocations":[{"amount_set":{"shop_money":{"amount":"5.00","currency_code":"EUR"}},"discount_application_index":0}]}],
		"discount_applications":[{"type":"automatic","title":"Store credit"}]}`)
	header := shopify.SignWebhook(body, "previous-secret") // what Shopify sends in X-Shopify-Hmac-Sha256

	if err := shopify.VerifyWebhook(body, header, "current-secret", "previous-secret"); err != nil {
		fmt.Println(core.ErrorCode(err))
		return
	}
	o, err := shopify.ParseOrder(body, shopify.DefaultParseOptions())
	if err != nil {
		fmt.Println(core.ErrorCode(err))
		return
	}
	fmt.Println(o.OrderID, o.Paid, o.Customer.IsGuest(), o.Customer.Email, o.CartKey)
	fmt.Println(o.Lines[0].NetTotal, o.Redemptions[0].Kind, o.Redemptions[0].Amount)

	err = shopify.VerifyWebhook(append(body, ' '), header, "current-secret", "previous-secret")
	fmt.Println(core.ErrorCode(err), core.ErrorMessage(err))
	// Output:
	// 9007199254740993 true true guest@example.com tok
	// 20 discount 5
	// unauthorized webhook HMAC does not match
}
