package core

import (
	"time"

	"github.com/shopspring/decimal"
)

// ReasonExpire: credit expired into the program's expired bucket.
const ReasonExpire ReasonKind = "expire"

// Expiry (issue 11). Credit is spent oldest first (FIFO): every inflow of
// spendable credit (available + held) is a lot, dated when it became
// spendable (an earning booked to available, a maturation of pending
// credit, an activity reward, a returned voucher, a positive
// adjustment), and every outflow (credit used, reversed, turned into a
// voucher, expired) consumes the oldest lots first. Because the
// spendable balance never goes below zero, the outflows so far consumed
// exactly the oldest lots up to their sum, so what is left of the lots
// dated before a cutoff is
//
//	max(0, inflows dated before the cutoff − all outflows so far)
//
// That amount (at most what is available now; held credit waits for its
// checkout) expires. An expiry is itself an outflow, so running it again
// finds nothing more: the computation is idempotent without any lot table.

// ExpiryCutoff returns the instant before which credit has expired at now
// for the shop's settings (zero when credit never expires). lastOrder is
// the owner's last order or, for an owner who never ordered, when they
// first received credit: in inactivity mode everything expires once
// ExpiryMonths passed since then, and nothing before.
func (p ProgramSettings) ExpiryCutoff(now, lastOrder time.Time) time.Time {
	if p.ExpiryMonths <= 0 {
		return time.Time{}
	}
	limit := now.AddDate(0, -p.ExpiryMonths, 0)
	if p.ExpiryMode == ExpiryInactivity {
		if !lastOrder.IsZero() && lastOrder.After(limit) {
			return time.Time{}
		}
		return now.Add(time.Nanosecond) // everything spendable so far
	}
	return limit
}

// Lot is credit that became spendable at At.
type Lot struct {
	At     time.Time
	Amount decimal.Decimal
}

// RemainingLots returns what is left of lots (oldest first) after
// outflows consumed the oldest first.
func RemainingLots(lots []Lot, outflows decimal.Decimal) []Lot {
	var out []Lot
	used := outflows
	for _, l := range lots {
		if !l.Amount.IsPositive() {
			continue
		}
		take := decimal.Min(used, l.Amount)
		if take.IsPositive() {
			used = used.Sub(take)
		} else {
			take = decimal.Zero
		}
		if left := l.Amount.Sub(take); left.IsPositive() {
			out = append(out, Lot{At: l.At, Amount: left})
		}
	}
	return out
}

// Expiring returns how much of the remaining lots (RemainingLots) is
// dated before cutoff, at most available (held credit waits for its
// checkout). A zero cutoff expires nothing.
func Expiring(remaining []Lot, available decimal.Decimal, cutoff time.Time) decimal.Decimal {
	if cutoff.IsZero() {
		return decimal.Zero
	}
	sum := decimal.Zero
	for _, l := range remaining {
		if l.At.Before(cutoff) {
			sum = sum.Add(l.Amount)
		}
	}
	if !sum.IsPositive() || !available.IsPositive() {
		return decimal.Zero
	}
	return decimal.Min(sum, available)
}

// ExpiryOf returns when a lot dated at expires under the lot mode (zero
// when credit never expires or the mode is inactivity).
func (p ProgramSettings) ExpiryOf(at time.Time) time.Time {
	if p.ExpiryMonths <= 0 || p.ExpiryMode == ExpiryInactivity {
		return time.Time{}
	}
	return at.AddDate(0, p.ExpiryMonths, 0)
}
