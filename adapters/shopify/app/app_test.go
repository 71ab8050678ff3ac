package app

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
)

// table is one [table] or [[array.table]] of the TOML file.
type table struct {
	name string
	keys map[string]string
}

// parseTOML is a minimal line-based reader for the subset used in
// shopify.app.toml: [table], [[array.of.tables]], key = value, with arrays
// on one line and no '#' inside strings.
func parseTOML(t *testing.T, path string) []table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := []table{{name: "", keys: map[string]string{}}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "[[") && strings.HasSuffix(line, "]]"):
			tables = append(tables, table{name: strings.TrimSpace(line[2 : len(line)-2]), keys: map[string]string{}})
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			tables = append(tables, table{name: strings.TrimSpace(line[1 : len(line)-1]), keys: map[string]string{}})
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s:%d: not a key = value line: %q", path, n, line)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			cur := tables[len(tables)-1]
			if _, dup := cur.keys[k]; dup {
				t.Fatalf("%s:%d: duplicate key %s in [%s]", path, n, k, cur.name)
			}
			cur.keys[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

func unquote(t *testing.T, v string) string {
	t.Helper()
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		t.Fatalf("value %s is not a basic string", v)
	}
	return v[1 : len(v)-1]
}

func stringArray(t *testing.T, v string) []string {
	t.Helper()
	if !strings.HasPrefix(v, "[") || !strings.HasSuffix(v, "]") {
		t.Fatalf("value %s is not a one-line array", v)
	}
	var out []string
	for _, e := range strings.Split(v[1:len(v)-1], ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, unquote(t, e))
		}
	}
	return out
}

func get(tables []table, name string) map[string]string {
	for _, tb := range tables {
		if tb.name == name {
			return tb.keys
		}
	}
	return nil
}

func TestAppConfig(t *testing.T) {
	t.Parallel()
	tables := parseTOML(t, "shopify.app.toml")
	root := get(tables, "")
	if unquote(t, root["name"]) != "creditbridge" || unquote(t, root["client_id"]) == "" || root["embedded"] != "true" {
		t.Errorf("root keys = %v", root)
	}
	if !strings.HasPrefix(unquote(t, root["application_url"]), "https://") {
		t.Errorf("application_url must be https: %s", root["application_url"])
	}

	scopes := strings.Split(unquote(t, get(tables, "access_scopes")["scopes"]), ",")
	for _, s := range []string{"read_orders", "read_customers", "write_customers", "write_discounts", "read_discounts"} {
		if !slices.Contains(scopes, s) {
			t.Errorf("scope %s missing from %v", s, scopes)
		}
	}
	redirects := stringArray(t, get(tables, "auth")["redirect_urls"])
	if len(redirects) == 0 || !strings.HasPrefix(redirects[0], "https://") {
		t.Errorf("redirect_urls = %v", redirects)
	}

	if v := unquote(t, get(tables, "webhooks")["api_version"]); v != admin.DefaultAPIVersion {
		t.Errorf("webhooks api_version %s differs from the Admin client's %s", v, admin.DefaultAPIVersion)
	}
	topics := map[string]string{}
	compliance := map[string]string{}
	for _, tb := range tables {
		if tb.name != "webhooks.subscriptions" {
			continue
		}
		uri := unquote(t, tb.keys["uri"])
		if v, ok := tb.keys["topics"]; ok {
			for _, tp := range stringArray(t, v) {
				topics[tp] = uri
			}
		}
		if v, ok := tb.keys["compliance_topics"]; ok {
			for _, tp := range stringArray(t, v) {
				compliance[tp] = uri
			}
		}
	}
	for _, tp := range []string{"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "refunds/create", "checkouts/create", "checkouts/update", "app/uninstalled"} {
		if uri, ok := topics[tp]; !ok || uri != "/webhooks/shopify" {
			t.Errorf("topic %s: subscribed=%t uri=%q", tp, ok, uri)
		}
	}
	for _, tp := range []string{"customers/data_request", "customers/redact", "shop/redact"} {
		if uri, ok := compliance[tp]; !ok || uri != "/webhooks/shopify" {
			t.Errorf("compliance topic %s: subscribed=%t uri=%q", tp, ok, uri)
		}
	}

	proxy := get(tables, "app_proxy")
	if unquote(t, proxy["prefix"]) != "apps" || unquote(t, proxy["subpath"]) != "credit" || !strings.HasPrefix(unquote(t, proxy["url"]), "https://") {
		t.Errorf("app_proxy = %v", proxy)
	}
	if get(tables, "pos")["embedded"] != "false" {
		t.Errorf("pos = %v", get(tables, "pos"))
	}
}

// TestParserCatchesMissingTopic proves the check above can fail.
func TestParserCatchesMissingTopic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := os.ReadFile("shopify.app.toml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), `"refunds/create", `, "", 1)
	if broken == string(b) {
		t.Fatal("fixture edit did not apply")
	}
	p := dir + "/shopify.app.toml"
	if err := os.WriteFile(p, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tb := range parseTOML(t, p) {
		if tb.name == "webhooks.subscriptions" && strings.Contains(tb.keys["topics"], "refunds/create") {
			t.Fatal("parser still sees refunds/create")
		}
	}
}
