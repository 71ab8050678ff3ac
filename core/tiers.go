package core

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Tiers and paid membership (issue 11).
//
// A shop defines tiers (silver, gold, ...) in rank order. A customer is in
// the highest tier whose threshold their qualifying amount reaches: the
// net spend (TierBasisSpend, the default) or the credit earned on orders
// (TierBasisCredit), counted over the 12 months before the start of the
// current review period plus everything since, in the shop's currency. So
//   - an upgrade applies at once: the next line that earns (the order
//     that reaches a threshold earns at the tier it was placed in);
//   - within a review period (TierPeriod: month, quarter or year, in the
//     shop's time zone) nothing ages out, so a tier is never lost by time
//     alone before the period ends; at each period's start the 12 months
//     before it are reviewed and the customer may move down;
//   - a refund or cancellation counts at once: the refunded spend (and
//     credit) never counted, so a customer whose tier rested on it falls
//     back to the tier the rest reaches, immediately (the documented
//     choice, so a tier cannot be bought and refunded).
//
// A tier with Membership set is never reached by a threshold: buying the
// shop's membership SKU gives it for MembershipSettings.Months (12 by
// default); a refund or cancellation of that line ends it. A customer in
// both a threshold tier and a membership is in the higher-ranked one.
//
// The tier in force when a line first earns (its order's creation time,
// the order itself not counted) is frozen with the line's rate: its
// multiplier (and a member rule's) is part of the frozen credit, so
// replays and refunds reverse exactly what was earned, whatever the tier
// is by then. Shops without tiers or membership earn exactly as before.

// Tier bases.
const (
	TierBasisSpend  = "spend"  // net spend of paid orders, refunds deducted
	TierBasisCredit = "credit" // buyer credit earned on orders, refunds deducted
)

// Tier review periods (PeriodMonth and PeriodYear are shared with
// activity caps).
const PeriodQuarter = "quarter"

// Tier is one rank of a shop's tiers.
type Tier struct {
	Name string `json:"name"`
	// Threshold is the qualifying amount (shop currency) that reaches the
	// tier; 0 makes it everyone's base tier. Ignored for a membership tier.
	Threshold decimal.Decimal `json:"threshold"`
	// Multiplier on the buyer's earned credit (0 < m ≤ 10; 1 = none).
	Multiplier decimal.Decimal `json:"multiplier"`
	// Membership tiers are reached only by buying the membership SKU.
	Membership bool `json:"membership,omitempty"`
	// Perks: checkout caps that replace the shop's max_percent and
	// max_amount for customers in the tier (e.g. a higher redemption cap).
	MaxPercent decimal.NullDecimal `json:"max_percent,omitempty"`
	MaxAmount  decimal.NullDecimal `json:"max_amount,omitempty"`
}

// MembershipSettings configures a paid membership.
type MembershipSettings struct {
	// Tier is the name of the membership tier (a Tier with Membership).
	Tier string `json:"tier"`
	// SKUs and ProductIDs identify the membership article.
	SKUs       []string `json:"skus,omitempty"`
	ProductIDs []string `json:"product_ids,omitempty"`
	// Months the membership lasts from the order's creation (default 12);
	// a membership bought while one runs starts when that one ends.
	Months int `json:"months,omitempty"`
	// Rules only members get.
	Rules []MemberRule `json:"rules,omitempty"`
}

// MemberRule is a members-only rule on the buyer's credit: extra credit
// (Multiplier) for members, or lines that earn only for members.
type MemberRule struct {
	Target     string              `json:"target"` // shop, product, variant, sku (like campaigns)
	TargetIDs  []string            `json:"target_ids,omitempty"`
	Multiplier decimal.NullDecimal `json:"multiplier,omitempty"`   // extra multiplier for members
	OnlyMember bool                `json:"members_only,omitempty"` // non-members earn nothing on these lines
}

// TierSettings are the tier and membership settings (part of
// ProgramSettings).
type TierSettings struct {
	Tiers      []Tier              `json:"tiers,omitempty"` // in rank order, lowest first
	TierBasis  string              `json:"tier_basis,omitempty"`
	TierPeriod string              `json:"tier_period,omitempty"` // month (default), quarter, year
	Membership *MembershipSettings `json:"membership,omitempty"`
}

