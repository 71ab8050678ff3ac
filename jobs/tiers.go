package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/hibiken/asynq"
)

// TierReviewer records tier changes and creates their tier.changed
// notifications (postgres.TierStore).
type TierReviewer interface {
	ReviewTiers(ctx context.Context, shop core.Shop, now time.Time) ([]core.TierChange, []core.DeliveryRef, error)
}

// TierReview is the periodic review of tiers (issue 11): for every shop
// with tiers it announces the customers whose tier changed (an upgrade
// after an order, a move down at a review period's end or after a
// refund, a membership bought, refunded or run out) as tier.changed
// notifications, and enqueues their deliveries. Earning never waits for
// it: the tier an order earns with is computed from the same facts when
// the order is applied. Idempotent; a shop that fails is logged and
// skipped.
type TierReview struct {
	Shops  ShopLister
	Store  TierReviewer
	Client *asynq.Client // nil: deliveries are left to the notifier's sweep
	Queue  string
	Now    func() time.Time
	Log    *slog.Logger
	// Notify, when set, is told about customers whose tier changed in a
	// shop whose tiers carry checkout perks (max_percent, max_amount), so
	// the Shopify credit metafield or store credit mirror takes the new
	// caps at once rather than at the next balance change.
	Notify core.BalanceNotifier
}

// Run reviews every shop with tiers and returns how many tiers changed.
func (x *TierReview) Run(ctx context.Context) (int, error) {
	now := time.Now()
	if x.Now != nil {
		now = x.Now()
	}
	n := 0
	err := EachShop(ctx, x.Shops, x.Log, "tier review", func(ctx context.Context, s core.Shop) error {
		if !s.Settings.TiersEnabled() {
			return nil
		}
		changes, refs, err := x.Store.ReviewTiers(ctx, s, now)
		n += len(changes)
		if x.Notify != nil && len(changes) > 0 && HasTierPerks(s.Settings.TierSettings) {
			owners := make([]core.Owner, len(changes))
			for i, c := range changes {
				owners[i] = c.Owner
			}
			x.Notify(ctx, s, owners)
		}
		if err != nil {
			return err
		}
		if x.Client != nil && len(refs) > 0 {
			return EnqueueDeliveries(ctx, x.Client, x.Queue, refs)
		}
		return nil
	})
	return n, err
}

// HasTierPerks reports whether any tier changes the checkout caps.
func HasTierPerks(t core.TierSettings) bool {
	for _, x := range t.Tiers {
		if x.MaxPercent.Valid || x.MaxAmount.Valid {
			return true
		}
	}
	return false
}
