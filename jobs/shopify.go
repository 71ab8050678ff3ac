package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/core"
	"github.com/hibiken/asynq"
	"github.com/shopspring/decimal"
)

// TypeShopifyMetafieldSync writes a customer's spendable credit into the
// Shopify customer metafield the discount Function reads.
const TypeShopifyMetafieldSync = "shopify:metafield-sync"

// MetafieldPayload names the owner whose metafield to refresh. The task
// carries no amount: the handler reads the balance when it runs, so a
// late or repeated task always writes the current value.
type MetafieldPayload struct {
	ShopID  int64  `json:"shop_id"`
	OwnerID string `json:"owner_id"`
}

// DefaultMetafieldDelay is how long changes to one owner's balance are
// collected before the metafield is written.
const DefaultMetafieldDelay = 2 * time.Second

// MetafieldTaskID is the asynq task id of the sync of owner at now with
// window delay: changes within one window share one task, which runs at
// the window's end, after every change of that window has committed.
// (A single id per owner would be rejected as a duplicate while its task
// is running, and a change committed after the task read the balance
// would then never reach Shopify.)
func MetafieldTaskID(shopID int64, ownerID string, now time.Time, window time.Duration) (string, time.Time) {
	if window <= 0 {
		window = DefaultMetafieldDelay
	}
	bucket := now.UnixNano() / int64(window)
	runAt := time.Unix(0, (bucket+1)*int64(window))
	return "mf:" + strconv.FormatInt(shopID, 10) + ":" + ownerID + ":" + strconv.FormatInt(bucket, 10), runAt
}

// MetafieldNotifier enqueues metafield syncs after balance changes. Its
// Notify method is a core.BalanceNotifier (core.Earner.Notify).
type MetafieldNotifier struct {
	Client *asynq.Client
	Queue  string
	// Delay is the collection window (default DefaultMetafieldDelay).
	Delay time.Duration
	Log   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

var _ core.BalanceNotifier = (*MetafieldNotifier)(nil).Notify

// Notify enqueues one sync per registered customer of a Shopify shop
// (guests and partners have no Shopify customer to write to): the credit
// metafield in redemption mode function, the store credit mirror in mode
// store_credit, nothing in mode codes. It only talks to Redis, with a
// short timeout; a failure is logged and the next balance change of that
// owner (or, for store credit, the reconciler) syncs again.
func (n *MetafieldNotifier) Notify(ctx context.Context, shop core.Shop, owners []core.Owner) {
	// Only installed shops have something to keep in sync (a shop
	// without an Admin API token would only queue tasks that skip).
	if shop.Platform != core.PlatformShopify || !shop.Active || shop.Secrets.AccessToken == "" {
		return
	}
	mode := shop.Settings.Mode()
	if mode == core.RedemptionCodes {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, o := range owners {
		if _, ok := ShopifyCustomerID(o); !ok {
			continue
		}
		var err error
		if mode == core.RedemptionStoreCredit {
			err = n.EnqueueStoreCredit(ctx, shop.ID, o.ID)
		} else {
			err = n.Enqueue(ctx, shop.ID, o.ID)
		}
		if err != nil && n.Log != nil {
			n.Log.Warn("shopify credit sync not enqueued", slog.Int64("shop", shop.ID), slog.String("mode", string(mode)), slog.Any("error", err))
		}
	}
}

// Enqueue schedules the metafield sync of one owner. A task already
// scheduled for the same window makes it a no-op.
func (n *MetafieldNotifier) Enqueue(ctx context.Context, shopID int64, ownerID string) error {
	id, runAt := MetafieldTaskID(shopID, ownerID, n.clock(), n.Delay)
	return n.enqueue(ctx, TypeShopifyMetafieldSync, id, runAt, shopID, ownerID)
}

// EnqueueStoreCredit schedules the store credit sync of one owner.
func (n *MetafieldNotifier) EnqueueStoreCredit(ctx context.Context, shopID int64, ownerID string) error {
	id, runAt := StoreCreditTaskID(shopID, ownerID, n.clock(), n.Delay)
	return n.enqueue(ctx, TypeShopifyStoreCreditSync, id, runAt, shopID, ownerID)
}

func (n *MetafieldNotifier) clock() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *MetafieldNotifier) enqueue(ctx context.Context, typ, id string, runAt time.Time, shopID int64, ownerID string) error {
	b, _ := json.Marshal(MetafieldPayload{ShopID: shopID, OwnerID: ownerID})
	_, err := n.Client.EnqueueContext(ctx, asynq.NewTask(typ, b), asynq.Queue(n.Queue), asynq.TaskID(id),
		asynq.ProcessAt(runAt), asynq.MaxRetry(10), asynq.Timeout(time.Minute))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// ShopifyCustomerID returns the Shopify customer id of a registered
// customer owner (c:<digits>).
func ShopifyCustomerID(o core.Owner) (string, bool) {
	if o.Kind != core.OwnerCustomer {
		return "", false
	}
	id, ok := strings.CutPrefix(o.ID, "c:")
	if !ok || id == "" {
		return "", false
	}
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", false
	}
	return id, true
}

// AdminSource returns a usable Admin API client for a shop.
type AdminSource interface {
	AdminClient(ctx context.Context, shop core.Shop) (*admin.Client, error)
}

// ShopifyClients builds Admin API clients from the shops' stored tokens,
// refreshing an expiring offline token (and storing the rotated pair)
// shortly before it expires.
type ShopifyClients struct {
	Shops        core.ShopStore
	ClientID     string
	ClientSecret string
	// APIVersion defaults to admin.DefaultAPIVersion.
	APIVersion string
	// HTTPClient sends OAuth and GraphQL requests (nil: defaults).
	HTTPClient *http.Client
	// Options are extra client options (tests).
	Options []admin.Option
	Log     *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	locks map[int64]*sync.Mutex
}

var _ AdminSource = (*ShopifyClients)(nil)

func (c *ShopifyClients) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *ShopifyClients) lock(shopID int64) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks == nil {
		c.locks = map[int64]*sync.Mutex{}
	}
	l, ok := c.locks[shopID]
	if !ok {
		l = &sync.Mutex{}
		c.locks[shopID] = l
	}
	return l
}

