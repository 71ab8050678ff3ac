package core

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// FrozenRate is the credit rule frozen for one (order line, beneficiary)
// the first time the line earned. Later rule changes never touch it, so a
// refund reverses exactly what was earned.
//
// Rates frozen since exact rounding carry the line's credit for all its
// ordered units (Full, after caps) and that quantity: the credit for n
// units is round(Full × n / Quantity), computed exactly and rounded once
// with the frozen Rounding mode. Rates frozen before carry only UnitRate
// (net ÷ quantity cut to 12 decimals) and keep computing
// round(UnitRate × n), so replaying an old order never books a cent of
// difference.
type FrozenRate struct {
	LineID      string          `json:"line_id"`
	Beneficiary string          `json:"beneficiary"`
	Owner       Owner           `json:"owner"`
	Rule        string          `json:"rule"`      // description of the rule
	UnitRate    decimal.Decimal `json:"unit_rate"` // credit per unit, unrounded (informational on exact rates)
	ProductID   string          `json:"product_id,omitempty"`
	VariantID   string          `json:"variant_id,omitempty"`
	SKU         string          `json:"sku,omitempty"`
	Product     string          `json:"product,omitempty"`

	// Exact rates (zero Quantity: a rate frozen before exact rounding).
	Mode     RuleMode            `json:"mode,omitempty"`     // the rule's mode
	Value    decimal.NullDecimal `json:"value,omitzero"`     // the rule's value (percent or amount per unit)
	Base     EarnBase            `json:"base,omitempty"`     // the price the percentage applied to
	LineNet  decimal.NullDecimal `json:"line_net,omitzero"`  // the line's net total when frozen (tax excluded)
	LineBase decimal.NullDecimal `json:"line_base,omitzero"` // the line total the percentage applied to (net or gross)
	Quantity int64               `json:"quantity,omitempty"` // units ordered when frozen
	Full     decimal.NullDecimal `json:"full,omitzero"`      // exact credit for Quantity units, after caps, unrounded
	Rounding RoundingMode        `json:"rounding,omitempty"`
	// Cap names the earning cap that cut the credit (CapArticle,
	// CapOrder, CapCustomerYear); Uncapped is Full before it.
	Cap      string              `json:"cap,omitempty"`
	Uncapped decimal.NullDecimal `json:"uncapped,omitzero"`
	// Cuts says how much of the rounded credit for all Quantity units
	// each cap took, in the order they applied (article, order, year);
	// they add up to the rounded Uncapped minus the rounded Full.
	Cuts []CapCut `json:"cuts,omitempty"`
	// Multiplier of the campaign that covered the line when it first
	// earned (Campaign names it); already part of Full.
	Multiplier decimal.NullDecimal `json:"multiplier,omitzero"`
	Campaign   string              `json:"campaign,omitempty"`
	// Tier is the buyer's tier when the line first earned; its multiplier
	// (TierMultiplier) and a members-only rule's (MemberMultiplier) are
	// already part of Full. MembersOnly: the line earned nothing because
	// the buyer was no member.
	Tier             string              `json:"tier,omitempty"`
	TierMultiplier   decimal.NullDecimal `json:"tier_multiplier,omitzero"`
	MemberMultiplier decimal.NullDecimal `json:"member_multiplier,omitzero"`
	MembersOnly      bool                `json:"members_only,omitempty"`
}

// CapCut is the credit one earning cap took from a frozen rate.
type CapCut struct {
	Cap    string          `json:"cap"`
	Amount decimal.Decimal `json:"amount"` // at the currency's scale, > 0
}

// cut records that cap took from the rate's rounded credit for all its
// units: from before to after.
func (f *FrozenRate) cut(cap string, before, after decimal.Decimal) {
	if d := before.Sub(after); d.IsPositive() {
		f.Cuts = append(f.Cuts, CapCut{Cap: cap, Amount: d})
	}
}

// Key identifies the rate's slot in an order's credit state.
func (f FrozenRate) Key() string { return f.LineID + "/" + f.Beneficiary }

// Exact reports whether the rate was frozen with exact rounding.
func (f FrozenRate) Exact() bool { return f.Quantity > 0 && f.Full.Valid }

