package core

import (
	"errors"
	"strings"

	"github.com/shopspring/decimal"
)

// Sanity bounds for what a platform reports. A payload beyond them is
// refused (the event becomes a dead letter with the reason), never booked:
// no real order has a million units of one line or a line worth more than
// 10^12 of its currency, and refund quantities beyond what was ordered
// would otherwise reverse into negative quantities.
const (
	MaxLineQuantity = 1_000_000
	maxAmountExp    = 12
)

// MaxAmount is the largest order, line, refund or redemption amount
// accepted, in the currency's units.
var MaxAmount = decimal.New(1, maxAmountExp)

// HasNUL reports whether s contains a NUL character, which PostgreSQL
// cannot store in text or jsonb (SQLSTATE 22021 / 22P05).
func HasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

func checkAmount(what string, d decimal.Decimal) error {
	if d.IsNegative() {
		return Errorf(EINVALID, "%s %s is negative", what, d)
	}
	if d.GreaterThan(MaxAmount) {
		return Errorf(EINVALID, "%s %s is beyond the sane bound %s", what, d, MaxAmount)
	}
	return nil
}

func checkText(what, s string) error {
	if HasNUL(s) {
		return Errorf(EINVALID, "%s contains a NUL character", what)
	}
	return nil
}

// Check refuses snapshots no platform sends: NUL characters in text,
// duplicate line ids, quantities or amounts beyond the sanity bounds.
func (o Order) Check() error {
	for what, s := range map[string]string{"order id": o.OrderID, "order number": o.OrderNumber, "status": o.Status,
		"customer id": o.Customer.PlatformID, "e-mail": o.Customer.Email, "partner reference": o.PartnerRef, "cart key": o.CartKey} {
		if err := checkText("order "+safeID(o.OrderID)+": "+what, s); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(o.Lines))
	for _, l := range o.Lines {
		p := "order " + safeID(o.OrderID) + ": line " + safeID(l.LineID)
		if seen[l.LineID] {
			return Errorf(EINVALID, "%s appears twice", p)
		}
		seen[l.LineID] = true
		for what, s := range map[string]string{"id": l.LineID, "product id": l.ProductID, "variant id": l.VariantID, "SKU": l.SKU, "title": l.Title} {
			if err := checkText(p+": "+what, s); err != nil {
				return err
			}
		}
		if l.Quantity < 0 || l.Quantity > MaxLineQuantity {
			return Errorf(EINVALID, "%s: quantity %d is outside 0..%d", p, l.Quantity, MaxLineQuantity)
		}
		if err := checkAmount(p+": total", l.NetTotal); err != nil {
			return err
		}
	}
	for _, r := range o.Refunds {
		if err := r.Check(); err != nil {
			return Errorf(EINVALID, "order %s: %s", safeID(o.OrderID), ErrorMessage(err))
		}
	}
	for _, rd := range o.Redemptions {
		p := "order " + safeID(o.OrderID) + ": redemption"
		if err := checkText(p+" code", rd.Code); err != nil {
			return err
		}
		if err := checkText(p+" hold id", rd.HoldID); err != nil {
			return err
		}
		if err := checkAmount(p+" amount", rd.Amount); err != nil {
			return err
		}
	}
	return nil
}

// Check refuses a refund with NUL characters, a line refunded twice in it,
// or quantities and amounts beyond the sanity bounds.
func (r Refund) Check() error {
	p := "refund " + safeID(r.RefundID)
	if err := checkText(p+" id", r.RefundID); err != nil {
		return err
	}
	if err := checkAmount(p+" amount", r.Amount); err != nil {
		return err
	}
	seen := make(map[string]bool, len(r.Lines))
	for _, l := range r.Lines {
		if err := checkText(p+" line id", l.LineID); err != nil {
			return err
		}
		if seen[l.LineID] {
			return Errorf(EINVALID, "%s: line %s appears twice", p, safeID(l.LineID))
		}
		seen[l.LineID] = true
		if l.Quantity < 0 || l.Quantity > MaxLineQuantity {
			return Errorf(EINVALID, "%s: line %s: quantity %d is outside 0..%d", p, safeID(l.LineID), l.Quantity, MaxLineQuantity)
		}
		if err := checkAmount(p+": line "+safeID(l.LineID)+" amount", l.Amount); err != nil {
			return err
		}
	}
	return nil
}

// checkRefundedQuantities refuses a state whose refunds, together, return
// more units of a line than the order has.
func (s OrderState) checkRefundedQuantities() error {
	if s.Order.OrderID == "" {
		return nil
	}
	ordered := make(map[string]int64, len(s.Order.Lines))
	for _, l := range s.Order.Lines {
		ordered[l.LineID] = l.Quantity
	}
	for id, n := range s.RefundedQuantities() {
		if q, ok := ordered[id]; ok && n > q {
			return Errorf(EINVALID, "order %s: refunds return %d unit(s) of line %s, which has %d", safeID(s.Order.OrderID), n, safeID(id), q)
		}
	}
	return nil
}

// safeID shortens an id for an error message and drops NUL characters.
func safeID(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// sqlStater is implemented by database driver errors (pgconn.PgError).
type sqlStater interface{ SQLState() string }

// isDataException reports whether err is a database "data exception"
// (SQLSTATE class 22: a NUL in text, a bad encoding, a number out of
// range). Such an error is caused by the input and fails the same way on
// every retry.
func isDataException(err error) bool {
	var s sqlStater
	return errors.As(err, &s) && strings.HasPrefix(s.SQLState(), "22")
}
