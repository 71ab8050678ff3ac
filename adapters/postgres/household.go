package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
)

// Household self-referral check (core/household.go): the keyed hashes of
// every order's normalized billing and shipping addresses (and Shopify's
// customer default address) are kept per owner in household_addresses
// while the shop's check is on; a referred order whose own addresses
// match one known for a partner of its chain credits no partner. Every
// self-referral refusal is recorded in referral_refusals.

var _ core.ReferralRefusalStore = (*Directory)(nil)

// recordAddresses keeps the hashes of the order's addresses for buyer
// (idempotent: replays add nothing) and, in the same statement, looks at
// what the addresses it newly learned reveal: an order that already
// credited a partner chain whose partner now shares a household with the
// order's buyer (the buyer's customer record or the order's own address
// matching one known for that partner, learned in either order) is
// recorded as a self-referral found later, for the merchant's review
// (foundLaterSQL). Its partner credit stands until the merchant reverses
// it (ReverseReferralRefusal).
func (d *Directory) recordAddresses(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner) error {
	if len(o.Addresses) == 0 && len(o.CustomerAddresses) == 0 {
		return nil
	}
	var orders []string
	var hashes [][]byte
	var fromOrder []bool
	add := func(list []string, orderID string, from bool) {
		for _, a := range list {
			orders, hashes, fromOrder = append(orders, orderID), append(hashes, core.AddressHash(shop.Secrets.CustomerKey, a)), append(fromOrder, from)
		}
	}
	add(o.Addresses, o.OrderID, true)
	add(o.CustomerAddresses, "", false)
	if _, err := d.pool.Exec(ctx, foundLaterSQL, shop.ID, buyer.ID, orders, hashes, fromOrder); err != nil {
		return fmt.Errorf("postgres: household addresses: %w", err)
	}
	return nil
}

// foundLaterSQL records the addresses ($3 orders, empty for the customer
// record; $4 hashes; $5 from an order) of owner $2 and, for the hashes
// not known before (replays find none), every order that matches: another
// owner shares the hash, one of the two is a partner's customer account
// (or shares its e-mail) and the other is a buyer whose order credited
// that partner at some level. The buyer's side is the order's own
// address, or the buyer's customer record (then every order of theirs
// with a recorded address). Each order is recorded once (the first
// reason stays).
const foundLaterSQL = `WITH ins AS (
	INSERT INTO household_addresses (shop_id, order_id, owner_id, addr_hash, from_order)
	SELECT $1, x.o, $2, x.h, x.f FROM unnest($3::text[], $4::bytea[], $5::boolean[]) AS x(o, h, f)
	ON CONFLICT (shop_id, order_id, owner_id, addr_hash) DO NOTHING
	RETURNING order_id, addr_hash, from_order),
other AS (
	SELECT h.owner_id, h.order_id, h.from_order, i.order_id AS new_order, i.from_order AS new_from
	FROM ins i JOIN household_addresses h ON h.shop_id = $1 AND h.addr_hash = i.addr_hash AND h.owner_id <> $2),
cand AS (
	SELECT o.owner_id AS buyer, $2::text AS member, CASE WHEN o.from_order THEN o.order_id END AS scope FROM other o
	UNION SELECT $2::text, o.owner_id, CASE WHEN o.new_from THEN o.new_order END FROM other o),
mem AS (
	SELECT c.buyer, c.scope, c.member AS m FROM cand c
	UNION SELECT c.buyer, c.scope, c2.owner_id FROM cand c
		JOIN customers c1 ON c1.shop_id = $1 AND c1.owner_id = c.member AND c1.email_hash IS NOT NULL
		JOIN customers c2 ON c2.shop_id = $1 AND c2.email_hash = c1.email_hash AND c2.owner_id <> c.member),
part AS (
	SELECT m.buyer, m.scope, m.m, p.partner_id FROM mem m JOIN partners p ON p.shop_id = $1 AND p.customer_owner = m.m
	WHERE m.buyer <> m.m),
hit AS (
	SELECT DISTINCT ON (a.order_id) a.order_id, pa.buyer, pa.partner_id FROM part pa
	JOIN household_addresses a ON a.shop_id = $1 AND a.owner_id = pa.buyer AND a.from_order AND (pa.scope IS NULL OR a.order_id = pa.scope)
	WHERE EXISTS (SELECT 1 FROM order_rates r WHERE r.shop_id = $1 AND r.order_id = a.order_id AND r.beneficiary LIKE 'partner%'
		AND ((r.rate->'owner'->>'kind' = 'customer' AND r.rate->'owner'->>'id' = pa.m)
			OR (r.rate->'owner'->>'kind' = 'partner' AND r.rate->'owner'->>'id' = pa.partner_id)))
	ORDER BY a.order_id, pa.partner_id)
INSERT INTO referral_refusals (shop_id, order_id, order_number, buyer_owner, partner_id, reason, found_later)
SELECT $1, h.order_id, coalesce(x.snapshot->>'OrderNumber', ''), h.buyer, h.partner_id, 'household', true
FROM hit h LEFT JOIN orders x ON x.shop_id = $1 AND x.order_id = h.order_id
ON CONFLICT (shop_id, order_id) DO NOTHING`

