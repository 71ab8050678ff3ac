package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/creditbridge/creditbridge/core"
)

// EachShop runs fn for every shop of every platform: the loop of the
// periodic per-shop jobs. One shop's failure never stops the others: it is
// logged (job names the job) and returned in the joined error. A cancelled
// context ends the loop at once.
func EachShop(ctx context.Context, shops ShopLister, log *slog.Logger, job string, fn func(ctx context.Context, s core.Shop) error) error {
	var failed []error
	for _, p := range []core.Platform{core.PlatformShopify, core.PlatformWooCommerce} {
		list, err := shops.ListShops(ctx, p)
		if err != nil {
			return err
		}
		for _, s := range list {
			if err := fn(ctx, s); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if log != nil {
					log.Error(job+" failed for a shop; the others go on", slog.Int64("shop", s.ID), slog.Any("error", err))
				}
				failed = append(failed, fmt.Errorf("shop %d: %w", s.ID, err))
			}
		}
	}
	return errors.Join(failed...)
}
