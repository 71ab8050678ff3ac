package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Affiliates implements core.PartnerStore: the sponsor tree, partner
// codes and the link of a partner to its customer account.
type Affiliates struct {
	Dir    *Directory
	Ledger *LedgerStore
}

var _ core.PartnerStore = Affiliates{}

// maxTreeDepth bounds walks up the tree (the tree has no cycles; the bound
// only guards rows written before cycles were refused).
const maxTreeDepth = 10000

// lockTree serializes changes to a shop's sponsor tree, so two concurrent
// moves can never close a cycle between them.
func lockTree(ctx context.Context, tx pgx.Tx, shopID int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('creditbridge:partners:' || $1::bigint, 0))`, shopID)
	return err
}

const partnerCols = `p.partner_id, coalesce(p.code, ''), coalesce(p.sponsor_id, ''), p.name, coalesce(p.customer_owner, ''), p.status, p.created_at`

func scanPartner(row pgx.Row, extra ...any) (core.Partner, error) {
	var p core.Partner
	var owner, status string
	err := row.Scan(append([]any{&p.ID, &p.Code, &p.SponsorID, &p.Name, &owner, &status, &p.CreatedAt}, extra...)...)
	p.CustomerID = strings.TrimPrefix(owner, "c:")
	p.Status = core.PartnerStatus(status)
	return p, err
}

// SavePartner creates or replaces a partner (see core.PartnerStore). An
// empty code keeps the partner's code, or gives a new partner a random
// one; an empty customer id keeps an existing link (links are permanent).
func (a Affiliates) SavePartner(ctx context.Context, shop core.Shop, p core.Partner, actor string) (core.Partner, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	var out core.Partner
	err := a.Ledger.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = savePartnerTx(ctx, tx, shop.ID, p, actor)
		if err != nil || out.CustomerID == "" {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO customers (shop_id, owner_id, platform_id) VALUES ($1, $2, $3) ON CONFLICT (shop_id, owner_id) DO NOTHING`,
			shop.ID, core.CustomerOwnerID(out.CustomerID), out.CustomerID); err != nil {
			return err
		}
		_, err = a.Ledger.linkOwnerTx(ctx, tx, shop.ID, core.Owner{Kind: core.OwnerPartner, ID: out.ID}, out.Owner(),
			core.Reason{Kind: core.ReasonTransfer, Actor: actor, Note: "partner " + out.ID + " linked to its customer account"})
		return err
	})
	if err != nil {
		return core.Partner{}, err
	}
	return out, nil
}

