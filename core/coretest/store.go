// Package coretest is an in-memory fake of core's store interfaces
// (core.Ledger with its holds, core.OrderStore with the order
// transaction's HoldTx, VoucherTx and RedemptionTx, and core.Directory),
// so the money rules in core get fast unit tests. It follows the
// PostgreSQL store's contract where the rules depend on it: idempotent
// posting on (shop, key) with ECONFLICT for other content, EINSUFFICIENT
// for a debit below zero, holds resolving once, an order's work applied
// all or nothing. It is for tests only; adapters/postgres stays the
// store of record and its tests the integration layer.
package coretest

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// Store is the in-memory store. The zero value is not usable: call New.
type Store struct {
	mu    sync.Mutex // one writer at a time (each call is one "database transaction")
	Now   func() time.Time
	data  *state
	rules map[int64][]core.Rule
	chain map[string][]core.Owner // order id -> partner chain
}

type balKey struct {
	shop     int64
	currency string
	owner    core.Owner
}

type orderKey struct {
	shop  int64
	order string
}

type state struct {
	txs      []core.Transaction
	byKey    map[string]int // shop/key -> index in txs
	bals     map[balKey]core.Balance
	holds    map[int64]core.Hold // by id (ids are global)
	orders   map[orderKey]*orderRec
	vouchers map[string]core.Voucher // shop/code -> voucher
	inbox    map[core.EventRef]core.InboxStatus
	nextID   int64
}

type orderRec struct {
	snap    core.Order
	seen    bool
	buyer   core.Owner
	refunds map[string]core.Refund
	rates   []core.FrozenRate
	reds    []core.Redemption
	held    []core.Withheld
	tier    []core.TierActivity
}

// New returns an empty store whose clock is time.Now.
func New() *Store {
	return &Store{Now: time.Now, data: newState(), rules: map[int64][]core.Rule{}, chain: map[string][]core.Owner{}}
}

func newState() *state {
	return &state{byKey: map[string]int{}, bals: map[balKey]core.Balance{}, holds: map[int64]core.Hold{},
		orders: map[orderKey]*orderRec{}, vouchers: map[string]core.Voucher{}, inbox: map[core.EventRef]core.InboxStatus{}}
}

