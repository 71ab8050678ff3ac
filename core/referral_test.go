package core_test

import (
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func referralState(net string, paid, cancelled bool, refundedQty int64) core.OrderState {
	st := core.OrderState{Order: core.Order{OrderID: "1", Currency: "EUR", Paid: paid, Cancelled: cancelled, CreatedAt: time.Now(),
		Lines: []core.OrderLine{{LineID: "a", Quantity: 2, NetTotal: decimal.RequireFromString(net)},
			{LineID: "gift", Quantity: 1, NetTotal: decimal.RequireFromString("500"), GiftCard: true}}},
		Refunds: map[string]core.Refund{}}
	if refundedQty > 0 {
		st.Refunds["r"] = core.Refund{RefundID: "r", LinesKnown: true, Lines: []core.RefundLine{{LineID: "a", Quantity: refundedQty}}}
	}
	return st
}

func TestPlanReferral(t *testing.T) {
	s := core.ReferralRewardSettings{RewardAmount: decimal.NewNullDecimal(decimal.RequireFromString("10")),
		MinOrderNet: decimal.NewNullDecimal(decimal.RequireFromString("50")), MaxRewardsPerMonth: 3}
	referrer := core.Owner{Kind: core.OwnerPartner, ID: "p"}
	rewarded := &core.ReferralReward{OrderID: "1", Status: core.ReferralRewarded}
	cases := []struct {
		name    string
		f       core.ReferralFacts
		action  core.ReferralAction
		refusal string
	}{
		{"first paid order", core.ReferralFacts{State: referralState("120", true, false, 0), Referred: true, Referrer: referrer}, core.ReferralGrant, ""},
		{"not referred", core.ReferralFacts{State: referralState("120", true, false, 0), Referrer: referrer}, core.ReferralNothing, ""},
		{"unpaid", core.ReferralFacts{State: referralState("120", false, false, 0), Referred: true, Referrer: referrer}, core.ReferralNothing, ""},
		{"gift cards do not count", core.ReferralFacts{State: referralState("40", true, false, 0), Referred: true, Referrer: referrer}, core.ReferralRefuse, core.ReferralRefusedMinOrder},
		{"partial refund, rest above minimum", core.ReferralFacts{State: referralState("120", true, false, 1), Referred: true, Referrer: referrer}, core.ReferralGrant, ""},
		{"earlier order", core.ReferralFacts{State: referralState("120", true, false, 0), Referred: true, Referrer: referrer, EarlierPaid: true}, core.ReferralRefuse, core.ReferralRefusedNotFirst},
		{"monthly limit", core.ReferralFacts{State: referralState("120", true, false, 0), Referred: true, Referrer: referrer, MonthRewards: 3}, core.ReferralRefuse, core.ReferralRefusedMonthlyLimit},
		{"inactive referrer", core.ReferralFacts{State: referralState("120", true, false, 0), Referred: true}, core.ReferralRefuse, core.ReferralRefusedNoReferrer},
		{"rewarded, still paid", core.ReferralFacts{State: referralState("120", true, false, 0), Existing: rewarded}, core.ReferralNothing, ""},
		{"rewarded, cancelled", core.ReferralFacts{State: referralState("120", true, true, 0), Existing: rewarded}, core.ReferralReverse, ""},
		{"rewarded, fully refunded", core.ReferralFacts{State: referralState("120", true, false, 2), Existing: rewarded}, core.ReferralReverse, ""},
		{"rewarded, partly refunded below the minimum: kept", core.ReferralFacts{State: referralState("80", true, false, 1), Existing: rewarded}, core.ReferralNothing, ""},
		{"reversed is final", core.ReferralFacts{State: referralState("120", true, false, 0), Existing: &core.ReferralReward{OrderID: "1", Status: core.ReferralReversed}}, core.ReferralNothing, ""},
		{"another order decided", core.ReferralFacts{State: referralState("120", true, true, 0), Existing: &core.ReferralReward{OrderID: "2", Status: core.ReferralRewarded}}, core.ReferralNothing, ""},
	}
	for _, c := range cases {
		c.f.ShopCurrency = "EUR"
		a, r := core.PlanReferral(s, c.f)
		if a != c.action || r != c.refusal {
			t.Errorf("%s: got %d %q, want %d %q", c.name, a, r, c.action, c.refusal)
		}
	}
	if got := core.ReferralOrderNet(referralState("99.99", true, false, 1)); !got.Equal(decimal.RequireFromString("50")) {
		t.Errorf("net after refunding one of two units of 99.99: %s, want 50.00 (rounded half away from zero)", got)
	}
}

func TestReferralSettingsValidate(t *testing.T) {
	bad := []core.ReferralRewardSettings{
		{RewardAmount: decimal.NewNullDecimal(decimal.RequireFromString("-1"))},
		{WelcomeAmount: decimal.NewNullDecimal(decimal.RequireFromString("1.0001"))},
		{MaxRewardsPerMonth: -1},
	}
	for _, s := range bad {
		if err := (core.ReferralSettings{ReferralRewardSettings: s}).Validate(); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", s, err)
		}
	}
}

// A referral reward and a welcome credit tell the customer like an earning.
func TestReferralCreditNotifies(t *testing.T) {
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	for _, k := range []core.ReasonKind{core.ReasonReferralReward, core.ReasonReferralWelcome} {
		if got := core.NotificationFor(k, c, decimal.RequireFromString("10")); got != core.TopicCreditEarned {
			t.Errorf("%s: %q, want %q", k, got, core.TopicCreditEarned)
		}
	}
	if got := core.NotificationFor(core.ReasonReferralReversal, c, decimal.RequireFromString("-10")); got != "" {
		t.Errorf("a reversal notifies %q", got)
	}
}
