package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/adapters/cache"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ShopStore implements core.ShopStore; secrets are sealed with Sealer.
type ShopStore struct {
	pool   *pgxpool.Pool
	sealer core.Sealer
	// Unreadable, when set, is told about each shop ListShops skips
	// because its secrets cannot be opened.
	Unreadable func(shopID int64, err error)
	// changed are told the id of every shop this store updated or
	// deleted, after the write: the shop caches built on this store drop
	// their entry, so a change made in this process (app/uninstalled in
	// the worker, settings saved through the API) applies at once; other
	// processes see it within their cache's TTL. Set while wiring only.
	changed []func(shopID int64)
}

func (s *ShopStore) notifyChanged(id int64) {
	for _, f := range s.changed {
		f(id)
	}
}

// errSecrets marks a shop whose sealed secrets cannot be opened.
var errSecrets = errors.New("sealed secrets cannot be opened")

// NewShopStore returns a ShopStore.
func NewShopStore(pool *pgxpool.Pool, sealer core.Sealer) *ShopStore {
	return &ShopStore{pool: pool, sealer: sealer}
}

var _ core.ShopStore = (*ShopStore)(nil)

// NormalizeDomain lower-cases a shop domain or site URL and strips the
// trailing slash (core.NormalizeDomain).
func NormalizeDomain(d string) string { return core.NormalizeDomain(d) }

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateShop inserts a shop; adminToken (may be empty) is stored hashed.
func (s *ShopStore) CreateShop(ctx context.Context, sh core.Shop, adminToken string) (core.Shop, error) {
	if sh.Platform != core.PlatformShopify && sh.Platform != core.PlatformWooCommerce {
		return sh, core.Errorf(core.EINVALID, "unknown platform %q", sh.Platform)
	}
	cur, err := core.NormalizeCurrency(sh.Currency)
	if err != nil {
		return sh, err
	}
	sh.Currency = cur
	sh.Domain = NormalizeDomain(sh.Domain)
	if sh.Domain == "" {
		return sh, core.Errorf(core.EINVALID, "shop domain is required")
	}
	if err := sh.Settings.Validate(); err != nil {
		return sh, err
	}
	settings, sealed, err := s.encode(sh)
	if err != nil {
		return sh, err
	}
	var th []byte
	if adminToken != "" {
		th = tokenHash(adminToken)
	}
	err = s.pool.QueryRow(ctx, `WITH s AS (
INSERT INTO shops (platform, domain, name, currency, active, settings, secrets, admin_token_hash)
VALUES ($1, $2, $3, $4, true, $5, $6, $7) RETURNING id
), l AS (
`+insertLabels(8)+`
)
SELECT id FROM s`, string(sh.Platform), sh.Domain, sh.Name, sh.Currency, settings, sealed, th, sh.Settings.CheckoutLabels()).Scan(&sh.ID)
	if c, con := pgCode(err); c == "23505" && con == "shops_domain" {
		return sh, core.Errorf(core.ECONFLICT, "a %s shop with domain %s already exists", sh.Platform, sh.Domain)
	}
	if err != nil {
		return sh, fmt.Errorf("postgres: create shop: %w", err)
	}
	sh.Active = true
	return sh, nil
}

func (s *ShopStore) encode(sh core.Shop) ([]byte, []byte, error) {
	settings, err := json.Marshal(sh.Settings)
	if err != nil {
		return nil, nil, err
	}
	plain, err := json.Marshal(sh.Secrets)
	if err != nil {
		return nil, nil, err
	}
	sealed, err := s.sealer.Seal(plain)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: seal shop secrets: %w", err)
	}
	return settings, sealed, nil
}

const shopCols = `id, platform, domain, name, currency, active, settings, secrets,
ARRAY(SELECT label FROM checkout_labels l WHERE l.shop_id = shops.id ORDER BY first_used_at, label)`

// insertLabels records the checkout labels (parameter $n) of the shop
// written by the CTE s, so that orders naming credit by them stay
// recognised after the label changes (core.Shop.IssuedLabels).
func insertLabels(n int) string {
	return `INSERT INTO checkout_labels (shop_id, label)
SELECT s.id, x FROM s, unnest($` + strconv.Itoa(n) + `::text[]) AS x
ON CONFLICT (shop_id, label) DO NOTHING`
}

