package core

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// Referral rewards ("bring a friend", issue 9): when a referred customer's
// first paid order is booked, the referrer (the level-1 partner of that
// order's referral) receives a one-time reward and, optionally, the new
// customer a welcome credit. Both are reversed when that first order is
// cancelled or refunded in full (a partial refund keeps them: the minimum
// order value is checked when the reward is decided). One decision is kept per
// referred customer (granted, refused with a reason, reversed), so
// replays and duplicated or out-of-order webhooks change nothing: the
// ledger keys are referral:<referred owner>:reward / :welcome (and
// :reverse for their reversals).
//
// Abuse limits: at most MaxRewardsPerMonth rewards per referrer and
// calendar month (by the first order's date, in the shop's time zone),
// and no reward for a first order whose net value (after line discounts,
// tax and shipping excluded, less refunds) is below MinOrderNet. A refused
// referral pays neither reward nor welcome credit; the refusal is recorded
// with its reason for the merchant.

// Reason kinds of referral rewards.
const (
	ReasonReferralReward   ReasonKind = "referral_reward"   // the referrer's reward for a referred customer's first paid order
	ReasonReferralWelcome  ReasonKind = "referral_welcome"  // the referred customer's welcome credit
	ReasonReferralReversal ReasonKind = "referral_reversal" // a reward or welcome credit taken back (first order cancelled or refunded)
)

// ReferralStatus is the state of a referred customer's reward.
type ReferralStatus string

// Referral statuses.
const (
	ReferralRewarded ReferralStatus = "rewarded"
	ReferralRefused  ReferralStatus = "refused"
	ReferralReversed ReferralStatus = "reversed"
)

// Refusal reasons of a referral reward (stable codes; pages translate them).
const (
	ReferralRefusedMonthlyLimit = "monthly_limit" // the referrer reached MaxRewardsPerMonth
	ReferralRefusedMinOrder     = "min_order"     // the first order's net value is below MinOrderNet
	ReferralRefusedNotFirst     = "not_first"     // the customer had paid an earlier order
	ReferralRefusedCurrency     = "currency"      // the order is not in the shop's currency
	ReferralRefusedNoReferrer   = "inactive"      // the referring partner is not active
)

// ReferralRewardSettings configure bring-a-friend rewards; all part of
// ReferralSettings (JSON fields under "referral").
type ReferralRewardSettings struct {
	// RewardAmount is the referrer's one-time reward, in the shop's
	// currency (empty or zero: none).
	RewardAmount decimal.NullDecimal `json:"reward_amount,omitzero"`
	// WelcomeAmount is the referred customer's welcome credit (empty or
	// zero: none).
	WelcomeAmount decimal.NullDecimal `json:"welcome_amount,omitzero"`
	// MaxRewardsPerMonth > 0 caps the rewards per referrer and calendar
	// month.
	MaxRewardsPerMonth int `json:"max_rewards_per_month,omitempty"`
	// MinOrderNet: no reward for a first order whose net value is below
	// this amount.
	MinOrderNet decimal.NullDecimal `json:"reward_min_order_net,omitzero"`
}

// RewardsOn reports whether referrals pay anything.
func (r ReferralRewardSettings) RewardsOn() bool {
	return (r.RewardAmount.Valid && r.RewardAmount.Decimal.IsPositive()) ||
		(r.WelcomeAmount.Valid && r.WelcomeAmount.Decimal.IsPositive())
}

// Validate checks the reward settings.
func (r ReferralRewardSettings) Validate() error {
	for _, c := range []struct {
		name string
		v    decimal.NullDecimal
	}{{"referral.reward_amount", r.RewardAmount}, {"referral.welcome_amount", r.WelcomeAmount}, {"referral.reward_min_order_net", r.MinOrderNet}} {
		if c.v.Valid && (c.v.Decimal.IsNegative() || c.v.Decimal.Exponent() < -3 || c.v.Decimal.GreaterThan(decimal.New(1, 12))) {
			return Errorf(EINVALID, "%s must be 0..10^12 with at most 3 decimals", c.name)
		}
	}
	if r.MaxRewardsPerMonth < 0 || r.MaxRewardsPerMonth > 100000 {
		return Errorf(EINVALID, "referral.max_rewards_per_month must be 0..100000")
	}
	return nil
}

