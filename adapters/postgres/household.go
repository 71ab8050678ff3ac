package postgres

import (
	"context"
	"errors"
	"fmt"
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
// (idempotent: replays add nothing).
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
	if _, err := d.pool.Exec(ctx, `INSERT INTO household_addresses (shop_id, order_id, owner_id, addr_hash, from_order)
SELECT $1, x.o, $2, x.h, x.f FROM unnest($3::text[], $4::bytea[], $5::boolean[]) AS x(o, h, f)
ON CONFLICT (shop_id, order_id, owner_id, addr_hash) DO NOTHING`, shop.ID, buyer.ID, orders, hashes, fromOrder); err != nil {
		return fmt.Errorf("postgres: household addresses: %w", err)
	}
	return nil
}

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
// refund), or -1. A member's guest orders under the same e-mail count as
// theirs.
func (d *Directory) householdMatch(ctx context.Context, shop core.Shop, o core.Order, members []string) (int, error) {
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
	UNION SELECT addr_hash FROM household_addresses WHERE shop_id = $1 AND order_id = $4 AND from_order)
SELECT m.member FROM household_addresses h JOIN m ON h.owner_id = m.owner
WHERE h.shop_id = $1 AND h.addr_hash IN (SELECT h FROM a) AND h.order_id <> $4
LIMIT 1`, shop.ID, hashes, members, o.OrderID).Scan(&member)
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
// was known, e.g. a partner's address learned later) is not recorded as
// refused: its frozen credit stands.
func (d *Directory) recordRefusal(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner, partnerID, reason string, record bool) error {
	if !record || o.OrderID == "" {
		return nil
	}
	if _, err := d.pool.Exec(ctx, `INSERT INTO referral_refusals (shop_id, order_id, order_number, buyer_owner, partner_id, reason)
SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM order_rates WHERE shop_id = $1 AND order_id = $2 AND beneficiary LIKE 'partner%')
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
	rows, err := d.pool.Query(ctx, `SELECT id, order_id, order_number, buyer_owner, partner_id, reason, created_at FROM referral_refusals
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
		if err := rows.Scan(&id, &r.OrderID, &r.OrderNumber, &r.Buyer, &r.Partner, &r.Reason, &r.CreatedAt); err != nil {
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
