// Package themetest checks a Shopify theme app extension from its Go
// tests (adapters/shopify/app/extensions/*): the extension's TOML, its
// blocks' {% schema %} and its script's own unit tests (node --test).
// Test-only: import it from _test.go files only.
package themetest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"testing"
)

var schemaRe = regexp.MustCompile(`(?s)\{%\s*schema\s*%\}(.*?)\{%\s*endschema\s*%\}`)

// Block is what the tests read of a block's schema.
type Block struct {
	Name       string    `json:"name"`
	Target     string    `json:"target"`
	JavaScript string    `json:"javascript"`
	Settings   []Setting `json:"settings"`
	// EnabledOn limits an app block to templates (nil: anywhere).
	EnabledOn *struct {
		Templates []string `json:"templates"`
	} `json:"enabled_on"`
}

// Setting is one of a block's merchant settings.
type Setting struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Default any    `json:"default"`
	Min     *int   `json:"min"`
	Max     *int   `json:"max"`
}

// ReadBlock reads a block (a path in the extension, where the test runs)
// and its schema, which must be JSON; the script the schema loads must be
// in assets/.
func ReadBlock(t testing.TB, path string) (string, Block) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := schemaRe.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s has no {%% schema %%}", path)
	}
	var s Block
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

// CheckTheme fails the test unless shopify.extension.toml declares a theme
// extension named name.
func CheckTheme(t testing.TB, name string) {
	t.Helper()
	toml, err := os.ReadFile("shopify.extension.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^type = "theme"$`).Match(toml) || !regexp.MustCompile(`(?m)^name = "`+regexp.QuoteMeta(name)+`"$`).Match(toml) {
		t.Fatalf("shopify.extension.toml is not a theme extension named %s:\n%s", name, toml)
	}
}

// RunNodeTests runs the extension's script tests with `node --test` and
// fails unless some ran and none failed. Without node it skips, unless
// CI is set (then it fails); what names the script in the skip message.
func RunNodeTests(t *testing.T, what string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is not installed (CI is set, so this is a failure): %v", err)
		}
		t.Skipf("skipping: node is not installed; install Node.js >= 20 to test %s", what)
	}
	out, err := exec.Command(node, "--test").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) || bytes.Contains(out, []byte("# pass 0")) {
		t.Fatalf("unexpected node --test output:\n%s", out)
	}
}
