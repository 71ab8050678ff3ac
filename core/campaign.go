package core

import (
	"time"

	"github.com/shopspring/decimal"
)

// Campaigns (issue 11): a time-limited multiplier on the buyer's credit
// for the whole shop or chosen products, variants or SKUs ("double credit
// this weekend on own-brand products"). Whether an order falls in the
// window is decided by its creation time against the window's wall-clock
// times in the shop's time zone (so midnight is local midnight, across DST
// changes). The multiplier is frozen with the line's rate like the rule
// itself: ending or changing a campaign never rewrites past earnings, and
// a refund reverses exactly what was earned.

// Campaign targets.
const (
	CampaignShop    = "shop"
	CampaignProduct = "product"
	CampaignVariant = "variant"
	CampaignSKU     = "sku"
)

// CampaignTimeLayout is the wall-clock format of a campaign window.
const CampaignTimeLayout = "2006-01-02T15:04"

// Campaign is a time-limited credit multiplier.
type Campaign struct {
	Name       string          `json:"name"`
	Multiplier decimal.Decimal `json:"multiplier"` // > 0, at most 10
	Target     string          `json:"target"`     // shop, product, variant, sku
	TargetIDs  []string        `json:"target_ids,omitempty"`
	Starts     string          `json:"starts"` // wall clock in the shop's time zone, inclusive
	Ends       string          `json:"ends"`   // exclusive
}

// Validate checks a campaign.
func (c Campaign) Validate() error {
	if c.Name == "" || len(c.Name) > 80 {
		return Errorf(EINVALID, "a campaign needs a name of 1..80 characters")
	}
	if !c.Multiplier.IsPositive() || c.Multiplier.GreaterThan(decimal.NewFromInt(10)) || c.Multiplier.Exponent() < -4 {
		return Errorf(EINVALID, "campaign %s: multiplier must be above 0 and at most 10", c.Name)
	}
	switch c.Target {
	case CampaignShop:
		if len(c.TargetIDs) > 0 {
			return Errorf(EINVALID, "campaign %s: a shop-wide campaign has no target_ids", c.Name)
		}
	case CampaignProduct, CampaignVariant, CampaignSKU:
		if len(c.TargetIDs) == 0 || len(c.TargetIDs) > 1000 {
			return Errorf(EINVALID, "campaign %s: target_ids must list 1..1000 %s ids", c.Name, c.Target)
		}
	default:
		return Errorf(EINVALID, "campaign %s: target must be shop, product, variant or sku", c.Name)
	}
	s, err1 := time.Parse(CampaignTimeLayout, c.Starts)
	e, err2 := time.Parse(CampaignTimeLayout, c.Ends)
	if err1 != nil || err2 != nil || !e.After(s) {
		return Errorf(EINVALID, "campaign %s: starts and ends must be YYYY-MM-DDTHH:MM with ends after starts", c.Name)
	}
	return nil
}

// Window returns the campaign's window as instants in loc.
func (c Campaign) Window(loc *time.Location) (from, to time.Time) {
	from, _ = time.ParseInLocation(CampaignTimeLayout, c.Starts, loc)
	to, _ = time.ParseInLocation(CampaignTimeLayout, c.Ends, loc)
	return from, to
}

func (c Campaign) matches(l OrderLine) bool {
	var id string
	switch c.Target {
	case CampaignShop:
		return true
	case CampaignProduct:
		id = l.ProductID
	case CampaignVariant:
		id = l.VariantID
	case CampaignSKU:
		id = l.SKU
	}
	if id == "" {
		return false
	}
	for _, t := range c.TargetIDs {
		if t == id {
			return true
		}
	}
	return false
}

// CampaignFor returns the highest multiplier of the campaigns that cover
// a line of an order created at created (campaigns do not stack), and its
// campaign's name; ok=false when none does.
func (p ProgramSettings) CampaignFor(l OrderLine, created time.Time, loc *time.Location) (m decimal.Decimal, name string, ok bool) {
	if created.IsZero() {
		return m, "", false
	}
	for _, c := range p.Campaigns {
		from, to := c.Window(loc)
		if created.Before(from) || !created.Before(to) || !c.matches(l) {
			continue
		}
		if !ok || c.Multiplier.GreaterThan(m) {
			m, name, ok = c.Multiplier, c.Name, true
		}
	}
	return m, name, ok
}
