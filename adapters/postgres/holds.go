package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

const holdCols = `id, currency, owner_kind, owner_id, amount, captured, status, coalesce(cart_key, ''), coalesce(order_id, ''), expires_at, created_at, place_tx_id, coalesce(resolve_tx_id, 0)`

func scanHold(shopID int64, row pgx.Row) (core.Hold, error) {
	h := core.Hold{ShopID: shopID}
	var kind, status string
	err := row.Scan(&h.ID, &h.Currency, &kind, &h.Owner.ID, &h.Amount, &h.Captured, &status, &h.CartKey, &h.OrderID, &h.ExpiresAt, &h.CreatedAt, &h.PlaceTxID, &h.ResolveTxID)
	h.Owner.Kind, h.Status = core.OwnerKind(kind), core.HoldStatus(status)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, core.Errorf(core.ENOTFOUND, "hold not found")
	}
	return h, err
}

// GetHold returns a hold of a shop.
func (s *LedgerStore) GetHold(ctx context.Context, shopID, holdID int64) (core.Hold, error) {
	return scanHold(shopID, s.pool.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND id = $2`, shopID, holdID))
}

// OpenHoldByCart returns the open hold of a cart (ENOTFOUND if none).
func (s *LedgerStore) OpenHoldByCart(ctx context.Context, shopID int64, cartKey string) (core.Hold, error) {
	return scanHold(shopID, s.pool.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND cart_key = $2 AND status = 'open'`, shopID, cartKey))
}

