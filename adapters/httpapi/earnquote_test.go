package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestEarnQuote: the public quote of earnings for a storefront: the rules
// per line (a product rule, the default, an exclusion), rounded as booking
// rounds, cacheable and open to any origin, in the shop's language.
func TestEarnQuote(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Settings: core.ShopSettings{Locale: "de"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := postgres.NewDirectory(e.pool)
	d := decimal.RequireFromString
	for _, r := range []core.Rule{
		{Target: core.TargetDefault, Mode: core.ModePercent, Value: d("2.5")},
		{Target: core.TargetProduct, TargetID: "632910392", Mode: core.ModeFixed, Value: d("0.50")},
		{Target: core.TargetSKU, TargetID: "GIFT", Mode: core.ModeExclude},
	} {
		if _, err := dir.PutRule(ctx, shop.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	q := "/api/v1/public/earn?shop=" + e.fake.ShopDomain()
	// 3 × 0.50 + 2.5 % of 2 × 19,99 (0.9995 → 1.00) + nothing for the gift.
	resp := e.get(q + "&line=632910392:808950810::3:12.00&line=7:8:TEE:2:19,99&line=9:9:GIFT:1:50.00")
	body := wantStatus(t, resp, http.StatusOK)
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got["amount"] != "2.50" || got["currency"] != "EUR" || got["formatted"] != "2,50\u00a0€" || got["text"] != "Mit dieser Bestellung erhältst du 2,50\u00a0€ Guthaben." {
		t.Fatalf("quote = %s", body)
	}
	if resp.Header.Get("Cache-Control") != "public, max-age=60" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("headers = %v", resp.Header)
	}
	for name, path := range map[string]string{
		"no lines":     q,
		"bad line":     q + "&line=1:2:3:4",
		"bad quantity": q + "&line=1:2:3:0:1.00",
		"bad price":    q + "&line=1:2:3:1:zwölf",
		"bad platform": q + "&platform=magento&line=1:2:3:1:1.00",
	} {
		if r := e.get(path); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, r.StatusCode)
		}
	}
	wantStatus(t, e.get("/api/v1/public/earn?shop=unknown.myshopify.com&line=1:2:3:1:1.00"), http.StatusNotFound)

	// Through the app proxy (the theme extension): signed by Shopify, the
	// shop from the signature; unsigned is refused.
	vals := e.proxyValues("")
	vals.Add("line", "632910392:808950810::1:12.00")
	body = wantStatus(t, e.proxy(http.MethodGet, "/shopify/proxy/earn", vals, e.fake.ClientSecret(), nil, ""), http.StatusOK)
	if !strings.Contains(body, `"amount":"0.50"`) {
		t.Fatalf("proxy quote = %s", body)
	}
	wantStatus(t, e.get("/shopify/proxy/earn?shop="+e.fake.ShopDomain()+"&line=1:2:3:1:1.00"), http.StatusUnauthorized)

	// A line total after a discount on the whole cart (the cart app
	// embed's sixth field): 2.5 % of 20.00, not of 2 × 19.99.
	body = wantStatus(t, e.get(q+"&line=7:8:TEE:2:19.99:20.00"), http.StatusOK)
	if !strings.Contains(body, `"amount":"0.50"`) {
		t.Fatalf("quote with a line total = %s", body)
	}
	for _, bad := range []string{"7:8:TEE:2:19.99:40.00", "7:8:TEE:2:19.99:-1", "7:8:TEE:2:19.99:x"} {
		wantStatus(t, e.get(q+"&line="+bad), http.StatusBadRequest)
	}
}

