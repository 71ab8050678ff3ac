package datev_test

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/datev"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// staticSource serves fixed program postings (the PostgreSQL source is
// tested with the golden month in adapters/postgres).
type staticSource []core.PostingRecord

func (s staticSource) ProgramPostings(_ context.Context, _ int64, _ string, _ core.Period, start func(o, c decimal.Decimal) error, fn func(core.PostingRecord) error) error {
	if err := start(decimal.Zero, decimal.Zero); err != nil {
		return err
	}
	for _, r := range s {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func shop() core.Shop {
	return core.Shop{ID: 7, Currency: "EUR", Settings: core.ShopSettings{Accounting: core.AccountingSettings{ConsultantNumber: 29098, ClientNumber: 55003}}}
}

// TestFileFollowsTheFormatDescription writes a file with every booking
// kind and checks it field by field: header identifiers and formats, the
// 125 column headings, amounts with a decimal comma, DDMM dates, quoted
// texts in Windows-1252, CR LF.
func TestFileFollowsTheFormatDescription(t *testing.T) {
	t.Parallel()
	loc, _ := time.LoadLocation("Europe/Berlin")
	p, err := core.ParsePeriod("2026-03-01", "2026-04-01", loc)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 5, 23, 30, 0, 0, time.UTC) // 6 March, 00:30 in Berlin (CET)
	src := staticSource{
		{CreatedAt: at, TransactionID: 11, Bucket: core.ProgramIssued, Owner: core.ProgramOwner, Amount: decimal.RequireFromString("-1234567.89"),
			Reason: core.Reason{Kind: core.ReasonEarn, OrderNumber: "#1001", Product: "Äpfel"}},
		{CreatedAt: at, TransactionID: 12, Bucket: core.ProgramRedeemed, Owner: core.ProgramOwner, Amount: decimal.RequireFromString("6"),
			Reason: core.Reason{Kind: core.ReasonRedeem, OrderNumber: `#10"02 “Straße” €`}},
		{CreatedAt: at, TransactionID: 13, Bucket: core.ProgramVouchers, Owner: core.ProgramOwner, Amount: decimal.RequireFromString("5")},
		{CreatedAt: at, TransactionID: 14, Bucket: core.ProgramExpired, Owner: core.ProgramOwner, Amount: decimal.RequireFromString("0.01"),
			Reason: core.Reason{Kind: "expire"}},
		{CreatedAt: at, TransactionID: 15, Bucket: core.ProgramAdjustments, Owner: core.ProgramOwner, Amount: decimal.RequireFromString("2.5"),
			Reason: core.Reason{Kind: core.ReasonAdjustment, Note: strings.Repeat("x", 100)}},
	}
	created := time.Date(2026, 4, 2, 8, 15, 30, 123e6, time.UTC)
	h, a, err := datev.Prepare(shop(), "EUR", p, created)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	n, err := datev.Export(context.Background(), bw, src, 7, a, h, p)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 { // grant, redemption (release + sales deduction), expiry, adjustment; vouchers book nothing
		t.Fatalf("%d bookings, want 5", n)
	}
	file := out.Bytes()
	if err := datev.Check(file); err != nil {
		t.Fatalf("format check: %v\n%s", err, file)
	}
	lines := strings.Split(strings.TrimSuffix(string(file), "\r\n"), "\r\n")
	header := strings.Split(lines[0], ";")
	for pos, want := range map[int]string{1: `"EXTF"`, 2: "700", 3: "21", 4: `"Buchungsstapel"`, 5: "13", 6: "20260402101530123",
		8: `"RE"`, 11: "29098", 12: "55003", 13: "20260101", 14: "4", 15: "20260301", 16: "20260331", 17: `"creditbridge 03/2026"`,
		19: "1", 20: "0", 21: "0", 22: `"EUR"`, 27: `"03"`} {
		if header[pos-1] != want {
			t.Errorf("header field %d = %s, want %s", pos, header[pos-1], want)
		}
	}
	if len(header) != 31 {
		t.Errorf("header has %d fields", len(header))
	}
	if got := strings.Count(lines[1], ";") + 1; got != 125 {
		t.Errorf("%d column headings, want 125", got)
	}
	want := []string{
		`1234567,89;"S";"EUR";;;;4600;1700;;0603;"1001";;;"Kundenguthaben gew` + "\xe4" + `hrt Best. #1001";`,
		`6,00;"S";"EUR";;;;1700;4600;;0603;"1002Strae";;;"Kundenguthaben eingel` + "\xf6" + `st Best. #10""02 ` + "\x93Stra\xdfe\x94 \x80" + `";`,
		`6,00;"S";"EUR";;;;8700;1360;"0003";0603;"1002Strae";;;"Kundenguthaben eingel` + "\xf6" + `st Best. #10""02 ` + "\x93Stra\xdfe\x94 \x80" + ` Erl` + "\xf6" + `sschm.";`,
		`0,01;"S";"EUR";;;;1700;2700;;0603;"CB14";;;"Kundenguthaben verfallen";`,
		`2,50;"H";"EUR";;;;4600;1700;;0603;"CB15";;;"Korrektur Kundenguthaben";`,
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[2+i], w) {
			t.Errorf("booking %d:\n got %q\nwant %q...", i+1, lines[2+i][:min(len(lines[2+i]), len(w)+10)], w)
		}
	}
	if !strings.Contains(lines[2], `"creditbridge Tx";"11"`) {
		t.Errorf("transaction id missing: %q", lines[2])
	}
}

