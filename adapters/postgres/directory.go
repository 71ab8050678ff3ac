package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/cache"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/batch"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Directory implements core.Directory: customers, partners and rules.
//
// It caches a shop's rules for RulesTTL (rule changes made through this
// process apply at once, those made elsewhere within RulesTTL) and the
// customers it has already recorded, so the order hot path does not
// re-read or re-write them for every event.
type Directory struct {
	pool *pgxpool.Pool

	rules *cache.Cache[int64, []core.Rule] // shop id -> rules, for RulesTTL
	known *cache.Cache[string, struct{}]   // "shop/owner/emailhash" recorded
	// chains reads the partner chains of concurrent orders with one
	// statement (see chainLinks).
	chains *batch.Combiner[chainReq, []chainLink]
}

// Bounds of the directory's caches: memory stays bounded whatever the
// number of shops and customers.
const (
	maxCachedRuleSets = 10_000
	maxKnownCustomers = 200_000
	knownCustomerTTL  = 10 * time.Minute
)

// RulesTTL bounds how long a rule change made by another process takes to
// apply to new earnings.
const RulesTTL = 5 * time.Second

// NewDirectory returns a Directory.
func NewDirectory(pool *pgxpool.Pool) *Directory {
	d := &Directory{pool: pool, rules: cache.New[int64, []core.Rule](maxCachedRuleSets, RulesTTL),
		known: cache.New[string, struct{}](maxKnownCustomers, knownCustomerTTL)}
	d.chains = &batch.Combiner[chainReq, []chainLink]{Run: d.chainLinks, MaxBatch: 500, MaxRunning: 2}
	return d
}

var _ core.Directory = (*Directory)(nil)

func emailHash(shop core.Shop, email string) []byte {
	h := sha256.Sum256([]byte(core.GuestOwnerID(shop.Secrets.CustomerKey, email)))
	return h[:]
}

