package core

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// OrderTx is the storage view of one order inside one database
// transaction that holds the order's lock.
type OrderTx interface {
	// State returns the stored state; Order.OrderID is empty when the order
	// was never seen (refunds may still exist).
	State(ctx context.Context) (OrderState, error)
	// SaveSnapshot stores o as the newest snapshot.
	SaveSnapshot(ctx context.Context, o Order, buyer Owner) error
	// AddRefunds stores refunds not yet known (by id); a refund whose lines
	// become known replaces its line-less record.
	AddRefunds(ctx context.Context, rs []Refund) error
	SaveRates(ctx context.Context, rates []FrozenRate) error
	// Transactions lists the order's ledger transactions.
	Transactions(ctx context.Context) ([]Transaction, error)
	// Funds locks and returns an owner's balance.
	Funds(ctx context.Context, currency string, o Owner) (Balance, error)
	Post(ctx context.Context, t Transaction) (Transaction, error)
	// PostAll posts several transactions and returns them in order
	// (stores that batch orders post credit-only ones through
	// DeferredPoster instead).
	PostAll(ctx context.Context, ts []Transaction) ([]Transaction, error)

	// The capabilities below are part of every order transaction, so the
	// compiler (not a type assertion at run time) makes sure a store has
	// them: a store whose transaction lacks one does not build.
	DeferredPoster
	YearCapTx
	RedemptionTx
	HoldTx
	VoucherTx
	WithheldTx
	TierTx
}

// DeferredPoster posts an order's credit-only transactions together with
// those of other orders sharing its database transaction (set-based, one
// statement per table for all of them). PostDeferred reports false,
// having posted nothing, when it cannot defer ts (a store that never
// batches orders always reports false); when it does, done receives the posted transactions (as PostAll
// returns them) before the database transaction commits, and every later
// read or write through the OrderTx sees them applied.
type DeferredPoster interface {
	PostDeferred(ctx context.Context, ts []Transaction, done func([]Transaction)) (bool, error)
}

// OrderWork is one unit of work on an order: Fn runs with the order
// locked, in one database transaction (Fn may run more than once: a store
// retries it after a deadlock or a failed group commit). Done, when set,
// names the inbox event this work finishes: the store marks it processed
// in the same database transaction, so "posted" and "processed" commit
// together and the worker saves a commit per event.
type OrderWork struct {
	ShopID  int64
	OrderID string
	Done    *EventRef
	Fn      func(OrderTx) error
	// Guest, when set, is the order's guest buyer: the store reads, with
	// the order's state, the account that guest's credit moved to (a
	// claimed guest, OrderState.Claimed), so a claimed address's later
	// guest orders book to the claiming customer whichever process
	// claimed it, without a read of its own.
	Guest Owner
}

// OrderStore runs units of work on orders.
type OrderStore interface {
	WithOrder(ctx context.Context, w OrderWork) error
}

// Directory resolves who earns: buyers, partners and rules.
type Directory interface {
	// CustomerOwner returns (creating if needed) the owner of a buyer.
	CustomerOwner(ctx context.Context, shop Shop, c CustomerRef) (Owner, error)
	// PartnerChain returns the owners of the partners an order credits
	// (the referring or bound partner, then its sponsors), level 1 first,
	// up to the shop's partner levels; an empty Owner is a level that earns
	// nothing. Empty without a referral, and for a self-referral.
	PartnerChain(ctx context.Context, shop Shop, o Order, buyer Owner) ([]Owner, error)
	Rules(ctx context.Context, shopID int64) ([]Rule, error)
}

// ApplyResult reports what applying a snapshot did.
type ApplyResult struct {
	Stale    bool          // an older snapshot: only its refunds were merged
	Marked   bool          // the inbox event (done) was marked processed with the order's postings
	Posted   []Transaction // new transactions (replays excluded)
	Redeemed []Transaction // redemption transactions
}

