package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// The credit an order redeemed is recorded with its net and tax parts in
// order_redemptions (for the accounting export), replaced by each newer
// snapshot, and the ledger books exactly its amount.
func TestRedemptionTaxSplitRecorded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	e.seed(t, buyer, "50.00")
	t0 := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	yes := true
	o := core.Order{Platform: core.PlatformShopify, OrderID: "7001", OrderNumber: "#7001", Currency: "EUR", Paid: true,
		Customer: core.CustomerRef{PlatformID: "77"}, CreatedAt: t0, UpdatedAt: t0,
		Lines: []core.OrderLine{{LineID: "1", ProductID: "99", SKU: "GIFT", Quantity: 1, NetTotal: dec("100.00"), Tax: dec("19.00")}},
		Redemptions: []core.Redemption{
			{Kind: core.RedemptionDiscount, Code: "Store credit", Amount: dec("11.90"), Net: decimal.NewNullDecimal(dec("10.00")),
				Tax: decimal.NewNullDecimal(dec("1.90")), TaxSource: core.TaxComputed, PricesIncludeTax: &yes},
			{Kind: core.RedemptionVoucher, Code: "CBV-UNKNOWN", Amount: dec("5.00")},
		}}
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	type row struct {
		kind, code, src string
		amount          decimal.Decimal
		net, tax        decimal.NullDecimal
	}
	rows := func() map[string]row {
		t.Helper()
		rs, err := e.pool.Query(ctx, `SELECT kind, code, tax_source, amount, net, tax FROM order_redemptions WHERE shop_id = $1 AND order_id = '7001'`, e.shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		out := map[string]row{}
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.kind, &r.code, &r.src, &r.amount, &r.net, &r.tax); err != nil {
				t.Fatal(err)
			}
			out[r.kind] = r
		}
		return out
	}
	got := rows()
	d := got["discount"]
	if len(got) != 2 || d.code != "Store credit" || d.src != "computed" || !d.amount.Equal(dec("11.90")) || !d.net.Decimal.Equal(dec("10.00")) || !d.tax.Decimal.Equal(dec("1.90")) {
		t.Fatalf("rows %+v", got)
	}
	if v := got["voucher"]; v.src != "unknown" || v.net.Valid || v.tax.Valid || !v.amount.Equal(dec("5.00")) {
		t.Fatalf("voucher row %+v", v)
	}
	// The ledger took exactly the discount's amount (no hold: a redeem entry).
	if b := e.balance(t, buyer); !b.Equal(dec("38.10")) {
		t.Fatalf("balance %s, want 38.10", b)
	}
	// A replay changes nothing; a newer snapshot without the voucher drops it.
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	o.UpdatedAt = t0.Add(time.Hour)
	o.Redemptions = o.Redemptions[:1]
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	if got := rows(); len(got) != 1 || got["discount"].amount.String() != "11.9" {
		t.Fatalf("after the newer snapshot: %+v", got)
	}
	// An older snapshot (stale) does not bring the voucher back.
	o.UpdatedAt = t0.Add(-time.Hour)
	o.Redemptions = append(o.Redemptions, core.Redemption{Kind: core.RedemptionVoucher, Code: "CBV-OLD", Amount: dec("1.00")})
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	if got := rows(); len(got) != 1 {
		t.Fatalf("after a stale snapshot: %+v", got)
	}
	if b := e.balance(t, buyer); !b.Equal(dec("38.10")) {
		t.Fatalf("balance %s, want 38.10", b)
	}
}