// TiersEnabled reports whether the shop runs tiers or a membership.
func (t TierSettings) TiersEnabled() bool { return len(t.Tiers) > 0 }

// Validate checks the tier settings.
func (t TierSettings) Validate() error {
	if len(t.Tiers) > 10 {
		return Errorf(EINVALID, "at most 10 tiers")
	}
	seen := map[string]bool{}
	var last decimal.Decimal
	first := true
	for _, x := range t.Tiers {
		if x.Name == "" || len(x.Name) > 40 {
			return Errorf(EINVALID, "a tier needs a name of 1..40 characters")
		}
		if seen[x.Name] {
			return Errorf(EINVALID, "tier %s is defined twice", x.Name)
		}
		seen[x.Name] = true
		if !x.Multiplier.IsPositive() || x.Multiplier.GreaterThan(decimal.NewFromInt(10)) || x.Multiplier.Exponent() < -4 {
			return Errorf(EINVALID, "tier %s: multiplier must be above 0 and at most 10 (4 decimals)", x.Name)
		}
		if x.MaxPercent.Valid && (x.MaxPercent.Decimal.IsNegative() || x.MaxPercent.Decimal.GreaterThan(decimal.NewFromInt(100))) {
			return Errorf(EINVALID, "tier %s: max_percent must be 0..100", x.Name)
		}
		if x.MaxAmount.Valid && x.MaxAmount.Decimal.IsNegative() {
			return Errorf(EINVALID, "tier %s: max_amount must not be negative", x.Name)
		}
		if x.Membership {
			continue
		}
		if x.Threshold.IsNegative() || x.Threshold.Exponent() < -3 {
			return Errorf(EINVALID, "tier %s: threshold must be >= 0 with at most 3 decimals", x.Name)
		}
		if !first && !x.Threshold.GreaterThan(last) {
			return Errorf(EINVALID, "tier %s: thresholds must rise with the rank", x.Name)
		}
		last, first = x.Threshold, false
	}
	switch t.TierBasis {
	case "", TierBasisSpend, TierBasisCredit:
	default:
		return Errorf(EINVALID, "tier_basis must be spend or credit")
	}
	switch t.TierPeriod {
	case "", PeriodMonth, PeriodQuarter, PeriodYear:
	default:
		return Errorf(EINVALID, "tier_period must be month, quarter or year")
	}
	if m := t.Membership; m != nil {
		tier, ok := t.TierByName(m.Tier)
		if !ok || !tier.Membership {
			return Errorf(EINVALID, "membership.tier must name a tier with membership set")
		}
		if len(m.SKUs)+len(m.ProductIDs) == 0 || len(m.SKUs)+len(m.ProductIDs) > 100 {
			return Errorf(EINVALID, "membership needs 1..100 skus or product_ids")
		}
		if m.Months < 0 || m.Months > 120 {
			return Errorf(EINVALID, "membership.months must be 0..120 (0: 12)")
		}
		if len(m.Rules) > 20 {
			return Errorf(EINVALID, "at most 20 membership rules")
		}
		for _, r := range m.Rules {
			c := Campaign{Name: "membership rule", Multiplier: decimal.NewFromInt(1), Target: r.Target, TargetIDs: r.TargetIDs, Starts: "2000-01-01T00:00", Ends: "2000-01-02T00:00"}
			if err := c.Validate(); err != nil {
				return err
			}
			if r.Multiplier.Valid && (!r.Multiplier.Decimal.IsPositive() || r.Multiplier.Decimal.GreaterThan(decimal.NewFromInt(10)) || r.Multiplier.Decimal.Exponent() < -4) {
				return Errorf(EINVALID, "membership rule: multiplier must be above 0 and at most 10")
			}
			if !r.Multiplier.Valid && !r.OnlyMember {
				return Errorf(EINVALID, "membership rule: set a multiplier or members_only")
			}
		}
	} else {
		for _, x := range t.Tiers {
			if x.Membership {
				return Errorf(EINVALID, "tier %s is a membership tier but no membership is configured", x.Name)
			}
		}
	}
	return nil
}

