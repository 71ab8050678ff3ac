package shopify_test

import (
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

// taxOrder is a one-line order: 2 × 11.90 with 1.90 of discounts and
// 1.60 of tax on the discounted line.
func taxOrder(taxesIncluded, tax string) []byte {
	return []byte(`{"id": 1, "currency": "EUR", "financial_status": "paid", "updated_at": "2026-11-01T10:00:00Z", "taxes_included": ` + taxesIncluded + `,
 "line_items": [{"id": 10, "quantity": 2, "price": "11.90", "price_set": {"shop_money": {"amount": "11.90", "currency_code": "EUR"}},
   "discount_allocations": [{"amount": "1.90", "amount_set": {"shop_money": {"amount": "1.90", "currency_code": "EUR"}}, "discount_application_index": 0}],
   "tax_lines": [{"price": "` + tax + `", "price_set": {"shop_money": {"amount": "` + tax + `", "currency_code": "EUR"}}, "rate": 0.08, "title": "VAT"}]}]}`)
}

// With taxes_included the line price contains the VAT: the net line total
// is price × quantity − discounts − tax lines. Without it the price is net
// and the tax lines come on top.
func TestParseOrderTaxesIncluded(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		included, net, gross string
	}{{"true", "20.30", "21.90"}, {"false", "21.90", "23.50"}} {
		o, err := shopify.ParseOrder(taxOrder(c.included, "1.60"), shopify.DefaultParseOptions())
		if err != nil {
			t.Fatal(err)
		}
		wantDecimal(t, "taxes_included "+c.included+" net", o.Lines[0].NetTotal, c.net)
		wantDecimal(t, "taxes_included "+c.included+" tax", o.Lines[0].Tax, "1.60")
		wantDecimal(t, "gross base", o.Lines[0].EarningBase(core.EarnOnGross), c.gross)
	}
	_, err := shopify.ParseOrder(taxOrder("true", "30.00"), shopify.DefaultParseOptions())
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "tax lines exceed") {
		t.Fatalf("tax above the line price: %v", err)
	}
	_, err = shopify.ParseOrder(taxOrder("true", "1.605"), shopify.DefaultParseOptions())
	if core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("tax with 3 decimals: %v", err)
	}
}

// Credit applied through the discount Function in a tax-inclusive shop is
// split into net and VAT from the rates of the lines it is allocated to
// (Shopify reports no tax per discount): 11.90 on a 19 % line holds 1.90
// VAT, 2.14 on a 7 % line 0.14.
func TestParseOrderCreditTaxSplit(t *testing.T) {
	t.Parallel()
	line := func(id, price, alloc, tax, rate string) string {
		return `{"id": ` + id + `, "quantity": 1, "price": "` + price + `",
   "discount_allocations": [{"amount": "` + alloc + `", "discount_application_index": 0}],
   "tax_lines": [{"price": "` + tax + `", "rate": ` + rate + `, "title": "MwSt"}]}`
	}
	body := func(included string) []byte {
		return []byte(`{"id": 2, "currency": "EUR", "financial_status": "paid", "updated_at": "2026-11-01T10:00:00Z", "taxes_included": ` + included + `,
 "discount_applications": [{"type": "automatic", "title": "Store credit", "value_type": "fixed_amount", "allocation_method": "across"}],
 "line_items": [` + line("1", "119.00", "11.90", "17.10", "0.19") + `, ` + line("2", "21.40", "2.14", "1.26", "0.07") + `]}`)
	}
	o, err := shopify.ParseOrder(body("true"), shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Redemptions) != 1 {
		t.Fatalf("redemptions %+v", o.Redemptions)
	}
	r := o.Redemptions[0]
	wantDecimal(t, "credit", r.Amount, "14.04")
	wantDecimal(t, "credit net", r.Net.Decimal, "12.00")
	wantDecimal(t, "credit tax", r.Tax.Decimal, "2.04")
	if r.TaxSource != core.TaxComputed || r.PricesIncludeTax == nil || !*r.PricesIncludeTax {
		t.Fatalf("redemption %+v", r)
	}
	// Prices excluding tax: the credit took its amount off the net price.
	o, err = shopify.ParseOrder(body("false"), shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	r = o.Redemptions[0]
	wantDecimal(t, "net-price credit", r.Net.Decimal, "14.04")
	wantDecimal(t, "net-price credit tax", r.Tax.Decimal, "0")
	// A tax line without a rate leaves the split unknown.
	o, err = shopify.ParseOrder([]byte(strings.Replace(string(body("true")), `"rate": 0.07, `, "", 1)), shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r = o.Redemptions[0]; r.Net.Valid || r.TaxSource != "" {
		t.Fatalf("split without a rate: %+v", r)
	}
}
