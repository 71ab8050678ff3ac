package core_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

var (
	buyer  = core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	stroke = core.Owner{Kind: core.OwnerCustomer, ID: "c:2"} // another customer
)

// postings renders a transaction's postings as "owner bucket amount"
// lines, sorted, so a case states exactly what it books.
func postings(t core.Transaction) string {
	var ls []string
	for _, p := range t.Postings {
		who := string(p.Owner.Kind)
		if p.Owner.ID != "" {
			who = p.Owner.ID
		}
		ls = append(ls, who+" "+string(p.Bucket)+" "+p.Amount.StringFixed(2))
	}
	sort.Strings(ls)
	return strings.Join(ls, ", ")
}

// mustBalance fails unless every currency's postings sum to zero.
func mustBalance(tb testing.TB, ts ...core.Transaction) {
	tb.Helper()
	for _, t := range ts {
		sums := map[string]decimal.Decimal{}
		for _, p := range t.Postings {
			sums[p.Currency] = sums[p.Currency].Add(p.Amount)
		}
		for cur, s := range sums {
			if !s.IsZero() {
				tb.Fatalf("%s does not balance in %s: %s", t.Key, cur, s)
			}
		}
		if err := t.Validate(); err != nil {
			tb.Fatalf("%s: %v", t.Key, err)
		}
	}
}

func settleOrder(paid, cancelled bool, used string, lines ...core.OrderLine) core.Order {
	o := core.Order{ShopID: 1, OrderID: "9001", OrderNumber: "#9001", Currency: "EUR", Paid: paid, Cancelled: cancelled, CartKey: "cart-1",
		Lines: lines}
	if len(lines) == 0 {
		o.Lines = []core.OrderLine{{LineID: "1", Quantity: 2, NetTotal: d("50.00")}, {LineID: "2", Quantity: 1, NetTotal: d("50.00")}}
	}
	if used != "" {
		o.Redemptions = []core.Redemption{{Kind: core.RedemptionDiscount, Code: "CREDIT", Amount: d(used)}}
	}
	return o
}

func openHold(amount string) *core.Hold {
	return &core.Hold{ID: 41, ShopID: 1, Currency: "EUR", Owner: buyer, Amount: d(amount), Captured: decimal.Zero, Status: core.HoldOpen, CartKey: "cart-1", PlaceTxID: 40}
}

func capturedHold(amount, captured string) *core.Hold {
	h := openHold(amount)
	h.Status, h.Captured, h.OrderID, h.ResolveTxID = core.HoldCaptured, d(captured), "9001", 77
	return h
}

func redeemTx(id int64, key string, kind core.ReasonKind, amount string) core.Transaction {
	return core.Transaction{ID: id, ShopID: 1, Key: key, Reason: core.Reason{Kind: kind, OrderID: "9001"},
		Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: d(amount)},
			{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: d(amount).Neg()}}}
}

func funds(bs map[core.Owner]core.Balance) func(string, core.Owner) core.Balance {
	return func(cur string, o core.Owner) core.Balance { return bs[o] }
}

func voucher(status core.VoucherStatus, orderID string) core.Voucher {
	return core.Voucher{ID: 5, ShopID: 1, Code: "gift-5", Currency: "EUR", Owner: buyer, Amount: d("15.00"), Status: status, OrderID: orderID}
}

