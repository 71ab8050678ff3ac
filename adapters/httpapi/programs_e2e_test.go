package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

// programDriver sends one platform's order webhooks (real fixtures) for
// TestProgramsEndToEnd*: a one-line paid order, its replay, and its full
// refund the way the platform reports it.
type programDriver struct {
	s        testShop
	customer string
	paid     func(id int64, created time.Time)
	replay   func(id int64)
	refund   func(id int64, at time.Time)
}

// runProgramsEndToEnd is issue 11's program proof on one platform,
// through the signed webhooks, the inbox and the worker of the wired
// service: a campaign doubles the first order (replays change nothing),
// which also grants the second-purchase bonus; the minimum balance keeps
// checkout quotes at zero until it is reached; the second order in the
// window uses the offer; refunding the first order reverses exactly its
// doubled credit (the used bonus stays); after 30 days without an order
// one balance reminder is created however often the job runs; six months
// on, the lots expire oldest first into the program's expired bucket and
// credit.expired is announced once. line is the credit of one order's
// line at the plain 10 %.
func runProgramsEndToEnd(t *testing.T, e *env, d programDriver, line string) {
	t.Helper()
	ctx := context.Background()
	s := d.s
	now := time.Now().UTC().Truncate(time.Minute)
	wall := func(at time.Time) string { return at.UTC().Format("2006-01-02T15:04") }
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	lineCredit := decimal.RequireFromString(line)
	minimum := lineCredit.Mul(decimal.NewFromInt(2)).Add(decimal.RequireFromString("5.01")) // above the first order's credit
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"time_zone": "UTC",
		"campaigns":          []map[string]any{{"name": "Aktion", "multiplier": "2", "target": "shop", "starts": wall(now.Add(-48 * time.Hour)), "ends": wall(now.Add(-4 * time.Hour))}},
		"second_purchase":    map[string]any{"days": 7, "amount": "5.00"},
		"min_redeem_balance": minimum.StringFixed(2),
		"expiry_months":      6, "expiry_notice_days": 14,
		"notify_email": true, "reminder_days": 30, "reminder_interval_days": 60}), http.StatusOK)
	money := func(v decimal.Decimal) string { return v.StringFixed(2) }
	want := func(step string, v decimal.Decimal) {
		t.Helper()
		if b := e.balance(s, d.customer); b.Available != money(v) {
			t.Fatalf("%s: balance %+v, want %s", step, b, money(v))
		}
		e.auditOK(s.ID)
	}
	shop, err := e.shops.ShopByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	owner := core.Owner{Kind: core.OwnerCustomer, ID: "c:" + d.customer}
	quote := func(cart, subtotal string) core.Quote {
		t.Helper()
		q, err := e.wired.Redeemer.Quote(ctx, shop, core.QuoteRequest{Owner: owner, Currency: shop.Currency, Subtotal: decimal.RequireFromString(subtotal), CartKey: cart})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	bonus := decimal.RequireFromString("5.00")

	// 1. In the campaign: the line's credit ×2, and the bonus.
	d.paid(1, now.Add(-5*time.Hour))
	d.replay(1)
	first := lineCredit.Mul(decimal.NewFromInt(2))
	want("campaign order and its replay", first.Add(bonus))
	// 2. Below the minimum balance a checkout gets nothing.
	if q := quote("cart-1", "500.00"); !q.Amount.IsZero() || q.Hold != nil {
		t.Fatalf("quote below the minimum: %+v", q)
	}
	// 3. After the campaign, in the offer's window: plain credit; now above the minimum.
	d.paid(2, now.Add(-3*time.Hour))
	total := first.Add(bonus).Add(lineCredit)
	want("second order", total)
	if q := quote("cart-2", "500.00"); !q.Amount.Equal(total) || q.Hold == nil {
		t.Fatalf("quote above the minimum: %+v", q)
	}
	if q := quote("cart-2", "0"); !q.Amount.IsZero() || !q.Released {
		t.Fatalf("emptied cart: %+v", q)
	}
	want("hold released", total)
	// 4. The first order refunded in full: exactly its doubled credit back.
	d.refund(1, now.Add(-2*time.Hour))
	d.refund(1, now.Add(-2*time.Hour)) // redelivered
	left := total.Sub(first)
	want("campaign order refunded", left)
	var status string
	if err := e.pool.QueryRow(ctx, `SELECT status FROM second_purchase_offers WHERE shop_id = $1 AND owner_id = $2`, s.ID, owner.ID).Scan(&status); err != nil || status != "used" {
		t.Fatalf("offer %q (%v), want used", status, err)
	}

	// 5. Reminders and expiry on a moved clock.
	clock := now
	notifier := &jobs.Notifier{Shops: e.shops, Store: &postgres.NotifyStore{L: e.ledger}, Client: e.aclient, Queue: e.queue, Now: func() time.Time { return clock }, Log: e.log}
	expiry := &jobs.CreditExpiry{Shops: e.shops, Ledger: e.ledger, Now: func() time.Time { return clock }, Log: e.log}
	run := func(at time.Time) {
		t.Helper()
		clock = at
		for range 2 {
			if _, err := expiry.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := notifier.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(now.AddDate(0, 0, 31))
	run(now.AddDate(0, 0, 32))
	want("a month later", left)
	run(now.AddDate(0, 6, 2))
	want("six months later", decimal.Zero)
	count := func(topic string) int {
		t.Helper()
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE shop_id = $1 AND topic = $2`, s.ID, topic).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if r, x := count("balance.reminder"), count("credit.expired"); r != 1 || x != 1 {
		t.Fatalf("%d balance reminders and %d credit.expired notifications, want one each", r, x)
	}
	var expired decimal.Decimal
	if err := e.pool.QueryRow(ctx, `SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_transactions x ON x.shop_id = p.shop_id AND x.id = p.tx_id
WHERE p.shop_id = $1 AND x.kind = 'expire' AND p.owner_kind = 'customer'`, s.ID).Scan(&expired); err != nil {
		t.Fatal(err)
	}
	if !expired.Neg().Equal(left) {
		t.Fatalf("expired %s, want %s", expired.Neg(), left)
	}
	e.auditOK(s.ID)
}

func TestProgramsEndToEndShopify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.createShop(map[string]any{"platform": "shopify", "domain": "programs-" + randomHex(3) + ".myshopify.com", "name": "Programs", "currency": "USD"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"redemption_mode": "function"}), http.StatusOK)
	id := func(n int64) int64 { return 5700000000000 + n }
	bodies := map[int64][]byte{}
	ev := 0
	send := func(topic string, body []byte) {
		t.Helper()
		ev++
		must(t, e.shopifyWebhook(s.Domain, topic, "pe-"+strconv.Itoa(ev), body, shopifySecret), http.StatusOK)
		e.drain()
	}
	runProgramsEndToEnd(t, e, programDriver{s: s, customer: shopifyCustomer,
		paid: func(n int64, created time.Time) {
			bodies[n] = shopifyOrder(t, s.Domain, id(n), created, shopifySunglasses)
			send(shopify.TopicOrdersPaid, bodies[n])
		},
		replay: func(n int64) {
			send(shopify.TopicOrdersPaid, bodies[n])
			send(shopify.TopicOrdersUpdated, bodies[n])
		},
		refund: func(n int64, at time.Time) {
			send(shopify.TopicRefundsCreate, shopifyRefund(t, id(n), 7200000000000+n, at, shopifySunglasses))
		},
	}, "9.00") // 10 % of 89.99
}

func TestProgramsEndToEndWooCommerce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.wooShop(map[string]any{"currency": "USD"})
	created := map[int64]time.Time{}
	send := func(body []byte) {
		t.Helper()
		must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderUpdated, body, s.WebhookSecret), http.StatusOK)
		e.drain()
	}
	runProgramsEndToEnd(t, e, programDriver{s: s, customer: "7",
		paid: func(n int64, at time.Time) {
			created[n] = at
			send(wooOrder(t, int(900+n), "processing", at, at, "315"))
		},
		replay: func(n int64) { send(wooOrder(t, int(900+n), "processing", created[n], created[n], "315")) },
		refund: func(n int64, at time.Time) { send(wooOrder(t, int(900+n), "refunded", created[n], at, "315")) },
	}, "0.60") // 10 % of 6.00
}
