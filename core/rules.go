package core

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// RuleTarget says what a credit rule applies to.
type RuleTarget string

// Rule targets, from most to least specific.
const (
	TargetVariant RuleTarget = "variant"
	TargetSKU     RuleTarget = "sku"
	TargetProduct RuleTarget = "product"
	// TargetCollection is a Shopify collection or a WooCommerce product
	// category (TargetID is its id); Rule.Products are its members.
	TargetCollection RuleTarget = "collection"
	TargetDefault    RuleTarget = "default"
)

// RuleTargets are the rule targets, from most to least specific.
var RuleTargets = []RuleTarget{TargetVariant, TargetSKU, TargetProduct, TargetCollection, TargetDefault}

// MaxCollectionProducts bounds the members of one collection rule.
const MaxCollectionProducts = 50_000

// RuleMode is how a rule computes credit.
type RuleMode string

// Rule modes.
const (
	ModeFixed   RuleMode = "fixed"   // Value per unit, in the order currency
	ModePercent RuleMode = "percent" // Value percent of the line's net price
	ModeExclude RuleMode = "exclude" // the target earns nothing, for every beneficiary
)

// BeneficiaryBuyer is the buyer; partners up the sponsor chain are
// "partner1" (the referring partner), "partner2" (its sponsor), ...
const BeneficiaryBuyer = "buyer"

// MaxPartnerLevels bounds the sponsor chain walked for one sale.
const MaxPartnerLevels = 5

// PartnerLevel returns the beneficiary name of sponsor level n (1-based).
func PartnerLevel(n int) string { return "partner" + strconv.Itoa(n) }

// Rule maps an article to the credit it earns.
type Rule struct {
	ID          int64           `json:"id"`
	Target      RuleTarget      `json:"target"`
	TargetID    string          `json:"target_id"` // product id, variant id or SKU; empty for default
	Beneficiary string          `json:"beneficiary"`
	Mode        RuleMode        `json:"mode"`
	Value       decimal.Decimal `json:"value"`
	// Title is the product or variant name shown to merchants (display
	// only; rules match by TargetID).
	Title string `json:"title,omitempty"`
	// Products are the product ids of a collection rule's collection (as
	// last read from the platform); a line of one of them earns by the
	// rule when no variant, SKU or product rule applies. nil on other
	// rules, and on a collection rule whose members are left unchanged.
	Products []string `json:"products,omitempty"`
}

// MaxRuleTitle bounds Rule.Title (in characters).
const MaxRuleTitle = 255

// Validate checks a rule.
func (r *Rule) Validate() error {
	switch r.Target {
	case TargetDefault:
		if r.TargetID != "" {
			return Errorf(EINVALID, "the default rule has no target_id")
		}
	case TargetVariant, TargetSKU, TargetProduct, TargetCollection:
		if strings.TrimSpace(r.TargetID) == "" || len(r.TargetID) > 200 {
			return Errorf(EINVALID, "a %s rule needs a target_id", r.Target)
		}
	default:
		return Errorf(EINVALID, "unknown rule target %q (variant, sku, product, collection, default)", r.Target)
	}
	if r.Products != nil && r.Target != TargetCollection {
		return Errorf(EINVALID, "only a collection rule has products")
	}
	if len(r.Products) > MaxCollectionProducts {
		return Errorf(EINVALID, "a collection rule has at most %d products", MaxCollectionProducts)
	}
	for _, p := range r.Products {
		if strings.TrimSpace(p) == "" || len(p) > 200 {
			return Errorf(EINVALID, "products must be product ids")
		}
	}
	if r.Beneficiary == "" {
		r.Beneficiary = BeneficiaryBuyer
	}
	if r.Beneficiary != BeneficiaryBuyer {
		n, err := strconv.Atoi(strings.TrimPrefix(r.Beneficiary, "partner"))
		if !strings.HasPrefix(r.Beneficiary, "partner") || err != nil || n < 1 || n > MaxPartnerLevels {
			return Errorf(EINVALID, "beneficiary must be buyer or partner1..partner%d", MaxPartnerLevels)
		}
	}
	r.Title = strings.TrimSpace(r.Title)
	if utf8.RuneCountInString(r.Title) > MaxRuleTitle {
		return Errorf(EINVALID, "title must be at most %d characters", MaxRuleTitle)
	}
	switch r.Mode {
	case ModeFixed:
		if r.Value.IsNegative() || r.Value.Exponent() < -3 {
			return Errorf(EINVALID, "fixed amount must be >= 0 with at most 3 decimals")
		}
	case ModePercent:
		if r.Value.IsNegative() || r.Value.GreaterThan(decimal.NewFromInt(100)) {
			return Errorf(EINVALID, "percentage must be between 0 and 100")
		}
	case ModeExclude:
		r.Value = decimal.Zero
	default:
		return Errorf(EINVALID, "unknown rule mode %q (fixed, percent, exclude)", r.Mode)
	}
	return nil
}

