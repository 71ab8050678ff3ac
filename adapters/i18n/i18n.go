// Package i18n holds creditbridge's German and English message catalogue
// and the locale rules of the pages: which language a request gets (the
// shop's locale first, then the browser's Accept-Language), amounts
// (1.234,56 € / €1,234.56) and dates (6. Dezember 2026 / December 6, 2026)
// in the shop's time zone, and decimal numbers typed with a comma.
//
// Messages live in a golang.org/x/text/message catalogue built from the
// table in messages.go; a message missing in German falls back to
// English. golang.org/x/text is the Go project's own module (already a
// dependency of the build): it brings BCP 47 tags, Accept-Language
// parsing and matching, and printf-style messages per language, which is
// all the pages need, without a file format or code generator.
package i18n

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Supported languages, English first (the fallback).
var (
	English = language.English
	German  = language.German

	supported = []language.Tag{English, German}
	matcher   = language.NewMatcher(supported)
	cat       = build()
)

func build() *catalog.Builder {
	b := catalog.NewBuilder(catalog.Fallback(English))
	for _, m := range messages {
		if err := b.SetString(English, m.key, m.en); err != nil {
			panic(err)
		}
		if m.de != "" {
			if err := b.SetString(German, m.key, m.de); err != nil {
				panic(err)
			}
		}
	}
	return b
}

// Match picks the page language: the shop's locale ("de", "de-DE",
// "en_US"…) when it names a supported language, else the best match of
// the Accept-Language header, else English.
func Match(shopLocale, acceptLanguage string) language.Tag {
	if l := strings.TrimSpace(strings.ReplaceAll(shopLocale, "_", "-")); l != "" {
		if t, err := language.Parse(l); err == nil {
			if tag, _, c := matcher.Match(t); c >= language.High {
				return base(tag)
			}
		}
	}
	if acceptLanguage != "" {
		if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(tags) > 0 {
			if tag, _, c := matcher.Match(tags...); c > language.No {
				return base(tag)
			}
		}
	}
	return English
}

// base reduces a matched tag (which may carry -u-rg extensions) to one of
// the supported tags.
func base(t language.Tag) language.Tag {
	b, _ := t.Base()
	for _, s := range supported {
		if sb, _ := s.Base(); sb == b {
			return s
		}
	}
	return English
}

// ValidLocale reports whether l is empty or a locale a shop may set
// (a BCP 47 tag or POSIX-style "de_DE" naming a supported language).
func ValidLocale(l string) bool {
	if l == "" {
		return true
	}
	t, err := language.Parse(strings.ReplaceAll(l, "_", "-"))
	if err != nil {
		return false
	}
	_, _, c := matcher.Match(t)
	return c >= language.High
}

// Locale formats messages, amounts and dates for one language and time
// zone.
type Locale struct {
	Tag language.Tag
	Loc *time.Location
	p   *message.Printer
}

// New returns the locale for tag (one of the supported languages) in the
// time zone named tz (IANA name; empty or unknown gives UTC).
func New(tag language.Tag, tz string) *Locale {
	loc := time.UTC
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	return &Locale{Tag: base(tag), Loc: loc, p: message.NewPrinter(base(tag), message.Catalog(cat))}
}

// Lang is the two-letter language code ("de", "en"), for <html lang>.
func (l *Locale) Lang() string {
	b, _ := l.Tag.Base()
	return b.String()
}

// German reports whether the locale is German.
func (l *Locale) German() bool { return l.Lang() == "de" }

// T translates the message key with printf-style args.
func (l *Locale) T(key string, args ...any) string {
	return l.p.Sprintf(key, args...)
}

// Messages returns the formats (with their %s, %d and %%) of every
// message whose key starts with prefix in this language, for the scripts
// of the pages, which fill them in themselves.
func (l *Locale) Messages(prefix string) map[string]string {
	out := map[string]string{}
	for _, m := range messages {
		if strings.HasPrefix(m.key, prefix) {
			out[m.key] = m.en
			if l.German() && m.de != "" {
				out[m.key] = m.de
			}
		}
	}
	return out
}

// Keys lists every message key (tests check both languages have them).
func Keys() []string {
	out := make([]string, 0, len(messages))
	for _, m := range messages {
		out = append(out, m.key)
	}
	sort.Strings(out)
	return out
}

