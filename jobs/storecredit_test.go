package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

type storeCreditEnv struct {
	*shopifyEnv
	pool    *pgxpool.Pool
	mirrors postgres.StoreCreditStore
	h       *jobs.StoreCreditHandler
	booker  *jobs.StoreCreditBooker
	shop    core.Shop
	now     time.Time
}

func newStoreCreditEnv(t *testing.T, settings core.ShopSettings) *storeCreditEnv {
	t.Helper()
	pool := pgtest.NewPool(t, 6)
	base, a := newWiredShopifyEnv(t, pool)
	e := &storeCreditEnv{shopifyEnv: base, pool: pool, mirrors: postgres.StoreCreditStore{L: base.ledger}, now: time.Now()}
	e.shop = e.createShop(t, settings, core.ShopSecrets{AccessToken: e.fake.AccessToken()})
	// The production handler, with the test's clock and without metafield
	// syncs (no worker runs them here).
	h := *a.StoreCredit
	h.Now = func() time.Time { return e.now }
	h.Notify = nil
	e.h = &h
	e.booker = &jobs.StoreCreditBooker{Admin: e.clients, Book: e.mirrors}
	return e
}

func (e *storeCreditEnv) post(t *testing.T, key string, owner core.Owner, amount string) {
	t.Helper()
	amt := decimal.RequireFromString(amount)
	_, err := e.ledger.Post(context.Background(), core.Transaction{ShopID: e.shop.ID, Key: key, Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "test", Note: key},
		Postings: []core.Posting{
			{Currency: "EUR", Owner: owner, Bucket: core.BucketAvailable, Amount: amt},
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: amt.Neg()},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *storeCreditEnv) want(t *testing.T, step string, owner core.Owner, ledger, shopify, mirrored string) {
	t.Helper()
	b, err := e.ledger.Balance(context.Background(), e.shop.ID, "EUR", owner)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.mirrors.Mirror(context.Background(), e.shop.ID, owner.ID, "EUR")
	if err != nil {
		t.Fatal(err)
	}
	s := e.fake.StoreCredit("gid://shopify/Customer/"+owner.ID[2:], "EUR")
	d := decimal.RequireFromString
	if !b.Available.Equal(d(ledger)) || !s.Equal(d(shopify)) || !m.Mirrored.Equal(d(mirrored)) || m.Pending.Valid {
		t.Fatalf("%s: ledger %s shopify %s mirror %s (pending %v); want %s %s %s", step, b.Available, s, m.Mirrored, m.Pending, ledger, shopify, mirrored)
	}
	r, err := postgres.Audit(context.Background(), e.pool, e.shop.ID)
	if err != nil || !r.OK() {
		t.Fatalf("%s: audit: %v\n%s", step, err, r)
	}
}

// TestStoreCreditMirror walks one customer through the store credit mode
// against the fake shop (which checks every request against the 2026-04
// schema): pushes, a checkout paid with store credit, a refund to store
// credit, a reversal, a crash between push and record, and credit given
// in the Shopify admin.
func TestStoreCreditMirror(t *testing.T) {
	t.Parallel()
	e := newStoreCreditEnv(t, core.ShopSettings{StoreCreditExpiryDays: 365})
	ctx := context.Background()
	if e.shop.Settings.Mode() != core.RedemptionStoreCredit {
		t.Fatalf("default mode %s", e.shop.Settings.Mode())
	}
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:501"}
	gid := "gid://shopify/Customer/501"

	// 1. Earned credit is pushed once; a second sync sends nothing.
	e.post(t, "earn-1", c, "30.00")
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	e.want(t, "pushed", c, "30.00", "30.00", "30.00")
	hist := e.fake.StoreCreditHistory(gid, "EUR")
	if len(hist) != 1 || hist[0].ExpiresAt == "" {
		t.Fatalf("history %+v: want one credit with an expiry", hist)
	}
	if exp, err := time.Parse(time.RFC3339, hist[0].ExpiresAt); err != nil || exp.Sub(e.now) < 364*24*time.Hour {
		t.Fatalf("expiry %s not carried (365 days)", hist[0].ExpiresAt)
	}
	n := len(e.fake.Requests())
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if reqs := e.fake.Requests()[n:]; len(reqs) != 1 || reqs[0].RootFields[0] != "customer" {
		t.Fatalf("idle sync sent %+v, want one balance read", reqs)
	}

	// 2. The customer pays 20.00 of an order with store credit: the order
	// webhook books it (replays book nothing more) and moves the mirror
	// with it, so the next sync pushes nothing.
	order := "gid://shopify/Order/9001"
	e.fake.PayWithStoreCredit(order, gid, "EUR", decimal.RequireFromString("20.00"))
	for range 2 {
		if err := e.booker.BookOrder(ctx, e.shop, "9001", "#1001"); err != nil {
			t.Fatal(err)
		}
	}
	e.want(t, "paid with store credit", c, "10.00", "10.00", "10.00")
	n = len(e.fake.Requests())
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.Requests()) != n+1 {
		t.Fatalf("sync after a booked payment pushed something: %+v", e.fake.Requests()[n:])
	}

	// 3. A refund to store credit (shaped like Shopify's docs example:
	// gateway shopify_store_credit, kind REFUND) gives it back.
	refund := refundFixtureAmount(t)
	e.fake.RefundToStoreCredit(order, gid, "EUR", refund)
	if err := e.booker.BookOrder(ctx, e.shop, "9001", "#1001"); err != nil {
		t.Fatal(err)
	}
	want := decimal.RequireFromString("10.00").Add(refund).StringFixed(2)
	e.want(t, "refunded to store credit", c, want, want, want)

	// 4. Credit taken in the ledger (a reversal) is debited in Shopify.
	e.post(t, "reverse-1", c, "-5.00")
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	want = decimal.RequireFromString(want).Sub(decimal.RequireFromString("5")).StringFixed(2)
	e.want(t, "debited", c, want, want, want)

	// 5. A crash after Shopify applied a push but before it was recorded:
	// the next run sees mirror + push in Shopify and settles it, without
	// pushing again.
	e.post(t, "earn-2", c, "7.00")
	if err := e.mirrors.BeginPush(ctx, e.shop.ID, c.ID, "EUR", decimal.RequireFromString("7.00")); err != nil {
		t.Fatal(err)
	}
	e.fake.AdjustStoreCredit(gid, "EUR", decimal.RequireFromString("7.00")) // what the lost call did
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	want = decimal.RequireFromString(want).Add(decimal.RequireFromString("7")).StringFixed(2)
	e.want(t, "crash settled", c, want, want, want)

	// 6. The merchant gives 12.00 in the Shopify admin: the reconciler sees
	// the gap, waits the grace period, then books it into the ledger.
	e.fake.AdjustStoreCredit(gid, "EUR", decimal.RequireFromString("12.00"))
	if _, booked, err := e.h.Reconcile(ctx, e.shops.ListShops); err != nil || booked != 0 {
		t.Fatalf("first reconcile booked %d, %v; want 0 (within grace)", booked, err)
	}
	shopifyNow := decimal.RequireFromString(want).Add(decimal.RequireFromString("12")).StringFixed(2)
	e.want(t, "gap noted", c, want, shopifyNow, want)
	e.now = e.now.Add(jobs.StoreCreditGrace + time.Minute)
	if checked, booked, err := e.h.Reconcile(ctx, e.shops.ListShops); err != nil || booked != 1 || checked != 1 {
		t.Fatalf("reconcile after grace: checked %d booked %d, %v", checked, booked, err)
	}
	e.want(t, "gap booked", c, shopifyNow, shopifyNow, shopifyNow)
	if _, booked, err := e.h.Reconcile(ctx, e.shops.ListShops); err != nil || booked != 0 {
		t.Fatalf("second reconcile booked %d, %v", booked, err)
	}
}

