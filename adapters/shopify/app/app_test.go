package app

import (
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
)

func TestAppConfig(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "creditbridge" || c.ClientID == "" || !c.Embedded || c.AccessScopes.UseLegacyInstallFlow {
		t.Errorf("root keys = %+v", c)
	}
	scopes := strings.Split(c.AccessScopes.Scopes, ",")
	for _, s := range []string{"read_orders", "read_customers", "write_customers", "write_discounts", "read_discounts",
		"read_store_credit_accounts", "write_store_credit_account_transactions"} {
		if !slices.Contains(scopes, s) {
			t.Errorf("scope %s missing from %v", s, scopes)
		}
	}
	if got, want := sorted(c.AccessScopes.Scopes), sorted(admin.DefaultScopes); !slices.Equal(got, want) {
		t.Errorf("access_scopes %v differ from admin.DefaultScopes %v", got, want)
	}
	if c.AppProxy == nil || c.AppProxy.Prefix != "apps" || c.AppProxy.Subpath != "credit" {
		t.Errorf("app_proxy = %+v", c.AppProxy)
	}
}

// TestAPIVersionMatchesClient: the webhook payload version and the Admin
// API version the client calls are the same constant.
func TestAPIVersionMatchesClient(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Webhooks.APIVersion != admin.DefaultAPIVersion {
		t.Errorf("[webhooks] api_version %s differs from admin.DefaultAPIVersion %s", c.Webhooks.APIVersion, admin.DefaultAPIVersion)
	}
}

// TestResolveURL pins Shopify CLI's rule (prependApplicationUrl): a value
// starting with "/" is appended to application_url without its trailing
// slash; anything else is kept.
func TestResolveURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, app, want string }{
		{"/webhooks/shopify", "https://h.example/shopify/admin", "https://h.example/shopify/admin/webhooks/shopify"},
		{"/webhooks/shopify", "https://h.example/", "https://h.example/webhooks/shopify"},
		{"https://h.example/webhooks/shopify", "https://h.example/shopify/admin", "https://h.example/webhooks/shopify"},
		{"/x", "", "/x"},
	} {
		if got := ResolveURL(tc.raw, tc.app); got != tc.want {
			t.Errorf("ResolveURL(%q, %q) = %q, want %q", tc.raw, tc.app, got, tc.want)
		}
	}
}

// TestEndpointsRejectUnresolvable: a relative uri without an https
// application_url cannot be deployed.
func TestEndpointsRejectUnresolvable(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(`application_url = "http://plain.example"
[[webhooks.subscriptions]]
topics = ["orders/paid"]
uri = "/webhooks/shopify"
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Endpoints(nil); err == nil {
		t.Fatal("an http application_url was accepted")
	}
	if _, err := Parse([]byte("[webhooks]\napi_verison = \"2026-04\"\n")); err == nil { //nolint:misspell // the misspelled key is the test
		t.Fatal("a misspelled key in [webhooks] was accepted")
	}
}

func sorted(csv string) []string {
	out := strings.Split(csv, ",")
	slices.Sort(out)
	return out
}

// TestDuplicateSubscriptionsRefused: Shopify CLI refuses a topic
// subscribed twice with the same uri (and filter); so does Parse.
func TestDuplicateSubscriptionsRefused(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"same topic twice": `[[webhooks.subscriptions]]
topics = ["orders/paid", "customers/create"]
uri = "https://h.example/webhooks"
[[webhooks.subscriptions]]
topics = ["customers/create"]
uri = "https://h.example/webhooks"
`,
		"no topics": `[[webhooks.subscriptions]]
uri = "https://h.example/webhooks"
`,
		"compliance twice": `[[webhooks.subscriptions]]
compliance_topics = ["shop/redact", "shop/redact"]
uri = "https://h.example/webhooks"
`,
	} {
		if _, err := Parse([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The same topic to another uri, or with another filter, is allowed.
	if _, err := Parse([]byte(`[[webhooks.subscriptions]]
topics = ["orders/paid"]
uri = "https://h.example/a"
[[webhooks.subscriptions]]
topics = ["orders/paid"]
uri = "https://h.example/b"
[[webhooks.subscriptions]]
topics = ["orders/paid"]
uri = "https://h.example/a"
filter = "total_price:>100"
`)); err != nil {
		t.Errorf("distinct subscriptions refused: %v", err)
	}
}

// TestSubscribedTopicsExist: every subscribed topic is a value of
// WebhookSubscriptionTopic in the 2026-04 Admin schema (collections/update
// is COLLECTIONS_UPDATE) and one the bridge handles.
func TestSubscribedTopicsExist(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(sharedfixtures.Read(t, "fixtures/shopify/admin_schema_2026-04.graphql.gz")))
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	_, enum, ok := strings.Cut(string(sdl), "enum WebhookSubscriptionTopic {")
	if !ok {
		t.Fatal("the schema has no enum WebhookSubscriptionTopic")
	}
	enum, _, _ = strings.Cut(enum, "\n}")
	values := map[string]bool{}
	for _, line := range strings.Split(enum, "\n") {
		if v := strings.TrimSpace(line); v != "" && strings.ToUpper(v) == v && !strings.ContainsAny(v, " \"") {
			values[v] = true
		}
	}
	if len(values) < 100 || !values["ORDERS_PAID"] {
		t.Fatalf("read %d topics from the schema", len(values))
	}
	for _, s := range c.Webhooks.Subscriptions {
		for _, tp := range s.Topics {
			if v := strings.ToUpper(strings.ReplaceAll(tp, "/", "_")); !values[v] {
				t.Errorf("topic %s (%s) is not in the 2026-04 WebhookSubscriptionTopic enum", tp, v)
			}
			if !shopify.KnownTopic(tp) {
				t.Errorf("topic %s is subscribed but shopify.KnownTopic does not handle it", tp)
			}
		}
	}
	if !slices.ContainsFunc(c.Webhooks.Subscriptions, func(s Subscription) bool { return slices.Contains(s.Topics, shopify.TopicCollectionsUpdate) }) {
		t.Errorf("%s is not subscribed", shopify.TopicCollectionsUpdate)
	}
}
