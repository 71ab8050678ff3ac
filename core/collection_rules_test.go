package core

import (
	"testing"

	"github.com/shopspring/decimal"
)

// TestCollectionRules: a collection rule applies to its member products
// below variant, SKU and product rules and above the default; of several
// collections an exclusion wins, then the oldest rule.
func TestCollectionRules(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	rs := NewRuleSet([]Rule{
		{ID: 1, Target: TargetDefault, Beneficiary: BeneficiaryBuyer, Mode: ModePercent, Value: d("1")},
		{ID: 2, Target: TargetCollection, TargetID: "summer", Beneficiary: BeneficiaryBuyer, Mode: ModePercent, Value: d("5"), Products: []string{"p1", "p2", "p3"}},
		{ID: 3, Target: TargetCollection, TargetID: "tea", Beneficiary: BeneficiaryBuyer, Mode: ModePercent, Value: d("7"), Products: []string{"p2", "p4"}},
		{ID: 4, Target: TargetProduct, TargetID: "p3", Beneficiary: BeneficiaryBuyer, Mode: ModeFixed, Value: d("0.5")},
		{ID: 5, Target: TargetCollection, TargetID: "gifts", Beneficiary: BeneficiaryBuyer, Mode: ModeExclude, Products: []string{"p4"}},
		{ID: 6, Target: TargetCollection, TargetID: "tea", Beneficiary: "partner1", Mode: ModePercent, Value: d("2"), Products: []string{"p2", "p4"}},
	})
	for _, tc := range []struct {
		product, ben string
		want         int64
	}{
		{"p1", BeneficiaryBuyer, 2}, // its collection
		{"p2", BeneficiaryBuyer, 2}, // two collections: the older rule
		{"p3", BeneficiaryBuyer, 4}, // a product rule is more specific
		{"p4", BeneficiaryBuyer, 5}, // an exclusion of one collection wins
		{"p4", "partner1", 5},       // ... for every beneficiary
		{"p2", "partner1", 6},       // the partner's collection rule
		{"p9", BeneficiaryBuyer, 1}, // in no collection: the default
		{"p1", "partner1", 0},       // no partner rule for it
	} {
		r, ok := rs.Resolve(OrderLine{ProductID: tc.product, VariantID: "v-" + tc.product}, tc.ben)
		if (tc.want == 0 && ok) || (tc.want != 0 && (!ok || r.ID != tc.want)) {
			t.Errorf("%s/%s: rule %d (%v), want %d", tc.product, tc.ben, r.ID, ok, tc.want)
		}
	}
	bad := Rule{Target: TargetProduct, TargetID: "1", Mode: ModeFixed, Value: d("1"), Products: []string{"2"}}
	if err := bad.Validate(); ErrorCode(err) != EINVALID {
		t.Errorf("products on a product rule: %v", err)
	}
	ok := Rule{Target: TargetCollection, TargetID: "c", Mode: ModeFixed, Value: d("1"), Products: []string{"2"}}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}
