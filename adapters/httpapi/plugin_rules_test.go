package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestPluginRules: the plugin's admin page manages the shop's rules with
// signed calls; a decimal comma is accepted, bad values are refused, and
// one shop never sees or deletes another's rules.
func TestPluginRules(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	a := e.mustRegister(plugOperator, "https://rules-"+plugHex(3)+".example", "ck", "cs", http.StatusCreated)
	b := e.mustRegister(plugOperator, "https://rules-"+plugHex(3)+".example", "ck", "cs", http.StatusCreated)
	var rule struct {
		ID       int64  `json:"id"`
		Value    string `json:"value"`
		Title    string `json:"title"`
		TargetID string `json:"target_id"`
	}
	e.signed(a, "PUT", "/api/v1/plugin/rules", map[string]any{"target": "product", "target_id": 123, "mode": "percent", "value": "2,5", "title": "Teekanne"}).
		want(t, http.StatusOK).decode(t, &rule)
	if rule.Value != "2.5" || rule.Title != "Teekanne" || rule.TargetID != "123" || rule.ID == 0 {
		t.Fatalf("rule = %+v", rule)
	}
	e.signed(a, "PUT", "/api/v1/plugin/rules", map[string]any{"target": "default", "mode": "fixed", "value": "1.234,5"}).want(t, http.StatusOK)
	e.signed(a, "PUT", "/api/v1/plugin/rules", map[string]any{"target": "default", "mode": "percent", "value": "1e3"}).want(t, http.StatusBadRequest)
	e.signed(a, "PUT", "/api/v1/plugin/rules", map[string]any{"target": "default", "mode": "percent", "value": "101"}).want(t, http.StatusBadRequest)
	e.do("GET", "/api/v1/plugin/rules", nil).want(t, http.StatusUnauthorized)

	var list struct {
		Rules []struct {
			ID    int64  `json:"id"`
			Value string `json:"value"`
		} `json:"rules"`
		Currency string `json:"currency"`
	}
	e.signed(a, "GET", "/api/v1/plugin/rules", nil).want(t, http.StatusOK).decode(t, &list)
	if len(list.Rules) != 2 || list.Rules[1].Value != "1234.5" || list.Currency == "" {
		t.Fatalf("rules = %+v", list)
	}
	var other struct {
		Rules []any `json:"rules"`
	}
	e.signed(b, "GET", "/api/v1/plugin/rules", nil).want(t, http.StatusOK).decode(t, &other)
	if len(other.Rules) != 0 {
		t.Fatalf("shop b sees %v", other.Rules)
	}
	e.signed(b, "DELETE", "/api/v1/plugin/rules/"+itoa(rule.ID), nil).want(t, http.StatusNotFound)
	e.signed(a, "DELETE", "/api/v1/plugin/rules/"+itoa(rule.ID), nil).want(t, http.StatusNoContent)
	e.signed(a, "GET", "/api/v1/plugin/rules", nil).want(t, http.StatusOK).decode(t, &list)
	if len(list.Rules) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPluginCollectionProducts: the plugin sends a category's products
// when they change; the same set twice changes nothing, repeats are
// stored once, a category without a collection rule is 404, and another
// shop's category is not touched.
func TestPluginCollectionProducts(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	a := e.mustRegister(plugOperator, "https://cat-"+plugHex(3)+".example", "ck", "cs", http.StatusCreated)
	b := e.mustRegister(plugOperator, "https://cat-"+plugHex(3)+".example", "ck", "cs", http.StatusCreated)
	e.signed(a, "PUT", "/api/v1/plugin/rules", map[string]any{"target": "collection", "target_id": "15", "mode": "percent", "value": "5",
		"title": "Tee", "products": []string{"1"}}).want(t, http.StatusOK)
	members := func(r registration) []string {
		t.Helper()
		var list struct {
			Rules []struct {
				TargetID string   `json:"target_id"`
				Value    string   `json:"value"`
				Products []string `json:"products"`
			} `json:"rules"`
		}
		e.signed(r, "GET", "/api/v1/plugin/rules", nil).want(t, http.StatusOK).decode(t, &list)
		for _, x := range list.Rules {
			if x.TargetID == "15" {
				if x.Value != "5" {
					t.Fatalf("the rule's value changed: %+v", x)
				}
				return x.Products
			}
		}
		return nil
	}
	for range 2 { // idempotent
		e.signed(a, "PUT", "/api/v1/plugin/collections/15/products", map[string]any{"products": []any{7, "9", 7}}).want(t, http.StatusOK)
		if got := members(a); strings.Join(got, ",") != "7,9" && strings.Join(got, ",") != "9,7" {
			t.Fatalf("members = %v, want 7 and 9", got)
		}
	}
	e.signed(a, "PUT", "/api/v1/plugin/collections/15/products", map[string]any{"products": []any{}}).want(t, http.StatusOK)
	if got := members(a); len(got) != 0 {
		t.Fatalf("members after emptying = %v", got)
	}
	e.signed(a, "PUT", "/api/v1/plugin/collections/16/products", map[string]any{"products": []any{1}}).want(t, http.StatusNotFound)
	e.signed(b, "PUT", "/api/v1/plugin/collections/15/products", map[string]any{"products": []any{1}}).want(t, http.StatusNotFound)
	e.signed(a, "PUT", "/api/v1/plugin/collections/15/products", map[string]any{}).want(t, http.StatusBadRequest)
	e.signed(a, "PUT", "/api/v1/plugin/collections/15/products", map[string]any{"products": []any{""}}).want(t, http.StatusBadRequest)
	e.do("PUT", "/api/v1/plugin/collections/15/products", []byte(`{"products":[]}`)).want(t, http.StatusUnauthorized)
}

// TestPluginDiscountLabels: quote and health answers carry the checkout
// names the shop set per language, and nothing else (no defaults), so the
// plugin's own name applies to a language without one.
func TestPluginDiscountLabels(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	r := e.mustRegister(plugOperator, "https://labels-"+plugHex(3)+".example", "ck", "cs", http.StatusCreated)
	type labels struct {
		Labels map[string]string `json:"discount_labels"`
	}
	get := func() (labels, labels) {
		t.Helper()
		var q, h labels
		e.signed(r, "POST", "/api/v1/plugin/quote", quoteBody("77", "cart-labels", "10.00")).want(t, http.StatusOK).decode(t, &q)
		e.signed(r, "GET", "/api/v1/plugin/health", nil).want(t, http.StatusOK).decode(t, &h)
		return q, h
	}
	if q, h := get(); q.Labels == nil || len(q.Labels) != 0 || h.Labels == nil || len(h.Labels) != 0 {
		t.Fatalf("labels without settings: quote %+v, health %+v (want an empty object)", q, h)
	}
	e.do("PATCH", "/api/v1/shops/"+r.ShopID+"/settings", []byte(`{"discount_label":"Shopify only","discount_labels":{"de":"Treuebonus","en":" "}}`),
		"Authorization", "Bearer "+r.AdminToken, "Content-Type", "application/json").want(t, http.StatusOK)
	if q, h := get(); len(q.Labels) != 1 || q.Labels["de"] != "Treuebonus" || len(h.Labels) != 1 || h.Labels["de"] != "Treuebonus" {
		t.Fatalf("labels: quote %+v, health %+v", q, h)
	}
}
