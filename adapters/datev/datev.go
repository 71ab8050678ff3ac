// Package datev writes the shop's credit bookings as a DATEV
// Buchungsstapel: the EXTF CSV format German tax advisors import into
// DATEV Rechnungswesen (header version 700, data category 21, format
// version 13; DATEV's format description on developer.datev.de, "DATEV-
// Format" / "Buchungsstapel").
//
// The file is Windows-1252, fields are separated by semicolons, lines end
// with CR LF, text fields are quoted with inner quotes doubled, amounts
// have a decimal comma and no thousands separator, and the document date
// (Belegdatum) is DDMM; the year comes from the header's period.
package datev

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"
)

// Format identifiers of the header line.
const (
	HeaderVersion = 700
	Category      = 21
	FormatName    = "Buchungsstapel"
	FormatVersion = 13
)

// Columns are the 125 column headings of Buchungsstapel format version 13,
// in order (the second line of the file).
var Columns = buildColumns()

func buildColumns() []string {
	c := []string{"Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz", "WKZ Basis-Umsatz",
		"Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum", "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext",
		"Postensperre", "Diverse Adressnummer", "Geschäftspartnerbank", "Sachverhalt", "Zinssperre", "Beleglink"}
	for i := 1; i <= 8; i++ {
		c = append(c, fmt.Sprintf("Beleginfo - Art %d", i), fmt.Sprintf("Beleginfo - Inhalt %d", i))
	}
	c = append(c, "KOST1 - Kostenstelle", "KOST2 - Kostenstelle", "Kost-Menge", "EU-Land u. UStID (Bestimmung)", "EU-Steuersatz (Bestimmung)",
		"Abw. Versteuerungsart", "Sachverhalt L+L", "Funktionsergänzung L+L", "BU 49 Hauptfunktionstyp", "BU 49 Hauptfunktionsnummer",
		"BU 49 Funktionsergänzung")
	for i := 1; i <= 20; i++ {
		c = append(c, fmt.Sprintf("Zusatzinformation - Art %d", i), fmt.Sprintf("Zusatzinformation- Inhalt %d", i))
	}
	return append(c, "Stück", "Gewicht", "Zahlweise", "Forderungsart", "Veranlagungsjahr", "Zugeordnete Fälligkeit", "Skontotyp",
		"Auftragsnummer", "Buchungstyp", "USt-Schlüssel (Anzahlungen)", "EU-Mitgliedstaat (Anzahlungen)", "Sachverhalt L+L (Anzahlungen)",
		"EU-Steuersatz (Anzahlungen)", "Erlöskonto (Anzahlungen)", "Herkunft-Kz", "Buchungs GUID", "KOST-Datum", "SEPA-Mandatsreferenz",
		"Skontosperre", "Gesellschaftername", "Beteiligtennummer", "Identifikationsnummer", "Zeichnernummer", "Postensperre bis",
		"Bezeichnung SoBil-Sachverhalt", "Kennzeichen SoBil-Buchung", "Festschreibung", "Leistungsdatum", "Datum Zuord. Steuerperiode",
		"Fälligkeit", "Generalumkehr", "Steuersatz", "Land", "Abrechnungsreferenz", "BVV-Position", "EU-Mitgliedstaat u. UStID (Ursprung)",
		"EU-Steuersatz (Ursprung)", "Abw. Skontokonto")
}

// Column positions (1-based, as in the format description) this package fills.
const (
	ColUmsatz     = 1
	ColSollHaben  = 2
	ColWKZ        = 3
	ColKonto      = 7
	ColGegenkonto = 8
	ColBU         = 9
	ColBelegdatum = 10
	ColBelegfeld1 = 11
	ColText       = 14
	ColZusatzArt1 = 48
	ColZusatzInh1 = 49
)

// Header is what the first line of a Buchungsstapel says.
type Header struct {
	Created          time.Time // Erzeugt am
	ConsultantNumber int       // Beraternummer
	ClientNumber     int       // Mandantennummer
	FiscalYearBegin  time.Time // WJ-Beginn
	AccountLength    int       // Sachkontenlänge
	From, To         time.Time // Datum vom, Datum bis (inclusive)
	Label            string    // Bezeichnung (max 30)
	Currency         string    // WKZ
	Chart            string    // Sachkontenrahmen: "03" or "04"
}

