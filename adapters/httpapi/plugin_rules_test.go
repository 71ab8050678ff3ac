package httpapi

import (
	"net/http"
	"strconv"
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
