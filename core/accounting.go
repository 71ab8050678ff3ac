package core

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the accounting time zone must resolve on hosts without zoneinfo

	"github.com/shopspring/decimal"
)

// Charts of accounts (Standardkontenrahmen) the defaults exist for.
const (
	ChartSKR03 = "SKR03"
	ChartSKR04 = "SKR04"
)

// AccountingSettings configure the exports for the merchant's tax advisor
// (DATEV Buchungsstapel and the period report). Every field has a default;
// the tax advisor decides which accounts and keys are right.
type AccountingSettings struct {
	Chart            string `json:"chart,omitempty"`             // SKR03 (default) or SKR04
	ConsultantNumber int    `json:"consultant_number,omitempty"` // DATEV Beraternummer 1001..9999999 (required for DATEV)
	ClientNumber     int    `json:"client_number,omitempty"`     // DATEV Mandantennummer 1..99999 (required for DATEV)
	FiscalYearStart  string `json:"fiscal_year_start,omitempty"` // MM-DD, default 01-01 (Wirtschaftsjahresbeginn)
	AccountLength    int    `json:"account_length,omitempty"`    // Sachkontenlänge 4..8, default 4
	TimeZone         string `json:"time_zone,omitempty"`         // period dates and Belegdatum; default: the shop's time_zone, else Europe/Berlin
	// Accounts override the chart's default G/L accounts; each must have
	// exactly AccountLength digits.
	Accounts GLAccounts `json:"accounts,omitzero"`
	// VATRate is the rate (percent) a redemption is booked at when the
	// ledger does not record its tax parts; default 19.
	VATRate string `json:"vat_rate,omitempty"`
	// TaxKeys maps a VAT rate (percent, "19", "7") to its DATEV
	// BU-Schlüssel; defaults: 19 → 3, 7 → 2 (Umsatzsteuer), 0 → none.
	TaxKeys map[string]string `json:"tax_keys,omitempty"`
	// NoSalesDeduction leaves out a redemption's sales-deduction line, for
	// shops whose sales export already books orders at the reduced price
	// (the liability is still released against the grant account).
	NoSalesDeduction bool `json:"no_sales_deduction,omitempty"`
}

// GLAccounts are the G/L accounts (Sachkonten) the exports book to.
type GLAccounts struct {
	Liability  string `json:"liability,omitempty"`  // credit outstanding (sonstige Verbindlichkeiten)
	Grant      string `json:"grant,omitempty"`      // what granting credit costs (Werbekosten)
	Redemption string `json:"redemption,omitempty"` // sales deduction of a redemption (Erlösschmälerungen), with tax key
	Clearing   string `json:"clearing,omitempty"`   // counter account of that sales deduction (Geldtransit / shop clearing)
	Expiry     string `json:"expiry,omitempty"`     // expired credit (sonstige Erträge)
}

// defaultAccounts are the 4-digit defaults per chart (see README,
// "Exports for the tax advisor", for why each was chosen).
var defaultAccounts = map[string]GLAccounts{
	ChartSKR03: {Liability: "1700", Grant: "4600", Redemption: "8700", Clearing: "1360", Expiry: "2700"},
	ChartSKR04: {Liability: "3500", Grant: "6600", Redemption: "4700", Clearing: "1460", Expiry: "4830"},
}

var defaultTaxKeys = map[string]string{"19": "3", "7": "2", "0": ""}