// Prepare checks that a shop's settings and a period make a file DATEV
// accepts, before anything is written (so a caller can still answer 400):
// Berater- and Mandantennummer are configured, the currency has cents, and
// the period lies within one fiscal year.
func Prepare(shop core.Shop, currency string, p core.Period, now time.Time) (Header, core.AccountingSettings, error) {
	a := shop.Settings.Accounting.Resolved()
	if shop.Settings.Accounting.ConsultantNumber == 0 || shop.Settings.Accounting.ClientNumber == 0 {
		return Header{}, a, core.Errorf(core.EINVALID, "DATEV export needs accounting.consultant_number (Beraternummer) and accounting.client_number (Mandantennummer) in the shop settings")
	}
	if sc, err := core.CurrencyScale(currency); err != nil {
		return Header{}, a, err
	} else if sc > 2 {
		return Header{}, a, core.Errorf(core.EINVALID, "DATEV amounts have two decimals; %s has %d", currency, sc)
	}
	wj := a.FiscalYearBegin(p.From)
	if !p.To.After(p.From) || p.To.After(wj.AddDate(1, 0, 0)) {
		return Header{}, a, core.Errorf(core.EINVALID, "a DATEV Buchungsstapel covers one fiscal year: %s..%s crosses the fiscal year starting %s",
			p.From.Format("2006-01-02"), p.LastDay().Format("2006-01-02"), wj.AddDate(1, 0, 0).Format("2006-01-02"))
	}
	chart := "03"
	if a.Chart == core.ChartSKR04 {
		chart = "04"
	}
	label := "creditbridge " + p.From.Format("01/2006")
	if p.LastDay().Format("200601") != p.From.Format("200601") {
		label += "-" + p.LastDay().Format("01/2006")
	}
	return Header{Created: now.In(p.From.Location()), ConsultantNumber: a.ConsultantNumber, ClientNumber: a.ClientNumber, FiscalYearBegin: wj,
		AccountLength: a.AccountLength, From: p.From, To: p.LastDay(), Label: label, Currency: currency, Chart: chart}, a, nil
}