// TierByName returns the tier called name.
func (t TierSettings) TierByName(name string) (Tier, bool) {
	for _, x := range t.Tiers {
		if x.Name == name {
			return x, true
		}
	}
	return Tier{}, false
}

// Rank returns the rank of the tier called name (-1: none).
func (t TierSettings) Rank(name string) int {
	for i, x := range t.Tiers {
		if x.Name == name {
			return i
		}
	}
	return -1
}

// Basis returns the qualifying basis (spend by default).
func (t TierSettings) Basis() string {
	if t.TierBasis == "" {
		return TierBasisSpend
	}
	return t.TierBasis
}

// Period returns the review period (month by default).
func (t TierSettings) Period() string {
	if t.TierPeriod == "" {
		return PeriodMonth
	}
	return t.TierPeriod
}

// MembershipMonths returns how long a membership lasts.
func (m MembershipSettings) MembershipMonths() int {
	if m.Months <= 0 {
		return 12
	}
	return m.Months
}

// ReviewStart returns the start of the review period containing at, in
// loc.
func (t TierSettings) ReviewStart(at time.Time, loc *time.Location) time.Time {
	if t.Period() == PeriodQuarter {
		x := at.In(loc)
		return time.Date(x.Year(), x.Month()-(x.Month()-1)%3, 1, 0, 0, 0, 0, loc)
	}
	return PeriodStart(t.Period(), at, loc)
}

