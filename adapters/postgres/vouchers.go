package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// VoucherStore implements core.VoucherStore.
type VoucherStore struct {
	L *LedgerStore
}

var _ core.VoucherStore = VoucherStore{}

const voucherCols = `id, code, currency, owner_kind, owner_id, amount, status, coalesce(platform_ref, ''), coalesce(order_id, ''), expires_at, created_at`

func scanVoucher(shopID int64, row pgx.Row) (core.Voucher, error) {
	v := core.Voucher{ShopID: shopID}
	var kind, st string
	err := row.Scan(&v.ID, &v.Code, &v.Currency, &kind, &v.Owner.ID, &v.Amount, &st, &v.PlatformRef, &v.OrderID, &v.ExpiresAt, &v.CreatedAt)
	v.Owner.Kind, v.Status = core.OwnerKind(kind), core.VoucherStatus(st)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, core.Errorf(core.ENOTFOUND, "voucher not found")
	}
	return v, err
}

func voucherTx(v core.Voucher, step string, kind core.ReasonKind, note string, ps []core.Posting) core.Transaction {
	id := strconv.FormatInt(v.ID, 10)
	return core.Transaction{ShopID: v.ShopID, Key: "voucher:" + id + ":" + step, Reason: core.Reason{Kind: kind, VoucherID: id, OrderID: v.OrderID, Note: note}, Postings: ps}
}

// CreatePending inserts the voucher and reserves its credit.
func (s VoucherStore) CreatePending(ctx context.Context, v core.Voucher) (core.Voucher, error) {
	var out core.Voucher
	var key *string
	if v.RequestKey != "" {
		key = &v.RequestKey
	}
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanVoucher(v.ShopID, tx.QueryRow(ctx, `INSERT INTO vouchers (shop_id, code, currency, owner_kind, owner_id, amount, status, expires_at, request_key)
VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) ON CONFLICT (shop_id, request_key) WHERE request_key IS NOT NULL DO NOTHING RETURNING `+voucherCols,
			v.ShopID, strings.ToLower(v.Code), v.Currency, string(v.Owner.Kind), v.Owner.ID, v.Amount, v.ExpiresAt, key))
		if core.ErrorCode(err) == core.ENOTFOUND && key != nil {
			// The key was used before: that request's voucher is the answer.
			prev, err := scanVoucher(v.ShopID, tx.QueryRow(ctx, `SELECT `+voucherCols+` FROM vouchers WHERE shop_id = $1 AND request_key = $2`, v.ShopID, *key))
			if err != nil {
				return err
			}
			if prev.Owner != v.Owner || prev.Currency != v.Currency || !prev.Amount.Equal(v.Amount) {
				return core.Errorf(core.ECONFLICT, "idempotency key %q was already used for a different voucher", *key)
			}
			prev.Replayed = true
			out = prev
			return nil
		}
		if err != nil {
			return err
		}
		out.ShopID = v.ShopID
		if v.MinAvailable.Valid {
			var avail decimal.Decimal
			err := tx.QueryRow(ctx, `SELECT available FROM ledger_balances WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`,
				v.ShopID, v.Currency, string(v.Owner.Kind), v.Owner.ID).Scan(&avail)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if avail.LessThan(v.MinAvailable.Decimal) {
				return core.Errorf(core.EINSUFFICIENT, "credit can be used once the balance reaches %s %s", v.MinAvailable.Decimal.String(), v.Currency)
			}
		}
		_, err = s.L.postInTx(ctx, tx, mustValid(voucherTx(out, "issue", core.ReasonVoucherIssue, "", []core.Posting{
			{Currency: v.Currency, Owner: v.Owner, Bucket: core.BucketAvailable, Amount: v.Amount.Neg()},
			{Currency: v.Currency, Owner: core.ProgramOwner, Bucket: core.ProgramVouchers, Amount: v.Amount},
		})))
		return err
	})
	if c, con := pgCode(err); c == "23505" && con == "vouchers_code" {
		return out, core.Errorf(core.ECONFLICT, "voucher code already exists")
	}
	return out, err
}

func mustValid(t core.Transaction) core.Transaction {
	_ = t.Validate() // postInTx re-validates and reports errors
	return t
}

// MarkIssued records the platform's reference of a created code.
func (s VoucherStore) MarkIssued(ctx context.Context, shopID, id int64, ref string) error {
	_, err := s.L.pool.Exec(ctx, `UPDATE vouchers SET status = 'issued', platform_ref = $3 WHERE shop_id = $1 AND id = $2 AND status = 'pending'`, shopID, id, ref)
	return err
}

// Return gives an unused voucher's credit back.
func (s VoucherStore) Return(ctx context.Context, shopID, id int64, note string) (core.Voucher, error) {
	return s.giveBack(ctx, shopID, id, note, false)
}