// Describe renders the rule for statements, e.g. "sku:ABC 5%".
func (r Rule) Describe() string {
	t := string(r.Target)
	if r.TargetID != "" {
		t += ":" + r.TargetID
	}
	switch r.Mode {
	case ModePercent:
		return fmt.Sprintf("%s %s%%", t, r.Value.String())
	case ModeFixed:
		return fmt.Sprintf("%s %s/unit", t, r.Value.String())
	}
	return t + " excluded"
}

// RuleSet is a shop's rules, indexed for resolution.
type RuleSet struct {
	byKey map[string]Rule
	// byProduct lists the collection rules of each member product, oldest
	// rule (lowest id) first.
	byProduct map[string][]Rule
}

// NewRuleSet indexes rules.
func NewRuleSet(rules []Rule) RuleSet {
	rs := RuleSet{byKey: make(map[string]Rule, len(rules))}
	for _, r := range rules {
		rs.byKey[ruleKey(r.Target, r.TargetID, r.Beneficiary)] = r
		if r.Target == TargetCollection {
			if rs.byProduct == nil {
				rs.byProduct = map[string][]Rule{}
			}
			for _, p := range r.Products {
				rs.byProduct[p] = append(rs.byProduct[p], r)
			}
		}
	}
	for _, l := range rs.byProduct {
		slices.SortStableFunc(l, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
	}
	return rs
}

// collectionRule resolves the collection level for a product: an
// exclusion of any of its collections (for any beneficiary) wins, else the
// oldest collection rule for the beneficiary.
func (rs RuleSet) collectionRule(productID, beneficiary string) (Rule, bool) {
	if productID == "" {
		return Rule{}, false
	}
	cands := rs.byProduct[productID]
	for _, r := range cands {
		if r.Mode == ModeExclude && (r.Beneficiary == beneficiary || r.Beneficiary == BeneficiaryBuyer) {
			return r, true
		}
	}
	for _, r := range cands {
		if r.Beneficiary == beneficiary {
			return r, true
		}
	}
	return Rule{}, false
}

func ruleKey(t RuleTarget, id, ben string) string { return string(t) + "\x00" + id + "\x00" + ben }

// Resolve returns the rule that applies to a line for a beneficiary: the
// most specific target (variant, SKU, product, collection, default) that
// has either an exclusion (for any beneficiary) or a rule for this
// beneficiary. Of a product's collections, an exclusion wins, then the
// oldest rule.
func (rs RuleSet) Resolve(l OrderLine, beneficiary string) (Rule, bool) {
	levels := []struct {
		t  RuleTarget
		id string
	}{{TargetVariant, l.VariantID}, {TargetSKU, l.SKU}, {TargetProduct, l.ProductID}, {TargetCollection, l.ProductID}, {TargetDefault, ""}}
	for _, lv := range levels {
		if lv.t != TargetDefault && lv.id == "" {
			continue
		}
		if lv.t == TargetCollection {
			if r, ok := rs.collectionRule(lv.id, beneficiary); ok {
				return r, true
			}
			continue
		}
		for _, ben := range []string{beneficiary, BeneficiaryBuyer} {
			if r, ok := rs.byKey[ruleKey(lv.t, lv.id, ben)]; ok && r.Mode == ModeExclude {
				return r, true
			}
		}
		if r, ok := rs.byKey[ruleKey(lv.t, lv.id, beneficiary)]; ok {
			return r, true
		}
	}
	return Rule{}, false
}

// UnitRate is the credit per unit a rule gives for a line, unrounded
// (rounding happens once per line and beneficiary, see RoundCredit).
func (r Rule) UnitRate(l OrderLine) decimal.Decimal {
	switch r.Mode {
	case ModeFixed:
		return r.Value
	case ModePercent:
		return l.NetUnitPrice().Mul(r.Value).DivRound(decimal.NewFromInt(100), 12)
	}
	return decimal.Zero
}

// LineCredit is the exact, unrounded credit a rule gives for all units of
// a line: percent × base / 100 (base is the line's earning base, net or
// gross) or the fixed amount × units. Nothing is divided by the quantity,
// so nothing is cut short.
func (r Rule) LineCredit(l OrderLine, base decimal.Decimal) decimal.Decimal {
	switch r.Mode {
	case ModeFixed:
		return r.Value.Mul(decimal.NewFromInt(l.Quantity))
	case ModePercent:
		// Division by 100 is exact in decimal.
		return base.Mul(r.Value).Shift(-2)
	}
	return decimal.Zero
}
