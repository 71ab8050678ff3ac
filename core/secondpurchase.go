package core

import (
	"github.com/shopspring/decimal"
)

// Second purchase within N days (issue 11): the customer's first paid
// order grants bonus credit that is theirs to use until Days after that
// order was placed. A second paid order placed in the window uses the
// offer (what is left of the credit stays theirs); otherwise what is left
// of the bonus (at most the available credit) is taken back when the
// window closes, into the program's expired bucket. Cancelling or fully
// refunding the first order while the offer is open takes the bonus back
// at once. Each step is a ledger transaction with a fixed key
// (second_purchase:<customer>:grant / :end), so replays change nothing.

// Reason kinds of the second-purchase offer.
const (
	ReasonSecondPurchase    ReasonKind = "second_purchase"     // bonus credit after the first paid order
	ReasonSecondPurchaseEnd ReasonKind = "second_purchase_end" // unused bonus taken back (window closed or first order cancelled)
)

// SecondPurchaseSettings configures the offer.
type SecondPurchaseSettings struct {
	// Days the bonus can be used after the first paid order (1..365).
	Days int `json:"days"`
	// Amount of bonus credit, in the shop's currency.
	Amount decimal.Decimal `json:"amount"`
}

// Validate checks the settings.
func (s SecondPurchaseSettings) Validate() error {
	if s.Days < 1 || s.Days > 365 {
		return Errorf(EINVALID, "second_purchase.days must be 1..365")
	}
	if !s.Amount.IsPositive() || s.Amount.Exponent() < -3 {
		return Errorf(EINVALID, "second_purchase.amount must be positive with at most 3 decimals")
	}
	return nil
}
