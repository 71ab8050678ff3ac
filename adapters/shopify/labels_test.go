package shopify_test

import (
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

// TestCheckoutLabelRecognition: a shop names credit at checkout as it
// likes, per language, and renames it; orders are recognised by the
// labels creditbridge issued for the shop (Shopify's order payload names
// an automatic app discount by its title only), so older orders with an
// older label, and orders from before labels were configurable ("Store
// credit"), still count. A merchant's own automatic discount, whose
// title creditbridge never issued, is not credit.
func TestCheckoutLabelRecognition(t *testing.T) {
	t.Parallel()
	// The real dev-store order: its automatic discount (5.00 on line 1) is
	// titled "測試discount_type-1", the merchant's own discount.
	real := sharedfixtures.Read(t, "fixtures/shopify/orders-create.discounts.real-devstore.json")
	shop := core.Shop{Settings: core.ShopSettings{DiscountLabels: map[string]string{"de": "Treuebonus", "en": "Loyalty credit"}}}
	o, err := shopify.ParseOrder(real, shopify.Options(shop))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range o.Redemptions {
		if r.Kind == core.RedemptionDiscount {
			t.Fatalf("the merchant's own automatic discount was taken for credit: %+v", r)
		}
	}

	// The same title issued by creditbridge earlier (the shop has renamed
	// its label since): recognised, with its allocations.
	shop.IssuedLabels = []string{"測試discount_type-1", "Treuebonus", "Loyalty credit"}
	o, err = shopify.ParseOrder(real, shopify.Options(shop))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Redemptions) != 1 || o.Redemptions[0].Kind != core.RedemptionDiscount || o.Redemptions[0].Code != "測試discount_type-1" {
		t.Fatalf("redemptions = %+v, want the renamed label's discount", o.Redemptions)
	}
	wantDecimal(t, "credit under the old label", o.Redemptions[0].Amount, "5.00")

	// An order from before labels ("Store credit") in a shop that never
	// used that label: still recognised.
	legacy := readTestdata(t, "orders-create.bigids-credit.json")
	if !strings.Contains(string(legacy), `"Store credit"`) {
		t.Fatal("testdata order lost its legacy title")
	}
	o, err = shopify.ParseOrder(legacy, shopify.Options(shop))
	if err != nil {
		t.Fatal(err)
	}
	if d := o.Redemptions[0]; d.Kind != core.RedemptionDiscount || d.Code != "Store credit" {
		t.Fatalf("legacy redemption = %+v", d)
	}
	wantDecimal(t, "legacy credit", o.Redemptions[0].Amount, "10.00")

	// The current German label on a new order: recognised; a manual
	// discount or discount code of the same title is not.
	renamed := strings.ReplaceAll(string(legacy), `"Store credit"`, `"Treuebonus"`)
	o, err = shopify.ParseOrder([]byte(renamed), shopify.Options(shop))
	if err != nil {
		t.Fatal(err)
	}
	if d := o.Redemptions[0]; d.Kind != core.RedemptionDiscount || d.Code != "Treuebonus" {
		t.Fatalf("renamed redemption = %+v", d)
	}
	wantDecimal(t, "credit under the new label", o.Redemptions[0].Amount, "10.00")
	manual := strings.Replace(renamed, `"type": "automatic"`, `"type": "manual"`, 1)
	if manual == renamed {
		manual = strings.Replace(renamed, `"type":"automatic"`, `"type":"manual"`, 1)
	}
	if manual == renamed {
		t.Fatal("testdata order has no automatic application to turn manual")
	}
	o, err = shopify.ParseOrder([]byte(manual), shopify.Options(shop))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range o.Redemptions {
		if r.Kind == core.RedemptionDiscount {
			t.Fatalf("a manual discount titled like the label was taken for credit: %+v", r)
		}
	}
}

// TestCheckoutLabelsPerLanguage: the label per checkout language, the
// shop-wide label, then the defaults.
func TestCheckoutLabelsPerLanguage(t *testing.T) {
	t.Parallel()
	var s core.ShopSettings
	if s.CheckoutLabel("de-DE") != "Guthaben" || s.CheckoutLabel("en") != "Store credit" || s.CheckoutLabel("fr") != "Store credit" {
		t.Errorf("defaults: %q %q %q", s.CheckoutLabel("de-DE"), s.CheckoutLabel("en"), s.CheckoutLabel("fr"))
	}
	s.DiscountLabel = "Bonus"
	s.DiscountLabels = map[string]string{"de": "Treuebonus"}
	if s.CheckoutLabel("de_AT") != "Treuebonus" || s.CheckoutLabel("en-GB") != "Bonus" {
		t.Errorf("configured: %q %q", s.CheckoutLabel("de_AT"), s.CheckoutLabel("en-GB"))
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []map[string]string{{"fr": "Crédit"}, {"de": "<b>x</b>"}, {"en": strings.Repeat("x", 61)}} {
		s.DiscountLabels = bad
		if err := s.Validate(); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("labels %v: err %v, want EINVALID", bad, err)
		}
	}
}
