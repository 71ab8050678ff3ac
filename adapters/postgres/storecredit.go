package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// StoreCreditStore keeps the Shopify store credit mirror (table
// store_credit_mirror) and books orders paid or refunded in store credit.
type StoreCreditStore struct {
	L *LedgerStore
}

var _ core.StoreCreditMirrors = StoreCreditStore{}

// BookStoreCredit converges the order's store credit transactions on use
// (core.PlanStoreCredit) and moves the mirrored amount by the owner's
// change, in one database transaction, serialized per order.
func (s StoreCreditStore) BookStoreCredit(ctx context.Context, shopID int64, use core.StoreCreditUse) (*core.Transaction, error) {
	var out *core.Transaction
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::bigint::text || ':store-credit:' || $2::text, 0))`, shopID, use.OrderID); err != nil {
			return fmt.Errorf("postgres: lock order: %w", err)
		}
		posted, err := txsForOrder(ctx, tx, shopID, use.OrderID)
		if err != nil {
			return err
		}
		funds, err := lockedBalance(ctx, tx, shopID, use.Currency, use.Owner)
		if err != nil {
			return err
		}
		t, delta, err := core.PlanStoreCredit(shopID, use, posted, funds)
		if err != nil || t == nil {
			return err
		}
		p, err := s.L.postInTx(ctx, tx, *t)
		if err != nil {
			return err
		}
		if !delta.IsZero() {
			if _, err := tx.Exec(ctx, `INSERT INTO store_credit_mirror (shop_id, owner_id, currency, mirrored) VALUES ($1, $2, $3, $4)
ON CONFLICT (shop_id, owner_id, currency) DO UPDATE SET mirrored = store_credit_mirror.mirrored + EXCLUDED.mirrored`,
				shopID, use.Owner.ID, use.Currency, delta); err != nil {
				return fmt.Errorf("postgres: move store credit mirror: %w", err)
			}
		}
		out = &p
		return nil
	})
	return out, err
}

func lockedBalance(ctx context.Context, tx pgx.Tx, shopID int64, currency string, owner core.Owner) (core.Balance, error) {
	b := core.Balance{ShopID: shopID, Currency: currency, Owner: owner}
	err := tx.QueryRow(ctx, `SELECT available, pending, held, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`, shopID, currency, string(owner.Kind), owner.ID).
		Scan(&b.Available, &b.Pending, &b.Held, &b.Overdraft, &b.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, nil
	}
	if err != nil {
		return b, fmt.Errorf("postgres: balance: %w", err)
	}
	return b, nil
}

// Mirror returns the owner's mirror row (zero when there is none).
func (s StoreCreditStore) Mirror(ctx context.Context, shopID int64, ownerID, currency string) (core.MirrorState, error) {
	var m core.MirrorState
	var pendingAt, gapSince *time.Time
	err := s.L.pool.QueryRow(ctx, `SELECT mirrored, pending, pending_at, gap, gap_since FROM store_credit_mirror
WHERE shop_id = $1 AND owner_id = $2 AND currency = $3`, shopID, ownerID, currency).Scan(&m.Mirrored, &m.Pending, &pendingAt, &m.Gap, &gapSince)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.MirrorState{}, nil
	}
	if err != nil {
		return m, fmt.Errorf("postgres: store credit mirror: %w", err)
	}
	if pendingAt != nil {
		m.PendingAt = *pendingAt
	}
	if gapSince != nil {
		m.GapSince = *gapSince
	}
	return m, nil
}

// BeginPush records a push of amount (signed) before it is sent.
func (s StoreCreditStore) BeginPush(ctx context.Context, shopID int64, ownerID, currency string, amount decimal.Decimal) error {
	_, err := s.L.pool.Exec(ctx, `INSERT INTO store_credit_mirror (shop_id, owner_id, currency, pending, pending_at) VALUES ($1, $2, $3, $4, now())
ON CONFLICT (shop_id, owner_id, currency) DO UPDATE SET pending = EXCLUDED.pending, pending_at = EXCLUDED.pending_at`, shopID, ownerID, currency, amount)
	if err != nil {
		return fmt.Errorf("postgres: begin store credit push: %w", err)
	}
	return nil
}

// FinishPush settles the push in flight: applied (signed, possibly zero)
// is what Shopify took; the mirror moves by it.
func (s StoreCreditStore) FinishPush(ctx context.Context, shopID int64, ownerID, currency string, applied decimal.Decimal) error {
	_, err := s.L.pool.Exec(ctx, `UPDATE store_credit_mirror SET mirrored = mirrored + $4, pending = NULL, pending_at = NULL, synced_at = now()
WHERE shop_id = $1 AND owner_id = $2 AND currency = $3`, shopID, ownerID, currency, applied)
	if err != nil {
		return fmt.Errorf("postgres: finish store credit push: %w", err)
	}
	return nil
}

// NoteGap records the difference between Shopify's balance and the
// mirror the reconciler saw, and returns since when that difference has
// stood (now for a new one). A zero gap clears it.
func (s StoreCreditStore) NoteGap(ctx context.Context, shopID int64, ownerID, currency string, gap decimal.Decimal, now time.Time) (time.Time, error) {
	if gap.IsZero() {
		_, err := s.L.pool.Exec(ctx, `UPDATE store_credit_mirror SET gap = NULL, gap_since = NULL WHERE shop_id = $1 AND owner_id = $2 AND currency = $3`,
			shopID, ownerID, currency)
		return now, err
	}
	var since time.Time
	err := s.L.pool.QueryRow(ctx, `INSERT INTO store_credit_mirror (shop_id, owner_id, currency, gap, gap_since) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, owner_id, currency) DO UPDATE SET
	gap_since = CASE WHEN store_credit_mirror.gap = EXCLUDED.gap THEN store_credit_mirror.gap_since ELSE EXCLUDED.gap_since END,
	gap = EXCLUDED.gap