// RecordCustomerAddresses keeps the hashes of a customer record's
// addresses (normalized) as the customer's household, when the shop's
// check is on.
func (d *Directory) RecordCustomerAddresses(ctx context.Context, shop core.Shop, platformID string, addresses []string) error {
	if !shop.Settings.Referral.HouseholdCheck || platformID == "" || len(addresses) == 0 {
		return nil
	}
	return d.recordAddresses(ctx, shop, core.Order{CustomerAddresses: addresses}, core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(platformID)})
}

// householdMatch returns the index of the first member (a partner's
// customer owner) whose known addresses include one of the order's
// billing or shipping addresses (the snapshot's, or those recorded for
// the order when the snapshot carries none, as a stored snapshot after a
// refund) or one of the buyer's customer record (Shopify's default
// address: where the buyer lives, whatever the order's shipping), or -1.
// A member's guest orders under the same e-mail count as theirs.
func (d *Directory) householdMatch(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner, members []string) (int, error) {
	hashes := make([][]byte, 0, len(o.Addresses))
	for _, a := range o.Addresses {
		hashes = append(hashes, core.AddressHash(shop.Secrets.CustomerKey, a))
	}
	var member string
	err := d.pool.QueryRow(ctx, `WITH m AS (
	SELECT x.id AS member, x.id AS owner FROM unnest($3::text[]) AS x(id)
	UNION SELECT c1.owner_id, c2.owner_id FROM customers c1
		JOIN customers c2 ON c2.shop_id = c1.shop_id AND c2.email_hash = c1.email_hash
		WHERE c1.shop_id = $1 AND c1.owner_id = ANY($3) AND c1.email_hash IS NOT NULL),
a AS (SELECT unnest($2::bytea[]) AS h
	UNION SELECT addr_hash FROM household_addresses WHERE shop_id = $1 AND order_id = $4 AND from_order
	UNION SELECT addr_hash FROM household_addresses WHERE shop_id = $1 AND order_id = '' AND owner_id = $5 AND NOT from_order)
SELECT m.member FROM household_addresses h JOIN m ON h.owner_id = m.owner
WHERE h.shop_id = $1 AND h.addr_hash IN (SELECT h FROM a) AND h.order_id <> $4
LIMIT 1`, shop.ID, hashes, members, o.OrderID, buyer.ID).Scan(&member)
	if errors.Is(err, pgx.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("postgres: household check: %w", err)
	}
	for i, m := range members {
		if m == member {
			return i, nil
		}
	}
	return -1, nil
}

// recordRefusal records a self-referral (one row per order: the first
// reason found stays; replays add nothing) when record is set. An order
// whose lines already credited partners (frozen before the refusing fact
// was known, e.g. a partner's address learned later) is recorded as found
// later: its frozen credit stands until the merchant reverses it.
func (d *Directory) recordRefusal(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner, partnerID, reason string, record bool) error {
	if !record || o.OrderID == "" {
		return nil
	}
	if _, err := d.pool.Exec(ctx, `INSERT INTO referral_refusals (shop_id, order_id, order_number, buyer_owner, partner_id, reason, found_later)
SELECT $1, $2, $3, $4, $5, $6, EXISTS (SELECT 1 FROM order_rates WHERE shop_id = $1 AND order_id = $2 AND beneficiary LIKE 'partner%')
ON CONFLICT (shop_id, order_id) DO NOTHING`, shop.ID, o.OrderID, o.OrderNumber, buyer.ID, partnerID, reason); err != nil {
		return fmt.Errorf("postgres: record self-referral: %w", err)
	}
	return nil
}

