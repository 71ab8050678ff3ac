package creditbridgereferral

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/internal/themetest"
)

func TestExtensionLayout(t *testing.T) {
	t.Parallel()
	themetest.CheckTheme(t, "creditbridge-referral")
	// The embed: target body, a bounded attribution window, the attribute
	// the order normalizer reads.
	src, embed := themetest.ReadBlock(t, "blocks/referral-capture.liquid")
	if embed.Target != "body" || embed.JavaScript != "referral.js" {
		t.Errorf("referral capture embed: %+v", embed)
	}
	var window bool
	for _, s := range embed.Settings {
		if s.ID == "window_days" {
			window = s.Type == "range" && s.Min != nil && *s.Min >= 1 && s.Max != nil && *s.Max <= 365
		}
	}
	if !window {
		t.Errorf("the embed has no bounded window_days setting: %+v", embed.Settings)
	}
	if !strings.Contains(src, `"attribute": "`+shopify.NoteAttrPartner+`"`) {
		t.Errorf("the embed does not write the %s attribute", shopify.NoteAttrPartner)
	}
	// The cart field posts the same attribute through the theme's cart form.
	src, field := themetest.ReadBlock(t, "blocks/referral-code.liquid")
	if field.Target != "section" || !strings.Contains(src, `name="attributes[`+shopify.NoteAttrPartner+`]"`) {
		t.Errorf("referral code block: %+v", field)
	}
	js, err := os.ReadFile("assets/referral.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte("'"+shopify.NoteAttrPartner+"'")) || !bytes.Contains(js, []byte("/cart/update.js")) {
		t.Error("referral.js does not write the cart attribute through /cart/update.js")
	}
}

func TestNodeUnitTests(t *testing.T) {
	t.Parallel()
	themetest.RunNodeTests(t, "the referral script")
}
