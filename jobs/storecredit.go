package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/core"
)

// Shopify store credit mirror (redemption mode store_credit).
//
// The ledger is the system of record. A customer's Shopify store credit
// should hold their spendable credit (available, never below zero). The
// mirror row remembers what creditbridge believes Shopify holds; a sync
// pushes the difference between the ledger and the mirror with
// storeCreditAccountCredit/Debit. Neither mutation has an idempotency key,
// so a push is recorded before it is sent (BeginPush) and settled after
// (FinishPush); a push left unsettled by a crash is settled on the next
// run by comparing Shopify's balance with mirror and mirror + push.
//
// Orders paid or refunded in store credit move the ledger and the mirror
// together (core.StoreCreditBook), so they cause no push. Everything else
// that changes Shopify's balance (credit given or taken in the Shopify
// admin, Shopify-side expiry, an order whose webhooks never arrived) shows
// as a gap between Shopify's balance and the mirror; the reconciler books
// a gap that stood for StoreCreditGrace into the ledger, so the ledger
// follows Shopify and the next sync has nothing to undo.

// TypeShopifyStoreCreditSync pushes one customer's credit into Shopify
// store credit.
const TypeShopifyStoreCreditSync = "shopify:store-credit-sync"

// StoreCreditGrace is how long a gap between Shopify's balance and the
// mirror must stand before the reconciler books it: longer than Shopify
// retries a webhook (4 h), so an order paid with store credit is booked
// from its own webhook first.
const StoreCreditGrace = 6 * time.Hour

// Locker serializes work on one key across processes.
type Locker interface {
	// Lock takes key for at most ttl; ok is false when someone else holds
	// it. unlock releases it (only if still ours).
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// RedisLocker is a Locker on Redis (SET NX PX with a random token,
// released by compare-and-delete).
type RedisLocker struct {
	R redis.UniversalClient
}

var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Lock implements Locker.
func (l RedisLocker) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	ok, err := l.R.SetNX(ctx, "creditbridge:lock:"+key, tok, ttl).Result()
	if err != nil || !ok {
		return func() {}, false, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = unlockScript.Run(ctx, l.R, []string{"creditbridge:lock:" + key}, tok).Err()
	}, true, nil
}

// StoreCreditTaskID is the asynq task id of the sync of owner at now (one
// task per owner and collection window, as for metafields).
func StoreCreditTaskID(shopID int64, ownerID string, now time.Time, window time.Duration) (string, time.Time) {
	id, runAt := MetafieldTaskID(shopID, ownerID, now, window)
	return "sc" + id[len("mf"):], runAt
}

// errBusy: another worker is syncing the same customer; retried.
var errBusy = errors.New("jobs: store credit sync of this customer is running elsewhere")

// StoreCreditHandler syncs and reconciles the Shopify store credit mirror.
type StoreCreditHandler struct {
	Shops   core.ShopStore
	Ledger  core.Ledger
	Mirrors core.StoreCreditMirrors
	Admin   AdminSource
	Lock    Locker
	Log     *slog.Logger
	// Notify is told when a reconciled gap changed a balance (optional).
	Notify core.BalanceNotifier
	// Now is the clock (default time.Now); Grace defaults to
	// StoreCreditGrace.
	Now   func() time.Time
	Grace time.Duration
	// Tiers, when set, applies customers' tier perks: a tier's max_amount
	// replaces the shop's as the most mirrored at once (StoreCreditTarget).
	Tiers core.TierReader
}

