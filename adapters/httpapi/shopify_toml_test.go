package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/app"
	"github.com/creditbridge/creditbridge/core"
)

// proxyPaths are the sub-paths the statement page links and posts to
// under https://{shop}/apps/credit (the app proxy forwards them to
// app_proxy.url + sub-path).
var proxyPaths = map[string]string{"/statement": http.MethodGet, "/vouchers": http.MethodPost}

// webhookFixture is the body sent for a topic: Shopify's docs example
// where ../shared has one, else an empty object (the endpoint stores the
// delivery before anything parses it).
var webhookFixture = map[string]string{
	"orders/create": "orders-paid.json", "orders/updated": "orders-paid.json", "orders/paid": "orders-paid.json",
	"orders/cancelled": "orders-paid.json", "refunds/create": "refunds-create.json", "app/uninstalled": "app-uninstalled.json",
	"customers/data_request": "customers-data_request.json", "customers/redact": "customers-redact.json", "shop/redact": "shop-redact.json",
}

// TestShopifyAppTOMLReachesRoutes resolves every URL of shopify.app.toml
// the way Shopify CLI does (a relative uri is appended to
// application_url) and sends each the request Shopify would send, signed,
// to the real router: webhooks and compliance webhooks must be stored
// (200), the app proxy pages must render (200), application_url must
// serve the embedded page and the OAuth redirect URL must reach the
// callback (which refuses an unsigned request with 401, not 404). All
// URLs must share one origin, the bridge's PUBLIC_URL.
func TestShopifyAppTOMLReachesRoutes(t *testing.T) {
	t.Parallel()
	cfg, err := app.Load()
	if err != nil {
		t.Fatal(err)
	}
	eps, err := cfg.Endpoints(proxyPaths)
	if err != nil {
		t.Fatal(err)
	}
	e := newSappEnv(t, &sappVouchers{})
	enq := &recordingEnqueuer{}
	e.srv.deps.Enqueuer = enq // the inbox row is what counts; no worker runs here
	ctx := context.Background()
	if _, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Secrets: core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "customer-key"}}, ""); err != nil {
		t.Fatal(err)
	}
	secret := e.fake.ClientSecret()
	origin := ""
	kinds := map[string]int{}
	for _, ep := range eps {
		kinds[ep.Kind]++
		if o := ep.URL.Scheme + "://" + ep.URL.Host; origin == "" {
			origin = o
		} else if o != origin {
			t.Errorf("%s %s: origin %s differs from %s: every URL must point at the one bridge", ep.Kind, ep.Topic, o, origin)
		}
		resp := e.request(t, ep, secret)
		status := resp.StatusCode
		want := http.StatusOK
		switch {
		case ep.Kind == "redirect_url":
			want = http.StatusUnauthorized // reached the callback, which checks the hmac
		case ep.Kind == "app_proxy" && ep.Method == http.MethodPost:
			want = http.StatusUnauthorized // reached the voucher form handler, which checks the form token
		}
		if status != want {
			t.Errorf("%s %s %s %s: status %d, want %d: %s", ep.Kind, ep.Topic, ep.Method, ep.URL, status, want, sappBody(t, resp))
		}
	}
	if want := kinds["webhook"] + kinds["compliance_webhook"]; enq.n != want {
		t.Errorf("%d deliveries stored and enqueued, want %d", enq.n, want)
	}
	for _, k := range []string{"application_url", "redirect_url", "webhook", "compliance_webhook", "app_proxy"} {
		if kinds[k] == 0 {
			t.Errorf("shopify.app.toml yields no %s", k)
		}
	}
	for _, tp := range append(append([]string{}, shopifyOrderTopics...), shopify.TopicAppUninstalled, shopify.TopicCollectionsUpdate,
		shopify.TopicCustomersCreate, shopify.TopicCustomersUpdate) {
		if !subscribed(cfg, tp, false) {
			t.Errorf("topic %s is not subscribed", tp)
		}
	}
	for _, tp := range []string{shopify.TopicCustomersDataRequest, shopify.TopicCustomersRedact, shopify.TopicShopRedact} {
		if !subscribed(cfg, tp, true) {
			t.Errorf("compliance topic %s is not subscribed", tp)
		}
	}
}

type recordingEnqueuer struct{ n int }

func (r *recordingEnqueuer) Enqueue(context.Context, int64, int64) error { r.n++; return nil }

var shopifyOrderTopics = []string{shopify.TopicOrdersCreate, shopify.TopicOrdersUpdated, shopify.TopicOrdersPaid, shopify.TopicOrdersCancelled,
	shopify.TopicRefundsCreate, shopify.TopicCheckoutsCreate, shopify.TopicCheckoutsUpdate}