func (s *ShopStore) scan(row pgx.Row) (core.Shop, error) {
	var sh core.Shop
	var platform string
	var settings, sealed []byte
	err := row.Scan(&sh.ID, &platform, &sh.Domain, &sh.Name, &sh.Currency, &sh.Active, &settings, &sealed, &sh.IssuedLabels)
	if errors.Is(err, pgx.ErrNoRows) {
		return sh, core.Errorf(core.ENOTFOUND, "shop not found")
	}
	if err != nil {
		return sh, fmt.Errorf("postgres: load shop: %w", err)
	}
	sh.Platform = core.Platform(platform)
	if err := json.Unmarshal(settings, &sh.Settings); err != nil {
		return sh, fmt.Errorf("postgres: shop %d settings: %w", sh.ID, err)
	}
	if len(sealed) > 0 {
		plain, err := s.sealer.Open(sealed)
		if err != nil {
			return sh, fmt.Errorf("postgres: shop %d secrets: %w: %w", sh.ID, errSecrets, err)
		}
		if err := json.Unmarshal(plain, &sh.Secrets); err != nil {
			return sh, fmt.Errorf("postgres: shop %d secrets: %w: %w", sh.ID, errSecrets, err)
		}
	}
	return sh, nil
}

// ShopByID loads a shop.
func (s *ShopStore) ShopByID(ctx context.Context, id int64) (core.Shop, error) {
	return s.scan(s.pool.QueryRow(ctx, `SELECT `+shopCols+` FROM shops WHERE id = $1`, id))
}

// ShopByDomain loads a shop by platform and domain.
func (s *ShopStore) ShopByDomain(ctx context.Context, p core.Platform, domain string) (core.Shop, error) {
	return s.scan(s.pool.QueryRow(ctx, `SELECT `+shopCols+` FROM shops WHERE platform = $1 AND domain = $2`, string(p), NormalizeDomain(domain)))
}

// ShopByAdminToken finds the shop whose admin token hashes to token's hash.
func (s *ShopStore) ShopByAdminToken(ctx context.Context, token string) (core.Shop, error) {
	if token == "" {
		return core.Shop{}, core.Errorf(core.EUNAUTHORIZED, "missing token")
	}
	return s.scan(s.pool.QueryRow(ctx, `SELECT `+shopCols+` FROM shops WHERE admin_token_hash = $1`, tokenHash(token)))
}

// UpdateShop stores name, currency, active, settings and secrets.
func (s *ShopStore) UpdateShop(ctx context.Context, sh core.Shop) error {
	if err := sh.Settings.Validate(); err != nil {
		return err
	}
	settings, sealed, err := s.encode(sh)
	if err != nil {
		return err
	}
	var n int
	err = s.pool.QueryRow(ctx, `WITH s AS (
UPDATE shops SET name = $2, currency = $3, active = $4, settings = $5, secrets = $6, updated_at = now() WHERE id = $1 RETURNING id
), l AS (
`+insertLabels(7)+`
)
SELECT count(*) FROM s`, sh.ID, sh.Name, sh.Currency, sh.Active, settings, sealed, sh.Settings.CheckoutLabels()).Scan(&n)
	if err != nil {
		return fmt.Errorf("postgres: update shop: %w", err)
	}
	if n == 0 {
		return core.Errorf(core.ENOTFOUND, "shop not found")
	}
	s.notifyChanged(sh.ID)
	return nil
}

// UpdateSettings stores name, active and settings, leaving secrets alone.
func (s *ShopStore) UpdateSettings(ctx context.Context, sh core.Shop) error {
	if err := sh.Settings.Validate(); err != nil {
		return err
	}
	settings, err := json.Marshal(sh.Settings)
	if err != nil {
		return err
	}
	var n int
	err = s.pool.QueryRow(ctx, `WITH s AS (
UPDATE shops SET name = $2, active = $3, settings = $4, updated_at = now() WHERE id = $1 RETURNING id
), l AS (
`+insertLabels(5)+`
)
SELECT count(*) FROM s`, sh.ID, sh.Name, sh.Active, settings, sh.Settings.CheckoutLabels()).Scan(&n)
	if err != nil {
		return fmt.Errorf("postgres: update shop settings: %w", err)
	}
	if n == 0 {
		return core.Errorf(core.ENOTFOUND, "shop not found")
	}
	s.notifyChanged(sh.ID)
	return nil
}

// SetAdminToken replaces a shop's admin token.
func (s *ShopStore) SetAdminToken(ctx context.Context, shopID int64, token string) error {
	_, err := s.pool.Exec(ctx, `UPDATE shops SET admin_token_hash = $2, updated_at = now() WHERE id = $1`, shopID, tokenHash(token))
	if err == nil {
		s.notifyChanged(shopID)
	}
	return err
}