// refundFixtureAmount reads the store credit refund of Shopify's
// refundCreate docs example (../shared/fixtures/shopify).
func refundFixtureAmount(t *testing.T) decimal.Decimal {
	t.Helper()
	var f struct {
		Response struct {
			RefundCreate struct {
				Refund struct {
					Transactions struct {
						Edges []struct {
							Node struct {
								Gateway   string `json:"gateway"`
								Kind      string `json:"kind"`
								AmountSet struct {
									PresentmentMoney struct {
										Amount string `json:"amount"`
									} `json:"presentmentMoney"`
								} `json:"amountSet"`
							} `json:"node"`
						} `json:"edges"`
					} `json:"transactions"`
				} `json:"refund"`
			} `json:"refundCreate"`
		} `json:"response"`
	}
	b := sharedfixtures.Read(t, filepath.Join("fixtures", "shopify", "refund-to-store-credit.graphql-docs-example.json"))
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	edges := f.Response.RefundCreate.Refund.Transactions.Edges
	if len(edges) != 1 || edges[0].Node.Gateway != core.StoreCreditGateway || edges[0].Node.Kind != "REFUND" {
		t.Fatalf("fixture transactions %+v", edges)
	}
	return decimal.RequireFromString(edges[0].Node.AmountSet.PresentmentMoney.Amount)
}

