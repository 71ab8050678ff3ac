package core

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// VoucherStatus is the life-cycle state of a voucher.
type VoucherStatus string

// Voucher states: pending (credit moved, platform code being created),
// issued (code live), used (settled by an order), returned (expired
// unused: credit given back), failed (the platform could not create the
// code: credit given back at once).
const (
	VoucherPending  VoucherStatus = "pending"
	VoucherIssued   VoucherStatus = "issued"
	VoucherUsed     VoucherStatus = "used"
	VoucherReturned VoucherStatus = "returned"
	VoucherFailed   VoucherStatus = "failed"
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
	// RequestKey is the client's idempotency key, if it sent one.
	RequestKey string `json:"-"`
	// Replayed: CreatePending found the voucher of an earlier request
	// with the same key (and created nothing).
	Replayed bool `json:"-"`
	// MinAvailable, when set, is the balance the owner's available credit
	// must reach before any of it can become a voucher (the shop's
	// min_redeem_balance), checked by CreatePending under the balance lock.
	MinAvailable decimal.NullDecimal `json:"-"`
}

// VoucherService issues vouchers and settles or returns them.
type VoucherService interface {
	// Issue turns amount into a voucher; a non-empty key makes it
	// idempotent: the same key returns the voucher of the first request.
	Issue(ctx context.Context, shop Shop, owner Owner, currency string, amount decimal.Decimal, key string) (Voucher, error)
}

// VoucherStore persists vouchers; every state change posts its ledger
// transaction in the same database transaction.
type VoucherStore interface {
	// CreatePending inserts the voucher and moves its amount from the
	// owner's available credit to the program's vouchers bucket
	// (EINSUFFICIENT when not enough is available). With a request key
	// already used, it returns that voucher marked Replayed (ECONFLICT if
	// the key was used for another owner, currency or amount).
	CreatePending(ctx context.Context, v Voucher) (Voucher, error)
	MarkIssued(ctx context.Context, shopID, id int64, platformRef string) error
	// Return gives an unused voucher's credit back (pending/issued only).
	Return(ctx context.Context, shopID, id int64, note string) (Voucher, error)
	// Fail gives a pending voucher's credit back because the platform
	// could not create its code (status failed, reason voucher_failed).
	Fail(ctx context.Context, shopID, id int64, note string) (Voucher, error)
	// Expired lists unresolved vouchers past their expiry with id > afterID,
	// by id (a keyset page).
	Expired(ctx context.Context, now time.Time, afterID int64, limit int) ([]Voucher, error)
}

// VoucherTx settles vouchers inside an order's database transaction.
type VoucherTx interface {
	VoucherByCode(ctx context.Context, code string) (Voucher, bool, error)
	// SettleVoucher marks the voucher used by the order and moves its
	// amount from the vouchers bucket to redeemed.
	SettleVoucher(ctx context.Context, v Voucher, orderID string) error
}

// CodeIssuer creates and checks voucher codes on a platform.
type CodeIssuer interface {
	CreateCode(ctx context.Context, shop Shop, v Voucher, email string) (platformRef string, err error)
	// CodeUsed reports whether the platform recorded a use of the code.
	CodeUsed(ctx context.Context, shop Shop, v Voucher) (bool, error)
	DeleteCode(ctx context.Context, shop Shop, v Voucher) error
}

// EmailLookup finds the e-mail of a registered customer (to bind a
// platform coupon to it).
type EmailLookup func(ctx context.Context, shop Shop, owner Owner) (string, error)

// Vouchers turns credit into single-use codes (VoucherService).
type Vouchers struct {
	Store   VoucherStore
	Issuers map[Platform]CodeIssuer
	Email   EmailLookup
	Now     func() time.Time
	Rand    func() string   // code suffix generator
	Notify  BalanceNotifier // optional: told after issue and return
}

// VoucherCodePrefix starts every voucher code; platforms compare it
// case-insensitively (WooCommerce lower-cases coupon codes).
const VoucherCodePrefix = "cbv-"

