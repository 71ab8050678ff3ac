package shopify

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/creditbridge/creditbridge/core"
)

// A webhook's HMAC covers only its body, signed with the app-wide secret:
// the X-Shopify-Shop-Domain, X-Shopify-Topic and X-Shopify-Event-Id
// headers are not signed. A body signed for shop A can therefore be
// replayed with shop B's domain or with another topic. CheckOrigin refuses
// such a delivery wherever the signed body says which shop and which kind
// of event it is:
//
//   - every topic's body must have its topic's shape (an order body is not
//     a refund, a compliance request or a shop);
//   - compliance bodies carry shop_domain: it must be the shop's domain;
//   - app/uninstalled carries the shop's myshopify_domain (when present):
//     it must be the shop's domain;
//   - order bodies carry order_status_url; when its host is a
//     *.myshopify.com domain it must be the shop's.
//
// What no body proves (an app/uninstalled without myshopify_domain, a
// shop/redact for a shop that still has the app) is verified with Shopify
// before anything is deleted or deactivated (Processor.Installed).
//
// The error is EUNAUTHORIZED: the delivery is not what it claims to be.
// The worker checks order bodies in the one decode that parses them
// (ParseOrderDelivery), with the same rules (orderShape).
func CheckOrigin(topic, shopDomain string, body []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil // not a JSON object: the topic's parser reports exactly what is wrong
	}
	has := func(k string) bool {
		v, ok := top[k]
		return ok && string(v) != "null"
	}
	_, hasMyshopify := top["myshopify_domain"]
	_, hasFinancial := top["financial_status"]
	mismatch := func(what string) error { return originMismatch(topic, shopDomain, what) }
	switch {
	case IsOrderTopic(topic):
		return orderShape{lineItems: has("line_items"), financial: hasFinancial, orderID: has("order_id"), shopDomain: has("shop_domain"),
			myshopify: hasMyshopify, statusURL: looseString(top["order_status_url"])}.check(topic, shopDomain)
	case topic == TopicRefundsCreate:
		if !has("order_id") || !has("refund_line_items") && !has("transactions") || has("line_items") || has("shop_domain") {
			return mismatch("not a refund")
		}
	case IsCheckoutTopic(topic):
		if !has("token") || !has("line_items") || hasFinancial || has("order_id") || has("shop_domain") {
			return mismatch("not a checkout")
		}
	case IsComplianceTopic(topic):
		if !has("shop_domain") {
			return mismatch("not a compliance request")
		}
		switch topic {
		case TopicShopRedact:
			if has("customer") {
				return mismatch("a customer request")
			}
		case TopicCustomersDataRequest:
			if !has("customer") && !has("orders_requested") || !has("data_request") {
				return mismatch("not a customer data request")
			}
		case TopicCustomersRedact:
			if !has("customer") && !has("orders_to_redact") || has("data_request") {
				return mismatch("not a customer redaction")
			}
		}
		p, err := decodeCompliance(topic, body)
		if err != nil {
			return err
		}
		if !strings.EqualFold(string(p.ShopDomain), shopDomain) {
			return mismatch("for another shop")
		}
	case IsCustomerTopic(topic):
		// A customer body names no shop: its shape is all that can be
		// checked (a replay to another shop credits an id that is no
		// customer there).
		var c struct {
			GID string `json:"admin_graphql_api_id"`
		}
		_ = json.Unmarshal(body, &c)
		if !has("id") || has("line_items") || has("order_id") || has("shop_domain") || hasMyshopify || hasFinancial ||
			c.GID != "" && !strings.HasPrefix(c.GID, "gid://shopify/Customer/") {
			return mismatch("not a customer")
		}
	case IsCollectionTopic(topic):
		// A collection body names no shop either; a replay to another shop
		// only makes it read a collection of its own rules from Shopify.
		var c struct {
			GID string `json:"admin_graphql_api_id"`
		}
		_ = json.Unmarshal(body, &c)
		if !has("id") || !has("handle") && !has("title") || has("line_items") || has("order_id") || has("shop_domain") || hasMyshopify ||
			hasFinancial || has("email") || c.GID != "" && !strings.HasPrefix(c.GID, "gid://shopify/Collection/") {
			return mismatch("not a collection")
		}
	case topic == TopicAppUninstalled:
		if !hasMyshopify || has("line_items") || has("shop_domain") || has("order_id") {
			return mismatch("not a shop")
		}
		u, err := ParseAppUninstalled(body)
		if err != nil {
			return err
		}
		if u.MyshopifyDomain != "" && !strings.EqualFold(u.MyshopifyDomain, shopDomain) {
			return mismatch("for another shop")
		}
	}
	return nil
}

// CheckOriginAtIngest reports whether the ingest path should check a
// topic's origin before storing it: the small, rare bodies whose effects
// are destructive. Order, refund and checkout bodies are checked by the
// worker (Processor.Handle), off the webhook's 5 s answer path.
func CheckOriginAtIngest(topic string) bool {
	return IsComplianceTopic(topic) || topic == TopicAppUninstalled
}

func originMismatch(topic, shopDomain, what string) error {
	return core.Errorf(core.EUNAUTHORIZED, "shopify %s delivery: the signed body is %s, not a %s body of shop %s", topic, what, topic, shopDomain)
}

// orderShape is what the top level of an order body says of its kind and
// shop: which keys it has (a key whose value is null counts as absent,
// except financial_status and myshopify_domain, whose presence counts)
// and its order_status_url (empty unless a string).
type orderShape struct {
	lineItems, financial, orderID, shopDomain, myshopify bool
	statusURL                                            string
}

// check applies the order rules of CheckOrigin: an order body has
// line_items and financial_status, none of a refund's, a compliance
// request's or a shop's keys, and an order_status_url on a
// *.myshopify.com host names the shop it is delivered for.
func (s orderShape) check(topic, shopDomain string) error {
	if !s.lineItems || !s.financial || s.orderID || s.shopDomain || s.myshopify {
		return originMismatch(topic, shopDomain, "not an order")
	}
	if u, err := url.Parse(s.statusURL); err == nil && strings.HasSuffix(strings.ToLower(u.Host), ".myshopify.com") && !strings.EqualFold(u.Host, shopDomain) {
		return originMismatch(topic, shopDomain, "an order of another shop")
	}
	return nil
}

// hasValue reports whether a key was present with a value other than null.
func hasValue(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// looseString is raw's string value, or "" when it is absent or no string.
func looseString(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}
