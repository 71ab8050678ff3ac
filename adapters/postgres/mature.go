package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// MaturePending makes pending credit of one shop spendable once its
// holding period passed. Per owner, credit booked to pending since
// olderThan stays pending; the rest of the pending balance (older
// earnings, less whatever refunds already took) moves to available in one
// transaction keyed by the balance version, so it is computed under the
// row lock and never done twice. It returns the number of owners matured.
func (s *LedgerStore) MaturePending(ctx context.Context, shopID int64, olderThan time.Time, limit int) (int, error) {
	type ow struct {
		cur   string
		owner core.Owner
	}
	// Every owner with pending credit, a keyset page at a time, so owners
	// whose pending credit is all recent never hide the others.
	var list []ow
	last := ow{}
	for {
		rows, err := s.pool.Query(ctx, `SELECT currency, owner_kind, owner_id FROM ledger_balances
WHERE shop_id = $1 AND pending > 0 AND (currency, owner_kind, owner_id) > ($3, $4, $5)
ORDER BY currency, owner_kind, owner_id LIMIT $2`, shopID, limit, last.cur, string(last.owner.Kind), last.owner.ID)
		if err != nil {
			return 0, fmt.Errorf("postgres: pending owners: %w", err)
		}
		page := 0
		for rows.Next() {
			var o ow
			var kind string
			if err := rows.Scan(&o.cur, &kind, &o.owner.ID); err != nil {
				rows.Close()
				return 0, err
			}
			o.owner.Kind = core.OwnerKind(kind)
			list = append(list, o)
			last = o
			page++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		if page < limit {
			break
		}
	}
	n := 0
	for _, o := range list {
		matured := false
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			var pending decimal.Decimal
			var version int64
			if err := tx.QueryRow(ctx, `SELECT pending, version FROM ledger_balances WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`,
				shopID, o.cur, string(o.owner.Kind), o.owner.ID).Scan(&pending, &version); err != nil {
				return err
			}
			var recent decimal.Decimal
			if err := tx.QueryRow(ctx, `SELECT coalesce(sum(d_pending), 0) FROM ledger_entries
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 AND d_pending > 0 AND created_at >= $5`,
				shopID, o.cur, string(o.owner.Kind), o.owner.ID, olderThan).Scan(&recent); err != nil {
				return err
			}
			amt := pending.Sub(decimal.Min(pending, recent))
			if !amt.IsPositive() {
				return nil
			}
			t := core.Transaction{ShopID: shopID, Key: "mature:" + o.cur + ":" + o.owner.String() + ":v" + strconv.FormatInt(version, 10),
				Reason: core.Reason{Kind: core.ReasonMature, Note: "holding period over"},
				Postings: []core.Posting{
					{Currency: o.cur, Owner: o.owner, Bucket: core.BucketPending, Amount: amt.Neg()},
					{Currency: o.cur, Owner: o.owner, Bucket: core.BucketAvailable, Amount: amt},
				}}
			if err := t.Validate(); err != nil {
				return err
			}
			_, err := s.postInTx(ctx, tx, t)
			matured = err == nil
			return err
		})
		if err != nil {
			return n, err
		}
		if matured {
			n++
		}
	}
	return n, nil
}
