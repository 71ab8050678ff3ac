package core

import (
	"time"

	"github.com/shopspring/decimal"
)

// QuoteEarnings is the credit a buyer would earn for lines with the shop's
// rules and settings (the storefront's "you earn X with this order"); each
// line's NetTotal and Tax are split from the price shown as the order's
// tax lines will split it (TaxSetup.SplitShown, see QuoteLine). The
// rates are frozen as the earner freezes a paid order's first snapshot
// (FreezeRatesWith, the per-article and per-order caps) and rounded per
// line as booking rounds them. Campaigns apply as for an order placed at
// placed (their window in the shop's time zone). Yearly caps, the buyer's
// tier and partners are the earner's business at payment (the quote is
// anonymous and cached); this is a quote, not a promise.
func QuoteEarnings(settings ShopSettings, rules RuleSet, currency string, lines []OrderLine, placed time.Time) (decimal.Decimal, error) {
	o := Order{OrderID: "quote", Currency: currency, Paid: true, Lines: lines, CreatedAt: placed}
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

// QuoteLine is an order line for QuoteEarnings from the unit price a
// storefront shows (with or without VAT, as the shop's tax setup says):
// the line total shown is split into net and tax as booking will see them.
func QuoteLine(settings ShopSettings, currency, productID, variantID, sku string, quantity int64, shownUnitPrice decimal.Decimal) (OrderLine, error) {
	return QuoteLineTotal(settings, currency, productID, variantID, sku, quantity, shownUnitPrice.Mul(decimal.NewFromInt(quantity)))
}

// QuoteLineTotal is QuoteLine for a line total shown (after discounts on
// the whole cart, which booking allocates to the lines).
func QuoteLineTotal(settings ShopSettings, currency, productID, variantID, sku string, quantity int64, shownTotal decimal.Decimal) (OrderLine, error) {
	net, tax, err := settings.Tax.SplitShown(currency, productID, shownTotal)
	if err != nil {
		return OrderLine{}, err
	}
	return OrderLine{ProductID: productID, VariantID: variantID, SKU: sku, Quantity: quantity, NetTotal: net, Tax: tax}, nil
}