// Fail gives a pending voucher's credit back after the platform could not
// create its code: status failed, transaction voucher_failed.
func (s VoucherStore) Fail(ctx context.Context, shopID, id int64, note string) (core.Voucher, error) {
	return s.giveBack(ctx, shopID, id, note, true)
}

func (s VoucherStore) giveBack(ctx context.Context, shopID, id int64, note string, failed bool) (core.Voucher, error) {
	step, kind, status := "return", core.ReasonVoucherReturn, core.VoucherReturned
	if failed {
		step, kind, status = "failed", core.ReasonVoucherFailed, core.VoucherFailed
	}
	var out core.Voucher
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		v, err := scanVoucher(shopID, tx.QueryRow(ctx, `SELECT `+voucherCols+` FROM vouchers WHERE shop_id = $1 AND id = $2 FOR UPDATE`, shopID, id))
		if err != nil {
			return err
		}
		if v.Status != core.VoucherPending && (failed || v.Status != core.VoucherIssued) {
			return core.Errorf(core.ECONFLICT, "voucher %d is already %s", id, v.Status)
		}
		// The status guard (under FOR UPDATE) makes it one give-back per
		// voucher, whichever way.
		if _, err := s.L.postInTx(ctx, tx, mustValid(voucherTx(v, step, kind, note, []core.Posting{
			{Currency: v.Currency, Owner: core.ProgramOwner, Bucket: core.ProgramVouchers, Amount: v.Amount.Neg()},
			{Currency: v.Currency, Owner: v.Owner, Bucket: core.BucketAvailable, Amount: v.Amount},
		}))); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE vouchers SET status = $3, resolved_at = now() WHERE shop_id = $1 AND id = $2`, shopID, id, string(status))
		v.Status = status
		out = v
		return err
	})
	return out, err
}

// Expired lists vouchers past their expiry that were never used.
func (s VoucherStore) Expired(ctx context.Context, now time.Time, afterID int64, limit int) ([]core.Voucher, error) {
	rows, err := s.L.pool.Query(ctx, `SELECT shop_id, `+voucherCols+` FROM vouchers WHERE status IN ('pending', 'issued') AND expires_at <= $1 AND id > $2 ORDER BY id LIMIT $3`, now, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: expired vouchers: %w", err)
	}
	defer rows.Close()
	var out []core.Voucher
	for rows.Next() {
		var shop int64
		var v core.Voucher
		var kind, st string
		if err := rows.Scan(&shop, &v.ID, &v.Code, &v.Currency, &kind, &v.Owner.ID, &v.Amount, &st, &v.PlatformRef, &v.OrderID, &v.ExpiresAt, &v.CreatedAt); err != nil {
			return nil, err
		}
		v.ShopID, v.Owner.Kind, v.Status = shop, core.OwnerKind(kind), core.VoucherStatus(st)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Vouchers of an owner, newest first.
func (s VoucherStore) ForOwner(ctx context.Context, shopID int64, owner core.Owner) ([]core.Voucher, error) {
	rows, err := s.L.pool.Query(ctx, `SELECT `+voucherCols+` FROM vouchers WHERE shop_id = $1 AND owner_kind = $2 AND owner_id = $3 ORDER BY id DESC LIMIT 100`, shopID, string(owner.Kind), owner.ID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Voucher, error) { return scanVoucher(shopID, r) })
}

func (o *orderTx) VoucherByCode(ctx context.Context, code string) (core.Voucher, bool, error) {
	v, err := scanVoucher(o.shop, o.tx.QueryRow(ctx, `SELECT `+voucherCols+` FROM vouchers WHERE shop_id = $1 AND code = $2 FOR UPDATE`, o.shop, strings.ToLower(code)))
	if core.ErrorCode(err) == core.ENOTFOUND {
		return v, false, nil
	}
	return v, err == nil, err
}

func (o *orderTx) SettleVoucher(ctx context.Context, v core.Voucher, orderID string) error {
	if _, err := o.s.postInTx(ctx, o.tx, mustValid(core.VoucherSettlement(v, orderID))); err != nil {
		return err
	}
	_, err := o.tx.Exec(ctx, `UPDATE vouchers SET status = 'used', order_id = $3, resolved_at = now() WHERE shop_id = $1 AND id = $2`, o.shop, v.ID, orderID)
	return err
}

// CustomerEmail returns the e-mail recorded for a customer owner ("" if none).
func (d *Directory) CustomerEmail(ctx context.Context, shop core.Shop, owner core.Owner) (string, error) {
	var email *string
	err := d.pool.QueryRow(ctx, `SELECT email FROM customers WHERE shop_id = $1 AND owner_id = $2`, shop.ID, owner.ID).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) || email == nil {
		return "", nil
	}
	return *email, err
}
