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

// TierStore keeps what customers' tiers depend on (core/tiers.go): each
// order's tier activity and the memberships, written with the order
// (orderTx.SaveTierActivity), and the tier last announced per customer
// (ReviewTiers, the periodic job that sends tier.changed).
type TierStore struct {
	L *LedgerStore
}

var _ core.TierReader = TierStore{}

// tierFactsSQL reads the tier facts of many (customer, time) requests
// with one statement: per request the spend and credit of the orders
// placed in its qualifying window (one order left out) and the membership
// running at its time.
//
// A customer's facts include the guests linked to them (owner_links): a
// claimed guest counts as the registered customer its credit moved to,
// with every guest owner linked to that customer, so claiming is
// idempotent and a later refund of a guest order, which updates the
// guest's row, counts against the customer.
const tierFactsSQL = `SELECT u.n, a.spend, a.credit,
	(SELECT max(m.ends_at) FROM memberships m WHERE m.shop_id = u.s AND m.owner_id = ANY(w.ids) AND m.starts_at <= u.t AND m.ends_at > u.t
	   AND (m.ended_at IS NULL OR m.ended_at > u.t))
FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[]) WITH ORDINALITY AS u(s, o, f, t, x, n)
CROSS JOIN LATERAL (SELECT coalesce((SELECT l.to_id FROM owner_links l WHERE l.shop_id = u.s AND l.from_kind = 'customer' AND l.from_id = u.o
	AND l.to_kind = 'customer'), u.o) AS id) c
CROSS JOIN LATERAL (SELECT c.id || ARRAY(SELECT l.from_id FROM owner_links l WHERE l.shop_id = u.s AND l.from_kind = 'customer' AND l.to_kind = 'customer'
	AND l.to_id = c.id) AS ids) w
CROSS JOIN LATERAL (SELECT coalesce(sum(spend), 0) AS spend, coalesce(sum(credit), 0) AS credit FROM tier_activity
	WHERE shop_id = u.s AND owner_id = ANY(w.ids) AND placed_at >= u.f AND placed_at < u.t AND order_id <> u.x) a`

// tierReq asks for a customer's tier facts at a time.
type tierReq struct {
	shop         int64
	owner        string
	from, at     time.Time
	excludeOrder string
}

// TierFacts returns a customer's tier facts at at (core.TierReader): the
// spend and credit of orders placed in the qualifying window before at
// (excludeOrder not counted) and the membership running at at. The
// reads of concurrent orders share one statement.
func (s TierStore) TierFacts(ctx context.Context, shop core.Shop, owner core.Owner, at time.Time, excludeOrder string) (core.TierFacts, error) {
	from := shop.Settings.QualifyingWindow(at, shop.Settings.Location())
	f, err := s.L.tierFacts.Do(tierReq{shop: shop.ID, owner: owner.ID, from: from.UTC(), at: at.UTC(), excludeOrder: excludeOrder})
	if err != nil {
		return f, fmt.Errorf("postgres: tier facts: %w", err)
	}
	return f, nil
}

// readTierFacts runs tierFactsSQL for a batch of requests.
func (s *LedgerStore) readTierFacts(reqs []tierReq) ([]core.TierFacts, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shops := make([]int64, len(reqs))
	owners, excl := make([]string, len(reqs)), make([]string, len(reqs))
	from, at := make([]time.Time, len(reqs)), make([]time.Time, len(reqs))
	for i, r := range reqs {
		shops[i], owners[i], from[i], at[i], excl[i] = r.shop, r.owner, r.from, r.at, r.excludeOrder
	}
	rows, err := s.pool.Query(ctx, tierFactsSQL, shops, owners, from, at, excl)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]core.TierFacts, len(reqs))
	for rows.Next() {
		var n int64
		var f core.TierFacts
		var until *time.Time
		if err := rows.Scan(&n, &f.Spend, &f.Credit, &until); err != nil {
			return nil, err
		}
		if n < 1 || int(n) > len(reqs) {
			return nil, fmt.Errorf("tier facts row for request %d of %d", n, len(reqs))
		}
		if until != nil {
			f.Member, f.MemberUntil = true, until.UTC()
		}
		out[n-1] = f
	}
	return out, rows.Err()
}

type tierCols struct {
	shop          []int64
	order, owner  []string
	placed        []time.Time
	spend, credit []decimal.Decimal
}

