package app

import (
	"slices"
	"strings"
	"testing"

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
