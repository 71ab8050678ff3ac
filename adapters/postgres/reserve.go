package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Reserve sets a cart's hold in one database transaction (see
// core.Ledger). It reads the owner's balance and the cart's hold under
// lock in one round trip (with BEGIN), decides, and writes in one more
// (with COMMIT): a checkout quote costs two round trips, three when it
// replaces a hold of another amount.
func (s *LedgerStore) Reserve(ctx context.Context, r core.HoldRequest, amount func(spendable decimal.Decimal) (decimal.Decimal, error)) (core.Reservation, error) {
	if err := r.Owner.Validate(); err != nil {
		return core.Reservation{}, err
	}
	if r.Owner.Kind == core.OwnerProgram || r.CartKey == "" || r.ExpiresAt.IsZero() {
		return core.Reservation{}, core.Errorf(core.EINVALID, "a reservation needs a customer or partner, a cart key and an expiry")
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
	b.Queue(`SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND cart_key = $2 AND status = 'open' FOR UPDATE`, r.ShopID, r.CartKey).QueryRow(func(row pgx.Row) error {
		h, err := scanHold(r.ShopID, row)
		if core.ErrorCode(err) == core.ENOTFOUND {
			return nil
		}
		cur, haveHold = h, err == nil
		return err
	})
	b.Queue(`SELECT nextval('ledger_holds_id_seq'), nextval(pg_get_serial_sequence('ledger_transactions', 'id'))`).QueryRow(func(row pgx.Row) error {
		return row.Scan(&holdID, &txID)
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return res, fmt.Errorf("postgres: reserve: %w", err)
	}
	spendable := decimal.Zero
	if haveBal {
		spendable = bal.Available
	}
	sameOwner := haveHold && cur.Owner == r.Owner && cur.Currency == r.Currency
	if sameOwner {
		spendable = spendable.Add(cur.Amount)
	}
	res.Spendable = spendable
	amt, err := amount(spendable)
	if err != nil {
		return res, err
	}
	if amt.IsNegative() || amt.GreaterThan(spendable) {
		return res, core.Errorf(core.EINVALID, "reservation of %s exceeds the spendable %s", amt.String(), spendable.String())
	}
	if err := core.CheckScale(r.Currency, amt); err != nil {
		return res, err
	}
	if amt.IsPositive() && !haveBal {
		// Unreachable (credit to hold comes from a balance row locked
		// above), and checked so the committing batch below can never
		// write a hold without its balance change.
		return res, core.Errorf(core.EINTERNAL, "reservation without a balance row")
	}
	if sameOwner && cur.Amount.Equal(amt) {
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
	if haveHold {
		if _, err := s.resolveHoldTx(ctx, tx, cur, decimal.Zero, core.Reason{Note: "replaced by a new quote"}, core.HoldVoided); err != nil {
			return res, err
		}
		res.Released = true
	}
	if amt.IsZero() {
		return res, nil
	}
	// Place the new hold: transaction, postings, balance change with its
	// statement entry, and the hold row, pipelined. The ids were taken
	// from their sequences above, and the key "hold:<new id>:place" is
	// new by construction, so nothing here can be a replay.
	hid := strconv.FormatInt(holdID, 10)
	t := core.Transaction{ID: txID, ShopID: r.ShopID, Key: "hold:" + hid + ":place", Reason: core.Reason{Kind: core.ReasonHoldPlace, HoldID: hid},
		Postings: []core.Posting{
			{Currency: r.Currency, Owner: r.Owner, Bucket: core.BucketAvailable, Amount: amt.Neg()},
			{Currency: r.Currency, Owner: r.Owner, Bucket: core.BucketHeld, Amount: amt},
		}}
	if err := t.Validate(); err != nil {
		return res, err
	}
	reason, err := json.Marshal(t.Reason)
	if err != nil {
		return res, err
	}
	now := s.now().UTC()
	d := t.Deltas[0]
	wb := &pgx.Batch{}
	wb.Queue(`INSERT INTO ledger_transactions (shop_id, id, idem_key, content_hash, kind, reason, created_at) OVERRIDING SYSTEM VALUE
VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ShopID, txID, t.Key, t.Hash[:], string(t.Reason.Kind), reason, now)
	queuePostings(wb, []core.Transaction{t})
	wb.Queue(updateEntrySQL, r.ShopID, d.Currency, string(d.Owner.Kind), d.Owner.ID, d.Available, d.Pending, d.Held, d.Overdraft, now, txID).QueryRow(func(row pgx.Row) error {
		var av, pe, he, ov decimal.Decimal
		var ver int64
		err := row.Scan(&av, &pe, &he, &ov, &ver)
		if errors.Is(err, pgx.ErrNoRows) {
			return core.Errorf(core.EINSUFFICIENT, "not enough credit")
		}
		return err
	})
	var h core.Hold
	wb.Queue(`INSERT INTO ledger_holds (shop_id, id, currency, owner_kind, owner_id, amount, cart_key, expires_at, place_tx_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+holdCols,
		r.ShopID, holdID, r.Currency, string(r.Owner.Kind), r.Owner.ID, amt, r.CartKey, r.ExpiresAt, txID, now).QueryRow(func(row pgx.Row) error {
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
