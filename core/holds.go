package core

import (
	"context"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// HoldStatus is the life-cycle state of a hold.
type HoldStatus string

// Hold states. A hold resolves exactly once: open -> one of the others.
const (
	HoldOpen     HoldStatus = "open"
	HoldCaptured HoldStatus = "captured"
	HoldVoided   HoldStatus = "voided"
	HoldExpired  HoldStatus = "expired"
)

// Hold is credit reserved at checkout (available -> held).
type Hold struct {
	ID          int64           `json:"id"`
	ShopID      int64           `json:"-"`
	Currency    string          `json:"currency"`
	Owner       Owner           `json:"owner"`
	Amount      decimal.Decimal `json:"amount"`
	Captured    decimal.Decimal `json:"captured"`
	Status      HoldStatus      `json:"status"`
	CartKey     string          `json:"cart_key,omitempty"`
	OrderID     string          `json:"order_id,omitempty"`
	ExpiresAt   time.Time       `json:"expires_at"`
	CreatedAt   time.Time       `json:"created_at"`
	PlaceTxID   int64           `json:"place_tx_id"`
	ResolveTxID int64           `json:"resolve_tx_id,omitempty"`
}

// HoldRequest asks to reserve an owner's available credit. Amount is
// used by Holds.Place only (a quote computes its amount from the
// spendable credit).
type HoldRequest struct {
	ShopID    int64
	Currency  string
	Owner     Owner
	Amount    decimal.Decimal
	CartKey   string // optional; at most one open hold per cart
	ExpiresAt time.Time
}

// Reservation is the outcome of HoldStore.Reserve.
type Reservation struct {
	Hold      *Hold           // the cart's open hold, nil when nothing is held
	Spendable decimal.Decimal // available plus the cart's previous hold
	Placed    bool            // a new hold was placed
	Released  bool            // the cart's previous hold was voided
}

// HoldStore keeps holds. It has one write path for each change: Reserve
// places (and replaces or releases a cart's hold), ResolveHold captures,
// voids or expires; an order's transaction resolves holds through
// HoldTx, which the store implements with the same code. What the
// changes book is decided here in core (PlanReserve, HoldPlacement,
// HoldResolution); the store only locks, reads and writes.
type HoldStore interface {
	// Reserve applies PlanReserve under the owner's balance lock (and the
	// cart's hold's lock): amount receives the owner's spendable credit
	// and returns the credit to hold. EINSUFFICIENT when the balance
	// changed so that the credit is no longer there.
	Reserve(ctx context.Context, r HoldRequest, amount func(spendable decimal.Decimal) (decimal.Decimal, error)) (Reservation, error)
	// ResolveHold resolves an open hold as st (HoldCaptured with amount
	// <= the hold's amount, HoldVoided or HoldExpired with zero), see
	// HoldResolution. Resolving a resolved hold the same way again
	// returns it unchanged; any other way is ECONFLICT.
	ResolveHold(ctx context.Context, shopID, holdID int64, amount decimal.Decimal, reason Reason, st HoldStatus) (Hold, error)
	GetHold(ctx context.Context, shopID, holdID int64) (Hold, error)
	// OpenHoldByCart returns the open hold of a cart (ENOTFOUND if none).
	OpenHoldByCart(ctx context.Context, shopID int64, cartKey string) (Hold, error)
	// ExpiredHolds lists open holds (of any shop) whose expiry passed.
	ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]Hold, error)
}

// HoldTx is what settling an order's redemption needs from the order's
// database transaction (so hold changes commit atomically with it).
type HoldTx interface {
	// FindHold returns the hold with id holdID, or else the open hold of
	// cartKey, locked; ok=false when there is none.
	FindHold(ctx context.Context, holdID int64, cartKey string) (h Hold, ok bool, err error)
	ResolveHold(ctx context.Context, h Hold, amount decimal.Decimal, reason Reason, status HoldStatus) (Hold, error)
}

// ReserveDecision is what Reserve does to a cart's holds.
type ReserveDecision struct {
	Spendable decimal.Decimal // available plus the cart's hold (same owner and currency)
	Amount    decimal.Decimal // the credit to hold
	Keep      bool            // the cart's hold stays as it is (its expiry extended)
	Release   bool            // the cart's hold is voided
	Place     bool            // a new hold of Amount is placed
}