// Earner turns order snapshots into ledger postings: it converges the
// books on the order's desired credit state.
type Earner struct {
	Orders    OrderStore
	Directory Directory
	Ledger    Ledger
	Redeemer  *Redeemer // optional: captures holds for credit used on the order
	Now       func() time.Time
	Notify    BalanceNotifier // optional
	// AfterOrder, when set, follows the orders of the shops it wants
	// (program types such as the second-purchase offer).
	AfterOrder OrderFollower
	// Tiers reads buyers' tiers in shops with tiers (core/tiers.go);
	// without it tiers are not applied.
	Tiers TierReader
}

func (e *Earner) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// buyerTier returns the tier a buyer earns with on o (nil when the shop
// has no tiers): as of the order's creation, the order itself not
// counted; an order that buys the membership earns as a member.
func (e *Earner) buyerTier(ctx context.Context, shop Shop, o Order, buyer Owner) (*BuyerTier, error) {
	s := shop.Settings
	if e.Tiers == nil || !s.TiersEnabled() || buyer.Kind != OwnerCustomer || !o.Paid || o.Cancelled {
		return nil, nil
	}
	at := o.CreatedAt
	if at.IsZero() {
		at = e.now()
	}
	f, err := e.Tiers.TierFacts(ctx, shop, buyer, at, o.OrderID)
	if err != nil {
		return nil, err
	}
	if !f.Member && s.BuysMembership(o) {
		f.Member, f.MemberUntil = true, at.AddDate(0, s.Membership.MembershipMonths(), 0)
	}
	return &BuyerTier{Status: s.Evaluate(f, at, s.Location())}, nil
}

// OrderFollower is told about applied orders.
type OrderFollower interface {
	// Follows reports whether the follower acts on the shop's orders.
	Follows(shop Shop) bool
	// OrderApplied is called after a snapshot that is not stale was
	// applied and committed. It must be idempotent: its error fails the
	// event, which is retried (for a followed shop the event is marked
	// processed only after the follower succeeded).
	OrderApplied(ctx context.Context, shop Shop, o Order, buyer Owner) error
}