// clone deep-copies what a failed unit of work must not leave behind.
func (s *state) clone() *state {
	c := &state{txs: append([]core.Transaction(nil), s.txs...), byKey: map[string]int{}, bals: map[balKey]core.Balance{},
		holds: map[int64]core.Hold{}, orders: map[orderKey]*orderRec{}, vouchers: map[string]core.Voucher{}, inbox: map[core.EventRef]core.InboxStatus{}, nextID: s.nextID}
	for k, v := range s.byKey {
		c.byKey[k] = v
	}
	for k, v := range s.bals {
		c.bals[k] = v
	}
	for k, v := range s.holds {
		c.holds[k] = v
	}
	for k, v := range s.vouchers {
		c.vouchers[k] = v
	}
	for k, v := range s.inbox {
		c.inbox[k] = v
	}
	for k, v := range s.orders {
		r := *v
		r.refunds = map[string]core.Refund{}
		for id, rf := range v.refunds {
			r.refunds[id] = rf
		}
		r.rates = append([]core.FrozenRate(nil), v.rates...)
		r.reds = append([]core.Redemption(nil), v.reds...)
		c.orders[k] = &r
	}
	return c
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// atomically runs fn on a copy of the state and keeps the copy only when
// fn succeeds (a failed call changes nothing, like a rolled-back
// database transaction).
func (s *Store) atomically(fn func(st *state) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.data.clone()
	if err := fn(c); err != nil {
		return err
	}
	s.data = c
	return nil
}

var (
	_ core.Ledger     = (*Store)(nil)
	_ core.OrderStore = (*Store)(nil)
	_ core.Directory  = (*Store)(nil)
)

// --- ledger ---

func txKey(shop int64, key string) string { return strconv.FormatInt(shop, 10) + "/" + key }

// post validates and applies t inside a unit of work.
func (s *Store) post(st *state, t core.Transaction) (core.Transaction, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	if i, ok := st.byKey[txKey(t.ShopID, t.Key)]; ok {
		prev := st.txs[i]
		if prev.Hash != t.Hash {
			return t, core.Errorf(core.ECONFLICT, "idempotency key %s was used for another transaction", t.Key)
		}
		prev.Replayed = true
		return prev, nil
	}
	var after []core.Balance
	for _, d := range t.Deltas {
		k := balKey{t.ShopID, d.Currency, d.Owner}
		b, ok := st.bals[k]
		if !ok {
			b = core.Balance{ShopID: t.ShopID, Currency: d.Currency, Owner: d.Owner}
		}
		b.Available, b.Pending = b.Available.Add(d.Available), b.Pending.Add(d.Pending)
		b.Held, b.Overdraft = b.Held.Add(d.Held), b.Overdraft.Add(d.Overdraft)
		if b.Available.IsNegative() || b.Pending.IsNegative() || b.Held.IsNegative() {
			return t, core.Errorf(core.EINSUFFICIENT, "not enough credit")
		}
		if b.Overdraft.IsPositive() {
			return t, core.Errorf(core.EINVALID, "transaction %s would make an overdraft positive", t.Key)
		}
		b.Version++
		st.bals[k] = b
		after = append(after, b)
	}
	st.nextID++
	t.ID = st.nextID
	t.CreatedAt = s.now().UTC()
	t.After = after
	st.byKey[txKey(t.ShopID, t.Key)] = len(st.txs)
	st.txs = append(st.txs, t)
	return t, nil
}

// Post stores a transaction (see core.Ledger).
func (s *Store) Post(ctx context.Context, t core.Transaction) (core.Transaction, error) {
	var out core.Transaction
	err := s.atomically(func(st *state) error {
		var err error
		out, err = s.post(st, t)
		return err
	})
	return out, err
}

// Balance returns an owner's balance (zero when it has none).
func (s *Store) Balance(ctx context.Context, shopID int64, currency string, owner core.Owner) (core.Balance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.data.bals[balKey{shopID, currency, owner}]; ok {
		return b, nil
	}
	return core.Balance{ShopID: shopID, Currency: currency, Owner: owner}, nil
}

// Statement lists an owner's entries, newest first, with running
// balances (Before/After paging by entry sequence, HideHolds).
func (s *Store) Statement(ctx context.Context, q core.StatementQuery) (core.StatementPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []core.StatementEntry
	var run core.Balance
	for _, t := range s.data.txs {
		if t.ShopID != q.ShopID {
			continue
		}
		for _, d := range t.Deltas {
			if d.Currency != q.Currency || d.Owner != q.Owner {
				continue
			}
			run.Available, run.Pending = run.Available.Add(d.Available), run.Pending.Add(d.Pending)
			run.Held, run.Overdraft = run.Held.Add(d.Held), run.Overdraft.Add(d.Overdraft)
			e := core.StatementEntry{Seq: int64(len(all) + 1), TransactionID: t.ID, Key: t.Key, Reason: t.Reason, Reverses: t.Reverses, Currency: d.Currency,
				Available: d.Available, Pending: d.Pending, Held: d.Held, Overdraft: d.Overdraft,
				AvailableAfter: run.Available, PendingAfter: run.Pending, HeldAfter: run.Held, OverdraftAfter: run.Overdraft, CreatedAt: t.CreatedAt}
			all = append(all, e)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var page core.StatementPage
	for i := len(all) - 1; i >= 0 && len(page.Entries) < limit; i-- {
		e := all[i]
		if q.Before > 0 && e.Seq >= q.Before || q.Before == 0 && q.After > 0 && e.Seq <= q.After || q.HideHolds && core.HoldOnly(e.Reason.Kind) {
			continue
		}
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}

// Transactions returns every stored transaction in the order posted.
func (s *Store) Transactions() []core.Transaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]core.Transaction(nil), s.data.txs...)
}

// --- holds ---

// Reserve places, keeps, replaces or releases a hold (core.PlanReserve),
// as the PostgreSQL store does under its locks.
func (s *Store) Reserve(ctx context.Context, r core.HoldRequest, amount func(spendable decimal.Decimal) (decimal.Decimal, error)) (core.Reservation, error) {
	if err := r.Owner.Validate(); err != nil {
		return core.Reservation{}, err
	}
	if r.Owner.Kind == core.OwnerProgram || r.ExpiresAt.IsZero() {
		return core.Reservation{}, core.Errorf(core.EINVALID, "a reservation needs a customer or partner and an expiry")
	}
	var res core.Reservation
	err := s.atomically(func(st *state) error {
		res = core.Reservation{}
		var cart *core.Hold
		if r.CartKey != "" {
			for _, h := range st.holds {
				if h.ShopID == r.ShopID && h.CartKey == r.CartKey && h.Status == core.HoldOpen {
					h := h
					cart = &h
				}
			}
		}
		d, err := core.PlanReserve(r, st.bals[balKey{r.ShopID, r.Currency, r.Owner}].Available, cart, amount)
		res.Spendable = d.Spendable
		if err != nil {
			return err
		}
		if d.Keep {
			if r.ExpiresAt.After(cart.ExpiresAt) {
				cart.ExpiresAt = r.ExpiresAt
			}
			st.holds[cart.ID] = *cart
			res.Hold = cart
			return nil
		}
		if d.Release {
			if _, err := s.resolve(st, *cart, decimal.Zero, core.Reason{Note: "replaced by a new quote"}, core.HoldVoided); err != nil {
				return err
			}
			res.Released = true
		}
		if !d.Place {
			return nil
		}
		st.nextID++
		id := st.nextID
		t, err := s.post(st, core.HoldPlacement(r.ShopID, id, r.Currency, r.Owner, d.Amount))
		if err != nil {
			return err
		}
		h := core.Hold{ID: id, ShopID: r.ShopID, Currency: r.Currency, Owner: r.Owner, Amount: d.Amount, Captured: decimal.Zero, Status: core.HoldOpen,
			CartKey: r.CartKey, ExpiresAt: r.ExpiresAt, CreatedAt: s.now().UTC(), PlaceTxID: t.ID}
		st.holds[id] = h
		res.Hold, res.Placed = &h, true
		return nil
	})
	return res, err
}

func (s *Store) resolve(st *state, h core.Hold, amount decimal.Decimal, reason core.Reason, status core.HoldStatus) (core.Hold, error) {
	t, err := core.HoldResolution(h, amount, reason, status)
	if err != nil {
		return h, err
	}
	p, err := s.post(st, t)
	if err != nil {
		return h, err
	}
	h.Status, h.Captured, h.ResolveTxID = status, amount, p.ID
	if reason.OrderID != "" {
		h.OrderID = reason.OrderID
	}
	st.holds[h.ID] = h
	return h, nil
}

// ResolveHold captures, voids or expires an open hold (see core.HoldStore).
func (s *Store) ResolveHold(ctx context.Context, shopID, holdID int64, amount decimal.Decimal, reason core.Reason, status core.HoldStatus) (core.Hold, error) {
	var out core.Hold
	err := s.atomically(func(st *state) error {
		h, ok := st.holds[holdID]
		if !ok || h.ShopID != shopID {
			return core.Errorf(core.ENOTFOUND, "hold not found")
		}
		if h.Status != core.HoldOpen {
			if h.ResolvedAs(status, amount) {
				out = h
				return nil
			}
			return core.Errorf(core.ECONFLICT, "hold %d is already %s", h.ID, h.Status)
		}
		var err error
		out, err = s.resolve(st, h, amount, reason, status)
		return err
	})
	return out, err
}

// GetHold returns a hold of a shop.
func (s *Store) GetHold(ctx context.Context, shopID, holdID int64) (core.Hold, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.data.holds[holdID]
	if !ok || h.ShopID != shopID {
		return core.Hold{}, core.Errorf(core.ENOTFOUND, "hold not found")
	}
	return h, nil
}

// OpenHoldByCart returns the open hold of a cart (ENOTFOUND if none).
func (s *Store) OpenHoldByCart(ctx context.Context, shopID int64, cartKey string) (core.Hold, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.data.holds {
		if h.ShopID == shopID && h.CartKey == cartKey && h.Status == core.HoldOpen {
			return h, nil
		}
	}
	return core.Hold{}, core.Errorf(core.ENOTFOUND, "hold not found")
}

// ExpiredHolds lists open holds whose expiry passed, earliest first.
func (s *Store) ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]core.Hold, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.Hold
	for _, h := range s.data.holds {
		if h.Status == core.HoldOpen && !h.ExpiresAt.After(now) {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExpiresAt.Before(out[j].ExpiresAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// --- vouchers ---

// IssueVoucher stores a voucher (status issued) and posts its issue:
// amount from the owner's available credit to the program's vouchers
// bucket, as the voucher store does.
func (s *Store) IssueVoucher(v core.Voucher) (core.Voucher, error) {
	err := s.atomically(func(st *state) error {
		st.nextID++
		v.ID, v.Code, v.Status = st.nextID, strings.ToLower(v.Code), core.VoucherIssued
		id := strconv.FormatInt(v.ID, 10)
		if _, err := s.post(st, core.Transaction{ShopID: v.ShopID, Key: "voucher:" + id + ":issue", Reason: core.Reason{Kind: core.ReasonVoucherIssue, VoucherID: id},
			Postings: []core.Posting{
				{Currency: v.Currency, Owner: v.Owner, Bucket: core.BucketAvailable, Amount: v.Amount.Neg()},
				{Currency: v.Currency, Owner: core.ProgramOwner, Bucket: core.ProgramVouchers, Amount: v.Amount},
			}}); err != nil {
			return err
		}
		st.vouchers[txKey(v.ShopID, v.Code)] = v
		return nil
	})
	return v, err
}

// Voucher returns a voucher by code.
func (s *Store) Voucher(shopID int64, code string) (core.Voucher, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data.vouchers[txKey(shopID, strings.ToLower(code))]
	return v, ok
}

// --- inbox marks ---

// AddEvent records an inbox event as received (so OrderWork.Done can
// mark it).
func (s *Store) AddEvent(ref core.EventRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data.inbox[ref] = core.InboxReceived
}

// EventStatus returns a recorded event's status ("" when unknown).
func (s *Store) EventStatus(ref core.EventRef) core.InboxStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.inbox[ref]
}

// --- directory ---

// SetRules sets a shop's credit rules.
func (s *Store) SetRules(shopID int64, rules []core.Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules[shopID] = rules
}

// SetPartnerChain sets the partner owners an order credits (level 1
// first).
func (s *Store) SetPartnerChain(orderID string, chain []core.Owner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chain[orderID] = chain
}

// CustomerOwner maps a buyer to its owner: a platform customer to
// core.CustomerOwnerID, a guest to its normalized e-mail.
func (s *Store) CustomerOwner(ctx context.Context, shop core.Shop, c core.CustomerRef) (core.Owner, error) {
	if c.PlatformID != "" {
		return core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(c.PlatformID)}, nil
	}
	return core.Owner{Kind: core.OwnerCustomer, ID: "guest:" + core.NormalizeEmail(c.Email)}, nil
}

// PartnerChain returns the chain set for the order (SetPartnerChain).
func (s *Store) PartnerChain(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner) ([]core.Owner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chain[o.OrderID], nil
}

// Rules returns the shop's rules (SetRules).
func (s *Store) Rules(ctx context.Context, shopID int64) ([]core.Rule, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]core.Rule(nil), s.rules[shopID]...), nil
}
