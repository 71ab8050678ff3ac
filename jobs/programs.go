package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// ShopLister lists the active shops of a platform.
type ShopLister interface {
	ListShops(ctx context.Context, p core.Platform) ([]core.Shop, error)
}

// CreditExpirer expires a shop's due credit (postgres.LedgerStore).
type CreditExpirer interface {
	ExpireCredit(ctx context.Context, shop core.Shop, now time.Time) ([]core.Owner, error)
}

// CreditExpiry is the periodic expiry of credit (issue 11): every shop
// with expiry_months set, one after the other. It is idempotent (each
// expiry is keyed by the owner's balance version and computed under its
// lock), and a shop that fails is logged and skipped, never stopping the
// others.
type CreditExpiry struct {
	Shops  ShopLister
	Ledger CreditExpirer
	Now    func() time.Time
	Notify core.BalanceNotifier // optional: e.g. the Shopify metafield sync
	Log    *slog.Logger
}

// Run expires what is due now and returns how many owners' credit
// expired; the error reports the shops that failed.
func (x *CreditExpiry) Run(ctx context.Context) (int, error) {
	now := time.Now()
	if x.Now != nil {
		now = x.Now()
	}
	n := 0
	var failed []error
	for _, p := range []core.Platform{core.PlatformShopify, core.PlatformWooCommerce} {
		shops, err := x.Shops.ListShops(ctx, p)
		if err != nil {
			return n, err
		}
		for _, s := range shops {
			if s.Settings.ExpiryMonths <= 0 {
				continue
			}
			owners, err := x.Ledger.ExpireCredit(ctx, s, now)
			n += len(owners)
			if len(owners) > 0 && x.Notify != nil {
				x.Notify(ctx, s, owners)
			}
			if err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				x.Log.Error("credit expiry failed for a shop; the others go on", slog.Int64("shop", s.ID), slog.Any("error", err))
				failed = append(failed, fmt.Errorf("shop %d: %w", s.ID, err))
			}
		}
	}
	return n, errors.Join(failed...)
}