// SaveTierActivity records the order's tier activity with the batch's
// other writes (one statement for the batch; a row changes only when its
// figures do) and converges its membership lines.
func (o *orderTx) SaveTierActivity(ctx context.Context, a core.TierActivity) error {
	c := &o.bt.tiers
	c.shop, c.order, c.owner = append(c.shop, o.shop), append(c.order, o.order), append(c.owner, a.Owner.ID)
	c.placed, c.spend, c.credit = append(c.placed, a.PlacedAt.UTC()), append(c.spend, a.Spend), append(c.credit, a.Credit)
	for _, m := range a.Memberships {
		if m.Active {
			// Start and end are frozen by the first paid snapshot; a
			// membership bought while another runs starts at its end,
			// also one of the same person's other account (a claimed
			// guest and the customer it moved to: memberLinks).
			o.queue(`INSERT INTO memberships (shop_id, order_id, line_id, owner_id, tier, starts_at, ends_at, months)
SELECT $1, $2, $3, $4, $5, x.s, x.s + make_interval(months => $7), $7
FROM (SELECT greatest($6::timestamptz, coalesce((SELECT max(ends_at) FROM memberships
	WHERE shop_id = $1 AND owner_id IN (`+memberLinks("$1", "$4")+`) AND ended_at IS NULL AND NOT (order_id = $2 AND line_id = $3)), $6::timestamptz)) AS s) x
ON CONFLICT (shop_id, order_id, line_id) DO UPDATE SET ended_at = NULL, updated_at = now() WHERE memberships.ended_at IS NOT NULL`,
				o.shop, o.order, m.LineID, a.Owner.ID, m.Tier, a.PlacedAt.UTC(), m.Months)
		} else {
			o.queue(`UPDATE memberships SET ended_at = $4, updated_at = now() WHERE shop_id = $1 AND order_id = $2 AND line_id = $3 AND ended_at IS NULL`,
				o.shop, o.order, m.LineID, m.EndedAt.UTC())
		}
	}
	return nil
}

// memberLinks returns SQL listing the owners that are one person with
// owner ownerP of shop shopP (placeholders): the customer the owner moved
// to (a claimed guest) or the owner itself, and every guest claimed by
// that customer.
func memberLinks(shopP, ownerP string) string {
	return `WITH c AS (SELECT coalesce((SELECT l.to_id FROM owner_links l WHERE l.shop_id = ` + shopP + ` AND l.from_kind = 'customer'
	AND l.from_id = ` + ownerP + ` AND l.to_kind = 'customer'), ` + ownerP + `::text) AS id)
SELECT id FROM c UNION SELECT l.from_id FROM owner_links l, c WHERE l.shop_id = ` + shopP + ` AND l.to_kind = 'customer' AND l.to_id = c.id AND l.from_kind = 'customer'`
}

