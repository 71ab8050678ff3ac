package coretest

import (
	"context"
	"strings"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// WithOrder runs the unit of work on the order with everything it does
// applied all or nothing; w.Done, when set and still received, is marked
// processed with it. Orders of a shop with a yearly earning cap need the
// PostgreSQL store (the fake keeps no yearly budgets).
func (s *Store) WithOrder(ctx context.Context, w core.OrderWork) error {
	return s.atomically(func(st *state) error {
		k := orderKey{w.ShopID, w.OrderID}
		rec, ok := st.orders[k]
		if !ok {
			rec = &orderRec{refunds: map[string]core.Refund{}}
			st.orders[k] = rec
		}
		if err := w.Fn(&orderTx{s: s, st: st, rec: rec, shop: w.ShopID, order: w.OrderID}); err != nil {
			return err
		}
		if w.Done != nil && st.inbox[*w.Done] == core.InboxReceived {
			st.inbox[*w.Done] = core.InboxProcessed
		}
		return nil
	})
}

type orderTx struct {
	s     *Store
	st    *state
	rec   *orderRec
	shop  int64
	order string
}

var _ core.OrderTx = (*orderTx)(nil)

func (o *orderTx) State(ctx context.Context) (core.OrderState, error) {
	st := core.OrderState{Refunds: map[string]core.Refund{}, Rates: append([]core.FrozenRate(nil), o.rec.rates...), Buyer: o.rec.buyer}
	if o.rec.seen {
		st.Order = o.rec.snap
		st.Order.Lines = append([]core.OrderLine(nil), o.rec.snap.Lines...)
		st.Order.Redemptions = append([]core.Redemption(nil), o.rec.snap.Redemptions...)
	}
	for id, r := range o.rec.refunds {
		st.Refunds[id] = r
	}
	return st, nil
}

func (o *orderTx) SaveSnapshot(ctx context.Context, ord core.Order, buyer core.Owner) error {
	ord.Customer.Email = "" // no personal data in snapshots, as stored
	ord.Refunds = nil       // kept apart
	o.rec.snap, o.rec.seen = ord, true
	if buyer.Kind != "" {
		o.rec.buyer = buyer
	}
	return nil
}

func (o *orderTx) AddRefunds(ctx context.Context, rs []core.Refund) error {
	for _, r := range rs {
		if r.RefundID == "" {
			return core.Errorf(core.EINVALID, "refund without id on order %s", o.order)
		}
		if prev, ok := o.rec.refunds[r.RefundID]; !ok || !prev.LinesKnown && r.LinesKnown {
			o.rec.refunds[r.RefundID] = r
		}
	}
	return nil
}

func (o *orderTx) SaveRates(ctx context.Context, rates []core.FrozenRate) error {
	o.rec.rates = append(o.rec.rates, rates...)
	return nil
}

func (o *orderTx) Transactions(ctx context.Context) ([]core.Transaction, error) {
	var out []core.Transaction
	for _, t := range o.st.txs {
		if t.ShopID == o.shop && t.Reason.OrderID == o.order {
			out = append(out, t)
		}
	}
	return out, nil
}

func (o *orderTx) Funds(ctx context.Context, currency string, owner core.Owner) (core.Balance, error) {
	if b, ok := o.st.bals[balKey{o.shop, currency, owner}]; ok {
		return b, nil
	}
	return core.Balance{ShopID: o.shop, Currency: currency, Owner: owner}, nil
}

func (o *orderTx) Post(ctx context.Context, t core.Transaction) (core.Transaction, error) {
	return o.s.post(o.st, t)
}

func (o *orderTx) PostAll(ctx context.Context, ts []core.Transaction) ([]core.Transaction, error) {
	out := make([]core.Transaction, len(ts))
	for i, t := range ts {
		p, err := o.s.post(o.st, t)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// FindHold returns the hold with holdID, or else the cart's open hold or
// the hold this order captured (open first, then the newest).
func (o *orderTx) FindHold(ctx context.Context, holdID int64, cartKey string) (core.Hold, bool, error) {
	if holdID > 0 {
		h, ok := o.st.holds[holdID]
		return h, ok && h.ShopID == o.shop, nil
	}
	if cartKey == "" {
		return core.Hold{}, false, nil
	}
	var best core.Hold
	found := false
	for _, h := range o.st.holds {
		if h.ShopID != o.shop || h.CartKey != cartKey || (h.Status != core.HoldOpen && h.OrderID != o.order) {
			continue
		}
		bo, ho := best.Status == core.HoldOpen, h.Status == core.HoldOpen
		if !found || ho && !bo || ho == bo && h.ID > best.ID {
			best, found = h, true
		}
	}
	return best, found, nil
}

func (o *orderTx) ResolveHold(ctx context.Context, h core.Hold, amount decimal.Decimal, reason core.Reason, status core.HoldStatus) (core.Hold, error) {
	if cur, ok := o.st.holds[h.ID]; !ok || cur.Status != core.HoldOpen {
		return core.Hold{}, core.Errorf(core.ENOTFOUND, "hold not found")
	}
	return o.s.resolve(o.st, h, amount, reason, status)
}

func (o *orderTx) VoucherByCode(ctx context.Context, code string) (core.Voucher, bool, error) {
	v, ok := o.st.vouchers[txKey(o.shop, strings.ToLower(code))]
	return v, ok, nil
}

func (o *orderTx) SettleVoucher(ctx context.Context, v core.Voucher, orderID string) error {
	if _, err := o.s.post(o.st, core.VoucherSettlement(v, orderID)); err != nil {
		return err
	}
	v.Status, v.OrderID = core.VoucherUsed, orderID
	o.st.vouchers[txKey(o.shop, v.Code)] = v
	return nil
}

func (o *orderTx) SaveRedemptions(ctx context.Context, currency string, rs []core.Redemption) error {
	o.rec.reds = append([]core.Redemption(nil), rs...)
	return nil
}

// PostDeferred defers nothing: the fake applies orders one at a time, so
// PostAll posts them.
func (o *orderTx) PostDeferred(ctx context.Context, ts []core.Transaction, done func([]core.Transaction)) (bool, error) {
	return false, nil
}

// TakeYearBudget fails: the fake keeps no yearly earning budgets (orders
// of a shop with a yearly earning cap need the PostgreSQL store).
func (o *orderTx) TakeYearBudget(ctx context.Context, currency string, owner core.Owner, year int, want, limit decimal.Decimal) (decimal.Decimal, error) {
	return decimal.Zero, core.Errorf(core.EINTERNAL, "order store cannot keep yearly earning caps")
}

// SaveWithheld keeps what caps withheld with the order, insert-only like
// the PostgreSQL store.
func (o *orderTx) SaveWithheld(ctx context.Context, ws []core.Withheld) error {
	o.rec.held = append(o.rec.held, ws...)
	return nil
}

// SaveTierActivity keeps the order's newest tier activity (the fake has no
// tier reads: tests of tiers need the PostgreSQL store).
func (o *orderTx) SaveTierActivity(ctx context.Context, a core.TierActivity) error {
	o.rec.tier = append(o.rec.tier[:0], a)
	return nil
}
