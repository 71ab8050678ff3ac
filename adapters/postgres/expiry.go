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

// SetClock replaces the clock that dates ledger transactions and entries
// (clock-driven tests and tools; set it before the store is used).
func (s *LedgerStore) SetClock(now func() time.Time) { s.now = now }

// Now is the store's clock.
func (s *LedgerStore) Now() time.Time { return s.now() }

type ownerCur struct {
	cur   string
	owner core.Owner
}

// ownersWith lists, a keyset page at a time, the owners of a shop whose
// balance row matches cond (a fixed SQL condition).
func (s *LedgerStore) ownersWith(ctx context.Context, shopID int64, cond string, limit int) ([]ownerCur, error) {
	var list []ownerCur
	last := ownerCur{}
	for {
		rows, err := s.pool.Query(ctx, `SELECT currency, owner_kind, owner_id FROM ledger_balances
WHERE shop_id = $1 AND `+cond+` AND (currency, owner_kind, owner_id) > ($3, $4, $5)
ORDER BY currency, owner_kind, owner_id LIMIT $2`, shopID, limit, last.cur, string(last.owner.Kind), last.owner.ID)
		if err != nil {
			return nil, fmt.Errorf("postgres: owners: %w", err)
		}
		page := 0
		for rows.Next() {
			var o ownerCur
			var kind string
			if err := rows.Scan(&o.cur, &kind, &o.owner.ID); err != nil {
				rows.Close()
				return nil, err
			}
			o.owner.Kind = core.OwnerKind(kind)
			list = append(list, o)
			last = o
			page++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if page < limit {
			return list, nil
		}
	}
}

// CreditLots is an owner's spendable credit history: the lots (inflows of
// available + held, oldest first), the sum of all outflows, and the time
// of the owner's last order (zero when none).
type CreditLots struct {
	Lots      []core.Lot
	Outflows  decimal.Decimal
	LastOrder time.Time
}

// Remaining is what is left of the lots, oldest first.
func (c CreditLots) Remaining() []core.Lot { return core.RemainingLots(c.Lots, c.Outflows) }

func creditLots(ctx context.Context, q DBTX, shopID int64, cur string, o core.Owner) (CreditLots, error) {
	var out CreditLots
	rows, err := q.Query(ctx, `SELECT created_at, d_available + d_held FROM ledger_entries
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 AND d_available + d_held <> 0 ORDER BY seq`,
		shopID, cur, string(o.Kind), o.ID)
	if err != nil {
		return out, fmt.Errorf("postgres: lots: %w", err)
	}
	for rows.Next() {
		var l core.Lot
		if err := rows.Scan(&l.At, &l.Amount); err != nil {
			rows.Close()
			return out, err
		}
		if l.Amount.IsPositive() {
			out.Lots = append(out.Lots, l)
		} else {
			out.Outflows = out.Outflows.Sub(l.Amount)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	var last *time.Time
	if err := q.QueryRow(ctx, `SELECT max(e.created_at) FROM ledger_entries e
JOIN ledger_transactions t ON t.shop_id = e.shop_id AND t.id = e.tx_id
WHERE e.shop_id = $1 AND e.currency = $2 AND e.owner_kind = $3 AND e.owner_id = $4 AND t.order_id IS NOT NULL`,
		shopID, cur, string(o.Kind), o.ID).Scan(&last); err != nil {
		return out, fmt.Errorf("postgres: last order: %w", err)
	}
	if last != nil {
		out.LastOrder = *last
	}
	return out, nil
}

// Lots returns an owner's credit lots (see CreditLots).
func (s *LedgerStore) Lots(ctx context.Context, shopID int64, cur string, o core.Owner) (CreditLots, error) {
	return creditLots(ctx, s.pool, shopID, cur, o)
}

// ExpireCredit expires the credit of one shop that is due at now (see
// core/expiry.go): per owner with available credit, under the balance row
// lock, one transaction available -> the program's expired bucket, keyed
// by the balance version so it is never done twice. It returns the
// owners whose credit expired.
func (s *LedgerStore) ExpireCredit(ctx context.Context, shop core.Shop, now time.Time) ([]core.Owner, error) {
	p := shop.Settings.ProgramSettings
	if p.ExpiryMonths <= 0 {
		return nil, nil
	}
	list, err := s.ownersWith(ctx, shop.ID, "available > 0", 1000)
	if err != nil {
		return nil, err
	}
	var out []core.Owner
	for _, o := range list {
		expired := false
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			expired = false
			var avail decimal.Decimal
			var version int64
			err := tx.QueryRow(ctx, `SELECT available, version FROM ledger_balances WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`,
				shop.ID, o.cur, string(o.owner.Kind), o.owner.ID).Scan(&avail, &version)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			lots, err := creditLots(ctx, tx, shop.ID, o.cur, o.owner)
			if err != nil {
				return err
			}
			since := lots.LastOrder
			if since.IsZero() && len(lots.Lots) > 0 {
				since = lots.Lots[0].At
			}
			amt := core.Expiring(lots.Remaining(), avail, p.ExpiryCutoff(now, since))
			if !amt.IsPositive() {
				return nil
			}
			t := core.Transaction{ShopID: shop.ID, Key: "expire:" + o.cur + ":" + o.owner.String() + ":v" + strconv.FormatInt(version, 10),
				Reason: core.Reason{Kind: core.ReasonExpire},
				Postings: []core.Posting{
					{Currency: o.cur, Owner: o.owner, Bucket: core.BucketAvailable, Amount: amt.Neg()},
					{Currency: o.cur, Owner: core.ProgramOwner, Bucket: core.ProgramExpired, Amount: amt},
				}}
			if err := t.Validate(); err != nil {
				return err
			}
			_, err = s.postInTx(ctx, tx, t)
			expired = err == nil
			return err
		})
		if err != nil {
			return out, fmt.Errorf("postgres: expire credit of %s: %w", o.owner, err)
		}
		if expired {
			out = append(out, o.owner)
		}
	}
	return out, nil
}
