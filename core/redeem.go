package core

import (
	"context"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// HoldTx is what settling an order's redemption needs from the order's
// database transaction (so hold changes commit atomically with it).
type HoldTx interface {
	// FindHold returns the hold with id holdID, or else the open hold of
	// cartKey, locked; ok=false when there is none.
	FindHold(ctx context.Context, holdID int64, cartKey string) (h Hold, ok bool, err error)
	ResolveHold(ctx context.Context, h Hold, amount decimal.Decimal, reason Reason, status HoldStatus) (Hold, error)
}

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
	res, err := r.Ledger.Reserve(ctx, HoldRequest{ShopID: shop.ID, Currency: cur, Owner: q.Owner, CartKey: q.CartKey,
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
	if r.Notify != nil && (res.Placed || res.Released) {
		r.Notify(ctx, shop, []Owner{q.Owner})
	}
	return out, nil
}

func (r *Redeemer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// settleOrder converges the credit an order used: the paid order captures
// its hold by the amount actually applied (releasing the rest) and debits
// any excess without a hold (a shortfall becomes a recorded overdraft); a
// cancelled order voids its hold and gives captured credit back; a paid
// order that did not use its cart's hold voids it.
func (r *Redeemer) settleOrder(ctx context.Context, tx OrderTx, shop Shop, st OrderState, posted []Transaction) ([]Transaction, error) {
	o := st.Order
	if rt, ok := tx.(RedemptionTx); ok {
		if err := rt.SaveRedemptions(ctx, o.Currency, o.Redemptions); err != nil {
			return nil, err
		}
	}
	ht, ok := tx.(HoldTx)
	if !ok {
		return nil, nil
	}
	used := decimal.Zero
	var holdID int64
	for _, rd := range o.Redemptions {
		if rd.Kind != RedemptionDiscount {
			continue
		}
		used = used.Add(rd.Amount)
		if id, err := strconv.ParseInt(rd.HoldID, 10, 64); err == nil && holdID == 0 {
			holdID = id
		}
	}
	var out []Transaction
	h, found, err := ht.FindHold(ctx, holdID, o.CartKey)
	if err != nil {
		return nil, err
	}
	reason := Reason{OrderID: o.OrderID, OrderNumber: o.OrderNumber}
	active := o.Paid && !o.Cancelled
	captured := decimal.Zero
	switch {
	case found && h.Status == HoldOpen && active && used.IsPositive():
		capAmt := decimal.Min(used, h.Amount)
		if h, err = ht.ResolveHold(ctx, h, capAmt, reason, HoldCaptured); err != nil {
			return nil, err
		}
		captured = h.Captured
	case found && h.Status == HoldOpen && (o.Cancelled || (active && used.IsZero())):
		note := "order did not use the credit"
		if o.Cancelled {
			note = "order cancelled"
		}
		rs := reason
		rs.Note = note
		if _, err = ht.ResolveHold(ctx, h, decimal.Zero, rs, HoldVoided); err != nil {
			return nil, err
		}
	case found && h.Status == HoldCaptured && h.OrderID == o.OrderID:
		captured = h.Captured
	}
	owner := st.buyer
	if found && (h.Status == HoldOpen || h.OrderID == o.OrderID || owner.Kind == "") {
		owner = h.Owner
	}
	// Converge the credit the order used beyond its captured hold: what
	// it should have consumed (all of it while paid, nothing once
	// cancelled) minus what redeem transactions already took. A
	// cancellation gives it back, a restore takes it again.
	share, err := GiveBackShare(shop.Settings, st)
	if err != nil {
		return nil, err
	}
	if owner.Kind != "" {
		desired := decimal.Zero
		if active {
			// What the order keeps consuming: all it used, less the share
			// a refund gives back. The captured hold is part of it; a
			// give-back beyond the rest comes out of the capture.
			back, err := shareOf(o.Currency, used, share)
			if err != nil {
				return nil, err
			}
			desired = used.Sub(back).Sub(captured)
			if back.IsZero() && desired.IsNegative() {
				desired = decimal.Zero
			}
		}
		if o.Cancelled {
			// a captured hold is given back through the same mechanism
			desired = captured.Neg()
		}
		net, n, lastRedeem := decimal.Zero, 0, int64(0)
		for _, t := range posted {
			if t.Reason.OrderID != o.OrderID || t.Reason.VoucherID != "" || (t.Reason.Kind != ReasonRedeem && t.Reason.Kind != ReasonRedeemReversal) {
				continue
			}
			n++
			for _, p := range t.Postings {
				if p.Owner.Kind == OwnerProgram && p.Bucket == ProgramRedeemed {
					net = net.Add(p.Amount)
				}
			}
			if t.Reason.Kind == ReasonRedeem {
				lastRedeem = t.ID
			}
		}
		if !o.Paid && !o.Cancelled {
			desired = net // an unpaid snapshot neither takes nor gives back
		}
		switch diff := desired.Sub(net); {
		case diff.IsPositive():
			b, err := tx.Funds(ctx, o.Currency, owner)
			if err != nil {
				return nil, err
			}
			take := decimal.Min(diff, decimal.Max(b.Available, decimal.Zero))
			t := Transaction{ShopID: shop.ID, Key: "order:" + o.OrderID + ":redeem:v" + strconv.Itoa(n+1), Reason: Reason{Kind: ReasonRedeem, OrderID: o.OrderID, OrderNumber: o.OrderNumber,
				Note: "credit used without a matching hold"},
				Postings: []Posting{{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: diff}}}
			if take.IsPositive() {
				t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketAvailable, Amount: take.Neg()})
			}
			if short := diff.Sub(take); short.IsPositive() {
				t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketOverdraft, Amount: short.Neg()})
			}
			p, err := tx.Post(ctx, t)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		case diff.IsNegative():
			rev := lastRedeem
			if rev == 0 && found && h.OrderID == o.OrderID {
				rev = h.ResolveTxID
			}
			// Returned credit first pays back an overdraft (which may stem
			// from this very order), the rest becomes available again.
			b, err := tx.Funds(ctx, o.Currency, owner)
			if err != nil {
				return nil, err
			}
			back := diff.Neg()
			repay := decimal.Min(back, decimal.Max(b.Overdraft.Neg(), decimal.Zero))
			note := "order cancelled: credit returned"
			if !o.Cancelled {
				note = "order refunded: credit returned"
			}
			t := Transaction{ShopID: shop.ID, Key: "order:" + o.OrderID + ":redeem:v" + strconv.Itoa(n+1), Reverses: rev,
				Reason:   Reason{Kind: ReasonRedeemReversal, OrderID: o.OrderID, OrderNumber: o.OrderNumber, Note: note},
				Postings: []Posting{{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: diff}}}
			if repay.IsPositive() {
				t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketOverdraft, Amount: repay})
			}
			if rest := back.Sub(repay); rest.IsPositive() {
				t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketAvailable, Amount: rest})
			}
			p, err := tx.Post(ctx, t)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	if vt, ok := tx.(VoucherTx); ok && (active || o.Cancelled) {
		for _, rd := range o.Redemptions {
			if rd.Kind != RedemptionVoucher {
				continue
			}
			v, found, err := vt.VoucherByCode(ctx, rd.Code)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
			if active && (v.Status == VoucherIssued || v.Status == VoucherPending) {
				if err := vt.SettleVoucher(ctx, v, o.OrderID); err != nil {
					return nil, err
				}
				v.Status, v.OrderID = VoucherUsed, o.OrderID
			}
			if v.Status != VoucherUsed || v.OrderID != o.OrderID {
				continue
			}
			p, err := r.convergeVoucher(ctx, tx, shop, o, v, share, posted)
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
	}
	return out, nil
}