func (c *ShopifyClients) client(shop core.Shop) *admin.Client {
	opts := make([]admin.Option, 0, len(c.Options)+1)
	if c.HTTPClient != nil {
		opts = append(opts, admin.WithHTTPClient(c.HTTPClient))
	}
	opts = append(opts, c.Options...)
	return admin.NewClient(shop.Domain, shop.Secrets.AccessToken, c.APIVersion, opts...)
}

func needsRefresh(s core.ShopSecrets, now time.Time) bool {
	return (admin.Token{ExpiresAt: s.TokenExpiresAt}).NeedsRefresh(now)
}

// Installed asks Shopify whether the app is still installed on shop: the
// shop query answers with the shop's token while it is. Shopify refuses a
// revoked token (401/403), and answers 402, 404 or 423 for a shop that is
// frozen, gone or locked. verified is false when the shop has no token.
func (c *ShopifyClients) Installed(ctx context.Context, shop core.Shop) (installed, verified bool, err error) {
	if shop.Secrets.AccessToken == "" {
		return false, false, nil
	}
	cl, err := c.AdminClient(ctx, shop)
	if core.ErrorCode(err) == core.EUNAUTHORIZED {
		return false, true, nil // the refresh token was refused: no longer installed
	}
	if err != nil {
		return false, false, err
	}
	_, err = cl.Shop(ctx)
	var he *admin.HTTPError
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusPaymentRequired, http.StatusNotFound, http.StatusLocked:
			return false, true, nil
		}
	}
	if err != nil {
		return false, false, err
	}
	return true, true, nil
}

