package httpapi

import (
	"context"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

// Tiers and paid membership (issue 11): the merchant defines them, and
// reads a customer's tier with its history; statements show the tier.

// TierService reads customers' tiers (postgres.TierStore).
type TierService interface {
	core.TierReader
	TierHistory(ctx context.Context, shopID int64, owner core.Owner, limit int) ([]core.TierChange, error)
}

func init() { extraRouteFuncs = append(extraRouteFuncs, tierRoutes) }

func tierRoutes(s *Server, app *fiber.App, api fiber.Router) {
	api.Get("/shops/:shop/tiers", s.adminAuth, s.getTiers)
	api.Put("/shops/:shop/tiers", s.adminAuth, s.putTiers)
	api.Get("/shops/:shop/customers/:customer/tier", s.adminAuth, s.customerTier)
}

func (s *Server) getTiers(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	return c.JSON(shop.Settings.TierSettings)
}

// putTiers replaces the shop's tier settings (tiers, basis, period,
// membership) as a whole; the other settings keep their values. Lines
// already earned keep the tier frozen with them.
func (s *Server) putTiers(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	var t core.TierSettings
	if err := decode(c, &t); err != nil {
		return err
	}
	shop.Settings.TierSettings = t
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	if err := s.deps.Store.UpdateSettings(ctx, shop); err != nil {
		return err
	}
	s.ForgetShops()
	return c.JSON(shop.Settings.TierSettings)
}

func (s *Server) customerTier(c *fiber.Ctx) error {
	shop, owner, err := s.scopedOwner(c)
	if err != nil {
		return err
	}
	if s.deps.Tiers == nil || !shop.Settings.TiersEnabled() {
		return core.Errorf(core.ENOTFOUND, "the shop has no tiers")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	st, err := core.CustomerTier(ctx, s.deps.Tiers, shop, owner, time.Now())
	if err != nil {
		return err
	}
	hist, err := s.deps.Tiers.TierHistory(ctx, shop.ID, owner, 50)
	if err != nil {
		return err
	}
	if hist == nil {
		hist = []core.TierChange{}
	}
	return c.JSON(fiber.Map{"status": tierView(shop, st), "history": hist})
}

// tierView formats a tier status with the shop currency's decimals.
func tierView(shop core.Shop, st core.TierStatus) fiber.Map {
	m := fiber.Map{"tier": st.Tier, "multiplier": st.Multiplier.String(), "member": st.Member, "basis": st.Basis,
		"qualifying": core.StringFixedFor(shop.Currency, st.Qualifying), "review_at": st.ReviewAt.UTC().Format(time.RFC3339)}
	if x, ok := shop.Settings.TierByName(st.Tier); ok {
		if x.MaxPercent.Valid {
			m["max_percent"] = x.MaxPercent.Decimal.String()
		}
		if x.MaxAmount.Valid {
			m["max_amount"] = core.StringFixedFor(shop.Currency, x.MaxAmount.Decimal)
		}
	}
	if st.Next != "" && st.Missing.Valid {
		m["next_tier"], m["missing"] = st.Next, core.StringFixedFor(shop.Currency, st.Missing.Decimal)
	}
	if st.MemberUntil != nil {
		m["member_until"] = st.MemberUntil.UTC().Format(time.RFC3339)
	}
	return m
}

// statementTier adds the customer's tier to a statement (shops with
// tiers): the figures and a sentence in the reader's language.
func (s *Server) statementTier(ctx context.Context, l *i18n.Locale, shop core.Shop, owner core.Owner, out fiber.Map) error {
	if s.deps.Tiers == nil || !shop.Settings.TiersEnabled() || owner.Kind != core.OwnerCustomer {
		return nil
	}
	st, err := core.CustomerTier(ctx, s.deps.Tiers, shop, owner, time.Now())
	if err != nil {
		return err
	}
	v := tierView(shop, st)
	if st.Tier != "" {
		v["text"] = l.T("stmt.tier", st.Tier)
	}
	if st.Next != "" && st.Missing.Valid {
		v["next_text"] = l.T("stmt.tier_next", l.Money(shop.Currency, core.StringFixedFor(shop.Currency, st.Missing.Decimal)), st.Next)
	}
	out["tier"] = v
	return nil
}
