package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestProxyAccount: the account page block's JSON through the app proxy:
// the logged-in customer's own balance (pending with its available-from
// day) in the shop's language, never cached; a visitor gets the login
// link; unsigned requests are refused.
func TestProxyAccount(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Settings: core.ShopSettings{Locale: "de", TimeZone: "Europe/Berlin", PendingDays: 14},
		Secrets:  core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "customer-key"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e.adjust(shop, "77", "a1", "1234.50", "Willkommen")
	e.adjust(shop, "88", "b1", "99.00", "someone else's credit")
	cust := core.Owner{Kind: core.OwnerCustomer, ID: "c:77"}
	amt := decimal.RequireFromString("5.00")
	e.post(shop, "earn:1", core.Reason{Kind: core.ReasonEarn, OrderNumber: "#1001", Product: "Tee"},
		core.Posting{Owner: cust, Bucket: core.BucketPending, Amount: amt},
		core.Posting{Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: amt.Neg()})

	resp := e.proxy(http.MethodGet, "/shopify/proxy/account", e.proxyValues("77"), e.fake.ClientSecret(), nil, "")
	body := wantStatus(t, resp, http.StatusOK)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
	var got struct {
		LoggedIn bool   `json:"logged_in"`
		Title    string `json:"title"`
		Lines    []struct {
			Label, Amount, Note string
		} `json:"lines"`
		StatementURL string `json:"statement_url"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !got.LoggedIn || got.Title != "Guthaben" || got.StatementURL != "/apps/credit/statement" || len(got.Lines) != 2 ||
		got.Lines[0].Label != "Jetzt verfügbar" || got.Lines[0].Amount != "1.234,50\u00a0€" ||
		got.Lines[1].Label != "Vorgemerkt" || got.Lines[1].Amount != "5,00\u00a0€" || !strings.HasPrefix(got.Lines[1].Note, "verfügbar ab ") {
		t.Fatalf("account = %s", body)
	}
	if strings.Contains(body, "99,00") {
		t.Fatalf("another customer's credit leaked: %s", body)
	}
	// A visitor: a login link, nothing else.
	vals := e.proxyValues("")
	vals.Del("logged_in_customer_id")
	body = wantStatus(t, e.proxy(http.MethodGet, "/shopify/proxy/account", vals, e.fake.ClientSecret(), nil, ""), http.StatusOK)
	if !strings.Contains(body, `"logged_in":false`) || !strings.Contains(body, "/account/login") || strings.Contains(body, "lines") {
		t.Fatalf("visitor = %s", body)
	}
	wantStatus(t, e.get("/shopify/proxy/account?shop="+e.fake.ShopDomain()+"&logged_in_customer_id=77"), http.StatusUnauthorized)
}
