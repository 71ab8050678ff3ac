package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// TestCollectionRuleEarns: a collection rule stored with its products
// makes a member product earn its rate (the mug, product 11, at 10 %
// instead of the default 5 %); replacing the members moves a later order
// back to the default, and the first order keeps its frozen rate.
func TestCollectionRuleEarns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	r, err := e.dir.PutRule(ctx, e.shop.ID, core.Rule{Target: core.TargetCollection, TargetID: "841564295", Title: "Sommertee",
		Mode: core.ModePercent, Value: dec("10"), Products: []string{"11", "12"}})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := e.dir.Rules(ctx, e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range rules {
		if x.ID == r.ID && (len(x.Products) != 2 || x.Products[0] != "11") {
			t.Fatalf("stored collection rule = %+v", x)
		}
	}
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	o := order(t0, true, false)
	o.PartnerRef = ""
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	// shirt: SKU rule 2.50 x 3 = 7.50; mug: collection 10 % of 19.99 = 2.00; gift excluded.
	if got := e.balance(t, buyer); !got.Equal(dec("9.50")) {
		t.Fatalf("buyer has %s, want 9.50", got)
	}
	// Product 11 left the collection; the unchanged rule keeps its members
	// when saved without products.
	if err := e.dir.SetCollectionProducts(ctx, e.shop.ID, "841564295", []string{"12"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.PutRule(ctx, e.shop.ID, core.Rule{Target: core.TargetCollection, TargetID: "841564295", Mode: core.ModePercent, Value: dec("10")}); err != nil {
		t.Fatal(err)
	}
	rules, _ = e.dir.Rules(ctx, e.shop.ID)
	for _, x := range rules {
		if x.Target == core.TargetCollection && (len(x.Products) != 1 || x.Products[0] != "12" || x.Title != "Sommertee") {
			t.Fatalf("collection rule after refresh = %+v", x)
		}
	}
	o2 := order(t0, true, false)
	o2.OrderID, o2.PartnerRef = "5002", ""
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o2, nil); err != nil {
		t.Fatal(err)
	}
	// + shirt 7.50 + mug at the default 5 % of 19.99 = 1.00.
	if got := e.balance(t, buyer); !got.Equal(dec("18.00")) {
		t.Fatalf("buyer has %s, want 18.00", got)
	}
	// The first order's frozen rate stays: replaying it changes nothing.
	if _, err := e.earner.ApplyOrder(ctx, e.shop, o, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.balance(t, buyer); !got.Equal(dec("18.00")) {
		t.Fatalf("after replay buyer has %s, want 18.00", got)
	}
}
