package creditbridgereferral

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/shopify"
)

var schemaRe = regexp.MustCompile(`(?s)\{%\s*schema\s*%\}(.*?)\{%\s*endschema\s*%\}`)

type blockSchema struct {
	Name       string `json:"name"`
	Target     string `json:"target"`
	JavaScript string `json:"javascript"`
	Settings   []struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Default any    `json:"default"`
		Min     *int   `json:"min"`
		Max     *int   `json:"max"`
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
	d := json.NewDecoder(bytes.NewReader(m[1]))
	if err := d.Decode(&s); err != nil {
		t.Fatalf("%s: schema is not JSON: %v", path, err)
	}
	if s.JavaScript != "" {
		if _, err := os.Stat("assets/" + s.JavaScript); err != nil {
			t.Errorf("%s loads assets/%s: %v", path, s.JavaScript, err)
		}
	}
	return string(b), s
}

func TestExtensionLayout(t *testing.T) {
	t.Parallel()
	toml, err := os.ReadFile("shopify.extension.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^type = "theme"$`).Match(toml) || !regexp.MustCompile(`(?m)^name = "creditbridge-referral"$`).Match(toml) {
		t.Fatalf("shopify.extension.toml is not a theme extension named creditbridge-referral:\n%s", toml)
	}
	// The embed: target body, a bounded attribution window, the attribute
	// the order normalizer reads.
	src, embed := readBlock(t, "blocks/referral-capture.liquid")
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
	src, field := readBlock(t, "blocks/referral-code.liquid")
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
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is not installed (CI is set, so this is a failure): %v", err)
		}
		t.Skip("skipping: node is not installed; install Node.js >= 20 to test the referral script")
	}
	cmd := exec.Command(node, "--test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) || bytes.Contains(out, []byte("# pass 0")) {
		t.Fatalf("unexpected node --test output:\n%s", out)
	}
}
