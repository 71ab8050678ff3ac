package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
)

// SettleOverdrafts pays back, from available credit, the overdraft of
// every owner of one shop that has both. The earner settles right after an
// order's credit commits, but only best effort and outside the order's
// transaction; this periodic sweep makes the settlement certain after a
// crash or a failed write in between. Each owner is settled under its
// balance row lock with the key the earner uses (the balance version), so
// the two never settle twice. It returns the number of owners settled.
func (s *LedgerStore) SettleOverdrafts(ctx context.Context, shopID int64, limit int) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT currency, owner_kind, owner_id FROM ledger_balances
WHERE shop_id = $1 AND overdraft < 0 AND available > 0 ORDER BY currency, owner_kind, owner_id LIMIT $2`, shopID, limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: owners with an overdraft: %w", err)
	}
	type ow struct {
		cur   string
		owner core.Owner
	}
	var list []ow
	for rows.Next() {
		var o ow
		var kind string
		if err := rows.Scan(&o.cur, &kind, &o.owner.ID); err != nil {
			rows.Close()
			return 0, err
		}
		o.owner.Kind = core.OwnerKind(kind)
		list = append(list, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, o := range list {
		settled := false
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			b := core.Balance{ShopID: shopID, Currency: o.cur, Owner: o.owner}
			err := tx.QueryRow(ctx, `SELECT available, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`,
				shopID, o.cur, string(o.owner.Kind), o.owner.ID).Scan(&b.Available, &b.Overdraft, &b.Version)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			t, ok := core.SettleOverdraft(shopID, o.cur, o.owner, b)
			if !ok {
				return nil // settled meanwhile
			}
			if _, err := s.postInTx(ctx, tx, t); err != nil {
				return err
			}
			settled = true
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("postgres: settle the overdraft of %s: %w", o.owner, err)
		}
		if settled {
			n++
		}
	}
	return n, nil
}
