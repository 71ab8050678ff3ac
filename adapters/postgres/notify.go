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

// NotifyStore is the notification outbox (core/notify.go): notifications
// derived from committed ledger transactions and from the expiry and
// reminder scans, and one delivery row per (notification, channel).
type NotifyStore struct {
	L *LedgerStore
}

// NotifyCursor is the name of the program cursor of the ledger reader.
const NotifyCursor = "notify"

// channels returns the channels that deliver topic for a shop.
func channels(shop core.Shop, topic string) []string {
	var out []string
	for _, e := range shop.Settings.Endpoints {
		if e.Wants(topic) {
			out = append(out, e.Channel())
		}
	}
	if shop.Settings.Email {
		out = append(out, core.ChannelEmail)
	}
	return out
}

type derivedRow struct {
	txID      int64
	kind      core.ReasonKind
	reason    core.Reason
	createdAt time.Time
	cur       string
	owner     core.Owner
	dAvail    decimal.Decimal
	dPending  decimal.Decimal
}

// Derive reads the shop's ledger transactions after its cursor that were
// created before before (a margin for transactions still committing),
// creates their notifications (credit.earned, credit.available,
// credit.expired) with one delivery per channel, advances the cursor and
// returns the new deliveries. A notification is created once (unique
// key), so concurrent or repeated runs deliver nothing twice.
func (s *NotifyStore) Derive(ctx context.Context, shop core.Shop, before time.Time, limit int) ([]core.DeliveryRef, error) {
	var refs []core.DeliveryRef
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		refs = nil
		var cursor int64
		if err := tx.QueryRow(ctx, `INSERT INTO program_cursors (shop_id, name) VALUES ($1, $2) ON CONFLICT (shop_id, name) DO UPDATE SET name = EXCLUDED.name
RETURNING last_id`, shop.ID, NotifyCursor).Scan(&cursor); err != nil {
			return fmt.Errorf("postgres: notify cursor: %w", err)
		}
		var last int64
		rows, err := tx.Query(ctx, `WITH t AS (
	SELECT id, kind, reason, created_at FROM ledger_transactions
	WHERE shop_id = $1 AND id > $2 AND created_at < $3 ORDER BY id LIMIT $4)
SELECT t.id, t.kind, t.reason, t.created_at, coalesce(p.currency, ''), coalesce(p.owner_kind, ''), coalesce(p.owner_id, ''),
	coalesce(sum(p.amount) FILTER (WHERE p.bucket = 'available'), 0), coalesce(sum(p.amount) FILTER (WHERE p.bucket = 'pending'), 0)
FROM t LEFT JOIN ledger_postings p ON p.shop_id = $1 AND p.tx_id = t.id AND p.owner_kind = 'customer'
	AND t.kind IN ('earn', 'activity', 'referral_reward', 'referral_welcome', 'mature', 'expire')
GROUP BY t.id, t.kind, t.reason, t.created_at, p.currency, p.owner_kind, p.owner_id
ORDER BY t.id`, shop.ID, cursor, before.UTC(), limit)
		if err != nil {
			return fmt.Errorf("postgres: notify read: %w", err)
		}
		var list []derivedRow
		for rows.Next() {
			var r derivedRow
			var kind, okind string
			var reason []byte
			if err := rows.Scan(&r.txID, &kind, &reason, &r.createdAt, &r.cur, &okind, &r.owner.ID, &r.dAvail, &r.dPending); err != nil {
				rows.Close()
				return err
			}
			last = max(last, r.txID)
			if okind == "" {
				continue
			}
			r.kind, r.owner.Kind = core.ReasonKind(kind), core.OwnerKind(okind)
			if err := json.Unmarshal(reason, &r.reason); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: notify reason of %d: %w", r.txID, err)
			}
			list = append(list, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if last == 0 {
			return nil
		}
		for _, r := range list {
			delta := r.dAvail.Add(r.dPending)
			if r.kind == core.ReasonMature || r.kind == core.ReasonExpire {
				delta = r.dAvail
			}
			topic := core.NotificationFor(r.kind, r.owner, delta)
			if topic == "" {
				continue
			}
			data := core.NotificationData{Customer: r.owner.ID, PlatformCustomerID: core.PlatformCustomerID(r.owner), Currency: r.cur, Amount: delta.Abs(),
				Reason: r.kind, OrderID: r.reason.OrderID, OrderNumber: r.reason.OrderNumber, TransactionID: r.txID}
			if r.kind == core.ReasonActivity {
				data.Activity = r.reason.Rule
			}
			if err := tx.QueryRow(ctx, `SELECT available_after, pending_after FROM ledger_entries
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 AND tx_id = $5`, shop.ID, r.cur, string(r.owner.Kind), r.owner.ID, r.txID).
				Scan(&data.Available, &data.Pending); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			n := core.Notification{ShopID: shop.ID, Topic: topic, Key: "tx:" + strconv.FormatInt(r.txID, 10) + ":" + r.owner.ID + ":" + r.cur,
				Owner: r.owner, Data: data, CreatedAt: r.createdAt}
			got, err := createNotification(ctx, tx, n, channels(shop, topic))
			if err != nil {
				return err
			}
			refs = append(refs, got...)
		}
		_, err = tx.Exec(ctx, `UPDATE program_cursors SET last_id = $3, updated_at = now() WHERE shop_id = $1 AND name = $2 AND last_id < $3`, shop.ID, NotifyCursor, last)
		return err
	})
	return refs, err
}

