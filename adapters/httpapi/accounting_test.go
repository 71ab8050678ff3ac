package httpapi_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// TestAccountingExportsRefuseBadInput: a G/L account DATEV cannot take is
// refused when it is configured (PATCH settings), and an export period
// that is unbounded, reversed or longer than a year gets a specific 400.
func TestAccountingExportsRefuseBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("acct-" + randomHex(4) + ".myshopify.com")
	other := e.shopifyShop("acct-other-" + randomHex(4) + ".myshopify.com")
	for name, tc := range map[string]struct {
		settings map[string]any
		want     string
	}{
		"letters":        {map[string]any{"accounts": map[string]any{"liability": "17A0"}}, "digits only"},
		"too short":      {map[string]any{"accounts": map[string]any{"grant": "460"}}, "Sachkontenlänge is 4"},
		"too long":       {map[string]any{"account_length": 5, "accounts": map[string]any{"expiry": "270000"}}, "Sachkontenlänge is 5"},
		"zero":           {map[string]any{"accounts": map[string]any{"clearing": "0000"}}, "is zero"},
		"chart":          {map[string]any{"chart": "SKR99"}, "SKR03 or SKR04"},
		"berater":        {map[string]any{"consultant_number": 999}, "Beraternummer"},
		"mandant":        {map[string]any{"client_number": 100000}, "Mandantennummer"},
		"tax key":        {map[string]any{"tax_keys": map[string]any{"19": "A3"}}, "BU-Schlüssel"},
		"rate w/o key":   {map[string]any{"vat_rate": "16"}, "no BU-Schlüssel for the vat_rate 16"},
		"time zone":      {map[string]any{"time_zone": "Mars/Base"}, "IANA time zone"},
		"fiscal year":    {map[string]any{"fiscal_year_start": "13-01"}, "fiscal_year_start"},
		"account length": {map[string]any{"account_length": 9}, "4..8"},
	} {
		r := must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"accounting": tc.settings}), http.StatusBadRequest)
		if msg := r.Err(t).Error.Message; !strings.Contains(msg, tc.want) || strings.Contains(msg, "code=") {
			t.Errorf("%s: message %q does not say %q (plainly)", name, msg, tc.want)
		}
	}
	// A valid configuration is stored; a longer Sachkontenlänge lengthens
	// the chart's defaults with trailing zeros.
	r := must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"accounting": map[string]any{
		"chart": "SKR04", "consultant_number": 29098, "client_number": 55003, "accounts": map[string]any{"liability": "3501"}}}), http.StatusOK)
	if !strings.Contains(string(r.Body), `"liability":"3501"`) {
		t.Fatalf("settings not stored: %s", r.Body)
	}
	for _, path := range []string{"/export/datev.csv", "/export/report.json", "/export/report.csv"} {
		for q, want := range map[string]string{
			"":                                            "needs both from and to",
			"?from=2026-01-01":                            "needs both from and to",
			"?to=2026-01-01":                              "needs both from and to",
			"?from=2026-02-01&to=2026-01-01":              "reversed",
			"?from=2026-01-01&to=2026-01-01":              "reversed or empty",
			"?from=2026-01-01&to=2027-01-02":              "longer than a year",
			"?from=2026-1-1&to=2026-02-01":                "from must be a date",
			"?from=2026-01-01&to=tomorrow":                "to must be a date",
			"?from=2026-01-01&to=2026-02-01&currency=XXX": "unknown currency",
		} {
			r := must(t, e.as(s.AdminToken, "GET", s.Path+path+q, nil), http.StatusBadRequest)
			if msg := r.Err(t).Error.Message; !strings.Contains(msg, want) {
				t.Errorf("%s%s: message %q does not say %q", path, q, msg, want)
			}
		}
		must(t, e.as(other.AdminToken, "GET", s.Path+path+"?from=2026-01-01&to=2026-02-01", nil), http.StatusNotFound)
	}
	// A DATEV file covers one fiscal year; the report may cross it.
	r = must(t, e.as(s.AdminToken, "GET", s.Path+"/export/datev.csv?from=2025-12-01&to=2026-02-01", nil), http.StatusBadRequest)
	if !strings.Contains(r.Err(t).Error.Message, "one fiscal year") {
		t.Errorf("message: %s", r.Body)
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/export/report.json?from=2025-12-01&to=2026-02-01", nil), http.StatusOK)
	// Without Berater- and Mandantennummer there is no DATEV file.
	r = must(t, e.as(other.AdminToken, "GET", other.Path+"/export/datev.csv?from=2026-01-01&to=2026-02-01", nil), http.StatusBadRequest)
	if !strings.Contains(r.Err(t).Error.Message, "consultant_number") {
		t.Errorf("message: %s", r.Body)
	}
}

// TestAccountingExportsOverHTTP books two adjustments today and reads them
// back through both routes: the DATEV file in Windows-1252 with its
// header, and the period report whose liability moves by exactly them.
func TestAccountingExportsOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("acct-http-" + randomHex(4) + ".myshopify.com")
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"accounting": map[string]any{
		"consultant_number": 1001, "client_number": 1, "time_zone": "UTC"}}), http.StatusOK)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/42/adjustments", map[string]any{"amount": "12.34", "note": "Gutschrift für Ärger", "idempotency_key": "a1"}), http.StatusCreated)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/42/adjustments", map[string]any{"amount": "-2.34", "note": "correction", "idempotency_key": "a2"}), http.StatusCreated)
	today := time.Now().UTC()
	q := "?from=" + today.Format("2006-01-02") + "&to=" + today.AddDate(0, 0, 1).Format("2006-01-02")
	r := must(t, e.as(s.AdminToken, "GET", s.Path+"/export/datev.csv"+q, nil), http.StatusOK)
	body, err := charmap.Windows1252.NewDecoder().Bytes(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], `"EXTF";700;21;"Buchungsstapel";13;`) {
		t.Fatalf("want header, columns and 2 bookings:\n%s", body)
	}
	if !strings.HasPrefix(lines[2], `12,34;"S";"EUR";;;;4600;1700;;`) || !strings.HasPrefix(lines[3], `2,34;"H";"EUR";;;;4600;1700;;`) {
		t.Errorf("bookings:\n%s\n%s", lines[2], lines[3])
	}
	r = must(t, e.as(s.AdminToken, "GET", s.Path+"/export/report.json"+q, nil), http.StatusOK)
	rep := r.Map(t)
	if rep["opening_liability"] != "0.00" || rep["adjustments"] != "10.00" || rep["closing_liability"] != "10.00" || rep["issued"] != "0.00" {
		t.Errorf("report: %s", r.Body)
	}
	r = must(t, e.as(s.AdminToken, "GET", s.Path+"/export/report.csv"+q, nil), http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(recs) != 3 || recs[2][3] != "total" || recs[2][9] != "10.00" || recs[1][3] != "19" {
		t.Errorf("report csv (%v):\n%s", err, r.Body)
	}
}