func subscribed(cfg app.Config, topic string, compliance bool) bool {
	for _, s := range cfg.Webhooks.Subscriptions {
		list := s.Topics
		if compliance {
			list = s.ComplianceTopics
		}
		for _, t := range list {
			if t == topic {
				return true
			}
		}
	}
	return false
}

// request sends what Shopify (or the merchant's browser) sends to ep.
func (e *sappEnv) request(t *testing.T, ep app.Endpoint, secret string) *http.Response {
	t.Helper()
	path := ep.URL.EscapedPath()
	switch ep.Kind {
	case "webhook", "compliance_webhook":
		// Bodies must name this shop where the topic's body says which
		// shop it belongs to (shopify.CheckOrigin).
		domain := e.fake.ShopDomain()
		body := []byte("{}")
		switch ep.Topic {
		case shopify.TopicShopRedact:
			body = []byte(`{"shop_id":1,"shop_domain":"` + domain + `"}`)
		case shopify.TopicCustomersRedact:
			body = []byte(`{"shop_id":1,"shop_domain":"` + domain + `","customer":{"id":1},"orders_to_redact":[]}`)
		case shopify.TopicCustomersDataRequest:
			body = []byte(`{"shop_id":1,"shop_domain":"` + domain + `","customer":{"id":1},"orders_requested":[],"data_request":{"id":1}}`)
		case shopify.TopicAppUninstalled:
			body = []byte(`{"id":1,"name":"Test","domain":null,"myshopify_domain":"` + domain + `"}`)
		case shopify.TopicCollectionsUpdate:
			body = []byte(`{"id":841564295,"handle":"sommertee","title":"Sommertee","admin_graphql_api_id":"gid://shopify/Collection/841564295"}`)
		}
		if f, ok := webhookFixture[ep.Topic]; ok {
			if dir := sharedfixtures.Dir(); dir != "" {
				if b, err := os.ReadFile(filepath.Join(dir, "fixtures", "shopify", f)); err == nil {
					body = bytes.ReplaceAll(b, []byte("{shop}.myshopify.com"), []byte(domain))
				}
			}
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(shopify.HeaderTopic, ep.Topic)
		req.Header.Set(shopify.HeaderShopDomain, e.fake.ShopDomain())
		req.Header.Set(shopify.HeaderEventID, "toml-"+ep.Topic+"-"+strconv.FormatInt(time.Now().UnixNano(), 10))
		req.Header.Set(shopify.HeaderHmacSHA256, shopify.SignWebhook(body, secret))
		return e.do(req)
	case "app_proxy":
		vals := url.Values{"shop": {e.fake.ShopDomain()}, "logged_in_customer_id": {"77"}, "path_prefix": {"/apps/credit"},
			"timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}}
		var body *strings.Reader
		ct := ""
		if ep.Method == http.MethodPost {
			body, ct = strings.NewReader("amount=1.00&form_token=wrong"), "application/x-www-form-urlencoded"
		}
		if body == nil {
			return e.proxy(ep.Method, path, vals, secret, nil, ct)
		}
		return e.proxy(ep.Method, path, vals, secret, body, ct)
	case "application_url":
		// Shopify opens the app with ?shop=…&host=…&embedded=1.
		return e.get(path + "?shop=" + e.fake.ShopDomain() + "&host=abc&embedded=1")
	}
	return e.get(path)
}

// TestShopifyCLIRelativeURIWouldMiss proves the test above can fail: a
// relative uri under this application_url resolves below /shopify/admin,
// which the router answers with 404 (the bug this file's TOML once had).
func TestShopifyCLIRelativeURIWouldMiss(t *testing.T) {
	t.Parallel()
	cfg, err := app.Load()
	if err != nil {
		t.Fatal(err)
	}
	got := app.ResolveURL("/webhooks/shopify", cfg.ApplicationURL)
	if got != strings.TrimRight(cfg.ApplicationURL, "/")+"/webhooks/shopify" {
		t.Fatalf("relative uri resolved to %s", got)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	e := newSappEnv(t, nil)
	e.srv.deps.Enqueuer = &recordingEnqueuer{}
	resp := e.request(t, app.Endpoint{Kind: "webhook", Topic: shopify.TopicOrdersPaid, Method: http.MethodPost, URL: u}, e.fake.ClientSecret())
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("%s answered %d; the relative form was expected to miss the webhook route", u.Path, resp.StatusCode)
	}
}