// ApplyOrder applies an order snapshot (see DESIGN §2). done, when not
// nil, is the inbox event the snapshot came from: it is marked processed
// in the order's transaction (not for a shop whose orders AfterOrder
// follows: that event is finished once the follower succeeded).
func (e *Earner) ApplyOrder(ctx context.Context, shop Shop, o Order, done *EventRef) (ApplyResult, error) {
	var res ApplyResult
	if o.OrderID == "" {
		return res, Errorf(EINVALID, "order without id")
	}
	o.ShopID = shop.ID
	if o.Currency == "" {
		return res, Errorf(EINVALID, "order %s has no currency", o.OrderID)
	}
	if err := o.Check(); err != nil {
		return res, err
	}
	var buyer Owner
	if o.Customer.PlatformID != "" || o.Customer.Email != "" {
		var err error
		if buyer, err = e.Directory.CustomerOwner(ctx, shop, o.Customer); err != nil {
			return res, err
		}
	}
	partners, err := e.Directory.PartnerChain(ctx, shop, o, buyer)
	if err != nil {
		return res, err
	}
	rules, err := e.Directory.Rules(ctx, shop.ID)
	if err != nil {
		return res, err
	}
	rs := NewRuleSet(rules)
	bt, err := e.buyerTier(ctx, shop, o, buyer)
	if err != nil {
		return res, err
	}
	follow, done := e.following(shop, done)
	var guest Owner // a guest buyer: its claimed account, if any, is read with the order's state
	if o.Customer.PlatformID == "" {
		guest = buyer
	}
	applied := buyer // the buyer the order books to (a claimed guest's customer)
	err = e.Orders.WithOrder(ctx, OrderWork{ShopID: shop.ID, OrderID: o.OrderID, Done: done, Guest: guest, Fn: func(tx OrderTx) error {
		res = ApplyResult{}
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		// booked is whom the order's fresh rates credit; identity is the
		// buyer stored with the snapshot and told to followers. A claimed
		// guest's order books to the customer it moved to; an order
		// stored for the guest before the claim keeps the guest as its
		// buyer (its rates and rewards resolve through the owner link).
		booked, identity := buyer, buyer
		if st.Claimed.Kind != "" && guest.Kind != "" {
			booked = st.Claimed
			if st.Buyer != guest {
				identity = st.Claimed
			}
		}
		applied = identity
		if st.Refunds == nil {
			st.Refunds = map[string]Refund{}
		}
		if err := tx.AddRefunds(ctx, o.Refunds); err != nil {
			return err
		}
		for _, r := range o.Refunds {
			if r.LinesKnown || st.Refunds[r.RefundID].RefundID == "" {
				st.Refunds[r.RefundID] = r
			}
		}
		if st.Order.OrderID != "" && IsStale(o.UpdatedAt, st.Order.UpdatedAt) {
			res.Stale = true
		} else {
			if err := tx.SaveSnapshot(ctx, o, identity); err != nil {
				return err
			}
			st.Order = o
		}
		if st.Refunds == nil {
			st.Refunds = map[string]Refund{}
		}
		if err := st.checkRefundedQuantities(); err != nil {
			return err
		}
		st.buyer = booked
		if res.Stale && st.Buyer.Kind != "" {
			st.buyer = st.Buyer
		}
		if st.Order.Paid && !st.Order.Cancelled {
			fresh := FreezeRatesTier(shop.Settings, st.Order, st.Rates, rs, st.buyer, partners, bt)
			fresh = dropAnonymous(fresh)
			if err := capRates(ctx, tx, shop, st, fresh); err != nil {
				return err
			}
			if len(fresh) > 0 {
				if err := tx.SaveRates(ctx, fresh); err != nil {
					return err
				}
				if err := saveWithheld(ctx, tx, st.Order, fresh); err != nil {
					return err
				}
				st.Rates = append(st.Rates, fresh...)
			}
		}
		return e.converge(ctx, tx, shop, st, &res)
	}})
	if err != nil {
		return res, err
	}
	res.Marked = done != nil
	e.settleOverdrafts(ctx, shop, res.Posted)
	e.notify(ctx, shop, res)
	if follow && !res.Stale {
		if err := e.AfterOrder.OrderApplied(ctx, shop, o, applied); err != nil {
			return res, err
		}
	}
	return res, nil
}

// YearCapTx keeps the owners' yearly earning budgets
// (ShopSettings.EarnCapYearAmount) in the order's database transaction.
type YearCapTx interface {
	// TakeYearBudget takes up to want from the owner's budget for year
	// (limit in total) and returns what it granted.
	TakeYearBudget(ctx context.Context, currency string, owner Owner, year int, want, limit decimal.Decimal) (decimal.Decimal, error)
}

// capRates applies the per-order and yearly earning caps to rates being
// frozen (the per-article cap is part of freezing).
func capRates(ctx context.Context, tx OrderTx, shop Shop, st OrderState, fresh []FrozenRate) error {
	ApplyOrderCap(shop.Settings, st.Order, st.Rates, fresh)
	if !shop.Settings.EarnCapYearAmount.Valid || len(fresh) == 0 {
		return nil
	}
	return ApplyYearCap(shop.Settings, st.Order, fresh, func(o Owner, want, limit decimal.Decimal) (decimal.Decimal, error) {
		return tx.TakeYearBudget(ctx, st.Order.Currency, o, CapYear(shop.Settings, st.Order), want, limit)
	})
}

// saveWithheld stores what the caps of fresh rates kept from being booked,
// so the statement can say why.
func saveWithheld(ctx context.Context, tx OrderTx, o Order, fresh []FrozenRate) error {
	ws := WithheldCredit(o, fresh)
	if len(ws) == 0 {
		return nil
	}
	return tx.SaveWithheld(ctx, ws)
}

