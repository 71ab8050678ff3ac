package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/wire"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

// TestStoreCreditPartnerEarnings (issue 9: partners spend like customers,
// also as Shopify store credit): a partner linked to customer 501 earns
// level-1 credit from a referred order; in store credit mode it is pushed
// to the partner's Shopify store credit (against the fake shop, which
// checks every request against the 2026-04 schema), the partner pays part
// of an order with it and the ledger, the mirror and Shopify agree.
func TestStoreCreditPartnerEarnings(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, 6)
	base, a := newWiredShopifyEnv(t, pool)
	ctx := context.Background()
	shop := base.createShop(t, core.ShopSettings{PartnerLevels: 1}, core.ShopSecrets{AccessToken: base.fake.AccessToken()})
	if shop.Settings.Mode() != core.RedemptionStoreCredit {
		t.Fatalf("mode %s", shop.Settings.Mode())
	}
	referPartnerOrder(t, base, a, shop, "8001")
	partner := core.Owner{Kind: core.OwnerCustomer, ID: "c:501"}
	gid := "gid://shopify/Customer/501"
	mirrors := postgres.StoreCreditStore{L: base.ledger}
	h := *a.StoreCredit
	h.Notify = nil
	want := func(step, amount string) {
		t.Helper()
		b, err := base.ledger.Balance(ctx, shop.ID, "EUR", partner)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mirrors.Mirror(ctx, shop.ID, partner.ID, "EUR")
		if err != nil {
			t.Fatal(err)
		}
		d := decimal.RequireFromString(amount)
		if s := base.fake.StoreCredit(gid, "EUR"); !b.Available.Equal(d) || !s.Equal(d) || !m.Mirrored.Equal(d) {
			t.Fatalf("%s: ledger %s shopify %s mirror %s, want %s", step, b.Available, s, m.Mirrored, amount)
		}
		r, err := postgres.Audit(ctx, pool, shop.ID)
		if err != nil || !r.OK() {
			t.Fatalf("%s: audit: %v\n%s", step, err, r)
		}
	}
	if err := h.Sync(ctx, shop.ID, partner.ID); err != nil {
		t.Fatal(err)
	}
	want("the partner's level-1 credit pushed", "5.00")
	base.fake.PayWithStoreCredit("gid://shopify/Order/8002", gid, "EUR", decimal.RequireFromString("3.00"))
	booker := &jobs.StoreCreditBooker{Admin: base.clients, Book: mirrors}
	for range 2 {
		if err := booker.BookOrder(ctx, shop, "8002", "#8002"); err != nil {
			t.Fatal(err)
		}
	}
	want("the partner paid with it", "2.00")
}

// TestVoucherFromPartnerCredit (issue 9: partners spend like customers,
// also with vouchers): in the codes mode a partner turns level-1 credit
// from a referred order into a voucher code on the fake Shopify (checked
// against the 2026-04 schema), restricted to the partner's customer; a
// repeated request with the same key issues nothing more.
func TestVoucherFromPartnerCredit(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t, 6)
	base, a := newWiredShopifyEnv(t, pool)
	ctx := context.Background()
	shop := base.createShop(t, core.ShopSettings{PartnerLevels: 1, RedemptionMode: core.RedemptionCodes}, core.ShopSecrets{AccessToken: base.fake.AccessToken()})
	referPartnerOrder(t, base, a, shop, "8101")
	partner := core.Owner{Kind: core.OwnerCustomer, ID: "c:501"}
	var first core.Voucher
	for i := range 2 {
		v, err := a.Vouchers.Issue(ctx, shop, partner, "EUR", decimal.RequireFromString("4.00"), "partner-voucher-1")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = v
		} else if v.Code != first.Code {
			t.Fatalf("a repeated request issued %s after %s", v.Code, first.Code)
		}
	}
	codes := base.fake.Codes()
	if len(codes) != 1 || !strings.EqualFold(codes[0].Code, first.Code) || len(codes[0].CustomerGIDs) != 1 || codes[0].CustomerGIDs[0] != "gid://shopify/Customer/501" ||
		!decimal.RequireFromString(codes[0].Amount).Equal(decimal.RequireFromString("4.00")) {
		t.Fatalf("codes on Shopify %+v, want one of 4.00 for customer 501 (%s)", codes, first.Code)
	}
	b, err := base.ledger.Balance(ctx, shop.ID, "EUR", partner)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Available.Equal(decimal.RequireFromString("1.00")) {
		t.Fatalf("the partner after the voucher: %+v, want 1.00 left of 5.00", b)
	}
	r, err := postgres.Audit(ctx, pool, shop.ID)
	if err != nil || !r.OK() {
		t.Fatalf("audit: %v\n%s", err, r)
	}
}

// referPartnerOrder gives the shop a 10 % buyer and a 5 % level-1 rule and
// partner c-501 (customer 501, code PONE), then applies a paid 100.00
// order of customer 42 referred with that code.
func referPartnerOrder(t *testing.T, base *shopifyEnv, a *wire.App, shop core.Shop, orderID string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range []core.Rule{
		{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: decimal.RequireFromString("10")},
		{Target: core.TargetDefault, Beneficiary: core.PartnerLevel(1), Mode: core.ModePercent, Value: decimal.RequireFromString("5")},
	} {
		if _, err := base.dir.PutRule(ctx, shop.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := (postgres.Affiliates{Dir: base.dir, Ledger: base.ledger}).SavePartner(ctx, shop, core.Partner{ID: "c-501", CustomerID: "501", Code: "PONE"}, "test"); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	o := core.Order{Platform: core.PlatformShopify, OrderID: orderID, OrderNumber: "#" + orderID, Customer: core.CustomerRef{PlatformID: "42", Email: "c42@example.com"},
		Currency: "EUR", Status: "paid", Paid: true, PartnerRef: "PONE", UpdatedAt: at, CreatedAt: at,
		Lines: []core.OrderLine{{LineID: "1", ProductID: "7", Quantity: 1, NetTotal: decimal.RequireFromString("100.00")}}}
	if _, err := a.Earner.ApplyOrder(ctx, shop, o, nil); err != nil {
		t.Fatal(err)
	}
}
