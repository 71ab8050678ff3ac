package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
)

type refusingIssuer struct{}

func (refusingIssuer) CreateCode(context.Context, core.Shop, core.Voucher, string) (string, error) {
	return "", errors.New("platform down")
}
func (refusingIssuer) CodeUsed(context.Context, core.Shop, core.Voucher) (bool, error) {
	return false, nil
}
func (refusingIssuer) DeleteCode(context.Context, core.Shop, core.Voucher) error { return nil }

// TestFailedVoucherIsLabelledFailed: a voucher whose code the platform
// could not create gives its credit back at once, with status failed and
// a voucher_failed transaction (not "returned"/voucher_return, which
// mean it expired unused); the same request key then says it failed.
func TestFailedVoucherIsLabelledFailed(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := cust("vf1")
	if _, err := s.Post(ctx, earnTx(1, "e1", c, "20.00")); err != nil {
		t.Fatal(err)
	}
	vs := &core.Vouchers{Store: postgres.VoucherStore{L: s}, Issuers: map[core.Platform]core.CodeIssuer{core.PlatformShopify: refusingIssuer{}},
		Rand: func() string { return "fail01" }}
	shop := core.Shop{ID: 1, Platform: core.PlatformShopify, Currency: "EUR"}
	if _, err := vs.Issue(ctx, shop, c, "EUR", dec("5.00"), "form-1"); err == nil || !strings.Contains(err.Error(), "platform down") {
		t.Fatalf("Issue = %v, want the platform's error", err)
	}
	wantBalance(t, s, 1, c, "20.00", "0")
	var status string
	if err := pool.QueryRow(ctx, `SELECT status FROM vouchers WHERE shop_id = 1 AND code = 'cbv-fail01'`).Scan(&status); err != nil || status != "failed" {
		t.Fatalf("voucher status %q, %v; want failed", status, err)
	}
	page, err := s.Statement(ctx, core.StatementQuery{ShopID: 1, Currency: "EUR", Owner: c, Limit: 10})
	if err != nil || len(page.Entries) == 0 || page.Entries[0].Reason.Kind != core.ReasonVoucherFailed {
		t.Fatalf("newest statement entry = %+v, %v; want %s", page.Entries, err, core.ReasonVoucherFailed)
	}
	if _, err := vs.Issue(ctx, shop, c, "EUR", dec("5.00"), "form-1"); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("replayed failed request = %v, want ECONFLICT", err)
	}
	// A failed voucher cannot be given back a second time.
	var id int64
	if err := pool.QueryRow(ctx, `SELECT id FROM vouchers WHERE shop_id = 1 AND code = 'cbv-fail01'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := (postgres.VoucherStore{L: s}).Return(ctx, 1, id, "again"); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("second give-back = %v, want ECONFLICT", err)
	}
	wantBalance(t, s, 1, c, "20.00", "0")
	mustAuditClean(t, pool)
}
