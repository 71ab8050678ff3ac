package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
)

// ActivityStore implements core.ActivityStore: a subject's activities are
// decided under a transaction-scoped advisory lock on (shop, subject), so
// caps and slots are counted without races, and the reward is posted in
// the same database transaction as the event.
type ActivityStore struct {
	L *LedgerStore
}

var _ core.ActivityStore = ActivityStore{}

// WithSubject runs fn with the subject locked.
func (s ActivityStore) WithSubject(ctx context.Context, shopID int64, owner core.Owner, fn func(core.ActivityTx) error) error {
	return s.L.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('activity:' || $1::bigint || ':' || $2::text, 0))`, shopID, owner.ID); err != nil {
			return fmt.Errorf("postgres: activity lock: %w", err)
		}
		return fn(&activityTx{l: s.L, tx: tx, shop: shopID, owner: owner})
	})
}

type activityTx struct {
	l     *LedgerStore
	tx    pgx.Tx
	shop  int64
	owner core.Owner
}

const activityCols = `id, idem_key, kind, owner_id, object, status, coalesce(refusal, ''), coalesce(currency, ''), amount,
	coalesce(tx_id, 0), coalesce(revoke_tx_id, 0), created_at, revoked_at`

func scanActivity(shopID int64, row pgx.Row) (core.ActivityEvent, error) {
	ev := core.ActivityEvent{ShopID: shopID, Owner: core.Owner{Kind: core.OwnerCustomer}}
	var st string
	err := row.Scan(&ev.ID, &ev.Key, &ev.Kind, &ev.Owner.ID, &ev.Object, &st, &ev.Refusal, &ev.Currency, &ev.Amount, &ev.TxID, &ev.RevokeTxID, &ev.CreatedAt, &ev.RevokedAt)
	ev.Status = core.ActivityStatus(st)
	return ev, err
}

func (a *activityTx) EventByKey(ctx context.Context, key string) (core.ActivityEvent, bool, error) {
	ev, err := scanActivity(a.shop, a.tx.QueryRow(ctx, `SELECT `+activityCols+` FROM activity_events WHERE shop_id = $1 AND idem_key = $2`, a.shop, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return ev, false, nil
	}
	if err != nil {
		return ev, false, fmt.Errorf("postgres: activity %s: %w", key, err)
	}
	return ev, true, nil
}

func (a *activityTx) SlotTaken(ctx context.Context, kind, object string) (bool, error) {
	var taken bool
	err := a.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM activity_events WHERE shop_id = $1 AND kind = $2 AND owner_id = $3 AND object = $4 AND status <> 'refused')`,
		a.shop, kind, a.owner.ID, object).Scan(&taken)
	return taken, err
}

func (a *activityTx) CountSince(ctx context.Context, kind string, since time.Time) (int, error) {
	var n int
	err := a.tx.QueryRow(ctx, `SELECT count(*) FROM activity_events WHERE shop_id = $1 AND owner_id = $2 AND kind = $3 AND status = 'rewarded' AND created_at >= $4`,
		a.shop, a.owner.ID, kind, since).Scan(&n)
	return n, err
}

func (a *activityTx) Insert(ctx context.Context, ev core.ActivityEvent) (core.ActivityEvent, error) {
	var txID *int64
	if ev.TxID != 0 {
		txID = &ev.TxID
	}
	out, err := scanActivity(a.shop, a.tx.QueryRow(ctx, `INSERT INTO activity_events (shop_id, idem_key, kind, owner_id, object, status, refusal, currency, amount, tx_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), NULLIF($8, ''), $9, $10, $11) RETURNING `+activityCols,
		a.shop, ev.Key, ev.Kind, ev.Owner.ID, ev.Object, string(ev.Status), ev.Refusal, ev.Currency, ev.Amount, txID, ev.CreatedAt.UTC()))
	if err != nil {
		return out, fmt.Errorf("postgres: insert activity %s: %w", ev.Key, translate(err))
	}
	return out, nil
}

func (a *activityTx) MarkRevoked(ctx context.Context, id, txID int64, at time.Time) error {
	_, err := a.tx.Exec(ctx, `UPDATE activity_events SET status = 'revoked', revoke_tx_id = $3, revoked_at = $4 WHERE shop_id = $1 AND id = $2 AND status = 'rewarded'`,
		a.shop, id, txID, at.UTC())
	return err
}

func (a *activityTx) Funds(ctx context.Context, currency string) (core.Balance, error) {
	b := core.Balance{ShopID: a.shop, Currency: currency, Owner: a.owner}
	err := a.tx.QueryRow(ctx, `SELECT available, pending, held, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`, a.shop, currency, string(a.owner.Kind), a.owner.ID).
		Scan(&b.Available, &b.Pending, &b.Held, &b.Overdraft, &b.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, nil
	}
	return b, err
}

func (a *activityTx) Post(ctx context.Context, t core.Transaction) (core.Transaction, error) {
	if err := t.Validate(); err != nil {
		return t, err
	}
	return a.l.postInTx(ctx, a.tx, t)
}

// ActivityEvents lists a subject's activities, newest first (admin view).
func (s ActivityStore) ActivityEvents(ctx context.Context, shopID int64, owner core.Owner, limit int) ([]core.ActivityEvent, error) {
	rows, err := s.L.pool.Query(ctx, `SELECT `+activityCols+` FROM activity_events WHERE shop_id = $1 AND owner_id = $2 ORDER BY id DESC LIMIT $3`, shopID, owner.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: activities: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.ActivityEvent, error) { return scanActivity(shopID, r) })
}

// RegisterCustomer records a customer (as CustomerOwner does) with the
// marketing consent and language the platform reported (nil / empty:
// unchanged).
func (d *Directory) RegisterCustomer(ctx context.Context, shop core.Shop, c core.CustomerRef, consent *bool, locale string) (core.Owner, error) {
	o, err := d.CustomerOwner(ctx, shop, c)
	if err != nil {
		return o, err
	}
	if consent == nil && locale == "" {
		return o, nil
	}
	_, err = d.pool.Exec(ctx, `UPDATE customers SET marketing_consent = coalesce($3, marketing_consent), locale = coalesce(NULLIF($4, ''), locale)
WHERE shop_id = $1 AND owner_id = $2 AND redacted_at IS NULL`, shop.ID, o.ID, consent, locale)
	if err != nil {
		return o, fmt.Errorf("postgres: customer consent: %w", err)
	}
	return o, nil
}

// CustomerContact returns a customer's contact data.
func (d *Directory) CustomerContact(ctx context.Context, shopID int64, owner core.Owner) (core.CustomerContact, error) {
	var c core.CustomerContact
	var email, locale *string
	err := d.pool.QueryRow(ctx, `SELECT email, marketing_consent, locale FROM customers WHERE shop_id = $1 AND owner_id = $2 AND redacted_at IS NULL`,
		shopID, owner.ID).Scan(&email, &c.Consent, &locale)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("postgres: customer contact: %w", err)
	}
	if email != nil {
		c.Email = *email
	}
	if locale != nil {
		c.Locale = *locale
	}
	return c, nil
}

// SetConsent records a customer's marketing consent (an unsubscribe
// link withdraws it).
func (d *Directory) SetConsent(ctx context.Context, shop core.Shop, owner core.Owner, consent bool) error {
	_, err := d.pool.Exec(ctx, `UPDATE customers SET marketing_consent = $3 WHERE shop_id = $1 AND owner_id = $2`, shop.ID, owner.ID, consent)
	if err != nil {
		return fmt.Errorf("postgres: consent: %w", err)
	}
	return nil
}
