package core

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// OwnerKind says who owns an account.
type OwnerKind string

// Owner kinds.
const (
	OwnerCustomer OwnerKind = "customer"
	OwnerPartner  OwnerKind = "partner"
	OwnerProgram  OwnerKind = "program"
)

// Bucket is the part of an owner's credit, or the program account, a
// posting touches. The balance of a bucket is the sum of its postings.
type Bucket string

// Owner buckets. Available, pending and held never go below zero; overdraft
// never goes above zero (it records credit an order used that the owner did
// not have, and later earnings pay it back).
const (
	BucketAvailable Bucket = "available"
	BucketPending   Bucket = "pending"
	BucketHeld      Bucket = "held"
	BucketOverdraft Bucket = "overdraft"
)

// Program buckets: the shop's side of every transaction. They may take any
// sign and have no stored balance row (they are derived by aggregation) so
// they never serialize a shop's writes.
const (
	ProgramIssued      Bucket = "issued"      // credit earned by owners (negative as credit is issued)
	ProgramRedeemed    Bucket = "redeemed"    // credit spent on orders
	ProgramExpired     Bucket = "expired"     // credit that expired
	ProgramVouchers    Bucket = "vouchers"    // credit turned into outstanding voucher codes
	ProgramAdjustments Bucket = "adjustments" // manual corrections
)

// Owner identifies an account holder inside a shop. The program owner has
// Kind OwnerProgram and an empty ID.
type Owner struct {
	Kind OwnerKind `json:"kind"`
	ID   string    `json:"id"`
}

// ProgramOwner is the shop's program.
var ProgramOwner = Owner{Kind: OwnerProgram}

func (o Owner) String() string { return string(o.Kind) + ":" + o.ID }

// Validate checks an owner.
func (o Owner) Validate() error {
	switch o.Kind {
	case OwnerCustomer, OwnerPartner:
		if o.ID == "" || len(o.ID) > 200 {
			return Errorf(EINVALID, "owner %s needs an id of 1..200 characters", o.Kind)
		}
	case OwnerProgram:
		if o.ID != "" {
			return Errorf(EINVALID, "program owner has no id")
		}
	default:
		return Errorf(EINVALID, "unknown owner kind %q", o.Kind)
	}
	return nil
}

func validBucket(o OwnerKind, b Bucket) bool {
	if o == OwnerProgram {
		switch b {
		case ProgramIssued, ProgramRedeemed, ProgramExpired, ProgramVouchers, ProgramAdjustments:
			return true
		}
		return false
	}
	switch b {
	case BucketAvailable, BucketPending, BucketHeld, BucketOverdraft:
		return true
	}
	return false
}

// Posting moves Amount into (positive) or out of (negative) one bucket.
type Posting struct {
	Currency string          `json:"currency"`
	Owner    Owner           `json:"owner"`
	Bucket   Bucket          `json:"bucket"`
	Amount   decimal.Decimal `json:"amount"`
}

// ReasonKind says why a transaction exists.
type ReasonKind string

// Reason kinds.
const (
	ReasonEarn            ReasonKind = "earn"              // order line earned credit
	ReasonEarnReversal    ReasonKind = "earn_reversal"     // refund/cancellation reversed earned credit
	ReasonHoldPlace       ReasonKind = "hold_place"        // checkout reserved credit
	ReasonHoldCapture     ReasonKind = "hold_capture"      // paid order consumed reserved credit
	ReasonHoldVoid        ReasonKind = "hold_void"         // reservation released
	ReasonHoldExpire      ReasonKind = "hold_expire"       // reservation timed out
	ReasonRedeem          ReasonKind = "redeem"            // order used credit without a hold
	ReasonRedeemReversal  ReasonKind = "redeem_reversal"   // order that used credit was cancelled
	ReasonOverdraftSettle ReasonKind = "overdraft_settle"  // later credit paid back an overdraft
	ReasonVoucherIssue    ReasonKind = "voucher_issue"     // credit turned into a voucher code
	ReasonVoucherSettle   ReasonKind = "voucher_settle"    // voucher used on an order
	ReasonVoucherReturn   ReasonKind = "voucher_return"    // unused voucher expired, credit returned
	ReasonVoucherFailed   ReasonKind = "voucher_failed"    // the platform could not create the code, credit returned
	ReasonMature          ReasonKind = "mature"            // pending credit became available
	ReasonStoreCreditUse  ReasonKind = "store_credit_use"  // credit spent as Shopify store credit on an order
	ReasonStoreCreditBack ReasonKind = "store_credit_back" // store credit given back on an order (refund to store credit)
	ReasonAdjustment      ReasonKind = "adjustment"        // manual correction by an actor
)

