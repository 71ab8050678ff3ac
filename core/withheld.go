package core

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Withheld is credit one earning cap kept from being booked for one
// (order line, beneficiary), for all the line's units (FrozenRate.Cuts).
// It is frozen with the
// rate (never recomputed, whatever refunds follow) and stored as earning
// metadata beside the ledger, never as a posting: ledger postings are
// real money, and a fully capped line books nothing at all.
type Withheld struct {
	OrderID     string          `json:"order_id"`
	OrderNumber string          `json:"order_number,omitempty"`
	LineID      string          `json:"line_id"`
	Beneficiary string          `json:"beneficiary"`
	Owner       Owner           `json:"owner"`
	Currency    string          `json:"currency"`
	Cap         string          `json:"cap"`    // CapArticle, CapOrder, CapCustomerYear
	Amount      decimal.Decimal `json:"amount"` // what this cap kept from being booked, at the currency's scale (> 0)
}

// WithheldCredit lists what the caps of freshly frozen rates kept from
// being booked, one entry per rate and cap that cut it.
func WithheldCredit(o Order, fresh []FrozenRate) []Withheld {
	var out []Withheld
	for _, r := range fresh {
		if r.Owner.Kind == "" {
			continue
		}
		for _, c := range r.Cuts {
			out = append(out, Withheld{OrderID: o.OrderID, OrderNumber: o.OrderNumber, LineID: r.LineID, Beneficiary: r.Beneficiary,
				Owner: r.Owner, Currency: o.Currency, Cap: c.Cap, Amount: c.Amount})
		}
	}
	return out
}

// WithheldTx, part of every OrderTx, stores withheld credit with the rates it
// was frozen with (insert-only: a rate is frozen once).
type WithheldTx interface {
	SaveWithheld(ctx context.Context, ws []Withheld) error
}

// WithheldNotice is what a statement shows of withheld credit: per order,
// beneficiary and cap, the amount not booked, dated when it was frozen.
type WithheldNotice struct {
	OrderID     string          `json:"order_id"`
	OrderNumber string          `json:"order_number,omitempty"`
	Beneficiary string          `json:"beneficiary"`
	Cap         string          `json:"cap"`
	Amount      decimal.Decimal `json:"amount"`
	CreatedAt   time.Time       `json:"created_at"`
}
