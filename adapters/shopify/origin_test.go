package shopify_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

const originShop = "shop-a.myshopify.com"

// originBodies are real or documented bodies of each topic, made to belong
// to originShop.
func originBodies(t *testing.T) map[string][]byte {
	t.Helper()
	fix := func(name string) []byte {
		b := sharedfixtures.Read(t, "fixtures/shopify/"+name)
		b = bytes.ReplaceAll(b, []byte("{shop}.myshopify.com"), []byte(originShop))
		return bytes.ReplaceAll(b, []byte("jsmith.myshopify.com"), []byte(originShop))
	}
	checkout, err := os.ReadFile("testdata/checkouts-create.json")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		shopify.TopicOrdersPaid:           fix("orders-paid.json"),
		shopify.TopicRefundsCreate:        fix("refunds-create.json"),
		shopify.TopicCustomersRedact:      fix("customers-redact.json"),
		shopify.TopicCustomersDataRequest: fix("customers-data_request.json"),
		shopify.TopicShopRedact:           fix("shop-redact.json"),
		shopify.TopicAppUninstalled:       fix("app-uninstalled.json"),
		shopify.TopicCheckoutsCreate:      checkout,
		// Shopify's docs example shape for collections/update.
		shopify.TopicCollectionsUpdate: []byte(`{"id":1063001322,"handle":"ipods","title":"IPods","updated_at":"2026-03-11T11:03:41-04:00",` +
			`"sort_order":"manual","published_scope":"web","admin_graphql_api_id":"gid://shopify/Collection/1063001322"}`),
	}
}

func TestCheckOriginAcceptsEachTopicsOwnBody(t *testing.T) {
	for topic, body := range originBodies(t) {
		if err := shopify.CheckOrigin(topic, originShop, body); err != nil {
			t.Errorf("%s: %v", topic, err)
		}
	}
	// The real dev-store order belongs to its own shop.
	real := sharedfixtures.Read(t, "fixtures/shopify/orders-create.discounts.real-devstore.json")
	if err := shopify.CheckOrigin(shopify.TopicOrdersCreate, "webhook-manager-app.myshopify.com", real); err != nil {
		t.Errorf("real order: %v", err)
	}
}

// Every body relabelled with another topic, and every body that names its
// shop sent for another shop, is refused as EUNAUTHORIZED.
func TestCheckOriginRefusesRelabelledAndReplayedBodies(t *testing.T) {
	bodies := originBodies(t)
	for topic := range bodies {
		for other, body := range bodies {
			if other == topic {
				continue
			}
			err := shopify.CheckOrigin(topic, originShop, body)
			if core.ErrorCode(err) != core.EUNAUTHORIZED {
				t.Errorf("%s body delivered as %s: %v, want unauthorized", other, topic, err)
			}
		}
	}
	for _, topic := range []string{shopify.TopicOrdersPaid, shopify.TopicCustomersRedact, shopify.TopicCustomersDataRequest, shopify.TopicShopRedact} {
		err := shopify.CheckOrigin(topic, "shop-b.myshopify.com", bodies[topic])
		if core.ErrorCode(err) != core.EUNAUTHORIZED || !strings.Contains(err.Error(), "another shop") {
			t.Errorf("%s of shop A for shop B: %v", topic, err)
		}
	}
	un := []byte(`{"id":1,"name":"A","domain":null,"myshopify_domain":"shop-a.myshopify.com"}`)
	if err := shopify.CheckOrigin(shopify.TopicAppUninstalled, "shop-b.myshopify.com", un); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Errorf("app/uninstalled of shop A for shop B: %v", err)
	}
}

type recordingCompliance struct{ calls []string }

func (r *recordingCompliance) DataRequest(context.Context, core.Shop, core.CustomerRef, string) error {
	r.calls = append(r.calls, "data_request")
	return nil
}
func (r *recordingCompliance) RedactCustomer(context.Context, core.Shop, core.CustomerRef) error {
	r.calls = append(r.calls, "redact")
	return nil
}
func (r *recordingCompliance) PurgeShop(context.Context, core.Shop) error {
	r.calls = append(r.calls, "purge")
	return nil
}
func (r *recordingCompliance) Deactivate(context.Context, core.Shop) error {
	r.calls = append(r.calls, "deactivate")
	return nil
}