func savePartnerTx(ctx context.Context, tx pgx.Tx, shopID int64, p core.Partner, actor string) (core.Partner, error) {
	if err := lockTree(ctx, tx, shopID); err != nil {
		return p, err
	}
	old, err := scanPartner(tx.QueryRow(ctx, `SELECT `+partnerCols+` FROM partners p WHERE p.shop_id = $1 AND p.partner_id = $2`, shopID, p.ID))
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("postgres: partner: %w", err)
	}
	if exists {
		if old.CustomerID != "" && p.CustomerID != "" && p.CustomerID != old.CustomerID {
			return p, core.Errorf(core.ECONFLICT, "partner %s is linked to customer %s; a link cannot be changed", p.ID, old.CustomerID)
		}
		if p.CustomerID == "" {
			p.CustomerID = old.CustomerID
		}
		if p.Code == "" {
			p.Code = old.Code
		}
	}
	if p.Code == "" {
		p.Code = core.NewPartnerCode()
	}
	var taken string
	err = tx.QueryRow(ctx, `SELECT partner_id FROM partners WHERE shop_id = $1 AND upper(code) = upper($2) AND partner_id <> $3 LIMIT 1`, shopID, p.Code, p.ID).Scan(&taken)
	if err == nil {
		return p, core.Errorf(core.ECONFLICT, "partner code %q is taken", p.Code)
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return p, err
	}
	if p.SponsorID != "" {
		var found, cycle bool
		err := tx.QueryRow(ctx, `WITH RECURSIVE up(id, sponsor, depth) AS (
	SELECT partner_id, sponsor_id, 1 FROM partners WHERE shop_id = $1 AND partner_id = $2
	UNION ALL
	SELECT x.partner_id, x.sponsor_id, up.depth + 1 FROM partners x JOIN up ON x.shop_id = $1 AND x.partner_id = up.sponsor
	WHERE up.depth < $4)
SELECT EXISTS (SELECT 1 FROM up), EXISTS (SELECT 1 FROM up WHERE id = $3)`, shopID, p.SponsorID, p.ID, maxTreeDepth).Scan(&found, &cycle)
		if err != nil {
			return p, fmt.Errorf("postgres: sponsor check: %w", err)
		}
		if !found {
			return p, core.Errorf(core.EINVALID, "sponsor %s is not a partner", p.SponsorID)
		}
		if cycle {
			return p, core.Errorf(core.EINVALID, "partner %s cannot be sponsored by %s: %s is in its own downline (the tree would have a cycle)", p.ID, p.SponsorID, p.SponsorID)
		}
	}
	var code, sponsor, owner *string
	if p.Code != "" {
		code = &p.Code
	}
	if p.SponsorID != "" {
		sponsor = &p.SponsorID
	}
	if p.CustomerID != "" {
		o := core.CustomerOwnerID(p.CustomerID)
		owner = &o
	}
	err = tx.QueryRow(ctx, `INSERT INTO partners (shop_id, partner_id, code, sponsor_id, name, customer_owner, status) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (shop_id, partner_id) DO UPDATE SET code = EXCLUDED.code, sponsor_id = EXCLUDED.sponsor_id, name = EXCLUDED.name,
	customer_owner = EXCLUDED.customer_owner, status = EXCLUDED.status, updated_at = now()
RETURNING created_at`, shopID, p.ID, code, sponsor, p.Name, owner, string(p.Status)).Scan(&p.CreatedAt)
	if c, con := pgCode(err); c == "23505" {
		switch con {
		case "partners_code":
			return p, core.Errorf(core.ECONFLICT, "partner code %q is taken", p.Code)
		case "partners_customer":
			return p, core.Errorf(core.ECONFLICT, "customer %s is already linked to another partner", p.CustomerID)
		}
	}
	if err != nil {
		return p, fmt.Errorf("postgres: save partner: %w", err)
	}
	if exists && old.SponsorID != p.SponsorID {
		if _, err := tx.Exec(ctx, `INSERT INTO partner_moves (shop_id, partner_id, from_sponsor, to_sponsor, actor) VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''), $5)`,
			shopID, p.ID, old.SponsorID, p.SponsorID, actor); err != nil {
			return p, fmt.Errorf("postgres: partner move: %w", err)
		}
	}
	return p, nil
}