// Reason records why a transaction exists: what the statement and the
// merchant's review are built from. It never holds personal data.
type Reason struct {
	Kind        ReasonKind `json:"kind"`
	OrderID     string     `json:"order_id,omitempty"`
	OrderNumber string     `json:"order_number,omitempty"`
	LineID      string     `json:"line_id,omitempty"`
	ProductID   string     `json:"product_id,omitempty"`
	VariantID   string     `json:"variant_id,omitempty"`
	SKU         string     `json:"sku,omitempty"`
	Product     string     `json:"product,omitempty"` // product title for display
	Rule        string     `json:"rule,omitempty"`    // rule description, e.g. "sku:ABC 5%"
	Beneficiary string     `json:"beneficiary,omitempty"`
	RefundID    string     `json:"refund_id,omitempty"`
	HoldID      string     `json:"hold_id,omitempty"`
	VoucherID   string     `json:"voucher_id,omitempty"`
	Actor       string     `json:"actor,omitempty"`
	Note        string     `json:"note,omitempty"`
	// Internal is the merchant's own note on an adjustment; customer
	// views never show it.
	Internal string `json:"internal,omitempty"`
	// Cap names the earning cap that cut an earn entry's credit
	// (article, order, customer_year; Note says how much was not booked).
	Cap string `json:"cap,omitempty"`
	// Lines are the order lines an earn or earn_reversal transaction of
	// one (order, beneficiary) moved credit for, each with its own
	// amount: the per-line detail refunds and the audit work from.
	// Transactions posted before per-order earnings have none and name
	// their one line in LineID.
	Lines []ReasonLine `json:"lines,omitempty"`
}

// ReasonLine is one order line of an earn or earn_reversal transaction.
type ReasonLine struct {
	LineID    string          `json:"line_id"`
	ProductID string          `json:"product_id,omitempty"`
	VariantID string          `json:"variant_id,omitempty"`
	SKU       string          `json:"sku,omitempty"`
	Product   string          `json:"product,omitempty"`
	Rule      string          `json:"rule,omitempty"`
	Amount    decimal.Decimal `json:"amount"` // signed change of the beneficiary's credit for the line
	Cap       string          `json:"cap,omitempty"`
	Note      string          `json:"note,omitempty"`
}

// Transaction is a balanced set of postings with a business idempotency key
// unique per shop.
type Transaction struct {
	ID        int64        `json:"id"`
	ShopID    int64        `json:"shop_id"`
	Key       string       `json:"key"`
	Reason    Reason       `json:"reason"`
	Reverses  int64        `json:"reverses,omitempty"` // id of the transaction this one reverses
	Postings  []Posting    `json:"postings"`
	CreatedAt time.Time    `json:"created_at"`
	Hash      [32]byte     `json:"-"`
	Replayed  bool         `json:"-"` // true when Post found the same transaction already stored
	Deltas    []OwnerDelta `json:"-"` // filled by Validate
	// After holds the touched owners' balances right after this
	// transaction (filled by the store for new transactions).
	After []Balance `json:"-"`
}

// OwnerDelta is the net change of one owner's buckets in one currency
// within a transaction.
type OwnerDelta struct {
	Currency  string
	Owner     Owner
	Available decimal.Decimal
	Pending   decimal.Decimal
	Held      decimal.Decimal
	Overdraft decimal.Decimal
}

// Debits reports whether the delta takes anything out of available, pending
// or held (the buckets that must not go below zero) or deepens an overdraft.
func (d OwnerDelta) Debits() bool {
	return d.Available.IsNegative() || d.Pending.IsNegative() || d.Held.IsNegative() || d.Overdraft.IsNegative()
}

// MaxKeyLen bounds idempotency keys.
const MaxKeyLen = 255

