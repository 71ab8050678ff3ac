package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/core"
)

// CollectionRules reads a shop's rules and replaces a collection's
// members (postgres.Directory).
type CollectionRules interface {
	Rules(ctx context.Context, shopID int64) ([]core.Rule, error)
	SetCollectionProducts(ctx context.Context, shopID int64, collectionID string, products []string) error
}

// DefaultCollectionRefreshInterval is how often the members of Shopify
// collection rules are read again (COLLECTION_REFRESH_INTERVAL).
const DefaultCollectionRefreshInterval = 6 * time.Hour

// CollectionRefresh keeps the members of Shopify collection rules current:
// periodically for every shop (Run), and for one collection when Shopify
// sends collections/update (RefreshCollection, the shopify.Processor's
// OnCollection). Shopify sends no webhook when a product's own attributes
// make it match an automated collection's conditions, so the periodic
// run is what catches those. Members are stored only when they changed.
// A rate is frozen when an order line first earns, so changed members
// affect only orders that earn afterwards.
type CollectionRefresh struct {
	Shops ShopLister
	Rules CollectionRules
	Admin AdminSource
	Log   *slog.Logger
}

// Run refreshes the collection rules of every installed Shopify shop and
// returns how many collections changed members. One shop's failure never
// stops the others (EachShop).
func (x *CollectionRefresh) Run(ctx context.Context) (int, error) {
	n := 0
	err := EachShop(ctx, x.Shops, x.Log, "collection refresh", func(ctx context.Context, s core.Shop) error {
		if s.Platform != core.PlatformShopify || !s.Active || s.Secrets.AccessToken == "" {
			return nil
		}
		c, err := x.refresh(ctx, s, "")
		n += c
		return err
	})
	return n, err
}

// RefreshCollection reads the members of one collection again when the
// shop has a collection rule for it (else it does nothing).
func (x *CollectionRefresh) RefreshCollection(ctx context.Context, shop core.Shop, collectionID string) error {
	if shop.Platform != core.PlatformShopify || collectionID == "" {
		return nil
	}
	_, err := x.refresh(ctx, shop, collectionID)
	return err
}

// refresh reads the members of the shop's collection rules (only the
// collection named only, when set) and stores those that changed. A
// collection Shopify no longer knows keeps its last members (the merchant
// sees the rule and can delete it); other failures of one collection do
// not stop the others.
func (x *CollectionRefresh) refresh(ctx context.Context, shop core.Shop, only string) (int, error) {
	rules, err := x.Rules.Rules(ctx, shop.ID)
	if err != nil {
		return 0, err
	}
	var cl *admin.Client
	seen := map[string]bool{}
	changed := 0
	var errs []error
	for _, r := range rules {
		if r.Target != core.TargetCollection || seen[r.TargetID] || only != "" && r.TargetID != only {
			continue
		}
		seen[r.TargetID] = true
		if cl == nil {
			if cl, err = x.Admin.AdminClient(ctx, shop); err != nil {
				return changed, err
			}
		}
		col, err := cl.CollectionProducts(ctx, r.TargetID)
		if core.ErrorCode(err) == core.ENOTFOUND {
			if x.Log != nil {
				x.Log.Warn("collection of a credit rule not found in Shopify; the rule keeps its last products",
					slog.Int64("shop", shop.ID), slog.String("collection", r.TargetID))
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return changed, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("collection %s: %w", r.TargetID, err))
			continue
		}
		if sameMembers(r.Products, col.ProductIDs) {
			continue
		}
		if err := x.Rules.SetCollectionProducts(ctx, shop.ID, r.TargetID, col.ProductIDs); err != nil {
			return changed, err
		}
		changed++
		if x.Log != nil {
			x.Log.Info("collection rule products refreshed", slog.Int64("shop", shop.ID), slog.String("collection", r.TargetID),
				slog.Int("before", len(r.Products)), slog.Int("after", len(col.ProductIDs)))
		}
	}
	return changed, errors.Join(errs...)
}

// sameMembers reports whether two id lists hold the same ids (stored
// members are sorted, Shopify's come in collection order).
func sameMembers(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