// Credit returns the rounded credit for units of the line: for an exact
// rate round(Full × units / Quantity) (units capped at Quantity when an
// order or yearly cap cut the credit, so more units never pass the cap),
// for an older rate round(UnitRate × units) half away from zero.
func (f FrozenRate) Credit(currency string, units int64) (decimal.Decimal, error) {
	scale, err := CurrencyScale(currency)
	if err != nil {
		return decimal.Zero, err
	}
	if units <= 0 {
		return decimal.Zero, nil
	}
	if !f.Exact() {
		return f.UnitRate.Mul(decimal.NewFromInt(units)).Round(scale), nil
	}
	if (f.Cap == CapOrder || f.Cap == CapCustomerYear) && units > f.Quantity {
		units = f.Quantity
	}
	return RoundRatio(f.Full.Decimal, units, f.Quantity, scale, f.Rounding), nil
}

func units(n int64) string {
	if n == 1 {
		return " unit"
	}
	return " units"
}

// CapNote is the statement text of a capped rate ("" when no cap cut it).
func (f FrozenRate) CapNote(currency string) string {
	var why string
	switch f.Cap {
	case CapArticle:
		why = "credit capped at the article's net price"
	case CapOrder:
		why = "credit capped by the shop's per-order limit"
	case CapCustomerYear:
		why = "credit capped by the shop's yearly limit per customer"
	default:
		return ""
	}
	if f.Uncapped.Valid && f.Full.Valid && f.Quantity > 0 {
		scale, _ := CurrencyScale(currency)
		why += "; not booked: " + StringFixedFor(currency, RoundRatio(f.Uncapped.Decimal.Sub(f.Full.Decimal), 1, 1, scale, f.Rounding)) +
			" of " + StringFixedFor(currency, RoundRatio(f.Uncapped.Decimal, 1, 1, scale, f.Rounding)) + " for " + strconv.FormatInt(f.Quantity, 10) + units(f.Quantity)
	}
	return why
}

// OrderState is everything the ledger's order processing knows about an
// order: its newest snapshot, all refunds ever seen and the frozen rates.
type OrderState struct {
	Order   Order
	Refunds map[string]Refund // by refund id
	Rates   []FrozenRate
	Buyer   Owner // the buyer's owner as stored with the snapshot
	// Claimed is the customer a guest buyer's credit moved to (the guest's
	// e-mail claimed), read when OrderWork.Guest names that guest.
	Claimed Owner
	buyer   Owner
}

// RefundedQuantities sums refunded units per line over all known refunds.
// The sum saturates (negative quantities count as zero), so no set of
// refunds can wrap it around into fewer refunded units.
func (s OrderState) RefundedQuantities() map[string]int64 {
	q := map[string]int64{}
	for _, r := range s.Refunds {
		for _, l := range r.Lines {
			if l.Quantity <= 0 {
				continue
			}
			if q[l.LineID] > math.MaxInt64-l.Quantity {
				q[l.LineID] = math.MaxInt64
			} else {
				q[l.LineID] += l.Quantity
			}
		}
	}
	return q
}

// FreezeRates returns the rates for lines and beneficiaries that have none
// yet, resolving today's rules with the default settings (net base, half
// away from zero). See FreezeRatesWith.
func FreezeRates(o Order, have []FrozenRate, rules RuleSet, buyer Owner, partners []Owner) []FrozenRate {
	return FreezeRatesWith(ShopSettings{}, o, have, rules, buyer, partners)
}

// FreezeRatesWith returns the rates for lines and beneficiaries that have
// none yet, resolving today's rules. partners[i] is the owner of sponsor
// level i+1. Lines that are gift cards or match no rule get no rate.
//
// Each rate freezes the line's credit for all its units, exact and
// unrounded: percent × the line's earning base (net or gross, per
// s.EarnBase) / 100, or the fixed amount × units; never more than the
// line's net total (the per-article cap). Order and yearly caps are
// applied afterwards (ApplyOrderCap, ApplyYearCap).
func FreezeRatesWith(s ShopSettings, o Order, have []FrozenRate, rules RuleSet, buyer Owner, partners []Owner) []FrozenRate {
	return FreezeRatesTier(s, o, have, rules, buyer, partners, nil)
}

