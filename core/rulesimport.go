package core

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Importing rules from a file (CSV, adapters/rulecsv): every row is
// checked field by field, the whole file is compared with the shop's rules
// (create, update, unchanged) and nothing is stored unless every row is
// valid. The same plan is the dry-run preview and what the import does.

// FieldError is a problem with one field of one row. Code is stable (the
// pages translate it); Message is the English text.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Args are the message's values (a limit, a line number).
	Args []string `json:"args,omitempty"`
}

// Field error codes.
const (
	FieldRequired    = "required"     // the field is empty
	FieldUnknown     = "unknown"      // not one of the allowed words
	FieldNumber      = "number"       // not a number
	FieldRange       = "range"        // outside its range
	FieldNegative    = "negative"     // below zero
	FieldDecimals    = "decimals"     // too many decimals
	FieldTooLong     = "too_long"     // too many characters
	FieldNotAllowed  = "not_allowed"  // must be empty here
	FieldDuplicate   = "duplicate"    // the same rule as an earlier row
	FieldInvalidRule = "invalid_rule" // any other problem of the rule
)

// RuleRow is one row of an imported rules file: the raw values by column
// (target, target_id, title, beneficiary, mode, value) and its line.
type RuleRow struct {
	Line   int
	Values map[string]string
}

// Rule import actions.
const (
	ImportCreate    = "create"
	ImportUpdate    = "update"
	ImportUnchanged = "unchanged"
	ImportInvalid   = "invalid"
)

