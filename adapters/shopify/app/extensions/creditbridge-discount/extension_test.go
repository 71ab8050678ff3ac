package creditbridgediscount

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
)

const inputQueryPath = "src/cart_lines_discounts_generate_run.graphql"

func TestInputQueryValidatesAgainstFunctionSchema(t *testing.T) {
	t.Parallel()
	schema := shopifyfake.FunctionSchema(t)
	q, err := os.ReadFile(inputQueryPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, errs := shopifyfake.Validate(schema, string(q))
	if len(errs) > 0 {
		t.Fatalf("input query does not validate: %v", shopifyfake.ErrorMessages(errs))
	}
	// The query must read the metafield the Admin client writes.
	if !strings.Contains(string(q), `namespace: "`+admin.MetafieldNamespace+`"`) || !strings.Contains(string(q), `key: "`+admin.MetafieldKey+`"`) {
		t.Errorf("input query does not read %s.%s", admin.MetafieldNamespace, admin.MetafieldKey)
	}
	if len(doc.Operations) != 1 {
		t.Fatalf("%d operations, want 1", len(doc.Operations))
	}
	// Fields marked @restrictTarget(only: [...]) must allow our target.
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			f, ok := sel.(*ast.Field)
			if !ok {
				continue
			}
			if f.Definition != nil {
				if d := f.Definition.Directives.ForName("restrictTarget"); d != nil {
					if only := d.Arguments.ForName("only"); only == nil || !strings.Contains(only.Value.String(), `"cart.lines.discounts.generate.run"`) {
						t.Errorf("field %s is not available to cart.lines.discounts.generate.run", f.Name)
					}
				}
			}
			walk(f.SelectionSet)
		}
	}
	walk(doc.Operations[0].SelectionSet)
	// Proof that validation bites: a misspelled field is rejected.
	bad := strings.Replace(string(q), "subtotalAmount", "subtotalAmout", 1)
	if _, errs := shopifyfake.Validate(schema, bad); len(errs) == 0 {
		t.Error("misspelled field accepted")
	}
}