// NextReview returns the start of the next review period after at.
func (t TierSettings) NextReview(at time.Time, loc *time.Location) time.Time {
	s := t.ReviewStart(at, loc)
	switch t.Period() {
	case PeriodQuarter:
		return time.Date(s.Year(), s.Month()+3, 1, 0, 0, 0, 0, loc)
	case PeriodYear:
		return time.Date(s.Year()+1, 1, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(s.Year(), s.Month()+1, 1, 0, 0, 0, 0, loc)
}

// QualifyingWindow returns the start of the spend (or credit) that counts
// at at: 12 months before the current review period began.
func (t TierSettings) QualifyingWindow(at time.Time, loc *time.Location) time.Time {
	s := t.ReviewStart(at, loc)
	return time.Date(s.Year()-1, s.Month(), 1, 0, 0, 0, 0, loc)
}

// IsMembershipLine reports whether a line is the membership article.
func (m MembershipSettings) IsMembershipLine(l OrderLine) bool {
	for _, s := range m.SKUs {
		if s != "" && s == l.SKU {
			return true
		}
	}
	for _, p := range m.ProductIDs {
		if p != "" && p == l.ProductID {
			return true
		}
	}
	return false
}

// TierFacts is what a customer's tier depends on at one time.
type TierFacts struct {
	Spend  decimal.Decimal // qualifying net spend in the window
	Credit decimal.Decimal // qualifying credit in the window
	Member bool            // an active membership
	// MemberUntil is when the running membership (chain) ends.
	MemberUntil time.Time
}

// TierStatus is a customer's tier at one time.
type TierStatus struct {
	Tier       string          `json:"tier"` // "" when in no tier
	Multiplier decimal.Decimal `json:"multiplier"`
	Member     bool            `json:"member"`
	// Qualifying is the amount counted against thresholds (Basis).
	Qualifying decimal.Decimal `json:"qualifying"`
	Basis      string          `json:"basis"`
	// Next names the next threshold tier and what is missing to reach it.
	Next        string              `json:"next_tier,omitempty"`
	Missing     decimal.NullDecimal `json:"missing,omitempty"`
	MemberUntil *time.Time          `json:"member_until,omitempty"`
	// ReviewAt is when the tier can next move down (period end, or the
	// membership's end when that gives the tier).
	ReviewAt time.Time `json:"review_at"`
}

// Evaluate returns the tier the facts give at at.
func (t TierSettings) Evaluate(f TierFacts, at time.Time, loc *time.Location) TierStatus {
	q := f.Spend
	if t.Basis() == TierBasisCredit {
		q = f.Credit
	}
	st := TierStatus{Multiplier: decimal.NewFromInt(1), Member: f.Member, Qualifying: q, Basis: t.Basis(), ReviewAt: t.NextReview(at, loc)}
	rank := -1
	for i, x := range t.Tiers {
		if x.Membership {
			continue
		}
		if q.GreaterThanOrEqual(x.Threshold) {
			rank = i
		} else if st.Next == "" {
			st.Next, st.Missing = x.Name, decimal.NewNullDecimal(x.Threshold.Sub(q))
		}
	}
	if f.Member && t.Membership != nil {
		until := f.MemberUntil
		st.MemberUntil = &until
		if r := t.Rank(t.Membership.Tier); r > rank {
			rank = r
			if until.Before(st.ReviewAt) {
				st.ReviewAt = until
			}
		}
	}
	if rank >= 0 {
		st.Tier, st.Multiplier = t.Tiers[rank].Name, t.Tiers[rank].Multiplier
	}
	return st
}

// WithTierPerks returns the settings with the tier's checkout caps in
// place of the shop's.
func (s ShopSettings) WithTierPerks(tier string) ShopSettings {
	x, ok := s.TierByName(tier)
	if !ok {
		return s
	}
	if x.MaxPercent.Valid {
		s.MaxPercent = x.MaxPercent
	}
	if x.MaxAmount.Valid {
		s.MaxAmount = x.MaxAmount
	}
	return s
}

// TierReader reads a customer's tier facts (postgres.TierStore).
type TierReader interface {
	// TierFacts returns the facts at at, not counting excludeOrder.
	TierFacts(ctx context.Context, shop Shop, owner Owner, at time.Time, excludeOrder string) (TierFacts, error)
}

// CustomerTier returns a customer's tier now.
func CustomerTier(ctx context.Context, r TierReader, shop Shop, owner Owner, now time.Time) (TierStatus, error) {
	f, err := r.TierFacts(ctx, shop, owner, now, "")
	if err != nil {
		return TierStatus{}, err
	}
	return shop.Settings.Evaluate(f, now, shop.Settings.Location()), nil
}

// BuyerTier is the tier (and membership) a buyer earns with on an order:
// frozen with the order's fresh rates.
type BuyerTier struct {
	Status TierStatus
}

// memberRule returns the members-only rules' effect on a buyer's line:
// the extra multiplier for a member (highest matching), and whether a
// non-member earns nothing on it.
func (m *MembershipSettings) memberRule(l OrderLine) (mult decimal.Decimal, multOK, only bool) {
	if m == nil {
		return mult, false, false
	}
	for _, r := range m.Rules {
		c := Campaign{Target: r.Target, TargetIDs: r.TargetIDs}
		if !c.matches(l) {
			continue
		}
		if r.OnlyMember {
			only = true
		}
		if r.Multiplier.Valid && (!multOK || r.Multiplier.Decimal.GreaterThan(mult)) {
			mult, multOK = r.Multiplier.Decimal, true
		}
	}
	return mult, multOK, only
}

// BuysMembership reports whether a paid order's lines include the
// membership article (that order already earns as a member).
func (t TierSettings) BuysMembership(o Order) bool {
	if t.Membership == nil || !o.Paid || o.Cancelled || o.FullyRefunded {
		return false
	}
	for _, l := range o.Lines {
		if t.Membership.IsMembershipLine(l) && l.Quantity > 0 {
			return true
		}
	}
	return false
}

// TierActivity is what one order counts towards its buyer's tier: its
// net spend and the buyer's credit on it, both after refunds (zero when
// unpaid or cancelled), in the shop's currency.
type TierActivity struct {
	Owner    Owner
	OrderID  string
	PlacedAt time.Time
	Currency string
	Spend    decimal.Decimal
	Credit   decimal.Decimal
	At       time.Time // when recorded (a membership's end on refund)
	// Memberships are the order's membership lines.
	Memberships []MembershipLine
}

// MembershipLine is a membership bought on an order line: Active while
// the order is paid and the line not refunded or cancelled.
type MembershipLine struct {
	LineID string
	Tier   string
	Months int
	Active bool
	// EndedAt is when an inactive line's membership ended: its latest
	// refund, else the order's last change (never after now).
	EndedAt time.Time
}

// membershipEnd is when a membership line stopped: the latest refund of
// the line, else the order's last change, never after now.
func membershipEnd(st OrderState, lineID string, now time.Time) time.Time {
	var at time.Time
	for _, r := range st.Refunds {
		for _, l := range r.Lines {
			if l.LineID == lineID && l.Quantity > 0 && r.CreatedAt.After(at) {
				at = r.CreatedAt
			}
		}
	}
	if at.IsZero() {
		at = st.Order.UpdatedAt
	}
	if at.IsZero() || at.After(now) {
		at = now
	}
	return at
}

// TierTx, part of every OrderTx, records tier activity with the order.
type TierTx interface {
	SaveTierActivity(ctx context.Context, a TierActivity) error
}

// TierActivityOf computes an order's tier activity from its state.
func TierActivityOf(s ShopSettings, st OrderState, buyer Owner, now time.Time) (TierActivity, error) {
	o := st.Order
	placed := o.CreatedAt
	if placed.IsZero() {
		placed = now
	}
	a := TierActivity{Owner: buyer, OrderID: o.OrderID, PlacedAt: placed, Currency: o.Currency, Spend: decimal.Zero, Credit: decimal.Zero, At: now}
	scale, err := CurrencyScale(o.Currency)
	if err != nil {
		return a, err
	}
	refunded := st.RefundedQuantities()
	earning := o.Paid && !o.Cancelled && !o.FullyRefunded
	if earning {
		for _, l := range o.Lines {
			if l.GiftCard || l.Quantity <= 0 || (s.Membership != nil && s.Membership.IsMembershipLine(l)) {
				continue
			}
			left := l.Quantity - refunded[l.LineID]
			if left <= 0 {
				continue
			}
			a.Spend = a.Spend.Add(RoundRatio(l.NetTotal, left, l.Quantity, scale, RoundHalfAwayFromZero))
		}
		desired, err := DesiredCredit(st)
		if err != nil {
			return a, err
		}
		for _, r := range st.Rates {
			if r.Beneficiary == BeneficiaryBuyer {
				a.Credit = a.Credit.Add(desired[r.Key()])
			}
		}
	}
	if m := s.Membership; m != nil {
		for _, l := range o.Lines {
			if m.IsMembershipLine(l) && l.Quantity > 0 {
				ml := MembershipLine{LineID: l.LineID, Tier: m.Tier, Months: m.MembershipMonths(), Active: earning && refunded[l.LineID] == 0}
				if !ml.Active {
					ml.EndedAt = membershipEnd(st, l.LineID, now)
				}
				a.Memberships = append(a.Memberships, ml)
			}
		}
	}
	return a, nil
}

// applyTier multiplies a buyer's fresh line credit by the tier's and the
// member rules' multipliers (frozen with the rate). It reports false when
// the line earns nothing because it is for members only.
func applyTier(s ShopSettings, bt *BuyerTier, l OrderLine, r *FrozenRate, full decimal.Decimal) decimal.Decimal {
	if bt == nil {
		return full
	}
	st := bt.Status
	if st.Tier != "" && !st.Multiplier.Equal(decimal.NewFromInt(1)) {
		full, r.UnitRate = full.Mul(st.Multiplier), r.UnitRate.Mul(st.Multiplier)
		r.TierMultiplier = decimal.NewNullDecimal(st.Multiplier)
		r.Rule += " ×" + st.Multiplier.String() + " (" + st.Tier + ")"
	}
	if st.Tier != "" {
		r.Tier = st.Tier
	}
	m, ok, only := s.Membership.memberRule(l)
	switch {
	case only && !st.Member:
		r.Rule += " (members only)"
		r.MembersOnly, r.UnitRate = true, decimal.Zero
		return decimal.Zero
	case ok && st.Member:
		full, r.UnitRate = full.Mul(m), r.UnitRate.Mul(m)
		r.MemberMultiplier = decimal.NewNullDecimal(m)
		r.Rule += " ×" + m.String() + " (members)"
	}
	return full
}

// TierChange is one change of a customer's tier.
type TierChange struct {
	Owner      Owner           `json:"-"`
	Version    int             `json:"version"`
	From       string          `json:"from"`
	To         string          `json:"to"`
	Qualifying decimal.Decimal `json:"qualifying"`
	Member     bool            `json:"member"`
	ChangedAt  time.Time       `json:"changed_at"`
}