// ListShops lists active shops of a platform (for pollers and sweepers).
func (s *ShopStore) ListShops(ctx context.Context, p core.Platform) ([]core.Shop, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+shopCols+` FROM shops WHERE platform = $1 AND active ORDER BY id`, string(p))
	if err != nil {
		return nil, fmt.Errorf("postgres: list shops: %w", err)
	}
	defer rows.Close()
	var out []core.Shop
	for rows.Next() {
		sh, err := s.scan(rows)
		if errors.Is(err, errSecrets) {
			// One shop whose secrets cannot be opened (sealed with
			// another key) must not stop the jobs of every other shop.
			if s.Unreadable != nil {
				s.Unreadable(sh.ID, err)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}

// purgedTables are the tables PurgeShop deletes a shop's rows from, in an
// order their references allow. Every table with a shop_id column must be
// here (TestPurgeShopLeavesNoRow checks it).
var purgedTables = []string{"ledger_entries", "ledger_postings", "ledger_holds", "ledger_balances", "vouchers", "activity_events",
	"referral_rewards", "second_purchase_offers", "notification_deliveries", "notifications", "program_cursors", "ledger_transactions",
	"order_rate_rows", "order_rate_sets", "order_refunds", "orders", "inbox", "owner_links", "partner_moves", "referral_bindings", "customers", "partners",
	"credit_rules", "poll_cursors", "earn_year_caps", "earn_withheld", "order_redemptions", "store_credit_mirror", "checkout_labels",
	"collection_products", "tier_activity", "memberships", "customer_tiers", "tier_changes", "data_requests", "shop_health",
	"household_addresses", "referral_refusals"}

// PurgedTables returns the tables PurgeShop empties of a shop's rows.
func PurgedTables() []string { return append([]string(nil), purgedTables...) }

// PurgeShop deletes everything of a shop, ledger included (GDPR
// shop/redact). The append-only triggers allow it only for this shop in
// this transaction.
func (s *ShopStore) PurgeShop(ctx context.Context, shopID int64) error {
	defer s.notifyChanged(shopID)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('creditbridge.purge_shop', $1, true)`, fmt.Sprint(shopID)); err != nil {
			return err
		}
		for _, t := range purgedTables {
			if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE shop_id = $1`, shopID); err != nil {
				return fmt.Errorf("postgres: purge %s: %w", t, err)
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM shops WHERE id = $1`, shopID)
		return err
	})
}

// ShopCache is the shop store with ShopByID answered from memory for up
// to TTL: the worker resolves the shop of every event, and a shop changes
// rarely. Changes made through the underlying store in this process drop
// its entry at once; changes made elsewhere (another process) are seen
// within TTL.
type ShopCache struct {
	*ShopStore
	m *cache.Cache[int64, core.Shop]
}

// maxCachedShops bounds the shop caches.
const maxCachedShops = 10_000

// NewShopCache wraps s. The cache drops a shop's entry whenever s changes
// it, through the cache or not; call it while wiring, before s is shared.
func NewShopCache(s *ShopStore, ttl time.Duration) *ShopCache {
	c := &ShopCache{ShopStore: s, m: cache.New[int64, core.Shop](maxCachedShops, ttl)}
	s.changed = append(s.changed, c.forget)
	return c
}

// ShopByID returns the cached shop if it is fresh enough.
func (c *ShopCache) ShopByID(ctx context.Context, id int64) (core.Shop, error) {
	if sh, ok := c.m.Get(id); ok {
		return sh, nil
	}
	sh, err := c.ShopStore.ShopByID(ctx, id)
	if err != nil {
		return sh, err
	}
	c.m.Set(id, sh)
	return sh, nil
}

func (c *ShopCache) forget(id int64) { c.m.Delete(id) }

// UpdateShop stores s and drops its cache entry.
func (c *ShopCache) UpdateShop(ctx context.Context, s core.Shop) error {
	defer c.forget(s.ID)
	return c.ShopStore.UpdateShop(ctx, s)
}

// UpdateSettings stores s's settings and drops its cache entry.
func (c *ShopCache) UpdateSettings(ctx context.Context, s core.Shop) error {
	defer c.forget(s.ID)
	return c.ShopStore.UpdateSettings(ctx, s)
}

var _ core.ShopStore = (*ShopCache)(nil)
