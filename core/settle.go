package core

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// Settling the credit an order used is planned here, without storage:
// PlanSettlement maps what the order's transaction read (the order, its
// checkout hold, its vouchers, its earlier transactions and, on demand,
// balances) to the actions and ledger transactions that converge the
// books, like PlanEarnings does for earned credit. Redeemer.settleOrder
// reads the inputs and executes the plan in the order's transaction.

// SettlementInput is what settling an order's redemptions reads.
type SettlementInput struct {
	ShopID   int64
	Settings ShopSettings
	State    OrderState // the order's newest snapshot and every refund
	// Buyer is the order's buyer (the snapshot's; the stored one for a
	// stale snapshot): whose credit a redemption without a hold takes.
	Buyer Owner
	// Hold is the hold the order names (a redemption's hold id) or else
	// its cart's open hold or the hold it captured (HoldTx.FindHold); nil
	// when there is none.
	Hold *Hold
	// Vouchers are the vouchers the order's voucher redemptions name, in
	// the order of the redemptions (codes not found left out).
	Vouchers []Voucher
	// Posted are the order's ledger transactions before this settlement.
	Posted []Transaction
	// Funds returns an owner's balance before this settlement; it is
	// called only for owners whose credit a transaction moves.
	Funds func(currency string, owner Owner) Balance
}

// HoldAction resolves the order's hold: capture Amount (HoldCaptured) or
// release it all (HoldVoided).
type HoldAction struct {
	Hold   Hold
	Amount decimal.Decimal
	Status HoldStatus
	Reason Reason
}

// VoucherAction settles one voucher the order used (Settle: mark it used
// by the order, moving its amount from the program's vouchers bucket to
// redeemed, see VoucherSettlement) and converges what it gives back
// (Return: nil when nothing changes).
type VoucherAction struct {
	Voucher Voucher
	Settle  bool
	Return  *Transaction
}

// SettlementPlan is what settling an order does, in this order.
type SettlementPlan struct {
	Hold *HoldAction // nil: the hold stays as it is
	// Captured is the credit the order's hold consumed for it (after Hold).
	Captured decimal.Decimal
	// Redemption converges the credit the order used beyond its captured
	// hold (ReasonRedeem or ReasonRedeemReversal); nil when converged.
	Redemption *Transaction
	// ReversesCapture: Redemption reverses the capture Hold makes, whose
	// transaction id is known only once it is posted (the executor sets
	// Redemption.Reverses to it).
	ReversesCapture bool
	Vouchers        []VoucherAction
}

// Transactions lists the plan's ledger transactions other than the hold
// resolution and voucher settlements (whose transactions are
// HoldResolution and VoucherSettlement).
func (p SettlementPlan) Transactions() []Transaction {
	var out []Transaction
	if p.Redemption != nil {
		out = append(out, *p.Redemption)
	}
	for _, v := range p.Vouchers {
		if v.Return != nil {
			out = append(out, *v.Return)
		}
	}
	return out
}

// DiscountCredit is the credit the order's discount redemptions applied
// and the first hold id one of them carried (0 when none did).
func DiscountCredit(o Order) (used decimal.Decimal, holdID int64) {
	used = decimal.Zero
	for _, rd := range o.Redemptions {
		if rd.Kind != RedemptionDiscount {
			continue
		}
		used = used.Add(rd.Amount)
		if id, err := strconv.ParseInt(rd.HoldID, 10, 64); err == nil && holdID == 0 {
			holdID = id
		}
	}
	return used, holdID
}

// SettlesVouchers reports whether the order's voucher redemptions are
// settled now: while it is paid and not cancelled (used), and once it
// is cancelled (given back); an unpaid snapshot leaves them alone.
func SettlesVouchers(o Order) bool { return o.Paid || o.Cancelled }