RETURNING gap_since`, shopID, ownerID, currency, gap, now).Scan(&since)
	if err != nil {
		return now, fmt.Errorf("postgres: note store credit gap: %w", err)
	}
	return since, nil
}

// AdoptGap books a standing difference between Shopify's balance and the
// mirror as a ledger adjustment (store credit changed in Shopify: given
// in the admin, expired, or an order whose webhooks never came) and moves
// the mirror by it, so the ledger follows Shopify. It does nothing unless
// the recorded gap still equals gap.
func (s StoreCreditStore) AdoptGap(ctx context.Context, shopID int64, owner core.Owner, currency string, gap decimal.Decimal) (*core.Transaction, error) {
	var out *core.Transaction
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		var cur decimal.NullDecimal
		var since *time.Time
		err := tx.QueryRow(ctx, `SELECT gap, gap_since FROM store_credit_mirror WHERE shop_id = $1 AND owner_id = $2 AND currency = $3 FOR UPDATE`,
			shopID, owner.ID, currency).Scan(&cur, &since)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: store credit gap: %w", err)
		}
		if err != nil || !cur.Valid || !cur.Decimal.Equal(gap) || since == nil {
			return nil // no gap, or another one by now
		}
		funds, err := lockedBalance(ctx, tx, shopID, currency, owner)
		if err != nil {
			return err
		}
		t := core.Transaction{ShopID: shopID, Key: "store-credit:" + owner.ID + ":" + currency + ":gap:" + strconv.FormatInt(since.UnixNano(), 10),
			Reason:   core.Reason{Kind: core.ReasonAdjustment, Actor: "shopify", Note: "store credit changed in Shopify (reconciled)"},
			Postings: []core.Posting{{Currency: currency, Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: gap.Neg()}}}
		if gap.IsPositive() {
			repay := decimal.Min(gap, decimal.Max(funds.Overdraft.Neg(), decimal.Zero))
			if repay.IsPositive() {
				t.Postings = append(t.Postings, core.Posting{Currency: currency, Owner: owner, Bucket: core.BucketOverdraft, Amount: repay})
			}
			if rest := gap.Sub(repay); rest.IsPositive() {
				t.Postings = append(t.Postings, core.Posting{Currency: currency, Owner: owner, Bucket: core.BucketAvailable, Amount: rest})
			}
		} else {
			take := decimal.Min(gap.Neg(), decimal.Max(funds.Available, decimal.Zero))
			if take.IsPositive() {
				t.Postings = append(t.Postings, core.Posting{Currency: currency, Owner: owner, Bucket: core.BucketAvailable, Amount: take.Neg()})
			}
			if short := gap.Neg().Sub(take); short.IsPositive() {
				t.Postings = append(t.Postings, core.Posting{Currency: currency, Owner: owner, Bucket: core.BucketOverdraft, Amount: short.Neg()})
			}
		}
		p, err := s.L.postInTx(ctx, tx, t)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE store_credit_mirror SET mirrored = mirrored + $4, gap = NULL, gap_since = NULL
WHERE shop_id = $1 AND owner_id = $2 AND currency = $3`, shopID, owner.ID, currency, gap); err != nil {
			return fmt.Errorf("postgres: adopt store credit gap: %w", err)
		}
		out = &p
		return nil
	})
	return out, err
}

// StoreCreditOwners lists, after the owner id after, the registered
// customers of a shop whose store credit the reconciler looks at: those
// with a mirror row and those with credit (or an overdraft) in currency;
// with mirroredOnly, those with credit mirrored into Shopify (or a push
// in flight).
func (s StoreCreditStore) StoreCreditOwners(ctx context.Context, shopID int64, currency, after string, limit int, mirroredOnly bool) ([]string, error) {
	if mirroredOnly {
		rows, err := s.L.pool.Query(ctx, `SELECT owner_id FROM store_credit_mirror
WHERE shop_id = $1 AND currency = $2 AND (mirrored <> 0 OR pending IS NOT NULL) AND owner_id > $3 ORDER BY owner_id LIMIT $4`, shopID, currency, after, limit)
		if err != nil {
			return nil, fmt.Errorf("postgres: mirrored store credit owners: %w", err)
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	rows, err := s.L.pool.Query(ctx, `SELECT owner_id FROM (
	SELECT owner_id FROM store_credit_mirror WHERE shop_id = $1 AND currency = $2
	UNION
	SELECT owner_id FROM ledger_balances WHERE shop_id = $1 AND currency = $2 AND owner_kind = 'customer'
		AND owner_id LIKE 'c:%' AND (available > 0 OR overdraft < 0)
) o WHERE owner_id > $3 ORDER BY owner_id LIMIT $4`, shopID, currency, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: store credit owners: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