// TestPlanSettlement states, case by case, what settling an order books:
// the hold action, the redemption or its reversal (exact postings, key
// and link), and what its vouchers give back.
func TestPlanSettlement(t *testing.T) {
	t.Parallel()
	refundLine2 := map[string]core.Refund{"r1": {RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "2", Quantity: 1}}}}
	cases := []struct {
		name     string
		order    core.Order
		refunds  map[string]core.Refund
		hold     *core.Hold
		vouchers []core.Voucher
		posted   []core.Transaction
		bal      map[core.Owner]core.Balance
		buyer    core.Owner

		hold2     string // "captured 8.00", "voided order cancelled", "" for none
		captured  string
		redeem    string // postings of the redemption, "" for none
		key       string
		reverses  int64
		revCap    bool
		vouchers2 []string // per voucher action: "settle", "settle+<postings>", "<postings>"
	}{
		{name: "capture by the credit used, the rest released", order: settleOrder(true, false, "8.00"), hold: openHold("10.00"), buyer: buyer,
			hold2: "captured 8.00", captured: "8.00"},
		{name: "paid without using the hold: void", order: settleOrder(true, false, ""), hold: openHold("10.00"), buyer: buyer,
			hold2: "voided order did not use the credit", captured: "0.00"},
		{name: "cancelled with an open hold: void", order: settleOrder(false, true, "10.00"), hold: openHold("10.00"), buyer: buyer,
			hold2: "voided order cancelled", captured: "0.00"},
		{name: "more used than held: the excess from available, the shortfall an overdraft",
			order: settleOrder(true, false, "12.00"), hold: openHold("10.00"), buyer: buyer,
			bal:   map[core.Owner]core.Balance{buyer: {Available: d("1.00"), Held: d("10.00")}},
			hold2: "captured 10.00", captured: "10.00",
			redeem: "c:1 available -1.00, c:1 overdraft -1.00, program redeemed 2.00", key: "order:9001:redeem:v1"},
		{name: "used without a hold, balance short", order: settleOrder(true, false, "5.00"), buyer: buyer,
			bal:      map[core.Owner]core.Balance{buyer: {Available: d("3.00")}},
			captured: "0.00",
			redeem:   "c:1 available -3.00, c:1 overdraft -2.00, program redeemed 5.00", key: "order:9001:redeem:v1"},
		{name: "a paid snapshot that no longer uses credit: the hold voided, the earlier redemption back (overdraft first)", order: settleOrder(true, false, ""),
			hold: openHold("4.00"), buyer: buyer, posted: []core.Transaction{redeemTx(70, "order:9001:redeem:v1", core.ReasonRedeem, "6.00")},
			bal:   map[core.Owner]core.Balance{buyer: {Available: d("0.00"), Held: d("4.00"), Overdraft: d("-1.00")}},
			hold2: "voided order did not use the credit", captured: "0.00",
			redeem: "c:1 available 5.00, c:1 overdraft 1.00, program redeemed -6.00", key: "order:9001:redeem:v2", reverses: 70},
		{name: "cancelled after a redemption without a hold: overdraft repaid first",
			order: settleOrder(false, true, "5.00"), buyer: buyer, posted: []core.Transaction{redeemTx(70, "order:9001:redeem:v1", core.ReasonRedeem, "5.00")},
			bal:      map[core.Owner]core.Balance{buyer: {Available: d("0.00"), Overdraft: d("-2.00")}},
			captured: "0.00",
			redeem:   "c:1 available 3.00, c:1 overdraft 2.00, program redeemed -5.00", key: "order:9001:redeem:v2", reverses: 70},
		{name: "cancelled after its hold was captured: the capture comes back", order: settleOrder(false, true, "10.00"),
			hold: capturedHold("10.00", "10.00"), buyer: buyer, captured: "10.00",
			redeem: "c:1 available 10.00, program redeemed -10.00", key: "order:9001:redeem:v1", reverses: 77},
		{name: "restored after the cancellation: taken again", order: settleOrder(true, false, "5.00"), buyer: buyer,
			posted:   []core.Transaction{redeemTx(70, "order:9001:redeem:v1", core.ReasonRedeem, "5.00"), redeemTx(71, "order:9001:redeem:v2", core.ReasonRedeemReversal, "-5.00")},
			bal:      map[core.Owner]core.Balance{buyer: {Available: d("20.00")}},
			captured: "0.00",
			redeem:   "c:1 available -5.00, program redeemed 5.00", key: "order:9001:redeem:v3"},
		{name: "partial refund gives back its share of a captured hold", order: settleOrder(true, false, "10.00"), refunds: refundLine2,
			hold: capturedHold("10.00", "10.00"), buyer: buyer, captured: "10.00",
			redeem: "c:1 available 5.00, program redeemed -5.00", key: "order:9001:redeem:v1", reverses: 77},
		{name: "first seen already refunded: capture, then give back its share", order: settleOrder(true, false, "10.00"), refunds: refundLine2,
			hold: openHold("10.00"), buyer: buyer, bal: map[core.Owner]core.Balance{buyer: {Held: d("10.00")}},
			hold2: "captured 10.00", captured: "10.00",
			redeem: "c:1 available 5.00, program redeemed -5.00", key: "order:9001:redeem:v1", revCap: true},
		{name: "unpaid snapshot neither takes nor gives back", order: settleOrder(false, false, "5.00"), buyer: buyer,
			posted: []core.Transaction{redeemTx(70, "order:9001:redeem:v1", core.ReasonRedeem, "5.00")}, captured: "0.00"},
		{name: "hold of another order's checkout: the buyer pays", order: settleOrder(true, false, "3.00"), buyer: stroke,
			hold: func() *core.Hold { h := capturedHold("10.00", "10.00"); h.OrderID = "8000"; return h }(),
			bal:  map[core.Owner]core.Balance{stroke: {Available: d("3.00")}}, captured: "0.00",
			redeem: "c:2 available -3.00, program redeemed 3.00", key: "order:9001:redeem:v1"},
		{name: "voucher used on a paid order: settled, nothing back", order: settleOrder(true, false, ""), buyer: buyer,
			vouchers: []core.Voucher{voucher(core.VoucherIssued, "")}, captured: "0.00", vouchers2: []string{"settle"}},
		{name: "voucher's order cancelled: all of it back", order: settleOrder(false, true, ""), buyer: buyer,
			vouchers: []core.Voucher{voucher(core.VoucherUsed, "9001")}, captured: "0.00",
			vouchers2: []string{"c:1 available 15.00, program redeemed -15.00"}},
		{name: "voucher's order refunded in part: its share back, the overdraft first", order: settleOrder(true, false, ""), refunds: refundLine2, buyer: buyer,
			vouchers: []core.Voucher{voucher(core.VoucherUsed, "9001")}, bal: map[core.Owner]core.Balance{buyer: {Overdraft: d("-2.50")}}, captured: "0.00",
			vouchers2: []string{"c:1 available 5.00, c:1 overdraft 2.50, program redeemed -7.50"}},
		{name: "voucher's order restored: taken again, what is missing an overdraft", order: settleOrder(true, false, ""), buyer: buyer,
			vouchers: []core.Voucher{voucher(core.VoucherUsed, "9001")},
			posted: []core.Transaction{{ID: 80, ShopID: 1, Key: "voucher:5:order:9001:v1", Reason: core.Reason{Kind: core.ReasonVoucherReturn, OrderID: "9001", VoucherID: "5"},
				Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: d("-15.00")}, {Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: d("15.00")}}}},
			bal: map[core.Owner]core.Balance{buyer: {Available: d("4.00")}}, captured: "0.00",
			vouchers2: []string{"c:1 available -4.00, c:1 overdraft -11.00, program redeemed 15.00"}},
		{name: "restored with a redemption and a voucher: the voucher sees what the redemption left",
			order: settleOrder(true, false, "5.00"), buyer: buyer, vouchers: []core.Voucher{voucher(core.VoucherUsed, "9001")},
			posted: []core.Transaction{redeemTx(70, "order:9001:redeem:v1", core.ReasonRedeem, "5.00"), redeemTx(71, "order:9001:redeem:v2", core.ReasonRedeemReversal, "-5.00"),
				{ID: 80, ShopID: 1, Key: "voucher:5:order:9001:v1", Reason: core.Reason{Kind: core.ReasonVoucherReturn, OrderID: "9001", VoucherID: "5"},
					Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramRedeemed, Amount: d("-15.00")}, {Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: d("15.00")}}}},
			bal: map[core.Owner]core.Balance{buyer: {Available: d("12.00")}}, captured: "0.00",
			redeem: "c:1 available -5.00, program redeemed 5.00", key: "order:9001:redeem:v3",
			vouchers2: []string{"c:1 available -7.00, c:1 overdraft -8.00, program redeemed 15.00"}},
		{name: "voucher used by another order is left alone", order: settleOrder(false, true, ""), buyer: buyer,
			vouchers: []core.Voucher{voucher(core.VoucherUsed, "8000")}, captured: "0.00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := core.OrderState{Order: c.order, Refunds: c.refunds}
			if st.Refunds == nil {
				st.Refunds = map[string]core.Refund{}
			}
			for i := range c.vouchers {
				st.Order.Redemptions = append(st.Order.Redemptions, core.Redemption{Kind: core.RedemptionVoucher, Code: c.vouchers[i].Code, Amount: c.vouchers[i].Amount})
			}
			reads := 0
			p, err := core.PlanSettlement(core.SettlementInput{ShopID: 1, State: st, Buyer: c.buyer, Hold: c.hold, Vouchers: c.vouchers, Posted: c.posted,
				Funds: func(cur string, o core.Owner) core.Balance { reads++; return c.bal[o] }})
			if err != nil {
				t.Fatal(err)
			}
			gotHold := ""
			if p.Hold != nil {
				gotHold = string(p.Hold.Status) + " " + p.Hold.Amount.StringFixed(2)
				if p.Hold.Status == core.HoldVoided {
					gotHold = string(p.Hold.Status) + " " + p.Hold.Reason.Note
				}
				rt, err := core.HoldResolution(p.Hold.Hold, p.Hold.Amount, p.Hold.Reason, p.Hold.Status)
				if err != nil {
					t.Fatal(err)
				}
				mustBalance(t, rt)
			}
			if gotHold != c.hold2 {
				t.Fatalf("hold action %q, want %q", gotHold, c.hold2)
			}
			if p.Captured.StringFixed(2) != c.captured {
				t.Fatalf("captured %s, want %s", p.Captured, c.captured)
			}
			gotRedeem := ""
			if p.Redemption != nil {
				gotRedeem = postings(*p.Redemption)
				mustBalance(t, *p.Redemption)
				if p.Redemption.Key != c.key || p.Redemption.Reverses != c.reverses || p.ReversesCapture != c.revCap {
					t.Fatalf("redemption key %s reverses %d (capture %v), want %s %d (%v)", p.Redemption.Key, p.Redemption.Reverses, p.ReversesCapture, c.key, c.reverses, c.revCap)
				}
			}
			if gotRedeem != c.redeem {
				t.Fatalf("redemption %q, want %q", gotRedeem, c.redeem)
			}
			var gotV []string
			for _, a := range p.Vouchers {
				s := ""
				if a.Settle {
					s = "settle"
					mustBalance(t, core.VoucherSettlement(a.Voucher, c.order.OrderID))
				}
				if a.Return != nil {
					mustBalance(t, *a.Return)
					if s != "" {
						s += "+"
					}
					s += postings(*a.Return)
				}
				gotV = append(gotV, s)
			}
			if strings.Join(gotV, " | ") != strings.Join(c.vouchers2, " | ") {
				t.Fatalf("vouchers %q, want %q", gotV, c.vouchers2)
			}
			if reads > 0 && gotRedeem == "" && len(gotV) == 0 {
				t.Fatalf("read %d balances for a plan that moves no owner's credit", reads)
			}
		})
	}
}

