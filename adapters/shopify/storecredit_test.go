package shopify_test

import (
	"bytes"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
)

// TestStoreCreditIn finds store credit in Shopify's docs example bodies:
// an order lists shopify_store_credit among payment_gateway_names when it
// was paid partly with store credit, a refund carries a transaction with
// that gateway when it was refunded to store credit.
func TestStoreCreditIn(t *testing.T) {
	t.Parallel()
	order := sharedfixtures.Read(t, "fixtures/shopify/orders-paid.json")
	if _, ok := shopify.StoreCreditIn(shopify.TopicOrdersPaid, order); ok {
		t.Fatal("docs example order (gateways visa, bogus) reported store credit")
	}
	paid := bytes.Replace(order, []byte(`"payment_gateway_names": [`), []byte(`"payment_gateway_names": ["shopify_store_credit", `), 1)
	if bytes.Equal(paid, order) {
		t.Fatal("fixture edit did not apply")
	}
	o, ok := shopify.StoreCreditIn(shopify.TopicOrdersUpdated, paid)
	if !ok || o.OrderID == "" || o.OrderNumber != "#9999" {
		t.Fatalf("paid with store credit: %+v %t", o, ok)
	}
	refund := sharedfixtures.Read(t, "fixtures/shopify/refunds-create.json")
	if _, ok := shopify.StoreCreditIn(shopify.TopicRefundsCreate, refund); ok {
		t.Fatal("docs example refund (gateway bogus) reported store credit")
	}
	toSC := bytes.Replace(refund, []byte(`"gateway": "bogus"`), []byte(`"gateway": "shopify_store_credit"`), 1)
	if r, ok := shopify.StoreCreditIn(shopify.TopicRefundsCreate, toSC); !ok || r.OrderID == "" {
		t.Fatalf("refund to store credit: %+v %t", r, ok)
	}
	for _, bad := range [][]byte{[]byte(`{`), []byte(`{"id":"x"}`), nil} {
		if _, ok := shopify.StoreCreditIn(shopify.TopicOrdersPaid, bad); ok {
			t.Fatalf("malformed body %q reported store credit", bad)
		}
	}
	if _, ok := shopify.StoreCreditIn(shopify.TopicCheckoutsCreate, paid); ok {
		t.Fatal("a checkout topic reported store credit")
	}
}