// rechainMemberships makes the running memberships of a customer and the
// guests claimed by it one chain, in the order they were bought: each
// starts when it was bought or when the one before ends, whichever is
// later, and keeps its length (a guest's membership claimed after the
// customer bought their own no longer overlaps it). Called when a guest
// is claimed; a repeat changes nothing.
func rechainMemberships(ctx context.Context, tx pgx.Tx, shopID int64, customer core.Owner) error {
	rows, err := tx.Query(ctx, `SELECT m.order_id, m.line_id, m.starts_at, m.ends_at, coalesce(a.placed_at, m.starts_at)
FROM memberships m LEFT JOIN tier_activity a ON a.shop_id = m.shop_id AND a.order_id = m.order_id
WHERE m.shop_id = $1 AND m.owner_id IN (`+memberLinks("$1", "$2")+`) AND m.ended_at IS NULL
ORDER BY coalesce(a.placed_at, m.starts_at), m.order_id, m.line_id FOR UPDATE OF m`, shopID, customer.ID)
	if err != nil {
		return fmt.Errorf("postgres: memberships: %w", err)
	}
	type row struct {
		order, line          string
		starts, ends, placed time.Time
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.order, &r.line, &r.starts, &r.ends, &r.placed); err != nil {
			rows.Close()
			return err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var prevEnd time.Time
	for _, r := range list {
		start := r.placed
		if prevEnd.After(start) {
			start = prevEnd
		}
		ends := r.ends
		if !start.Equal(r.starts) {
			// Its months again from the new start (a row written before
			// months were kept keeps its duration).
			if err := tx.QueryRow(ctx, `UPDATE memberships SET starts_at = $4::timestamptz,
	ends_at = CASE WHEN months IS NOT NULL THEN $4::timestamptz + make_interval(months => months) ELSE $4::timestamptz + (ends_at - starts_at) END,
	updated_at = now()
WHERE shop_id = $1 AND order_id = $2 AND line_id = $3 RETURNING ends_at`, shopID, r.order, r.line, start).Scan(&ends); err != nil {
				return fmt.Errorf("postgres: rechain membership: %w", err)
			}
		}
		if ends.After(prevEnd) {
			prevEnd = ends
		}
	}
	return nil
}

func (bt *batchTx) queueTiers() {
	if len(bt.tiers.shop) == 0 {
		return
	}
	c := bt.tiers
	bt.tiers = tierCols{}
	bt.queue(`INSERT INTO tier_activity (shop_id, order_id, owner_id, placed_at, spend, credit)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::numeric[], $6::numeric[])
ON CONFLICT (shop_id, order_id) DO UPDATE SET owner_id = EXCLUDED.owner_id, placed_at = EXCLUDED.placed_at, spend = EXCLUDED.spend,
	credit = EXCLUDED.credit, updated_at = now()
WHERE (tier_activity.owner_id, tier_activity.placed_at, tier_activity.spend, tier_activity.credit)
	IS DISTINCT FROM (EXCLUDED.owner_id, EXCLUDED.placed_at, EXCLUDED.spend, EXCLUDED.credit)`,
		c.shop, c.order, c.owner, c.placed, c.spend, c.credit)
}

// TierCursor is the program cursor of the tier review (unix seconds of
// database time, less a margin for transactions still committing).
const TierCursor = "tiers"

// tierMargin is how far back the review looks before its cursor: a
// transaction that started earlier (its rows carry its start time) and
// committed later is still seen. The order batch times out after one
// minute.
const tierMargin = 2 * time.Minute

// ReviewTiers looks at the customers whose tier may have changed (new
// tier activity or memberships since the last run, a review period or a
// membership that ended by now), records each change (customer_tiers,
// tier_changes) and creates its tier.changed notification with the
// shop's channels, all in one transaction per round. Repeated or
// concurrent runs change nothing twice (versioned rows, unique keys).
func (s TierStore) ReviewTiers(ctx context.Context, shop core.Shop, now time.Time) ([]core.TierChange, []core.DeliveryRef, error) {
	if !shop.Settings.TiersEnabled() {
		return nil, nil, nil
	}
	var since int64
	var dbNow time.Time
	err := s.L.pool.QueryRow(ctx, `SELECT coalesce((SELECT last_id FROM program_cursors WHERE shop_id = $1 AND name = $2), 0), now()`, shop.ID, TierCursor).Scan(&since, &dbNow)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: tier cursor: %w", err)
	}
	from := time.Unix(since, 0).Add(-tierMargin)
	// A claimed guest's activity is its customer's (tierOwnersCTE), and a
	// claim itself may change the customer's tier.
	rows, err := s.L.pool.Query(ctx, `SELECT DISTINCT coalesce(l.to_id, x.owner_id) FROM (
	SELECT owner_id FROM tier_activity WHERE shop_id = $1 AND updated_at >= $2
	UNION SELECT owner_id FROM memberships WHERE shop_id = $1 AND updated_at >= $2
	UNION SELECT owner_id FROM customer_tiers WHERE shop_id = $1 AND tier <> '' AND review_at <= $3
	UNION SELECT to_id FROM owner_links WHERE shop_id = $1 AND from_kind = 'customer' AND to_kind = 'customer' AND linked_at >= $2) x
LEFT JOIN owner_links l ON l.shop_id = $1 AND l.from_kind = 'customer' AND l.to_kind = 'customer' AND l.from_id = x.owner_id`, shop.ID, from, now.UTC())
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: tier candidates: %w", err)
	}
	owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, nil, err
	}
	var changes []core.TierChange
	var refs []core.DeliveryRef
	for len(owners) > 0 {
		n := min(len(owners), 500)
		ch, rf, err := s.review(ctx, shop, owners[:n], now)
		if err != nil {
			return changes, refs, err
		}
		changes, refs = append(changes, ch...), append(refs, rf...)
		owners = owners[n:]
	}
	_, err = s.L.pool.Exec(ctx, `INSERT INTO program_cursors (shop_id, name, last_id) VALUES ($1, $2, $3)
ON CONFLICT (shop_id, name) DO UPDATE SET last_id = greatest(program_cursors.last_id, EXCLUDED.last_id), updated_at = now()`,
		shop.ID, TierCursor, dbNow.Unix())
	return changes, refs, err
}

