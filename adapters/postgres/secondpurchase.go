package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// SecondPurchaseStore runs the second-purchase offer (core/secondpurchase.go):
// one row per customer in second_purchase_offers, changed under a lock on
// the customer together with its ledger transactions.
type SecondPurchaseStore struct {
	L   *LedgerStore
	Now func() time.Time // nil: time.Now
}

var _ core.OrderFollower = SecondPurchaseStore{}

// Follows reports whether the shop runs the offer (core.OrderFollower).
func (s SecondPurchaseStore) Follows(shop core.Shop) bool { return shop.Settings.SecondPurchase != nil }

type offerRow struct {
	firstOrder string
	currency   string
	amount     decimal.Decimal
	validUntil time.Time
	status     string
	grantTx    int64
}

func (s SecondPurchaseStore) lock(ctx context.Context, tx pgx.Tx, shopID int64, owner core.Owner) (offerRow, bool, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('second_purchase:' || $1::bigint || ':' || $2::text, 0))`, shopID, owner.ID); err != nil {
		return offerRow{}, false, err
	}
	var r offerRow
	var grant *int64
	err := tx.QueryRow(ctx, `SELECT first_order_id, currency, amount, valid_until, status, grant_tx_id FROM second_purchase_offers WHERE shop_id = $1 AND owner_id = $2`,
		shopID, owner.ID).Scan(&r.firstOrder, &r.currency, &r.amount, &r.validUntil, &r.status, &grant)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if grant != nil {
		r.grantTx = *grant
	}
	return r, err == nil, err
}

// OrderApplied updates a customer's offer after an order snapshot was
// applied (core.OrderFollower): the first paid order opens it (and grants
// the bonus), a second paid order placed in the window uses it, and the
// first order cancelled or fully refunded while it is open ends it.
func (s SecondPurchaseStore) OrderApplied(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner) error {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	cfg := shop.Settings.SecondPurchase
	if cfg == nil || buyer.Kind != core.OwnerCustomer || o.Currency != shop.Currency {
		return nil
	}
	active := o.Paid && !o.Cancelled && !o.FullyRefunded
	placed := o.CreatedAt
	if placed.IsZero() {
		placed = now
	}
	return s.L.inTx(ctx, func(tx pgx.Tx) error {
		offer, ok, err := s.lock(ctx, tx, shop.ID, buyer)
		if err != nil {
			return fmt.Errorf("postgres: second purchase: %w", err)
		}
		switch {
		case !ok:
			if !active {
				return nil
			}
			var earlier bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE shop_id = $1 AND buyer_owner = $2 AND order_id <> $3)`,
				shop.ID, buyer.ID, o.OrderID).Scan(&earlier); err != nil {
				return err
			}
			until := placed.AddDate(0, 0, cfg.Days)
			if earlier || !until.After(now) {
				return nil // not the first order, or its window already closed
			}
			if err := core.CheckScale(o.Currency, cfg.Amount); err != nil {
				return err
			}
			t, err := s.L.postInTx(ctx, tx, mustValid(core.Transaction{ShopID: shop.ID, Key: "second_purchase:" + buyer.ID + ":grant",
				Reason: core.Reason{Kind: core.ReasonSecondPurchase, OrderID: o.OrderID, OrderNumber: o.OrderNumber, Rule: "second_purchase"},
				Postings: []core.Posting{
					{Currency: o.Currency, Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: cfg.Amount.Neg()},
					{Currency: o.Currency, Owner: buyer, Bucket: core.BucketAvailable, Amount: cfg.Amount},
				}}))
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO second_purchase_offers (shop_id, owner_id, first_order_id, currency, amount, valid_until, grant_tx_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, shop.ID, buyer.ID, o.OrderID, o.Currency, cfg.Amount, until.UTC(), t.ID, now.UTC())
			return err
		case offer.status != "open":
			return nil
		case o.OrderID == offer.firstOrder && !active:
			return s.end(ctx, tx, shop.ID, buyer, offer, "cancelled", core.ProgramIssued, now)
		case o.OrderID != offer.firstOrder && active && placed.Before(offer.validUntil):
			_, err := tx.Exec(ctx, `UPDATE second_purchase_offers SET status = 'used', ended_at = $3 WHERE shop_id = $1 AND owner_id = $2 AND status = 'open'`,
				shop.ID, buyer.ID, now.UTC())
			return err
		}
		return nil
	})
}

// end takes back what is left of the bonus (at most the available
// credit) into bucket and closes the offer with status.
func (s SecondPurchaseStore) end(ctx context.Context, tx pgx.Tx, shopID int64, owner core.Owner, offer offerRow, status string, bucket core.Bucket, now time.Time) error {
	var avail decimal.Decimal
	err := tx.QueryRow(ctx, `SELECT available FROM ledger_balances WHERE shop_id = $1 AND currency = $2 AND owner_kind = 'customer' AND owner_id = $3 FOR UPDATE`,
		shopID, offer.currency, owner.ID).Scan(&avail)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	var endTx *int64
	if take := decimal.Min(avail, offer.amount); take.IsPositive() {
		t, err := s.L.postInTx(ctx, tx, mustValid(core.Transaction{ShopID: shopID, Key: "second_purchase:" + owner.ID + ":end", Reverses: offer.grantTx,
			Reason: core.Reason{Kind: core.ReasonSecondPurchaseEnd, OrderID: offer.firstOrder, Rule: "second_purchase", Note: status},
			Postings: []core.Posting{
				{Currency: offer.currency, Owner: owner, Bucket: core.BucketAvailable, Amount: take.Neg()},
				{Currency: offer.currency, Owner: core.ProgramOwner, Bucket: bucket, Amount: take},
			}}))
		if err != nil {
			return err
		}
		endTx = &t.ID
	}
	_, err = tx.Exec(ctx, `UPDATE second_purchase_offers SET status = $3, end_tx_id = $4, ended_at = $5 WHERE shop_id = $1 AND owner_id = $2 AND status = 'open'`,
		shopID, owner.ID, status, endTx, now.UTC())
	return err
}

// ExpireOffers closes the shop's open offers whose window ended by now,
// taking back what is left of each bonus into the program's expired
// bucket. It returns the customers whose credit changed.
func (s SecondPurchaseStore) ExpireOffers(ctx context.Context, shop core.Shop, now time.Time) ([]core.Owner, error) {
	rows, err := s.L.pool.Query(ctx, `SELECT owner_id FROM second_purchase_offers WHERE shop_id = $1 AND status = 'open' AND valid_until <= $2 ORDER BY owner_id LIMIT 5000`,
		shop.ID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("postgres: open offers: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var out []core.Owner
	for _, id := range ids {
		owner := core.Owner{Kind: core.OwnerCustomer, ID: id}
		err := s.L.inTx(ctx, func(tx pgx.Tx) error {
			offer, ok, err := s.lock(ctx, tx, shop.ID, owner)
			if err != nil || !ok || offer.status != "open" || offer.validUntil.After(now) {
				return err
			}
			return s.end(ctx, tx, shop.ID, owner, offer, "expired", core.ProgramExpired, now)
		})
		if err != nil {
			return out, fmt.Errorf("postgres: expire offer of %s: %w", id, err)
		}
		out = append(out, owner)
	}
	return out, nil
}
