package plugin_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// phpBinary returns the php CLI, skipping the test when it is absent, or
// failing it when the CI environment variable is set (so CI cannot pass
// without running the PHP checks).
func phpBinary(t *testing.T) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("php is not on PATH but CI is set: install the PHP CLI (Debian: apt-get install -y php-cli) to lint and test the WooCommerce plugin")
		}
		t.Skip("php is not on PATH: skipping the WooCommerce plugin's PHP lint and tests (Debian: apt-get install -y php-cli)")
	}
	return php
}

// phpFiles lists every .php file of the plugin and its tests.
func phpFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, root := range []string{"creditbridge", "tests"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".php") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	if len(files) < 10 {
		t.Fatalf("found only %d PHP files; is the working directory the plugin directory?", len(files))
	}
	return files
}

func run(t *testing.T, php string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, php, args...).CombinedOutput()
	return string(out), err
}

// TestPHPLint runs `php -l` on every PHP file.
func TestPHPLint(t *testing.T) {
	t.Parallel()
	php := phpBinary(t)
	for _, f := range phpFiles(t) {
		out, err := run(t, php, "-l", f)
		if err != nil || !strings.Contains(out, "No syntax errors detected") {
			t.Errorf("php -l %s failed: %v\n%s", f, err, out)
		}
	}
}

var summary = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed$`)

// TestPHPSuite runs the plugin's self-contained PHP test suite.
func TestPHPSuite(t *testing.T) {
	t.Parallel()
	php := phpBinary(t)
	out, err := run(t, php, filepath.Join("tests", "run.php"))
	if err != nil {
		t.Fatalf("PHP test suite failed: %v\n%s", err, out)
	}
	m := summary.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("PHP test suite printed no summary line:\n%s", out)
	}
	if m[1] == "0" || m[2] != "0" {
		t.Fatalf("PHP test suite: %s passed, %s failed\n%s", m[1], m[2], out)
	}
	t.Logf("PHP test suite: %s passed, %s failed", m[1], m[2])
}
