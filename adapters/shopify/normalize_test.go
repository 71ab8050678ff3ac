package shopify_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func wantDecimal(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(dec(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// TestParseOrderRealDevStore checks the discount arithmetic on the real
// dev-store orders/create body (HKD, guest, 15% code + automatic 5.00).
func TestParseOrderRealDevStore(t *testing.T) {
	t.Parallel()
	body := sharedfixtures.Read(t, "fixtures/shopify/orders-create.discounts.real-devstore.json")
	o, err := shopify.ParseOrder(body, shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	if o.Platform != core.PlatformShopify || o.OrderID != "6200407294252" || o.OrderNumber != "#1071" || o.Currency != "HKD" {
		t.Errorf("order header = %+v", o)
	}
	if !o.Customer.IsGuest() || o.Customer.Email != "" {
		t.Errorf("customer = %+v, want guest without e-mail", o.Customer)
	}
	if o.Status != "paid" || !o.Paid || o.Cancelled || o.Test {
		t.Errorf("status %q paid=%v cancelled=%v test=%v", o.Status, o.Paid, o.Cancelled, o.Test)
	}
	if o.CartKey != "ae0ed4e40b4fe3c339cc9be09ea0d41b" {
		t.Errorf("CartKey = %q (checkout_token; cart_token is null)", o.CartKey)
	}
	if want := time.Date(2025, 1, 24, 4, 10, 16, 0, time.UTC); !o.UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt = %v, want %v", o.UpdatedAt, want)
	}
	if want := time.Date(2025, 1, 24, 4, 10, 15, 0, time.UTC); !o.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", o.CreatedAt, want)
	}
	if len(o.Lines) != 2 {
		t.Fatalf("%d lines, want 2", len(o.Lines))
	}
	want := []struct {
		id, product, variant, title, net string
	}{
		// 99.00 × 1 − (14.10 [0124D 15%] + 5.00 [automatic]) = 79.90
		// (total_discount says "0.00": it must be ignored.)
		{"15518907892012", "9782123692332", "50398373085484", "aaa0103測試商品11aa", "79.90"},
		// 100.00 × 1 − 15.00 [0124D 15%] = 85.00
		{"15518907924780", "9797441945900", "50451770802476", "Green Snowboard", "85.00"},
	}
	for i, w := range want {
		l := o.Lines[i]
		if l.LineID != w.id || l.ProductID != w.product || l.VariantID != w.variant || l.Title != w.title || l.Quantity != 1 || l.GiftCard || l.SKU != "" {
			t.Errorf("line %d = %+v", i, l)
		}
		wantDecimal(t, "line "+w.id+" NetTotal", l.NetTotal, w.net)
	}
	// 79.90 + 85.00 = 164.90 = subtotal_price: line nets add up to Shopify's own subtotal.
	wantDecimal(t, "sum of NetTotal", o.Lines[0].NetTotal.Add(o.Lines[1].NetTotal), "164.90")
	if len(o.Refunds) != 0 || len(o.Redemptions) != 0 || o.PartnerRef != "" {
		t.Errorf("refunds %v redemptions %v partner %q, want none", o.Refunds, o.Redemptions, o.PartnerRef)
	}

	// With options naming this store's discounts: the automatic discount's
	// allocations (5.00 on line 1 only) and the code's own amount (its
	// application is "manual" on a draft order, so there are no
	// discount_code allocations to sum).
	opt := shopify.ParseOptions{PaidStatuses: []string{"PAID"}, CreditDiscountTitles: []string{"測試discount_type-1"}, VoucherPrefix: "0124"}
	o, err = shopify.ParseOrder(body, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Paid {
		t.Error("PaidStatuses must compare case-insensitively")
	}
	if len(o.Redemptions) != 2 {
		t.Fatalf("redemptions = %+v, want 2", o.Redemptions)
	}
	r := o.Redemptions[0]
	if r.Kind != core.RedemptionDiscount || r.Code != "測試discount_type-1" {
		t.Errorf("redemption 0 = %+v", r)
	}
	wantDecimal(t, "discount redemption", r.Amount, "5.00")
	r = o.Redemptions[1]
	if r.Kind != core.RedemptionVoucher || r.Code != "0124D" {
		t.Errorf("redemption 1 = %+v", r)
	}
	wantDecimal(t, "voucher redemption", r.Amount, "29.10")
}

// TestParseOrderDocsExample parses Shopify's docs example (shape only: its
// numeric ids were rounded by the scraper, and it is voided and cancelled).
func TestParseOrderDocsExample(t *testing.T) {
	t.Parallel()
	body := sharedfixtures.Read(t, "fixtures/shopify/orders-paid.json")
	o, err := shopify.ParseOrder(body, shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	// The literal in the file is 820982911946154500 (rounded by the
	// scraper); we must keep exactly the digits that were sent.
	if o.OrderID != "820982911946154500" || o.OrderNumber != "#9999" || o.Currency != "USD" {
		t.Errorf("order = %s %s %s", o.OrderID, o.OrderNumber, o.Currency)
	}
	if o.Customer.PlatformID != "115310627314723950" || o.Customer.Email != "jon@example.com" {
		t.Errorf("customer = %+v", o.Customer)
	}
	if o.Status != "voided" || o.Paid || !o.Cancelled || !o.Test {
		t.Errorf("status %q paid=%v cancelled=%v test=%v", o.Status, o.Paid, o.Cancelled, o.Test)
	}
	if len(o.Lines) != 5 {
		t.Fatalf("%d lines, want 5", len(o.Lines))
	}
	nets := map[string]string{
		"487817672276298560": "89.99",
		"789012345678901200": "19.99",
		"890123456789012400": "24.99",
		"976318377106520300": "159.99", // no discount_allocations in this file (total_discounts "20.00" is inconsistent, see README)
		"315789986012684400": "119.99",
	}
	for _, l := range o.Lines {
		w, ok := nets[l.LineID]
		if !ok {
			t.Errorf("unexpected line %s", l.LineID)
			continue
		}
		wantDecimal(t, "line "+l.LineID, l.NetTotal, w)
	}
	if l := o.Lines[1]; l.ProductID != "" || l.VariantID != "" || l.SKU != "LENS-PROTECT-2YR" {
		t.Errorf("null product/variant ids must be empty: %+v", l)
	}
}

func TestParseOrderCancelledNotPaid(t *testing.T) {
	t.Parallel()
	base := strings.Replace(string(readTestdata(t, "order-minimal.json")), "PRICE", "10.00", 1)
	for _, tc := range []struct {
		name, from, to  string
		paid, cancelled bool
	}{
		{"paid", "", "", true, false},
		{"authorized", `"paid"`, `"authorized"`, false, false},
		{"pending", `"paid"`, `"pending"`, false, false},
		{"partially_paid", `"paid"`, `"partially_paid"`, false, false},
		{"refunded", `"paid"`, `"refunded"`, true, false},
		{"partially_refunded", `"paid"`, `"partially_refunded"`, true, false},
		{"voided", `"paid"`, `"voided"`, false, true},
		{"cancelled paid", `"cancelled_at": null`, `"cancelled_at": "2025-01-02T00:00:00Z"`, false, true},
	} {
		body := strings.Replace(base, tc.from, tc.to, 1)
		o, err := shopify.ParseOrder([]byte(body), shopify.DefaultParseOptions())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if o.Paid != tc.paid || o.Cancelled != tc.cancelled {
			t.Errorf("%s: paid=%v cancelled=%v, want %v %v", tc.name, o.Paid, o.Cancelled, tc.paid, tc.cancelled)
		}
	}
}

// TestParseOrderBigIDsAndCredit uses a payload whose ids exceed 2^53, so
// any float64 on the way would change them, and which carries a credit
// discount, a voucher, another code, a gift card, a refund and a partner.
func TestParseOrderBigIDsAndCredit(t *testing.T) {
	t.Parallel()
	o, err := shopify.ParseOrder(readTestdata(t, "orders-create.bigids-credit.json"), shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	// 9007199254740993 = 2^53 + 1: float64 would read it as ...992.
	if o.OrderID != "9007199254740993" || o.Customer.PlatformID != "9007199254740995" {
		t.Errorf("ids = %s / %s", o.OrderID, o.Customer.PlatformID)
	}
	if o.Customer.Email != "buyer@example.com" || o.Customer.IsGuest() {
		t.Errorf("customer = %+v (email must come first and be normalized)", o.Customer)
	}
	if o.Currency != "EUR" || o.Status != "partially_refunded" || !o.Paid || o.Cancelled {
		t.Errorf("order = %+v", o)
	}
	if o.CartKey != "b8e4f1c2d3a4e5f60718293a4b5c6d7e" {
		t.Errorf("CartKey = %q, want the checkout_token", o.CartKey)
	}
	if o.PartnerRef != "partner-42" {
		t.Errorf("PartnerRef = %q, want the first non-empty creditbridge_partner", o.PartnerRef)
	}
	type line struct {
		id, product, variant, sku string
		qty                       int64
		net                       string
		gift                      bool
	}
	want := []line{
		// 12.50 × 3 − (6.00 + 3.00 + 1.80) = 37.50 − 10.80 = 26.70 (shop money, not the USD presentment)
		{"9007199254740997", "9007199254740999", "9007199254741001", "MUG-1", 3, "26.70", false},
		{"9007199254741003", "", "", "GC-25", 1, "25.00", true},
		// 8.25 × 2 − (4.00 + 2.00 + 1.20) = 16.50 − 7.20 = 9.30
		{"9007199254741005", "123", "456", "TEA-2", 2, "9.30", false},
	}
	if len(o.Lines) != len(want) {
		t.Fatalf("%d lines", len(o.Lines))
	}
	for i, w := range want {
		l := o.Lines[i]
		if l.LineID != w.id || l.ProductID != w.product || l.VariantID != w.variant || l.SKU != w.sku || l.Quantity != w.qty || l.GiftCard != w.gift {
			t.Errorf("line %d = %+v, want %+v", i, l, w)
		}
		wantDecimal(t, "line "+w.id, l.NetTotal, w.net)
	}
	if o.Lines[0].Title != "Mug" {
		t.Errorf("title = %q", o.Lines[0].Title)
	}
	if len(o.Refunds) != 1 {
		t.Fatalf("refunds = %+v", o.Refunds)
	}
	r := o.Refunds[0]
	if r.RefundID != "9007199254741011" || !r.LinesKnown || len(r.Lines) != 1 || r.Lines[0].LineID != "9007199254740997" || r.Lines[0].Quantity != 1 {
		t.Errorf("refund = %+v", r)
	}
	wantDecimal(t, "refund line amount", r.Lines[0].Amount, "8.90")
	wantDecimal(t, "refund amount", r.Amount, "8.90")
	if want := time.Date(2025, 3, 2, 10, 29, 0, 0, time.UTC); !r.CreatedAt.Equal(want) {
		t.Errorf("refund CreatedAt = %v", r.CreatedAt)
	}
	if len(o.Redemptions) != 2 {
		t.Fatalf("redemptions = %+v", o.Redemptions)
	}
	// Store credit: allocations of application 0 = 6.00 + 4.00.
	if d := o.Redemptions[0]; d.Kind != core.RedemptionDiscount || d.Code != "Store credit" {
		t.Errorf("discount redemption = %+v", d)
	}
	wantDecimal(t, "credit redeemed", o.Redemptions[0].Amount, "10.00")
	// Voucher: code matched case-insensitively, allocations of application 1 = 3.00 + 2.00.
	if v := o.Redemptions[1]; v.Kind != core.RedemptionVoucher || v.Code != "cbv-7q2x" {
		t.Errorf("voucher redemption = %+v", v)
	}
	wantDecimal(t, "voucher redeemed", o.Redemptions[1].Amount, "5.00")

	// Zero-value options detect nothing (an empty prefix must not match every code).
	o, err = shopify.ParseOrder(readTestdata(t, "orders-create.bigids-credit.json"), shopify.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Paid || len(o.Redemptions) != 0 {
		t.Errorf("zero options: paid=%v redemptions=%+v", o.Paid, o.Redemptions)
	}
}

func TestParseOrderRejects(t *testing.T) {
	t.Parallel()
	base := string(readTestdata(t, "order-minimal.json"))
	ok := strings.Replace(base, "PRICE", "10.00", 1)
	tests := []struct {
		name, body, msg string
	}{
		{"malformed JSON", `{"id": 1, "currency": "USD",`, "truncated"},
		{"syntax error", `{"id": 1 "currency": "USD"}`, "malformed JSON"},
		{"not an object", `[1,2]`, "cannot hold"},
		{"empty", ``, "empty"},
		{"trailing data", ok + `{}`, "trailing"},
		{"unknown currency", strings.Replace(ok, `"USD",`, `"XYZ",`, 1), "unknown currency"},
		{"missing currency", strings.Replace(ok, `"currency": "USD",`, ``, 1), "unknown currency"},
		{"too many decimals", strings.Replace(base, "PRICE", "10.005", 1), "more than 2 decimals"},
		{"JPY decimals", strings.Replace(strings.ReplaceAll(base, "USD", "JPY"), "PRICE", "100.5", 1), "more than 0 decimals"},
		{"exponent amount", strings.Replace(base, "PRICE", "1e3", 1), "plain decimal"},
		{"huge exponent amount", strings.Replace(base, "PRICE", "1e-2147483648", 1), "plain decimal"},
		{"negative price", strings.Replace(base, "PRICE", "-1.00", 1), "negative"},
		{"amount not a number", strings.Replace(base, "PRICE", "ten", 1), "line_items.price_set.shop_money.amount"},
		{"currency mismatch", strings.Replace(strings.Replace(base, "PRICE", "1.00", 1), `"currency_code": "USD"`, `"currency_code": "EUR"`, 1), "not in the payload currency"},
		{"negative quantity", strings.Replace(ok, `"quantity": 2`, `"quantity": -1`, 1), "quantity is negative"},
		{"fractional quantity", strings.Replace(ok, `"quantity": 2`, `"quantity": 1.5`, 1), "line_items.quantity is not an integer"},
		{"missing quantity", strings.Replace(ok, `"quantity": 2,`, ``, 1), "quantity is missing"},
		{"float id", strings.Replace(ok, `"id": 5001`, `"id": 5001.5`, 1), "id is not an unsigned"},
		{"exponent id", strings.Replace(ok, `"id": 5001`, `"id": 5e3`, 1), "id is not an unsigned"},
		{"negative id", strings.Replace(ok, `"id": 5001`, `"id": -5`, 1), "id is not an unsigned"},
		{"id over int64", strings.Replace(ok, `"id": 5001`, `"id": 9223372036854775808`, 1), "id is not an unsigned"},
		{"missing id", strings.Replace(ok, `"id": 5001,`, ``, 1), "id is missing"},
		{"missing line id", strings.Replace(ok, `"id": 7001,`, ``, 1), "line_items[].id is missing"},
		{"missing price", strings.Replace(ok, `"price_set": {"shop_money": {"amount": "10.00", "currency_code": "USD"}},`, ``, 1), "price is missing"},
		{"bad time", strings.Replace(ok, `"2025-01-01T00:00:00Z"`, `"yesterday"`, 1), "updated_at"},
		{"object as string", strings.Replace(ok, `"name": "#1001"`, `"name": {"x": 1}`, 1), "name is not a string"},
		{"discount above price", strings.Replace(ok, `"discount_allocations": []`,
			`"discount_allocations": [{"amount_set": {"shop_money": {"amount": "20.01", "currency_code": "USD"}}, "discount_application_index": 0}]`, 1), "exceed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := shopify.ParseOrder([]byte(tc.body), shopify.DefaultParseOptions())
			wantCode(t, err, core.EINVALID)
			if !strings.Contains(core.ErrorMessage(err), tc.msg) {
				t.Errorf("message %q does not mention %q", core.ErrorMessage(err), tc.msg)
			}
		})
	}
}

func TestParseOrderLegacyAmounts(t *testing.T) {
	t.Parallel()
	// Without *_set, the bare price and allocation amount are used.
	body := strings.Replace(string(readTestdata(t, "order-minimal.json")),
		`"price_set": {"shop_money": {"amount": "PRICE", "currency_code": "USD"}},
      "discount_allocations": []`,
		`"price": "4.99",
      "discount_allocations": [{"amount": "0.98", "discount_application_index": 0}]`, 1)
	o, err := shopify.ParseOrder([]byte(body), shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	// 4.99 × 2 − 0.98 = 9.00
	wantDecimal(t, "NetTotal", o.Lines[0].NetTotal, "9.00")
	if !o.Customer.IsGuest() || o.Customer.Email != "" {
		t.Errorf("customer = %+v", o.Customer)
	}
}

func TestParseRefund(t *testing.T) {
	t.Parallel()
	orderID, r, err := shopify.ParseRefund(sharedfixtures.Read(t, "fixtures/shopify/refunds-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Digits as written in the (scraper-rounded) file, unchanged.
	if orderID != "820982911946154500" || r.RefundID != "890088186047892400" || !r.LinesKnown {
		t.Errorf("order %s refund %+v", orderID, r)
	}
	want := []struct{ line, amount string }{
		{"487817672276298560", "89.99"},
		{"789012345678901200", "19.99"},
		{"890123456789012400", "24.99"},
		{"976318377106520300", "159.99"},
		{"315789986012684400", "119.99"},
	}
	if len(r.Lines) != len(want) {
		t.Fatalf("%d refund lines", len(r.Lines))
	}
	for i, w := range want {
		if r.Lines[i].LineID != w.line || r.Lines[i].Quantity != 1 {
			t.Errorf("line %d = %+v", i, r.Lines[i])
		}
		wantDecimal(t, "line "+w.line, r.Lines[i].Amount, w.amount)
	}
	// The refunded lines add up: 89.99 + 19.99 + 24.99 + 159.99 + 119.99 = 414.95.
	wantDecimal(t, "refund amount", r.Amount, "414.95")
	if want := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC); !r.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v", r.CreatedAt)
	}

	for name, body := range map[string]string{
		"malformed":      `{"id": 1, "order_id":`,
		"no order id":    `{"id": 1, "refund_line_items": []}`,
		"no refund id":   `{"order_id": 1, "refund_line_items": []}`,
		"bad currency":   `{"id": 1, "order_id": 2, "refund_line_items": [{"line_item_id": 3, "quantity": 1, "subtotal_set": {"shop_money": {"amount": "1.00", "currency_code": "ZZZ"}}}]}`,
		"too precise":    `{"id": 1, "order_id": 2, "refund_line_items": [{"line_item_id": 3, "quantity": 1, "subtotal_set": {"shop_money": {"amount": "1.001", "currency_code": "USD"}}}]}`,
		"mixed currency": `{"id": 1, "order_id": 2, "refund_line_items": [{"line_item_id": 3, "quantity": 1, "subtotal_set": {"shop_money": {"amount": "1.00", "currency_code": "USD"}}}, {"line_item_id": 4, "quantity": 1, "subtotal_set": {"shop_money": {"amount": "1.00", "currency_code": "EUR"}}}]}`,
		"neg quantity":   `{"id": 1, "order_id": 2, "refund_line_items": [{"line_item_id": 3, "quantity": -1}]}`,
		"no line id":     `{"id": 1, "order_id": 2, "refund_line_items": [{"quantity": 1}]}`,
		"float subtotal": `{"id": 1, "order_id": 2, "refund_line_items": [{"line_item_id": 3, "quantity": 1, "subtotal": 1e2}]}`,
	} {
		if _, _, err := shopify.ParseRefund([]byte(body)); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: err = %v, want invalid", name, err)
		}
	}
}

func TestParseCompliance(t *testing.T) {
	t.Parallel()
	cr, err := shopify.ParseCustomerRedact(sharedfixtures.Read(t, "fixtures/shopify/customers-redact.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cr.ShopID != "954889" || cr.ShopDomain != "{shop}.myshopify.com" || cr.CustomerID != "191167" || cr.Email != "john@example.com" ||
		strings.Join(cr.OrdersToRedact, ",") != "299938,280263,220458" {
		t.Errorf("customers/redact = %+v", cr)
	}
	dr, err := shopify.ParseDataRequest(sharedfixtures.Read(t, "fixtures/shopify/customers-data_request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if dr.ShopID != "954889" || dr.ShopDomain != "{shop}.myshopify.com" || dr.CustomerID != "191167" || dr.Email != "john@example.com" ||
		strings.Join(dr.OrdersRequested, ",") != "299938,280263,220458" || dr.DataRequestID != "9999" {
		t.Errorf("customers/data_request = %+v", dr)
	}
	sr, err := shopify.ParseShopRedact(sharedfixtures.Read(t, "fixtures/shopify/shop-redact.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sr.ShopID != "954889" || sr.ShopDomain != "{shop}.myshopify.com" {
		t.Errorf("shop/redact = %+v", sr)
	}
	au, err := shopify.ParseAppUninstalled(sharedfixtures.Read(t, "fixtures/shopify/app-uninstalled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if au.ShopID != "548380009" || au.Name != "Super Toys" || au.Domain != "" || au.MyshopifyDomain != "" {
		t.Errorf("app/uninstalled = %+v", au)
	}
	au, err = shopify.ParseAppUninstalled([]byte(`{"id": 9007199254740993, "domain": "Shop.example.com", "myshopify_domain": "A-Shop.myshopify.com"}`))
	if err != nil || au.ShopID != "9007199254740993" || au.Domain != "shop.example.com" || au.MyshopifyDomain != "a-shop.myshopify.com" {
		t.Errorf("app/uninstalled = %+v, %v", au, err)
	}

	for name, f := range map[string]func([]byte) error{
		"customers/redact":       func(b []byte) error { _, err := shopify.ParseCustomerRedact(b); return err },
		"customers/data_request": func(b []byte) error { _, err := shopify.ParseDataRequest(b); return err },
		"shop/redact":            func(b []byte) error { _, err := shopify.ParseShopRedact(b); return err },
		"app/uninstalled":        func(b []byte) error { _, err := shopify.ParseAppUninstalled(b); return err },
	} {
		for _, body := range []string{``, `{`, `{}`, `{"shop_id": 1.5, "shop_domain": "a.myshopify.com"}`} {
			if err := f([]byte(body)); core.ErrorCode(err) != core.EINVALID {
				t.Errorf("%s(%q): err = %v, want invalid", name, body, err)
			}
		}
	}
	if _, err := shopify.ParseCustomerRedact([]byte(`{"shop_domain": "a.myshopify.com", "customer": null}`)); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("redact without customer: err = %v", err)
	}
}

func TestParseCheckout(t *testing.T) {
	t.Parallel()
	// testdata/checkouts-create.json follows Shopify's documented checkout
	// webhook shape; it is not a captured delivery.
	c, err := shopify.ParseCheckout(readTestdata(t, "checkouts-create.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Token != "9a8b7c6d5e4f30211203f4e5d6c7b8a9" || c.CartToken != "Z2NwLWV1cm9wZS13ZXN0MTowMUpLUjk3" ||
		c.CustomerID != "7012345678901" || c.Email != "shopper@example.com" || c.Currency != "CAD" {
		t.Errorf("checkout = %+v", c)
	}
	wantDecimal(t, "subtotal", c.SubtotalPrice, "31.00")
	wantDecimal(t, "discounts", c.TotalDiscounts, "5.00")
	wantDecimal(t, "credit applied", c.CreditApplied, "5.00") // the "Store credit" automatic allocation in the fixture
	if len(c.Lines) != 1 {
		t.Fatalf("lines = %+v", c.Lines)
	}
	l := c.Lines[0]
	if l.Key != "0f1e2d3c4b5a69788796a5b4c3d2e1f0" || l.ProductID != "8123456789012" || l.VariantID != "44123456789012" || l.SKU != "MUG-BLUE" || l.Quantity != 2 {
		t.Errorf("line = %+v", l)
	}
	wantDecimal(t, "price", l.Price, "18.00")
	wantDecimal(t, "line price", l.LinePrice, "36.00")
	if want := time.Date(2025, 2, 10, 14, 17, 45, 0, time.UTC); !c.UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt = %v", c.UpdatedAt)
	}

	for name, body := range map[string]string{
		"malformed":   `{"token": "x",`,
		"no token":    `{"currency": "USD", "subtotal_price": "1.00"}`,
		"no currency": `{"token": "x", "subtotal_price": "1.00"}`,
		"no subtotal": `{"token": "x", "currency": "USD"}`,
		"too precise": `{"token": "x", "currency": "USD", "subtotal_price": "1.001"}`,
		"neg qty":     `{"token": "x", "currency": "USD", "subtotal_price": "1.00", "line_items": [{"quantity": -2, "price": "1.00"}]}`,
	} {
		if _, err := shopify.ParseCheckout([]byte(body)); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: err = %v, want invalid", name, err)
		}
	}
}

func TestTopics(t *testing.T) {
	t.Parallel()
	for _, topic := range []string{shopify.TopicOrdersCreate, shopify.TopicOrdersUpdated, shopify.TopicOrdersPaid, shopify.TopicOrdersCancelled} {
		if !shopify.IsOrderTopic(topic) || !shopify.KnownTopic(topic) {
			t.Errorf("%s must be a known order topic", topic)
		}
	}
	for _, topic := range []string{shopify.TopicRefundsCreate, shopify.TopicAppUninstalled, shopify.TopicCustomersDataRequest,
		shopify.TopicCustomersRedact, shopify.TopicShopRedact, shopify.TopicCheckoutsCreate, shopify.TopicCheckoutsUpdate,
		shopify.TopicCustomersCreate, shopify.TopicCustomersUpdate} {
		if shopify.IsOrderTopic(topic) || !shopify.KnownTopic(topic) {
			t.Errorf("%s: IsOrderTopic=%v KnownTopic=%v", topic, shopify.IsOrderTopic(topic), shopify.KnownTopic(topic))
		}
	}
	for _, topic := range []string{"orders/fulfilled", "customers/delete", "", "ORDERS/PAID"} {
		if shopify.KnownTopic(topic) || shopify.IsOrderTopic(topic) {
			t.Errorf("%q must be unknown", topic)
		}
	}
	if !shopify.IsComplianceTopic(shopify.TopicShopRedact) || shopify.IsComplianceTopic(shopify.TopicAppUninstalled) {
		t.Error("IsComplianceTopic")
	}
}

// checkOrderInvariants is what every successfully parsed order must satisfy.
func checkOrderInvariants(t *testing.T, o core.Order) {
	t.Helper()
	for _, l := range o.Lines {
		if l.Quantity < 0 {
			t.Fatalf("line %s quantity %d", l.LineID, l.Quantity)
		}
		if err := core.CheckScale(o.Currency, l.NetTotal); err != nil {
			t.Fatalf("line %s NetTotal %s: %v", l.LineID, l.NetTotal, err)
		}
		if l.NetTotal.IsNegative() {
			t.Fatalf("line %s NetTotal %s negative", l.LineID, l.NetTotal)
		}
	}
	for _, r := range o.Refunds {
		for _, rl := range r.Lines {
			if rl.Quantity < 0 || core.CheckScale(o.Currency, rl.Amount) != nil {
				t.Fatalf("refund line %+v", rl)
			}
		}
	}
	for _, r := range o.Redemptions {
		if core.CheckScale(o.Currency, r.Amount) != nil || r.Amount.IsNegative() {
			t.Fatalf("redemption %+v", r)
		}
	}
}

func FuzzParseOrder(f *testing.F) {
	for _, name := range []string{"orders-create.bigids-credit.json", "order-minimal.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add(bytes.Replace(readTestdata(f, "order-minimal.json"), []byte("PRICE"), []byte("3.33"), 1))
	if dir := sharedfixtures.Dir(); dir != "" {
		for _, name := range []string{"orders-paid.json", "orders-create.discounts.real-devstore.json"} {
			if b, err := os.ReadFile(filepath.Join(dir, "fixtures", "shopify", name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"id":1,"currency":"JPY","line_items":[{"id":2,"quantity":3,"price":"100"}]}`))
	f.Add([]byte(`{"id":"1","currency":"bhd","line_items":[{"id":"2","quantity":"3","price":"1.125","discount_allocations":[{"amount":"0.001"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := shopify.ParseOrder(body, shopify.DefaultParseOptions())
		if err != nil {
			if c := core.ErrorCode(err); c != core.EINVALID {
				t.Fatalf("error code %s (%v), want invalid", c, err)
			}
			return
		}
		checkOrderInvariants(t, o)
	})
}

func FuzzParseRefund(f *testing.F) {
	f.Add([]byte(`{"id":1,"order_id":2,"refund_line_items":[{"line_item_id":3,"quantity":1,"subtotal_set":{"shop_money":{"amount":"1.00","currency_code":"USD"}}}]}`))
	f.Add([]byte(`{"id":1,"order_id":2,"refund_line_items":[{"line_item_id":3,"quantity":2,"subtotal":1.5}]}`))
	if dir := sharedfixtures.Dir(); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "fixtures", "shopify", "refunds-create.json")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orderID, r, err := shopify.ParseRefund(body)
		if err != nil {
			if c := core.ErrorCode(err); c != core.EINVALID {
				t.Fatalf("error code %s (%v), want invalid", c, err)
			}
			return
		}
		if orderID == "" || r.RefundID == "" || !r.LinesKnown {
			t.Fatalf("refund %q %+v", orderID, r)
		}
		sum := decimal.Zero
		for _, l := range r.Lines {
			if l.Quantity < 0 || l.LineID == "" || l.Amount.IsNegative() {
				t.Fatalf("refund line %+v", l)
			}
			sum = sum.Add(l.Amount)
		}
		if !sum.Equal(r.Amount) {
			t.Fatalf("refund amount %s != sum of lines %s", r.Amount, sum)
		}
	})
}
