package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func TestStoreCreditAccount(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	ctx := context.Background()
	cust := "gid://shopify/Customer/7001"
	if a, found, err := b.client.StoreCreditBalance(ctx, cust, "EUR"); err != nil || found || !a.Balance.IsZero() {
		t.Fatalf("no account yet: %+v %t %v", a, found, err)
	}
	exp := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	after, err := b.client.CreditStoreCredit(ctx, cust, decimal.RequireFromString("12.50"), "EUR", exp)
	if err != nil || !after.Equal(decimal.RequireFromString("12.5")) {
		t.Fatalf("credit: %s %v", after, err)
	}
	if h := b.srv.StoreCreditHistory(cust, "EUR"); len(h) != 1 || h[0].ExpiresAt != exp.Format(time.RFC3339) {
		t.Fatalf("expiry not carried: %+v", h)
	}
	a, found, err := b.client.StoreCreditBalance(ctx, cust, "EUR")
	if err != nil || !found || !a.Balance.Equal(decimal.RequireFromString("12.50")) || a.ID == "" {
		t.Fatalf("balance: %+v %t %v", a, found, err)
	}
	if after, err = b.client.DebitStoreCredit(ctx, cust, decimal.RequireFromString("2.50"), "EUR"); err != nil || !after.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("debit: %s %v", after, err)
	}
	var ue *admin.UserErrors
	if _, err = b.client.DebitStoreCredit(ctx, cust, decimal.RequireFromString("10.01"), "EUR"); !errors.As(err, &ue) || ue.Errors[0].Code != "INSUFFICIENT_FUNDS" ||
		core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("overdebit: %v", err)
	}
	for _, bad := range []string{"0", "-1", "1.001"} {
		if _, err := b.client.CreditStoreCredit(ctx, cust, decimal.RequireFromString(bad), "EUR", time.Time{}); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("credit %s: %v, want EINVALID before sending", bad, err)
		}
	}
	if !b.srv.StoreCredit(cust, "EUR").Equal(decimal.NewFromInt(10)) {
		t.Fatalf("fake balance %s", b.srv.StoreCredit(cust, "EUR"))
	}
}

// TestOrderStoreCredit sums an order's store credit transactions the way
// the refund-to-store-credit docs example shows them: gateway
// shopify_store_credit, kind SALE when spent and REFUND when given back.
func TestOrderStoreCredit(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	ctx := context.Background()
	cust, order := "gid://shopify/Customer/7002", "gid://shopify/Order/9001"
	b.srv.AdjustStoreCredit(cust, "EUR", decimal.NewFromInt(30))
	b.srv.PayWithStoreCredit(order, cust, "EUR", decimal.RequireFromString("20.00"))
	b.srv.AddOrderTransaction(order, cust, "EUR", shopifyfake.OrderTransaction{Gateway: "bogus", Kind: "SALE", Status: "SUCCESS", Amount: decimal.NewFromInt(50)})
	b.srv.AddOrderTransaction(order, cust, "EUR", shopifyfake.OrderTransaction{Gateway: "shopify_store_credit", Kind: "SALE", Status: "FAILURE", Amount: decimal.NewFromInt(5)})
	b.srv.RefundToStoreCredit(order, cust, "EUR", decimal.RequireFromString("10.00"))
	got, err := b.client.OrderStoreCredit(ctx, order, "EUR")
	if err != nil || got.CustomerGID != cust || !got.Spent.Equal(decimal.NewFromInt(20)) || !got.Refunded.Equal(decimal.NewFromInt(10)) {
		t.Fatalf("OrderStoreCredit = %+v, %v", got, err)
	}
	if _, err := b.client.OrderStoreCredit(ctx, "gid://shopify/Order/404", "EUR"); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("unknown order: %v", err)
	}
}
