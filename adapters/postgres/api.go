package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// APIStore bundles the stores the HTTP layer uses.
type APIStore struct {
	*ShopStore
	Directory *Directory
	Inbox     *Inbox
	Ledger    *LedgerStore
}

// ListRules lists a shop's rules.
func (a APIStore) ListRules(ctx context.Context, shopID int64) ([]core.Rule, error) {
	return a.Directory.Rules(ctx, shopID)
}

// PutRule creates or replaces a rule.
func (a APIStore) PutRule(ctx context.Context, shopID int64, r core.Rule) (core.Rule, error) {
	return a.Directory.PutRule(ctx, shopID, r)
}

// PutRules creates or replaces rules in one transaction.
func (a APIStore) PutRules(ctx context.Context, shopID int64, rules []core.Rule) ([]core.Rule, error) {
	return a.Directory.PutRules(ctx, shopID, rules)
}

// SetCollectionProducts replaces a collection's members.
func (a APIStore) SetCollectionProducts(ctx context.Context, shopID int64, collectionID string, products []string) error {
	return a.Directory.SetCollectionProducts(ctx, shopID, collectionID, products)
}

// RepeatPurchases implements core.ReviewSource.
func (a APIStore) RepeatPurchases(ctx context.Context, shopID int64, currency string, from, to time.Time) (core.RepeatStats, core.RepeatStats, error) {
	return a.Directory.RepeatPurchases(ctx, shopID, currency, from, to)
}

// TopPartners implements core.ReviewSource.
func (a APIStore) TopPartners(ctx context.Context, shopID int64, currency string, from, to time.Time, limit int) ([]core.PartnerEarned, error) {
	return a.Directory.TopPartners(ctx, shopID, currency, from, to, limit)
}

// EachSimulationOrder streams the orders a simulation replays.
func (a APIStore) EachSimulationOrder(ctx context.Context, shop core.Shop, since time.Time, fn func(core.SimOrder) error) error {
	return a.Directory.EachSimulationOrder(ctx, shop, since, fn)
}

// YearBudgetsUsed reads owners' used yearly earning budgets.
func (a APIStore) YearBudgetsUsed(ctx context.Context, shopID int64, currency string, owners []core.Owner, years []int) (core.YearBudgets, error) {
	return a.Directory.YearBudgetsUsed(ctx, shopID, currency, owners, years)
}

// DeleteRule removes a rule.
func (a APIStore) DeleteRule(ctx context.Context, shopID, id int64) error {
	return a.Directory.DeleteRule(ctx, shopID, id)
}

// Affiliates returns the partner store (the sponsor tree and links).
func (a APIStore) Affiliates() Affiliates { return Affiliates{Dir: a.Directory, Ledger: a.Ledger} }

// ReferralRefusals lists recorded self-referrals (same customer, same
// e-mail, same household), newest first.
func (a APIStore) ReferralRefusals(ctx context.Context, shopID int64, before int64, limit int) ([]core.ReferralRefusal, string, error) {
	return a.Directory.ReferralRefusals(ctx, shopID, before, limit)
}

// RecordCustomerAddresses keeps a customer record's normalized addresses
// (the WooCommerce plugin's account addresses) for the household check.
func (a APIStore) RecordCustomerAddresses(ctx context.Context, shop core.Shop, platformID string, addresses []string) error {
	return a.Directory.RecordCustomerAddresses(ctx, shop, platformID, addresses)
}

// ReferralRewards lists recorded referral rewards and refusals (see
// ReferralStore).
func (a APIStore) ReferralRewards(ctx context.Context, shopID int64, q core.ReferralQuery) (core.ReferralRewardPage, error) {
	return ReferralStore{L: a.Ledger, Dir: a.Directory}.ReferralRewards(ctx, shopID, q)
}

// GuestOwnerFor returns the guest owner of an e-mail if that guest ever
// earned.
func (a APIStore) GuestOwnerFor(ctx context.Context, shop core.Shop, email string) (core.Owner, bool, error) {
	return a.Directory.GuestOwnerFor(ctx, shop, email)
}