// Validate checks the transaction's invariants: a key, at least two
// postings, known currencies with amounts at their scale, valid owners and
// buckets, and a zero sum per currency. It also computes Hash and Deltas.
func (t *Transaction) Validate() error {
	if t.ShopID <= 0 {
		return Errorf(EINVALID, "transaction needs a shop")
	}
	if t.Key == "" || len(t.Key) > MaxKeyLen {
		return Errorf(EINVALID, "transaction needs an idempotency key of 1..%d characters", MaxKeyLen)
	}
	if t.Reason.Kind == "" {
		return Errorf(EINVALID, "transaction %s needs a reason", t.Key)
	}
	if t.Reason.Kind == ReasonAdjustment && (t.Reason.Actor == "" || t.Reason.Note == "") {
		return Errorf(EINVALID, "adjustment %s needs an actor and a note", t.Key)
	}
	if len(t.Postings) < 2 {
		return Errorf(EINVALID, "transaction %s needs at least two postings", t.Key)
	}
	sums := map[string]decimal.Decimal{}
	for i, p := range t.Postings {
		if err := p.Owner.Validate(); err != nil {
			return err
		}
		if !validBucket(p.Owner.Kind, p.Bucket) {
			return Errorf(EINVALID, "posting %d: bucket %q is not valid for a %s account", i, p.Bucket, p.Owner.Kind)
		}
		if _, err := CurrencyScale(p.Currency); err != nil {
			return err
		}
		if err := CheckScale(p.Currency, p.Amount); err != nil {
			return err
		}
		if p.Amount.IsZero() {
			return Errorf(EINVALID, "posting %d of %s has a zero amount", i, t.Key)
		}
		sums[p.Currency] = sums[p.Currency].Add(p.Amount)
	}
	for cur, s := range sums {
		if !s.IsZero() {
			return Errorf(EINVALID, "transaction %s does not balance in %s: postings sum to %s", t.Key, cur, s.String())
		}
	}
	t.Deltas = ownerDeltas(t.Postings)
	t.Hash = t.contentHash()
	return nil
}

// ownerDeltas nets the postings per (currency, owner), sorted by
// (currency, kind, id): the order in which balance rows are locked.
func ownerDeltas(ps []Posting) []OwnerDelta {
	idx := map[string]int{}
	var out []OwnerDelta
	for _, p := range ps {
		if p.Owner.Kind == OwnerProgram {
			continue
		}
		k := p.Currency + "\x00" + p.Owner.String()
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, OwnerDelta{Currency: p.Currency, Owner: p.Owner})
		}
		d := &out[i]
		switch p.Bucket {
		case BucketAvailable:
			d.Available = d.Available.Add(p.Amount)
		case BucketPending:
			d.Pending = d.Pending.Add(p.Amount)
		case BucketHeld:
			d.Held = d.Held.Add(p.Amount)
		case BucketOverdraft:
			d.Overdraft = d.Overdraft.Add(p.Amount)
		}
	}
	sort.Slice(out, func(i, j int) bool { return LessOwnerKey(out[i].Currency, out[i].Owner, out[j].Currency, out[j].Owner) })
	return out
}