// linkOwnerTx records that from's credit now belongs to to and moves what
// from holds (available, pending, overdraft; per currency) to it with one
// balanced transfer per currency, keyed by from's balance version: a repeat
// with nothing new to move posts nothing, and credit that reached from
// after a link (a reversal racing it) moves with the next call. Held
// credit stays (its holds resolve on their owner).
func (s *LedgerStore) linkOwnerTx(ctx context.Context, tx pgx.Tx, shopID int64, from, to core.Owner, reason core.Reason) ([]core.Transaction, error) {
	if from == to {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO owner_links (shop_id, from_kind, from_id, to_kind, to_id) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, from_kind, from_id) DO NOTHING`, shopID, string(from.Kind), from.ID, string(to.Kind), to.ID); err != nil {
		return nil, fmt.Errorf("postgres: owner link: %w", err)
	}
	var toKind, toID string
	var chained bool
	if err := tx.QueryRow(ctx, `SELECT to_kind, to_id, EXISTS (SELECT 1 FROM owner_links WHERE shop_id = $1 AND from_kind = $4 AND from_id = $5)
FROM owner_links WHERE shop_id = $1 AND from_kind = $2 AND from_id = $3`, shopID, string(from.Kind), from.ID, string(to.Kind), to.ID).Scan(&toKind, &toID, &chained); err != nil {
		return nil, fmt.Errorf("postgres: owner link: %w", err)
	}
	if toKind != string(to.Kind) || toID != to.ID {
		return nil, core.Errorf(core.ECONFLICT, "%s already moved to %s:%s", from, toKind, toID)
	}
	if chained {
		return nil, core.Errorf(core.ECONFLICT, "%s itself moved to another account", to)
	}
	type bal struct {
		cur                          string
		owner                        core.Owner
		available, pending, overdraf decimal.Decimal
		version                      int64
	}
	rows, err := tx.Query(ctx, `SELECT currency, owner_kind, owner_id, available, pending, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND ((owner_kind = $2 AND owner_id = $3) OR (owner_kind = $4 AND owner_id = $5))
ORDER BY currency, owner_kind, owner_id FOR UPDATE`, shopID, string(from.Kind), from.ID, string(to.Kind), to.ID)
	if err != nil {
		return nil, fmt.Errorf("postgres: link balances: %w", err)
	}
	var src []bal
	for rows.Next() {
		var b bal
		var kind string
		if err := rows.Scan(&b.cur, &kind, &b.owner.ID, &b.available, &b.pending, &b.overdraf, &b.version); err != nil {
			rows.Close()
			return nil, err
		}
		b.owner.Kind = core.OwnerKind(kind)
		if b.owner == from {
			src = append(src, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []core.Transaction
	for _, b := range src {
		t := core.Transaction{ShopID: shopID, Key: "link:" + from.String() + ":" + b.cur + ":v" + strconv.FormatInt(b.version, 10), Reason: reason}
		move := func(bucket core.Bucket, amt decimal.Decimal) {
			if !amt.IsZero() {
				t.Postings = append(t.Postings,
					core.Posting{Currency: b.cur, Owner: from, Bucket: bucket, Amount: amt.Neg()},
					core.Posting{Currency: b.cur, Owner: to, Bucket: bucket, Amount: amt})
			}
		}
		move(core.BucketAvailable, b.available)
		move(core.BucketPending, b.pending)
		move(core.BucketOverdraft, b.overdraf)
		if len(t.Postings) == 0 {
			continue
		}
		posted, err := s.postInTx(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, posted)
		for _, after := range posted.After {
			if after.Owner != to {
				continue
			}
			if st, ok := core.SettleOverdraft(shopID, b.cur, to, after); ok {
				settled, err := s.postInTx(ctx, tx, st)
				if err != nil {
					return nil, err
				}
				out = append(out, settled)
			}
		}
	}
	return out, nil
}

// Partner returns one partner with its direct downline count.
func (a Affiliates) Partner(ctx context.Context, shopID int64, id string) (core.Partner, error) {
	p, err := scanPartner(a.Dir.pool.QueryRow(ctx, `SELECT `+partnerCols+` FROM partners p WHERE p.shop_id = $1 AND p.partner_id = $2`, shopID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, core.Errorf(core.ENOTFOUND, "partner %s not found", id)
	}
	if err != nil {
		return p, fmt.Errorf("postgres: partner: %w", err)
	}
	return a.withDownline(ctx, shopID, p)
}

func (a Affiliates) withDownline(ctx context.Context, shopID int64, p core.Partner) (core.Partner, error) {
	err := a.Dir.pool.QueryRow(ctx, `SELECT count(*) FROM partners WHERE shop_id = $1 AND sponsor_id = $2`, shopID, p.ID).Scan(&p.Downline)
	return p, err
}

// PartnerByCustomer returns the partner linked to a platform customer.
func (a Affiliates) PartnerByCustomer(ctx context.Context, shopID int64, platformID string) (core.Partner, bool, error) {
	p, err := scanPartner(a.Dir.pool.QueryRow(ctx, `SELECT `+partnerCols+` FROM partners p WHERE p.shop_id = $1 AND p.customer_owner = $2`,
		shopID, core.CustomerOwnerID(platformID)))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("postgres: partner by customer: %w", err)
	}
	p, err = a.withDownline(ctx, shopID, p)
	return p, err == nil, err
}

// ListPartners returns a page of partners ordered by id (keyset paging).
func (a Affiliates) ListPartners(ctx context.Context, shopID int64, q core.PartnerQuery) (core.PartnerPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 200 {
		return core.PartnerPage{}, core.Errorf(core.EINVALID, "limit must be 1..200")
	}
	search := ""
	if q.Search != "" {
		search = "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q.Search) + "%"
	}
	rows, err := a.Dir.pool.Query(ctx, `SELECT `+partnerCols+`,
	(SELECT count(*) FROM partners d WHERE d.shop_id = p.shop_id AND d.sponsor_id = p.partner_id)
FROM partners p
WHERE p.shop_id = $1 AND p.partner_id > $2
	AND ($3 = '' OR p.partner_id ILIKE $3 OR p.code ILIKE $3 OR p.name ILIKE $3 OR p.customer_owner ILIKE $3)
	AND ($4 = '' OR p.sponsor_id = $4)
	AND ($5 = '' OR p.status = $5)
ORDER BY p.partner_id LIMIT $6`, shopID, q.After, search, q.SponsorID, string(q.Status), q.Limit+1)
	if err != nil {
		return core.PartnerPage{}, fmt.Errorf("postgres: list partners: %w", err)
	}
	defer rows.Close()
	page := core.PartnerPage{Partners: []core.Partner{}}
	for rows.Next() {
		var n int
		p, err := scanPartner(rows, &n)
		if err != nil {
			return page, err
		}
		p.Downline = n
		page.Partners = append(page.Partners, p)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Partners) > q.Limit {
		page.Partners = page.Partners[:q.Limit]
		page.Next = page.Partners[q.Limit-1].ID
	}
	return page, nil
}

// Upline returns the partner's sponsors, nearest first.
func (a Affiliates) Upline(ctx context.Context, shopID int64, id string, levels int) ([]core.Partner, error) {
	rows, err := a.Dir.pool.Query(ctx, `WITH RECURSIVE up(id, depth, path) AS (
	SELECT sponsor_id, 1, ARRAY[partner_id] FROM partners WHERE shop_id = $1 AND partner_id = $2 AND sponsor_id IS NOT NULL
	UNION ALL
	SELECT x.sponsor_id, up.depth + 1, up.path || x.partner_id FROM partners x JOIN up ON x.shop_id = $1 AND x.partner_id = up.id
	WHERE up.depth < $3 AND x.sponsor_id IS NOT NULL AND NOT x.partner_id = ANY(up.path))
SELECT `+partnerCols+` FROM up JOIN partners p ON p.shop_id = $1 AND p.partner_id = up.id ORDER BY up.depth`, shopID, id, levels)
	if err != nil {
		return nil, fmt.Errorf("postgres: upline: %w", err)
	}
	defer rows.Close()
	out := []core.Partner{}
	for rows.Next() {
		p, err := scanPartner(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Moves lists a partner's sponsor changes, oldest first.
func (a Affiliates) Moves(ctx context.Context, shopID int64, id string) ([]core.PartnerMove, error) {
	rows, err := a.Dir.pool.Query(ctx, `SELECT coalesce(from_sponsor, ''), coalesce(to_sponsor, ''), actor, moved_at FROM partner_moves
WHERE shop_id = $1 AND partner_id = $2 ORDER BY id`, shopID, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: partner moves: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.PartnerMove, error) {
		var m core.PartnerMove
		err := r.Scan(&m.From, &m.To, &m.Actor, &m.MovedAt)
		return m, err
	})
}

// BoundPartner returns the partner a buyer is bound to (customer binding).
func (a Affiliates) BoundPartner(ctx context.Context, shopID int64, buyer core.Owner) (string, bool, error) {
	var id string
	err := a.Dir.pool.QueryRow(ctx, `SELECT partner_id FROM referral_bindings WHERE shop_id = $1 AND buyer_owner = $2`, shopID, buyer.ID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: referral binding: %w", err)
	}
	return id, true, nil
}

// ClaimGuest moves the credit of the guest account of email (orders
// placed without a customer account) to the registered customer
// platformID: one balanced transfer per currency, and the guest's frozen
// rates resolve to the customer, so a later refund of a guest order
// reverses from the customer's account (into a recorded overdraft if the
// credit was spent), and the guest's later orders book to the customer
// (core.OrderWork.Guest). A membership bought as a guest and the
// customer's own become one chain (rechainMemberships). Idempotent;
// ENOTFOUND when that e-mail never earned as a guest. The caller vouches that the customer owns the address (a
// verified e-mail, a confirmed link).
func (a Affiliates) ClaimGuest(ctx context.Context, shop core.Shop, email, platformID, actor string) ([]core.Transaction, error) {
	if core.NormalizeEmail(email) == "" || !strings.Contains(email, "@") {
		return nil, core.Errorf(core.EINVALID, "an e-mail address is required")
	}
	if platformID == "" || strings.Trim(platformID, "0123456789") != "" || len(platformID) > 20 {
		return nil, core.Errorf(core.EINVALID, "customer must be a platform customer id (digits)")
	}
	guest, ok, err := a.Dir.GuestOwnerFor(ctx, shop, email)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, core.Errorf(core.ENOTFOUND, "no guest orders for that e-mail")
	}
	to := core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(platformID)}
	var out []core.Transaction
	err = a.Ledger.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO customers (shop_id, owner_id, platform_id) VALUES ($1, $2, $3) ON CONFLICT (shop_id, owner_id) DO NOTHING`,
			shop.ID, to.ID, platformID); err != nil {
			return err
		}
		var err error
		out, err = a.Ledger.linkOwnerTx(ctx, tx, shop.ID, guest, to, core.Reason{Kind: core.ReasonTransfer, Actor: actor, Note: "guest orders claimed by the registered customer"})
		if err != nil {
			return err
		}
		// A membership bought as a guest and the customer's own are one
		// chain, whichever was booked first.
		return rechainMemberships(ctx, tx, shop.ID, to)
	})
	return out, err
}