// CheckScale checks the amounts against the shop's currency (at most its
// minor units).
func (r ReferralRewardSettings) CheckScale(currency string) error {
	for _, c := range []struct {
		name string
		v    decimal.NullDecimal
	}{{"referral.reward_amount", r.RewardAmount}, {"referral.welcome_amount", r.WelcomeAmount}, {"referral.reward_min_order_net", r.MinOrderNet}} {
		if c.v.Valid {
			if err := CheckScale(currency, c.v.Decimal); err != nil {
				return Errorf(EINVALID, "%s: %s", c.name, ErrorMessage(err))
			}
		}
	}
	return nil
}

// ReferralReward is the recorded decision for one referred customer.
type ReferralReward struct {
	Referred      Owner           `json:"referred"` // the new customer (c:… or g:…)
	OrderID       string          `json:"order_id"` // their first paid order
	OrderNumber   string          `json:"order_number,omitempty"`
	Referrer      Owner           `json:"referrer"`
	Status        ReferralStatus  `json:"status"`
	Refusal       string          `json:"refusal,omitempty"` // a ReferralRefused* code
	Currency      string          `json:"currency"`
	OrderNet      decimal.Decimal `json:"order_net"`
	RewardAmount  decimal.Decimal `json:"reward_amount"`
	WelcomeAmount decimal.Decimal `json:"welcome_amount"`
	RewardTxID    int64           `json:"reward_transaction_id,omitempty"`
	WelcomeTxID   int64           `json:"welcome_transaction_id,omitempty"`
	OrderedAt     time.Time       `json:"ordered_at"`
	CreatedAt     time.Time       `json:"created_at"`
	ReversedAt    *time.Time      `json:"reversed_at,omitempty"`
}

// ReferralQuery selects recorded referral rewards.
type ReferralQuery struct {
	Status ReferralStatus // empty: all
	Before int64          // keyset cursor (record id)
	Limit  int            // 1..200, default 50
}

// ReferralRewardPage is one page of recorded referral rewards, newest first.
type ReferralRewardPage struct {
	Rewards []ReferralReward `json:"rewards"`
	Next    string           `json:"next_cursor"`
}

// ReferralOrderNet is the order's net value for the minimum: the net line
// totals (gift cards excluded) of the units not refunded, rounded to the
// currency. Zero for an unpaid, cancelled or fully refunded order.
func ReferralOrderNet(st OrderState) decimal.Decimal {
	o := st.Order
	if !o.Paid || o.Cancelled || o.FullyRefunded {
		return decimal.Zero
	}
	refunded := st.RefundedQuantities()
	sum := decimal.Zero
	for _, l := range o.Lines {
		if l.GiftCard || l.Quantity <= 0 {
			continue
		}
		left := l.Quantity - refunded[l.LineID]
		if left <= 0 {
			continue
		}
		sum = sum.Add(l.NetTotal.Mul(decimal.NewFromInt(left)).Div(decimal.NewFromInt(l.Quantity)))
	}
	scale, err := CurrencyScale(o.Currency)
	if err != nil {
		scale = 2
	}
	return sum.Round(scale)
}

// ReferralAction is what converging a referred customer's reward does.
type ReferralAction int

// Referral actions.
const (
	ReferralNothing ReferralAction = iota
	ReferralGrant                  // pay reward and welcome credit
	ReferralRefuse                 // record a refusal (Refusal says why)
	ReferralReverse                // take back what was paid
)

// ReferralFacts is what the decision needs about a referred customer's order.
type ReferralFacts struct {
	State        OrderState      // the order as stored (snapshot and every refund)
	ShopCurrency string          //
	Existing     *ReferralReward // the recorded decision for the customer, if any
	Referred     bool            // the order carries a referral to an existing partner (not a self-referral)
	Referrer     Owner           // the level-1 partner's owner (empty: that partner is not active)
	EarlierPaid  bool            // the customer paid an order placed before this one
	MonthRewards int             // rewards the referrer received in the order's month
}

