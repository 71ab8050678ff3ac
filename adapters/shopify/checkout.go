package shopify

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// Checkout is the part of a checkouts/create or checkouts/update body the
// bridge needs to place a credit hold keyed by the checkout token (the
// paid order later carries the same value in checkout_token, which
// ParseOrder puts into Order.CartKey).
type Checkout struct {
	Token      string
	CartToken  string
	CustomerID string // empty for a guest checkout
	Email      string // normalized
	Currency   string
	// SubtotalPrice is the line total after line and order discounts,
	// excluding shipping and tax.
	SubtotalPrice  decimal.Decimal
	TotalDiscounts decimal.Decimal
	// CreditApplied is what the creditbridge discount (automatic, titled
	// with one of the shop's checkout labels) already takes off this checkout: SubtotalPrice is after
	// it, so the credit a checkout may use is capped on SubtotalPrice +
	// CreditApplied.
	CreditApplied decimal.Decimal
	Lines         []CheckoutLine
	UpdatedAt     time.Time
	CreatedAt     time.Time
}

// CheckoutLine is one line of a checkout.
type CheckoutLine struct {
	Key       string
	ProductID string
	VariantID string
	SKU       string
	Title     string
	Quantity  int64
	Price     decimal.Decimal // unit price before discounts
	LinePrice decimal.Decimal // price × quantity before discounts
	GiftCard  bool
}

type checkoutPayload struct {
	Token               jsonText         `json:"token"`
	CartToken           jsonText         `json:"cart_token"`
	Email               jsonText         `json:"email"`
	Customer            *customerPayload `json:"customer"`
	Currency            jsonText         `json:"currency"`
	PresentmentCurrency jsonText         `json:"presentment_currency"`
	SubtotalPrice       jsonDecimal      `json:"subtotal_price"`
	TotalDiscounts      jsonDecimal      `json:"total_discounts"`
	CreatedAt           jsonText         `json:"created_at"`
	UpdatedAt           jsonText         `json:"updated_at"`
	LineItems           []struct {
		Key       jsonText    `json:"key"`
		ProductID jsonID      `json:"product_id"`
		VariantID jsonID      `json:"variant_id"`
		SKU       jsonText    `json:"sku"`
		Title     jsonText    `json:"title"`
		Quantity  jsonInt     `json:"quantity"`
		Price     jsonDecimal `json:"price"`
		LinePrice jsonDecimal `json:"line_price"`
		GiftCard  bool        `json:"gift_card"`
		Allocs    []struct {
			Amount      jsonDecimal `json:"amount"`
			Description jsonText    `json:"description"`
			Type        jsonText    `json:"application_type"`
		} `json:"discount_allocations"`
	} `json:"line_items"`
}

// ParseCheckout parses a checkouts/create or checkouts/update body with
// the default options (see ParseCheckoutWith).
func ParseCheckout(body []byte) (Checkout, error) {
	return ParseCheckoutWith(body, DefaultParseOptions())
}

// ParseCheckoutWith parses a checkouts/create or checkouts/update body;
// opt.CreditDiscountTitles name creditbridge's own discount
// (CreditApplied). The token and currency are required; amounts must be
// plain decimals within the currency's scale and quantities non-negative,
// else EINVALID.
func ParseCheckoutWith(body []byte, opt ParseOptions) (Checkout, error) {
	var p checkoutPayload
	if err := decodeJSON("checkout", body, &p); err != nil {
		return Checkout{}, err
	}
	m := &money{kind: "checkout"}
	c := Checkout{Token: firstNonEmpty(string(p.Token)), CartToken: firstNonEmpty(string(p.CartToken))}
	if c.Token == "" {
		return Checkout{}, m.errorf("token is missing")
	}
	cur, err := core.NormalizeCurrency(firstNonEmpty(string(p.Currency), string(p.PresentmentCurrency)))
	if err != nil {
		return Checkout{}, m.errorf("%s", core.ErrorMessage(err))
	}
	m.currency, c.Currency = cur, cur
	if p.Customer != nil {
		c.CustomerID = string(p.Customer.ID)
	}
	var customerEmail string
	if p.Customer != nil {
		customerEmail = string(p.Customer.Email)
	}
	c.Email = core.NormalizeEmail(firstNonEmpty(string(p.Email), customerEmail))
	if c.SubtotalPrice, err = m.pick("subtotal_price", nil, p.SubtotalPrice, true); err != nil {
		return Checkout{}, err
	}
	if c.TotalDiscounts, err = m.pick("total_discounts", nil, p.TotalDiscounts, false); err != nil {
		return Checkout{}, err
	}
	if c.CreatedAt, err = parseTime("checkout", "created_at", p.CreatedAt); err != nil {
		return Checkout{}, err
	}
	if c.UpdatedAt, err = parseTime("checkout", "updated_at", p.UpdatedAt); err != nil {
		return Checkout{}, err
	}
	for _, li := range p.LineItems {
		if !li.Quantity.Set || li.Quantity.V < 0 {
			return Checkout{}, m.errorf("line quantity is missing or negative")
		}
		price, err := m.pick("line price", nil, li.Price, true)
		if err != nil {
			return Checkout{}, err
		}
		linePrice, err := m.pick("line line_price", nil, li.LinePrice, false)
		if err != nil {
			return Checkout{}, err
		}
		if !li.LinePrice.Set {
			linePrice = price.Mul(decimal.NewFromInt(li.Quantity.V))
		}
		for _, a := range li.Allocs {
			if !opt.isCreditApp(string(a.Type), string(a.Description)) {
				continue
			}
			amt, err := m.pick("line discount allocation", nil, a.Amount, true)
			if err != nil {
				return Checkout{}, err
			}
			c.CreditApplied = c.CreditApplied.Add(amt)
		}
		c.Lines = append(c.Lines, CheckoutLine{
			Key:       string(li.Key),
			ProductID: string(li.ProductID),
			VariantID: string(li.VariantID),
			SKU:       string(li.SKU),
			Title:     string(li.Title),
			Quantity:  li.Quantity.V,
			Price:     price,
			LinePrice: linePrice,
			GiftCard:  li.GiftCard,
		})
	}
	return c, nil
}
