package httpapi_test

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
	"github.com/creditbridge/creditbridge/adapters/metrics"
)

var httpMethods = []string{"get", "post", "put", "patch", "delete"}

// specOperations extracts "METHOD /path" from the paths: section of an
// OpenAPI document written in block style (path keys indented by two
// spaces, operations by four).
func specOperations(t *testing.T, spec string) map[string]bool {
	t.Helper()
	ops := map[string]bool{}
	inPaths := false
	path := ""
	sc := bufio.NewScanner(strings.NewReader(spec))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.Contains(line, "\t") {
			t.Fatalf("openapi.yaml:%d contains a tab (not allowed in YAML indentation)", n)
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent == 0 {
			inPaths = trimmed == "paths:"
			continue
		}
		if !inPaths {
			continue
		}
		switch indent {
		case 2:
			if !strings.HasPrefix(trimmed, "/") || !strings.HasSuffix(trimmed, ":") {
				t.Fatalf("openapi.yaml:%d: %q is not a path key", n, trimmed)
			}
			path = strings.TrimSuffix(trimmed, ":")
		case 4:
			key, _, _ := strings.Cut(trimmed, ":")
			if !slices.Contains(httpMethods, key) {
				if key == "parameters" || key == "summary" || key == "description" {
					continue
				}
				t.Fatalf("openapi.yaml:%d: unexpected key %q under %s", n, key, path)
			}
			op := strings.ToUpper(key) + " " + path
			if ops[op] {
				t.Fatalf("openapi.yaml:%d: %s documented twice", n, op)
			}
			ops[op] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

var paramRE = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// appOperations lists the routes the fiber app registers, in OpenAPI
// notation.
func appOperations(t *testing.T) map[string]bool {
	t.Helper()
	app, _ := httpapi.New(httpapi.Config{AdminToken: "x", ShopifyClientID: "id", ShopifySecrets: []string{"s"}},
		httpapi.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: metrics.New(nil, nil)})
	ops := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		m := strings.ToLower(r.Method)
		if !slices.Contains(httpMethods, m) {
			continue // HEAD (added for every GET), USE
		}
		p := paramRE.ReplaceAllString(r.Path, "{$1}")
		if len(p) > 1 {
			p = strings.TrimSuffix(p, "/")
		}
		ops[strings.ToUpper(m)+" "+p] = true
	}
	return ops
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := specOperations(t, string(b))
	routes := appOperations(t)
	if len(routes) < 30 {
		t.Fatalf("the app registers only %d routes: the route listing is broken", len(routes))
	}
	for op := range routes {
		if !spec[op] {
			t.Errorf("route %s is not documented in openapi.yaml", op)
		}
	}
	for op := range spec {
		if !routes[op] {
			t.Errorf("openapi.yaml documents %s, which the app does not serve", op)
		}
	}
}

// TestOpenAPIReferencesResolve checks that every local $ref names a
// component defined in the document, and that every security scheme used
// is declared.
func TestOpenAPIReferencesResolve(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.HasPrefix(doc, "openapi: 3.1.") {
		t.Fatal("openapi.yaml does not start with openapi: 3.1.x")
	}
	defined := map[string]bool{}
	section := ""
	inComponents := false
	for _, line := range strings.Split(doc, "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		if indent == 0 {
			inComponents = trimmed == "components:"
			continue
		}
		if !inComponents {
			continue
		}
		key, _, _ := strings.Cut(trimmed, ":")
		switch indent {
		case 2:
			section = key
		case 4:
			defined[section+"/"+key] = true
		}
	}
	for _, m := range regexp.MustCompile(`#/components/([A-Za-z]+)/([A-Za-z0-9_]+)`).FindAllStringSubmatch(doc, -1) {
		if !defined[m[1]+"/"+m[2]] {
			t.Errorf("$ref %s does not resolve", m[0])
		}
	}
	for _, m := range regexp.MustCompile(`\{([A-Za-z]+): \[\]`).FindAllStringSubmatch(doc, -1) {
		if !defined["securitySchemes/"+m[1]] {
			t.Errorf("security scheme %q is used but not declared", m[1])
		}
	}
	for _, scheme := range []string{"operatorToken", "shopAdminToken", "shopifySessionToken", "customerToken", "pluginSignature", "shopifyWebhookHmac", "wooWebhookHmac"} {
		if !defined["securitySchemes/"+scheme] {
			t.Errorf("security scheme %s is not documented", scheme)
		}
	}
	if !defined["schemas/Error"] {
		t.Error("the error format is not documented")
	}
}

// specSchemaProperties returns the property names of a schema under
// components/schemas of openapi.yaml (block style: schema names indented
// by four spaces, "properties:" by six, property names by eight).
func specSchemaProperties(t *testing.T, name string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	props := map[string]bool{}
	in, inProps := false, false
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 4:
			in, inProps = trimmed == name+":", false
		case in && indent == 6:
			inProps = trimmed == "properties:"
		case in && inProps && indent == 8:
			key, _, _ := strings.Cut(trimmed, ":")
			props[key] = true
		}
	}
	if len(props) == 0 {
		t.Fatalf("openapi.yaml has no schema %s with properties", name)
	}
	return props
}

// TestOpenAPIReferralRefusal checks the documented shape of a recorded
// self-referral (the e2e tests compare every field the API answers with
// it) and that its reversal is documented with its conflict.
func TestOpenAPIReferralRefusal(t *testing.T) {
	t.Parallel()
	props := specSchemaProperties(t, "ReferralRefusal")
	for _, k := range []string{"order_id", "reason", "found_later", "status", "status_text_de", "status_text_en", "reversed_at", "reversed_by"} {
		if !props[k] {
			t.Errorf("ReferralRefusal lacks %s", k)
		}
	}
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "  /api/v1/shops/{shop}/referral-refusals/{order}/reverse:")
	if i < 0 {
		t.Fatal("the reversal is not documented")
	}
	op := doc[i:]
	if j := strings.Index(op[3:], "\n  /"); j >= 0 {
		op = op[:j+3]
	}
	for _, want := range []string{`"409"`, "transaction_ids", "self_referral_reversal", "Idempotent"} {
		if !strings.Contains(op, want) {
			t.Errorf("the reversal's documentation lacks %s", want)
		}
	}
}
