package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// The program review's reads (core.ReviewSource) and the orders the
// "what if" simulation replays.

var _ core.ReviewSource = (*Directory)(nil)

// orderCreatedAt is the order's creation time in its stored snapshot.
const orderCreatedAt = `(o.snapshot->>'CreatedAt')::timestamptz`

// RepeatPurchases implements core.ReviewSource: registered buyers with a
// paid, not cancelled order created in [from, to) in currency, split by
// whether one of those orders froze a buyer rate (earned them credit).
func (d *Directory) RepeatPurchases(ctx context.Context, shopID int64, currency string, from, to time.Time) (with, without core.RepeatStats, err error) {
	err = d.pool.QueryRow(ctx, `WITH o AS (
	SELECT o.buyer_owner AS buyer, EXISTS (SELECT 1 FROM order_rates x
		WHERE x.shop_id = o.shop_id AND x.order_id = o.order_id AND x.beneficiary = 'buyer') AS earned
	FROM orders o
	WHERE o.shop_id = $1 AND o.buyer_owner IS NOT NULL AND o.snapshot->>'Currency' = $2
	AND (o.snapshot->>'Paid')::boolean AND NOT (o.snapshot->>'Cancelled')::boolean
	AND `+orderCreatedAt+` >= $3 AND `+orderCreatedAt+` < $4
), b AS (SELECT buyer, count(*) AS n, bool_or(earned) AS credit FROM o GROUP BY buyer)
SELECT count(*) FILTER (WHERE credit), count(*) FILTER (WHERE credit AND n > 1),
	count(*) FILTER (WHERE NOT credit), count(*) FILTER (WHERE NOT credit AND n > 1)
FROM b`, shopID, currency, from, to).Scan(&with.Customers, &with.Repeat, &without.Customers, &without.Repeat)
	if err != nil {
		return with, without, fmt.Errorf("postgres: repeat purchases: %w", err)
	}
	return with, without, nil
}

// TopPartners implements core.ReviewSource: partners by credit earned
// (earnings net of their reversals) in [from, to).
func (d *Directory) TopPartners(ctx context.Context, shopID int64, currency string, from, to time.Time, limit int) ([]core.PartnerEarned, error) {
	rows, err := d.pool.Query(ctx, `SELECT e.owner_id, coalesce(min(p.name), ''), sum(e.amount)
FROM ledger_postings e
JOIN ledger_transactions t ON t.shop_id = e.shop_id AND t.id = e.tx_id
LEFT JOIN partners p ON p.shop_id = e.shop_id AND p.partner_id = e.owner_id
WHERE e.shop_id = $1 AND e.currency = $2 AND e.owner_kind = 'partner' AND t.kind IN ('earn', 'earn_reversal')
AND t.created_at >= $3 AND t.created_at < $4
GROUP BY e.owner_id
HAVING sum(e.amount) > 0
ORDER BY sum(e.amount) DESC, e.owner_id
LIMIT $5`, shopID, currency, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: top partners: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.PartnerEarned, error) {
		var p core.PartnerEarned
		err := r.Scan(&p.PartnerID, &p.Name, &p.Earned)
		return p, err
	})
}

// simulationFetch is how many orders a simulation holds at a time: it
// reads them through a cursor, a page at a time.
const simulationFetch = 500

var _ core.SimulationSource = (*Directory)(nil)

// SimulationOrders loads every order created since since (see
// EachSimulationOrder) into memory: for tests and small periods.
func (d *Directory) SimulationOrders(ctx context.Context, shop core.Shop, since time.Time) ([]core.SimOrder, error) {
	var out []core.SimOrder
	err := d.EachSimulationOrder(ctx, shop, since, func(so core.SimOrder) error {
		out = append(out, so)
		return nil
	})
	return out, err
}