func createNotification(ctx context.Context, q DBTX, n core.Notification, chans []string) ([]core.DeliveryRef, error) {
	payload, err := json.Marshal(n.Data)
	if err != nil {
		return nil, err
	}
	var id int64
	err = q.QueryRow(ctx, `INSERT INTO notifications (shop_id, topic, dedupe_key, owner_kind, owner_id, payload, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (shop_id, dedupe_key) DO NOTHING RETURNING id`,
		n.ShopID, n.Topic, n.Key, string(n.Owner.Kind), n.Owner.ID, payload, n.CreatedAt.UTC()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // created before
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: insert notification %s: %w", n.Key, err)
	}
	var refs []core.DeliveryRef
	for _, ch := range chans {
		if _, err := q.Exec(ctx, `INSERT INTO notification_deliveries (shop_id, notification_id, channel) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			n.ShopID, id, ch); err != nil {
			return nil, fmt.Errorf("postgres: insert delivery: %w", err)
		}
		refs = append(refs, core.DeliveryRef{ShopID: n.ShopID, NotificationID: id, Channel: ch})
	}
	return refs, nil
}

// Create stores a notification (once per key) with a delivery per
// channel of the shop; it returns the new deliveries (none when the key
// was used before).
func (s *NotifyStore) Create(ctx context.Context, shop core.Shop, n core.Notification) ([]core.DeliveryRef, error) {
	n.ShopID = shop.ID
	var refs []core.DeliveryRef
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		refs, err = createNotification(ctx, tx, n, channels(shop, n.Topic))
		return err
	})
	return refs, err
}

// Delivery loads a delivery and its notification.
func (s *NotifyStore) Delivery(ctx context.Context, r core.DeliveryRef) (core.Delivery, error) {
	var d core.Delivery
	var payload []byte
	var kind string
	err := s.L.pool.QueryRow(ctx, `SELECT n.id, n.topic, n.dedupe_key, n.owner_kind, n.owner_id, n.payload, n.created_at, d.channel, d.status, d.attempts, coalesce(d.last_error, '')
FROM notification_deliveries d JOIN notifications n ON n.shop_id = d.shop_id AND n.id = d.notification_id
WHERE d.shop_id = $1 AND d.notification_id = $2 AND d.channel = $3`, r.ShopID, r.NotificationID, r.Channel).
		Scan(&d.Notification.ID, &d.Notification.Topic, &d.Notification.Key, &kind, &d.Notification.Owner.ID, &payload, &d.Notification.CreatedAt,
			&d.Channel, &d.Status, &d.Attempts, &d.LastError)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, core.Errorf(core.ENOTFOUND, "delivery not found")
	}
	if err != nil {
		return d, fmt.Errorf("postgres: delivery: %w", err)
	}
	d.Notification.ShopID, d.Notification.Owner.Kind = r.ShopID, core.OwnerKind(kind)
	if err := json.Unmarshal(payload, &d.Notification.Data); err != nil {
		return d, fmt.Errorf("postgres: delivery payload: %w", err)
	}
	return d, nil
}

// MarkDelivery records an attempt's outcome: delivered, failed or
// skipped end the delivery; pending counts a failed attempt.
func (s *NotifyStore) MarkDelivery(ctx context.Context, r core.DeliveryRef, status, lastError string) error {
	if len(lastError) > 500 {
		lastError = lastError[:500]
	}
	_, err := s.L.pool.Exec(ctx, `UPDATE notification_deliveries SET status = $4, attempts = attempts + 1, last_error = NULLIF($5, ''),
	delivered_at = CASE WHEN $4 = 'delivered' THEN now() END
WHERE shop_id = $1 AND notification_id = $2 AND channel = $3 AND status = 'pending'`, r.ShopID, r.NotificationID, r.Channel, status, lastError)
	return err
}

// PendingDeliveries lists deliveries still pending that were created
// before olderThan (to re-enqueue after a Redis loss).
func (s *NotifyStore) PendingDeliveries(ctx context.Context, olderThan time.Time, limit int) ([]core.DeliveryRef, error) {
	rows, err := s.L.pool.Query(ctx, `SELECT shop_id, notification_id, channel FROM notification_deliveries WHERE status = 'pending' AND created_at < $1 ORDER BY created_at LIMIT $2`,
		olderThan, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.DeliveryRef, error) {
		var d core.DeliveryRef
		err := r.Scan(&d.ShopID, &d.NotificationID, &d.Channel)
		return d, err
	})
}

// Notifications lists a shop's notifications with their deliveries,
// newest first (admin view).
func (s *NotifyStore) Notifications(ctx context.Context, shopID int64, limit int) ([]NotificationView, error) {
	rows, err := s.L.pool.Query(ctx, `SELECT n.id, n.topic, n.payload, n.created_at,
	coalesce(jsonb_agg(jsonb_build_object('channel', d.channel, 'status', d.status, 'attempts', d.attempts, 'last_error', d.last_error)) FILTER (WHERE d.channel IS NOT NULL), '[]')
FROM notifications n LEFT JOIN notification_deliveries d ON d.shop_id = n.shop_id AND d.notification_id = n.id
WHERE n.shop_id = $1 GROUP BY n.shop_id, n.id ORDER BY n.id DESC LIMIT $2`, shopID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (NotificationView, error) {
		var v NotificationView
		var payload, deliveries []byte
		if err := r.Scan(&v.ID, &v.Topic, &payload, &v.CreatedAt, &deliveries); err != nil {
			return v, err
		}
		v.Data, v.Deliveries = json.RawMessage(payload), json.RawMessage(deliveries)
		return v, nil
	})
}

// NotificationView is a notification as the admin API shows it.
type NotificationView struct {
	ID         int64           `json:"id"`
	Topic      string          `json:"topic"`
	Data       json.RawMessage `json:"data"`
	CreatedAt  time.Time       `json:"created_at"`
	Deliveries json.RawMessage `json:"deliveries"`
}

// ScanReminders creates credit.expiring and balance.reminder
// notifications of one shop due at now (see ProgramSettings): per
// customer with available credit, an expiring notice once per expiry
// date, and a reminder after reminder_days without an order at most once
// per reminder interval. It returns the new deliveries.
func (s *NotifyStore) ScanReminders(ctx context.Context, shop core.Shop, now time.Time) ([]core.DeliveryRef, error) {
	p := shop.Settings.ProgramSettings
	expiring := p.ExpiryMonths > 0 && p.ExpiryNoticeDays > 0
	remind := p.ReminderDays > 0
	if !expiring && !remind {
		return nil, nil
	}
	list, err := s.L.ownersWith(ctx, shop.ID, "owner_kind = 'customer' AND available > 0", 1000)
	if err != nil {
		return nil, err
	}
	var refs []core.DeliveryRef
	for _, o := range list {
		b, err := s.L.Balance(ctx, shop.ID, o.cur, o.owner)
		if err != nil {
			return refs, err
		}
		lots, err := creditLots(ctx, s.L.pool, shop.ID, o.cur, o.owner)
		if err != nil {
			return refs, err
		}
		since := lots.LastOrder
		if since.IsZero() && len(lots.Lots) > 0 {
			since = lots.Lots[0].At
		}
		base := core.NotificationData{Customer: o.owner.ID, PlatformCustomerID: core.PlatformCustomerID(o.owner), Currency: o.cur,
			Available: b.Available, Pending: b.Pending}
		if err := s.L.pool.QueryRow(ctx, `SELECT marketing_consent FROM customers WHERE shop_id = $1 AND owner_id = $2`, shop.ID, o.owner.ID).
			Scan(&base.MarketingConsent); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return refs, err
		}
		if expiring {
			rem := lots.Remaining()
			soon := core.Expiring(rem, b.Available, p.ExpiryCutoff(now.AddDate(0, 0, p.ExpiryNoticeDays), since))
			var at time.Time
			if p.ExpiryMode == core.ExpiryInactivity {
				at = since.AddDate(0, p.ExpiryMonths, 0)
			} else if len(rem) > 0 {
				at = p.ExpiryOf(rem[0].At)
			}
			if soon.IsPositive() && at.After(now) {
				d := base
				d.Amount, d.ExpiresAt = soon, &at
				got, err := s.Create(ctx, shop, core.Notification{Topic: core.TopicCreditExpiring, Owner: o.owner, Data: d, CreatedAt: now,
					Key: "expiring:" + o.owner.ID + ":" + o.cur + ":" + at.UTC().Format(time.RFC3339)})
				if err != nil {
					return refs, err
				}
				refs = append(refs, got...)
			}
		}
		if remind && !since.After(now.AddDate(0, 0, -p.ReminderDays)) {
			var last *time.Time
			if err := s.L.pool.QueryRow(ctx, `SELECT max(created_at) FROM notifications WHERE shop_id = $1 AND owner_kind = $2 AND owner_id = $3 AND topic = $4`,
				shop.ID, string(o.owner.Kind), o.owner.ID, core.TopicBalanceReminder).Scan(&last); err != nil {
				return refs, err
			}
			if last == nil || !now.Before(last.Add(p.ReminderInterval())) {
				d := base
				d.Amount = b.Available
				got, err := s.Create(ctx, shop, core.Notification{Topic: core.TopicBalanceReminder, Owner: o.owner, Data: d, CreatedAt: now,
					Key: "reminder:" + o.owner.ID + ":" + o.cur + ":" + now.UTC().Format("2006-01-02")})
				if err != nil {
					return refs, err
				}
				refs = append(refs, got...)
			}
		}
	}
	return refs, nil
}
