package core

import (
	"context"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Shopify store credit as a redemption mode (RedemptionStoreCredit).
//
// The ledger stays the system of record. Each customer's spendable credit
// is mirrored into their Shopify store credit account (jobs/storecredit.go
// pushes the difference between the ledger and what was mirrored). The
// customer spends it at checkout as a payment; the order then carries
// transactions with gateway shopify_store_credit, and a refund paid in
// store credit carries one of kind refund. BookStoreCredit turns an
// order's store credit movements into ledger transactions, converging
// like the order itself: replaying it changes nothing, a later snapshot
// with more movements posts only the difference.

// StoreCreditGateway is the payment gateway of store credit transactions
// on Shopify orders and refunds.
const StoreCreditGateway = "shopify_store_credit"

// StoreCreditUse is what an order moved in store credit: Spent at
// checkout (successful sales and captures) and Refunded to store credit
// (successful refunds), both in the shop currency.
type StoreCreditUse struct {
	OrderID     string
	OrderNumber string
	Currency    string
	Owner       Owner
	Spent       decimal.Decimal
	Refunded    decimal.Decimal
}

// StoreCreditBook books an order's store credit use in the ledger and
// moves the owner's mirrored amount by the same change, in one database
// transaction, serialized per order.
type StoreCreditBook interface {
	BookStoreCredit(ctx context.Context, shopID int64, use StoreCreditUse) (*Transaction, error)
}

// PlanStoreCredit returns the transaction that brings an order's booked
// store credit to use, or nil when it already matches. posted are the
// order's transactions; funds the owner's balance. Spent is redeemed
// credit; what was refunded up to what was spent takes it back; what was
// refunded beyond it (a card payment refunded to store credit) is new
// credit issued to the owner, so the books and Shopify's balance agree.
// Credit taken beyond the available balance becomes a recorded overdraft;
// credit given back first repays an overdraft. The owner's balance (and
// Shopify's) moves by the returned delta.
func PlanStoreCredit(shopID int64, use StoreCreditUse, posted []Transaction, funds Balance) (*Transaction, decimal.Decimal, error) {
	if err := use.Owner.Validate(); err != nil {
		return nil, decimal.Zero, err
	}
	if use.Spent.IsNegative() || use.Refunded.IsNegative() {
		return nil, decimal.Zero, Errorf(EINVALID, "store credit amounts must not be negative")
	}
	if err := CheckScale(use.Currency, use.Spent); err != nil {
		return nil, decimal.Zero, err
	}
	if err := CheckScale(use.Currency, use.Refunded); err != nil {
		return nil, decimal.Zero, err
	}
	bookedRedeemed, bookedIssued, n := decimal.Zero, decimal.Zero, 0
	for _, t := range posted {
		if t.Reason.OrderID != use.OrderID || (t.Reason.Kind != ReasonStoreCreditUse && t.Reason.Kind != ReasonStoreCreditBack) {
			continue
		}
		n++
		for _, p := range t.Postings {
			if p.Owner.Kind != OwnerProgram || p.Currency != use.Currency {
				continue
			}
			switch p.Bucket {
			case ProgramRedeemed:
				bookedRedeemed = bookedRedeemed.Add(p.Amount)
			case ProgramIssued:
				bookedIssued = bookedIssued.Add(p.Amount)
			}
		}
	}
	back := decimal.Min(use.Refunded, use.Spent)
	wantRedeemed := use.Spent.Sub(back)
	wantIssued := use.Refunded.Sub(back).Neg() // issued is negative as credit is issued
	dRedeemed, dIssued := wantRedeemed.Sub(bookedRedeemed), wantIssued.Sub(bookedIssued)
	delta := dRedeemed.Add(dIssued).Neg() // the owner's change
	if dRedeemed.IsZero() && dIssued.IsZero() {
		return nil, decimal.Zero, nil
	}
	t := Transaction{ShopID: shopID, Key: "order:" + use.OrderID + ":store-credit:v" + strconv.Itoa(n+1),
		Reason: Reason{OrderID: use.OrderID, OrderNumber: use.OrderNumber}}
	if !dRedeemed.IsZero() {
		t.Postings = append(t.Postings, Posting{Currency: use.Currency, Owner: ProgramOwner, Bucket: ProgramRedeemed, Amount: dRedeemed})
	}
	if !dIssued.IsZero() {
		t.Postings = append(t.Postings, Posting{Currency: use.Currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: dIssued})
	}
	switch {
	case delta.IsNegative():
		t.Reason.Kind, t.Reason.Note = ReasonStoreCreditUse, "paid with store credit"
		take := decimal.Min(delta.Neg(), decimal.Max(funds.Available, decimal.Zero))
		if take.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: use.Currency, Owner: use.Owner, Bucket: BucketAvailable, Amount: take.Neg()})
		}
		if short := delta.Neg().Sub(take); short.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: use.Currency, Owner: use.Owner, Bucket: BucketOverdraft, Amount: short.Neg()})
		}
	case delta.IsPositive():
		t.Reason.Kind, t.Reason.Note = ReasonStoreCreditBack, "refunded to store credit"
		repay := decimal.Min(delta, decimal.Max(funds.Overdraft.Neg(), decimal.Zero))
		if repay.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: use.Currency, Owner: use.Owner, Bucket: BucketOverdraft, Amount: repay})
		}
		if rest := delta.Sub(repay); rest.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: use.Currency, Owner: use.Owner, Bucket: BucketAvailable, Amount: rest})
		}
	default:
		// Only the split between redeemed and issued changed (a refund
		// beyond the spend turned into a later spend): no owner posting.
		t.Reason.Kind, t.Reason.Note = ReasonStoreCreditBack, "store credit rebooked"
	}
	return &t, delta, nil
}

// MirrorState is what creditbridge believes a customer's Shopify store
// credit account holds (Mirrored), a push in flight, and the difference
// to Shopify's balance the reconciler last saw.
type MirrorState struct {
	Mirrored  decimal.Decimal
	Pending   decimal.NullDecimal
	PendingAt time.Time
	Gap       decimal.NullDecimal
	GapSince  time.Time
}

// StoreCreditMirrors persists the store credit mirror (adapters/postgres).
type StoreCreditMirrors interface {
	StoreCreditBook
	Mirror(ctx context.Context, shopID int64, ownerID, currency string) (MirrorState, error)
	// BeginPush records a push (signed amount) before it is sent;
	// FinishPush moves the mirror by what Shopify applied and clears it.
	BeginPush(ctx context.Context, shopID int64, ownerID, currency string, amount decimal.Decimal) error
	FinishPush(ctx context.Context, shopID int64, ownerID, currency string, applied decimal.Decimal) error
	// NoteGap records Shopify's balance minus the mirror and returns since
	// when that gap has stood; AdoptGap books a standing gap in the ledger
	// (an adjustment) and moves the mirror by it.
	NoteGap(ctx context.Context, shopID int64, ownerID, currency string, gap decimal.Decimal, now time.Time) (time.Time, error)
	AdoptGap(ctx context.Context, shopID int64, owner Owner, currency string, gap decimal.Decimal) (*Transaction, error)
	// StoreCreditOwners pages through the customers with a mirror or with
	// credit in currency, by owner id (mirroredOnly: those with credit
	// mirrored into Shopify only).
	StoreCreditOwners(ctx context.Context, shopID int64, currency, after string, limit int, mirroredOnly bool) ([]string, error)
}
