package i18n

import (
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ shop, accept, want string }{
		{"", "", "en"},
		{"de", "en-US,en;q=0.9", "de"},
		{"de_DE", "", "de"},
		{"en-GB", "de-DE", "en"},
		{"", "de-AT,de;q=0.9,en;q=0.5", "de"},
		{"", "fr-FR,fr;q=0.9", "en"},
		{"", "fr-FR,de;q=0.5", "de"},
		{"fr", "de", "de"}, // an unsupported shop locale leaves it to the browser
		{"", "garbage;;;", "en"},
	} {
		if got := New(Match(c.shop, c.accept), "").Lang(); got != c.want {
			t.Errorf("Match(%q, %q) = %s, want %s", c.shop, c.accept, got, c.want)
		}
	}
}

func TestMoneyAndDates(t *testing.T) {
	t.Parallel()
	de, en := New(German, "Europe/Berlin"), New(English, "America/New_York")
	for _, c := range []struct {
		l          *Locale
		cur, fixed string
		want       string
	}{
		{de, "EUR", "1234.56", "1.234,56\u00a0€"},
		{de, "EUR", "-0.50", "−0,50\u00a0€"},
		{de, "EUR", "1234567.00", "1.234.567,00\u00a0€"},
		{en, "EUR", "1234.56", "€1,234.56"},
		{en, "USD", "-12.00", "−$12.00"},
		{en, "JPY", "1500", "¥1,500"},
		{en, "CHF", "12.50", "CHF\u00a012.50"},
		{de, "XYZ", "100.5", "100,5\u00a0XYZ"},
		{de, "EUR", "123.00", "123,00\u00a0€"},
	} {
		if got := c.l.Money(c.cur, c.fixed); got != c.want {
			t.Errorf("%s Money(%s, %s) = %q, want %q", c.l.Lang(), c.cur, c.fixed, got, c.want)
		}
	}
	// 23:30 UTC on 5 December is 6 December in Berlin, still 5 December in New York.
	at := time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC)
	if got := de.Date(at); got != "6. Dezember 2026" {
		t.Errorf("de date = %q", got)
	}
	if got := en.Date(at); got != "December 5, 2026" {
		t.Errorf("en date = %q", got)
	}
	if got := New(German, "").Date(at); got != "5. Dezember 2026" {
		t.Errorf("de UTC date = %q", got)
	}
	if got := de.DateTime(at); got != "06.12.2026, 00:30" {
		t.Errorf("de date time = %q", got)
	}
}

func TestNormalizeDecimal(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"10,50": "10.50", " 10.50 ": "10.50", "1.234,56": "1234.56", "1,234.56": "1234.56", "1 234,56": "1234.56",
		"1.234.567": "1234567", "12": "12", "0,001": "0.001", "-4,5": "-4.5", "1,2,3": "1,2,3", "abc": "abc",
	} {
		if got := NormalizeDecimal(in); got != want {
			t.Errorf("NormalizeDecimal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range Keys() {
		if seen[k] {
			t.Errorf("key %s twice", k)
		}
		seen[k] = true
		if !HasGerman(k) {
			t.Errorf("key %s has no German text", k)
		}
	}
	de := New(German, "")
	if got := de.T("stmt.pending_from", "5,00 €", "1. Januar 2027"); got != "5,00 € verfügbar ab 1. Januar 2027" {
		t.Errorf("T = %q", got)
	}
	if got := de.T("stmt.earn_percent", "2,5"); got != "2,5 % des Preises bei jedem Einkauf" {
		t.Errorf("percent = %q", got)
	}
	if m := New(English, "").Messages("month."); len(m) != 12 || m["month.3"] != "March" {
		t.Errorf("Messages = %v", m)
	}
}