func TestExtensionTOML(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("shopify.extension.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`api_version = "2026-01"`,
		`type = "function"`,
		`handle = "creditbridge-discount"`,
		`target = "cart.lines.discounts.generate.run"`,
		`input_query = "` + inputQueryPath + `"`,
		`export = "cart-lines-discounts-generate-run"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("shopify.extension.toml lacks %s", want)
		}
	}
	js, err := os.ReadFile("src/cart_lines_discounts_generate_run.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), "export function cartLinesDiscountsGenerateRun(") {
		t.Error("the JavaScript does not export cartLinesDiscountsGenerateRun")
	}
}

func nodePath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is not installed (CI is set, so this is a failure): %v", err)
		}
		t.Skip("skipping: node is not installed; install Node.js >= 20 to test the discount Function")
	}
	return p
}

var npmOnce sync.Once
var npmErr error

// installDeps runs `npm ci` from the committed package-lock.json once per
// test binary when node_modules is missing or older than the lockfile.
func installDeps(t *testing.T) {
	t.Helper()
	nodePath(t)
	npmOnce.Do(func() {
		lock, err := os.Stat("package-lock.json")
		if err != nil {
			npmErr = err
			return
		}
		if st, err := os.Stat("node_modules/.package-lock.json"); err == nil && !st.ModTime().Before(lock.ModTime()) {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			npmErr = fmt.Errorf("npm is not installed: %w", err)
			return
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		out, err := cmd.CombinedOutput()
		if err != nil {
			npmErr = fmt.Errorf("npm ci: %w\n%s", err, out)
		}
	})
	if npmErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("installing the Function's npm dependencies failed (CI is set, so this is a failure): %v", npmErr)
		}
		t.Skipf("skipping: cannot install the Function's npm dependencies (run npm ci in this folder): %v", npmErr)
	}
}

// TestPackageForShopifyCLI pins what Shopify CLI needs to build the
// Function: the extension sits in extensions/<handle> beside the app's
// shopify.app.toml, package.json depends on @shopify/shopify_function
// ~2.0 (the CLI refuses other majors) with its codegen configuration
// (typegen), and the lockfile pins the same version.
func TestPackageForShopifyCLI(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(filepath.Dir(abs)) != "extensions" || filepath.Base(abs) != admin.FunctionHandle {
		t.Errorf("the extension is at %s, want extensions/%s", abs, admin.FunctionHandle)
	}
	if _, err := os.Stat(filepath.Join("..", "..", "shopify.app.toml")); err != nil {
		t.Errorf("no shopify.app.toml beside extensions/: %v", err)
	}
	var pkg struct {
		Type         string            `json:"type"`
		Dependencies map[string]string `json:"dependencies"`
		Scripts      map[string]string `json:"scripts"`
		Codegen      struct {
			Schema    string                     `json:"schema"`
			Documents string                     `json:"documents"`
			Generates map[string]json.RawMessage `json:"generates"`
		} `json:"codegen"`
	}
	b, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	v := pkg.Dependencies["@shopify/shopify_function"]
	if !strings.HasPrefix(strings.TrimLeft(v, "~^"), "2.0.") || pkg.Type != "module" {
		t.Errorf("package.json: @shopify/shopify_function %q, type %q", v, pkg.Type)
	}
	if pkg.Codegen.Schema != "schema.graphql" || pkg.Codegen.Documents != "src/*.graphql" || len(pkg.Codegen.Generates) == 0 ||
		!strings.Contains(pkg.Scripts["typegen"], "shopify app function typegen") || !strings.Contains(pkg.Scripts["build"], "shopify app function build") {
		t.Errorf("package.json codegen/scripts = %+v %v", pkg.Codegen, pkg.Scripts)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	b, err = os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatalf("package-lock.json must be committed: %v", err)
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	if got := lock.Packages["node_modules/@shopify/shopify_function"].Version; got != strings.TrimLeft(v, "~^") {
		t.Errorf("package-lock.json pins @shopify/shopify_function %q, package.json %q", got, v)
	}
}

// TestSchemaIsTheFixture: the schema.graphql codegen and the node tests
// use is the Discount Function API 2026-01 schema in ../shared.
func TestSchemaIsTheFixture(t *testing.T) {
	t.Parallel()
	want := sharedfixtures.Read(t, shopifyfake.FunctionSchemaFixture)
	got, err := os.ReadFile("schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("schema.graphql differs from " + shopifyfake.FunctionSchemaFixture)
	}
}

func TestNodeUnitTests(t *testing.T) {
	t.Parallel()
	installDeps(t)
	cmd := exec.Command(nodePath(t), "--test")
	cmd.Dir = "."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) {
		t.Fatalf("unexpected node --test output:\n%s", out)
	}
	t.Logf("node --test:\n%s", lastLines(out, 8))
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

const runScript = `import { cartLinesDiscountsGenerateRun as run } from './src/index.js';
import { readFileSync } from 'node:fs';
for (const p of process.argv.slice(1)) console.log(JSON.stringify(run(JSON.parse(readFileSync(p, 'utf8')))));`

// TestOutputsMatchSchemaAndGolden runs the Function on testdata inputs,
// compares with the expected outputs and validates each output as the
// CartLinesDiscountsGenerateRunResult! argument of the schema's
// cartLinesDiscountsGenerateRun mutation.
func TestOutputsMatchSchemaAndGolden(t *testing.T) {
	t.Parallel()
	node := nodePath(t)
	installDeps(t)
	schema := shopifyfake.FunctionSchema(t)
	inputs, err := filepath.Glob("testdata/*.input.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no testdata inputs (%v)", err)
	}
	cmd := exec.Command(node, append([]string{"--input-type=module", "-e", runScript}, inputs...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run function: %v", err)
	}
	outputs := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(outputs) != len(inputs) {
		t.Fatalf("%d outputs for %d inputs", len(outputs), len(inputs))
	}
	op := resultOperation(t, schema)
	for i, in := range inputs {
		var got, want any
		if err := json.Unmarshal([]byte(outputs[i]), &got); err != nil {
			t.Fatalf("%s: output is not JSON: %v", in, err)
		}
		wantRaw, err := os.ReadFile(strings.TrimSuffix(in, ".input.json") + ".expected.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(wantRaw, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: output %s, want %s", in, outputs[i], wantRaw)
		}
		if _, err := validator.VariableValues(schema, op, map[string]any{"result": got}); err != nil {
			t.Errorf("%s: output does not match the schema: %v", in, err)
		}
	}
	// Proof that the output check bites.
	wrong := map[string]any{"operations": []any{map[string]any{"orderDiscountsAdd": map[string]any{
		"candidates":        []any{map[string]any{"targets": []any{}, "value": map[string]any{"fixedAmount": map[string]any{"amount": "1.00"}}}},
		"selectionStrategy": "BEST",
	}}}}
	if _, err := validator.VariableValues(schema, op, map[string]any{"result": wrong}); err == nil {
		t.Error("an invalid selectionStrategy was accepted")
	}
}

func resultOperation(t *testing.T, schema *ast.Schema) *ast.OperationDefinition {
	t.Helper()
	doc, errs := shopifyfake.Validate(schema, `mutation Output($result: CartLinesDiscountsGenerateRunResult!) { cartLinesDiscountsGenerateRun(result: $result) }`)
	if len(errs) > 0 {
		t.Fatalf("output mutation: %v", shopifyfake.ErrorMessages(errs))
	}
	return doc.Operations[0]
}
