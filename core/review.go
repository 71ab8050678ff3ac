package core

import (
	"context"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Program review (issue 10: "review regularly whether it is fair and
// effective"): per month what was issued, redeemed and expired, the
// breakage and the liability at month end; the redemption rate; how often
// customers with credit buy again compared with those without; the
// partners who earned most; and a "what if" simulation that replays past
// orders under edited rules without booking anything.

// ReviewMonth is one month of the review (from a PeriodReport).
type ReviewMonth struct {
	Month       string          `json:"month"` // 2026-11
	Issued      decimal.Decimal `json:"issued"`
	Redeemed    decimal.Decimal `json:"redeemed"`
	Expired     decimal.Decimal `json:"expired"`
	Adjustments decimal.Decimal `json:"adjustments"`
	// Breakage is the credit that lapsed unused (expired); BreakageRate
	// is it as a share of the month's issued credit (nil without issued
	// credit).
	Breakage     decimal.Decimal     `json:"breakage"`
	BreakageRate decimal.NullDecimal `json:"breakage_rate"`
	Liability    decimal.Decimal     `json:"liability_end"`
}

// RepeatStats compares customers who earned credit with those who did not:
// of the customers with a paid order in the period, how many placed more
// than one.
type RepeatStats struct {
	Customers int                 `json:"customers"`
	Repeat    int                 `json:"repeat"`
	Rate      decimal.NullDecimal `json:"rate"`
}

// PartnerEarned is a partner's credit earned in the period (net of
// reversals).
type PartnerEarned struct {
	PartnerID string          `json:"partner_id"`
	Name      string          `json:"name,omitempty"`
	Earned    decimal.Decimal `json:"earned"`
}

// Review is the program review of a shop in one currency.
type Review struct {
	Currency string        `json:"currency"`
	From     string        `json:"from"`
	To       string        `json:"to"` // last day
	Months   []ReviewMonth `json:"months"`
	// RedemptionRate is redeemed ÷ issued over the months (nil without
	// issued credit).
	RedemptionRate decimal.NullDecimal `json:"redemption_rate"`
	WithCredit     RepeatStats         `json:"repeat_with_credit"`
	WithoutCredit  RepeatStats         `json:"repeat_without_credit"`
	TopPartners    []PartnerEarned     `json:"top_partners"`
}

// ReviewSource reads what the review needs beyond the period reports.
type ReviewSource interface {
	// RepeatPurchases counts the customers with a paid order created in
	// [from, to), split by whether one of those orders earned them credit,
	// and how many of each placed more than one.
	RepeatPurchases(ctx context.Context, shopID int64, currency string, from, to time.Time) (with, without RepeatStats, err error)
	// TopPartners lists the partners by credit earned in [from, to).
	TopPartners(ctx context.Context, shopID int64, currency string, from, to time.Time, limit int) ([]PartnerEarned, error)
}

// Ratio is a ÷ b rounded to 4 decimals, or null when b is zero.
func Ratio(a, b decimal.Decimal) decimal.NullDecimal {
	if b.IsZero() {
		return decimal.NullDecimal{}
	}
	return decimal.NewNullDecimal(a.DivRound(b, 4))
}

// BuildReview builds the review of the months months ending with the
// month of now (in the shop's accounting time zone).
func BuildReview(ctx context.Context, posts ProgramPostingSource, src ReviewSource, shop Shop, currency string, months int, now time.Time) (Review, error) {
	if months < 1 || months > 36 {
		return Review{}, Errorf(EINVALID, "months must be 1..36")
	}
	loc := shop.Settings.AccountingLocation()
	n := now.In(loc)
	end := time.Date(n.Year(), n.Month()+1, 1, 0, 0, 0, 0, loc)
	start := end.AddDate(0, -months, 0)
	rev := Review{Currency: currency, From: start.Format("2006-01-02"), To: end.AddDate(0, 0, -1).Format("2006-01-02"), Months: []ReviewMonth{}}
	issued, redeemed := decimal.Zero, decimal.Zero
	for m := start; m.Before(end); m = m.AddDate(0, 1, 0) {
		rep, err := BuildPeriodReport(ctx, posts, shop, currency, Period{From: m, To: m.AddDate(0, 1, 0)})
		if err != nil {
			return rev, err
		}
		rev.Months = append(rev.Months, ReviewMonth{Month: m.Format("2006-01"), Issued: rep.Issued, Redeemed: rep.Redeemed, Expired: rep.Expired,
			Adjustments: rep.Adjustments, Breakage: rep.Expired, BreakageRate: Ratio(rep.Expired, rep.Issued), Liability: rep.ClosingLiability})
		issued, redeemed = issued.Add(rep.Issued), redeemed.Add(rep.Redeemed)
	}
	rev.RedemptionRate = Ratio(redeemed, issued)
	var err error
	if rev.WithCredit, rev.WithoutCredit, err = src.RepeatPurchases(ctx, shop.ID, currency, start, end); err != nil {
		return rev, err
	}
	rev.WithCredit.Rate = Ratio(decimal.NewFromInt(int64(rev.WithCredit.Repeat)), decimal.NewFromInt(int64(rev.WithCredit.Customers)))
	rev.WithoutCredit.Rate = Ratio(decimal.NewFromInt(int64(rev.WithoutCredit.Repeat)), decimal.NewFromInt(int64(rev.WithoutCredit.Customers)))
	if rev.TopPartners, err = src.TopPartners(ctx, shop.ID, currency, start, end, 10); err != nil {
		return rev, err
	}
	if rev.TopPartners == nil {
		rev.TopPartners = []PartnerEarned{}
	}
	return rev, nil
}

// SimOrder is a booked order replayed by the simulation: its stored
// state (snapshot, refunds and the rates frozen when it was booked) and
// the owners that earned or would earn on it.
type SimOrder struct {
	State    OrderState
	Buyer    Owner
	Partners []Owner // partners[i] is sponsor level i+1
}

// SimLine sums one beneficiary (buyer, partner1, …) of a simulation.
type SimLine struct {
	Beneficiary string          `json:"beneficiary"`
	Current     decimal.Decimal `json:"current"`
	Simulated   decimal.Decimal `json:"simulated"`
}

// SimResult is what the simulation found: the credit the orders granted
// under the rates frozen when they were booked, and what the edited rules
// would have granted, per beneficiary and per owner.
type SimResult struct {
	Currency      string                    `json:"currency"`
	Orders        int                       `json:"orders"`
	Current       decimal.Decimal           `json:"current"`
	Simulated     decimal.Decimal           `json:"simulated"`
	Difference    decimal.Decimal           `json:"difference"`
	ByBeneficiary []SimLine                 `json:"by_beneficiary"`
	ByOwner       map[Owner]decimal.Decimal `json:"-"`
}

// YearBudgets holds what each owner used of its yearly earning budget,
// per calendar year (core.CapYear).
type YearBudgets map[Owner]map[int]decimal.Decimal

func (y YearBudgets) add(o Owner, year int, amt decimal.Decimal) {
	if y[o] == nil {
		y[o] = map[int]decimal.Decimal{}
	}
	y[o][year] = y[o][year].Add(amt)
}

// SimulationSource streams the orders a simulation replays and reads the
// yearly earning budgets owners used (adapters/postgres.Directory).
type SimulationSource interface {
	// EachSimulationOrder calls fn for every stored order created at or
	// after since, oldest first (by creation, then order id), one at a
	// time, with its owners resolved.
	EachSimulationOrder(ctx context.Context, shop Shop, since time.Time, fn func(SimOrder) error) error
	// YearBudgetsUsed returns what each of owners used of its yearly
	// earning budget in currency in each of years, as booked.
	YearBudgetsUsed(ctx context.Context, shopID int64, currency string, owners []Owner, years []int) (YearBudgets, error)
}

// Simulate is the "what if" simulation of the orders created since since
// under rules (shop's settings): it streams the orders twice, so any
// number of them fits in memory bounded by the owners involved. With a
// yearly cap, the first pass finds what the replayed orders took from each
// owner's budget as booked (YearBudgetTaken), so each owner starts from
// its real budget before the window: what it used that year as booked,
// less what the replayed orders took (never below zero). The second pass
// replays them (Simulation).
func Simulate(ctx context.Context, src SimulationSource, shop Shop, rules RuleSet, since time.Time) (SimResult, error) {
	settings, currency := shop.Settings, shop.Currency
	var start YearBudgets
	if settings.EarnCapYearAmount.Valid {
		taken := YearBudgets{}
		years := map[int]bool{}
		err := src.EachSimulationOrder(ctx, shop, since, func(so SimOrder) error {
			if so.State.Order.Currency != currency {
				return nil
			}
			year := CapYear(settings, so.State.Order)
			years[year] = true
			for _, o := range append([]Owner{so.Buyer}, so.Partners...) {
				if o.Kind != "" {
					taken.add(o, year, decimal.Zero)
				}
			}
			for o, amt := range YearBudgetTaken(so.State) {
				taken.add(o, year, amt)
			}
			return nil
		})
		if err != nil {
			return SimResult{}, err
		}
		owners := make([]Owner, 0, len(taken))
		for o := range taken {
			owners = append(owners, o)
		}
		ys := make([]int, 0, len(years))
		for y := range years {
			ys = append(ys, y)
		}
		sort.Ints(ys)
		used, err := src.YearBudgetsUsed(ctx, shop.ID, currency, owners, ys)
		if err != nil {
			return SimResult{}, err
		}
		start = YearBudgets{}
		for o, byYear := range used {
			for y, u := range byYear {
				if before := u.Sub(taken[o][y]); before.IsPositive() {
					start.add(o, y, before)
				}
			}
		}
	}
	sim := NewSimulation(settings, rules, currency, start)
	if err := src.EachSimulationOrder(ctx, shop, since, sim.Add); err != nil {
		return SimResult{}, err
	}
	return sim.Result(), nil
}

// YearBudgetTaken is what an order's stored rates took from each owner's
// yearly budget when they were frozen: the credit of all the units each
// rate was frozen for, after its caps (refunds never give budget back).
func YearBudgetTaken(st OrderState) map[Owner]decimal.Decimal {
	out := map[Owner]decimal.Decimal{}
	for _, r := range st.Rates {
		if r.Owner.Kind == "" {
			continue
		}
		out[r.Owner] = out[r.Owner].Add(fullCredit(st.Order, r))
	}
	return out
}

// SimulateEarnings replays orders (in any order; they are sorted by
// creation) with every yearly budget starting empty. See Simulation.
func SimulateEarnings(settings ShopSettings, rules RuleSet, currency string, orders []SimOrder) (SimResult, error) {
	sorted := append([]SimOrder(nil), orders...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].State.Order.CreatedAt.Before(sorted[j].State.Order.CreatedAt) })
	sim := NewSimulation(settings, rules, currency, nil)
	for _, so := range sorted {
		if err := sim.Add(so); err != nil {
			return SimResult{}, err
		}
	}
	return sim.Result(), nil
}

