package jobs

import (
	"context"
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
	err := EachShop(ctx, x.Shops, x.Log, "credit expiry", func(ctx context.Context, s core.Shop) error {
		if s.Settings.ExpiryMonths <= 0 {
			return nil
		}
		owners, err := x.Ledger.ExpireCredit(ctx, s, now)
		n += len(owners)
		if len(owners) > 0 && x.Notify != nil {
			x.Notify(ctx, s, owners)
		}
		return err
	})
	return n, err
}

// OfferExpirer closes second-purchase offers whose window ended
// (postgres.SecondPurchaseStore).
type OfferExpirer interface {
	ExpireOffers(ctx context.Context, shop core.Shop, now time.Time) ([]core.Owner, error)
}

// SecondPurchaseExpiry is the periodic end of second-purchase windows:
// what is left of an unused bonus is taken back when its window closes.
// Idempotent; a shop that fails is logged and skipped.
type SecondPurchaseExpiry struct {
	Shops  ShopLister
	Store  OfferExpirer
	Now    func() time.Time
	Notify core.BalanceNotifier // optional
	Log    *slog.Logger
}

// Run closes what is due and returns how many offers it closed.
func (x *SecondPurchaseExpiry) Run(ctx context.Context) (int, error) {
	now := time.Now()
	if x.Now != nil {
		now = x.Now()
	}
	n := 0
	err := EachShop(ctx, x.Shops, x.Log, "second-purchase expiry", func(ctx context.Context, s core.Shop) error {
		if s.Settings.SecondPurchase == nil {
			return nil
		}
		owners, err := x.Store.ExpireOffers(ctx, s, now)
		n += len(owners)
		if len(owners) > 0 && x.Notify != nil {
			x.Notify(ctx, s, owners)
		}
		return err
	})
	return n, err
}
