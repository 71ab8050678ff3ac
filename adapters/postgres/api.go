package postgres

import (
	"context"

	"github.com/creditbridge/creditbridge/core"
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

// DeleteRule removes a rule.
func (a APIStore) DeleteRule(ctx context.Context, shopID, id int64) error {
	return a.Directory.DeleteRule(ctx, shopID, id)
}

// UpsertPartner creates or updates a partner.
func (a APIStore) UpsertPartner(ctx context.Context, shopID int64, p core.Partner) error {
	return a.Directory.UpsertPartner(ctx, shopID, p)
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