// convergeVoucher converges the credit a voucher gives back for the order
// that used it, the way redemptions converge: all of it while the order is
// cancelled, the refunded share while it is refunded (see GiveBackShare),
// nothing while it stands. A restored order takes back what its
// cancellation returned (what the owner no longer has becomes a recorded
// overdraft). Every movement is a new, versioned transaction.
func (r *Redeemer) convergeVoucher(ctx context.Context, tx OrderTx, shop Shop, o Order, v Voucher, share decimal.Decimal, posted []Transaction) ([]Transaction, error) {
	vid := strconv.FormatInt(v.ID, 10)
	want := v.Amount
	if !o.Cancelled {
		var err error
		if want, err = shareOf(v.Currency, v.Amount, share); err != nil {
			return nil, err
		}
	}
	returned, n := decimal.Zero, 0
	for _, t := range posted {
		if t.Reason.VoucherID != vid || t.Reason.OrderID != o.OrderID || (t.Reason.Kind != ReasonVoucherReturn && t.Reason.Kind != ReasonRedeem) {
			continue
		}
		n++
		for _, p := range t.Postings {
			if p.Owner.Kind == OwnerProgram && p.Bucket == ProgramRedeemed {
				returned = returned.Sub(p.Amount)
			}
		}
	}
	diff := want.Sub(returned)
	if diff.IsZero() {
		return nil, nil
	}
	b, err := tx.Funds(ctx, v.Currency, v.Owner)
	if err != nil {
		return nil, err
	}
	t := Transaction{ShopID: shop.ID, Key: "voucher:" + vid + ":order:" + o.OrderID + ":v" + strconv.Itoa(n+1),
		Reason:   Reason{OrderID: o.OrderID, OrderNumber: o.OrderNumber, VoucherID: vid},
		Postings: []Posting{{Currency: v.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: diff.Neg()}}}
	if diff.IsPositive() {
		t.Reason.Kind, t.Reason.Note = ReasonVoucherReturn, "order refunded: voucher credit returned"
		if o.Cancelled {
			t.Reason.Note = "order cancelled: voucher credit returned"
		}
		repay := decimal.Min(diff, decimal.Max(b.Overdraft.Neg(), decimal.Zero))
		if repay.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: v.Currency, Owner: v.Owner, Bucket: BucketOverdraft, Amount: repay})
		}
		if rest := diff.Sub(repay); rest.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: v.Currency, Owner: v.Owner, Bucket: BucketAvailable, Amount: rest})
		}
	} else {
		t.Reason.Kind, t.Reason.Note = ReasonRedeem, "order restored: voucher credit used again"
		need := diff.Neg()
		take := decimal.Min(need, decimal.Max(b.Available, decimal.Zero))
		if take.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: v.Currency, Owner: v.Owner, Bucket: BucketAvailable, Amount: take.Neg()})
		}
		if short := need.Sub(take); short.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: v.Currency, Owner: v.Owner, Bucket: BucketOverdraft, Amount: short.Neg()})
		}
	}
	p, err := tx.Post(ctx, t)
	if err != nil {
		return nil, err
	}
	if p.Replayed {
		return nil, nil
	}
	return []Transaction{p}, nil
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