// Simulation replays orders under rules and settings without booking
// anything, one order at a time, oldest first: for each order it freezes
// rates as the earner would for a first snapshot (FreezeRatesWith, the
// per-order cap, the yearly cap from each owner's budget, owners without
// identity dropped) and lets PlanEarnings compute the transactions
// booking would post; the simulated credit is what those transactions
// issue. Current is the credit the stored rates give (DesiredCredit),
// i.e. what was booked. Orders in another currency are skipped. It keeps
// sums per beneficiary and per owner, never the orders.
type Simulation struct {
	settings ShopSettings
	rules    RuleSet
	currency string
	yearUsed YearBudgets
	res      SimResult
	lines    map[string]*SimLine
}

// NewSimulation starts a simulation; yearUsed is what each owner had
// used of its yearly budget before the first order (nil: nothing). It is
// not changed.
func NewSimulation(settings ShopSettings, rules RuleSet, currency string, yearUsed YearBudgets) *Simulation {
	used := YearBudgets{}
	for o, byYear := range yearUsed {
		for y, u := range byYear {
			used.add(o, y, u)
		}
	}
	return &Simulation{settings: settings, rules: rules, currency: currency, yearUsed: used,
		res: SimResult{Currency: currency, ByOwner: map[Owner]decimal.Decimal{}}, lines: map[string]*SimLine{}}
}