// FreezeRatesTier is FreezeRatesWith for a buyer in a tier (nil: no
// tiers): the buyer's credit is multiplied by the tier's and the member
// rules' multipliers, frozen with the rate (see core/tiers.go).
func FreezeRatesTier(s ShopSettings, o Order, have []FrozenRate, rules RuleSet, buyer Owner, partners []Owner, bt *BuyerTier) []FrozenRate {
	exists := map[string]bool{}
	for _, r := range have {
		exists[r.Key()] = true
	}
	base := s.EarnBase
	if base == "" {
		base = EarnOnNet
	}
	rounding := s.Rounding
	if rounding == "" {
		rounding = RoundHalfAwayFromZero
	}
	var out []FrozenRate
	for _, l := range o.Lines {
		if l.GiftCard || l.Quantity <= 0 {
			continue
		}
		bens := []struct {
			name  string
			owner Owner
		}{{BeneficiaryBuyer, buyer}}
		for i, p := range partners {
			bens = append(bens, struct {
				name  string
				owner Owner
			}{PartnerLevel(i + 1), p})
		}
		lineBase := l.EarningBase(base)
		for _, b := range bens {
			if exists[l.LineID+"/"+b.name] {
				continue
			}
			rule, ok := rules.Resolve(l, b.name)
			if !ok {
				continue
			}
			r := FrozenRate{LineID: l.LineID, Beneficiary: b.name, Owner: b.owner, Rule: rule.Describe(),
				UnitRate: rule.UnitRate(l), ProductID: l.ProductID, VariantID: l.VariantID, SKU: l.SKU, Product: l.Title,
				Mode: rule.Mode, Value: decimal.NewNullDecimal(rule.Value), Base: base,
				LineNet: decimal.NewNullDecimal(l.NetTotal), LineBase: decimal.NewNullDecimal(lineBase),
				Quantity: l.Quantity, Rounding: rounding}
			full := rule.LineCredit(l, lineBase)
			if b.name == BeneficiaryBuyer && len(s.Campaigns) > 0 { // campaign multiplier, frozen with the rate
				if m, name, ok := s.CampaignFor(l, o.CreatedAt, s.Location()); ok {
					full, r.Multiplier, r.Campaign = full.Mul(m), decimal.NewNullDecimal(m), name
					r.UnitRate = r.UnitRate.Mul(m) // the audit's bound per unit (Full decides the credit)
					r.Rule += " ×" + m.String() + " (" + name + ")"
				}
			}
			if b.name == BeneficiaryBuyer && bt != nil {
				full = applyTier(s, bt, l, &r, full)
			}
			if full.GreaterThan(l.NetTotal) {
				r.Cap, r.Uncapped = CapArticle, decimal.NewNullDecimal(full)
				if scale, err := CurrencyScale(o.Currency); err == nil {
					r.cut(CapArticle, RoundRatio(full, 1, 1, scale, rounding), RoundRatio(l.NetTotal, 1, 1, scale, rounding))
				}
				full = l.NetTotal
			}
			r.Full = decimal.NewNullDecimal(full)
			out = append(out, r)
		}
	}
	return out
}

// Earning caps: what cut a frozen rate's credit.
const (
	CapArticle      = "article"       // at most the article's net price
	CapOrder        = "order"         // ShopSettings.EarnCapOrderPercent / EarnCapOrderAmount
	CapCustomerYear = "customer_year" // ShopSettings.EarnCapYearAmount
)

// fullCredit is a rate's rounded credit for all its frozen units (for an
// older rate: for the line's units in o).
func fullCredit(o Order, r FrozenRate) decimal.Decimal {
	units := r.Quantity
	if !r.Exact() {
		for _, l := range o.Lines {
			if l.LineID == r.LineID {
				units = l.Quantity
			}
		}
	}
	c, _ := r.Credit(o.Currency, units)
	return c
}

