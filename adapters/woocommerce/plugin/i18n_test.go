package plugin_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// poEntries reads msgid → msgstr of a .po/.pot file (escapes kept) and
// the ids marked fuzzy.
func poEntries(t *testing.T, path string) (map[string]string, map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, fuzzy := map[string]string{}, map[string]bool{}
	str := regexp.MustCompile(`"(.*)"`)
	for _, block := range strings.Split(string(b), "\n\n") {
		var id, msg strings.Builder
		cur := (*strings.Builder)(nil)
		isFuzzy := false
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "#,") && strings.Contains(line, "fuzzy"):
				isFuzzy = true
			case strings.HasPrefix(line, "msgid_plural "):
				cur = nil // the plural form is checked through msgstr[n]
				continue
			case strings.HasPrefix(line, "msgid "):
				cur = &id
			case strings.HasPrefix(line, "msgstr"):
				cur = &msg
			case !strings.HasPrefix(line, `"`):
				continue
			}
			if m := str.FindStringSubmatch(line); m != nil && cur != nil && !strings.HasPrefix(line, "#") {
				cur.WriteString(m[1])
			}
		}
		if id.Len() > 0 {
			out[id.String()] = msg.String()
			if isFuzzy {
				fuzzy[id.String()] = true
			}
		}
	}
	return out, fuzzy
}

// TestTranslations: every string of the template is translated to German
// (not fuzzy) and the compiled .mo holds them all. Strings in the sources
// that the template lacks are listed (they show in English until
// i18n.sh is run and they are translated) without failing, so that a
// new string never blocks a change.
func TestTranslations(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("creditbridge", "languages")
	pot, _ := poEntries(t, filepath.Join(dir, "creditbridge.pot"))
	po, fuzzy := poEntries(t, filepath.Join(dir, "creditbridge-de_DE.po"))
	// Strings in the PHP sources (single-quoted literals of the gettext calls).
	call := regexp.MustCompile(`\b(?:__|_e|esc_html__|esc_html_e|esc_attr__|esc_attr_e)\(\s*'((?:[^'\\]|\\.)*)',\s*'creditbridge'\s*\)`)
	files, _ := filepath.Glob(filepath.Join("creditbridge", "includes", "*.php"))
	files = append(files, filepath.Join("creditbridge", "creditbridge.php"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			s := strings.ReplaceAll(strings.ReplaceAll(m[1], `\'`, `'`), `"`, `\"`)
			n++
			if _, ok := pot[s]; !ok {
				t.Logf("%s: %q is not in creditbridge.pot yet (run adapters/woocommerce/plugin/i18n.sh and translate it)", filepath.Base(f), s)
			}
		}
	}
	if n < 100 {
		t.Fatalf("found only %d strings in the sources", n)
	}
	for id := range pot {
		if po[id] == "" || fuzzy[id] {
			t.Errorf("no German translation for %q", id)
		}
	}
	mo, err := os.ReadFile(filepath.Join(dir, "creditbridge-de_DE.mo"))
	if err != nil {
		t.Fatal(err)
	}
	if len(mo) < 28 || binary.LittleEndian.Uint32(mo) != 0x950412de {
		t.Fatal("creditbridge-de_DE.mo is not a little-endian GNU .mo file")
	}
	if count := binary.LittleEndian.Uint32(mo[8:]); int(count) != len(po)+1 { // + the header
		t.Errorf(".mo has %d messages, the .po %d: run i18n.sh", count, len(po))
	}
	if !bytes.Contains(mo, []byte("Guthabenregeln")) {
		t.Error(".mo lacks the German texts")
	}
}