// Resolved returns the settings with every default filled in.
func (a AccountingSettings) Resolved() AccountingSettings {
	if a.Chart == "" {
		a.Chart = ChartSKR03
	}
	if a.FiscalYearStart == "" {
		a.FiscalYearStart = "01-01"
	}
	if a.AccountLength == 0 {
		a.AccountLength = 4
	}
	if a.VATRate == "" {
		a.VATRate = "19"
	}
	def := defaultAccounts[a.Chart]
	pad := func(v, d string) string {
		if v != "" {
			return v
		}
		// DATEV lengthens a chart's 4-digit accounts with trailing zeros.
		return d + strings.Repeat("0", max(a.AccountLength-len(d), 0))
	}
	a.Accounts = GLAccounts{Liability: pad(a.Accounts.Liability, def.Liability), Grant: pad(a.Accounts.Grant, def.Grant),
		Redemption: pad(a.Accounts.Redemption, def.Redemption), Clearing: pad(a.Accounts.Clearing, def.Clearing), Expiry: pad(a.Accounts.Expiry, def.Expiry)}
	keys := make(map[string]string, len(defaultTaxKeys)+len(a.TaxKeys))
	for k, v := range defaultTaxKeys {
		keys[k] = v
	}
	for k, v := range a.TaxKeys {
		keys[normalizeRate(k)] = v
	}
	a.TaxKeys = keys
	a.VATRate = normalizeRate(a.VATRate)
	return a
}

// normalizeRate writes a VAT rate without trailing zeros ("19.00" → "19").
func normalizeRate(r string) string {
	d, err := decimal.NewFromString(strings.TrimSpace(r))
	if err != nil {
		return strings.TrimSpace(r)
	}
	return d.String()
}

// Validate checks the settings as they are configured, so a G/L account
// DATEV would refuse is refused here and never at export time.
func (a AccountingSettings) Validate() error {
	if a.Chart != "" && a.Chart != ChartSKR03 && a.Chart != ChartSKR04 {
		return Errorf(EINVALID, "accounting.chart must be SKR03 or SKR04")
	}
	if a.ConsultantNumber != 0 && (a.ConsultantNumber < 1001 || a.ConsultantNumber > 9999999) {
		return Errorf(EINVALID, "accounting.consultant_number (DATEV Beraternummer) must be 1001..9999999")
	}
	if a.ClientNumber != 0 && (a.ClientNumber < 1 || a.ClientNumber > 99999) {
		return Errorf(EINVALID, "accounting.client_number (DATEV Mandantennummer) must be 1..99999")
	}
	if a.AccountLength != 0 && (a.AccountLength < 4 || a.AccountLength > 8) {
		return Errorf(EINVALID, "accounting.account_length (DATEV Sachkontenlänge) must be 4..8")
	}
	r := a.Resolved()
	if _, err := time.Parse("2006-01-02", "2000-"+r.FiscalYearStart); err != nil {
		return Errorf(EINVALID, "accounting.fiscal_year_start must be a month and day like 01-01")
	}
	if r.TimeZone != "" {
		if _, err := time.LoadLocation(r.TimeZone); err != nil || r.TimeZone == "Local" {
			return Errorf(EINVALID, "accounting.time_zone %q is not an IANA time zone like Europe/Berlin", truncate(r.TimeZone, 40))
		}
	}
	for _, acc := range []struct{ name, v string }{{"liability", r.Accounts.Liability}, {"grant", r.Accounts.Grant},
		{"redemption", r.Accounts.Redemption}, {"clearing", r.Accounts.Clearing}, {"expiry", r.Accounts.Expiry}} {
		if err := validGLAccount(acc.v, r.AccountLength); err != nil {
			return Errorf(EINVALID, "accounting.accounts.%s: %s", acc.name, ErrorMessage(err))
		}
	}
	if err := validRate(r.VATRate); err != nil {
		return Errorf(EINVALID, "accounting.vat_rate: %s", ErrorMessage(err))
	}
	for rate, key := range r.TaxKeys {
		if err := validRate(rate); err != nil {
			return Errorf(EINVALID, "accounting.tax_keys: %s", ErrorMessage(err))
		}
		if key != "" && !allDigits(key, 1, 4) {
			return Errorf(EINVALID, "accounting.tax_keys[%s]: a DATEV BU-Schlüssel has 1 to 4 digits, got %q", rate, truncate(key, 10))
		}
	}
	if _, ok := r.TaxKeys[r.VATRate]; !ok {
		return Errorf(EINVALID, "accounting.tax_keys has no BU-Schlüssel for the vat_rate %s", r.VATRate)
	}
	return nil
}

