package httpapi

// WooCommerce customer addresses for the household self-referral check
// (issue 9, core/household.go). Woo orders carry their billing and
// shipping addresses; the addresses a customer keeps in their account
// (My Account > Addresses, the user's profile in the WP admin) reach the
// bridge only through the plugin, which sends them here when they change.
// Shopify sends the same through customers/create and customers/update.
// The bridge normalizes them (core.NormalizeAddress, the same as for
// orders) and stores only their keyed hashes, and only while the shop's
// household check is on.
//
// Routes (signed by the plugin, pluginAuth):
//
//	POST /api/v1/plugin/customers/:customer/addresses  {addresses: [{address_1, postcode, country}]} → {recorded, household_check}

import (
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, householdRoutes) }

func householdRoutes(s *Server, _ *fiber.App, api fiber.Router) {
	api.Post("/plugin/customers/:customer/addresses", s.pluginAuth, s.pluginCustomerAddresses)
}

// maxCustomerAddresses bounds one request (WooCommerce has two per
// customer: billing and shipping).
const maxCustomerAddresses = 10

type customerAddress struct {
	Address1 string `json:"address_1"`
	Postcode string `json:"postcode"`
	Country  string `json:"country"`
}

// pluginCustomerAddresses records a WooCommerce customer's account
// addresses as their household. Incomplete addresses (no street, postcode
// or country) identify no household and are dropped; recorded counts the
// distinct normalized ones kept, 0 while the check is off.
func (s *Server) pluginCustomerAddresses(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	var r struct {
		Addresses []customerAddress `json:"addresses"`
	}
	if err := decodeLenient(c, &r); err != nil {
		return err
	}
	if len(r.Addresses) > maxCustomerAddresses {
		return core.Errorf(core.EINVALID, "addresses: at most %d", maxCustomerAddresses)
	}
	var list []string
	for _, a := range r.Addresses {
		if len(a.Address1) > 255 || len(a.Postcode) > 32 || len(a.Country) > 3 {
			return core.Errorf(core.EINVALID, "addresses: address_1 (255), postcode (32) or country (3) too long")
		}
		list = core.AddAddress(list, a.Address1, a.Postcode, a.Country)
	}
	if !shop.Settings.Referral.HouseholdCheck {
		return c.JSON(fiber.Map{"recorded": 0, "household_check": false})
	}
	pid, _ := customerPlatformID(owner)
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	if err := s.deps.Store.RecordCustomerAddresses(ctx, shop, pid, list); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"recorded": len(list), "household_check": true})
}
