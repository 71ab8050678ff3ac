package creditbridgeearn

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/internal/themetest"
)

// TestExtensionLayout: a theme extension with a product block and a body
// app embed, both asking the app proxy route the bridge serves
// (adapters/httpapi: /proxy/earn behind https://{shop}/apps/credit).
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
	for _, b := range []themetest.Block{block, embed} {
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