func validRate(r string) error {
	d, err := decimal.NewFromString(r)
	if err != nil || d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)) || d.Exponent() < -2 {
		return Errorf(EINVALID, "a VAT rate is a percentage 0..100 with at most 2 decimals, got %q", truncate(r, 10))
	}
	return nil
}

// validGLAccount: a DATEV Sachkonto is digits only, exactly the
// Sachkontenlänge long (the chart's 4-digit accounts are lengthened with
// trailing zeros), and not zero.
func validGLAccount(v string, length int) error {
	if !allDigits(v, 1, 9) {
		return Errorf(EINVALID, "a DATEV G/L account is a number of digits only, got %q", truncate(v, 20))
	}
	if len(v) != length {
		return Errorf(EINVALID, "account %s has %d digits but the Sachkontenlänge is %d", v, len(v), length)
	}
	if strings.Trim(v, "0") == "" {
		return Errorf(EINVALID, "account %s is zero", v)
	}
	return nil
}

func allDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DefaultAccountingZone is the exports' time zone when neither the
// accounting settings nor the shop name one.
const DefaultAccountingZone = "Europe/Berlin"

// AccountingLocation is the time zone of the exports' periods and
// document dates: accounting.time_zone, else the shop's time_zone, else
// Europe/Berlin (the books of a German shop).
func (s ShopSettings) AccountingLocation() *time.Location {
	for _, z := range []string{s.Accounting.TimeZone, s.TimeZone, DefaultAccountingZone} {
		if z == "" {
			continue
		}
		if loc, err := time.LoadLocation(z); err == nil {
			return loc
		}
	}
	return time.UTC
}

// maxPeriodYears bounds an export period.
const maxPeriodYears = 1

// Period is a range of whole days [From, To) in the accounting time zone.
type Period struct {
	From time.Time // first day, 00:00 local
	To   time.Time // day after the last day, 00:00 local
}

// LastDay is the last day included.
func (p Period) LastDay() time.Time { return p.To.AddDate(0, 0, -1) }

// ParsePeriod reads from and to (YYYY-MM-DD, to exclusive) in loc. Both
// are required, from must be before to, and the period may span at most a
// year.
func ParsePeriod(from, to string, loc *time.Location) (Period, error) {
	if from == "" || to == "" {
		return Period{}, Errorf(EINVALID, "the period needs both from and to (dates like 2026-01-01 and 2026-02-01; to is exclusive)")
	}
	f, err := time.ParseInLocation("2006-01-02", from, loc)
	if err != nil {
		return Period{}, Errorf(EINVALID, "from must be a date like 2026-01-01, got %q", truncate(from, 20))
	}
	t, err := time.ParseInLocation("2006-01-02", to, loc)
	if err != nil {
		return Period{}, Errorf(EINVALID, "to must be a date like 2026-02-01, got %q", truncate(to, 20))
	}
	if !f.Before(t) {
		return Period{}, Errorf(EINVALID, "the period is reversed or empty: from %s must be before to %s (to is exclusive)", from, to)
	}
	if t.After(f.AddDate(maxPeriodYears, 0, 0)) {
		return Period{}, Errorf(EINVALID, "the period %s..%s is longer than a year; export at most one year at a time", from, to)
	}
	return Period{From: f, To: t}, nil
}

// FiscalYearBegin returns the first day of the fiscal year containing day.
func (a AccountingSettings) FiscalYearBegin(day time.Time) time.Time {
	r := a.Resolved()
	md, _ := time.Parse("2006-01-02", "2000-"+r.FiscalYearStart)
	b := time.Date(day.Year(), md.Month(), md.Day(), 0, 0, 0, 0, day.Location())
	if b.After(day) {
		b = b.AddDate(-1, 0, 0)
	}
	return b
}