// ReferralRefusals lists the shop's recorded self-referrals, newest first
// (core.ReferralRefusalStore); next is the cursor of the following page.
func (d *Directory) ReferralRefusals(ctx context.Context, shopID int64, before int64, limit int) ([]core.ReferralRefusal, string, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := d.pool.Query(ctx, `SELECT id, order_id, order_number, buyer_owner, partner_id, reason, found_later, reversed_at, coalesce(reversed_by, ''), created_at FROM referral_refusals
WHERE shop_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, shopID, before, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: referral refusals: %w", err)
	}
	defer rows.Close()
	out := []core.ReferralRefusal{}
	next := ""
	var last int64
	for rows.Next() {
		var id int64
		var r core.ReferralRefusal
		if err := rows.Scan(&id, &r.OrderID, &r.OrderNumber, &r.Buyer, &r.Partner, &r.Reason, &r.FoundLater, &r.ReversedAt, &r.ReversedBy, &r.CreatedAt); err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			next = strconv.FormatInt(last, 10)
			break
		}
		last = id
		out = append(out, r)
	}
	return out, next, rows.Err()
}

// referralRefusal reads the refusal recorded for an order.
func (d *Directory) referralRefusal(ctx context.Context, shopID int64, orderID string) (core.ReferralRefusal, error) {
	var r core.ReferralRefusal
	err := d.pool.QueryRow(ctx, `SELECT order_id, order_number, buyer_owner, partner_id, reason, found_later, reversed_at, coalesce(reversed_by, ''), created_at
FROM referral_refusals WHERE shop_id = $1 AND order_id = $2`, shopID, orderID).
		Scan(&r.OrderID, &r.OrderNumber, &r.Buyer, &r.Partner, &r.Reason, &r.FoundLater, &r.ReversedAt, &r.ReversedBy, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, core.Errorf(core.ENOTFOUND, "no self-referral recorded for order %s", orderID)
	}
	if err != nil {
		return r, fmt.Errorf("postgres: referral refusal: %w", err)
	}
	return r, nil
}

// ReverseReferralRefusal takes back the partner credit of an order whose
// self-referral was found after it earned (a refusal recorded as found
// later): correction entries (core.ReasonSelfReferralReversal, each
// pointing at the earn transaction it corrects) under the order's lock,
// from pending, then available, the rest a recorded overdraft, and the
// bring-a-friend reward and welcome credit that order paid. The ledger is
// never updated in place, and a repeat books nothing (the order's later
// refunds and replays never book those lines again). It returns the
// refusal as now recorded, the transactions booked by this call and the
// owners whose balances changed.
func (a APIStore) ReverseReferralRefusal(ctx context.Context, shop core.Shop, orderID, actor string) (core.ReferralRefusal, []core.Transaction, []core.Owner, error) {
	r, err := a.Directory.referralRefusal(ctx, shop.ID, orderID)
	if err != nil {
		return r, nil, nil, err
	}
	if !r.FoundLater {
		return r, nil, nil, core.Errorf(core.ECONFLICT, "order %s credited no partner: nothing to reverse", orderID)
	}
	var out []core.Transaction
	err = OrderStore{L: a.Ledger}.WithOrder(ctx, core.OrderWork{ShopID: shop.ID, OrderID: orderID, Fn: func(tx core.OrderTx) error {
		out = nil
		st, err := tx.State(ctx)
		if err != nil {
			return err
		}
		posted, err := tx.Transactions(ctx)
		if err != nil {
			return err
		}
		var ferr error
		plan, err := core.PlanPartnerRevocation(st, posted, func(o core.Owner) core.OwnerFunds {
			b, err := tx.Funds(ctx, st.Order.Currency, o)
			if err != nil && ferr == nil {
				ferr = err
			}
			return core.OwnerFunds{Pending: b.Pending, Available: b.Available}
		})
		if err != nil {
			return err
		}
		if ferr != nil {
			return ferr
		}
		if len(plan) == 0 {
			return nil
		}
		for i := range plan {
			plan[i].Reason.Actor = actor
		}
		out, err = tx.PostAll(ctx, plan)
		return err
	}})
	if err != nil {
		return r, nil, nil, err
	}
	var changed []core.Owner
	for _, t := range out {
		for _, p := range t.Postings {
			if p.Owner.Kind != core.OwnerProgram && !slices.Contains(changed, p.Owner) {
				changed = append(changed, p.Owner)
			}
		}
	}
	rs := ReferralStore{L: a.Ledger, Dir: a.Directory}
	owners, err := rs.revokeForOrder(ctx, shop, core.Owner{Kind: core.OwnerCustomer, ID: r.Buyer}, orderID)
	if err != nil {
		return r, out, changed, err
	}
	for _, o := range owners {
		if !slices.Contains(changed, o) {
			changed = append(changed, o)
		}
	}
	if err := a.Directory.pool.QueryRow(ctx, `UPDATE referral_refusals SET reversed_at = coalesce(reversed_at, now()), reversed_by = coalesce(reversed_by, $3)
WHERE shop_id = $1 AND order_id = $2 RETURNING reversed_at, reversed_by`, shop.ID, orderID, actor).Scan(&r.ReversedAt, &r.ReversedBy); err != nil {
		return r, out, changed, fmt.Errorf("postgres: referral refusal reversed: %w", err)
	}
	return r, out, changed, nil
}