// AdminClient returns a client for shop, refreshing its token first when
// it expires within five minutes. Refreshes of one shop are serialized in
// this process; when another process rotated the refresh token first, the
// stored token is reloaded and used. A shop without a token, or whose
// refresh token Shopify refuses, is EUNAUTHORIZED: the merchant must open
// the app again (token exchange) or reinstall it.
func (c *ShopifyClients) AdminClient(ctx context.Context, shop core.Shop) (*admin.Client, error) {
	if shop.Platform != core.PlatformShopify {
		return nil, core.Errorf(core.EINVALID, "shop %d is not a Shopify shop", shop.ID)
	}
	if shop.Secrets.AccessToken == "" {
		return nil, core.Errorf(core.EUNAUTHORIZED, "shop %d has no Shopify access token (open the app in the Shopify admin)", shop.ID)
	}
	if !needsRefresh(shop.Secrets, c.now()) {
		return c.client(shop), nil
	}
	l := c.lock(shop.ID)
	l.Lock()
	defer l.Unlock()
	fresh, err := c.Shops.ShopByID(ctx, shop.ID)
	if err != nil {
		return nil, err
	}
	if fresh.Secrets.AccessToken != "" && !needsRefresh(fresh.Secrets, c.now()) {
		return c.client(fresh), nil // refreshed meanwhile
	}
	if fresh.Secrets.RefreshToken == "" {
		return nil, core.Errorf(core.EUNAUTHORIZED, "shop %d: the Shopify token expired and there is no refresh token (open the app in the Shopify admin)", shop.ID)
	}
	tok, err := admin.RefreshToken(ctx, c.HTTPClient, fresh.Domain, c.ClientID, c.ClientSecret, fresh.Secrets.RefreshToken)
	if err != nil {
		// Another process may have rotated the refresh token first.
		if again, lerr := c.Shops.ShopByID(ctx, shop.ID); lerr == nil && again.Secrets.AccessToken != fresh.Secrets.AccessToken &&
			!needsRefresh(again.Secrets, c.now()) {
			return c.client(again), nil
		}
		return nil, fmt.Errorf("jobs: refresh Shopify token of shop %d: %w", shop.ID, err)
	}
	// Store on a fresh read so concurrent settings changes are kept.
	latest, err := c.Shops.ShopByID(ctx, shop.ID)
	if err != nil {
		return nil, err
	}
	latest.Secrets.AccessToken, latest.Secrets.RefreshToken, latest.Secrets.TokenExpiresAt = tok.AccessToken, tok.RefreshToken, tok.ExpiresAt
	if err := c.Shops.UpdateShop(ctx, latest); err != nil {
		// The old refresh token is spent: without the new pair stored the
		// merchant must open the app again to get a token.
		return nil, fmt.Errorf("jobs: store refreshed Shopify token of shop %d: %w", shop.ID, err)
	}
	if c.Log != nil {
		c.Log.Info("shopify token refreshed", slog.Int64("shop", shop.ID), slog.Time("expires_at", tok.ExpiresAt))
	}
	return c.client(latest), nil
}

// HoldLister lists an owner's open holds (adapters/postgres.LedgerStore).
type HoldLister interface {
	OpenHolds(ctx context.Context, shopID int64, currency string, owner core.Owner) ([]core.Hold, error)
}

// MetafieldHandler is the asynq handler of TypeShopifyMetafieldSync.
type MetafieldHandler struct {
	Shops  core.ShopStore
	Ledger core.Ledger
	// Holds lists open holds (nil: the metafield counts none).
	Holds HoldLister
	Admin AdminSource
	Log   *slog.Logger
	// Now stamps the metafield's updated_at (default time.Now).
	Now func() time.Time
	// Tiers, when set, gives customers in a tier their tier's checkout
	// caps (Tier.MaxPercent, Tier.MaxAmount) in the metafield, as checkout
	// quotes do (core.Redeemer.Tiers).
	Tiers core.TierReader
}

// ProcessTask decodes the payload and syncs the metafield.
func (h *MetafieldHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	return processCustomerSync(ctx, t, "metafield sync", h.Log, h.Sync)
}

// processCustomerSync runs one per-customer Shopify sync task (metafield or
// store credit). Uninstalled shop, revoked token, rejected value: retrying
// cannot help, so the task is dropped; the next balance change (or the
// reconciler, or the app being opened) tries again.
func processCustomerSync(ctx context.Context, t *asynq.Task, what string, log *slog.Logger, sync func(ctx context.Context, shopID int64, ownerID string) error) error {
	var p MetafieldPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ShopID == 0 || p.OwnerID == "" {
		return fmt.Errorf("jobs: bad %s payload: %w", what, asynq.SkipRetry)
	}
	err := sync(ctx, p.ShopID, p.OwnerID)
	switch core.ErrorCode(err) {
	case "":
		return nil
	case core.EUNAUTHORIZED, core.ENOTFOUND, core.EINVALID:
		if log != nil {
			log.Warn(what+" dropped", slog.Int64("shop", p.ShopID), slog.Any("error", err))
		}
		return fmt.Errorf("jobs: %s: %w (%w)", what, err, asynq.SkipRetry)
	}
	return err
}

