package core

import (
	"github.com/shopspring/decimal"
)

// ProgramSettings are the settings of the loyalty program types beyond
// credit per article (issue 11). They are part of ShopSettings (the JSON
// fields sit beside the others).
type ProgramSettings struct {
	// Activities configures activity rewards (see ActivityRule).
	Activities []ActivityRule `json:"activities,omitempty"`
	// MinRedeemBalance: credit can be used (quotes, vouchers) only once
	// the customer's spendable balance reaches this amount.
	MinRedeemBalance decimal.NullDecimal `json:"min_redeem_balance,omitempty"`
	// ExpiryMonths > 0 makes credit expire (see ExpiryMode).
	ExpiryMonths int `json:"expiry_months,omitempty"`
	// ExpiryMode: "lot" (default) expires each earning lot ExpiryMonths
	// after it became available, oldest first; "inactivity" expires all
	// of a customer's credit after ExpiryMonths without an order.
	ExpiryMode string `json:"expiry_mode,omitempty"`
	// ExpiryNoticeDays > 0 sends credit.expiring that many days before
	// credit expires.
	ExpiryNoticeDays int `json:"expiry_notice_days,omitempty"`
	// SecondPurchase: bonus credit after the first paid order, usable for
	// a number of days (core/secondpurchase.go); nil: off.
	SecondPurchase *SecondPurchaseSettings `json:"second_purchase,omitempty"`
	// Campaigns: time-limited multipliers on the buyer's credit
	// (core/campaign.go).
	Campaigns []Campaign `json:"campaigns,omitempty"`
	// Notifications: webhooks, e-mail, reminders (core/notify.go).
	NotifySettings
	// Tiers and paid membership (core/tiers.go).
	TierSettings
}

// Expiry modes.
const (
	ExpiryLot        = "lot"
	ExpiryInactivity = "inactivity"
)

// Validate checks the program settings.
func (p ProgramSettings) Validate() error {
	seen := map[string]bool{}
	if len(p.Activities) > 50 {
		return Errorf(EINVALID, "at most 50 activities")
	}
	for _, a := range p.Activities {
		if err := a.Validate(); err != nil {
			return err
		}
		if seen[a.Kind] {
			return Errorf(EINVALID, "activity %s is configured twice", a.Kind)
		}
		seen[a.Kind] = true
	}
	if p.MinRedeemBalance.Valid && p.MinRedeemBalance.Decimal.IsNegative() {
		return Errorf(EINVALID, "min_redeem_balance must not be negative")
	}
	if p.ExpiryMonths < 0 || p.ExpiryMonths > 120 {
		return Errorf(EINVALID, "expiry_months must be 0..120")
	}
	switch p.ExpiryMode {
	case "", ExpiryLot, ExpiryInactivity:
	default:
		return Errorf(EINVALID, "expiry_mode must be lot or inactivity")
	}
	if p.ExpiryNoticeDays < 0 || p.ExpiryNoticeDays > 365 {
		return Errorf(EINVALID, "expiry_notice_days must be 0..365")
	}
	if len(p.Campaigns) > 20 {
		return Errorf(EINVALID, "at most 20 campaigns")
	}
	for _, c := range p.Campaigns {
		if err := c.Validate(); err != nil {
			return err
		}
	}
	if p.SecondPurchase != nil {
		if err := p.SecondPurchase.Validate(); err != nil {
			return err
		}
	}
	if err := p.TierSettings.Validate(); err != nil {
		return err
	}
	return p.NotifySettings.Validate()
}

// BelowRedeemMinimum reports whether a spendable balance is too small to
// be used at all (ProgramSettings.MinRedeemBalance).
func (p ProgramSettings) BelowRedeemMinimum(spendable decimal.Decimal) bool {
	return p.MinRedeemBalance.Valid && spendable.LessThan(p.MinRedeemBalance.Decimal)
}