// PlanReferral decides what happens to a referred customer's reward after
// one of their orders changed. It is pure: the store gathers the facts
// under the customer's and the referrer's locks and applies the decision.
func PlanReferral(s ReferralRewardSettings, f ReferralFacts) (ReferralAction, string) {
	o := f.State.Order
	if f.Existing != nil {
		if f.Existing.OrderID != o.OrderID || f.Existing.Status != ReferralRewarded {
			return ReferralNothing, "" // one decision per referred customer, and a reversal is final
		}
		// Only a cancellation or a full refund takes the reward back: the
		// minimum is checked when the reward is decided, so a later change
		// of the setting never rewrites a past reward.
		if !ReferralOrderNet(f.State).IsPositive() {
			return ReferralReverse, ""
		}
		return ReferralNothing, ""
	}
	if !f.Referred || !o.Paid || o.Cancelled || o.FullyRefunded || !s.RewardsOn() {
		return ReferralNothing, ""
	}
	net := ReferralOrderNet(f.State)
	switch {
	case !net.IsPositive():
		return ReferralNothing, "" // everything already refunded: nothing to reward, nothing to record yet
	case f.EarlierPaid:
		return ReferralRefuse, ReferralRefusedNotFirst
	case o.Currency != f.ShopCurrency:
		return ReferralRefuse, ReferralRefusedCurrency
	case f.Referrer.Kind == "":
		return ReferralRefuse, ReferralRefusedNoReferrer
	case s.MinOrderNet.Valid && net.LessThan(s.MinOrderNet.Decimal):
		return ReferralRefuse, ReferralRefusedMinOrder
	case s.MaxRewardsPerMonth > 0 && f.MonthRewards >= s.MaxRewardsPerMonth:
		return ReferralRefuse, ReferralRefusedMonthlyLimit
	}
	return ReferralGrant, ""
}

// ReferralTxKey is the ledger key of a referral reward's part ("reward" or
// "welcome"); its reversal appends ":reverse".
func ReferralTxKey(referred Owner, part string) string {
	return "referral:" + referred.ID + ":" + part
}

// ReverseCredit returns the postings that take amount back from owner
// (pending first, then available; what is no longer there becomes a
// recorded overdraft) into the program's issued bucket.
func ReverseCredit(currency string, owner Owner, b Balance, amount decimal.Decimal) []Posting {
	need := amount
	ps := []Posting{{Currency: currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: amount}}
	for _, src := range []struct {
		b    Bucket
		have decimal.Decimal
	}{{BucketPending, b.Pending}, {BucketAvailable, b.Available}} {
		n := decimal.Min(need, src.have)
		if n.IsPositive() {
			ps = append(ps, Posting{Currency: currency, Owner: owner, Bucket: src.b, Amount: n.Neg()})
			need = need.Sub(n)
		}
	}
	if need.IsPositive() {
		ps = append(ps, Posting{Currency: currency, Owner: owner, Bucket: BucketOverdraft, Amount: need.Neg()})
	}
	return ps
}

// ReferralRewardStore lists recorded referral rewards (refusals included)
// for the merchant.
type ReferralRewardStore interface {
	ReferralRewards(ctx context.Context, shopID int64, q ReferralQuery) (ReferralRewardPage, error)
}

// OrderFollowers runs several followers; each sees the shops it follows.
type OrderFollowers []OrderFollower

// Follows reports whether any follower follows the shop.
func (fs OrderFollowers) Follows(shop Shop) bool {
	for _, f := range fs {
		if f.Follows(shop) {
			return true
		}
	}
	return false
}

// OrderApplied tells every follower of the shop, stopping at the first
// error (every follower is idempotent, so the retry repeats the others
// harmlessly).
func (fs OrderFollowers) OrderApplied(ctx context.Context, shop Shop, o Order, buyer Owner) error {
	for _, f := range fs {
		if f.Follows(shop) {
			if err := f.OrderApplied(ctx, shop, o, buyer); err != nil {
				return err
			}
		}
	}
	return nil
}