// app/uninstalled and shop/redact act only when Shopify confirms that the
// app is gone: a still-valid token means a replayed or misdirected body.
func TestDestructiveTopicsAskShopifyFirst(t *testing.T) {
	bodies := originBodies(t)
	shop := core.Shop{ID: 1, Platform: core.PlatformShopify, Domain: originShop, Active: true}
	for _, c := range []struct {
		installed, verified bool
		want                []string
		status              core.InboxStatus
	}{
		{installed: true, verified: true, want: nil, status: core.InboxSkipped},
		{installed: false, verified: true, want: []string{"deactivate", "purge"}, status: core.InboxProcessed},
		{installed: false, verified: false, want: []string{"deactivate", "purge"}, status: core.InboxProcessed}, // no token to ask with
	} {
		rec := &recordingCompliance{}
		p := &shopify.Processor{Compliance: rec, Installed: func(context.Context, core.Shop) (bool, bool, error) { return c.installed, c.verified, nil }}
		for _, topic := range []string{shopify.TopicAppUninstalled, shopify.TopicShopRedact} {
			out, err := p.Handle(context.Background(), shop, core.InboxEvent{Topic: topic, Payload: bodies[topic]})
			if err != nil || out.Status != c.status {
				t.Errorf("installed=%v verified=%v %s: %+v %v, want %s", c.installed, c.verified, topic, out, err, c.status)
			}
		}
		if strings.Join(rec.calls, ",") != strings.Join(c.want, ",") {
			t.Errorf("installed=%v verified=%v: calls %v, want %v", c.installed, c.verified, rec.calls, c.want)
		}
	}
	// A shop already deactivated by a verified app/uninstalled is purged by
	// shop/redact without asking again.
	rec := &recordingCompliance{}
	asked := false
	p := &shopify.Processor{Compliance: rec, Installed: func(context.Context, core.Shop) (bool, bool, error) { asked = true; return true, true, nil }}
	inactive := shop
	inactive.Active = false
	if _, err := p.Handle(context.Background(), inactive, core.InboxEvent{Topic: shopify.TopicShopRedact, Payload: bodies[shopify.TopicShopRedact]}); err != nil || asked || len(rec.calls) != 1 {
		t.Fatalf("inactive shop: err %v asked %v calls %v", err, asked, rec.calls)
	}
}

// The worker checks an order body's origin in the decode that parses it
// (ParseOrderDelivery): its verdict is CheckOrigin's for every body, an
// unreadable one included.
func TestParseOrderDeliveryChecksOriginLikeCheckOrigin(t *testing.T) {
	bodies := map[string][]byte{}
	for topic, b := range originBodies(t) {
		bodies[topic] = b
	}
	for name, b := range map[string]string{
		"null keys":            `{"id":1,"currency":"EUR","line_items":[],"financial_status":null,"order_id":null,"shop_domain":null}`,
		"null line items":      `{"id":1,"currency":"EUR","line_items":null,"financial_status":"paid"}`,
		"no financial status":  `{"id":1,"currency":"EUR","line_items":[]}`,
		"myshopify null":       `{"id":1,"currency":"EUR","line_items":[],"financial_status":"paid","myshopify_domain":null}`,
		"status url no string": `{"id":1,"currency":"EUR","line_items":[],"financial_status":"paid","order_status_url":7}`,
		"other shop's url":     `{"id":1,"currency":"EUR","line_items":[],"financial_status":"paid","order_status_url":"https://shop-b.myshopify.com/1/orders/x"}`,
		"unreadable, other":    `{"id":1,"line_items":[{"id":"x"}],"financial_status":"paid","order_status_url":"https://shop-b.myshopify.com/1/orders/x"}`,
		"unreadable, own":      `{"id":1,"line_items":[{"id":"x"}],"financial_status":"paid","order_status_url":"https://shop-a.myshopify.com/1/orders/x"}`,
		"not an object":        `[1]`,
		"null":                 `null`,
	} {
		bodies[name] = []byte(b)
	}
	for _, shop := range []string{originShop, "shop-b.myshopify.com"} {
		for name, body := range bodies {
			for _, topic := range []string{shopify.TopicOrdersPaid, shopify.TopicOrdersCreate} {
				want := shopify.CheckOrigin(topic, shop, body)
				o, err := shopify.ParseOrderDelivery(topic, shop, body, shopify.DefaultParseOptions())
				if (core.ErrorCode(want) == core.EUNAUTHORIZED) != (core.ErrorCode(err) == core.EUNAUTHORIZED) {
					t.Errorf("%s delivered as %s to %s: ParseOrderDelivery %v, CheckOrigin %v", name, topic, shop, err, want)
				}
				if want == nil {
					po, perr := shopify.ParseOrder(body, shopify.DefaultParseOptions())
					if core.ErrorCode(perr) != core.ErrorCode(err) || perr == nil && po.OrderID != o.OrderID {
						t.Errorf("%s: ParseOrderDelivery %v, ParseOrder %v", name, err, perr)
					}
				}
			}
		}
	}
	if o, err := shopify.ParseOrderDelivery(shopify.TopicOrdersPaid, originShop, bodies[shopify.TopicOrdersPaid], shopify.DefaultParseOptions()); err != nil || o.OrderID == "" {
		t.Fatalf("shop A's own order: %+v %v", o, err)
	}
}