// ProgramPostingSource streams the program side of a shop's ledger: the
// postings that change what the shop owes its customers.
type ProgramPostingSource interface {
	// ProgramPostings calls start with the liability (credit outstanding,
	// vouchers included) before p.From and at p.To, then fn with every
	// program posting in currency created in p, in transaction order, all
	// read from one snapshot. A record's Reason carries Kind, OrderID and
	// OrderNumber only.
	ProgramPostings(ctx context.Context, shopID int64, currency string, p Period, start func(opening, closing decimal.Decimal) error, fn func(PostingRecord) error) error
}

// BookingKind says which business event a booking records.
type BookingKind string

// Booking kinds of the tax advisor's exports.
const (
	BookGrant      BookingKind = "grant"      // credit granted: liability up
	BookRedemption BookingKind = "redemption" // credit used on an order: liability down
	BookExpiry     BookingKind = "expiry"     // credit expired: liability down
	BookAdjustment BookingKind = "adjustment" // manual correction
)

// Booking is one line of a DATEV Buchungsstapel: Amount (positive) is
// booked to Account on the debit (Soll) side when Debit, else on the
// credit (Haben) side; Counter takes the other side. TaxKey is the
// BU-Schlüssel (empty: none).
type Booking struct {
	Kind      BookingKind
	VATRate   string
	Amount    decimal.Decimal
	Debit     bool
	Account   string
	Counter   string
	TaxKey    string
	Date      time.Time // in the accounting time zone
	Reference string    // Belegfeld 1: order number or transaction id
	Text      string    // Buchungstext
	TxID      int64
}

// LiabilityEffect returns how a program posting changes the credit the
// shop owes (positive: more owed), its booking kind, and false for
// postings that do not change it (vouchers: they remain part of it).
func LiabilityEffect(r PostingRecord) (decimal.Decimal, BookingKind, bool) {
	if r.Owner.Kind != OwnerProgram {
		return decimal.Zero, "", false
	}
	switch r.Bucket {
	case ProgramIssued:
		return r.Amount.Neg(), BookGrant, true
	case ProgramAdjustments:
		return r.Amount.Neg(), BookAdjustment, true
	case ProgramRedeemed:
		return r.Amount.Neg(), BookRedemption, true
	case ProgramExpired:
		return r.Amount.Neg(), BookExpiry, true
	}
	return decimal.Zero, "", false
}

// TaxPart is the part of an amount booked at one VAT rate.
type TaxPart struct {
	VATRate string
	Amount  decimal.Decimal // gross
}

// TaxParts splits a program posting's amount (gross, either sign) by VAT
// rate. A redemption whose order reported the net and tax of the credit it
// used is split by them: the rate of tax_keys whose tax on the net matches
// (to the cent), or else the two rates of tax_keys whose mix gives that net
// and tax (an order with 19 % and 7 % articles). Everything else is booked
// at the configured vat_rate. a must be Resolved.
func (a AccountingSettings) TaxParts(r PostingRecord, amount decimal.Decimal) []TaxPart {
	if r.Bucket == ProgramRedeemed && r.OrderTax != nil {
		if parts := splitByRates(*r.OrderTax, a.rates(), amount); parts != nil {
			return parts
		}
	}
	return []TaxPart{{VATRate: a.VATRate, Amount: amount}}
}

// rates are the configured VAT rates, highest first.
func (a AccountingSettings) rates() []decimal.Decimal {
	var out []decimal.Decimal
	for k := range a.TaxKeys {
		if d, err := decimal.NewFromString(k); err == nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GreaterThan(out[j]) })
	return out
}

var (
	hundred = decimal.NewFromInt(100)
	cent    = decimal.New(1, -2)
)