// CustomerOwner maps a buyer to its ledger owner. Registered customers are
// c:<platform id>; guests g:<keyed hash of the e-mail>. The e-mail is kept
// only in the customers table (wiped by customers/redact).
func (d *Directory) CustomerOwner(ctx context.Context, shop core.Shop, c core.CustomerRef) (core.Owner, error) {
	var id string
	var platformID *string
	switch {
	case c.PlatformID != "":
		id = core.CustomerOwnerID(c.PlatformID)
		platformID = &c.PlatformID
	case c.Email != "":
		id = core.GuestOwnerID(shop.Secrets.CustomerKey, c.Email)
	default:
		return core.Owner{}, core.Errorf(core.EINVALID, "customer without id or e-mail")
	}
	var email *string
	var eh []byte
	if c.Email != "" {
		e := core.NormalizeEmail(c.Email)
		email, eh = &e, emailHash(shop, e)
	}
	ck := fmt.Sprintf("%d/%s/%x", shop.ID, id, eh)
	if _, ok := d.known.Get(ck); ok {
		return core.Owner{Kind: core.OwnerCustomer, ID: id}, nil
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO customers (shop_id, owner_id, platform_id, email, email_hash) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, owner_id) DO UPDATE SET email = coalesce(EXCLUDED.email, customers.email), email_hash = coalesce(EXCLUDED.email_hash, customers.email_hash)
WHERE customers.redacted_at IS NULL AND customers.email IS DISTINCT FROM EXCLUDED.email AND EXCLUDED.email IS NOT NULL`, shop.ID, id, platformID, email, eh)
	if err != nil {
		return core.Owner{}, fmt.Errorf("postgres: customer: %w", err)
	}
	d.known.Set(ck, struct{}{})
	return core.Owner{Kind: core.OwnerCustomer, ID: id}, nil
}

// GuestOwnerFor returns the guest owner of an e-mail if that guest has
// earned before (used when a guest registers).
func (d *Directory) GuestOwnerFor(ctx context.Context, shop core.Shop, email string) (core.Owner, bool, error) {
	var id string
	err := d.pool.QueryRow(ctx, `SELECT owner_id FROM customers WHERE shop_id = $1 AND owner_id = $2`, shop.ID, core.GuestOwnerID(shop.Secrets.CustomerKey, email)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Owner{}, false, nil
	}
	if err != nil {
		return core.Owner{}, false, err
	}
	return core.Owner{Kind: core.OwnerCustomer, ID: id}, true, nil
}

// CustomerData is what creditbridge holds about one customer (GDPR data
// request).
type CustomerData struct {
	OwnerIDs   []string `json:"owner_ids"`
	PlatformID string   `json:"platform_id,omitempty"`
	Email      string   `json:"email,omitempty"`
	Orders     []string `json:"orders"`
}

// CustomerRecords finds the owners of a customer by platform id or e-mail.
func (d *Directory) CustomerRecords(ctx context.Context, shop core.Shop, c core.CustomerRef) (CustomerData, error) {
	var out CustomerData
	var eh []byte
	if c.Email != "" {
		eh = emailHash(shop, c.Email)
	}
	rows, err := d.pool.Query(ctx, `SELECT owner_id, coalesce(platform_id, ''), coalesce(email, '') FROM customers
WHERE shop_id = $1 AND (($2 <> '' AND platform_id = $2) OR ($3::bytea IS NOT NULL AND email_hash = $3))`, shop.ID, c.PlatformID, eh)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, pid, email string
		if err := rows.Scan(&id, &pid, &email); err != nil {
			return out, err
		}
		out.OwnerIDs = append(out.OwnerIDs, id)
		if pid != "" {
			out.PlatformID = pid
		}
		if email != "" {
			out.Email = email
		}
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	out.Orders = []string{}
	if len(out.OwnerIDs) > 0 {
		r2, err := d.pool.Query(ctx, `SELECT order_id FROM orders WHERE shop_id = $1 AND buyer_owner = ANY($2) ORDER BY order_id`, shop.ID, out.OwnerIDs)
		if err != nil {
			return out, err
		}
		ids, err := pgx.CollectRows(r2, pgx.RowTo[string])
		if err != nil {
			return out, err
		}
		out.Orders = append(out.Orders, ids...)
	}
	return out, nil
}

// RedactCustomer removes a customer's personal data (e-mail, platform id,
// snapshots' identity) while the ledger keeps its opaque owner ids, so the
// books stay balanced. It returns how many identity rows were redacted.
func (d *Directory) RedactCustomer(ctx context.Context, shop core.Shop, c core.CustomerRef) (int, error) {
	data, err := d.CustomerRecords(ctx, shop, c)
	if err != nil || len(data.OwnerIDs) == 0 {
		return 0, err
	}
	d.known.Clear()
	var n int
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE customers SET email = NULL, email_hash = NULL, platform_id = NULL, redacted_at = now() WHERE shop_id = $1 AND owner_id = ANY($2)`, shop.ID, data.OwnerIDs)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		// Address hashes of the household check and the self-referrals
		// recorded for this customer.
		if _, err := tx.Exec(ctx, `DELETE FROM household_addresses WHERE shop_id = $1 AND owner_id = ANY($2)`, shop.ID, data.OwnerIDs); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM referral_refusals WHERE shop_id = $1 AND buyer_owner = ANY($2)`, shop.ID, data.OwnerIDs); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE orders SET snapshot = snapshot - 'Customer' || jsonb_build_object('Customer', jsonb_build_object('PlatformID', '', 'Email', '')) WHERE shop_id = $1 AND buyer_owner = ANY($2) AND snapshot IS NOT NULL`, shop.ID, data.OwnerIDs)
		if err != nil {
			return err
		}
		// Raw webhook payloads of this customer's orders hold their PII.
		_, err = tx.Exec(ctx, `UPDATE inbox SET payload = '\x7b7d' WHERE shop_id = $1 AND status <> 'received' AND topic LIKE '%order%'
AND payload::text <> '' AND EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = inbox.shop_id AND o.buyer_owner = ANY($2))`, shop.ID, data.OwnerIDs)
		return err
	})
	return n, err
}

// PartnerChain returns the partners an order credits, level 1 first (see
// core.Directory): the partner the buyer is bound to when the shop binds
// customers, else the one the order's referral names (by code, case
// insensitive, or id), and its sponsors up to the shop's partner levels.
// Linked partners earn to their customer account; a level held by a
// partner that is not active is an empty owner. A chain that contains the
// buyer (same customer account or same e-mail) is a self-referral and
// credits nobody; so does, with the shop's household check on, an order
// whose billing or shipping address is known for a partner of the chain
// (household.go). Each such refusal is recorded with its reason
// (ReferralRefusals). With binding, the first referral of a buyer binds it
// (the earliest order wins, whatever order the webhooks arrive in).
func (d *Directory) PartnerChain(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner) ([]core.Owner, error) {
	return d.partnerChain(ctx, shop, o, buyer, true)
}