func (s *Simulation) line(b string) *SimLine {
	l, ok := s.lines[b]
	if !ok {
		l = &SimLine{Beneficiary: b}
		s.lines[b] = l
	}
	return l
}

// Add replays one order (orders must come oldest first).
func (s *Simulation) Add(so SimOrder) error {
	st := so.State
	if st.Order.Currency != s.currency {
		return nil
	}
	s.res.Orders++
	cur, err := DesiredCredit(st)
	if err != nil {
		return err
	}
	for _, r := range st.Rates {
		amt := cur[r.Key()]
		s.line(r.Beneficiary).Current = s.line(r.Beneficiary).Current.Add(amt)
		s.res.Current = s.res.Current.Add(amt)
	}
	sim := st
	sim.Rates = nil
	if st.Order.Paid && !st.Order.Cancelled {
		fresh := dropAnonymous(FreezeRatesWith(s.settings, st.Order, nil, s.rules, so.Buyer, so.Partners))
		ApplyOrderCap(s.settings, st.Order, nil, fresh)
		year := CapYear(s.settings, st.Order)
		err := ApplyYearCap(s.settings, st.Order, fresh, func(o Owner, want, limit decimal.Decimal) (decimal.Decimal, error) {
			used := s.yearUsed[o][year]
			granted := decimal.Min(want, decimal.Max(limit.Sub(used), decimal.Zero))
			s.yearUsed.add(o, year, granted)
			return granted, nil
		})
		if err != nil {
			return err
		}
		sim.Rates = fresh
	}
	txs, err := PlanEarnings(sim, nil, func(Owner) OwnerFunds { return OwnerFunds{} }, s.settings.PendingDays > 0)
	if err != nil {
		return err
	}
	for _, t := range txs {
		for _, p := range t.Postings {
			if p.Owner.Kind == OwnerProgram || p.Currency != s.currency {
				continue
			}
			s.line(t.Reason.Beneficiary).Simulated = s.line(t.Reason.Beneficiary).Simulated.Add(p.Amount)
			s.res.Simulated = s.res.Simulated.Add(p.Amount)
			s.res.ByOwner[p.Owner] = s.res.ByOwner[p.Owner].Add(p.Amount)
		}
	}
	return nil
}

// Result returns the sums so far.
func (s *Simulation) Result() SimResult {
	res := s.res
	res.Difference = res.Simulated.Sub(res.Current)
	keys := make([]string, 0, len(s.lines))
	for k := range s.lines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	res.ByBeneficiary = []SimLine{}
	for _, k := range keys {
		res.ByBeneficiary = append(res.ByBeneficiary, *s.lines[k])
	}
	return res
}