// splitByRates finds the rates of a reported split and shares amount out
// among them (the parts sum to amount exactly); nil when no rate or pair
// of rates explains it.
func splitByRates(s OrderTaxSplit, rates []decimal.Decimal, amount decimal.Decimal) []TaxPart {
	if !s.Amount.IsPositive() || s.Net.IsNegative() || s.Tax.IsNegative() || !s.Net.Add(s.Tax).Equal(s.Amount) {
		return nil
	}
	share := func(gross decimal.Decimal) decimal.Decimal { // amount × gross / s.Amount, to the cent
		return amount.Mul(gross).Div(s.Amount).Round(2)
	}
	for _, r := range rates {
		if s.Net.Mul(r).Div(hundred).Sub(s.Tax).Abs().LessThanOrEqual(cent) {
			return []TaxPart{{VATRate: r.String(), Amount: amount}}
		}
	}
	for i, hi := range rates {
		for _, lo := range rates[i+1:] {
			// net = a + b, tax = a·hi + b·lo  →  a = (tax − net·lo) / (hi − lo)
			netHi := s.Tax.Sub(s.Net.Mul(lo).Div(hundred)).Mul(hundred).Div(hi.Sub(lo)).Round(2)
			netLo := s.Net.Sub(netHi)
			if !netHi.IsPositive() || !netLo.IsPositive() {
				continue
			}
			grossHi := share(netHi.Add(netHi.Mul(hi).Div(hundred)).Round(2))
			return []TaxPart{{VATRate: hi.String(), Amount: grossHi}, {VATRate: lo.String(), Amount: amount.Sub(grossHi)}}
		}
	}
	return nil
}

// Bookings maps one program posting to its DATEV lines (none for postings
// that do not change the liability). a must be Resolved.
//
//   - grant: Soll Grant (Werbekosten) / Haben Liability; a reversal the other way;
//   - adjustment: like a grant (a negative one like its reversal);
//   - redemption: the liability is released against the grant account
//     (Soll Liability / Haben Grant), and the order's price reduction is a
//     sales deduction with the VAT rate's tax key (Soll Redemption + BU /
//     Haben Clearing), per VAT rate, unless NoSalesDeduction;
//   - expiry: Soll Liability / Haben Expiry (sonstige Erträge).
func (a AccountingSettings) Bookings(r PostingRecord, loc *time.Location) []Booking {
	effect, kind, ok := LiabilityEffect(r)
	if !ok || effect.IsZero() {
		return nil
	}
	base := Booking{Kind: kind, Date: r.CreatedAt.In(loc), Reference: reference(r), TxID: r.TransactionID}
	acc := a.Accounts
	abs := effect.Abs()
	line := func(b Booking, debit bool, account, counter string, amount decimal.Decimal, text string) Booking {
		b.Debit, b.Account, b.Counter, b.Amount, b.Text = debit, account, counter, amount, text
		return b
	}
	switch kind {
	case BookGrant, BookAdjustment:
		b := line(base, effect.IsPositive(), acc.Grant, acc.Liability, abs, bookingText(r, kind, effect.IsPositive()))
		b.VATRate = a.VATRate
		return []Booking{b}
	case BookExpiry:
		b := line(base, effect.IsNegative(), acc.Liability, acc.Expiry, abs, bookingText(r, kind, effect.IsNegative()))
		b.VATRate = a.VATRate
		return []Booking{b}
	case BookRedemption:
		used := effect.IsNegative() // a redemption lowers the liability; a reversal restores it
		out := []Booking{line(base, used, acc.Liability, acc.Grant, abs, bookingText(r, kind, used))}
		out[0].VATRate = a.VATRate
		if a.NoSalesDeduction {
			return out
		}
		for _, part := range a.TaxParts(r, abs) {
			b := line(base, used, acc.Redemption, acc.Clearing, part.Amount, bookingText(r, kind, used)+" Erlösschm.")
			b.VATRate, b.TaxKey = part.VATRate, a.TaxKeys[part.VATRate]
			out = append(out, b)
		}
		return out
	}
	return nil
}

func reference(r PostingRecord) string {
	if r.Reason.OrderNumber != "" {
		return r.Reason.OrderNumber
	}
	if r.Reason.OrderID != "" {
		return r.Reason.OrderID
	}
	return "CB" + strconv.FormatInt(r.TransactionID, 10)
}