// partnerChain is PartnerChain; record false (the earnings simulation)
// records neither addresses nor refusals.
func (d *Directory) partnerChain(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner, record bool) ([]core.Owner, error) {
	levels := min(shop.Settings.PartnerLevels, core.MaxPartnerLevels)
	ref := strings.TrimSpace(o.PartnerRef)
	bind := shop.Settings.Referral.Binding && buyer.Kind != ""
	ord := o
	household := shop.Settings.Referral.HouseholdCheck && buyer.Kind != ""
	if household && record {
		// Every order's addresses, referred or not: a partner's own orders
		// are how their household becomes known.
		if err := d.recordAddresses(ctx, shop, o, buyer); err != nil {
			return nil, err
		}
	}
	if levels <= 0 || (ref == "" && !bind) {
		return nil, nil
	}
	var buyerHash []byte
	if o.Customer.Email != "" {
		buyerHash = emailHash(shop, o.Customer.Email)
	}
	at := o.CreatedAt
	if at.IsZero() {
		at = o.UpdatedAt
	}
	bound := ""
	if bind {
		keys := []string{buyer.ID}
		if o.Customer.Email != "" {
			if g := core.GuestOwnerID(shop.Secrets.CustomerKey, o.Customer.Email); g != buyer.ID {
				keys = append(keys, g)
			}
		}
		var boundAt time.Time
		var boundOrder string
		err := d.pool.QueryRow(ctx, `SELECT partner_id, ordered_at, order_id FROM referral_bindings WHERE shop_id = $1 AND buyer_owner = ANY($2)
ORDER BY ordered_at, bound_at LIMIT 1`, shop.ID, keys).Scan(&bound, &boundAt, &boundOrder)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("postgres: referral binding: %w", err)
		}
		// An order older than the binding's own, carrying a referral, came
		// first (its webhook was late): its referral decides and re-binds.
		if bound != "" && ref != "" && boundOrder != o.OrderID && at.Before(boundAt) {
			bound = ""
		}
	}
	links, err := d.chains.Do(chainReq{shop: shop.ID, bound: bound, ref: ref, levels: levels})
	if err != nil {
		return nil, fmt.Errorf("postgres: partner chain: %w", err)
	}
	var out []core.Owner
	var members, memberPartners []string // chain partners' customer owners, for the household check
	first := ""
	for _, l := range links {
		if first == "" {
			first = l.id
		}
		o := core.Owner{Kind: core.OwnerPartner, ID: l.id}
		if l.owner != "" {
			o = core.Owner{Kind: core.OwnerCustomer, ID: l.owner}
		}
		if buyer.Kind != "" && (o == buyer || (buyerHash != nil && l.emailHash != nil && bytes.Equal(l.emailHash, buyerHash))) {
			reason := core.SelfReferralEmail
			if o == buyer {
				reason = core.SelfReferralCustomer
			}
			return nil, d.recordRefusal(ctx, shop, ord, buyer, l.id, reason, record) // self-referral: refused
		}
		if l.owner != "" {
			members, memberPartners = append(members, l.owner), append(memberPartners, l.id)
		}
		if core.PartnerStatus(l.status) != core.PartnerActive {
			o = core.Owner{}
		}
		out = append(out, o)
	}
	if household && len(members) > 0 {
		i, err := d.householdMatch(ctx, shop, ord, buyer, members)
		if err != nil {
			return nil, err
		}
		if i >= 0 {
			return nil, d.recordRefusal(ctx, shop, ord, buyer, memberPartners[i], core.SelfReferralHousehold, record)
		}
	}
	if bind && bound == "" && first != "" {
		if _, err := d.pool.Exec(ctx, `INSERT INTO referral_bindings (shop_id, buyer_owner, partner_id, order_id, ordered_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, buyer_owner) DO UPDATE SET partner_id = EXCLUDED.partner_id, order_id = EXCLUDED.order_id, ordered_at = EXCLUDED.ordered_at, bound_at = now()
WHERE EXCLUDED.ordered_at < referral_bindings.ordered_at`, shop.ID, buyer.ID, first, o.OrderID, at); err != nil {
			return nil, fmt.Errorf("postgres: bind referral: %w", err)
		}
	}
	return out, nil
}

