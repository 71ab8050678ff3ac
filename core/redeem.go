package core

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// QuoteRequest asks how much credit a cart can use now.
type QuoteRequest struct {
	Owner    Owner
	Currency string
	Subtotal decimal.Decimal // cart subtotal after other discounts
	CartKey  string
}

// Quote is the credit applied to a cart, reserved by a hold.
type Quote struct {
	Amount    decimal.Decimal `json:"amount"`
	Available decimal.Decimal `json:"available"` // spendable credit including this cart's hold
	Currency  string          `json:"currency"`
	Hold      *Hold           `json:"hold,omitempty"`
	Placed    bool            `json:"-"` // a new hold was placed
	Released  bool            `json:"-"` // the cart's previous hold was voided
}

// Redeemer applies credit at checkout and settles it when the order
// arrives.
type Redeemer struct {
	Ledger Ledger
	Now    func() time.Time
	Notify BalanceNotifier // optional: told after a hold changes a balance
	// Tiers, when set, gives customers in a tier their tier's checkout
	// caps (Tier.MaxPercent, Tier.MaxAmount).
	Tiers TierReader
}

// capSettings returns the checkout caps that apply to owner: the shop's,
// or their tier's perks.
func (r *Redeemer) capSettings(ctx context.Context, shop Shop, owner Owner) (ShopSettings, error) {
	s := shop.Settings
	if r.Tiers == nil || !s.TiersEnabled() || owner.Kind != OwnerCustomer {
		return s, nil
	}
	st, err := CustomerTier(ctx, r.Tiers, shop, owner, r.now())
	if err != nil {
		return s, err
	}
	return s.WithTierPerks(st.Tier), nil
}

// CapCredit returns the credit a cart may use: the least of available, the
// subtotal and the shop's caps (max percent rounded down to the currency's
// minor unit, max amount), zero below the minimum order value or while
// the spendable balance is below the shop's minimum redeem balance.
func CapCredit(s ShopSettings, currency string, available, subtotal decimal.Decimal) (decimal.Decimal, error) {
	scale, err := CurrencyScale(currency)
	if err != nil {
		return decimal.Zero, err
	}
	if !subtotal.IsPositive() || !available.IsPositive() {
		return decimal.Zero, nil
	}
	if s.MinOrder.Valid && subtotal.LessThan(s.MinOrder.Decimal) || s.BelowRedeemMinimum(available) {
		return decimal.Zero, nil
	}
	amt := decimal.Min(available, subtotal)
	if s.MaxPercent.Valid {
		amt = decimal.Min(amt, subtotal.Mul(s.MaxPercent.Decimal).Div(decimal.NewFromInt(100)).RoundDown(scale))
	}
	if s.MaxAmount.Valid {
		amt = decimal.Min(amt, s.MaxAmount.Decimal)
	}
	amt = amt.RoundDown(scale)
	if amt.IsNegative() {
		return decimal.Zero, nil
	}
	return amt, nil
}

// Quote computes the applicable credit and places (or reuses) the cart's
// hold. A zero quote releases the cart's hold.
func (r *Redeemer) Quote(ctx context.Context, shop Shop, q QuoteRequest) (Quote, error) {
	if err := q.Owner.Validate(); err != nil {
		return Quote{}, err
	}
	if q.CartKey == "" {
		return Quote{}, Errorf(EINVALID, "quote needs a cart key")
	}
	cur, err := NormalizeCurrency(q.Currency)
	if err != nil {
		return Quote{}, err
	}
	caps, err := r.capSettings(ctx, shop, q.Owner)
	if err != nil {
		return Quote{}, err
	}
	res, err := r.Holds().Reserve(ctx, shop, HoldRequest{Currency: cur, Owner: q.Owner, CartKey: q.CartKey,
		ExpiresAt: r.now().Add(shop.Settings.HoldTTL())},
		func(spendable decimal.Decimal) (decimal.Decimal, error) {
			return CapCredit(caps, cur, spendable, q.Subtotal)
		})
	if err != nil {
		return Quote{}, err
	}
	out := Quote{Amount: decimal.Zero, Available: res.Spendable, Currency: cur, Hold: res.Hold, Placed: res.Placed, Released: res.Released}
	if res.Hold != nil {
		out.Amount = res.Hold.Amount
	}
	return out, nil
}

// Holds is the hold service on the Redeemer's ledger, telling Notify of
// the balances it changes.
func (r *Redeemer) Holds() *Holds {
	return &Holds{Store: r.Ledger, Notify: r.Notify}
}

