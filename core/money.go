package core

import (
	"math/big"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// minorUnits lists ISO 4217 currencies and their number of minor-unit
// digits. Amounts in a currency may carry at most that many decimals.
var minorUnits = map[string]int32{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2,
	"BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2,
	"COP": 2, "CRC": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ETB": 2,
	"EUR": 2, "FJD": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "HKD": 2, "HNL": 2,
	"HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2,
	"KGS": 2, "KHR": 2, "KMF": 0, "KRW": 0, "KWD": 3, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LYD": 3,
	"MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MNT": 2, "MOP": 2, "MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2,
	"MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2,
	"PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RWF": 0,
	"SAR": 2, "SCR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2,
	"UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2, "VND": 0, "VUV": 0, "XAF": 0, "XCD": 2, "XOF": 0,
	"XPF": 0, "ZAR": 2, "ZMW": 2,
}

// NormalizeCurrency upper-cases and validates an ISO 4217 code.
func NormalizeCurrency(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if _, ok := minorUnits[c]; !ok {
		return "", Errorf(EINVALID, "unknown currency %q", code)
	}
	return c, nil
}

// CurrencyScale returns the minor-unit digits of a currency.
func CurrencyScale(currency string) (int32, error) {
	s, ok := minorUnits[currency]
	if !ok {
		return 0, Errorf(EINVALID, "unknown currency %q", currency)
	}
	return s, nil
}

// CheckScale fails when amount has more decimals than the currency allows.
// It never rounds.
func CheckScale(currency string, amount decimal.Decimal) error {
	s, err := CurrencyScale(currency)
	if err != nil {
		return err
	}
	if !amount.Equal(amount.Truncate(s)) {
		return Errorf(EINVALID, "amount %s has more than %d decimals allowed for %s", amount.String(), s, currency)
	}
	return nil
}

// ParseAmount parses a decimal string and checks it against the currency's
// scale.
func ParseAmount(currency, s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if !plainDecimal.MatchString(s) {
		return decimal.Zero, Errorf(EINVALID, "amount %q is not a plain decimal number like 12.50", truncate(s, 40))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, Errorf(EINVALID, "amount %q is not a decimal number", s)
	}
	if err := CheckScale(currency, d); err != nil {
		return decimal.Zero, err
	}
	return d, nil
}

// RoundCredit rounds a computed credit amount to the currency's minor unit.
// Credit computed from percentages is rounded half away from zero
// (commercial rounding), the convention merchants expect on receipts. The
// rounding happens once per (order line, beneficiary), never per unit, so a
// refund of n units reverses exactly the amount earned for n units.
func RoundCredit(currency string, amount decimal.Decimal) (decimal.Decimal, error) {
	s, err := CurrencyScale(currency)
	if err != nil {
		return decimal.Zero, err
	}
	return amount.Round(s), nil
}

// RoundingMode is how credit is rounded to the currency's minor unit.
type RoundingMode string

// Rounding modes. The empty mode is half away from zero.
const (
	// RoundHalfAwayFromZero is commercial rounding (0.005 -> 0.01,
	// -0.005 -> -0.01), the convention merchants expect on receipts.
	RoundHalfAwayFromZero RoundingMode = "half_away_from_zero"
	// RoundHalfEven is banker's rounding (0.005 -> 0.00, 0.015 -> 0.02),
	// for merchants whose accounting requires it.
	RoundHalfEven RoundingMode = "half_even"
)

// Valid reports whether m is a known mode (empty means the default).
func (m RoundingMode) Valid() bool {
	return m == "" || m == RoundHalfAwayFromZero || m == RoundHalfEven
}

// RoundRatio returns x × num / den rounded once to scale decimals with
// mode, computed exactly: the product is formed first and the division's
// remainder decides the rounding, so no intermediate value is cut short
// (4.678333… × 3 is 14.035, not 14.034999…). den must be positive.
func RoundRatio(x decimal.Decimal, num, den int64, scale int32, mode RoundingMode) decimal.Decimal {
	if den <= 0 {
		panic("core: RoundRatio with a non-positive denominator")
	}
	n := new(big.Int).Mul(x.Coefficient(), big.NewInt(num))
	d := big.NewInt(den)
	// x = coefficient × 10^exp; the result in minor units is
	// n × 10^(exp+scale) / den.
	if e := int64(x.Exponent()) + int64(scale); e >= 0 {
		n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(e), nil))
	} else {
		d.Mul(d, new(big.Int).Exp(big.NewInt(10), big.NewInt(-e), nil))
	}
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	if r.Sign() != 0 {
		twice := new(big.Int).Abs(r)
		twice.Lsh(twice, 1)
		c := twice.Cmp(d)
		up := c > 0 || (c == 0 && (mode != RoundHalfEven || q.Bit(0) == 1))
		if up {
			q.Add(q, big.NewInt(int64(n.Sign())))
		}
	}
	return decimal.NewFromBigInt(q, -scale)
}

// StringFixedFor formats an amount with exactly the currency's decimals.
func StringFixedFor(currency string, amount decimal.Decimal) string {
	s, ok := minorUnits[currency]
	if !ok {
		return amount.String()
	}
	return amount.StringFixed(s)
}

// plainDecimal accepts "12", "-3.5", "0.001": no exponents (which could make
// later arithmetic unbounded), no signs other than a leading minus.
var plainDecimal = regexp.MustCompile(`^-?[0-9]{1,20}(\.[0-9]{1,20})?$`)

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
