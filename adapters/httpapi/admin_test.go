package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

type ruleView struct {
	ID          json.Number `json:"id"`
	Target      string      `json:"target"`
	TargetID    string      `json:"target_id"`
	Beneficiary string      `json:"beneficiary"`
	Mode        string      `json:"mode"`
	Value       string      `json:"value"`
}

func TestRulesCRUD(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("rules.myshopify.com")
	var r1, r2 ruleView
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/rules", map[string]any{"target": "default", "mode": "percent", "value": "5"}), http.StatusOK).JSON(t, &r1)
	if r1.ID.String() == "" || r1.ID.String() == "0" || r1.Beneficiary != "buyer" || r1.Value != "5" || r1.Mode != "percent" {
		t.Fatalf("created rule %+v", r1)
	}
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/rules", map[string]any{"target": "sku", "target_id": "ABC", "mode": "fixed", "value": "1.50", "beneficiary": "partner2"}), http.StatusOK).JSON(t, &r2)
	// PUT of the same (target, target_id, beneficiary) replaces the rule.
	var r1b ruleView
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/rules", map[string]any{"target": "default", "mode": "percent", "value": "6.5"}), http.StatusOK).JSON(t, &r1b)
	if r1b.ID != r1.ID || r1b.Value != "6.5" {
		t.Fatalf("replaced rule %+v, want id %s value 6.5", r1b, r1.ID)
	}
	var list struct {
		Rules []ruleView `json:"rules"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/rules", nil), http.StatusOK).JSON(t, &list)
	if len(list.Rules) != 2 || list.Rules[0].Value != "6.5" || list.Rules[1].TargetID != "ABC" || list.Rules[1].Beneficiary != "partner2" || list.Rules[1].Value != "1.5" {
		t.Fatalf("rules %+v", list.Rules)
	}
	invalid := []struct {
		body any
		msg  string
	}{
		{map[string]any{"target": "brand", "mode": "percent", "value": "5"}, `unknown rule target "brand" (variant, sku, product, collection, default)`},
		{map[string]any{"target": "sku", "mode": "percent", "value": "5"}, "a sku rule needs a target_id"},
		{map[string]any{"target": "default", "target_id": "x", "mode": "percent", "value": "5"}, "the default rule has no target_id"},
		{map[string]any{"target": "default", "mode": "percent", "value": "101"}, "percentage must be between 0 and 100"},
		{map[string]any{"target": "default", "mode": "percent", "value": "-1"}, "percentage must be between 0 and 100"},
		{map[string]any{"target": "default", "mode": "fixed", "value": "0.0001"}, "fixed amount must be >= 0 with at most 3 decimals"},
		{map[string]any{"target": "default", "mode": "double", "value": "5"}, `unknown rule mode "double" (fixed, percent, exclude)`},
		{map[string]any{"target": "default", "mode": "percent", "value": "5", "beneficiary": "partner9"}, "beneficiary must be buyer or partner1..partner5"},
		{map[string]any{"target": "default", "mode": "percent", "value": "5", "colour": "red"}, `invalid JSON body: unknown field "colour"`},
		{[]byte(`{"target":`), "invalid JSON body: unexpected EOF"},
		{[]byte(``), "request body required"},
	}
	for _, c := range invalid {
		r := must(t, e.as(s.AdminToken, "PUT", s.Path+"/rules", c.body), http.StatusBadRequest)
		if er := r.Err(t); er.Error.Code != core.EINVALID || er.Error.Message != c.msg {
			t.Errorf("body %v: got %q, want %q", c.body, er.Error.Message, c.msg)
		}
	}
	must(t, e.as(s.AdminToken, "DELETE", s.Path+"/rules/"+r2.ID.String(), nil), http.StatusNoContent)
	r := must(t, e.as(s.AdminToken, "DELETE", s.Path+"/rules/"+r2.ID.String(), nil), http.StatusNotFound)
	if r.Err(t).Error.Message != "rule "+r2.ID.String()+" not found" {
		t.Fatalf("second delete: %s", r.Body)
	}
	if r := must(t, e.as(s.AdminToken, "DELETE", s.Path+"/rules/abc", nil), http.StatusBadRequest); r.Err(t).Error.Message != "rule id must be an integer" {
		t.Fatalf("bad id: %s", r.Body)
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/rules", nil), http.StatusOK).JSON(t, &list)
	if len(list.Rules) != 1 || list.Rules[0].ID != r1.ID {
		t.Fatalf("rules after delete %+v", list.Rules)
	}
}

func TestSettingsAndPartners(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("settings.myshopify.com")
	var sh struct {
		Settings map[string]any `json:"settings"`
	}
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"partner_levels": 2, "max_percent": "50"}), http.StatusOK).JSON(t, &sh)
	if sh.Settings["partner_levels"] != json.Number("2") || sh.Settings["max_percent"] != "50" {
		t.Fatalf("settings %v", sh.Settings)
	}
	// Absent fields keep their value.
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"pending_days": 14}), http.StatusOK).JSON(t, &sh)
	if sh.Settings["partner_levels"] != json.Number("2") || sh.Settings["pending_days"] != json.Number("14") {
		t.Fatalf("settings after second patch %v", sh.Settings)
	}
	for body, msg := range map[string]string{
		`{"partner_levels":9}`:  "partner_levels must be 0..5",
		`{"max_percent":"120"}`: "max_percent must be 0..100",
		`{"pending_days":-1}`:   "pending_days must be 0..365",
	} {
		r := must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", []byte(body)), http.StatusBadRequest)
		if r.Err(t).Error.Message != msg {
			t.Errorf("%s: %s", body, r.Body)
		}
	}
	must(t, e.as(s.AdminToken, "GET", s.Path, nil), http.StatusOK).JSON(t, &sh)
	if sh.Settings["partner_levels"] != json.Number("2") || sh.Settings["pending_days"] != json.Number("14") {
		t.Fatalf("rejected patches changed settings: %v", sh.Settings)
	}
	var p map[string]any
	// A sponsor must exist before its downline.
	if r := must(t, e.as(s.AdminToken, "PUT", s.Path+"/partners/anna", map[string]any{"sponsor_id": "lea"}), http.StatusBadRequest); r.Err(t).Error.Message != "sponsor lea is not a partner" {
		t.Fatalf("unknown sponsor: %s", r.Body)
	}
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/partners/lea", map[string]any{"name": "Lea"}), http.StatusOK)
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/partners/anna", map[string]any{"code": "ANNA10", "sponsor_id": "lea", "name": "Anna"}), http.StatusOK).JSON(t, &p)
	if p["id"] != "anna" || p["code"] != "ANNA10" {
		t.Fatalf("partner %v", p)
	}
	if r := must(t, e.as(s.AdminToken, "PUT", s.Path+"/partners/bob", map[string]any{"code": "ANNA10"}), http.StatusConflict); r.Err(t).Error.Message != `partner code "ANNA10" is taken` {
		t.Fatalf("code clash: %s", r.Body)
	}
	if r := must(t, e.as(s.AdminToken, "PUT", s.Path+"/partners/lea", map[string]any{"sponsor_id": "lea"}), http.StatusBadRequest); r.Err(t).Error.Message != "a partner cannot sponsor itself" {
		t.Fatalf("self sponsor: %s", r.Body)
	}
}

func TestAdjustments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("adjust.myshopify.com")
	var first, again struct {
		TransactionID json.Number `json:"transaction_id"`
		Replayed      bool        `json:"replayed"`
	}
	must(t, e.adjust(s.AdminToken, s, "77", "20.00", "k1"), http.StatusCreated).JSON(t, &first)
	if first.Replayed || first.TransactionID.String() == "0" {
		t.Fatalf("first adjustment %+v", first)
	}
	must(t, e.adjust(s.AdminToken, s, "77", "20.00", "k1"), http.StatusOK).JSON(t, &again)
	if !again.Replayed || again.TransactionID != first.TransactionID {
		t.Fatalf("repeat %+v, want replay of transaction %s", again, first.TransactionID)
	}
	if r := must(t, e.adjust(s.AdminToken, s, "77", "21.00", "k1"), http.StatusConflict); r.Err(t).Error.Code != core.ECONFLICT {
		t.Fatalf("same key, other amount: %s", r.Body)
	}
	if r := must(t, e.adjust(s.AdminToken, s, "77", "-20.01", "k2"), http.StatusUnprocessableEntity); r.Err(t).Error.Code != core.EINSUFFICIENT {
		t.Fatalf("debit beyond available: %s", r.Body)
	}
	// The Idempotency-Key header works as well; a debit within the balance passes.
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/77/adjustments", map[string]any{"amount": "-5.25", "note": "goodwill reversed"}, "Idempotency-Key", "k3"), http.StatusCreated)
	if b := e.balance(s, "77"); b.Available != "14.75" {
		t.Fatalf("balance %+v, want 20.00 - 5.25 = 14.75", b)
	}
	for _, c := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"amount": "1.00", "idempotency_key": "k4"}, "an adjustment needs a note"},
		{map[string]any{"amount": "1.00", "note": "n"}, "an adjustment needs an idempotency_key (or Idempotency-Key header)"},
		{map[string]any{"amount": "1.001", "note": "n", "idempotency_key": "k5"}, ""},
		{map[string]any{"amount": "ten", "note": "n", "idempotency_key": "k6"}, ""},
		{map[string]any{"amount": 1.5, "note": "n", "idempotency_key": "k7"}, ""},
	} {
		r := must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/77/adjustments", c.body), http.StatusBadRequest)
		if er := r.Err(t); er.Error.Code != core.EINVALID || (c.msg != "" && er.Error.Message != c.msg) {
			t.Errorf("%v: %s", c.body, r.Body)
		}
	}
	// The statement says who adjusted and why.
	st := e.statement(s.AdminToken, s.Path+"/customers/77/statement")
	if len(st.Entries) != 2 || st.Entries[0].Delta != "-5.25" || st.Entries[0].Note != "goodwill reversed" || st.Entries[0].AvailableAfter != "14.75" ||
		st.Entries[0].Description != "Adjustment · goodwill reversed" || st.Entries[1].Delta != "20.00" {
		t.Fatalf("statement %+v", st.Entries)
	}
}

func TestStatementPaginationAndReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.wooShop(map[string]any{"currency": "JPY"})
	amounts := []string{"100", "250", "-50", "1000", "7"}
	for i, a := range amounts {
		must(t, e.adjust(s.AdminToken, s, "9", a, "p"+strconv.Itoa(i)), http.StatusCreated)
	}
	must(t, e.adjust(s.AdminToken, s, "10", "43", "other"), http.StatusCreated)
	var seen []statementEntry
	path := s.Path + "/customers/9/statement?limit=2"
	pages := 0
	for {
		p := e.statement(s.AdminToken, path)
		pages++
		if p.Currency != "JPY" {
			t.Fatalf("currency %q", p.Currency)
		}
		if len(p.Entries) > 2 {
			t.Fatalf("page of %d entries with limit 2", len(p.Entries))
		}
		seen = append(seen, p.Entries...)
		if p.NextCursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		path = s.Path + "/customers/9/statement?limit=2&cursor=" + p.NextCursor
	}
	if pages != 3 || len(seen) != 5 {
		t.Fatalf("%d pages, %d entries; want 3 pages of 2+2+1", pages, len(seen))
	}
	// Newest first, without repeats, each carrying the balance after it.
	for i, en := range seen {
		if want := amounts[len(amounts)-1-i]; en.Delta != want {
			t.Fatalf("entry %d delta %q, want %q (JPY has no decimals)", i, en.Delta, want)
		}
		if cur, _ := en.Seq.Int64(); i > 0 && cur >= mustInt(t, seen[i-1].Seq) {
			t.Fatalf("entries not newest first: %v then %v", seen[i-1].Seq, en.Seq)
		}
	}
	if seen[0].AvailableAfter != "1307" || seen[4].AvailableAfter != "100" {
		t.Fatalf("available_after newest %q oldest %q", seen[0].AvailableAfter, seen[4].AvailableAfter)
	}
	var rep struct {
		ShopID     json.Number                  `json:"shop_id"`
		Currencies map[string]map[string]string `json:"currencies"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/report", nil), http.StatusOK).JSON(t, &rep)
	// Customer 9 holds 1307 and customer 10 holds 43: the program owes 1350.
	jpy := rep.Currencies["JPY"]
	if rep.ShopID.String() != strconv.FormatInt(s.ID, 10) || jpy["liability"] != "1350" || jpy["adjustments"] != "1350" || jpy["issued"] != "0" || jpy["redeemed"] != "0" {
		t.Fatalf("report %+v", rep)
	}
	var audit struct {
		OK     bool `json:"ok"`
		Report struct {
			Transactions json.Number `json:"transactions"`
		} `json:"report"`
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/audit", nil), http.StatusOK).JSON(t, &audit)
	if !audit.OK || audit.Report.Transactions.String() != "6" {
		t.Fatalf("audit %+v", audit)
	}
	// Another currency is an empty statement; a bad currency is 400.
	if p := e.statement(s.AdminToken, s.Path+"/customers/9/statement?currency=eur"); p.Currency != "EUR" || len(p.Entries) != 0 {
		t.Fatalf("EUR statement %+v", p)
	}
	must(t, e.as(s.AdminToken, "GET", s.Path+"/customers/9/balance?currency=XXX1", nil), http.StatusBadRequest)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	if m := must(t, e.do("GET", "/healthz", nil), http.StatusOK).Map(t); m["status"] != "ok" {
		t.Fatalf("healthz %v", m)
	}
	if m := must(t, e.do("GET", "/readyz", nil), http.StatusOK).Map(t); m["status"] != "ready" {
		t.Fatalf("readyz %v", m)
	}
	must(t, e.shopifyWebhook("metrics.myshopify.com", "orders/paid", "evt-m", []byte(`{}`), "bad"), http.StatusUnauthorized)
	r := must(t, e.do("GET", "/metrics", nil), http.StatusOK)
	if want := `creditbridge_webhooks_refused_total{platform="shopify",reason="signature"} 1`; !strings.Contains(string(r.Body), want) {
		t.Fatalf("metrics lack %q", want)
	}
	// Unknown routes answer in the error format.
	if er := must(t, e.do("GET", "/nope", nil), http.StatusNotFound).Err(t); er.Error.Code != core.ENOTFOUND {
		t.Fatalf("404 body %+v", er)
	}
}

func mustInt(t *testing.T, n json.Number) int64 {
	t.Helper()
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("%q is not an integer", n)
	}
	return v
}

// TestExportCSVBalancesAndIsScoped exports a shop's postings: every
// transaction's lines sum to zero, the earning carries its order context,
// and another shop's token gets 404.
func TestExportCSVBalancesAndIsScoped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoWorker: true})
	s := e.shopifyShop("export-" + randomHex(4) + ".myshopify.com")
	other := e.shopifyShop("export-other-" + randomHex(4) + ".myshopify.com")
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/42/adjustments", map[string]any{"amount": "12.34", "note": "=HYPERLINK(\"x\")", "idempotency_key": "a1"}), http.StatusCreated)
	must(t, e.as(s.AdminToken, "POST", s.Path+"/customers/42/adjustments", map[string]any{"amount": "-2.34", "note": "correction", "idempotency_key": "a2"}), http.StatusCreated)
	r := must(t, e.as(s.AdminToken, "GET", s.Path+"/export.csv", nil), http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, r.Body)
	}
	if len(recs) != 5 || recs[0][0] != "created_at" || recs[0][22] != "amount" {
		t.Fatalf("want a header and 4 posting lines, got %d:\n%s", len(recs), r.Body)
	}
	sums := map[string]decimal.Decimal{}
	for _, rec := range recs[1:] {
		sums[rec[1]] = sums[rec[1]].Add(decimal.RequireFromString(rec[22]))
		if rec[4] != "adjustment" || rec[16] == "" {
			t.Errorf("row without kind/actor: %v", rec)
		}
	}
	for id, sum := range sums {
		if !sum.IsZero() {
			t.Errorf("transaction %s sums to %s in the export", id, sum)
		}
	}
	if !strings.Contains(string(r.Body), `'=HYPERLINK`) {
		t.Errorf("formula in a note was not defused:\n%s", r.Body)
	}
	must(t, e.as(other.AdminToken, "GET", s.Path+"/export.csv", nil), http.StatusNotFound)
	must(t, e.as(s.AdminToken, "GET", s.Path+"/export.csv?from=2026-02-01&to=2026-01-01", nil), http.StatusBadRequest)
}
