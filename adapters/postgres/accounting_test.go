package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/datev"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files")

// testClock is the time the ledger stamps on what it writes.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestAccountingGoldenMonth books March 2026 of a German shop through the
// real earn, redeem, hold and ledger code paths (with the ledger's clock
// set to each event's time) and checks the DATEV Buchungsstapel against a
// golden file and the period report against figures computed by hand.
//
// The shop earns 10 % of the net line total. Customer c:77, in Berlin time:
//
//	20 Feb 10:00  #1001 2 × 50.00 paid                 earn   10.00   (before the month: opening liability 10.00)
//	02 Mar 09:00  #1002 1 × 50.00 paid                 earn    5.00
//	05 Mar 12:00  #1003 2 × 40.00 paid                 earn    8.00
//	10 Mar 15:00  #1003 refund of 1 unit               earn   -4.00
//	12 Mar 11:00  #1004 1 × 30.00 paid, 6.00 credit    earn    3.00, redeemed 6.00 (no hold)
//	15 Mar 10:00  checkout hold of 4.00 (cart K)
//	15 Mar 10:05  #1005 1 × 20.00 paid, 4.00 credit    earn    2.00, redeemed 4.00 (hold captured)
//	20 Mar 16:00  manual adjustment                    +2.50
//	31 Mar 23:30  expiry                               expired 1.00   (21:30 UTC: still March in Berlin)
//	01 Apr 00:30  #1006 1 × 10.00 paid                 earn    1.00   (31 Mar 22:30 UTC: April in Berlin, not in the file)
//
// March: issued 5 + 8 - 4 + 3 + 2 = 14.00, redeemed 6 + 4 = 10.00,
// expired 1.00, adjustments 2.50; closing 10 + 14 - 10 - 1 + 2.50 = 15.50.
func TestAccountingGoldenMonth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, pool := newStore(t)
	clock := &testClock{}
	postgres.SetClockForTest(l, clock.now)
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	box, err := secretbox.New(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	shops, dir := postgres.NewShopStore(pool, box), postgres.NewDirectory(pool)
	redeemer := &core.Redeemer{Ledger: l, Now: clock.now}
	earner := &core.Earner{Orders: postgres.OrderStore{L: l}, Directory: dir, Ledger: l, Redeemer: redeemer}
	shop, err := shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "golden.myshopify.com", Currency: "EUR",
		Settings: core.ShopSettings{Accounting: core.AccountingSettings{ConsultantNumber: 29098, ClientNumber: 55003}},
		Secrets:  core.ShopSecrets{CustomerKey: "k"}}, "admintoken")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: dec("10")}); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(month time.Month, day, hour, minute int) time.Time {
		return time.Date(2026, month, day, hour, minute, 0, 0, berlin)
	}
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	ord := func(id string, when time.Time, qty int64, net string, refunds []core.Refund, used string, cart string) core.Order {
		o := core.Order{Platform: core.PlatformShopify, OrderID: id, OrderNumber: "#" + id, Currency: "EUR", Paid: true,
			Customer: core.CustomerRef{PlatformID: "77"}, UpdatedAt: when, CreatedAt: when, CartKey: cart, Refunds: refunds,
			Lines: []core.OrderLine{{LineID: id + "1", ProductID: "p" + id, Title: "Artikel " + id, Quantity: qty, NetTotal: dec(net)}}}
		if used != "" {
			o.Redemptions = []core.Redemption{{Kind: core.RedemptionDiscount, Code: "CREDIT", Amount: dec(used)}}
		}
		return o
	}
	apply := func(when time.Time, o core.Order) {
		t.Helper()
		clock.set(when)
		if _, err := earner.ApplyOrder(ctx, shop, o, nil); err != nil {
			t.Fatalf("order %s: %v", o.OrderID, err)
		}
	}
	post := func(when time.Time, tr core.Transaction) {
		t.Helper()
		clock.set(when)
		tr.ShopID = shop.ID
		if _, err := l.Post(ctx, tr); err != nil {
			t.Fatalf("%s: %v", tr.Key, err)
		}
	}
	apply(at(2, 20, 10, 0), ord("1001", at(2, 20, 10, 0), 2, "100.00", nil, "", ""))
	apply(at(3, 2, 9, 0), ord("1002", at(3, 2, 9, 0), 1, "50.00", nil, "", ""))
	apply(at(3, 5, 12, 0), ord("1003", at(3, 5, 12, 0), 2, "80.00", nil, "", ""))
	refund := core.Refund{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "10031", Quantity: 1}}, CreatedAt: at(3, 10, 15, 0)}
	apply(at(3, 10, 15, 0), ord("1003", at(3, 10, 15, 0), 2, "80.00", []core.Refund{refund}, "", ""))
	apply(at(3, 12, 11, 0), ord("1004", at(3, 12, 11, 0), 1, "30.00", nil, "6.00", ""))
	clock.set(at(3, 15, 10, 0))
	q, err := redeemer.Quote(ctx, shop, core.QuoteRequest{Owner: buyer, Currency: "EUR", Subtotal: dec("4.00"), CartKey: "K"})
	if err != nil || !q.Amount.Equal(dec("4.00")) {
		t.Fatalf("quote: %v %v", q.Amount, err)
	}
	apply(at(3, 15, 10, 5), ord("1005", at(3, 15, 10, 5), 1, "20.00", nil, "4.00", "K"))
	post(at(3, 20, 16, 0), core.Transaction{Key: "adjust:golden", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "operator", Note: "Kulanz"},
		Postings: []core.Posting{{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: dec("2.50")},
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: dec("-2.50")}}})
	post(at(3, 31, 23, 30), core.Transaction{Key: "expire:golden", Reason: core.Reason{Kind: "expire", Note: "credit older than 24 months"},
		Postings: []core.Posting{{Currency: "EUR", Owner: buyer, Bucket: core.BucketAvailable, Amount: dec("-1.00")},
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramExpired, Amount: dec("1.00")}}})
	apply(at(4, 1, 0, 30), ord("1006", at(4, 1, 0, 30), 1, "10.00", nil, "", ""))
	mustAuditClean(t, pool)

	p, err := core.ParsePeriod("2026-03-01", "2026-04-01", shop.Settings.AccountingLocation())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := core.BuildPeriodReport(ctx, l, shop, "EUR", p)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string][2]decimal.Decimal{
		"opening": {rep.OpeningLiability, dec("10.00")}, "issued": {rep.Issued, dec("14.00")}, "redeemed": {rep.Redeemed, dec("10.00")},
		"expired": {rep.Expired, dec("1.00")}, "adjustments": {rep.Adjustments, dec("2.50")}, "closing": {rep.ClosingLiability, dec("15.50")},
	} {
		if !c[0].Equal(c[1]) {
			t.Errorf("%s = %s, want %s", name, c[0], c[1])
		}
	}
	if len(rep.ByVATRate) != 1 || rep.ByVATRate[0].VATRate != "19" || !rep.ByVATRate[0].Redeemed.Equal(dec("10")) || rep.Postings != 9 {
		t.Errorf("per VAT rate: %+v, %d postings", rep.ByVATRate, rep.Postings)
	}
	// The liability equals what the owners hold at the end of March.
	var owners decimal.Decimal
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_transactions t ON t.shop_id = p.shop_id AND t.id = p.tx_id
WHERE p.shop_id = $1 AND p.owner_kind <> 'program' AND t.created_at < $2`, shop.ID, p.To).Scan(&owners); err != nil {
		t.Fatal(err)
	}
	if !owners.Equal(rep.ClosingLiability) {
		t.Errorf("owners hold %s at the end of March, the report says %s", owners, rep.ClosingLiability)
	}

	h, a, err := datev.Prepare(shop, "EUR", p, time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	n, err := datev.Export(ctx, bw, l, shop.ID, a, h, p)
	if err != nil {
		t.Fatal(err)
	}
	if n != 11 { // 4 grants, 1 reversal, 1 adjustment, 2 redemptions × 2 lines, 1 expiry
		t.Errorf("%d bookings", n)
	}
	if err := datev.Check(out.Bytes()); err != nil {
		t.Fatalf("format check: %v", err)
	}
	golden := filepath.Join("testdata", "datev_golden_2026_03.csv")
	if *updateGolden {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("DATEV file differs from %s (run with -update after checking by hand):\n%s", golden, out.Bytes())
	}

	// When the platform reported the tax split of the credit an order used
	// (order_redemptions, written by the redemption path), the sales
	// deduction is booked at that rate: #1004's 6.00 reduced 5.61 net at
	// 7 % (0.39 tax), so its line gets BU-Schlüssel 2 and the report moves
	// 6.00 of the redemptions from 19 % to 7 %.
	if _, err := pool.Exec(ctx, `INSERT INTO order_redemptions (shop_id, order_id, kind, code, currency, amount, net, tax, tax_source, prices_include_tax)