func (s TierStore) review(ctx context.Context, shop core.Shop, owners []string, now time.Time) ([]core.TierChange, []core.DeliveryRef, error) {
	loc := shop.Settings.Location()
	from := shop.Settings.QualifyingWindow(now, loc)
	var changes []core.TierChange
	var refs []core.DeliveryRef
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		changes, refs = nil, nil
		type cur struct {
			tier    string
			version int
			review  time.Time
			ok      bool
		}
		have := map[string]cur{}
		// Lock the customers' rows (in key order) so two runs never
		// announce one change twice.
		rows, err := tx.Query(ctx, `SELECT owner_id, tier, version, review_at FROM customer_tiers WHERE shop_id = $1 AND owner_id = ANY($2) ORDER BY owner_id FOR UPDATE`,
			shop.ID, owners)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var c cur
			if err := rows.Scan(&id, &c.tier, &c.version, &c.review); err != nil {
				rows.Close()
				return err
			}
			c.ok = true
			have[id] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		facts := map[string]core.TierFacts{}
		// Each customer with the guests it claimed (tierOwnersCTE).
		rows, err = tx.Query(ctx, `SELECT u.id,
	(SELECT coalesce(sum(spend), 0) FROM tier_activity a WHERE a.shop_id = $1 AND a.owner_id = ANY(u.ids) AND a.placed_at >= $3 AND a.placed_at < $4),
	(SELECT coalesce(sum(credit), 0) FROM tier_activity a WHERE a.shop_id = $1 AND a.owner_id = ANY(u.ids) AND a.placed_at >= $3 AND a.placed_at < $4),
	(SELECT max(m.ends_at) FROM memberships m WHERE m.shop_id = $1 AND m.owner_id = ANY(u.ids) AND m.starts_at <= $4 AND m.ends_at > $4
	   AND (m.ended_at IS NULL OR m.ended_at > $4))
FROM (SELECT v.id, v.id || ARRAY(SELECT l.from_id FROM owner_links l WHERE l.shop_id = $1 AND l.from_kind = 'customer' AND l.to_kind = 'customer'
	AND l.to_id = v.id) AS ids FROM unnest($2::text[]) AS v(id)) u`, shop.ID, owners, from.UTC(), now.UTC())
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var f core.TierFacts
			var until *time.Time
			if err := rows.Scan(&id, &f.Spend, &f.Credit, &until); err != nil {
				rows.Close()
				return err
			}
			if until != nil {
				f.Member, f.MemberUntil = true, until.UTC()
			}
			facts[id] = f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, id := range owners {
			st := shop.Settings.Evaluate(facts[id], now, loc)
			c := have[id]
			if st.Tier == c.tier {
				if c.ok && !st.ReviewAt.Equal(c.review) {
					b.Queue(`UPDATE customer_tiers SET review_at = $3, updated_at = now() WHERE shop_id = $1 AND owner_id = $2`, shop.ID, id, st.ReviewAt.UTC())
				}
				continue
			}
			v := c.version + 1
			b.Queue(`INSERT INTO customer_tiers (shop_id, owner_id, tier, since, review_at, version) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (shop_id, owner_id) DO UPDATE SET tier = EXCLUDED.tier, since = EXCLUDED.since, review_at = EXCLUDED.review_at,
	version = EXCLUDED.version, updated_at = now()`, shop.ID, id, st.Tier, now.UTC(), st.ReviewAt.UTC(), v)
			b.Queue(`INSERT INTO tier_changes (shop_id, owner_id, version, from_tier, to_tier, qualifying, member, changed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, shop.ID, id, v, c.tier, st.Tier, st.Qualifying, st.Member, now.UTC())
			owner := core.Owner{Kind: core.OwnerCustomer, ID: id}
			changes = append(changes, core.TierChange{Owner: owner, Version: v, From: c.tier, To: st.Tier, Qualifying: st.Qualifying, Member: st.Member, ChangedAt: now.UTC()})
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return fmt.Errorf("postgres: tier changes: %w", err)
			}
		}
		chans := channels(shop, core.TopicTierChanged)
		for _, ch := range changes {
			n := core.Notification{ShopID: shop.ID, Topic: core.TopicTierChanged, Key: "tier:" + ch.Owner.ID + ":v" + strconv.Itoa(ch.Version), Owner: ch.Owner,
				CreatedAt: now, Data: core.NotificationData{Customer: ch.Owner.ID, PlatformCustomerID: core.PlatformCustomerID(ch.Owner), Currency: shop.Currency,
					Amount: ch.Qualifying, Tier: ch.To, PreviousTier: ch.From, Member: ch.Member,
					Lowered: ch.To != "" && shop.Settings.Rank(ch.To) < shop.Settings.Rank(ch.From)}}
			if !shop.Settings.NotifySettings.Enabled() {
				continue
			}
			got, err := createNotification(ctx, tx, n, chans)
			if err != nil {
				return err
			}
			refs = append(refs, got...)
		}
		return nil
	})
	return changes, refs, err
}

// TierHistory lists a customer's tier changes, newest first.
func (s TierStore) TierHistory(ctx context.Context, shopID int64, owner core.Owner, limit int) ([]core.TierChange, error) {
	rows, err := s.L.pool.Query(ctx, `SELECT version, from_tier, to_tier, qualifying, member, changed_at FROM tier_changes
WHERE shop_id = $1 AND owner_id = $2 ORDER BY version DESC LIMIT $3`, shopID, owner.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: tier history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.TierChange, error) {
		c := core.TierChange{Owner: owner}
		err := r.Scan(&c.Version, &c.From, &c.To, &c.Qualifying, &c.Member, &c.ChangedAt)
		return c, err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return out, err
}