// Sync writes the owner's spendable credit (see CreditMetafieldFor) into
// the customer's metafield. Non-Shopify or inactive shops, shops without
// an access token and owners that are not registered Shopify customers
// are skipped.
func (h *MetafieldHandler) Sync(ctx context.Context, shopID int64, ownerID string) error {
	shop, err := h.Shops.ShopByID(ctx, shopID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil // purged
	}
	if err != nil {
		return err
	}
	owner := core.Owner{Kind: core.OwnerCustomer, ID: ownerID}
	custID, ok := ShopifyCustomerID(owner)
	if shop.Platform != core.PlatformShopify || !shop.Active || !ok || shop.Secrets.AccessToken == "" ||
		shop.Settings.Mode() != core.RedemptionFunction {
		return nil // no app installed, or another mode: nothing reads the metafield
	}
	b, err := h.Ledger.Balance(ctx, shop.ID, shop.Currency, owner)
	if err != nil {
		return err
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	largest := decimal.Zero
	if h.Holds != nil && b.Held.IsPositive() {
		hs, err := h.Holds.OpenHolds(ctx, shop.ID, shop.Currency, owner)
		if err != nil {
			return err
		}
		for _, x := range hs {
			largest = decimal.Max(largest, x.Amount)
		}
	}
	if shop, err = WithTierPerks(ctx, h.Tiers, shop, owner, now()); err != nil {
		return err
	}
	mf := CreditMetafieldFor(shop, b, largest, now())
	cl, err := h.Admin.AdminClient(ctx, shop)
	if err != nil {
		return err
	}
	return cl.SetCustomerCreditMetafield(ctx, "gid://shopify/Customer/"+custID, mf)
}

// WithTierPerks returns the shop with the owner's tier perks in its
// checkout caps (core.ShopSettings.WithTierPerks): a customer in a tier
// with max_percent / max_amount gets those caps instead of the shop's.
// Without a reader, tiers or a customer owner it returns shop unchanged.
func WithTierPerks(ctx context.Context, r core.TierReader, shop core.Shop, owner core.Owner, now time.Time) (core.Shop, error) {
	if r == nil || !shop.Settings.TiersEnabled() || owner.Kind != core.OwnerCustomer {
		return shop, nil
	}
	st, err := core.CustomerTier(ctx, r, shop, owner, now)
	if err != nil {
		return shop, err
	}
	shop.Settings = shop.Settings.WithTierPerks(st.Tier)
	return shop, nil
}

// CreditMetafieldFor builds the metafield value of a balance: the credit
// the discount Function may apply to one checkout. That is the available
// credit, which open holds have already left, plus the largest single
// open hold (never negative), and the shop's checkout caps.
//
// Why the largest hold: a checkout's own hold (placed from its
// checkouts/create webhook) must not shrink the credit the Function
// applies to that same checkout on its next run, and the Function cannot
// tell which checkout it runs for. Counting only the largest hold bounds
// the double-spend window: two checkouts open at once can together apply
// at most one hold more than the customer has; the order that takes more
// than it holds records that excess as an overdraft (core.Redeemer).
// A max_percent of 0 allows no credit, so it is sent as amount 0, and so
// is credit below the shop's min_redeem_balance. Labels
// are the shop's checkout labels in German and English (the shop store
// records each one it saves, so orders naming credit by it are recognised
// after a rename).
func CreditMetafieldFor(shop core.Shop, b core.Balance, largestHold decimal.Decimal, now time.Time) admin.CreditMetafield {
	cur := shop.Currency
	avail := decimal.Max(b.Available, decimal.Zero).Add(decimal.Max(decimal.Min(largestHold, b.Held), decimal.Zero))
	st := shop.Settings
	if st.BelowRedeemMinimum(avail) {
		avail = decimal.Zero // min_redeem_balance not reached: nothing to spend yet, as quotes answer
	}
	var maxPercent string
	if st.MaxPercent.Valid {
		if p := st.MaxPercent.Decimal.Round(2); p.IsPositive() {
			maxPercent = p.String()
		} else {
			avail = decimal.Zero
		}
	}
	mf := admin.CreditMetafield{Amount: core.StringFixedFor(cur, avail), Currency: cur, MaxPercent: maxPercent, UpdatedAt: now,
		Labels: map[string]string{}}
	for _, lang := range core.CheckoutLanguages {
		mf.Labels[lang] = st.CheckoutLabel(lang)
	}
	if st.MaxAmount.Valid {
		mf.MaxAmount = core.StringFixedFor(cur, st.MaxAmount.Decimal)
	}
	if st.MinOrder.Valid {
		mf.MinOrder = core.StringFixedFor(cur, st.MinOrder.Decimal)
	}
	return mf
}

// RegisterShopify adds the Shopify task handlers to mux.
func RegisterShopify(mux *asynq.ServeMux, h *MetafieldHandler) {
	mux.Handle(TypeShopifyMetafieldSync, h)
}