func (r *Redeemer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// settleOrder executes PlanSettlement in the order's transaction: it
// records the redemptions' tax split, reads the order's hold and vouchers
// (locked) and, on demand, balances, then resolves the hold, posts the
// redemption and settles and converges the vouchers.
func (r *Redeemer) settleOrder(ctx context.Context, tx OrderTx, shop Shop, st OrderState, posted []Transaction) ([]Transaction, error) {
	o := st.Order
	if err := tx.SaveRedemptions(ctx, o.Currency, o.Redemptions); err != nil {
		return nil, err
	}
	in := SettlementInput{ShopID: shop.ID, Settings: shop.Settings, State: st, Buyer: st.buyer, Posted: posted}
	_, holdID := DiscountCredit(o)
	h, found, err := tx.FindHold(ctx, holdID, o.CartKey)
	if err != nil {
		return nil, err
	}
	if found {
		in.Hold = &h
	}
	if SettlesVouchers(o) {
		for _, rd := range o.Redemptions {
			if rd.Kind != RedemptionVoucher {
				continue
			}
			v, found, err := tx.VoucherByCode(ctx, rd.Code)
			if err != nil {
				return nil, err
			}
			if found {
				in.Vouchers = append(in.Vouchers, v)
			}
		}
	}
	var ferr error
	in.Funds = func(currency string, owner Owner) Balance {
		b, err := tx.Funds(ctx, currency, owner)
		if err != nil && ferr == nil {
			ferr = err
		}
		return b
	}
	plan, err := PlanSettlement(in)
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	if plan.Hold != nil {
		if h, err = tx.ResolveHold(ctx, plan.Hold.Hold, plan.Hold.Amount, plan.Hold.Reason, plan.Hold.Status); err != nil {
			return nil, err
		}
	}
	var out []Transaction
	if t := plan.Redemption; t != nil {
		if plan.ReversesCapture {
			t.Reverses = h.ResolveTxID
		}
		p, err := tx.Post(ctx, *t)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	for _, a := range plan.Vouchers {
		if a.Settle {
			if err := tx.SettleVoucher(ctx, a.Voucher, o.OrderID); err != nil {
				return nil, err
			}
		}
		if a.Return == nil {
			continue
		}
		p, err := tx.Post(ctx, *a.Return)
		if err != nil {
			return nil, err
		}
		if !p.Replayed {
			out = append(out, p)
		}
	}
	return out, nil
}

// GiveBackShare is the share (0..1) of the credit an order used that goes
// back to the customer: all of it once the order is cancelled; for a
// refunded order, unless the shop keeps spent credit on refunds
// (KeepCreditOnRefund), all of it when the platform reports the order
// fully refunded, else the refunded share of the order's goods: the net
// value of the refunded units over the net value of all lines. A full
// refund by lines gives exactly 1, so it gives back exactly what was spent.
func GiveBackShare(s ShopSettings, st OrderState) (decimal.Decimal, error) {
	o := st.Order
	switch {
	case o.Cancelled:
		return decimal.NewFromInt(1), nil
	case s.KeepCreditOnRefund || !o.Paid:
		return decimal.Zero, nil
	case o.FullyRefunded:
		return decimal.NewFromInt(1), nil
	}
	refunded := st.RefundedQuantities()
	total, back := decimal.Zero, decimal.Zero
	for _, l := range o.Lines {
		if l.Quantity <= 0 || !l.NetTotal.IsPositive() {
			continue
		}
		total = total.Add(l.NetTotal)
		switch n := min(refunded[l.LineID], l.Quantity); {
		case n == l.Quantity:
			back = back.Add(l.NetTotal)
		case n > 0:
			back = back.Add(l.NetTotal.Mul(decimal.NewFromInt(n)).DivRound(decimal.NewFromInt(l.Quantity), 12))
		}
	}
	if !total.IsPositive() || !back.IsPositive() {
		return decimal.Zero, nil
	}
	if back.Equal(total) {
		return decimal.NewFromInt(1), nil
	}
	return back.DivRound(total, 12), nil
}

// shareOf is amount × share rounded to the currency (half away from
// zero); a share of 1 is exactly amount.
func shareOf(currency string, amount, share decimal.Decimal) (decimal.Decimal, error) {
	switch {
	case share.IsZero():
		return decimal.Zero, nil
	case share.Equal(decimal.NewFromInt(1)):
		return amount, nil
	}
	return RoundCredit(currency, amount.Mul(share))
}
