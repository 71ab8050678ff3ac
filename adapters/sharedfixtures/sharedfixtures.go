// Package sharedfixtures locates the shared platform fixtures (real
// Shopify and WooCommerce payloads, signature vectors and schemas) that
// live beside the repository in ../shared. It is imported only by tests.
//
// In a user's clone ../shared is absent and tests that need it skip with a
// clear message; when the CI environment variable is set they fail
// instead, so a green CI run can never hide skipped fixture tests.
package sharedfixtures

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the absolute path of ../shared (or $CREDITBRIDGE_SHARED).
// It returns "" when the directory cannot be found.
func Dir() string {
	if d := os.Getenv("CREDITBRIDGE_SHARED"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(dir), "shared")
			if st, err := os.Stat(shared); err == nil && st.IsDir() {
				return shared
			}
			return ""
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// Path returns the path of rel inside the shared directory, skipping the
// test (or failing it under CI) when the shared directory or file is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir := Dir()
	if dir == "" {
		missing(tb, "../shared (platform fixtures) is not beside this repository; set CREDITBRIDGE_SHARED to its path to run this test")
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		missing(tb, "shared fixture "+rel+" not found in "+dir)
	}
	return p
}

// Read returns the content of a shared fixture (see Path).
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, rel))
	if err != nil {
		tb.Fatalf("read shared fixture %s: %v", rel, err)
	}
	return b
}

func missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s (CI is set, so this is a failure, not a skip)", msg)
	}
	tb.Skip("skipping: " + msg)
}