func (h *StoreCreditHandler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// ProcessTask decodes the payload and syncs the customer; a sync that
// cannot succeed is dropped and left to the reconciler.
func (h *StoreCreditHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	return processCustomerSync(ctx, t, "store credit sync", h.Log, h.Sync)
}

// storeCreditShop loads a shop and reports whether its store credit
// mirror is looked after: an installed, active Shopify shop. A shop in
// another mode than store_credit only has what it mirrored before taken
// back out (mirrors reports false for it).
func (h *StoreCreditHandler) storeCreditShop(ctx context.Context, shopID int64) (shop core.Shop, ok, mirrors bool, err error) {
	shop, err = h.Shops.ShopByID(ctx, shopID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return shop, false, false, nil
	}
	if err != nil {
		return shop, false, false, err
	}
	ok = shop.Platform == core.PlatformShopify && shop.Active && shop.Secrets.AccessToken != ""
	return shop, ok, ok && shop.Settings.Mode() == core.RedemptionStoreCredit, nil
}

// Sync pushes the difference between the customer's spendable credit and
// the mirror into their Shopify store credit.
func (h *StoreCreditHandler) Sync(ctx context.Context, shopID int64, ownerID string) error {
	shop, ok, mirrors, err := h.storeCreditShop(ctx, shopID)
	if err != nil || !ok {
		return err
	}
	custID, ok := ShopifyCustomerID(core.Owner{Kind: core.OwnerCustomer, ID: ownerID})
	if !ok {
		return nil
	}
	if !mirrors {
		// Another mode: only credit mirrored earlier is taken back.
		m, err := h.Mirrors.Mirror(ctx, shop.ID, ownerID, shop.Currency)
		if err != nil || (m.Mirrored.IsZero() && !m.Pending.Valid) {
			return err
		}
	}
	unlock, ok, err := h.Lock.Lock(ctx, "store-credit:"+strconv.FormatInt(shopID, 10)+":"+ownerID, 2*time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		return errBusy
	}
	defer unlock()
	cl, err := h.Admin.AdminClient(ctx, shop)
	if err != nil {
		return err
	}
	_, err = h.push(ctx, cl, shop, ownerID, "gid://shopify/Customer/"+custID)
	return err
}

// push settles a push left in flight, then pushes target - mirrored.
// It returns what it applied. Callers hold the customer's lock.
func (h *StoreCreditHandler) push(ctx context.Context, cl *admin.Client, shop core.Shop, ownerID, custGID string) (decimal.Decimal, error) {
	cur := shop.Currency
	m, err := h.Mirrors.Mirror(ctx, shop.ID, ownerID, cur)
	if err != nil {
		return decimal.Zero, err
	}
	acct, _, err := cl.StoreCreditBalance(ctx, custGID, cur)
	if err != nil {
		return decimal.Zero, err
	}
	if m.Pending.Valid {
		// A push whose outcome was never recorded: it was applied when
		// Shopify holds mirror + push, not applied when it holds mirror.
		switch {
		case acct.Balance.Equal(m.Mirrored.Add(m.Pending.Decimal)):
			err = h.Mirrors.FinishPush(ctx, shop.ID, ownerID, cur, m.Pending.Decimal)
			m.Mirrored = m.Mirrored.Add(m.Pending.Decimal)
		case acct.Balance.Equal(m.Mirrored):
			err = h.Mirrors.FinishPush(ctx, shop.ID, ownerID, cur, decimal.Zero)
		default:
			// Something else moved the balance meanwhile (an order not yet
			// booked): decide once it is booked.
			return decimal.Zero, fmt.Errorf("jobs: store credit push of %s from %s is unsettled (Shopify %s, mirror %s): retrying later",
				m.Pending.Decimal, m.PendingAt.Format(time.RFC3339), acct.Balance, m.Mirrored)
		}
		if err != nil {
			return decimal.Zero, err
		}
	}
	b, err := h.Ledger.Balance(ctx, shop.ID, cur, core.Owner{Kind: core.OwnerCustomer, ID: ownerID})
	if err != nil {
		return decimal.Zero, err
	}
	target := decimal.Zero // switched to another mode: take back what was mirrored, or the customer could spend it as store credit and again as a discount
	if shop.Settings.Mode() == core.RedemptionStoreCredit {
		perks, err := WithTierPerks(ctx, h.Tiers, shop, core.Owner{Kind: core.OwnerCustomer, ID: ownerID}, h.now())
		if err != nil {
			return decimal.Zero, err
		}
		target = StoreCreditTarget(perks.Settings, b)
	}
	delta := target.Sub(m.Mirrored)
	if delta.IsNegative() {
		// Shopify cannot go below zero: what it lacks was spent at a
		// checkout whose order is not booked yet, which will move the
		// mirror down by itself.
		delta = decimal.Max(delta, acct.Balance.Neg())
	}
	if delta.IsZero() {
		return decimal.Zero, nil
	}
	if err := h.Mirrors.BeginPush(ctx, shop.ID, ownerID, cur, delta); err != nil {
		return decimal.Zero, err
	}
	if delta.IsPositive() {
		var exp time.Time
		if d := shop.Settings.StoreCreditExpiryDays; d > 0 {
			exp = h.now().Add(time.Duration(d) * 24 * time.Hour)
		}
		_, err = cl.CreditStoreCredit(ctx, custGID, delta, cur, exp)
	} else {
		_, err = cl.DebitStoreCredit(ctx, custGID, delta.Neg(), cur)
	}
	var ue *admin.UserErrors
	if errors.As(err, &ue) {
		// Refused: certainly not applied.
		if ferr := h.Mirrors.FinishPush(ctx, shop.ID, ownerID, cur, decimal.Zero); ferr != nil {
			return decimal.Zero, ferr
		}
		return decimal.Zero, err
	}
	if err != nil {
		return decimal.Zero, err // maybe applied: settled on the next run
	}
	return delta, h.Mirrors.FinishPush(ctx, shop.ID, ownerID, cur, delta)
}

// StoreCreditTarget is what a customer's Shopify store credit should
// hold: the available credit (never below zero), at most the checkout cap
// max_amount when one applies (the shop's, or the customer's tier perk:
// pass settings from WithTierPerks). Store credit is a payment method
// with no per-order limit in Shopify, so the cap bounds what is mirrored
// at once; after an order spent it, the next sync tops it up again.
// Below the shop's min_redeem_balance nothing is mirrored. max_percent
// cannot be enforced on a payment and is not applied here.
func StoreCreditTarget(s core.ShopSettings, b core.Balance) decimal.Decimal {
	target := decimal.Max(b.Available, decimal.Zero)
	if s.BelowRedeemMinimum(target) {
		return decimal.Zero // min_redeem_balance not reached: nothing to spend yet
	}
	if s.MaxAmount.Valid {
		target = decimal.Min(target, decimal.Max(s.MaxAmount.Decimal, decimal.Zero))
	}
	return target
}

// Reconcile compares, for every customer of every Shopify shop in mode
// store_credit, Shopify's store credit balance with the mirror: a gap
// that stood for the grace period is booked into the ledger
// (AdoptGap), then the customer is synced. In shops that switched to
// another mode it takes the mirrored credit back out of Shopify. It
// returns how many customers it looked at and how many gaps it booked.
func (h *StoreCreditHandler) Reconcile(ctx context.Context, shops func(ctx context.Context, p core.Platform) ([]core.Shop, error)) (checked, booked int, err error) {
	list, err := shops(ctx, core.PlatformShopify)
	if err != nil {
		return 0, 0, err
	}
	grace := h.Grace
	if grace <= 0 {
		grace = StoreCreditGrace
	}
	for _, sh := range list {
		shop, ok, mirrors, err := h.storeCreditShop(ctx, sh.ID)
		if err != nil || !ok {
			continue
		}
		cl, err := h.Admin.AdminClient(ctx, shop)
		if err != nil {
			if h.Log != nil {
				h.Log.Warn("store credit reconcile: no Admin API client", slog.Int64("shop", shop.ID), slog.Any("error", err))
			}
			continue
		}
		after := ""
		for {
			owners, err := h.Mirrors.StoreCreditOwners(ctx, shop.ID, shop.Currency, after, 200, !mirrors)
			if err != nil {
				return checked, booked, err
			}
			for _, ownerID := range owners {
				after = ownerID
				n, err := h.reconcileOne(ctx, cl, shop, ownerID, grace, mirrors)
				checked++
				booked += n
				if err != nil && h.Log != nil && ctx.Err() == nil {
					h.Log.Warn("store credit reconcile of a customer failed", slog.Int64("shop", shop.ID), slog.Any("error", err))
				}
			}
			if len(owners) < 200 || ctx.Err() != nil {
				break
			}
		}
	}
	return checked, booked, ctx.Err()
}

func (h *StoreCreditHandler) reconcileOne(ctx context.Context, cl *admin.Client, shop core.Shop, ownerID string, grace time.Duration, mirrors bool) (int, error) {
	custID, ok := ShopifyCustomerID(core.Owner{Kind: core.OwnerCustomer, ID: ownerID})
	if !ok {
		return 0, nil
	}
	unlock, ok, err := h.Lock.Lock(ctx, "store-credit:"+strconv.FormatInt(shop.ID, 10)+":"+ownerID, 2*time.Minute)
	if err != nil || !ok {
		return 0, err // a sync is running: next round
	}
	defer unlock()
	gid := "gid://shopify/Customer/" + custID
	booked := 0
	m, err := h.Mirrors.Mirror(ctx, shop.ID, ownerID, shop.Currency)
	if err != nil {
		return 0, err
	}
	// Gaps are booked only while the shop mirrors store credit; after a
	// switch to another mode the mirrored credit is only taken back.
	if !m.Pending.Valid && mirrors {
		acct, _, err := cl.StoreCreditBalance(ctx, gid, shop.Currency)
		if err != nil {
			return 0, err
		}
		gap := acct.Balance.Sub(m.Mirrored)
		now := h.now()
		since, err := h.Mirrors.NoteGap(ctx, shop.ID, ownerID, shop.Currency, gap, now)
		if err != nil {
			return 0, err
		}
		if !gap.IsZero() && now.Sub(since) >= grace {
			owner := core.Owner{Kind: core.OwnerCustomer, ID: ownerID}
			t, err := h.Mirrors.AdoptGap(ctx, shop.ID, owner, shop.Currency, gap)
			if err != nil {
				return 0, err
			}
			if t != nil {
				booked = 1
				if h.Log != nil {
					h.Log.Info("store credit changed in Shopify booked into the ledger", slog.Int64("shop", shop.ID), slog.String("amount", gap.String()))
				}
				if h.Notify != nil {
					h.Notify(ctx, shop, []core.Owner{owner})
				}
			}
		}
	}
	_, err = h.push(ctx, cl, shop, ownerID, gid)
	return booked, err
}

// RegisterStoreCredit adds the store credit sync handler to mux.
func RegisterStoreCredit(mux *asynq.ServeMux, h *StoreCreditHandler) {
	mux.Handle(TypeShopifyStoreCreditSync, h)
}

// StoreCreditBooker books orders paid or refunded in store credit: it
// reads the order's store credit transactions from the Admin API and
// converges the ledger on them (shopify.Processor.OnStoreCredit).
type StoreCreditBooker struct {
	Admin AdminSource
	Book  core.StoreCreditBook
	// Notify is told whose balance changed (optional).
	Notify core.BalanceNotifier
}

// BookOrder books one order. A guest order has no store credit account
// and books nothing.
func (b *StoreCreditBooker) BookOrder(ctx context.Context, shop core.Shop, orderID, orderNumber string) error {
	cl, err := b.Admin.AdminClient(ctx, shop)
	if err != nil {
		return err
	}
	res, err := cl.OrderStoreCredit(ctx, "gid://shopify/Order/"+orderID, shop.Currency)
	if err != nil {
		return err
	}
	custID, ok := strings.CutPrefix(res.CustomerGID, "gid://shopify/Customer/")
	if !ok || custID == "" {
		return nil
	}
	owner := core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(custID)}
	t, err := b.Book.BookStoreCredit(ctx, shop.ID, core.StoreCreditUse{OrderID: orderID, OrderNumber: orderNumber, Currency: shop.Currency,
		Owner: owner, Spent: res.Spent, Refunded: res.Refunded})
	if err != nil {
		return err
	}
	if t != nil && !t.Replayed && b.Notify != nil {
		b.Notify(ctx, shop, []core.Owner{owner})
	}
	return nil
}