// share cuts fresh rates (all of one beneficiary or owner) so that their
// rounded full credits add up to at most budget (an amount at the
// currency's scale): when they pass it, the budget is shared in proportion
// to each rate's credit (largest remainders get the leftover minor units,
// earlier rates first on ties), so every line that earns keeps a part and
// its entry says what the cap cut. It returns the credit that remains.
func share(o Order, rs []*FrozenRate, budget decimal.Decimal, cap string) decimal.Decimal {
	scale, err := CurrencyScale(o.Currency)
	if err != nil {
		return decimal.Zero
	}
	credits := make([]*big.Int, len(rs))
	sum := new(big.Int)
	total := decimal.Zero
	for i, r := range rs {
		c := fullCredit(o, *r)
		total = total.Add(c)
		if !r.Exact() { // an older rate is never cut (it is never fresh)
			c = decimal.Zero
		}
		credits[i] = c.Shift(scale).BigInt()
		sum.Add(sum, credits[i])
	}
	budget = decimal.Max(budget, decimal.Zero)
	if total.LessThanOrEqual(budget) {
		return total
	}
	b := budget.Shift(scale).BigInt()
	parts := make([]*big.Int, len(rs))
	rems := make([]*big.Int, len(rs))
	left := new(big.Int).Set(b)
	for i := range rs {
		num := new(big.Int).Mul(b, credits[i])
		parts[i], rems[i] = new(big.Int), new(big.Int)
		if sum.Sign() > 0 {
			parts[i].QuoRem(num, sum, rems[i])
		}
		left.Sub(left, parts[i])
	}
	for left.Sign() > 0 {
		best := -1
		for i := range rs {
			if credits[i].Sign() > 0 && parts[i].Cmp(credits[i]) < 0 && (best < 0 || rems[i].Cmp(rems[best]) > 0) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		parts[best].Add(parts[best], big.NewInt(1))
		rems[best].SetInt64(-1) // one extra unit per rate at most
		left.Sub(left, big.NewInt(1))
	}
	out := decimal.Zero
	for i, r := range rs {
		p := decimal.NewFromBigInt(parts[i], -scale)
		if before := fullCredit(o, *r); r.Exact() && p.LessThan(before) {
			if r.Cap == "" || !r.Uncapped.Valid {
				r.Uncapped = r.Full
			}
			r.Cap, r.Full = cap, decimal.NewNullDecimal(p)
			r.cut(cap, before, p)
		}
		out = out.Add(fullCredit(o, *r))
	}
	return out
}

// OrderCapLimit returns the most one beneficiary may earn on the order
// under the shop's per-order cap (the lesser of the percentage of the
// order's net total, rounded down, and the amount); ok is false when no
// per-order cap is set.
func OrderCapLimit(s ShopSettings, o Order) (limit decimal.Decimal, ok bool) {
	scale, err := CurrencyScale(o.Currency)
	if err != nil {
		return decimal.Zero, false
	}
	if s.EarnCapOrderPercent.Valid {
		net := decimal.Zero
		for _, l := range o.Lines {
			if !l.GiftCard {
				net = net.Add(l.NetTotal)
			}
		}
		limit, ok = net.Mul(s.EarnCapOrderPercent.Decimal).Div(decimal.NewFromInt(100)).RoundDown(scale), true
	}
	if a := s.EarnCapOrderAmount; a.Valid && (!ok || a.Decimal.RoundDown(scale).LessThan(limit)) {
		limit, ok = a.Decimal.RoundDown(scale), true
	}
	return limit, ok
}

// ApplyOrderCap cuts fresh rates so that no beneficiary's credit on the
// order (its rates already frozen included) passes the per-order cap; the
// rest of the cap is shared among the fresh lines in proportion to their
// credit (see share). The cut is frozen with the rate.
func ApplyOrderCap(s ShopSettings, o Order, have, fresh []FrozenRate) {
	limit, ok := OrderCapLimit(s, o)
	if !ok {
		return
	}
	used := map[string]decimal.Decimal{}
	for _, r := range have {
		used[r.Beneficiary] = used[r.Beneficiary].Add(fullCredit(o, r))
	}
	for _, b := range beneficiaries(fresh) {
		var rs []*FrozenRate
		for i := range fresh {
			if fresh[i].Beneficiary == b {
				rs = append(rs, &fresh[i])
			}
		}
		share(o, rs, limit.Sub(used[b]), CapOrder)
	}
}

// beneficiaries lists the beneficiaries of rates in order of appearance.
func beneficiaries(rs []FrozenRate) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if !seen[r.Beneficiary] {
			seen[r.Beneficiary] = true
			out = append(out, r.Beneficiary)
		}
	}
	return out
}

// YearBudget takes up to want from an owner's yearly earning budget
// (limit per calendar year) and returns what it granted.
type YearBudget func(owner Owner, want, limit decimal.Decimal) (decimal.Decimal, error)