func dropAnonymous(rs []FrozenRate) []FrozenRate {
	out := rs[:0]
	for _, r := range rs {
		if r.Owner.Kind != "" {
			out = append(out, r)
		}
	}
	return out
}

// ApplyRefund records a refund (Shopify refunds/create) and converges the
// order if its snapshot is known; done as for ApplyOrder.
func (e *Earner) ApplyRefund(ctx context.Context, shop Shop, orderID string, r Refund, done *EventRef) (ApplyResult, error) {
	var res ApplyResult
	if err := r.Check(); err != nil {
		return res, Errorf(EINVALID, "order %s: %s", safeID(orderID), ErrorMessage(err))
	}
	follow, done := e.following(shop, done)
	var known OrderState
	err := e.Orders.WithOrder(ctx, OrderWork{ShopID: shop.ID, OrderID: orderID, Done: done, Fn: func(tx OrderTx) error {
		res = ApplyResult{}
		known = OrderState{}
		if err := tx.AddRefunds(ctx, []Refund{r}); err != nil {
			return err
		}
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		if st.Order.OrderID == "" {
			return nil // the order's snapshot will pick the refund up
		}
		if err := st.checkRefundedQuantities(); err != nil {
			return err
		}
		st.buyer = st.Buyer
		known = st
		return e.converge(ctx, tx, shop, st, &res)
	}})
	if err != nil {
		return res, err
	}
	res.Marked = done != nil
	e.settleOverdrafts(ctx, shop, res.Posted)
	e.notify(ctx, shop, res)
	return res, e.followStored(ctx, shop, follow, known)
}

// following reports whether the shop's orders are followed and returns
// the inbox event the order's transaction finishes: none for a followed
// shop, whose event is finished only once the follower succeeded.
func (e *Earner) following(shop Shop, done *EventRef) (bool, *EventRef) {
	if e.AfterOrder == nil || !e.AfterOrder.Follows(shop) {
		return false, done
	}
	return true, nil
}

// followStored tells the follower about an order changed by a refund or
// a deletion (its stored snapshot, which carries no e-mail address).
func (e *Earner) followStored(ctx context.Context, shop Shop, follow bool, st OrderState) error {
	if !follow || st.Order.OrderID == "" {
		return nil
	}
	return e.AfterOrder.OrderApplied(ctx, shop, st.Order, st.Buyer)
}

func (e *Earner) converge(ctx context.Context, tx OrderTx, shop Shop, st OrderState, res *ApplyResult) error {
	posted, err := tx.Transactions(ctx)
	if err != nil {
		return err
	}
	if err := e.saveTierActivity(ctx, tx, shop, st); err != nil {
		return err
	}
	funds := map[Owner]Balance{}
	var ferr error
	plan, err := PlanEarnings(st, posted, func(o Owner) OwnerFunds {
		b, err := tx.Funds(ctx, st.Order.Currency, o)
		if err != nil && ferr == nil {
			ferr = err
		}
		funds[o] = b
		return OwnerFunds{Pending: b.Pending, Available: b.Available}
	}, shop.Settings.PendingDays > 0)
	if err != nil {
		return err
	}
	if ferr != nil {
		return ferr
	}
	if len(plan) > 0 {
		record := func(out []Transaction) {
			for _, t := range out {
				if !t.Replayed {
					res.Posted = append(res.Posted, t)
				}
			}
		}
		deferred, err := tx.PostDeferred(ctx, plan, record)
		if err != nil {
			return fmt.Errorf("order %s: post: %w", st.Order.OrderID, err)
		}
		if !deferred {
			out, err := tx.PostAll(ctx, plan)
			if err != nil {
				return fmt.Errorf("order %s: post: %w", st.Order.OrderID, err)
			}
			record(out)
		}
	}
	if e.Redeemer != nil {
		red, err := e.Redeemer.settleOrder(ctx, tx, shop, st, posted)
		if err != nil {
			return err
		}
		res.Redeemed = red
	}
	return nil
}

