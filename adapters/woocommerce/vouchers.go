package woocommerce

import (
	"context"

	"github.com/creditbridge/creditbridge/core"
)

// CouponAPI is the part of the REST client vouchers use.
type CouponAPI interface {
	CreateCoupon(ctx context.Context, r CouponRequest) (Coupon, error)
	GetCouponByCode(ctx context.Context, code string) (Coupon, bool, error)
	DeleteCoupon(ctx context.Context, id string) error
}

// VoucherIssuer creates voucher codes as single-use WooCommerce coupons
// bound to the customer's e-mail (core.CodeIssuer).
type VoucherIssuer struct {
	Client func(shop core.Shop) (CouponAPI, error)
}

var _ core.CodeIssuer = VoucherIssuer{}

// CreateCode creates the coupon and returns its id.
func (v VoucherIssuer) CreateCode(ctx context.Context, shop core.Shop, vc core.Voucher, email string) (string, error) {
	c, err := v.Client(shop)
	if err != nil {
		return "", core.Errorf(core.EINVALID, "the shop has no REST credentials to create coupons")
	}
	if email == "" {
		// An unbound coupon could be used by anyone holding the code.
		return "", core.Errorf(core.EINVALID, "no e-mail is known for this customer yet (it is recorded with their first order), so the voucher cannot be bound to them")
	}
	// The redemption base is frozen with the coupon: the plugin sizes the
	// coupon in the cart by it (gross: the gross total falls by the face
	// value in a shop whose prices exclude tax; net: the face value comes
	// off the net total).
	base := shop.Settings.RedeemBase
	if base == "" {
		base = core.RedeemGross
	}
	req := CouponRequest{Code: vc.Code, Currency: vc.Currency, Amount: vc.Amount, ExpiresAt: vc.ExpiresAt, Description: "creditbridge voucher",
		Meta: map[string]string{"_creditbridge_voucher": vc.Code, "_creditbridge_redeem_base": string(base)}, EmailRestrictions: []string{email}}
	cp, err := c.CreateCoupon(ctx, req)
	if err != nil {
		// A lost response may hide a created coupon: look it up.
		if got, ok, lerr := c.GetCouponByCode(ctx, vc.Code); lerr == nil && ok {
			return got.ID, nil
		}
		return "", err
	}
	return cp.ID, nil
}

// CodeUsed reports whether the coupon was used.
func (v VoucherIssuer) CodeUsed(ctx context.Context, shop core.Shop, vc core.Voucher) (bool, error) {
	c, err := v.Client(shop)
	if err != nil {
		return false, err
	}
	cp, ok, err := c.GetCouponByCode(ctx, vc.Code)
	if err != nil || !ok {
		return false, err
	}
	return cp.UsageCount > 0, nil
}

// DeleteCode deletes the coupon.
func (v VoucherIssuer) DeleteCode(ctx context.Context, shop core.Shop, vc core.Voucher) error {
	c, err := v.Client(shop)
	if err != nil {
		return err
	}
	if vc.PlatformRef == "" {
		return nil
	}
	return c.DeleteCoupon(ctx, vc.PlatformRef)
}