// HasGerman reports whether key has a German text.
func HasGerman(key string) bool {
	for _, m := range messages {
		if m.key == key {
			return m.de != ""
		}
	}
	return false
}

// symbols of common currencies; others show their ISO code.
var symbols = map[string]string{
	"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF", "CAD": "CA$", "AUD": "A$",
	"SEK": "kr", "NOK": "kr", "DKK": "kr", "PLN": "zł", "CZK": "Kč",
}

// Money formats amount (already at the currency's decimals, e.g. from
// core.StringFixedFor) for the locale: "1.234,56 €" in German,
// "€1,234.56" in English; a currency without a symbol shows its code.
func (l *Locale) Money(currency, fixed string) string {
	neg := strings.HasPrefix(fixed, "-")
	fixed = strings.TrimPrefix(fixed, "-")
	intPart, frac, _ := strings.Cut(fixed, ".")
	thou, dec := ",", "."
	if l.German() {
		thou, dec = ".", ","
	}
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thou)
		}
		b.WriteRune(r)
	}
	num := b.String()
	if frac != "" {
		num += dec + frac
	}
	sym, ok := symbols[currency]
	if !ok {
		sym = currency
	}
	sign := ""
	if neg {
		sign = "−" // U+2212 minus sign
	}
	if l.German() {
		return sign + num + "\u00a0" + sym
	}
	if !strings.Contains(sym, "$") && strings.ContainsAny(strings.ToLower(sym), "abcdefghijklmnopqrstuvwxyz") {
		return sign + sym + "\u00a0" + num // CHF 12.50
	}
	return sign + sym + num
}

// Amount formats a decimal for the currency (see Money).
func (l *Locale) Amount(currency string, d decimal.Decimal, places int32) string {
	return l.Money(currency, d.StringFixed(places))
}

// Date formats t as a long date in the locale's time zone: "6. Dezember
// 2026" or "December 6, 2026".
func (l *Locale) Date(t time.Time) string {
	t = t.In(l.Loc)
	month := l.T(fmt.Sprintf("month.%d", int(t.Month())))
	if l.German() {
		return fmt.Sprintf("%d. %s %d", t.Day(), month, t.Year())
	}
	return fmt.Sprintf("%s %d, %d", month, t.Day(), t.Year())
}

// ShortDate formats t as a numeric date: "06.12.2026" or "12/06/2026"…
// In English the unambiguous "Dec 6, 2026" is used.
func (l *Locale) ShortDate(t time.Time) string {
	t = t.In(l.Loc)
	if l.German() {
		return t.Format("02.01.2006")
	}
	return t.Format("Jan 2, 2006")
}

// DateTime formats t with its time of day in the locale's time zone.
func (l *Locale) DateTime(t time.Time) string {
	t = t.In(l.Loc)
	if l.German() {
		return t.Format("02.01.2006, 15:04")
	}
	return t.Format("Jan 2, 2006, 3:04 PM")
}

// NormalizeDecimal turns a number typed by a person into a plain decimal
// ("12.5"): it accepts a decimal comma ("10,50"), thousands separators
// ("1.234,56", "1,234.56", "1 234,56") and surrounding spaces. With both
// separators the last one is the decimal mark; a single comma is always
// the decimal mark; dots alone are decimal marks unless they group
// thousands ("1.234.567"). The result is checked by core.ParseAmount.
func NormalizeDecimal(s string) string {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "'", "", "−", "-").Replace(s)
	lastDot, lastComma := strings.LastIndex(s, "."), strings.LastIndex(s, ",")
	switch {
	case lastDot >= 0 && lastComma >= 0:
		if lastComma > lastDot {
			s = strings.ReplaceAll(s, ".", "")
			s = strings.Replace(s, ",", ".", 1)
		} else {
			s = strings.ReplaceAll(s, ",", "")
		}
	case lastComma >= 0:
		if strings.Count(s, ",") == 1 {
			s = strings.Replace(s, ",", ".", 1)
		}
	case strings.Count(s, ".") > 1:
		s = strings.ReplaceAll(s, ".", "")
	}
	return s
}

// Symbols returns the currency symbols Money uses (for page scripts that
// format the same way).
func Symbols() map[string]string {
	out := make(map[string]string, len(symbols))
	for k, v := range symbols {
		out[k] = v
	}
	return out
}