// LessOwnerKey is the global lock order of owner balance rows.
func LessOwnerKey(ca string, a Owner, cb string, b Owner) bool {
	if ca != cb {
		return ca < cb
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.ID < b.ID
}

// contentHash is a canonical digest of what the transaction does: reason,
// reversal link and postings (order-independent). Same key + same hash is a
// replay; same key + other hash is a conflict.
func (t *Transaction) contentHash() [32]byte {
	h := sha256.New()
	w := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	r := t.Reason
	for _, s := range []string{string(r.Kind), r.OrderID, r.OrderNumber, r.LineID, r.ProductID, r.VariantID, r.SKU, r.Product, r.Rule, r.Beneficiary, r.RefundID, r.HoldID, r.VoucherID, r.Actor, r.Note} {
		w(s)
	}
	if r.Cap != "" { // only when set, so older transactions keep their hash
		w("cap")
		w(r.Cap)
	}
	if len(r.Lines) > 0 { // likewise
		w("lines")
		for _, l := range r.Lines {
			for _, s := range []string{l.LineID, l.ProductID, l.VariantID, l.SKU, l.Product, l.Rule, l.Amount.String(), l.Cap, l.Note} {
				w(s)
			}
		}
	}
	var rv [8]byte
	binary.BigEndian.PutUint64(rv[:], uint64(t.Reverses))
	h.Write(rv[:])
	lines := make([]string, len(t.Postings))
	for i, p := range t.Postings {
		lines[i] = strings.Join([]string{p.Currency, string(p.Owner.Kind), p.Owner.ID, string(p.Bucket), p.Amount.String()}, "\x00")
	}
	sort.Strings(lines)
	for _, l := range lines {
		w(l)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Balance is an owner's credit in one currency.
type Balance struct {
	ShopID    int64           `json:"-"`
	Currency  string          `json:"currency"`
	Owner     Owner           `json:"owner"`
	Available decimal.Decimal `json:"available"`
	Pending   decimal.Decimal `json:"pending"`
	Held      decimal.Decimal `json:"held"`
	Overdraft decimal.Decimal `json:"overdraft"`
	Version   int64           `json:"version"` // number of entries so far
}

// StatementEntry is one transaction as seen by one owner, with the owner's
// balances right after it.
type StatementEntry struct {
	Seq            int64           `json:"seq"`
	TransactionID  int64           `json:"transaction_id"`
	Key            string          `json:"key"`
	Reason         Reason          `json:"reason"`
	Reverses       int64           `json:"reverses,omitempty"`
	Currency       string          `json:"currency"`
	Available      decimal.Decimal `json:"available"` // change of available
	Pending        decimal.Decimal `json:"pending"`
	Held           decimal.Decimal `json:"held"`
	Overdraft      decimal.Decimal `json:"overdraft"`
	AvailableAfter decimal.Decimal `json:"available_after"`
	PendingAfter   decimal.Decimal `json:"pending_after"`
	HeldAfter      decimal.Decimal `json:"held_after"`
	OverdraftAfter decimal.Decimal `json:"overdraft_after"`
	CreatedAt      time.Time       `json:"created_at"`
}

// StatementQuery selects a page of an owner's statement, newest first.
// Before is the cursor: only entries with Seq < Before (0 = from newest).
// After pages the other way: the entries with Seq > After closest to it
// (still returned newest first); Before wins when both are set.
//
// HideHolds leaves out hold placements and releases (hold_place,
// hold_void, hold_expire): each only moves credit between available and
// held, so for a customer they are noise (one pair per cart visit). The
// ledger keeps them and the merchant sees them.
type StatementQuery struct {
	ShopID    int64
	Currency  string
	Owner     Owner
	Before    int64
	After     int64
	Limit     int
	HideHolds bool
}

// StatementPage is a page of a statement. NextBefore is 0 on the last
// page (the oldest entries), PrevAfter is 0 on the first (the newest).
type StatementPage struct {
	Entries []StatementEntry `json:"entries"`
	// Withheld is the credit earning caps kept from being booked, per
	// order and cap, that falls into this page's stretch of time (from
	// its oldest entry to the next newer entry; the first and last pages
	// are open-ended), newest first.
	Withheld   []WithheldNotice `json:"withheld,omitempty"`
	NextBefore int64            `json:"next_before,omitempty"`
	PrevAfter  int64            `json:"prev_after,omitempty"`
}

// HoldOnly reports whether a reason only moves credit between an owner's
// available and held buckets (see StatementQuery.HideHolds).
func HoldOnly(k ReasonKind) bool {
	return k == ReasonHoldPlace || k == ReasonHoldVoid || k == ReasonHoldExpire
}

// Ledger is the store of transactions, balances and holds.
//
// Post is idempotent on (shop, key): the same key with the same content
// returns the stored transaction with Replayed set; other content is
// ECONFLICT. A transaction that would take available, pending or held below
// zero fails with EINSUFFICIENT and changes nothing.
type Ledger interface {
	Post(ctx context.Context, t Transaction) (Transaction, error)
	Balance(ctx context.Context, shopID int64, currency string, owner Owner) (Balance, error)
	Statement(ctx context.Context, q StatementQuery) (StatementPage, error)

	// HoldStore: checkout holds (see Holds).
	HoldStore
}

// PostingRecord is one posting with its transaction's business context:
// the row of the accounting export.
type PostingRecord struct {
	CreatedAt     time.Time
	TransactionID int64
	Key           string
	Reverses      int64
	Reason        Reason
	Currency      string
	Owner         Owner
	Bucket        Bucket
	Amount        decimal.Decimal
	// OrderTax is the tax split of the credit the posting's order used,
	// when the platform reported it (set by the accounting export for
	// redemptions only).
	OrderTax *OrderTaxSplit
}

// OrderTaxSplit is what the credit an order used reduced: Amount in
// total (gross), Net and Tax of it.
type OrderTaxSplit struct {
	Amount decimal.Decimal
	Net    decimal.Decimal
	Tax    decimal.Decimal
}