// chainReq asks for the partner chain that starts at the partner bound
// (by id) or, without one, at the partner whose code (case insensitive)
// or id is ref.
type chainReq struct {
	shop       int64
	bound, ref string
	levels     int
}

// chainLink is one level of a partner chain.
type chainLink struct {
	id, status, owner string
	emailHash         []byte // of the linked customer
}

// chainLinksSQL walks the partner chains of many requests at once, each
// from its first partner up its sponsors (at most its levels, stopping at
// a cycle). The first partner is the bound one, else the one whose code
// (preferred) or id is the referral: each is one index probe.
const chainLinksSQL = `WITH RECURSIVE chain(n, shop_id, partner_id, sponsor_id, status, customer_owner, depth, lim, path) AS (
	SELECT u.n, u.s, a.partner_id, a.sponsor_id, a.status, a.customer_owner, 1, u.lim, ARRAY[a.partner_id]
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[]) WITH ORDINALITY AS u(s, bound, ref, lim, n)
	CROSS JOIN LATERAL (SELECT * FROM (
		SELECT partner_id, sponsor_id, status, customer_owner, 1 AS pick FROM partners WHERE u.bound <> '' AND shop_id = u.s AND partner_id = u.bound
		UNION ALL
		SELECT partner_id, sponsor_id, status, customer_owner, 2 FROM partners WHERE u.bound = '' AND shop_id = u.s AND upper(code) = upper(u.ref) AND code IS NOT NULL
		UNION ALL
		SELECT partner_id, sponsor_id, status, customer_owner, 3 FROM partners WHERE u.bound = '' AND shop_id = u.s AND partner_id = u.ref) c
		ORDER BY pick LIMIT 1) a
	WHERE u.lim > 0
	UNION ALL
	SELECT c.n, c.shop_id, p.partner_id, p.sponsor_id, p.status, p.customer_owner, c.depth + 1, c.lim, c.path || p.partner_id
	FROM chain c JOIN partners p ON p.shop_id = c.shop_id AND p.partner_id = c.sponsor_id
	WHERE c.depth < c.lim AND NOT p.partner_id = ANY(c.path))
SELECT c.n, c.partner_id, c.status, coalesce(c.customer_owner, ''), cu.email_hash FROM chain c
LEFT JOIN customers cu ON cu.shop_id = c.shop_id AND cu.owner_id = c.customer_owner
ORDER BY c.n, c.depth`

// chainLinks reads the chains of a batch of requests with one statement
// (the orders of a webhook batch are applied concurrently: each would
// otherwise send its own recursive query).
func (d *Directory) chainLinks(reqs []chainReq) ([][]chainLink, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shops := make([]int64, len(reqs))
	bound := make([]string, len(reqs))
	refs := make([]string, len(reqs))
	lims := make([]int32, len(reqs))
	for i, r := range reqs {
		shops[i], bound[i], refs[i], lims[i] = r.shop, r.bound, r.ref, int32(r.levels)
	}
	rows, err := d.pool.Query(ctx, chainLinksSQL, shops, bound, refs, lims)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][]chainLink, len(reqs))
	for rows.Next() {
		var n int64
		var l chainLink
		if err := rows.Scan(&n, &l.id, &l.status, &l.owner, &l.emailHash); err != nil {
			return nil, err
		}
		if n < 1 || int(n) > len(reqs) {
			return nil, fmt.Errorf("partner chain row for request %d of %d", n, len(reqs))
		}
		out[n-1] = append(out[n-1], l)
	}
	return out, rows.Err()
}

// UpsertPartner creates or updates a partner that is not linked to a
// customer (Affiliates.SavePartner links and moves credit).
func (d *Directory) UpsertPartner(ctx context.Context, shopID int64, p core.Partner) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.CustomerID != "" {
		return core.Errorf(core.EINVALID, "linking a partner to a customer needs the affiliate store")
	}
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		_, err := savePartnerTx(ctx, tx, shopID, p, "")
		return err
	})
}

// Rules returns a shop's credit rules (cached for RulesTTL).
func (d *Directory) Rules(ctx context.Context, shopID int64) ([]core.Rule, error) {
	if rules, ok := d.rules.Get(shopID); ok {
		return rules, nil
	}
	rules, err := d.loadRules(ctx, shopID)
	if err == nil {
		d.rules.Set(shopID, rules)
	}
	return rules, err
}