// OpenHolds lists an owner's open holds, oldest first.
func (s *LedgerStore) OpenHolds(ctx context.Context, shopID int64, currency string, owner core.Owner) ([]core.Hold, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 AND status = 'open' ORDER BY id`,
		shopID, currency, string(owner.Kind), owner.ID)
	if err != nil {
		return nil, fmt.Errorf("postgres: open holds: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Hold, error) { return scanHold(shopID, r) })
}

// ExpiredHolds lists open holds (of any shop) whose expiry passed.
func (s *LedgerStore) ExpiredHolds(ctx context.Context, now time.Time, limit int) ([]core.Hold, error) {
	rows, err := s.pool.Query(ctx, `SELECT shop_id, `+holdCols+` FROM ledger_holds WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: expired holds: %w", err)
	}
	defer rows.Close()
	var out []core.Hold
	for rows.Next() {
		var shop int64
		h := core.Hold{}
		var kind, status string
		if err := rows.Scan(&shop, &h.ID, &h.Currency, &kind, &h.Owner.ID, &h.Amount, &h.Captured, &status, &h.CartKey, &h.OrderID, &h.ExpiresAt, &h.CreatedAt, &h.PlaceTxID, &h.ResolveTxID); err != nil {
			return nil, err
		}
		h.ShopID, h.Owner.Kind, h.Status = shop, core.OwnerKind(kind), core.HoldStatus(status)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Reserve is the one write path that places holds (see
// core.HoldStore): it reads the owner's balance and the cart's hold under
// lock in one round trip (with BEGIN), decides with core.PlanReserve, and
// writes in one more (with COMMIT): a checkout quote costs two round
// trips, three when it replaces a hold of another amount. Without a cart
// key it places a new hold every time.
func (s *LedgerStore) Reserve(ctx context.Context, r core.HoldRequest, amount func(spendable decimal.Decimal) (decimal.Decimal, error)) (core.Reservation, error) {
	if err := r.Owner.Validate(); err != nil {
		return core.Reservation{}, err
	}
	if r.Owner.Kind == core.OwnerProgram || r.ExpiresAt.IsZero() {
		return core.Reservation{}, core.Errorf(core.EINVALID, "a reservation needs a customer or partner and an expiry")
	}
	if out, ok, err := s.reserveUnchanged(ctx, r, amount); err != nil || ok {
		return out, err
	}
	var out core.Reservation
	for attempt := 0; ; attempt++ {
		err := s.inPipeTx(ctx, func(tx *pipeTx) error {
			var err error
			out, err = s.reserveTx(ctx, tx, r, amount)
			return err
		})
		// Two first quotes of one cart racing: the unique open-cart index
		// stops the second; run it again to see the winner's hold.
		if c, con := pgCode(errors.Unwrap(err)); attempt < 2 && c == "23505" && con == "ledger_holds_open_cart" {
			continue
		}
		if c, con := pgCode(err); attempt < 2 && c == "23505" && con == "ledger_holds_open_cart" {
			continue
		}
		return out, err
	}
}

func (s *LedgerStore) reserveTx(ctx context.Context, tx *pipeTx, r core.HoldRequest, amount func(decimal.Decimal) (decimal.Decimal, error)) (core.Reservation, error) {
	var res core.Reservation
	var bal core.Balance
	var haveBal bool
	var cur core.Hold
	var haveHold bool
	var holdID, txID int64
	b := &pgx.Batch{}
	// Lock order: the balance row first (as every posting does), then the hold.
	b.Queue(`SELECT available, pending, held, overdraft, version FROM ledger_balances WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`,
		r.ShopID, r.Currency, string(r.Owner.Kind), r.Owner.ID).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&bal.Available, &bal.Pending, &bal.Held, &bal.Overdraft, &bal.Version)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		haveBal = err == nil
		return err
	})
	if r.CartKey != "" {
		b.Queue(`SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND cart_key = $2 AND status = 'open' FOR UPDATE`, r.ShopID, r.CartKey).QueryRow(func(row pgx.Row) error {
			h, err := scanHold(r.ShopID, row)
			if core.ErrorCode(err) == core.ENOTFOUND {
				return nil
			}
			cur, haveHold = h, err == nil
			return err
		})
	}
	b.Queue(`SELECT nextval('ledger_holds_id_seq'), nextval(pg_get_serial_sequence('ledger_transactions', 'id'))`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&holdID, &txID)
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return res, fmt.Errorf("postgres: reserve: %w", err)
	}
	var cart *core.Hold
	if haveHold {
		cart = &cur
	}
	d, err := core.PlanReserve(r, bal.Available, cart, amount)
	res.Spendable = d.Spendable
	if err != nil {
		return res, err
	}
	amt := d.Amount
	if amt.IsPositive() && !haveBal {
		// Unreachable (credit to hold comes from a balance row locked
		// above), and checked so the committing batch below can never
		// write a hold without its balance change.
		return res, core.Errorf(core.EINTERNAL, "reservation without a balance row")
	}
	if d.Keep {
		var h core.Hold
		ub := &pgx.Batch{}
		ub.Queue(`UPDATE ledger_holds SET expires_at = greatest(expires_at, $3) WHERE shop_id = $1 AND id = $2 RETURNING `+holdCols,
			r.ShopID, cur.ID, r.ExpiresAt).QueryRow(func(row pgx.Row) error {
			var err error
			h, err = scanHold(r.ShopID, row)
			return err
		})
		if err := tx.commitWith(ctx, ub); err != nil {
			return res, fmt.Errorf("postgres: extend hold: %w", translate(err))
		}
		res.Hold = &h
		return res, nil
	}
	if d.Release {
		if _, err := s.resolveHoldTx(ctx, tx, cur, decimal.Zero, core.Reason{Note: "replaced by a new quote"}, core.HoldVoided); err != nil {
			return res, err
		}
		res.Released = true
	}
	if !d.Place {
		return res, nil
	}
	// Place the new hold: transaction, postings, balance change with its
	// statement entry, and the hold row, pipelined. The ids were taken
	// from their sequences above, and the key "hold:<new id>:place" is
	// new by construction, so nothing here can be a replay.
	t := core.HoldPlacement(r.ShopID, holdID, r.Currency, r.Owner, amt)
	t.ID = txID
	if err := t.Validate(); err != nil {
		return res, err
	}
	reason, err := json.Marshal(t.Reason)
	if err != nil {
		return res, err
	}
	now := s.now().UTC()
	delta := t.Deltas[0]
	wb := &pgx.Batch{}
	wb.Queue(`INSERT INTO ledger_transactions (shop_id, id, idem_key, content_hash, kind, reason, created_at) OVERRIDING SYSTEM VALUE
VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ShopID, txID, t.Key, t.Hash[:], string(t.Reason.Kind), reason, now)
	queuePostings(wb, []core.Transaction{t})
	wb.Queue(updateEntrySQL, r.ShopID, delta.Currency, string(delta.Owner.Kind), delta.Owner.ID, delta.Available, delta.Pending, delta.Held, delta.Overdraft, now, txID).QueryRow(func(row pgx.Row) error {
		var av, pe, he, ov decimal.Decimal
		var ver int64
		err := row.Scan(&av, &pe, &he, &ov, &ver)
		if errors.Is(err, pgx.ErrNoRows) {
			return core.Errorf(core.EINSUFFICIENT, "not enough credit")
		}
		return err
	})
	var cartKey *string
	if r.CartKey != "" {
		cartKey = &r.CartKey
	}
	var h core.Hold
	wb.Queue(`INSERT INTO ledger_holds (shop_id, id, currency, owner_kind, owner_id, amount, cart_key, expires_at, place_tx_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+holdCols,
		r.ShopID, holdID, r.Currency, string(r.Owner.Kind), r.Owner.ID, amt, cartKey, r.ExpiresAt, txID, now).QueryRow(func(row pgx.Row) error {
		var err error
		h, err = scanHold(r.ShopID, row)
		return err
	})
	if err := tx.commitWith(ctx, wb); err != nil {
		return res, fmt.Errorf("postgres: place hold: %w", translate(err))
	}
	res.Hold, res.Placed = &h, true
	return res, nil
}