// PlanSettlement converges the credit an order used: the paid order
// captures its hold by the amount actually applied (releasing the rest)
// and debits any excess without a hold (a shortfall becomes a recorded
// overdraft); a cancelled order voids its hold and gives captured credit
// back; a paid order that did not use its cart's hold voids it; a refund
// gives back its share (GiveBackShare). Vouchers the order used are
// settled and converge the same way (see planVoucherReturn). Balances are
// read through in.Funds and followed through the plan's own movements,
// so each transaction sees the balances the ones before it leave.
func PlanSettlement(in SettlementInput) (SettlementPlan, error) {
	var p SettlementPlan
	p.Captured = decimal.Zero
	o := in.State.Order
	fl := newFundsLedger(in.Funds)
	used, _ := DiscountCredit(o)
	reason := Reason{OrderID: o.OrderID, OrderNumber: o.OrderNumber}
	active := o.Paid && !o.Cancelled
	h := in.Hold
	switch {
	case h != nil && h.Status == HoldOpen && active && used.IsPositive():
		p.Hold = &HoldAction{Hold: *h, Amount: decimal.Min(used, h.Amount), Status: HoldCaptured, Reason: reason}
		p.Captured = p.Hold.Amount
	case h != nil && h.Status == HoldOpen && (o.Cancelled || (active && used.IsZero())):
		rs := reason
		rs.Note = "order did not use the credit"
		if o.Cancelled {
			rs.Note = "order cancelled"
		}
		p.Hold = &HoldAction{Hold: *h, Amount: decimal.Zero, Status: HoldVoided, Reason: rs}
	case h != nil && h.Status == HoldCaptured && h.OrderID == o.OrderID:
		p.Captured = h.Captured
	}
	if p.Hold != nil {
		t, err := HoldResolution(p.Hold.Hold, p.Hold.Amount, p.Hold.Reason, p.Hold.Status)
		if err != nil {
			return p, err
		}
		fl.apply(t)
	}
	owner := in.Buyer
	if h != nil && (h.Status == HoldOpen || h.OrderID == o.OrderID || owner.Kind == "") {
		owner = h.Owner
	}
	share, err := GiveBackShare(in.Settings, in.State)
	if err != nil {
		return p, err
	}
	if owner.Kind != "" {
		t, err := planRedemption(in, owner, used, p.Captured, share, fl)
		if err != nil {
			return p, err
		}
		if t != nil && t.Reason.Kind == ReasonRedeemReversal && t.Reverses == 0 && h != nil {
			switch {
			case p.Hold != nil && p.Hold.Status == HoldCaptured:
				p.ReversesCapture = true
			case h.OrderID == o.OrderID:
				t.Reverses = h.ResolveTxID
			}
		}
		p.Redemption = t
	}
	if !SettlesVouchers(o) {
		return p, nil
	}
	settled := map[int64]bool{}
	for _, v := range in.Vouchers {
		if settled[v.ID] { // a code the order carries twice: settled above
			v.Status, v.OrderID = VoucherUsed, o.OrderID
		}
		a := VoucherAction{Voucher: v}
		if active && (v.Status == VoucherIssued || v.Status == VoucherPending) {
			a.Settle, settled[v.ID] = true, true
			v.Status, v.OrderID = VoucherUsed, o.OrderID
		}
		if v.Status != VoucherUsed || v.OrderID != o.OrderID {
			if a.Settle {
				p.Vouchers = append(p.Vouchers, a)
			}
			continue
		}
		if a.Return, err = planVoucherReturn(in, v, share, fl); err != nil {
			return p, err
		}
		if a.Settle || a.Return != nil {
			p.Vouchers = append(p.Vouchers, a)
		}
	}
	return p, nil
}

// planRedemption converges the credit the order used beyond its captured
// hold: what it should have consumed (all of it while paid, less the
// share a refund gives back; nothing once cancelled) minus what redeem
// transactions already took. A cancellation gives it back, a restore
// takes it again; an unpaid snapshot neither takes nor gives back.
func planRedemption(in SettlementInput, owner Owner, used, captured, share decimal.Decimal, fl *fundsLedger) (*Transaction, error) {
	o := in.State.Order
	desired := decimal.Zero
	if o.Paid && !o.Cancelled {
		// What the order keeps consuming: all it used, less the share a
		// refund gives back. The captured hold is part of it; a give-back
		// beyond the rest comes out of the capture.
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
		desired = captured.Neg() // a captured hold is given back through the same mechanism
	}
	net, n, lastRedeem := decimal.Zero, 0, int64(0)
	for _, t := range in.Posted {
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
		desired = net
	}
	diff := desired.Sub(net)
	if diff.IsZero() {
		return nil, nil
	}
	key := "order:" + o.OrderID + ":redeem:v" + strconv.Itoa(n+1)
	b := fl.balance(o.Currency, owner)
	var t Transaction
	if diff.IsPositive() {
		take := decimal.Min(diff, decimal.Max(b.Available, decimal.Zero))
		t = Transaction{ShopID: in.ShopID, Key: key, Reason: Reason{Kind: ReasonRedeem, OrderID: o.OrderID, OrderNumber: o.OrderNumber,
			Note: "credit used without a matching hold"},
			Postings: []Posting{{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: diff}}}
		if take.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketAvailable, Amount: take.Neg()})
		}
		if short := diff.Sub(take); short.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketOverdraft, Amount: short.Neg()})
		}
	} else {
		// Returned credit first pays back an overdraft (which may stem
		// from this very order), the rest becomes available again.
		back := diff.Neg()
		repay := decimal.Min(back, decimal.Max(b.Overdraft.Neg(), decimal.Zero))
		note := "order cancelled: credit returned"
		if !o.Cancelled {
			note = "order refunded: credit returned"
		}
		t = Transaction{ShopID: in.ShopID, Key: key, Reverses: lastRedeem,
			Reason:   Reason{Kind: ReasonRedeemReversal, OrderID: o.OrderID, OrderNumber: o.OrderNumber, Note: note},
			Postings: []Posting{{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: diff}}}
		if repay.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketOverdraft, Amount: repay})
		}
		if rest := back.Sub(repay); rest.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: owner, Bucket: BucketAvailable, Amount: rest})
		}
	}
	fl.apply(t)
	return &t, nil
}