// TestPlanReserve: keep, replace, release and place, and what a quote may
// never hold.
func TestPlanReserve(t *testing.T) {
	t.Parallel()
	r := core.HoldRequest{ShopID: 1, Currency: "EUR", Owner: buyer, CartKey: "cart-1"}
	upTo := func(v string) func(decimal.Decimal) (decimal.Decimal, error) {
		return func(sp decimal.Decimal) (decimal.Decimal, error) { return decimal.Min(sp, d(v)), nil }
	}
	cases := []struct {
		name      string
		available string
		cart      *core.Hold
		amount    func(decimal.Decimal) (decimal.Decimal, error)
		want      string // "keep|release|place AMOUNT spendable" or error code
	}{
		{"first quote places", "30.00", nil, upTo("20"), "place 20 of 30.00"},
		{"same amount keeps the hold", "10.00", openHold("20.00"), upTo("20"), "keep 20 of 30.00"},
		{"another amount replaces it", "10.00", openHold("20.00"), upTo("25"), "release place 25 of 30.00"},
		{"zero releases it", "10.00", openHold("20.00"), upTo("0"), "release 0 of 30.00"},
		{"another owner's cart hold is released and not spendable", "5.00", func() *core.Hold { h := openHold("20.00"); h.Owner = stroke; return h }(), upTo("20"), "release place 5 of 5.00"},
		{"more than spendable", "5.00", nil, func(decimal.Decimal) (decimal.Decimal, error) { return d("6"), nil }, core.EINVALID},
		{"finer than cents", "5.00", nil, upTo("1.005"), core.EINVALID},
		{"the amount's own error", "5.00", nil, func(decimal.Decimal) (decimal.Decimal, error) {
			return decimal.Zero, core.Errorf(core.EINSUFFICIENT, "short")
		}, core.EINSUFFICIENT},
		{"negative", "5.00", nil, func(decimal.Decimal) (decimal.Decimal, error) { return d("-1"), nil }, core.EINVALID},
	}
	for _, c := range cases {
		dec, err := core.PlanReserve(r, d(c.available), c.cart, c.amount)
		got := core.ErrorCode(err)
		if err == nil {
			var parts []string
			if dec.Keep {
				parts = append(parts, "keep")
			}
			if dec.Release {
				parts = append(parts, "release")
			}
			if dec.Place {
				parts = append(parts, "place")
			}
			got = strings.Join(append(parts, dec.Amount.String(), "of", dec.Spendable.StringFixed(2)), " ")
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestHoldResolution: a capture consumes its amount and releases the
// rest; a void or expiry releases all; nothing else is accepted.
func TestHoldResolution(t *testing.T) {
	t.Parallel()
	h := *openHold("10.00")
	for _, c := range []struct {
		amount string
		st     core.HoldStatus
		want   string
	}{
		{"7.50", core.HoldCaptured, "c:1 available 2.50, c:1 held -10.00, program redeemed 7.50"},
		{"10.00", core.HoldCaptured, "c:1 held -10.00, program redeemed 10.00"},
		{"0", core.HoldVoided, "c:1 available 10.00, c:1 held -10.00"},
		{"0", core.HoldExpired, "c:1 available 10.00, c:1 held -10.00"},
		{"10.01", core.HoldCaptured, core.EINVALID},
		{"-1", core.HoldCaptured, core.EINVALID},
		{"1.00", core.HoldVoided, core.EINVALID},
		{"0", core.HoldOpen, core.EINVALID},
	} {
		tx, err := core.HoldResolution(h, d(c.amount), core.Reason{OrderID: "9001"}, c.st)
		got := core.ErrorCode(err)
		if err == nil {
			mustBalance(t, tx)
			got = postings(tx)
			if tx.Key != "hold:41:resolve" || tx.Reason.HoldID != "41" {
				t.Fatalf("key %s reason %+v", tx.Key, tx.Reason)
			}
		}
		if got != c.want {
			t.Errorf("%s %s: %q, want %q", c.st, c.amount, got, c.want)
		}
	}
	place := core.HoldPlacement(1, 41, "EUR", buyer, d("3.00"))
	mustBalance(t, place)
	if postings(place) != "c:1 available -3.00, c:1 held 3.00" || place.Key != "hold:41:place" {
		t.Fatalf("placement %s %s", place.Key, postings(place))
	}
}

func BenchmarkPlanSettlement(b *testing.B) {
	st := core.OrderState{Order: settleOrder(true, false, "12.00"), Refunds: map[string]core.Refund{"r1": {RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "2", Quantity: 1}}}}}
	st.Order.Redemptions = append(st.Order.Redemptions, core.Redemption{Kind: core.RedemptionVoucher, Code: "gift-5", Amount: d("15.00")})
	in := core.SettlementInput{ShopID: 1, State: st, Buyer: buyer, Hold: openHold("10.00"), Vouchers: []core.Voucher{voucher(core.VoucherIssued, "")},
		Funds: funds(map[core.Owner]core.Balance{buyer: {Available: d("40.00"), Held: d("10.00")}})}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := core.PlanSettlement(in); err != nil {
			b.Fatal(err)
		}
	}
}