// PlanReserve decides a reservation from the owner's available credit
// and the cart's open hold (nil when there is none): the cart's hold is
// kept when amount gives its amount again, else voided ("replaced by a
// new quote"), and a new hold is placed unless the amount is zero. A
// cart hold of another owner or currency is voided and does not count as
// spendable. An amount below zero, above the spendable credit or finer
// than the currency's minor unit is EINVALID.
func PlanReserve(r HoldRequest, available decimal.Decimal, cart *Hold, amount func(spendable decimal.Decimal) (decimal.Decimal, error)) (ReserveDecision, error) {
	d := ReserveDecision{Spendable: available}
	same := cart != nil && cart.Owner == r.Owner && cart.Currency == r.Currency
	if same {
		d.Spendable = d.Spendable.Add(cart.Amount)
	}
	amt, err := amount(d.Spendable)
	if err != nil {
		return d, err
	}
	if amt.IsNegative() || amt.GreaterThan(d.Spendable) {
		return d, Errorf(EINVALID, "reservation of %s exceeds the spendable %s", amt.String(), d.Spendable.String())
	}
	if err := CheckScale(r.Currency, amt); err != nil {
		return d, err
	}
	d.Amount = amt
	if same && cart.Amount.Equal(amt) {
		d.Keep = true
		return d, nil
	}
	d.Release = cart != nil
	d.Place = amt.IsPositive()
	return d, nil
}

// HoldPlacement is the transaction that places hold holdID: amount moves
// from the owner's available credit to held. Its key is
// "hold:<id>:place", new for every hold.
func HoldPlacement(shopID, holdID int64, currency string, owner Owner, amount decimal.Decimal) Transaction {
	hid := strconv.FormatInt(holdID, 10)
	return Transaction{ShopID: shopID, Key: "hold:" + hid + ":place", Reason: Reason{Kind: ReasonHoldPlace, HoldID: hid},
		Postings: []Posting{
			{Currency: currency, Owner: owner, Bucket: BucketAvailable, Amount: amount.Neg()},
			{Currency: currency, Owner: owner, Bucket: BucketHeld, Amount: amount},
		}}
}

// HoldResolution is the transaction that resolves the open hold h as st:
// the held credit leaves held; a capture's amount goes to the program's
// redeemed bucket and the rest back to available. Its key
// "hold:<id>:resolve" is unique, so a hold can never resolve twice even
// if a status guard were bypassed.
func HoldResolution(h Hold, amount decimal.Decimal, reason Reason, st HoldStatus) (Transaction, error) {
	if amount.IsNegative() {
		return Transaction{}, Errorf(EINVALID, "capture amount must not be negative")
	}
	if amount.GreaterThan(h.Amount) {
		return Transaction{}, Errorf(EINVALID, "capture %s exceeds hold %d of %s", amount.String(), h.ID, h.Amount.String())
	}
	if err := CheckScale(h.Currency, amount); err != nil {
		return Transaction{}, err
	}
	hid := strconv.FormatInt(h.ID, 10)
	switch st {
	case HoldCaptured:
		reason.Kind = ReasonHoldCapture
	case HoldVoided:
		reason.Kind = ReasonHoldVoid
	case HoldExpired:
		reason.Kind = ReasonHoldExpire
	default:
		return Transaction{}, Errorf(EINVALID, "a hold cannot resolve as %q", st)
	}
	if st != HoldCaptured && amount.IsPositive() {
		return Transaction{}, Errorf(EINVALID, "only a capture consumes held credit")
	}
	reason.HoldID = hid
	ps := []Posting{{Currency: h.Currency, Owner: h.Owner, Bucket: BucketHeld, Amount: h.Amount.Neg()}}
	if amount.IsPositive() {
		ps = append(ps, Posting{Currency: h.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: amount})
	}
	if rest := h.Amount.Sub(amount); rest.IsPositive() {
		ps = append(ps, Posting{Currency: h.Currency, Owner: h.Owner, Bucket: BucketAvailable, Amount: rest})
	}
	return Transaction{ShopID: h.ShopID, Key: "hold:" + hid + ":resolve", Reason: reason, Postings: ps}, nil
}

// ResolvedAs reports whether a resolved hold already is what resolving
// it as st with amount would make it (a replay, not a conflict).
func (h Hold) ResolvedAs(st HoldStatus, amount decimal.Decimal) bool {
	return h.Status == st && (st != HoldCaptured || h.Captured.Equal(amount))
}

// Holds is the one service for checkout holds: quotes reserve (Reserve,
// Place), the shop releases (Release, ReleaseCart), orders capture
// (Capture; an order's own transaction captures through HoldTx in
// Redeemer), and abandoned checkouts expire (Expire). Every change goes
// through Store's write path.
type Holds struct {
	Store HoldStore
	// Notify, when set, is told after commit whose balance a placement or
	// a release changed.
	Notify BalanceNotifier
}

// Reserve sets a cart's hold (see HoldStore.Reserve) and tells Notify
// when it placed or released one.
func (h *Holds) Reserve(ctx context.Context, shop Shop, r HoldRequest, amount func(spendable decimal.Decimal) (decimal.Decimal, error)) (Reservation, error) {
	r.ShopID = shop.ID
	if err := h.check(r); err != nil {
		return Reservation{}, err
	}
	if r.CartKey == "" {
		return Reservation{}, Errorf(EINVALID, "a reservation needs a cart key")
	}
	res, err := h.Store.Reserve(ctx, r, amount)
	if err != nil {
		return res, err
	}
	if h.Notify != nil && (res.Placed || res.Released) {
		h.Notify(ctx, shop, []Owner{r.Owner})
	}
	return res, nil
}

