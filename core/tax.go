package core

import "github.com/shopspring/decimal"

// TaxSetup is the shop's tax setup as far as the storefront quote of
// earnings needs it ("you earn X with this order"): storefronts show
// prices with or without VAT, while booking earns on the net line total
// (or the gross with EarnOnGross) that the order's tax lines give. It
// mirrors what the merchant set up in Shopify (Settings → Taxes and
// duties: prices include tax; the standard rate and collection overrides)
// or WooCommerce (prices entered with tax; tax classes), which neither
// platform's storefront tells an app per product.
type TaxSetup struct {
	// PricesIncludeTax: storefront prices include VAT (German B2C shops).
	PricesIncludeTax bool `json:"prices_include_tax,omitempty"`
	// Rate is the standard VAT rate in percent (19 for Germany); unset:
	// no tax is taken out or added.
	Rate decimal.NullDecimal `json:"rate,omitempty"`
	// ProductRates are rates in percent for products that differ from
	// Rate (reduced rates: 7 for food and books in Germany), by product id.
	ProductRates map[string]decimal.Decimal `json:"product_rates,omitempty"`
}

// MaxProductTaxRates bounds TaxSetup.ProductRates.
const MaxProductTaxRates = 10_000

// Validate checks the setup (rates 0..100 with at most 4 decimals).
func (t TaxSetup) Validate() error {
	ok := func(r decimal.Decimal) bool {
		return !r.IsNegative() && !r.GreaterThan(decimal.NewFromInt(100)) && r.Exponent() >= -4
	}
	if t.Rate.Valid && !ok(t.Rate.Decimal) {
		return Errorf(EINVALID, "tax.rate must be a percentage 0..100 with at most 4 decimals")
	}
	if t.PricesIncludeTax && !t.Rate.Valid {
		return Errorf(EINVALID, "tax.rate is required when tax.prices_include_tax is set (the quote takes it out of the prices)")
	}
	if len(t.ProductRates) > MaxProductTaxRates {
		return Errorf(EINVALID, "tax.product_rates has at most %d products", MaxProductTaxRates)
	}
	for id, r := range t.ProductRates {
		if id == "" || len(id) > 200 || !ok(r) {
			return Errorf(EINVALID, "tax.product_rates: %q must name a product and a percentage 0..100 with at most 4 decimals", id)
		}
	}
	return nil
}

// RateFor returns the VAT rate in percent of a product (false: no rate
// is set up).
func (t TaxSetup) RateFor(productID string) (decimal.Decimal, bool) {
	if r, ok := t.ProductRates[productID]; ok && productID != "" {
		return r, true
	}
	return t.Rate.Decimal, t.Rate.Valid
}

// SplitShown splits a line total as the storefront shows it into the net
// total and the tax, as the platforms compute an order's tax lines: in a
// tax-inclusive shop the line's tax is total × rate ÷ (100 + rate),
// rounded to the currency's minor unit (half away from zero) and taken out
// (Shopify taxes_included: the line total less its tax_lines is the net);
// otherwise the total is net and the tax is total × rate ÷ 100, rounded
// (what an EarnOnGross shop earns on). Without a rate the total is net
// and there is no tax.
func (t TaxSetup) SplitShown(currency, productID string, shown decimal.Decimal) (net, tax decimal.Decimal, err error) {
	scale, err := CurrencyScale(currency)
	if err != nil {
		return decimal.Zero, decimal.Zero, err
	}
	rate, ok := t.RateFor(productID)
	if !ok || rate.IsZero() {
		return shown, decimal.Zero, nil
	}
	hundred := decimal.NewFromInt(100)
	if t.PricesIncludeTax {
		tax = shown.Mul(rate).DivRound(hundred.Add(rate), 16).Round(scale)
		return shown.Sub(tax), tax, nil
	}
	return shown, shown.Mul(rate).Div(hundred).Round(scale), nil
}