// TestStoreCreditOnlyInItsMode: shops in another mode push nothing.
func TestStoreCreditOnlyInItsMode(t *testing.T) {
	t.Parallel()
	e := newStoreCreditEnv(t, core.ShopSettings{RedemptionMode: core.RedemptionCodes})
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	e.post(t, "earn-1", c, "30.00")
	if err := e.h.Sync(context.Background(), e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Fatalf("%d requests in mode codes", n)
	}
}

// TestStoreCreditFromOrderWebhook: an orders/paid delivery whose
// payment_gateway_names lists shopify_store_credit books the order's store
// credit through the processor (a redelivery books nothing more); the
// same delivery to a shop in mode function books none.
func TestStoreCreditFromOrderWebhook(t *testing.T) {
	t.Parallel()
	e := newStoreCreditEnv(t, core.ShopSettings{})
	ctx := context.Background()
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:601"}
	e.post(t, "earn-1", c, "25.00")
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger}
	proc := &shopify.Processor{Earner: earner, OnStoreCredit: func(ctx context.Context, shop core.Shop, o shopify.StoreCreditOrder) error {
		return e.booker.BookOrder(ctx, shop, o.OrderID, o.OrderNumber)
	}}
	var body map[string]any
	if err := json.Unmarshal(payload.OrderJSON(payload.Order{ID: 7001, Number: 1001, CustomerID: 601, Currency: "EUR", Financial: "paid",
		UpdatedAt: time.Now().Add(-time.Minute), Lines: []payload.Line{{ID: 1, ProductID: 2, VariantID: 3, Title: "Tea", Quantity: 1, Price: "40.00"}}}), &body); err != nil {
		t.Fatal(err)
	}
	body["payment_gateway_names"] = []string{"shopify_store_credit", "bogus"}
	raw, _ := json.Marshal(body)
	e.fake.PayWithStoreCredit("gid://shopify/Order/7001", "gid://shopify/Customer/601", "EUR", decimal.RequireFromString("15.00"))
	for range 2 {
		if _, err := proc.Handle(ctx, e.shop, core.InboxEvent{ShopID: e.shop.ID, Platform: core.PlatformShopify, Topic: shopify.TopicOrdersPaid, Payload: raw}); err != nil {
			t.Fatal(err)
		}
	}
	e.want(t, "order paid with store credit", c, "10.00", "10.00", "10.00")

	fn := newStoreCreditEnv(t, core.ShopSettings{RedemptionMode: core.RedemptionFunction})
	fnEarner := &core.Earner{Orders: postgres.OrderStore{L: fn.ledger}, Directory: fn.dir, Ledger: fn.ledger}
	called := false
	fnProc := &shopify.Processor{Earner: fnEarner, OnStoreCredit: func(context.Context, core.Shop, shopify.StoreCreditOrder) error { called = true; return nil }}
	if _, err := fnProc.Handle(ctx, fn.shop, core.InboxEvent{ShopID: fn.shop.ID, Platform: core.PlatformShopify, Topic: shopify.TopicOrdersPaid, Payload: raw}); err != nil {
		t.Fatal(err)
	}
	if called {
		t.Fatal("a shop in mode function booked store credit")
	}
}