// bookingText is the Buchungstext (German, as the tax advisor reads it).
func bookingText(r PostingRecord, kind BookingKind, forward bool) string {
	var label string
	switch {
	case kind == BookExpiry && forward:
		label = "Kundenguthaben verfallen"
	case kind == BookExpiry:
		label = "Verfall storniert"
	default:
		label = reasonLabel(r.Reason.Kind, forward)
	}
	if r.Reason.OrderNumber != "" {
		label += " Best. " + r.Reason.OrderNumber
	} else if r.Reason.OrderID != "" {
		label += " Best. " + r.Reason.OrderID
	}
	return label
}

func reasonLabel(k ReasonKind, forward bool) string {
	var label string
	switch k {
	case ReasonEarn:
		label = "Kundenguthaben gewährt"
	case ReasonEarnReversal:
		label = "Kundenguthaben storniert"
	case ReasonSelfReferralReversal:
		label = "Kundenguthaben storniert (Eigenempfehlung)"
	case ReasonHoldCapture, ReasonRedeem:
		label = "Kundenguthaben eingelöst"
	case ReasonVoucherSettle:
		label = "Gutschein eingelöst"
	case ReasonRedeemReversal:
		label = "Einlösung storniert"
	case ReasonAdjustment:
		label = "Korrektur Kundenguthaben"
	default:
		if forward {
			label = "Kundenguthaben " + string(k)
		} else {
			label = "Storno Kundenguthaben " + string(k)
		}
	}
	return label
}

// PeriodReport is the credit liability of one period for the tax advisor:
// the liability at the start and end, and what was issued, redeemed,
// expired and adjusted in between, in total and per VAT rate. Amounts are
// liability effects written as positive numbers (issued and adjustments
// net of their reversals).
type PeriodReport struct {
	ShopID           int64            `json:"shop_id"`
	Currency         string           `json:"currency"`
	From             string           `json:"from"` // first day
	To               string           `json:"to"`   // last day (inclusive)
	TimeZone         string           `json:"time_zone"`
	OpeningLiability decimal.Decimal  `json:"opening_liability"`
	Issued           decimal.Decimal  `json:"issued"`
	Redeemed         decimal.Decimal  `json:"redeemed"`
	Expired          decimal.Decimal  `json:"expired"`
	Adjustments      decimal.Decimal  `json:"adjustments"`
	ClosingLiability decimal.Decimal  `json:"closing_liability"`
	ByVATRate        []PeriodRateLine `json:"by_vat_rate"`
	// Postings counts the program postings of the period.
	Postings int64 `json:"postings"`
}

// PeriodRateLine is a PeriodReport's movements at one VAT rate.
type PeriodRateLine struct {
	VATRate     string          `json:"vat_rate"`
	Issued      decimal.Decimal `json:"issued"`
	Redeemed    decimal.Decimal `json:"redeemed"`
	Expired     decimal.Decimal `json:"expired"`
	Adjustments decimal.Decimal `json:"adjustments"`
}

