package postgres_test

import (
	"context"
	"slices"
	"testing"
)

// TestIssuedCheckoutLabels: every checkout label a shop's settings ever
// showed stays recorded after a rename (UpdateSettings and UpdateShop),
// so orders naming credit by an older label are still recognised.
func TestIssuedCheckoutLabels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEarnEnv(t)
	s, err := e.shops.ShopByID(ctx, e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s.IssuedLabels, "Guthaben") || !slices.Contains(s.IssuedLabels, "Store credit") {
		t.Fatalf("a new shop's labels = %v, want the defaults", s.IssuedLabels)
	}
	s.Settings.DiscountLabels = map[string]string{"de": "Treuebonus", "en": "Loyalty credit"}
	if err := e.shops.UpdateSettings(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Settings.DiscountLabels = map[string]string{"de": "Bonus"}
	s.Settings.DiscountLabel = "Rewards"
	if err := e.shops.UpdateShop(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := e.shops.ShopByID(ctx, e.shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"Guthaben", "Store credit", "Treuebonus", "Loyalty credit", "Bonus", "Rewards"} {
		if !slices.Contains(got.IssuedLabels, l) {
			t.Errorf("issued labels %v lack %q", got.IssuedLabels, l)
		}
	}
	if n := len(got.IssuedLabels); n != 6 {
		t.Errorf("issued labels %v: %d, want 6 without duplicates", got.IssuedLabels, n)
	}
	if rl := got.RecognisedLabels(); !slices.Contains(rl, "Treuebonus") || !slices.Contains(rl, "Store credit") {
		t.Errorf("recognised labels %v", rl)
	}
}
