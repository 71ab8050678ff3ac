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

// OrderStore implements core.OrderStore on the ledger's pool: the order's
// row lock, its state and its postings share one database transaction.
type OrderStore struct {
	L *LedgerStore
}

var _ core.OrderStore = OrderStore{}

// WithOrder locks the order row (creating it) and runs fn in one
// transaction, retrying deadlocks.
func (s OrderStore) WithOrder(ctx context.Context, shopID int64, orderID string, fn func(core.OrderTx) error) error {
	return s.L.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO orders (shop_id, order_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, shopID, orderID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM orders WHERE shop_id = $1 AND order_id = $2 FOR UPDATE`, shopID, orderID); err != nil {
			return err
		}
		return fn(&orderTx{s: s.L, tx: tx, shop: shopID, order: orderID})
	})
}

type orderTx struct {
	s     *LedgerStore
	tx    pgx.Tx
	shop  int64
	order string
}

var _ core.HoldTx = (*orderTx)(nil)

// snapshot is the stored form of core.Order: the e-mail is not kept.
func (o *orderTx) State(ctx context.Context) (core.OrderState, error) {
	st := core.OrderState{Refunds: map[string]core.Refund{}}
	var snap []byte
	var buyer *string
	err := o.tx.QueryRow(ctx, `SELECT snapshot, buyer_owner FROM orders WHERE shop_id = $1 AND order_id = $2`, o.shop, o.order).Scan(&snap, &buyer)
	if err != nil {
		return st, fmt.Errorf("postgres: order state: %w", err)
	}
	if snap != nil {
		if err := json.Unmarshal(snap, &st.Order); err != nil {
			return st, fmt.Errorf("postgres: order snapshot: %w", err)
		}
	}
	if buyer != nil && *buyer != "" {
		st.Buyer = core.Owner{Kind: core.OwnerCustomer, ID: *buyer}
	}
	rows, err := o.tx.Query(ctx, `SELECT refund_id, lines_known, amount, lines, created_at FROM order_refunds WHERE shop_id = $1 AND order_id = $2`, o.shop, o.order)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var r core.Refund
		var lines []byte
		if err := rows.Scan(&r.RefundID, &r.LinesKnown, &r.Amount, &lines, &r.CreatedAt); err != nil {
			rows.Close()
			return st, err
		}
		if err := json.Unmarshal(lines, &r.Lines); err != nil {
			rows.Close()
			return st, err
		}
		st.Refunds[r.RefundID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, err
	}
	rr, err := o.tx.Query(ctx, `SELECT rate FROM order_rates WHERE shop_id = $1 AND order_id = $2 ORDER BY line_id, beneficiary`, o.shop, o.order)
	if err != nil {
		return st, err
	}
	st.Rates, err = pgx.CollectRows(rr, func(r pgx.CollectableRow) (core.FrozenRate, error) {
		var b []byte
		var f core.FrozenRate
		if err := r.Scan(&b); err != nil {
			return f, err
		}
		return f, json.Unmarshal(b, &f)
	})
	return st, err
}

func (o *orderTx) SaveSnapshot(ctx context.Context, ord core.Order, buyer core.Owner) error {
	ord.Customer.Email = "" // no personal data in snapshots
	ord.Refunds = nil       // kept in order_refunds
	b, err := json.Marshal(ord)
	if err != nil {
		return err
	}
	var bo *string
	if buyer.Kind != "" {
		bo = &buyer.ID
	}
	_, err = o.tx.Exec(ctx, `UPDATE orders SET snapshot = $3, platform_updated_at = $4, buyer_owner = coalesce($5, buyer_owner), updated_at = now() WHERE shop_id = $1 AND order_id = $2`,
		o.shop, o.order, b, ord.UpdatedAt, bo)
	return err
}

func (o *orderTx) AddRefunds(ctx context.Context, rs []core.Refund) error {
	for _, r := range rs {
		if r.RefundID == "" {
			return core.Errorf(core.EINVALID, "refund without id on order %s", o.order)
		}
		lines := r.Lines
		if lines == nil {
			lines = []core.RefundLine{}
		}
		lb, err := json.Marshal(lines)
		if err != nil {
			return err
		}
		created := r.CreatedAt
		if created.IsZero() {
			created = time.Now().UTC()
		}
		// A refund with line detail replaces its line-less record; known
		// detail is never replaced by less.
		_, err = o.tx.Exec(ctx, `INSERT INTO order_refunds (shop_id, order_id, refund_id, lines_known, amount, lines, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (shop_id, order_id, refund_id) DO UPDATE SET lines_known = true, lines = EXCLUDED.lines, amount = EXCLUDED.amount
WHERE NOT order_refunds.lines_known AND EXCLUDED.lines_known`, o.shop, o.order, r.RefundID, r.LinesKnown, r.Amount, lb, created)
		if err != nil {
			return fmt.Errorf("postgres: add refund: %w", err)
		}
	}
	return nil
}

func (o *orderTx) SaveRates(ctx context.Context, rates []core.FrozenRate) error {
	for _, r := range rates {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := o.tx.Exec(ctx, `INSERT INTO order_rates (shop_id, order_id, line_id, beneficiary, rate) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			o.shop, o.order, r.LineID, r.Beneficiary, b); err != nil {
			return fmt.Errorf("postgres: save rate: %w", err)
		}
	}
	return nil
}

func (o *orderTx) Transactions(ctx context.Context) ([]core.Transaction, error) {
	return txsForOrder(ctx, o.tx, o.shop, o.order)
}

func (o *orderTx) Funds(ctx context.Context, currency string, owner core.Owner) (core.Balance, error) {
	b := core.Balance{ShopID: o.shop, Currency: currency, Owner: owner}
	err := o.tx.QueryRow(ctx, `SELECT available, pending, held, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`, o.shop, currency, string(owner.Kind), owner.ID).
		Scan(&b.Available, &b.Pending, &b.Held, &b.Overdraft, &b.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, nil
	}
	return b, err
}

func (o *orderTx) Post(ctx context.Context, t core.Transaction) (core.Transaction, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	return o.s.postInTx(ctx, o.tx, t)
}

func (o *orderTx) FindHold(ctx context.Context, holdID int64, cartKey string) (core.Hold, bool, error) {
	var h core.Hold
	var err error
	switch {
	case holdID > 0:
		h, err = scanHold(o.shop, o.tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND id = $2 FOR UPDATE`, o.shop, holdID))
	case cartKey != "":
		// The cart's open hold, or the hold this order already captured.
		h, err = scanHold(o.shop, o.tx.QueryRow(ctx, `SELECT `+holdCols+` FROM ledger_holds WHERE shop_id = $1 AND cart_key = $2 AND (status = 'open' OR order_id = $3)
ORDER BY (status = 'open') DESC, id DESC LIMIT 1 FOR UPDATE`, o.shop, cartKey, o.order))
	default:
		return h, false, nil
	}
	if core.ErrorCode(err) == core.ENOTFOUND {
		return h, false, nil
	}
	return h, err == nil, err
}

func (o *orderTx) ResolveHold(ctx context.Context, h core.Hold, amount decimal.Decimal, reason core.Reason, st core.HoldStatus) (core.Hold, error) {
	return o.s.resolveHoldTx(ctx, o.tx, h, amount, reason, st)
}