// extendSlack is how much earlier than asked a kept hold may expire: a
// quote of a cart whose hold already has the right amount and expires
// within this of the asked expiry changes nothing.
const extendSlack = time.Minute

// reserveUnchanged is the fast path of a repeated quote (cart page, then
// checkout, then every cart update): when the cart's open hold already
// has the amount the caps give and expires late enough, nothing needs to
// change, and one round trip of plain reads (no locks, no transaction to
// commit or flush) answers it. It is sound without locks: the cart's hold
// keeps its credit reserved, so the spendable credit (available plus that
// hold) can only have grown since the read, and the caps can only give the
// same amount or more; a hold resolved meanwhile is a race any answer has
// (the order then uses credit without a hold, which is debited). In every
// other case ok is false and the locked path decides.
func (s *LedgerStore) reserveUnchanged(ctx context.Context, r core.HoldRequest, amount func(decimal.Decimal) (decimal.Decimal, error)) (core.Reservation, bool, error) {
	var res core.Reservation
	if r.CartKey == "" {
		return res, false, nil // every hold without a cart is new
	}
	var avail decimal.Decimal
	var haveBal, haveHold bool
	var cur core.Hold
	b := &pgx.Batch{}
	b.Queue(`SELECT available FROM ledger_balances WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4`,
		r.ShopID, r.Currency, string(r.Owner.Kind), r.Owner.ID).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&avail)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		haveBal = err == nil
		return err
	})
	b.Queue(`SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND cart_key = $2 AND status = 'open'`, r.ShopID, r.CartKey).QueryRow(func(row pgx.Row) error {
		h, err := scanHold(r.ShopID, row)
		if core.ErrorCode(err) == core.ENOTFOUND {
			return nil
		}
		cur, haveHold = h, err == nil
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return res, false, fmt.Errorf("postgres: reserve: %w", err)
	}
	if !haveBal || !haveHold || cur.Owner != r.Owner || cur.Currency != r.Currency || cur.ExpiresAt.Before(r.ExpiresAt.Add(-extendSlack)) {
		return res, false, nil
	}
	spendable := avail.Add(cur.Amount)
	amt, err := amount(spendable)
	if err != nil || !amt.Equal(cur.Amount) {
		return res, false, nil // the locked path reports errors and changes
	}
	res.Spendable, res.Hold = spendable, &cur
	return res, true, nil
}

// ResolveHold captures, voids or expires an open hold (see
// core.HoldStore), locking it first.
func (s *LedgerStore) ResolveHold(ctx context.Context, shopID, holdID int64, amount decimal.Decimal, reason core.Reason, st core.HoldStatus) (core.Hold, error) {
	var out core.Hold
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		h, err := scanHold(shopID, tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND id = $2 FOR UPDATE`, shopID, holdID))
		if err != nil {
			return err
		}
		if h.Status != core.HoldOpen {
			if h.ResolvedAs(st, amount) {
				out = h
				return nil
			}
			return core.Errorf(core.ECONFLICT, "hold %d is already %s", h.ID, h.Status)
		}
		out, err = s.resolveHoldTx(ctx, tx, h, amount, reason, st)
		return err
	})
	return out, err
}

// resolveHoldTx posts the resolution of an open, locked hold
// (core.HoldResolution) and records it: the one write path of every
// capture, void and expiry, for ResolveHold and for an order's
// transaction alike.
func (s *LedgerStore) resolveHoldTx(ctx context.Context, tx pgx.Tx, h core.Hold, amount decimal.Decimal, reason core.Reason, st core.HoldStatus) (core.Hold, error) {
	t, err := core.HoldResolution(h, amount, reason, st)
	if err != nil {
		return core.Hold{}, err
	}
	if err := t.Validate(); err != nil {
		return core.Hold{}, err
	}
	posted, err := s.postInTx(ctx, tx, t)
	if err != nil {
		return core.Hold{}, err
	}
	var order *string
	if reason.OrderID != "" {
		order = &reason.OrderID
	}
	return scanHold(h.ShopID, tx.QueryRow(ctx, `UPDATE ledger_holds SET status = $3, captured = $4, resolve_tx_id = $5, resolved_at = $6, order_id = coalesce($7, order_id)
WHERE shop_id = $1 AND id = $2 AND status = 'open' RETURNING `+holdCols, h.ShopID, h.ID, string(st), amount, posted.ID, s.now().UTC(), order))
}
