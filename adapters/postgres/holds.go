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

// PlaceHold reserves credit (see core.Ledger). With a CartKey, an open hold
// of the same cart and amount is returned as is (its expiry extended), and
// one with another amount is voided and replaced in the same transaction,
// so a cart never stacks holds.
func (s *LedgerStore) PlaceHold(ctx context.Context, r core.HoldRequest) (core.Hold, error) {
	if err := r.Owner.Validate(); err != nil {
		return core.Hold{}, err
	}
	if r.Owner.Kind == core.OwnerProgram {
		return core.Hold{}, core.Errorf(core.EINVALID, "the program cannot hold credit")
	}
	if err := core.CheckScale(r.Currency, r.Amount); err != nil {
		return core.Hold{}, err
	}
	if !r.Amount.IsPositive() {
		return core.Hold{}, core.Errorf(core.EINVALID, "hold amount must be positive")
	}
	if r.ExpiresAt.IsZero() {
		return core.Hold{}, core.Errorf(core.EINVALID, "hold needs an expiry")
	}
	var out core.Hold
	for attempt := 0; ; attempt++ {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			out, err = s.placeHoldTx(ctx, tx, r)
			return err
		})
		// Two quotes of one cart racing: the unique open-cart index stops
		// the second; retry once to pick up the winner's hold.
		if c, con := pgCode(errors.Unwrap(err)); attempt == 0 && c == "23505" && con == "ledger_holds_open_cart" {
			continue
		}
		if c, con := pgCode(err); attempt == 0 && c == "23505" && con == "ledger_holds_open_cart" {
			continue
		}
		return out, err
	}
}

func (s *LedgerStore) placeHoldTx(ctx context.Context, tx pgx.Tx, r core.HoldRequest) (core.Hold, error) {
	if r.CartKey != "" {
		cur, err := scanHold(r.ShopID, tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND cart_key = $2 AND status = 'open' FOR UPDATE`, r.ShopID, r.CartKey))
		switch {
		case err == nil:
			if cur.Amount.Equal(r.Amount) && cur.Currency == r.Currency && cur.Owner == r.Owner {
				// Same cart, same credit: keep the hold and extend its expiry.
				return scanHold(r.ShopID, tx.QueryRow(ctx, `UPDATE ledger_holds SET expires_at = greatest(expires_at, $3) WHERE shop_id = $1 AND id = $2 RETURNING `+holdCols,
					r.ShopID, cur.ID, r.ExpiresAt))
			}
			if _, err := s.resolveHoldTx(ctx, tx, cur, decimal.Zero, core.Reason{Kind: core.ReasonHoldVoid, Note: "replaced by a new quote"}, core.HoldVoided); err != nil {
				return core.Hold{}, err
			}
		case core.ErrorCode(err) != core.ENOTFOUND:
			return core.Hold{}, err
		}
	}
	var id int64
	if err := tx.QueryRow(ctx, `SELECT nextval('ledger_holds_id_seq')`).Scan(&id); err != nil {
		return core.Hold{}, err
	}
	hid := strconv.FormatInt(id, 10)
	key := r.Key
	if key == "" {
		key = "hold:" + hid + ":place"
	}
	t := core.Transaction{ShopID: r.ShopID, Key: key, Reason: core.Reason{Kind: core.ReasonHoldPlace, HoldID: hid},
		Postings: []core.Posting{
			{Currency: r.Currency, Owner: r.Owner, Bucket: core.BucketAvailable, Amount: r.Amount.Neg()},
			{Currency: r.Currency, Owner: r.Owner, Bucket: core.BucketHeld, Amount: r.Amount},
		}}
	if err := t.Validate(); err != nil {
		return core.Hold{}, err
	}
	posted, err := s.postInTx(ctx, tx, t)
	if err != nil {
		return core.Hold{}, err
	}
	if posted.Replayed {
		// The same placement was already done: return that hold.
		return scanHold(r.ShopID, tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND place_tx_id = $2`, r.ShopID, posted.ID))
	}
	var cart *string
	if r.CartKey != "" {
		cart = &r.CartKey
	}
	return scanHold(r.ShopID, tx.QueryRow(ctx, `INSERT INTO ledger_holds (shop_id, id, currency, owner_kind, owner_id, amount, cart_key, expires_at, place_tx_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+holdCols,
		r.ShopID, id, r.Currency, string(r.Owner.Kind), r.Owner.ID, r.Amount, cart, r.ExpiresAt, posted.ID, s.now().UTC()))
}

// CaptureHold consumes amount of the hold (see core.Ledger). Capturing an
// already captured hold with the same amount returns it unchanged.
func (s *LedgerStore) CaptureHold(ctx context.Context, shopID, holdID int64, amount decimal.Decimal, reason core.Reason) (core.Hold, error) {
	if amount.IsNegative() {
		return core.Hold{}, core.Errorf(core.EINVALID, "capture amount must not be negative")
	}
	return s.resolve(ctx, shopID, holdID, amount, reason, core.HoldCaptured)
}

// VoidHold releases a hold (see core.Ledger).
func (s *LedgerStore) VoidHold(ctx context.Context, shopID, holdID int64, reason core.Reason, expired bool) (core.Hold, error) {
	st := core.HoldVoided
	if expired {
		st = core.HoldExpired
	}
	return s.resolve(ctx, shopID, holdID, decimal.Zero, reason, st)
}

func (s *LedgerStore) resolve(ctx context.Context, shopID, holdID int64, amount decimal.Decimal, reason core.Reason, st core.HoldStatus) (core.Hold, error) {
	var out core.Hold
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		h, err := scanHold(shopID, tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND id = $2 FOR UPDATE`, shopID, holdID))
		if err != nil {
			return err
		}
		if h.Status != core.HoldOpen {
			if h.Status == st && (st != core.HoldCaptured || h.Captured.Equal(amount)) {
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

// resolveHoldTx posts the resolution of an open, locked hold and records it.
// The resolution's idempotency key "hold:<id>:resolve" is unique, so a hold
// can never resolve twice even if the status guard were bypassed.
func (s *LedgerStore) resolveHoldTx(ctx context.Context, tx pgx.Tx, h core.Hold, amount decimal.Decimal, reason core.Reason, st core.HoldStatus) (core.Hold, error) {
	if amount.GreaterThan(h.Amount) {
		return core.Hold{}, core.Errorf(core.EINVALID, "capture %s exceeds hold %d of %s", amount.String(), h.ID, h.Amount.String())
	}
	if err := core.CheckScale(h.Currency, amount); err != nil {
		return core.Hold{}, err
	}
	hid := strconv.FormatInt(h.ID, 10)
	switch st {
	case core.HoldCaptured:
		reason.Kind = core.ReasonHoldCapture
	case core.HoldVoided:
		reason.Kind = core.ReasonHoldVoid
	case core.HoldExpired:
		reason.Kind = core.ReasonHoldExpire
	}
	reason.HoldID = hid
	ps := []core.Posting{{Currency: h.Currency, Owner: h.Owner, Bucket: core.BucketHeld, Amount: h.Amount.Neg()}}
	if amount.IsPositive() {
		ps = append(ps, core.Posting{Currency: h.Currency, Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: amount})
	}
	if rest := h.Amount.Sub(amount); rest.IsPositive() {
		ps = append(ps, core.Posting{Currency: h.Currency, Owner: h.Owner, Bucket: core.BucketAvailable, Amount: rest})
	}
	t := core.Transaction{ShopID: h.ShopID, Key: "hold:" + hid + ":resolve", Reason: reason, Reverses: 0, Postings: ps}
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
