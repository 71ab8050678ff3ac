package datev

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Field rules of DATEV's format description for Buchungsstapel (header
// and the data columns this package fills), as regular expressions on the
// raw field.
var (
	reQuoted   = func(body string) *regexp.Regexp { return regexp.MustCompile(`^"` + body + `"$`) }
	reUmsatz   = regexp.MustCompile(`^\d{1,10},\d{2}$`)
	reSH       = reQuoted(`(S|H)`)
	reWKZ      = reQuoted(`[A-Z]{3}`)
	reKonto    = regexp.MustCompile(`^\d{1,9}$`)
	reBU       = regexp.MustCompile(`^("\d{4}")?$`) // four digits: a short key is written with leading zeros (3 → "0003")
	reBeleg    = regexp.MustCompile(`^(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])$`)
	reBelegfld = reQuoted(`[\w$%\-/]{0,36}`)
	reText     = reQuoted(`[^"]*(""[^"]*)*`)
	reDate8    = regexp.MustCompile(`^\d{8}$`)
	reStamp    = regexp.MustCompile(`^\d{17}$`)
)

// Check verifies a Buchungsstapel file against the format description: the
// file is Windows-1252 (no UTF-8 multi-byte sequences), lines end with CR
// LF, the header has its 31 fields with the format identifiers, numbers and
// dates in their formats, the column line has the 125 headings, and every
// data line has 125 fields whose filled columns match their rules, with the
// Belegdatum inside the header's period.
func Check(file []byte) error {
	if !bytes.HasSuffix(file, []byte("\r\n")) {
		return fmt.Errorf("the file must end with CR LF")
	}
	if utf8.Valid(file) && bytes.ContainsFunc(file, func(r rune) bool { return r >= 0x80 }) {
		return fmt.Errorf("the file is UTF-8; DATEV reads Windows-1252")
	}
	lines := bytes.Split(bytes.TrimSuffix(file, []byte("\r\n")), []byte("\r\n"))
	for i, l := range lines {
		if bytes.ContainsAny(l, "\r\n") {
			return fmt.Errorf("line %d: a bare CR or LF inside a line", i+1)
		}
	}
	if len(lines) < 2 {
		return fmt.Errorf("a Buchungsstapel has a header and a column line")
	}
	h := splitFields(string(lines[0]))
	if len(h) != 31 {
		return fmt.Errorf("header: %d fields, want 31", len(h))
	}
	want := map[int]string{1: `"EXTF"`, 2: "700", 3: "21", 4: `"Buchungsstapel"`, 5: "13", 19: "1"}
	for pos, v := range want {
		if h[pos-1] != v {
			return fmt.Errorf("header field %d is %s, want %s", pos, h[pos-1], v)
		}
	}
	for pos, re := range map[int]*regexp.Regexp{6: reStamp, 11: regexp.MustCompile(`^\d{4,7}$`), 12: regexp.MustCompile(`^\d{1,5}$`),
		13: reDate8, 14: regexp.MustCompile(`^[4-8]$`), 15: reDate8, 16: reDate8, 17: reQuoted(`[^"]{0,30}`), 18: reQuoted(`[^"]{0,2}`),
		21: regexp.MustCompile(`^[01]$`), 22: reWKZ, 27: reQuoted(`0[34]`), 8: reQuoted(`[A-Z]{2}`)} {
		if !re.MatchString(h[pos-1]) {
			return fmt.Errorf("header field %d %q does not match %s", pos, h[pos-1], re)
		}
	}
	from, to := h[14], h[15]
	if from > to || from < h[12] {
		return fmt.Errorf("header period %s..%s (fiscal year from %s)", from, to, h[12])
	}
	cols := strings.Split(string(lines[1]), ";")
	if len(cols) != len(Columns) || cols[0] != "Umsatz (ohne Soll/Haben-Kz)" || cols[ColBU-1] != "BU-Schl\xfcssel" || cols[ColText-1] != "Buchungstext" {
		return fmt.Errorf("column line: %d headings (want %d) or wrong names", len(cols), len(Columns))
	}
	accLen := int(h[13][0] - '0')
	for i, l := range lines[2:] {
		f := splitFields(string(l))
		n := i + 3
		if len(f) != len(Columns) {
			return fmt.Errorf("line %d: %d fields, want %d", n, len(f), len(Columns))
		}
		for pos, re := range map[int]*regexp.Regexp{ColUmsatz: reUmsatz, ColSollHaben: reSH, ColWKZ: reWKZ, ColKonto: reKonto,
			ColGegenkonto: reKonto, ColBU: reBU, ColBelegdatum: reBeleg, ColBelegfeld1: reBelegfld, ColText: reText} {
			if !re.MatchString(f[pos-1]) {
				return fmt.Errorf("line %d, column %d (%s): %q does not match %s", n, pos, Columns[pos-1], f[pos-1], re)
			}
		}
		if len(f[ColKonto-1]) != accLen || len(f[ColGegenkonto-1]) != accLen {
			return fmt.Errorf("line %d: G/L accounts %s/%s do not have the Sachkontenlänge %d", n, f[ColKonto-1], f[ColGegenkonto-1], accLen)
		}
		if f[ColUmsatz-1] == "0,00" {
			return fmt.Errorf("line %d: zero amount", n)
		}
		if text := f[ColText-1]; len(strings.ReplaceAll(text[1:len(text)-1], `""`, `"`)) > 60 {
			return fmt.Errorf("line %d: Buchungstext longer than 60 characters", n)
		}
		if f[ColWKZ-1] != h[21] {
			return fmt.Errorf("line %d: currency %s differs from the header's %s", n, f[ColWKZ-1], h[21])
		}
		// DDMM carries no year: it must fall on a day of the period.
		if !dayInPeriod(f[ColBelegdatum-1], from, to) {
			return fmt.Errorf("line %d: Belegdatum %s outside the period %s..%s", n, f[ColBelegdatum-1], from, to)
		}
	}
	return nil
}

// splitFields splits a line at semicolons outside quotes.
func splitFields(l string) []string {
	var out []string
	inQ := false
	start := 0
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '"':
			inQ = !inQ
		case ';':
			if !inQ {
				out = append(out, l[start:i])
				start = i + 1
			}
		}
	}
	return append(out, l[start:])
}

func dayInPeriod(ddmm, from, to string) bool {
	md := ddmm[2:] + ddmm[:2]
	for y := from[:4]; y <= to[:4]; y = fmt.Sprintf("%04d", atoi(y)+1) {
		if d := y + md; d >= from && d <= to {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
