package core_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/creditbridge/creditbridge/"

// goList runs `go list` from the module root with a template and returns
// one line per package.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// The architecture's "nevers", enforced on every test run (golangci-lint's
// depguard rules in .golangci.yml say the same for editors):
//   - core is the domain: no adapter, job, command, transport, database or queue;
//   - a platform adapter imports no other platform adapter, and neither
//     PostgreSQL nor the HTTP layer;
//   - the PostgreSQL adapter knows no platform and no HTTP;
//   - jobs are thin: no HTTP layer; nothing imports cmd;
//   - test-only packages (pgtest, fakes, fixture locator) never end up in
//     a binary.
func TestArchitectureImports(t *testing.T) {
	rules := []struct {
		pkgPrefix string
		deny      []string
		why       string
	}{
		{"core", []string{module + "adapters", module + "jobs", module + "cmd", module + "configs",
			"github.com/gofiber/", "github.com/jackc/pgx", "github.com/redis/", "github.com/hibiken/asynq", "github.com/prometheus/", "net/http"},
			"core is the domain: define an interface in core and implement it in an adapter"},
		{"adapters/shopify", []string{module + "adapters/woocommerce", module + "adapters/postgres", module + "adapters/httpapi", module + "jobs", module + "cmd"},
			"a platform adapter wraps one platform"},
		{"adapters/woocommerce", []string{module + "adapters/shopify", module + "adapters/postgres", module + "adapters/httpapi", module + "jobs", module + "cmd"},
			"a platform adapter wraps one platform"},
		{"adapters/postgres", []string{module + "adapters/shopify", module + "adapters/woocommerce", module + "adapters/httpapi", module + "jobs", module + "cmd"},
			"the PostgreSQL adapter stores the domain; it knows no platform or transport"},
		{"jobs", []string{module + "adapters/httpapi", module + "cmd"}, "jobs hold task types and thin handlers"},
		{"adapters", []string{module + "cmd", module + "internal/wire"}, "nothing imports a command; only commands use the builder"},
		{"jobs", []string{module + "internal/wire"}, "only commands use the builder"},
		{"core", []string{module + "internal"}, "core is the domain"},
	}
	checked := 0
	for _, line := range goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		for _, r := range rules {
			if pkg != r.pkgPrefix && !strings.HasPrefix(pkg, r.pkgPrefix+"/") {
				continue
			}
			checked++
			for _, imp := range fields[1:] {
				for _, d := range r.deny {
					if imp == d || strings.HasPrefix(imp, d) && (strings.HasSuffix(d, "/") || strings.HasPrefix(imp[len(d):], "/") || !strings.HasPrefix(d, module)) {
						t.Errorf("%s imports %s: %s", pkg, imp, r.why)
					}
				}
			}
		}
	}
	if checked < 6 {
		t.Fatalf("only %d packages matched the rules: the module layout changed", checked)
	}
}

func TestBinariesCarryNoTestOnlyPackage(t *testing.T) {
	testOnly := []string{"core/coretest", "adapters/postgres/pgtest", "adapters/woocommerce/wcfake", "adapters/shopify/admin/shopifyfake", "adapters/sharedfixtures",
		"internal/leaktest", "internal/themetest", "internal/browsertest"}
	deps := goList(t, "-deps", "./cmd/...")
	if len(deps) < 20 {
		t.Fatalf("go list -deps ./cmd/... listed %d packages", len(deps))
	}
	for _, d := range deps {
		for _, p := range testOnly {
			if d == module+p {
				t.Errorf("a binary under cmd/ depends on the test-only package %s", p)
			}
		}
	}
}