func (d *Directory) loadRules(ctx context.Context, shopID int64) ([]core.Rule, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, target, target_id, beneficiary, mode, value, title,
	CASE WHEN target = 'collection' THEN ARRAY(SELECT product_id FROM collection_products p
		WHERE p.shop_id = r.shop_id AND p.collection_id = r.target_id ORDER BY product_id) END
FROM credit_rules r WHERE shop_id = $1 ORDER BY id`, shopID)
	if err != nil {
		return nil, fmt.Errorf("postgres: rules: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Rule, error) {
		var x core.Rule
		var t, m string
		err := r.Scan(&x.ID, &t, &x.TargetID, &x.Beneficiary, &m, &x.Value, &x.Title, &x.Products)
		x.Target, x.Mode = core.RuleTarget(t), core.RuleMode(m)
		if x.Target == core.TargetCollection && x.Products == nil {
			x.Products = []string{}
		}
		return x, err
	})
}

// PutRule creates or replaces the rule for (target, target id,
// beneficiary); a collection rule with Products replaces the collection's
// members.
func (d *Directory) PutRule(ctx context.Context, shopID int64, r core.Rule) (core.Rule, error) {
	out, err := d.PutRules(ctx, shopID, []core.Rule{r})
	if err != nil {
		return r, err
	}
	return out[0], nil
}

// PutRules creates or replaces rules in one transaction (all or none), as
// PutRule does each.
func (d *Directory) PutRules(ctx context.Context, shopID int64, rules []core.Rule) ([]core.Rule, error) {
	out := make([]core.Rule, len(rules))
	for i, r := range rules {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		out[i] = r
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		for i := range out {
			r := &out[i]
			if err := tx.QueryRow(ctx, `INSERT INTO credit_rules (shop_id, target, target_id, beneficiary, mode, value, title) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (shop_id, target, target_id, beneficiary) DO UPDATE SET mode = EXCLUDED.mode, value = EXCLUDED.value,
	title = CASE WHEN EXCLUDED.title = '' THEN credit_rules.title ELSE EXCLUDED.title END, updated_at = now()
RETURNING id, title`, shopID, string(r.Target), r.TargetID, r.Beneficiary, string(r.Mode), r.Value, r.Title).Scan(&r.ID, &r.Title); err != nil {
				return fmt.Errorf("postgres: put rule: %w", err)
			}
			if r.Target == core.TargetCollection && r.Products != nil {
				if err := setCollectionProducts(ctx, tx, shopID, r.TargetID, r.Products); err != nil {
					return err
				}
			}
		}
		return nil
	})
	d.rules.Delete(shopID)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetCollectionProducts replaces the members of a collection (read from
// the platform) for the collection rules of a shop.
func (d *Directory) SetCollectionProducts(ctx context.Context, shopID int64, collectionID string, products []string) error {
	if len(products) > core.MaxCollectionProducts {
		return core.Errorf(core.EINVALID, "a collection rule has at most %d products", core.MaxCollectionProducts)
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return setCollectionProducts(ctx, tx, shopID, collectionID, products)
	})
	d.rules.Delete(shopID)
	return err
}

func setCollectionProducts(ctx context.Context, tx pgx.Tx, shopID int64, collectionID string, products []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM collection_products WHERE shop_id = $1 AND collection_id = $2 AND NOT (product_id = ANY($3::text[]))`,
		shopID, collectionID, products); err != nil {
		return fmt.Errorf("postgres: collection products: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO collection_products (shop_id, collection_id, product_id)
SELECT $1, $2, p FROM unnest($3::text[]) AS p
ON CONFLICT (shop_id, collection_id, product_id) DO UPDATE SET updated_at = now()`, shopID, collectionID, products); err != nil {
		return fmt.Errorf("postgres: collection products: %w", err)
	}
	return nil
}

// DeleteRule removes a rule (past earnings keep their frozen rates).
func (d *Directory) DeleteRule(ctx context.Context, shopID, ruleID int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM credit_rules WHERE shop_id = $1 AND id = $2`, shopID, ruleID)
	if err != nil {
		return err
	}
	d.rules.Delete(shopID)
	if tag.RowsAffected() == 0 {
		return core.Errorf(core.ENOTFOUND, "rule %d not found", ruleID)
	}
	return nil
}