// SavePartner creates or replaces a partner (see core.PartnerStore).
func (a APIStore) SavePartner(ctx context.Context, shop core.Shop, p core.Partner, actor string) (core.Partner, error) {
	return a.Affiliates().SavePartner(ctx, shop, p, actor)
}

// Partner returns one partner.
func (a APIStore) Partner(ctx context.Context, shopID int64, id string) (core.Partner, error) {
	return a.Affiliates().Partner(ctx, shopID, id)
}

// PartnerByCustomer returns the partner linked to a platform customer.
func (a APIStore) PartnerByCustomer(ctx context.Context, shopID int64, platformID string) (core.Partner, bool, error) {
	return a.Affiliates().PartnerByCustomer(ctx, shopID, platformID)
}

// ListPartners lists partners (keyset paging).
func (a APIStore) ListPartners(ctx context.Context, shopID int64, q core.PartnerQuery) (core.PartnerPage, error) {
	return a.Affiliates().ListPartners(ctx, shopID, q)
}

// Upline returns a partner's sponsors, nearest first.
func (a APIStore) Upline(ctx context.Context, shopID int64, id string, levels int) ([]core.Partner, error) {
	return a.Affiliates().Upline(ctx, shopID, id, levels)
}

// Moves lists a partner's sponsor changes.
func (a APIStore) Moves(ctx context.Context, shopID int64, id string) ([]core.PartnerMove, error) {
	return a.Affiliates().Moves(ctx, shopID, id)
}

// BoundPartner returns the partner a buyer is bound to.
func (a APIStore) BoundPartner(ctx context.Context, shopID int64, buyer core.Owner) (string, bool, error) {
	return a.Affiliates().BoundPartner(ctx, shopID, buyer)
}

// DeadLetters lists dead letters.
func (a APIStore) DeadLetters(ctx context.Context, shop core.Shop, limit int) ([]core.InboxEvent, error) {
	return a.Inbox.DeadLetters(ctx, shop, limit)
}

// RetryDeadLetter re-opens a dead letter.
func (a APIStore) RetryDeadLetter(ctx context.Context, shop core.Shop, id int64) (core.InboxEvent, error) {
	return a.Inbox.Retry(ctx, shop, id)
}

// ProgramBalances sums the program's buckets.
func (a APIStore) ProgramBalances(ctx context.Context, shopID int64) (map[string]map[core.Bucket]decimal.Decimal, error) {
	return a.Ledger.ProgramBalances(ctx, shopID)
}

// Audit runs the ledger audit for a shop.
func (a APIStore) Audit(ctx context.Context, shopID int64) (core.AuditReport, error) {
	return Audit(ctx, a.Ledger.pool, shopID)
}

// VouchersFor lists an owner's vouchers, newest first (at most 100).
func (a APIStore) VouchersFor(ctx context.Context, shopID int64, owner core.Owner) ([]core.Voucher, error) {
	return VoucherStore{L: a.Ledger}.ForOwner(ctx, shopID, owner)
}

// SearchCustomers finds a shop's customers by platform id (exact) or a
// part of their e-mail address (case-insensitive), newest first, at most
// limit (1..50). Redacted customers are never found.
func (a APIStore) SearchCustomers(ctx context.Context, shopID int64, q string, limit int) ([]core.CustomerMatch, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return []core.CustomerMatch{}, nil
	}
	limit = min(max(limit, 1), 50)
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
	rows, err := a.Directory.pool.Query(ctx, `SELECT owner_id, coalesce(platform_id, ''), coalesce(email, '') FROM customers
WHERE shop_id = $1 AND redacted_at IS NULL AND (platform_id = $2 OR lower(email) LIKE $3)
ORDER BY created_at DESC LIMIT $4`, shopID, q, like, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: search customers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.CustomerMatch, error) {
		var m core.CustomerMatch
		return m, r.Scan(&m.OwnerID, &m.PlatformID, &m.Email)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: search customers: %w", err)
	}
	if out == nil {
		out = []core.CustomerMatch{}
	}
	return out, nil
}

// ClaimGuest moves a guest's credit to a registered customer.
func (a APIStore) ClaimGuest(ctx context.Context, shop core.Shop, email, platformID, actor string) ([]core.Transaction, error) {
	return a.Affiliates().ClaimGuest(ctx, shop, email, platformID, actor)
}