// ApplyYearCap cuts fresh rates to what each owner's yearly budget
// grants (see ShopSettings.EarnCapYearAmount): the budget is used when
// credit is frozen, so refunds later lower the booked credit but never
// give budget back.
func ApplyYearCap(s ShopSettings, o Order, fresh []FrozenRate, take YearBudget) error {
	if !s.EarnCapYearAmount.Valid {
		return nil
	}
	want := map[Owner]decimal.Decimal{}
	var owners []Owner
	for _, r := range fresh {
		if r.Owner.Kind == "" {
			continue
		}
		if _, ok := want[r.Owner]; !ok {
			owners = append(owners, r.Owner)
		}
		want[r.Owner] = want[r.Owner].Add(fullCredit(o, r))
	}
	for _, ow := range owners {
		if !want[ow].IsPositive() {
			continue
		}
		scale, err := CurrencyScale(o.Currency)
		if err != nil {
			return err
		}
		got, err := take(ow, want[ow], s.EarnCapYearAmount.Decimal.RoundDown(scale))
		if err != nil {
			return err
		}
		if got.GreaterThanOrEqual(want[ow]) {
			continue
		}
		var rs []*FrozenRate
		for i := range fresh {
			if fresh[i].Owner == ow {
				rs = append(rs, &fresh[i])
			}
		}
		share(o, rs, got, CapCustomerYear)
	}
	return nil
}

// CapYear is the calendar year whose yearly cap an order counts against:
// the year it was created, in the shop's time zone (UTC when unset).
func CapYear(s ShopSettings, o Order) int {
	t := o.CreatedAt
	if t.IsZero() {
		t = o.UpdatedAt
	}
	loc := time.UTC
	if s.TimeZone != "" {
		if l, err := time.LoadLocation(s.TimeZone); err == nil {
			loc = l
		}
	}
	return t.In(loc).Year()
}

// DesiredCredit is the order's desired credit per (line, beneficiary):
// the frozen rate's credit for the ordered minus refunded units (see
// FrozenRate.Credit), or zero when the order is not paid, is cancelled or
// is fully refunded.
func DesiredCredit(s OrderState) (map[string]decimal.Decimal, error) {
	out := map[string]decimal.Decimal{}
	qty := map[string]int64{}
	for _, l := range s.Order.Lines {
		qty[l.LineID] = l.Quantity
	}
	refunded := s.RefundedQuantities()
	earning := s.Order.Paid && !s.Order.Cancelled && !s.Order.FullyRefunded
	for _, r := range s.Rates {
		amt := decimal.Zero
		if earning {
			var err error
			if amt, err = r.Credit(s.Order.Currency, qty[r.LineID]-refunded[r.LineID]); err != nil {
				return nil, err
			}
		}
		out[r.Key()] = amt
	}
	return out, nil
}

// PostedCredit sums, per (line, beneficiary), what the order's earn and
// earn-reversal transactions moved to their beneficiaries (per line from
// Reason.Lines, or for a transaction posted before per-order earnings
// from its one line), and counts the per-order transactions of each
// beneficiary (for versioned keys).
func PostedCredit(txs []Transaction) (amounts map[string]decimal.Decimal, versions map[string]int) {
	amounts, versions = map[string]decimal.Decimal{}, map[string]int{}
	for _, t := range txs {
		if t.Reason.Kind != ReasonEarn && t.Reason.Kind != ReasonEarnReversal && t.Reason.Kind != ReasonSelfReferralReversal {
			continue
		}
		if len(t.Reason.Lines) > 0 {
			versions[t.Reason.Beneficiary]++
			for _, l := range t.Reason.Lines {
				k := l.LineID + "/" + t.Reason.Beneficiary
				amounts[k] = amounts[k].Add(l.Amount)
			}
			continue
		}
		k := t.Reason.LineID + "/" + t.Reason.Beneficiary
		for _, p := range t.Postings {
			if p.Owner.Kind == OwnerProgram {
				amounts[k] = amounts[k].Sub(p.Amount)
			}
		}
	}
	return amounts, versions
}

// OwnerFunds is what PlanEarnings needs to know of a beneficiary to split a
// reversal: how much is pending and available right now.
type OwnerFunds struct {
	Pending   decimal.Decimal
	Available decimal.Decimal
}

// earnGroup is the lines of one transaction PlanEarnings posts: one
// beneficiary and owner, one direction.
type earnGroup struct {
	ben   string
	owner Owner
	lines []ReasonLine
	total decimal.Decimal // signed
}