// Export writes the Buchungsstapel of one period: the header, the column
// headings and one line per booking (see core.AccountingSettings.Bookings),
// streaming from src. It returns the number of booking lines. Call Prepare
// first.
func Export(ctx context.Context, w io.Writer, src core.ProgramPostingSource, shopID int64, a core.AccountingSettings, h Header, p core.Period) (int, error) {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriterSize(w, 64<<10)
	}
	if _, err := bw.Write(HeaderLine(h)); err != nil {
		return 0, err
	}
	if _, err := bw.Write(ColumnLine()); err != nil {
		return 0, err
	}
	loc := p.From.Location()
	n := 0
	var buf []byte
	err := src.ProgramPostings(ctx, shopID, h.Currency, p, func(_, _ decimal.Decimal) error { return nil }, func(r core.PostingRecord) error {
		for _, b := range a.Bookings(r, loc) {
			var err error
			if buf, err = AppendBooking(buf[:0], h.Currency, b); err != nil {
				return err
			}
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// HeaderLine renders the first line (31 fields) with CR LF.
func HeaderLine(h Header) []byte {
	f := []string{
		text("EXTF", 4), itoa(HeaderVersion), itoa(Category), text(FormatName, 30), itoa(FormatVersion),
		h.Created.Format("20060102150405") + fmt.Sprintf("%03d", h.Created.Nanosecond()/1e6), // Erzeugt am: YYYYMMDDHHMMSSFFF
		"",                                     // Importiert (reserved)
		text("RE", 2),                          // Herkunft
		text("creditbridge", 25), text("", 25), // Exportiert von, Importiert von
		itoa(h.ConsultantNumber), itoa(h.ClientNumber),
		h.FiscalYearBegin.Format("20060102"), itoa(h.AccountLength),
		h.From.Format("20060102"), h.To.Format("20060102"),
		text(h.Label, 30), text("", 2), // Bezeichnung, Diktatkürzel
		"1", "0", "0", // Buchungstyp 1 = Finanzbuchführung, Rechnungslegungszweck 0 = unabhängig, Festschreibung 0 = keine
		text(h.Currency, 3), "", text("", 0), "", "", // WKZ, reserved, Derivatskennzeichen, reserved, reserved
		text(h.Chart, 2), "", "", text("", 0), text("", 0), // Sachkontenrahmen, Branchenlösung, reserved, reserved, Anwendungsinformation
	}
	return encodeLine(nil, f)
}

// ColumnLine renders the column headings with CR LF.
func ColumnLine() []byte {
	return encodeLine(nil, Columns)
}

// AppendBooking renders one booking line with CR LF.
func AppendBooking(dst []byte, currency string, b core.Booking) ([]byte, error) {
	amt, err := Amount(b.Amount)
	if err != nil {
		return dst, err
	}
	f := make([]string, len(Columns))
	f[ColUmsatz-1] = amt
	if b.Debit {
		f[ColSollHaben-1] = text("S", 1)
	} else {
		f[ColSollHaben-1] = text("H", 1)
	}
	f[ColWKZ-1] = text(currency, 3)
	f[ColKonto-1] = b.Account
	f[ColGegenkonto-1] = b.Counter
	if b.TaxKey != "" {
		key, err := BUKey(b.TaxKey)
		if err != nil {
			return dst, err
		}
		f[ColBU-1] = text(key, 4)
	}
	f[ColBelegdatum-1] = b.Date.Format("0201")
	f[ColBelegfeld1-1] = text(Belegfeld(b.Reference), 36)
	f[ColText-1] = text(b.Text, 60)
	f[ColZusatzArt1-1] = text("creditbridge Tx", 20)
	f[ColZusatzInh1-1] = text(strconv.FormatInt(b.TxID, 10), 210)
	return encodeLine(dst, f), nil
}

// BUKey writes a BU-Schlüssel as DATEV's format description requires:
// exactly four digits (field 9, ^["]\d{4}["]$), so a short tax key such as
// 3 (Umsatzsteuer 19 %) or 2 (Umsatzsteuer 7 %) gets leading zeros: 0003,
// 0002.
func BUKey(key string) (string, error) {
	if len(key) == 0 || len(key) > 4 || strings.Trim(key, "0123456789") != "" {
		return "", core.Errorf(core.EINVALID, "a DATEV BU-Schlüssel has 1 to 4 digits, got %q", key)
	}
	return strings.Repeat("0", 4-len(key)) + key, nil
}

// Amount formats a positive amount the DATEV way: decimal comma, two
// decimals, no thousands separator, at most 10 integer digits.
func Amount(d decimal.Decimal) (string, error) {
	if !d.IsPositive() {
		return "", core.Errorf(core.EINVALID, "DATEV amounts are positive, got %s", d.String())
	}
	s := d.StringFixed(2)
	if !d.Equal(d.Round(2)) {
		return "", core.Errorf(core.EINVALID, "DATEV amounts have two decimals, got %s", d.String())
	}
	if len(s) > 13 {
		return "", core.Errorf(core.EINVALID, "amount %s is too large for DATEV (10 integer digits)", s)
	}
	return strings.Replace(s, ".", ",", 1), nil
}

// Belegfeld keeps what DATEV allows in Belegfeld 1 (letters, digits and
// $ % - /, at most 36): "#1001" becomes "1001".
func Belegfeld(ref string) string {
	var b strings.Builder
	for _, c := range ref {
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '%' || c == '-' || c == '/' {
			b.WriteRune(c)
		}
	}
	s := b.String()
	if len(s) > 36 {
		s = s[len(s)-36:] // the end of an id is the distinctive part
	}
	return s
}

// text quotes a text field: control characters become spaces, characters
// Windows-1252 cannot represent become '?', inner quotes are doubled, and
// the value is cut to max characters (max 0: no limit).
func text(v string, maxLen int) string {
	var b strings.Builder
	b.WriteByte('"')
	n := 0
	for _, c := range v {
		if maxLen > 0 && n == maxLen {
			break
		}
		n++
		switch {
		case unicode.IsControl(c):
			c = ' '
		case c == '"':
			b.WriteString(`""`)
			continue
		}
		if _, ok := charmap.Windows1252.EncodeRune(c); !ok {
			c = '?'
		}
		b.WriteRune(c)
	}
	b.WriteByte('"')
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// encodeLine joins fields with semicolons, ends the line with CR LF and
// encodes it as Windows-1252 (text fields are already restricted to it).
func encodeLine(dst []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ';')
		}
		for _, c := range f {
			if c < 0x80 {
				dst = append(dst, byte(c))
				continue
			}
			e, ok := charmap.Windows1252.EncodeRune(c)
			if !ok {
				e = '?'
			}
			dst = append(dst, e)
		}
	}
	return append(dst, '\r', '\n')
}