// Issue reserves the credit, creates the code on the platform, and gives
// the credit back if the platform refuses.
func (s *Vouchers) Issue(ctx context.Context, shop Shop, owner Owner, currency string, amount decimal.Decimal, key string) (Voucher, error) {
	if len(key) > 255 {
		return Voucher{}, Errorf(EINVALID, "idempotency key longer than 255 characters")
	}
	if err := owner.Validate(); err != nil {
		return Voucher{}, err
	}
	if err := CheckScale(currency, amount); err != nil {
		return Voucher{}, err
	}
	if !amount.IsPositive() {
		return Voucher{}, Errorf(EINVALID, "voucher amount must be positive")
	}
	iss, ok := s.Issuers[shop.Platform]
	if !ok {
		return Voucher{}, Errorf(EINVALID, "vouchers are not available on %s", shop.Platform)
	}
	days := shop.Settings.VoucherDays
	if days <= 0 {
		days = 90
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	v, err := s.Store.CreatePending(ctx, Voucher{ShopID: shop.ID, Code: VoucherCodePrefix + s.Rand(), Currency: currency, Owner: owner, Amount: amount,
		Status: VoucherPending, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour), RequestKey: key, MinAvailable: shop.Settings.MinRedeemBalance})
	if err != nil {
		return Voucher{}, err
	}
	if v.Replayed {
		switch v.Status {
		case VoucherIssued, VoucherUsed:
			return v, nil
		case VoucherPending:
			return Voucher{}, Errorf(ECONFLICT, "the voucher of this request is still being created: try again in a moment")
		default:
			return Voucher{}, Errorf(ECONFLICT, "this request failed earlier and its credit was returned: send a new request (a new idempotency key)")
		}
	}
	email := ""
	if s.Email != nil {
		if email, err = s.Email(ctx, shop, owner); err != nil {
			email = ""
		}
	}
	ref, err := iss.CreateCode(ctx, shop, v, email)
	if err != nil {
		if _, rerr := s.Store.Fail(ctx, shop.ID, v.ID, "the voucher code could not be created: credit returned"); rerr != nil {
			return Voucher{}, fmt.Errorf("create code: %w (and returning the credit failed: %w; the expiry job will retry)", err, rerr)
		}
		return Voucher{}, fmt.Errorf("create voucher code on %s: %w", shop.Platform, err)
	}
	if err := s.Store.MarkIssued(ctx, shop.ID, v.ID, ref); err != nil {
		return Voucher{}, err
	}
	v.Status, v.PlatformRef = VoucherIssued, ref
	if s.Notify != nil {
		s.Notify(ctx, shop, []Owner{owner})
	}
	return v, nil
}

// UnsettledGrace is how long after its expiry a code the platform reports
// as used, but that no paid order settled, is given back: the order that
// used it was never paid (or was cancelled first).
const UnsettledGrace = 7 * 24 * time.Hour

// ExpireVouchers returns the credit of expired, unused vouchers after
// deleting their codes. A code the platform reports as used is left for
// the order webhook to settle, for UnsettledGrace. It pages through every
// expired voucher, so vouchers it has to skip (a platform error) never
// block the others.
func (s *Vouchers) ExpireVouchers(ctx context.Context, shops func(ctx context.Context, id int64) (Shop, error)) (int, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	n := 0
	var after int64
	for {
		vs, err := s.Store.Expired(ctx, now, after, 500)
		if err != nil {
			return n, err
		}
		for _, v := range vs {
			after = v.ID
			shop, err := shops(ctx, v.ShopID)
			if err != nil {
				continue
			}
			if iss, ok := s.Issuers[shop.Platform]; ok && v.Status == VoucherIssued {
				used, err := iss.CodeUsed(ctx, shop, v)
				if err != nil || (used && now.Before(v.ExpiresAt.Add(UnsettledGrace))) {
					continue
				}
				if err := iss.DeleteCode(ctx, shop, v); err != nil {
					continue
				}
			}
			note := "voucher expired unused"
			if _, err := s.Store.Return(ctx, v.ShopID, v.ID, note); err != nil {
				if ErrorCode(err) == ECONFLICT {
					continue
				}
				return n, err
			}
			if s.Notify != nil {
				s.Notify(ctx, shop, []Owner{v.Owner})
			}
			n++
		}
		if len(vs) < 500 {
			return n, nil
		}
	}
}
