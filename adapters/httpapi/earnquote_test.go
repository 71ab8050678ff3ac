package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/postgres"
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
}