// BuildPeriodReport reads a period's program postings and sums them up. It
// fails when the movements do not explain the change of the liability
// (which would mean a broken ledger).
func BuildPeriodReport(ctx context.Context, src ProgramPostingSource, shop Shop, currency string, p Period) (PeriodReport, error) {
	a := shop.Settings.Accounting.Resolved()
	rep := PeriodReport{ShopID: shop.ID, Currency: currency, From: p.From.Format("2006-01-02"), To: p.LastDay().Format("2006-01-02"), TimeZone: p.From.Location().String()}
	rates := map[string]*PeriodRateLine{}
	rateLine := func(rate string) *PeriodRateLine {
		l, ok := rates[rate]
		if !ok {
			l = &PeriodRateLine{VATRate: rate}
			rates[rate] = l
		}
		return l
	}
	err := src.ProgramPostings(ctx, shop.ID, currency, p, func(opening, closing decimal.Decimal) error {
		rep.OpeningLiability, rep.ClosingLiability = opening, closing
		return nil
	}, func(r PostingRecord) error {
		effect, kind, ok := LiabilityEffect(r)
		if !ok {
			return nil
		}
		rep.Postings++
		for _, part := range a.TaxParts(r, effect) {
			l := rateLine(part.VATRate)
			switch kind {
			case BookGrant:
				l.Issued = l.Issued.Add(part.Amount)
			case BookAdjustment:
				l.Adjustments = l.Adjustments.Add(part.Amount)
			case BookRedemption:
				l.Redeemed = l.Redeemed.Sub(part.Amount)
			case BookExpiry:
				l.Expired = l.Expired.Sub(part.Amount)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	keys := make([]string, 0, len(rates))
	for k := range rates {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := decimal.NewFromString(keys[i])
		b, _ := decimal.NewFromString(keys[j])
		return a.GreaterThan(b)
	})
	rep.ByVATRate = []PeriodRateLine{}
	for _, k := range keys {
		l := *rates[k]
		rep.ByVATRate = append(rep.ByVATRate, l)
		rep.Issued = rep.Issued.Add(l.Issued)
		rep.Redeemed = rep.Redeemed.Add(l.Redeemed)
		rep.Expired = rep.Expired.Add(l.Expired)
		rep.Adjustments = rep.Adjustments.Add(l.Adjustments)
	}
	moved := rep.OpeningLiability.Add(rep.Issued).Sub(rep.Redeemed).Sub(rep.Expired).Add(rep.Adjustments)
	if !moved.Equal(rep.ClosingLiability) {
		return rep, Errorf(EINTERNAL, "period report does not reconcile: opening %s + movements gives %s, closing is %s", rep.OpeningLiability, moved, rep.ClosingLiability)
	}
	return rep, nil
}

// MarshalJSON writes amounts with the currency's decimals.
func (r PeriodReport) MarshalJSON() ([]byte, error) {
	f := func(d decimal.Decimal) string { return StringFixedFor(r.Currency, d) }
	type line struct {
		VATRate     string `json:"vat_rate"`
		Issued      string `json:"issued"`
		Redeemed    string `json:"redeemed"`
		Expired     string `json:"expired"`
		Adjustments string `json:"adjustments"`
	}
	lines := make([]line, 0, len(r.ByVATRate))
	for _, l := range r.ByVATRate {
		lines = append(lines, line{l.VATRate, f(l.Issued), f(l.Redeemed), f(l.Expired), f(l.Adjustments)})
	}
	return json.Marshal(struct {
		ShopID           int64  `json:"shop_id"`
		Currency         string `json:"currency"`
		From             string `json:"from"`
		To               string `json:"to"`
		TimeZone         string `json:"time_zone"`
		OpeningLiability string `json:"opening_liability"`
		Issued           string `json:"issued"`
		Redeemed         string `json:"redeemed"`
		Expired          string `json:"expired"`
		Adjustments      string `json:"adjustments"`
		ClosingLiability string `json:"closing_liability"`
		ByVATRate        []line `json:"by_vat_rate"`
		Postings         int64  `json:"postings"`
	}{r.ShopID, r.Currency, r.From, r.To, r.TimeZone, f(r.OpeningLiability), f(r.Issued), f(r.Redeemed), f(r.Expired), f(r.Adjustments),
		f(r.ClosingLiability), lines, r.Postings})
}

// WriteCSV writes the report as CSV: one line per VAT rate, then a total
// line that also carries the opening and closing liability.
func (r PeriodReport) WriteCSV(w io.Writer) error {
	f := func(d decimal.Decimal) string { return StringFixedFor(r.Currency, d) }
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"from", "to", "currency", "vat_rate", "opening_liability", "issued", "redeemed", "expired", "adjustments", "closing_liability"})
	for _, l := range r.ByVATRate {
		_ = cw.Write([]string{r.From, r.To, r.Currency, l.VATRate, "", f(l.Issued), f(l.Redeemed), f(l.Expired), f(l.Adjustments), ""})
	}
	_ = cw.Write([]string{r.From, r.To, r.Currency, "total", f(r.OpeningLiability), f(r.Issued), f(r.Redeemed), f(r.Expired), f(r.Adjustments), f(r.ClosingLiability)})
	cw.Flush()
	return cw.Error()
}
