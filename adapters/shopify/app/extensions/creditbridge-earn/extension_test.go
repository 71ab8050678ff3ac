package creditbridgeearn

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

var schemaRe = regexp.MustCompile(`(?s)\{%\s*schema\s*%\}(.*?)\{%\s*endschema\s*%\}`)

type blockSchema struct {
	Name       string `json:"name"`
	Target     string `json:"target"`
	JavaScript string `json:"javascript"`
	EnabledOn  *struct {
		Templates []string `json:"templates"`
	} `json:"enabled_on"`
	Settings []struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Default any    `json:"default"`
	} `json:"settings"`
}

func readBlock(t *testing.T, path string) (string, blockSchema) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := schemaRe.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no {%% schema %%}", path)
	}
	var s blockSchema
	if err := json.NewDecoder(bytes.NewReader(m[1])).Decode(&s); err != nil {
		t.Fatalf("%s: schema is not JSON: %v", path, err)
	}
	if s.JavaScript != "" {
		if _, err := os.Stat("assets/" + s.JavaScript); err != nil {
			t.Errorf("%s loads assets/%s: %v", path, s.JavaScript, err)
		}
	}
	return string(b), s
}

// TestExtensionLayout: a theme extension with a product block, a body
// app embed and an account page block, asking the app proxy routes the
// bridge serves (adapters/httpapi: /proxy/earn and /proxy/account behind
// https://{shop}/apps/credit).
func TestExtensionLayout(t *testing.T) {
	t.Parallel()
	toml, err := os.ReadFile("shopify.extension.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^type = "theme"$`).Match(toml) || !regexp.MustCompile(`(?m)^name = "creditbridge-earn"$`).Match(toml) {
		t.Fatalf("shopify.extension.toml is not a theme extension named creditbridge-earn:\n%s", toml)
	}
	src, block := readBlock(t, "blocks/earn-product.liquid")
	if block.Target != "section" || block.JavaScript != "earn.js" || !strings.Contains(src, "data-cb-earn") || !strings.Contains(src, "data-price-cents=\"{{ cb_variant.price }}\"") {
		t.Errorf("product block: %+v", block)
	}
	_, embed := readBlock(t, "blocks/earn-embed.liquid")
	if embed.Target != "body" || embed.JavaScript != "earn.js" {
		t.Errorf("app embed: %+v", embed)
	}
	// The account page block: only for logged-in customers, on the
	// customers/account template, asking {proxy}/account.
	accSrc, acc := readBlock(t, "blocks/account-credit.liquid")
	if acc.Target != "section" || acc.JavaScript != "account.js" || acc.EnabledOn == nil || len(acc.EnabledOn.Templates) != 1 ||
		acc.EnabledOn.Templates[0] != "customers/account" || !strings.Contains(accSrc, "{%- if customer -%}") || !strings.Contains(accSrc, "data-cb-account") {
		t.Errorf("account block: %+v", acc)
	}
	accJS, err := os.ReadFile("assets/account.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(accJS, []byte("'/account'")) || bytes.Contains(accJS, []byte("innerHTML")) {
		t.Error("account.js does not ask {proxy}/account, or sets HTML")
	}
	for _, b := range []blockSchema{block, embed, acc} {
		ok := false
		for _, s := range b.Settings {
			ok = ok || (s.ID == "proxy_path" && s.Default == "/apps/credit")
		}
		if !ok {
			t.Errorf("%s: no proxy_path setting defaulting to /apps/credit", b.Name)
		}
	}
	js, err := os.ReadFile("assets/earn.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte("'/earn?'")) || !bytes.Contains(js, []byte("/cart.js")) {
		t.Error("earn.js does not ask {proxy}/earn with the cart from /cart.js")
	}
}

func TestNodeUnitTests(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is not installed (CI is set, so this is a failure): %v", err)
		}
		t.Skip("skipping: node is not installed; install Node.js >= 20 to test the earn script")
	}
	out, err := exec.Command(node, "--test").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) || bytes.Contains(out, []byte("# pass 0")) {
		t.Fatalf("unexpected node --test output:\n%s", out)
	}
}