// saveTierActivity records what the order counts towards its buyer's
// tier (spend, credit, membership lines), converged like the credit.
func (e *Earner) saveTierActivity(ctx context.Context, tx OrderTx, shop Shop, st OrderState) error {
	if !shop.Settings.TiersEnabled() || st.buyer.Kind != OwnerCustomer {
		return nil
	}
	a, err := TierActivityOf(shop.Settings, st, st.buyer, e.now())
	if err != nil {
		return err
	}
	if st.Order.Currency != shop.Currency { // thresholds are in the shop's currency
		a.Spend, a.Credit = decimal.Zero, decimal.Zero
	}
	return tx.SaveTierActivity(ctx, a)
}

// settleOverdrafts pays back overdrafts of owners that just received
// credit, using the balances the store reported right after each
// transaction (no extra read when nobody owes anything). It is best
// effort: a failure leaves the overdraft for the next credit.
func (e *Earner) settleOverdrafts(ctx context.Context, shop Shop, posted []Transaction) {
	latest := map[string]Balance{}
	for _, t := range posted {
		for _, b := range t.After {
			k := b.Currency + "\x00" + b.Owner.String()
			if cur, ok := latest[k]; !ok || b.Version > cur.Version {
				latest[k] = b
			}
		}
	}
	for _, b := range latest {
		if !b.Overdraft.IsNegative() || !b.Available.IsPositive() {
			continue
		}
		if st, ok := SettleOverdraft(shop.ID, b.Currency, b.Owner, b); ok {
			_, _ = e.Ledger.Post(ctx, st)
		}
	}
}

// ApplyDeletion treats a deleted or trashed order (WooCommerce
// order.deleted carries only the id) as cancelled: its credit converges to
// zero. An order never seen is ignored. done as for ApplyOrder.
func (e *Earner) ApplyDeletion(ctx context.Context, shop Shop, orderID string, at time.Time, done *EventRef) (ApplyResult, error) {
	var res ApplyResult
	follow, done := e.following(shop, done)
	var known OrderState
	err := e.Orders.WithOrder(ctx, OrderWork{ShopID: shop.ID, OrderID: orderID, Done: done, Fn: func(tx OrderTx) error {
		res = ApplyResult{}
		known = OrderState{}
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		if st.Order.OrderID == "" {
			return nil
		}
		if at.After(st.Order.UpdatedAt) {
			st.Order.UpdatedAt = at
		}
		st.Order.Cancelled = true
		st.Order.Status = "deleted"
		if err := tx.SaveSnapshot(ctx, st.Order, st.Buyer); err != nil {
			return err
		}
		st.buyer = st.Buyer
		known = st
		return e.converge(ctx, tx, shop, st, &res)
	}})
	if err != nil {
		return res, err
	}
	res.Marked = done != nil
	e.notify(ctx, shop, res)
	return res, e.followStored(ctx, shop, follow, known)
}

// BalanceNotifier is told, after commit, whose balances changed (for
// example to keep a Shopify customer metafield in sync). It must not block.
type BalanceNotifier func(ctx context.Context, shop Shop, owners []Owner)

// changedOwners lists the owners touched by transactions.
func changedOwners(txs ...[]Transaction) []Owner {
	seen := map[Owner]bool{}
	var out []Owner
	for _, list := range txs {
		for _, t := range list {
			for _, p := range t.Postings {
				if p.Owner.Kind != OwnerProgram && !seen[p.Owner] {
					seen[p.Owner] = true
					out = append(out, p.Owner)
				}
			}
		}
	}
	return out
}

func (e *Earner) notify(ctx context.Context, shop Shop, res ApplyResult) {
	if e.Notify == nil {
		return
	}
	if owners := changedOwners(res.Posted, res.Redeemed); len(owners) > 0 {
		e.Notify(ctx, shop, owners)
	}
}
