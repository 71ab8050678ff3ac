package admin_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestVoucherIssuerLifecycle drives the voucher issuer against the
// schema-validating fake: a single-use code bound to the customer is
// created, its use is seen, and an unused one is deactivated.
func TestVoucherIssuerLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	ctx := context.Background()
	iss := admin.VoucherIssuer{Client: func(context.Context, core.Shop) (*admin.Client, error) { return b.client, nil }}
	shop := core.Shop{ID: 1, Platform: core.PlatformShopify, Domain: b.srv.ShopDomain(), Currency: "EUR"}
	v := core.Voucher{ID: 5, Code: "cbv-k7q2m9x4pa", Currency: "EUR", Owner: core.Owner{Kind: core.OwnerCustomer, ID: "c:7001234567890"},
		Amount: decimal.RequireFromString("12.5"), ExpiresAt: time.Now().Add(90 * 24 * time.Hour)}
	ref, err := iss.CreateCode(ctx, shop, v, "")
	if err != nil || ref == "" {
		t.Fatalf("create: %q %v", ref, err)
	}
	codes := b.srv.Codes()
	if len(codes) != 1 {
		t.Fatalf("codes: %+v", codes)
	}
	c := codes[0]
	if c.Code != "CBV-K7Q2M9X4PA" || c.Amount != "12.50" || c.UsageLimit != 1 || !c.AppliesOncePerCustomer ||
		len(c.CustomerGIDs) != 1 || c.CustomerGIDs[0] != "gid://shopify/Customer/7001234567890" || c.AllCustomers {
		t.Fatalf("code on the platform: %+v", c)
	}
	v.PlatformRef = ref
	if used, err := iss.CodeUsed(ctx, shop, v); err != nil || used {
		t.Fatalf("fresh code used=%v err=%v", used, err)
	}
	b.srv.MarkCodeUsed(c.Code)
	if used, err := iss.CodeUsed(ctx, shop, v); err != nil || !used {
		t.Fatalf("used code used=%v err=%v", used, err)
	}
	if err := iss.DeleteCode(ctx, shop, v); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	if st := b.srv.Codes()[0].Status; st == "ACTIVE" {
		t.Fatalf("code still %s after deactivation", st)
	}
}