// TestEarnQuoteMatchesBookingWithTax: in a tax-inclusive shop (German,
// 19 % and 7 %) the storefront shows prices with VAT; the quote takes the
// VAT out as the order's tax lines will (the shop's tax setup) and quotes
// exactly what booking the same cart as a Shopify order earns, on the net
// base and on the gross base. Without the setup it overestimated.
func TestEarnQuoteMatchesBookingWithTax(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()
	d := decimal.RequireFromString
	setup := core.TaxSetup{PricesIncludeTax: true, Rate: decimal.NewNullDecimal(d("19")), ProductRates: map[string]decimal.Decimal{"8810000000002": d("7")}}
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Settings: core.ShopSettings{Locale: "en"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := postgres.NewDirectory(e.pool)
	if _, err := dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: d("10")}); err != nil {
		t.Fatal(err)
	}
	// The cart: 2 × 119.00 (19 %), 3 × 21,40 (7 %), prices as shown.
	cart := "/api/v1/public/earn?shop=" + e.fake.ShopDomain() + "&line=8810000000001:4710000000001:KM-200:2:119.00&line=8810000000002:4710000000002:BIO-KAFFEE-1KG:3:21,40"
	quote := func() string {
		t.Helper()
		var got map[string]string
		if err := json.Unmarshal([]byte(wantStatus(t, e.get(cart), http.StatusOK)), &got); err != nil {
			t.Fatal(err)
		}
		return got["amount"]
	}
	if got := quote(); got != "30.22" {
		t.Fatalf("without a tax setup the quote earns on the prices shown: %s, want 30.22", got)
	}

	// The same cart as the order Shopify sends: the German fixture without
	// its code and refund, tax lines as Shopify computes them.
	raw, err := os.ReadFile(filepath.Join("..", "taxfixtures", "testdata", "shopify-order-de-taxes-included.json"))
	if err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	o["financial_status"], o["refunds"], o["discount_codes"], o["discount_applications"] = "paid", []any{}, []any{}, []any{}
	for i, tax := range []string{"38.00", "4.20"} {
		li := o["line_items"].([]any)[i].(map[string]any)
		li["discount_allocations"] = []any{}
		tl := li["tax_lines"].([]any)[0].(map[string]any)
		tl["price"] = tax
		tl["price_set"] = map[string]any{"shop_money": map[string]any{"amount": tax, "currency_code": "EUR"}, "presentment_money": map[string]any{"amount": tax, "currency_code": "EUR"}}
	}
	body, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	earner := &core.Earner{Orders: postgres.OrderStore{L: e.ledger}, Directory: dir, Ledger: e.ledger}
	booked := func(s core.Shop, id string) string {
		t.Helper()
		ord, err := shopify.ParseOrder(body, shopify.Options(s))
		if err != nil {
			t.Fatal(err)
		}
		ord.OrderID, ord.Customer = id, core.CustomerRef{PlatformID: id}
		if _, err := earner.ApplyOrder(ctx, s, ord, nil); err != nil {
			t.Fatal(err)
		}
		b, err := e.ledger.Balance(ctx, s.ID, "EUR", core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(id)})
		if err != nil {
			t.Fatal(err)
		}
		return core.StringFixedFor("EUR", b.Available.Add(b.Pending))
	}
	for _, base := range []core.EarnBase{core.EarnOnNet, core.EarnOnGross} {
		shop.Settings.Tax, shop.Settings.EarnBase = setup, base
		if err := e.shops.UpdateSettings(ctx, shop); err != nil {
			t.Fatal(err)
		}
		e.srv.ForgetShops()
		want := booked(shop, "91"+strconv.Itoa(len(base)))
		if got := quote(); got != want {
			t.Errorf("earn base %s: quote %s, booking the cart earned %s", base, got, want)
		}
		if base == core.EarnOnNet && want != "26.00" {
			t.Errorf("net base: booked %s, want 10 %% of the nets 200.00 and 60.00", want)
		}
	}

	// Prices shown without VAT (rate set, not included): the net is the
	// price, the gross base adds the VAT as booking's tax lines do.
	sp := core.TaxSetup{Rate: decimal.NewNullDecimal(d("19"))}
	if net, tax, err := sp.SplitShown("EUR", "1", d("100.00")); err != nil || !net.Equal(d("100")) || !tax.Equal(d("19")) {
		t.Errorf("tax-exclusive split: %s + %s, %v", net, tax, err)
	}
	// A tax-inclusive setup needs its rate.
	if err := (core.ShopSettings{Tax: core.TaxSetup{PricesIncludeTax: true}}).Validate(); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("prices_include_tax without a rate: %v", err)
	}
}