VALUES ($1, '1004', 'discount', 'CREDIT', 'EUR', 6.00, 5.61, 0.39, 'platform', true)
ON CONFLICT (shop_id, order_id, kind, code) DO UPDATE SET amount = EXCLUDED.amount, net = EXCLUDED.net, tax = EXCLUDED.tax,
	tax_source = EXCLUDED.tax_source, prices_include_tax = EXCLUDED.prices_include_tax`, shop.ID); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := datev.Export(ctx, bufio.NewWriter(&out), l, shop.ID, a, h, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("\r\n6,00;\"S\";\"EUR\";;;;8700;1360;\"0002\";1203;\"1004\";")) ||
		!bytes.Contains(out.Bytes(), []byte("\r\n4,00;\"S\";\"EUR\";;;;8700;1360;\"0003\";1503;\"1005\";")) {
		t.Errorf("sales deductions by the reported split:\n%s", out.Bytes())
	}
	rep, err = core.BuildPeriodReport(ctx, l, shop, "EUR", p)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ByVATRate) != 2 || rep.ByVATRate[0].VATRate != "19" || !rep.ByVATRate[0].Redeemed.Equal(dec("4")) ||
		rep.ByVATRate[1].VATRate != "7" || !rep.ByVATRate[1].Redeemed.Equal(dec("6")) || !rep.Redeemed.Equal(dec("10")) {
		t.Errorf("per VAT rate: %+v", rep.ByVATRate)
	}
}
