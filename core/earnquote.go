package core

import "github.com/shopspring/decimal"

// QuoteEarnings is the credit a buyer would earn for lines with the shop's
// rules and settings (the storefront's "you earn X with this order"): the
// rates are frozen as the earner freezes a paid order's first snapshot
// (FreezeRatesWith, the per-article and per-order caps) and rounded per
// line as booking rounds them. Yearly caps, campaigns by date and partners
// are the earner's business at payment; this is a quote, not a promise.
func QuoteEarnings(settings ShopSettings, rules RuleSet, currency string, lines []OrderLine) (decimal.Decimal, error) {
	o := Order{OrderID: "quote", Currency: currency, Paid: true, Lines: lines}
	buyer := Owner{Kind: OwnerCustomer, ID: "quote"}
	rates := FreezeRatesWith(settings, o, nil, rules, buyer, nil)
	ApplyOrderCap(settings, o, nil, rates)
	credit, err := DesiredCredit(OrderState{Order: o, Rates: rates})
	if err != nil {
		return decimal.Zero, err
	}
	sum := decimal.Zero
	for _, c := range credit {
		sum = sum.Add(c)
	}
	return sum, nil
}