// RuleImportLine is what importing one row does.
type RuleImportLine struct {
	Line     int          `json:"line"`
	Action   string       `json:"action"`
	Rule     *Rule        `json:"rule,omitempty"`
	Previous *Rule        `json:"previous,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// Values are the row's values as read, for an invalid row.
	Values map[string]string `json:"values,omitempty"`
}

// RuleImportPlan is the preview of an import.
type RuleImportPlan struct {
	Lines     []RuleImportLine `json:"lines"`
	Create    int              `json:"create"`
	Update    int              `json:"update"`
	Unchanged int              `json:"unchanged"`
	Invalid   int              `json:"invalid"`
}

// OK reports whether every row is valid.
func (p RuleImportPlan) OK() bool { return p.Invalid == 0 }

// Changes are the rules the import stores (created or updated).
func (p RuleImportPlan) Changes() []Rule {
	var out []Rule
	for _, l := range p.Lines {
		if l.Action == ImportCreate || l.Action == ImportUpdate {
			out = append(out, *l.Rule)
		}
	}
	return out
}

// RuleColumns are the columns of a rules file, in the order exported.
var RuleColumns = []string{"target", "target_id", "title", "beneficiary", "mode", "value"}

// MaxImportRows bounds the rows of one import.
const MaxImportRows = 10_000

// ParseRuleRow checks one row field by field. Values may use a decimal
// comma ("2,5"). Every problem is reported, not only the first.
func ParseRuleRow(row RuleRow) (Rule, []FieldError) {
	v := func(k string) string { return strings.TrimSpace(row.Values[k]) }
	var errs []FieldError
	add := func(field, code, msg string, args ...string) {
		errs = append(errs, FieldError{Field: field, Code: code, Message: msg, Args: args})
	}
	r := Rule{Target: RuleTarget(strings.ToLower(v("target"))), TargetID: v("target_id"), Title: v("title"),
		Beneficiary: strings.ToLower(v("beneficiary")), Mode: RuleMode(strings.ToLower(v("mode")))}
	switch {
	case r.Target == "":
		add("target", FieldRequired, "target is required")
	case !validTarget(r.Target):
		add("target", FieldUnknown, "target must be variant, sku, product, collection or default")
	case r.Target == TargetDefault && r.TargetID != "":
		add("target_id", FieldNotAllowed, "the default rule has no target_id")
	case r.Target != TargetDefault && r.TargetID == "":
		add("target_id", FieldRequired, "target_id is required")
	case len(r.TargetID) > 200:
		add("target_id", FieldTooLong, "target_id is at most 200 characters", "200")
	}
	if utf8.RuneCountInString(r.Title) > MaxRuleTitle {
		add("title", FieldTooLong, fmt.Sprintf("title is at most %d characters", MaxRuleTitle), strconv.Itoa(MaxRuleTitle))
	}
	if r.Beneficiary == "" {
		r.Beneficiary = BeneficiaryBuyer
	}
	if r.Beneficiary != BeneficiaryBuyer {
		n, err := strconv.Atoi(strings.TrimPrefix(r.Beneficiary, "partner"))
		if !strings.HasPrefix(r.Beneficiary, "partner") || err != nil || n < 1 || n > MaxPartnerLevels {
			add("beneficiary", FieldUnknown, fmt.Sprintf("beneficiary must be buyer or partner1..partner%d", MaxPartnerLevels), strconv.Itoa(MaxPartnerLevels))
		}
	}
	raw := strings.ReplaceAll(v("value"), " ", "")
	if strings.Count(raw, ",") == 1 && !strings.Contains(raw, ".") {
		raw = strings.Replace(raw, ",", ".", 1)
	}
	switch r.Mode {
	case "":
		add("mode", FieldRequired, "mode is required")
	case ModeFixed, ModePercent:
		d, err := decimal.NewFromString(raw)
		switch {
		case raw == "":
			add("value", FieldRequired, "value is required")
		case err != nil || strings.ContainsAny(raw, "eE+"):
			add("value", FieldNumber, "value must be a number such as 2.5 or 2,5")
		case d.IsNegative():
			add("value", FieldNegative, "value must not be negative")
		case r.Mode == ModePercent && d.GreaterThan(decimal.NewFromInt(100)):
			add("value", FieldRange, "a percentage is between 0 and 100", "0", "100")
		case r.Mode == ModeFixed && d.Exponent() < -3:
			add("value", FieldDecimals, "a fixed amount has at most 3 decimals", "3")
		default:
			r.Value = d
		}
	case ModeExclude:
		if raw != "" {
			if d, err := decimal.NewFromString(raw); err != nil || !d.IsZero() {
				add("value", FieldNotAllowed, "an exclusion has no value")
			}
		}
	default:
		add("mode", FieldUnknown, "mode must be fixed, percent or exclude")
	}
	if len(errs) == 0 {
		if err := r.Validate(); err != nil {
			add("", FieldInvalidRule, ErrorMessage(err))
		}
	}
	return r, errs
}

func validTarget(t RuleTarget) bool {
	for _, x := range RuleTargets {
		if t == x {
			return true
		}
	}
	return false
}

// PlanRuleImport compares the rows with the shop's rules: a row whose
// (target, target_id, beneficiary) has no rule creates one, one with a
// different mode, value or title updates it, the same rule is unchanged.
// A second row for the same rule is an error. Rules the file does not
// name are kept. Collection members are not part of a file: an imported
// collection rule keeps its members (or gets them from the platform).
func PlanRuleImport(existing []Rule, rows []RuleRow) RuleImportPlan {
	have := make(map[string]Rule, len(existing))
	for _, r := range existing {
		have[ruleKey(r.Target, r.TargetID, r.Beneficiary)] = r
	}
	seen := map[string]int{}
	var p RuleImportPlan
	for _, row := range rows {
		r, errs := ParseRuleRow(row)
		l := RuleImportLine{Line: row.Line}
		k := ruleKey(r.Target, r.TargetID, r.Beneficiary)
		if len(errs) == 0 {
			if first, dup := seen[k]; dup {
				errs = append(errs, FieldError{Field: "target_id", Code: FieldDuplicate, Message: fmt.Sprintf("the same rule as line %d", first), Args: []string{strconv.Itoa(first)}})
			} else {
				seen[k] = row.Line
			}
		}
		if len(errs) > 0 {
			l.Action, l.Errors, l.Values = ImportInvalid, errs, row.Values
			p.Invalid++
			p.Lines = append(p.Lines, l)
			continue
		}
		r.Products = nil
		rule := r
		l.Rule = &rule
		old, ok := have[k]
		switch {
		case !ok:
			l.Action = ImportCreate
			p.Create++
		case old.Mode == r.Mode && old.Value.Equal(r.Value) && (r.Title == "" || r.Title == old.Title):
			l.Action = ImportUnchanged
			p.Unchanged++
			old.Products = nil
			l.Previous = &old
		default:
			l.Action = ImportUpdate
			p.Update++
			old.Products = nil
			l.Previous = &old
		}
		p.Lines = append(p.Lines, l)
	}
	return p
}
