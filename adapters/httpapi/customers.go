package httpapi

// Customer search for the embedded admin's Customers screen:
//
//	GET /api/v1/shops/:shop/customers?q=   admin; by platform id (exact) or part of the e-mail

import (
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

func init() { extraRouteFuncs = append(extraRouteFuncs, customerRoutes) }

func customerRoutes(s *Server, _ *fiber.App, api fiber.Router) {
	// The /shops group's adminAuth middleware already covers this path.
	api.Get("/shops/:shop/customers", s.searchCustomers)
}

func (s *Server) searchCustomers(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	q := c.Query("q")
	if len(q) > 200 {
		return core.Errorf(core.EINVALID, "q must be at most 200 characters")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	found, err := s.deps.Store.SearchCustomers(ctx, shop.ID, q, c.QueryInt("limit", 20))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"customers": found})
}
