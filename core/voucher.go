package core

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// VoucherStatus is the life-cycle state of a voucher.
type VoucherStatus string

// Voucher states: pending (credit moved, platform code being created),
// issued (code live), used (settled by an order), returned (expired or
// failed to create: credit given back).
const (
	VoucherPending  VoucherStatus = "pending"
	VoucherIssued   VoucherStatus = "issued"
	VoucherUsed     VoucherStatus = "used"
	VoucherReturned VoucherStatus = "returned"
)

// Voucher is credit turned into a single-use discount code bound to its
// owner.
type Voucher struct {
	ID          int64           `json:"id"`
	ShopID      int64           `json:"-"`
	Code        string          `json:"code"`
	Currency    string          `json:"currency"`
	Owner       Owner           `json:"owner"`
	Amount      decimal.Decimal `json:"amount"`
	Status      VoucherStatus   `json:"status"`
	PlatformRef string          `json:"platform_ref,omitempty"`
	OrderID     string          `json:"order_id,omitempty"`
	ExpiresAt   time.Time       `json:"expires_at"`
	CreatedAt   time.Time       `json:"created_at"`
}

// VoucherService issues vouchers and settles or returns them.
type VoucherService interface {
	Issue(ctx context.Context, shop Shop, owner Owner, currency string, amount decimal.Decimal) (Voucher, error)
}