// EachSimulationOrder implements core.SimulationSource: the orders created
// since since (snapshot, refunds, frozen rates), oldest first, read through
// a cursor simulationFetch at a time in one read-only snapshot, each with
// the owners that earned or would earn on it: the buyer, and per sponsor
// level the partner of the stored rate, else the partner the order's
// attribution names today.
func (d *Directory) EachSimulationOrder(ctx context.Context, shop core.Shop, since time.Time, fn func(core.SimOrder) error) error {
	tx, err := d.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: simulation orders: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// DECLARE takes no bind parameters: the shop id is an integer and the
	// time is formatted here, so the literals are safe.
	if _, err := tx.Exec(ctx, `DECLARE cb_simulation NO SCROLL CURSOR FOR SELECT `+orderStateCols+`
FROM orders o WHERE o.shop_id = `+strconv.FormatInt(shop.ID, 10)+` AND o.snapshot IS NOT NULL
AND `+orderCreatedAt+` >= '`+since.UTC().Format(time.RFC3339Nano)+`'::timestamptz
ORDER BY `+orderCreatedAt+`, o.order_id`); err != nil {
		return fmt.Errorf("postgres: simulation orders: %w", err)
	}
	for {
		rows, err := tx.Query(ctx, `FETCH `+strconv.Itoa(simulationFetch)+` FROM cb_simulation`)
		if err != nil {
			return fmt.Errorf("postgres: simulation orders: %w", err)
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.SimOrder, error) {
			var snap, refunds, rates []byte
			var buyer *string
			if err := r.Scan(&snap, &buyer, &refunds, &rates); err != nil {
				return core.SimOrder{}, err
			}
			st, err := parseOrderState(snap, buyer, refunds, rates)
			return core.SimOrder{State: st, Buyer: st.Buyer}, err
		})
		if err != nil {
			return fmt.Errorf("postgres: simulation orders: %w", err)
		}
		for i := range page {
			if err := d.simulationOwners(ctx, shop, &page[i]); err != nil {
				return err
			}
			if err := fn(page[i]); err != nil {
				return err
			}
		}
		if len(page) < simulationFetch {
			return nil
		}
	}
}

// simulationOwners fills the buyer and partners of an order to replay.
func (d *Directory) simulationOwners(ctx context.Context, shop core.Shop, so *core.SimOrder) error {
	levels := min(shop.Settings.PartnerLevels, core.MaxPartnerLevels)
	for _, r := range so.State.Rates {
		if r.Beneficiary == core.BeneficiaryBuyer {
			if so.Buyer.Kind == "" {
				so.Buyer = r.Owner
			}
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(r.Beneficiary, "partner"))
		if err != nil || n < 1 || n > core.MaxPartnerLevels {
			continue
		}
		for len(so.Partners) < n {
			so.Partners = append(so.Partners, core.Owner{})
		}
		so.Partners[n-1] = r.Owner
	}
	if levels > len(so.Partners) {
		chain, err := d.partnerChain(ctx, shop, so.State.Order, so.Buyer, false)
		if err != nil {
			return err
		}
		for j, p := range chain {
			if j < len(so.Partners) {
				if so.Partners[j].Kind == "" {
					so.Partners[j] = p
				}
				continue
			}
			so.Partners = append(so.Partners, p)
		}
	}
	return nil
}

// YearBudgetsUsed implements core.SimulationSource from earn_year_caps
// (what booking took from each owner's yearly budget), 1000 owners a
// query.
func (d *Directory) YearBudgetsUsed(ctx context.Context, shopID int64, currency string, owners []core.Owner, years []int) (core.YearBudgets, error) {
	out := core.YearBudgets{}
	if len(years) == 0 {
		return out, nil
	}
	for from := 0; from < len(owners); from += 1000 {
		chunk := owners[from:min(from+1000, len(owners))]
		kinds, ids := make([]string, len(chunk)), make([]string, len(chunk))
		for i, o := range chunk {
			kinds[i], ids[i] = string(o.Kind), o.ID
		}
		rows, err := d.pool.Query(ctx, `SELECT c.owner_kind, c.owner_id, c.year, c.used
FROM earn_year_caps c JOIN unnest($4::text[], $5::text[]) AS w (kind, id) ON c.owner_kind = w.kind AND c.owner_id = w.id
WHERE c.shop_id = $1 AND c.currency = $2 AND c.year = ANY($3::int[])`, shopID, currency, years, kinds, ids)
		if err != nil {
			return nil, fmt.Errorf("postgres: yearly budgets: %w", err)
		}
		var kind, id string
		var year int
		var used decimal.Decimal
		if _, err := pgx.ForEachRow(rows, []any{&kind, &id, &year, &used}, func() error {
			o := core.Owner{Kind: core.OwnerKind(kind), ID: id}
			if out[o] == nil {
				out[o] = map[int]decimal.Decimal{}
			}
			out[o][year] = used
			return nil
		}); err != nil {
			return nil, fmt.Errorf("postgres: yearly budgets: %w", err)
		}
	}
	return out, nil
}