// PlanEarnings returns the transactions that move the books from what was
// posted for the order to its desired credit state: one transaction per
// (order, beneficiary, owner) and direction, each listing the lines it
// moves credit for with their amounts (Reason.Lines), keyed
// order:<id>:<beneficiary>:earn|reverse:v<n>. Earnings go to available (or
// pending when pending is set). A reversal takes from pending first, then
// available; what the owner already spent becomes a recorded overdraft,
// paid back by later earnings.
func PlanEarnings(s OrderState, posted []Transaction, funds func(Owner) OwnerFunds, pending bool) ([]Transaction, error) {
	return planEarnings(s, posted, funds, pending, nil)
}

// PlanPartnerRevocation returns the correction transactions that take
// back every partner level's credit still booked on the order (a
// self-referral found after the order earned, reversed by the merchant):
// one per beneficiary and owner, reason ReasonSelfReferralReversal,
// pointing at the earn transaction it corrects, pending first, then
// available, the rest a recorded overdraft. The order's later
// convergences (refunds, replays) see those lines as revoked and never
// book them again; a repeat plans nothing.
func PlanPartnerRevocation(s OrderState, posted []Transaction, funds func(Owner) OwnerFunds) ([]Transaction, error) {
	revoke := map[string]bool{}
	for _, r := range s.Rates {
		if strings.HasPrefix(r.Beneficiary, "partner") {
			revoke[r.Beneficiary] = true
		}
	}
	return planEarnings(s, posted, funds, false, revoke)
}

// revokedKeys are the (line, beneficiary) slots a self-referral reversal
// took back: their desired credit is zero from then on.
func revokedKeys(posted []Transaction) map[string]bool {
	var out map[string]bool
	for _, t := range posted {
		if t.Reason.Kind != ReasonSelfReferralReversal {
			continue
		}
		if out == nil {
			out = map[string]bool{}
		}
		for _, l := range t.Reason.Lines {
			out[l.LineID+"/"+t.Reason.Beneficiary] = true
		}
	}
	return out
}

func planEarnings(s OrderState, posted []Transaction, funds func(Owner) OwnerFunds, pending bool, revoke map[string]bool) ([]Transaction, error) {
	desired, err := DesiredCredit(s)
	if err != nil {
		return nil, err
	}
	for k := range revokedKeys(posted) {
		desired[k] = decimal.Zero
	}
	for _, r := range s.Rates {
		if revoke[r.Beneficiary] {
			desired[r.Key()] = decimal.Zero
		}
	}
	have, versions := PostedCredit(posted)
	rates := append([]FrozenRate(nil), s.Rates...)
	sort.Slice(rates, func(i, j int) bool { return rates[i].Key() < rates[j].Key() })
	o := s.Order
	var groups []*earnGroup
	idx := map[string]*earnGroup{}
	for _, r := range rates {
		if revoke != nil && !revoke[r.Beneficiary] {
			continue // a revocation books only the revoked lines
		}
		k := r.Key()
		diff := desired[k].Sub(have[k])
		if diff.IsZero() {
			continue
		}
		gk := r.Beneficiary + "\x00" + r.Owner.String() + "\x00" + strconv.FormatBool(diff.IsPositive())
		g, ok := idx[gk]
		if !ok {
			g = &earnGroup{ben: r.Beneficiary, owner: r.Owner}
			idx[gk] = g
			groups = append(groups, g)
		}
		g.lines = append(g.lines, ReasonLine{LineID: r.LineID, ProductID: r.ProductID, VariantID: r.VariantID, SKU: r.SKU,
			Product: r.Product, Rule: r.Rule, Amount: diff, Cap: r.Cap, Note: r.CapNote(o.Currency)})
		g.total = g.total.Add(diff)
	}
	// Deterministic keys: beneficiaries in order, owners in lock order,
	// earnings before reversals.
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.ben != b.ben {
			return a.ben < b.ben
		}
		if a.owner != b.owner {
			return LessOwnerKey("", a.owner, "", b.owner)
		}
		return a.total.IsPositive() && !b.total.IsPositive()
	})
	used := map[Owner]OwnerFunds{}
	out := make([]Transaction, 0, len(groups))
	for _, g := range groups {
		versions[g.ben]++
		v := versions[g.ben]
		t := Transaction{ShopID: o.ShopID, Reason: earnReason(o, g)}
		if g.total.IsPositive() {
			t.Reason.Kind = ReasonEarn
			t.Key = fmt.Sprintf("order:%s:%s:earn:v%d", o.OrderID, g.ben, v)
			bucket := BucketAvailable
			if pending {
				bucket = BucketPending
			}
			t.Postings = []Posting{
				{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: g.total.Neg()},
				{Currency: o.Currency, Owner: g.owner, Bucket: bucket, Amount: g.total},
			}
		} else {
			t.Reason.Kind = ReasonEarnReversal
			t.Key = fmt.Sprintf("order:%s:%s:reverse:v%d", o.OrderID, g.ben, v)
			if revoke[g.ben] {
				t.Reason.Kind = ReasonSelfReferralReversal
				t.Key = fmt.Sprintf("order:%s:%s:revoke:v%d", o.OrderID, g.ben, v)
			}
			t.Reverses = lastEarn(posted, g)
			f, ok := used[g.owner]
			if !ok {
				f = funds(g.owner)
			}
			need := g.total.Neg()
			t.Postings = []Posting{{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: need}}
			take := func(b Bucket, have *decimal.Decimal) {
				n := decimal.Min(need, *have)
				if n.IsPositive() {
					t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: g.owner, Bucket: b, Amount: n.Neg()})
					*have = have.Sub(n)
					need = need.Sub(n)
				}
			}
			take(BucketPending, &f.Pending)
			take(BucketAvailable, &f.Available)
			if need.IsPositive() {
				t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: g.owner, Bucket: BucketOverdraft, Amount: need.Neg()})
			}
			used[g.owner] = f
		}
		out = append(out, t)
	}
	return out, nil
}