// TestStoreCreditFailureLeavesTheEventToRetry: when booking an order's
// store credit fails (the Admin API is down), the order's transaction must
// not have marked the inbox event processed, or the retry would find it
// done and the store credit would wait for the reconcile job; once the
// booking succeeds the dispatcher marks it (Outcome.Marked is false).
func TestStoreCreditFailureLeavesTheEventToRetry(t *testing.T) {
	t.Parallel()
	e := newStoreCreditEnv(t, core.ShopSettings{})
	ctx := context.Background()
	in := postgres.NewInbox(e.pool)
	t.Cleanup(in.Close)
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:611"}
	e.post(t, "earn-1", c, "25.00")
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(payload.OrderJSON(payload.Order{ID: 7011, Number: 1011, CustomerID: 611, Currency: "EUR", Financial: "paid",
		UpdatedAt: time.Now().Add(-time.Minute), Lines: []payload.Line{{ID: 1, ProductID: 2, VariantID: 3, Title: "Tea", Quantity: 1, Price: "40.00"}}}), &body); err != nil {
		t.Fatal(err)
	}
	body["payment_gateway_names"] = []string{"shopify_store_credit"}
	raw, _ := json.Marshal(body)
	ev, _, err := in.Insert(ctx, core.InboxEvent{ShopID: e.shop.ID, Platform: core.PlatformShopify, EventKey: "sc-fail-1", Topic: shopify.TopicOrdersPaid, Payload: raw})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.PayWithStoreCredit("gid://shopify/Order/7011", "gid://shopify/Customer/611", "EUR", decimal.RequireFromString("15.00"))
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: e.dir, Ledger: e.ledger}
	down := true
	proc := &shopify.Processor{Earner: earner, OnStoreCredit: func(ctx context.Context, shop core.Shop, o shopify.StoreCreditOrder) error {
		if down {
			return errors.New("admin api unavailable")
		}
		return e.booker.BookOrder(ctx, shop, o.OrderID, o.OrderNumber)
	}}
	if _, err := proc.Handle(ctx, e.shop, ev); err == nil {
		t.Fatal("a failed store credit booking reported success")
	}
	got, err := in.Get(ctx, e.shop.ID, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != core.InboxReceived {
		t.Fatalf("event %s after a failed store credit booking, want %s (to be retried)", got.Status, core.InboxReceived)
	}
	down = false
	out, err := proc.Handle(ctx, e.shop, ev)
	if err != nil {
		t.Fatal(err)
	}
	if out.Marked {
		t.Fatal("the order transaction marked the event although store credit was still to be booked")
	}
	e.want(t, "order paid with store credit after the retry", c, "10.00", "10.00", "10.00")
}

// TestStoreCreditDrainedAfterModeSwitch: a shop that leaves mode
// store_credit gets the mirrored credit taken back out of Shopify (or it
// could be spent as store credit and again as a discount); the ledger
// keeps it.
func TestStoreCreditDrainedAfterModeSwitch(t *testing.T) {
	t.Parallel()
	e := newStoreCreditEnv(t, core.ShopSettings{})
	ctx := context.Background()
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:701"}
	e.post(t, "earn-1", c, "30.00")
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	e.want(t, "mirrored", c, "30.00", "30.00", "30.00")
	e.shop.Settings.RedemptionMode = core.RedemptionFunction
	if err := e.shops.UpdateSettings(ctx, e.shop); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.h.Reconcile(ctx, e.shops.ListShops); err != nil {
		t.Fatal(err)
	}
	e.want(t, "drained", c, "30.00", "0", "0")
	n := len(e.fake.Requests())
	if err := e.h.Sync(ctx, e.shop.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.Requests()) != n {
		t.Fatal("a drained customer in mode function still reaches Shopify")
	}
}
