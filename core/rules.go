package core

import (
	"fmt"
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
	TargetDefault RuleTarget = "default"
)

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
	case TargetVariant, TargetSKU, TargetProduct:
		if strings.TrimSpace(r.TargetID) == "" || len(r.TargetID) > 200 {
			return Errorf(EINVALID, "a %s rule needs a target_id", r.Target)
		}
	default:
		return Errorf(EINVALID, "unknown rule target %q (variant, sku, product, default)", r.Target)
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
}

// NewRuleSet indexes rules.
func NewRuleSet(rules []Rule) RuleSet {
	rs := RuleSet{byKey: make(map[string]Rule, len(rules))}
	for _, r := range rules {
		rs.byKey[ruleKey(r.Target, r.TargetID, r.Beneficiary)] = r
	}
	return rs
}

func ruleKey(t RuleTarget, id, ben string) string { return string(t) + "\x00" + id + "\x00" + ben }

// Resolve returns the rule that applies to a line for a beneficiary: the
// most specific target (variant, SKU, product, default) that has either an
// exclusion (for any beneficiary) or a rule for this beneficiary.
func (rs RuleSet) Resolve(l OrderLine, beneficiary string) (Rule, bool) {
	levels := []struct {
		t  RuleTarget
		id string
	}{{TargetVariant, l.VariantID}, {TargetSKU, l.SKU}, {TargetProduct, l.ProductID}, {TargetDefault, ""}}
	for _, lv := range levels {
		if lv.t != TargetDefault && lv.id == "" {
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