// TestPrepareRefusesWhatDATEVRefuses: no Berater/Mandant, a period across
// fiscal years, a currency with three decimals.
func TestPrepareRefusesWhatDATEVRefuses(t *testing.T) {
	t.Parallel()
	p, _ := core.ParsePeriod("2026-03-01", "2026-04-01", time.UTC)
	s := shop()
	s.Settings.Accounting.ClientNumber = 0
	if _, _, err := datev.Prepare(s, "EUR", p, time.Now()); err == nil || !strings.Contains(core.ErrorMessage(err), "Mandantennummer") {
		t.Errorf("no Mandantennummer: %v", err)
	}
	s = shop()
	s.Settings.Accounting.FiscalYearStart = "07-01"
	cross, _ := core.ParsePeriod("2026-06-01", "2026-07-02", time.UTC)
	if _, _, err := datev.Prepare(s, "EUR", cross, time.Now()); err == nil || !strings.Contains(core.ErrorMessage(err), "fiscal year") {
		t.Errorf("period across fiscal years: %v", err)
	}
	if h, _, err := datev.Prepare(s, "EUR", p, time.Now()); err != nil || h.FiscalYearBegin.Format("20060102") != "20250701" {
		t.Errorf("fiscal year from July: %v %v", h.FiscalYearBegin, err)
	}
	if _, _, err := datev.Prepare(shop(), "KWD", p, time.Now()); err == nil {
		t.Error("a three-decimal currency was accepted")
	}
}

func TestAmountFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"0.01": "0,01", "1": "1,00", "1234567.5": "1234567,50", "9999999999.99": "9999999999,99"} {
		if got, err := datev.Amount(decimal.RequireFromString(in)); err != nil || got != want {
			t.Errorf("Amount(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-1", "0.001", "10000000000"} {
		if got, err := datev.Amount(decimal.RequireFromString(in)); err == nil {
			t.Errorf("Amount(%s) = %q, want an error", in, got)
		}
	}
}

// The BU-Schlüssel field holds exactly four digits (DATEV's format
// description, Buchungsstapel field 9: ^["]\d{4}["]$): the short tax keys
// 3 (Umsatzsteuer 19 %) and 2 (Umsatzsteuer 7 %) are written 0003 and
// 0002, and the check refuses a short key in a file.
func TestBUKeyHasFourDigits(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"3": "0003", "2": "0002", "40": "0040", "101": "0101", "9999": "9999"} {
		if got, err := datev.BUKey(in); err != nil || got != want {
			t.Errorf("BUKey(%s) = %q, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12345", "3a", "-3"} {
		if got, err := datev.BUKey(in); err == nil {
			t.Errorf("BUKey(%q) = %q, want an error", in, got)
		}
	}
	line, err := datev.AppendBooking(nil, "EUR", core.Booking{Debit: true, Account: "8700", Counter: "1360", TaxKey: "3", Amount: decimal.RequireFromString("6.00"),
		Date: time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), Reference: "1002", Text: "Kundenguthaben eingelöst", TxID: 1})
	if err != nil || !strings.HasPrefix(string(line), `6,00;"S";"EUR";;;;8700;1360;"0003";0603;`) {
		t.Fatalf("booking %q %v", line, err)
	}
}
