package creditbridgeearn

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/internal/themetest"
)

// TestExtensionLayout: a theme extension with a product block, a body
// app embed and an account page block, asking the app proxy routes the
// bridge serves (adapters/httpapi: /proxy/earn and /proxy/account behind
// https://{shop}/apps/credit).
func TestExtensionLayout(t *testing.T) {
	t.Parallel()
	themetest.CheckTheme(t, "creditbridge-earn")
	src, block := themetest.ReadBlock(t, "blocks/earn-product.liquid")
	if block.Target != "section" || block.JavaScript != "earn.js" || !strings.Contains(src, "data-cb-earn") || !strings.Contains(src, "data-price-cents=\"{{ cb_variant.price }}\"") {
		t.Errorf("product block: %+v", block)
	}
	_, embed := themetest.ReadBlock(t, "blocks/earn-embed.liquid")
	if embed.Target != "body" || embed.JavaScript != "earn.js" {
		t.Errorf("app embed: %+v", embed)
	}
	// The account page block: only for logged-in customers, on the
	// customers/account template, asking {proxy}/account.
	accSrc, acc := themetest.ReadBlock(t, "blocks/account-credit.liquid")
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
	for _, b := range []themetest.Block{block, embed, acc} {
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
	themetest.RunNodeTests(t, "the earn script")
}
