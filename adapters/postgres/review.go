package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

// MaxSimulationOrders bounds the orders one simulation replays.
const MaxSimulationOrders = 20_000

// SimulationOrders loads the orders created since since (snapshot,
// refunds, frozen rates), oldest first, with the owners that earned on
// them: the buyer, and per sponsor level the partner of the stored rate,
// else the partner the order's attribution names today.
func (d *Directory) SimulationOrders(ctx context.Context, shop core.Shop, since time.Time) ([]core.SimOrder, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+orderStateCols+`
FROM orders o WHERE o.shop_id = $1 AND o.snapshot IS NOT NULL AND `+orderCreatedAt+` >= $2
ORDER BY `+orderCreatedAt+`, o.order_id LIMIT $3`, shop.ID, since, MaxSimulationOrders+1)
	if err != nil {
		return nil, fmt.Errorf("postgres: simulation orders: %w", err)
	}
	var out []core.SimOrder
	for rows.Next() {
		var snap, refunds, rates []byte
		var buyer *string
		if err := rows.Scan(&snap, &buyer, &refunds, &rates); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: simulation orders: %w", err)
		}
		st, err := parseOrderState(snap, buyer, refunds, rates)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, core.SimOrder{State: st, Buyer: st.Buyer})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: simulation orders: %w", err)
	}
	if len(out) > MaxSimulationOrders {
		return nil, core.Errorf(core.EINVALID, "more than %d orders in the period: choose fewer days", MaxSimulationOrders)
	}
	levels := min(shop.Settings.PartnerLevels, core.MaxPartnerLevels)
	for i := range out {
		so := &out[i]
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
				return nil, err
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
	}
	return out, nil
}