// earnReason describes a group's transaction: the order, the beneficiary
// and every line with its amount; the products (and the rule, cap and
// note when the lines share them) also at the top, for statements.
func earnReason(o Order, g *earnGroup) Reason {
	r := Reason{OrderID: o.OrderID, OrderNumber: o.OrderNumber, Beneficiary: g.ben, Lines: g.lines}
	first := g.lines[0]
	if len(g.lines) == 1 {
		r.LineID, r.ProductID, r.VariantID, r.SKU = first.LineID, first.ProductID, first.VariantID, first.SKU
	}
	var products, notes []string
	sameRule := true
	for _, l := range g.lines {
		if l.Product != "" && !slices.Contains(products, l.Product) {
			products = append(products, l.Product)
		}
		if l.Rule != first.Rule {
			sameRule = false
		}
		if l.Cap != "" && r.Cap == "" {
			r.Cap = l.Cap
		}
		if l.Note != "" {
			notes = append(notes, l.Note)
		}
	}
	r.Product = strings.Join(products, ", ")
	if sameRule {
		r.Rule = first.Rule
	}
	r.Note = strings.Join(notes, "; ")
	return r
}

// lastEarn is the newest earn transaction of the group's beneficiary that
// moved credit for one of its lines (0 when none).
func lastEarn(txs []Transaction, g *earnGroup) int64 {
	lines := map[string]bool{}
	for _, l := range g.lines {
		lines[l.LineID] = true
	}
	var id int64
	for _, t := range txs {
		if t.Reason.Kind != ReasonEarn || t.Reason.Beneficiary != g.ben {
			continue
		}
		hit := len(t.Reason.Lines) == 0 && lines[t.Reason.LineID]
		for _, l := range t.Reason.Lines {
			hit = hit || lines[l.LineID]
		}
		if hit && t.ID > id {
			id = t.ID
		}
	}
	return id
}

// SettleOverdraft returns the transaction that pays back an owner's
// overdraft from available credit, or ok=false when there is nothing to
// settle. seq makes the key unique (the owner's balance version).
func SettleOverdraft(shopID int64, currency string, owner Owner, b Balance) (Transaction, bool) {
	owed := b.Overdraft.Neg()
	n := decimal.Min(owed, b.Available)
	if !n.IsPositive() {
		return Transaction{}, false
	}
	return Transaction{ShopID: shopID, Key: "overdraft:" + owner.String() + ":" + currency + ":settle:" + strconv.FormatInt(b.Version, 10),
		Reason: Reason{Kind: ReasonOverdraftSettle},
		Postings: []Posting{
			{Currency: currency, Owner: owner, Bucket: BucketAvailable, Amount: n.Neg()},
			{Currency: currency, Owner: owner, Bucket: BucketOverdraft, Amount: n},
		}}, true
}

// IsStale reports whether a snapshot is older than the newest applied one.
func IsStale(snapshot, newest time.Time) bool {
	return !newest.IsZero() && snapshot.Before(newest)
}