// planVoucherReturn converges the credit a voucher gives back for the
// order that used it, the way redemptions converge: all of it while the
// order is cancelled, the refunded share while it is refunded (see
// GiveBackShare), nothing while it stands. A restored order takes back
// what its cancellation returned (what the owner no longer has becomes a
// recorded overdraft). Every movement is a new, versioned transaction.
func planVoucherReturn(in SettlementInput, v Voucher, share decimal.Decimal, fl *fundsLedger) (*Transaction, error) {
	o := in.State.Order
	vid := strconv.FormatInt(v.ID, 10)
	want := v.Amount
	if !o.Cancelled {
		var err error
		if want, err = shareOf(v.Currency, v.Amount, share); err != nil {
			return nil, err
		}
	}
	returned, n := decimal.Zero, 0
	for _, t := range in.Posted {
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
	b := fl.balance(v.Currency, v.Owner)
	t := Transaction{ShopID: in.ShopID, Key: "voucher:" + vid + ":order:" + o.OrderID + ":v" + strconv.Itoa(n+1),
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
	fl.apply(t)
	return &t, nil
}

// VoucherSettlement is the transaction that settles a voucher on the
// order that used it: its amount moves from the program's vouchers
// bucket to redeemed (the owner's credit left when it was issued).
func VoucherSettlement(v Voucher, orderID string) Transaction {
	id := strconv.FormatInt(v.ID, 10)
	return Transaction{ShopID: v.ShopID, Key: "voucher:" + id + ":settle", Reason: Reason{Kind: ReasonVoucherSettle, VoucherID: id, OrderID: orderID},
		Postings: []Posting{
			{Currency: v.Currency, Owner: ProgramOwner, Bucket: ProgramVouchers, Amount: v.Amount.Neg()},
			{Currency: v.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: v.Amount},
		}}
}

// fundsLedger follows owners' balances through planned transactions:
// the balance read before the plan plus what the plan moved so far.
type fundsLedger struct {
	read  func(currency string, owner Owner) Balance
	bals  map[string]*Balance
	moved map[string]OwnerDelta
}

func newFundsLedger(read func(string, Owner) Balance) *fundsLedger {
	return &fundsLedger{read: read, bals: map[string]*Balance{}, moved: map[string]OwnerDelta{}}
}

func (f *fundsLedger) balance(currency string, o Owner) Balance {
	k := currency + "\x00" + o.String()
	b, ok := f.bals[k]
	if !ok {
		var read Balance
		if f.read != nil {
			read = f.read(currency, o)
		}
		b = &read
		f.bals[k] = b
	}
	out := *b
	d := f.moved[k]
	out.Available = out.Available.Add(d.Available)
	out.Pending = out.Pending.Add(d.Pending)
	out.Held = out.Held.Add(d.Held)
	out.Overdraft = out.Overdraft.Add(d.Overdraft)
	return out
}

func (f *fundsLedger) apply(t Transaction) {
	for _, d := range ownerDeltas(t.Postings) {
		k := d.Currency + "\x00" + d.Owner.String()
		m := f.moved[k]
		m.Available = m.Available.Add(d.Available)
		m.Pending = m.Pending.Add(d.Pending)
		m.Held = m.Held.Add(d.Held)
		m.Overdraft = m.Overdraft.Add(d.Overdraft)
		f.moved[k] = m
	}
}
