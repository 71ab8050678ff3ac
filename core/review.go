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

// SimulateEarnings replays orders under rules and settings without
// booking anything: for each order it freezes rates as the earner would
// for a first snapshot (FreezeRatesWith, the per-order cap, the yearly
// cap from a budget that starts empty, owners without identity dropped)
// and lets PlanEarnings compute the transactions booking would post; the
// simulated credit is what those transactions issue. Current is the
// credit the stored rates give (DesiredCredit), i.e. what was booked.
// Orders in another currency are skipped.
func SimulateEarnings(settings ShopSettings, rules RuleSet, currency string, orders []SimOrder) (SimResult, error) {
	res := SimResult{Currency: currency, ByOwner: map[Owner]decimal.Decimal{}}
	lines := map[string]*SimLine{}
	line := func(b string) *SimLine {
		l, ok := lines[b]
		if !ok {
			l = &SimLine{Beneficiary: b}
			lines[b] = l
		}
		return l
	}
	sorted := append([]SimOrder(nil), orders...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].State.Order.CreatedAt.Before(sorted[j].State.Order.CreatedAt) })
	yearUsed := map[Owner]map[int]decimal.Decimal{}
	for _, so := range sorted {
		st := so.State
		if st.Order.Currency != currency {
			continue
		}
		res.Orders++
		cur, err := DesiredCredit(st)
		if err != nil {
			return res, err
		}
		for _, r := range st.Rates {
			amt := cur[r.Key()]
			line(r.Beneficiary).Current = line(r.Beneficiary).Current.Add(amt)
			res.Current = res.Current.Add(amt)
		}
		sim := st
		sim.Rates = nil
		if st.Order.Paid && !st.Order.Cancelled {
			fresh := dropAnonymous(FreezeRatesWith(settings, st.Order, nil, rules, so.Buyer, so.Partners))
			ApplyOrderCap(settings, st.Order, nil, fresh)
			year := CapYear(settings, st.Order)
			err := ApplyYearCap(settings, st.Order, fresh, func(o Owner, want, limit decimal.Decimal) (decimal.Decimal, error) {
				if yearUsed[o] == nil {
					yearUsed[o] = map[int]decimal.Decimal{}
				}
				used := yearUsed[o][year]
				granted := decimal.Min(want, decimal.Max(limit.Sub(used), decimal.Zero))
				yearUsed[o][year] = used.Add(granted)
				return granted, nil
			})
			if err != nil {
				return res, err
			}
			sim.Rates = fresh
		}
		txs, err := PlanEarnings(sim, nil, func(Owner) OwnerFunds { return OwnerFunds{} }, settings.PendingDays > 0)
		if err != nil {
			return res, err
		}
		for _, t := range txs {
			for _, p := range t.Postings {
				if p.Owner.Kind == OwnerProgram || p.Currency != currency {
					continue
				}
				line(t.Reason.Beneficiary).Simulated = line(t.Reason.Beneficiary).Simulated.Add(p.Amount)
				res.Simulated = res.Simulated.Add(p.Amount)
				res.ByOwner[p.Owner] = res.ByOwner[p.Owner].Add(p.Amount)
			}
		}
	}
	res.Difference = res.Simulated.Sub(res.Current)
	keys := make([]string, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	res.ByBeneficiary = []SimLine{}
	for _, k := range keys {
		res.ByBeneficiary = append(res.ByBeneficiary, *lines[k])
	}
	return res, nil
}
