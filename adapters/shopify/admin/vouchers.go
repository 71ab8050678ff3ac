package admin

import (
	"context"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// VoucherIssuer creates voucher codes as single-use, customer-bound
// Shopify discount codes (core.CodeIssuer).
type VoucherIssuer struct {
	Client func(ctx context.Context, shop core.Shop) (*Client, error)
}

var _ core.CodeIssuer = VoucherIssuer{}

// CreateCode creates the discount code for the voucher's customer.
func (v VoucherIssuer) CreateCode(ctx context.Context, shop core.Shop, vc core.Voucher, _ string) (string, error) {
	c, err := v.Client(ctx, shop)
	if err != nil {
		return "", err
	}
	// A code must be bound to its owner, or anyone holding it could use
	// it: only registered Shopify customers can have vouchers.
	if vc.Owner.Kind != core.OwnerCustomer || !strings.HasPrefix(vc.Owner.ID, "c:") {
		return "", core.Errorf(core.EINVALID, "vouchers are issued to registered customers only (a code must be bound to its owner)")
	}
	gid := "gid://shopify/Customer/" + strings.TrimPrefix(vc.Owner.ID, "c:")
	return c.CreateVoucherCode(ctx, VoucherCode{Code: strings.ToUpper(vc.Code), Title: "Store credit voucher " + strings.ToUpper(vc.Code), CustomerGID: gid,
		Amount: core.StringFixedFor(vc.Currency, vc.Amount), Currency: vc.Currency, StartsAt: time.Now().Add(-time.Minute), EndsAt: vc.ExpiresAt})
}

// CodeUsed reports whether Shopify counted a use of the code.
func (v VoucherIssuer) CodeUsed(ctx context.Context, shop core.Shop, vc core.Voucher) (bool, error) {
	c, err := v.Client(ctx, shop)
	if err != nil {
		return false, err
	}
	n, _, found, err := c.CodeUsage(ctx, strings.ToUpper(vc.Code))
	return found && n > 0, err
}

// DeleteCode deactivates the discount code.
func (v VoucherIssuer) DeleteCode(ctx context.Context, shop core.Shop, vc core.Voucher) error {
	if vc.PlatformRef == "" {
		return nil
	}
	c, err := v.Client(ctx, shop)
	if err != nil {
		return err
	}
	return c.DeactivateCode(ctx, vc.PlatformRef)
}
