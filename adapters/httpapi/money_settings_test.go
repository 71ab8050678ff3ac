package httpapi_test

import (
	"net/http"
	"testing"
)

// The tax and earning-cap settings go through PATCH …/settings and are
// checked there: a bad value is a 400 that names the setting.
func TestMoneySettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("money-settings.myshopify.com")
	var sh struct {
		Settings map[string]any `json:"settings"`
	}
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"earn_base": "gross", "rounding": "half_even",
		"earn_cap_order_percent": "20", "earn_cap_order_amount": "50.00", "earn_cap_year_amount": "500", "redeem_base": "net"}), http.StatusOK).JSON(t, &sh)
	if sh.Settings["earn_base"] != "gross" || sh.Settings["rounding"] != "half_even" || sh.Settings["earn_cap_order_percent"] != "20" ||
		sh.Settings["earn_cap_order_amount"] != "50" || sh.Settings["earn_cap_year_amount"] != "500" || sh.Settings["redeem_base"] != "net" {
		t.Fatalf("settings %v", sh.Settings)
	}
	for body, msg := range map[string]string{
		`{"earn_base":"brutto"}`:             "earn_base must be net or gross",
		`{"rounding":"up"}`:                  "rounding must be half_away_from_zero or half_even",
		`{"earn_cap_order_percent":"101"}`:   "earn_cap_order_percent must be 0..100 with at most 4 decimals",
		`{"earn_cap_order_amount":"-1"}`:     "earn_cap_order_amount must be 0..10^15 with at most 3 decimals",
		`{"earn_cap_year_amount":"1.23456"}`: "earn_cap_year_amount must be 0..10^15 with at most 3 decimals",
		`{"redeem_base":"b2b"}`:              "redeem_base must be gross or net",
	} {
		r := must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", []byte(body)), http.StatusBadRequest)
		if r.Err(t).Error.Message != msg {
			t.Errorf("%s: %s", body, r.Body)
		}
	}
	must(t, e.as(s.AdminToken, "GET", s.Path, nil), http.StatusOK).JSON(t, &sh)
	if sh.Settings["earn_base"] != "gross" || sh.Settings["earn_cap_year_amount"] != "500" {
		t.Fatalf("rejected patches changed settings: %v", sh.Settings)
	}
}
