package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

type shopList []core.Shop

func (l shopList) ListShops(_ context.Context, p core.Platform) ([]core.Shop, error) {
	var out []core.Shop
	for _, s := range l {
		if s.Platform == p {
			out = append(out, s)
		}
	}
	return out, nil
}

// brokenShop makes one shop's expiry fail (as a database error would)
// and passes the others to the real store.
type brokenShop struct {
	jobs.CreditExpirer
	id int64
}

func (b brokenShop) ExpireCredit(ctx context.Context, s core.Shop, now time.Time) ([]core.Owner, error) {
	if s.ID == b.id {
		return nil, errors.New("connection reset")
	}
	return b.CreditExpirer.ExpireCredit(ctx, s, now)
}

func seedCredit(t *testing.T, l *postgres.LedgerStore, shop int64, owner core.Owner, key, amount string) {
	t.Helper()
	if _, err := l.Post(context.Background(), core.Transaction{ShopID: shop, Key: key, Reason: core.Reason{Kind: core.ReasonEarn, OrderID: key},
		Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: decimal.RequireFromString(amount).Neg()},
			{Currency: "EUR", Owner: owner, Bucket: core.BucketAvailable, Amount: decimal.RequireFromString(amount)}}}); err != nil {
		t.Fatal(err)
	}
}

// One shop failing never stops the others; a second run changes nothing.
func TestCreditExpiryGoesOnPastAFailingShop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, 4)
	ledger := postgres.NewLedgerStore(pool, 1)
	t.Cleanup(ledger.Close)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ledger.SetClock(func() time.Time { return now })
	owner := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	for _, shop := range []int64{1, 2, 3} {
		seedCredit(t, ledger, shop, owner, "o1", "4.00")
	}
	exp := core.ProgramSettings{ExpiryMonths: 1}
	shops := shopList{
		{ID: 1, Platform: core.PlatformShopify, Currency: "EUR", Settings: core.ShopSettings{ProgramSettings: exp}},
		{ID: 2, Platform: core.PlatformShopify, Currency: "EUR", Settings: core.ShopSettings{ProgramSettings: exp}},
		{ID: 3, Platform: core.PlatformWooCommerce, Currency: "EUR"}, // no expiry
	}
	var notified []int64
	x := &jobs.CreditExpiry{Shops: shops, Ledger: brokenShop{ledger, 1}, Now: func() time.Time { return now.AddDate(0, 1, 1) },
		Notify: func(_ context.Context, s core.Shop, _ []core.Owner) { notified = append(notified, s.ID) },
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil))}
	n, err := x.Run(ctx)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "shop 1: connection reset") {
		t.Fatalf("run: n=%d err=%v", n, err)
	}
	if len(notified) != 1 || notified[0] != 2 {
		t.Fatalf("notified %v", notified)
	}
	for shop, want := range map[int64]string{1: "4", 2: "0", 3: "4"} {
		b, _ := ledger.Balance(ctx, shop, "EUR", owner)
		if !b.Available.Equal(decimal.RequireFromString(want)) {
			t.Fatalf("shop %d: available %s, want %s", shop, b.Available, want)
		}
	}
	x.Ledger = ledger
	if n, err := x.Run(ctx); n != 1 || err != nil {
		t.Fatalf("second run: n=%d err=%v (shop 1 now, shop 2 not again)", n, err)
	}
	r, err := postgres.Audit(ctx, pool, 0)
	if err != nil || !r.OK() {
		t.Fatalf("audit: %v\n%s", err, r)
	}
}