// Place reserves exactly r.Amount of the owner's credit (EINSUFFICIENT
// when less is spendable) through the same write path as a quote: with
// a CartKey, the cart's hold is kept when it has that amount (its expiry
// extended) and replaced when not. It does not notify (tests, tools and
// the benchmark use it).
func (h *Holds) Place(ctx context.Context, r HoldRequest) (Hold, error) {
	if err := h.check(r); err != nil {
		return Hold{}, err
	}
	if err := CheckScale(r.Currency, r.Amount); err != nil {
		return Hold{}, err
	}
	if !r.Amount.IsPositive() {
		return Hold{}, Errorf(EINVALID, "hold amount must be positive")
	}
	res, err := h.Store.Reserve(ctx, r, func(spendable decimal.Decimal) (decimal.Decimal, error) {
		if spendable.LessThan(r.Amount) {
			return decimal.Zero, Errorf(EINSUFFICIENT, "not enough credit")
		}
		return r.Amount, nil
	})
	if err != nil {
		return Hold{}, err
	}
	if res.Hold == nil {
		return Hold{}, Errorf(EINTERNAL, "placing a hold of %s held nothing", r.Amount.String())
	}
	return *res.Hold, nil
}

func (h *Holds) check(r HoldRequest) error {
	if err := r.Owner.Validate(); err != nil {
		return err
	}
	if r.Owner.Kind == OwnerProgram {
		return Errorf(EINVALID, "the program cannot hold credit")
	}
	if r.ExpiresAt.IsZero() {
		return Errorf(EINVALID, "hold needs an expiry")
	}
	return nil
}

// Capture consumes amount (<= the hold's amount) into the program's
// redeemed bucket and releases the rest. Capturing again with the same
// amount returns the hold unchanged; ECONFLICT when it resolved
// otherwise.
func (h *Holds) Capture(ctx context.Context, shopID, holdID int64, amount decimal.Decimal, reason Reason) (Hold, error) {
	if amount.IsNegative() {
		return Hold{}, Errorf(EINVALID, "capture amount must not be negative")
	}
	return h.Store.ResolveHold(ctx, shopID, holdID, amount, reason, HoldCaptured)
}

// Void releases the whole hold (ECONFLICT when it already resolved
// otherwise). It does not notify; Release does.
func (h *Holds) Void(ctx context.Context, shopID, holdID int64, reason Reason) (Hold, error) {
	return h.Store.ResolveHold(ctx, shopID, holdID, decimal.Zero, reason, HoldVoided)
}

// Release voids an open hold of the shop and tells Notify. released is
// false for an unknown or foreign hold and for one already resolved
// (captured or expired meanwhile).
func (h *Holds) Release(ctx context.Context, shop Shop, holdID int64, note string) (released bool, err error) {
	cur, err := h.Store.GetHold(ctx, shop.ID, holdID)
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if cur.Status != HoldOpen {
		return false, nil
	}
	return h.release(ctx, shop, cur, note)
}

// ReleaseCart voids the open hold of a cart, if any, and tells Notify.
func (h *Holds) ReleaseCart(ctx context.Context, shop Shop, cartKey, note string) (released bool, err error) {
	cur, err := h.Store.OpenHoldByCart(ctx, shop.ID, cartKey)
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return h.release(ctx, shop, cur, note)
}

func (h *Holds) release(ctx context.Context, shop Shop, cur Hold, note string) (bool, error) {
	v, err := h.Store.ResolveHold(ctx, shop.ID, cur.ID, decimal.Zero, Reason{Note: note}, HoldVoided)
	if ErrorCode(err) == ECONFLICT {
		return false, nil // resolved meanwhile (captured or expired)
	}
	if err != nil {
		return false, err
	}
	if h.Notify != nil {
		h.Notify(ctx, shop, []Owner{v.Owner})
	}
	return true, nil
}

// Expire resolves up to limit open holds whose expiry passed at now as
// expired ("checkout abandoned") and returns how many it handled (a hold
// resolved meanwhile counts as handled).
func (h *Holds) Expire(ctx context.Context, now time.Time, limit int) (int, error) {
	holds, err := h.Store.ExpiredHolds(ctx, now, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range holds {
		if _, err := h.Store.ResolveHold(ctx, x.ShopID, x.ID, decimal.Zero, Reason{Note: "checkout abandoned: hold expired"}, HoldExpired); err != nil && ErrorCode(err) != ECONFLICT {
			return n, err
		}
		n++
	}
	return n, nil
}
