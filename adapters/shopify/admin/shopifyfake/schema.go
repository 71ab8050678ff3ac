package shopifyfake

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
)

// Fixture paths inside ../shared.
const (
	AdminSchemaFixture    = "fixtures/shopify/admin_schema_2026-04.graphql.gz"
	FunctionSchemaFixture = "fixtures/shopify/discount-function-schema-2026-01.graphql"
)

type introType struct {
	Kind   string     `json:"kind"`
	Name   *string    `json:"name"`
	OfType *introType `json:"ofType"`
}

type introInputValue struct {
	Name         string    `json:"name"`
	Type         introType `json:"type"`
	DefaultValue *string   `json:"defaultValue"`
}

type introField struct {
	Name              string            `json:"name"`
	Args              []introInputValue `json:"args"`
	Type              introType         `json:"type"`
	IsDeprecated      bool              `json:"isDeprecated"`
	DeprecationReason *string           `json:"deprecationReason"`
}

type introEnumValue struct {
	Name              string  `json:"name"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type introFullType struct {
	Kind          string            `json:"kind"`
	Name          string            `json:"name"`
	Fields        []introField      `json:"fields"`
	InputFields   []introInputValue `json:"inputFields"`
	Interfaces    []introType       `json:"interfaces"`
	EnumValues    []introEnumValue  `json:"enumValues"`
	PossibleTypes []introType       `json:"possibleTypes"`
	IsOneOf       bool              `json:"isOneOf"`
}

type introDirective struct {
	Name         string            `json:"name"`
	Locations    []string          `json:"locations"`
	Args         []introInputValue `json:"args"`
	IsRepeatable bool              `json:"isRepeatable"`
}

type introSchema struct {
	QueryType        *struct{ Name string } `json:"queryType"`
	MutationType     *struct{ Name string } `json:"mutationType"`
	SubscriptionType *struct{ Name string } `json:"subscriptionType"`
	Types            []introFullType        `json:"types"`
	Directives       []introDirective       `json:"directives"`
}

var builtinScalars = map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}

// preludeDirectives are declared by gqlparser's prelude.
var preludeDirectives = map[string]bool{"defer": true, "deprecated": true, "include": true, "oneOf": true, "skip": true, "specifiedBy": true}

// IntrospectionToSDL converts a GraphQL introspection result (the JSON of
// the standard introspection query, with or without the {"data": …}
// wrapper) into SDL text that gqlparser.LoadSchema accepts. Descriptions
// are dropped; deprecations are kept.
func IntrospectionToSDL(introspection []byte) (string, error) {
	var wrapped struct {
		Data *struct {
			Schema *introSchema `json:"__schema"`
		} `json:"data"`
		Schema *introSchema `json:"__schema"`
	}
	if err := json.Unmarshal(introspection, &wrapped); err != nil {
		return "", fmt.Errorf("shopifyfake: decode introspection: %w", err)
	}
	s := wrapped.Schema
	if wrapped.Data != nil && wrapped.Data.Schema != nil {
		s = wrapped.Data.Schema
	}
	if s == nil || s.QueryType == nil {
		return "", errors.New("shopifyfake: introspection result has no __schema.queryType")
	}
	var b strings.Builder
	b.WriteString("schema {\n  query: " + s.QueryType.Name + "\n")
	if s.MutationType != nil {
		b.WriteString("  mutation: " + s.MutationType.Name + "\n")
	}
	if s.SubscriptionType != nil {
		b.WriteString("  subscription: " + s.SubscriptionType.Name + "\n")
	}
	b.WriteString("}\n\n")
	for _, d := range s.Directives {
		if preludeDirectives[d.Name] {
			continue
		}
		b.WriteString("directive @" + d.Name + args(d.Args))
		if d.IsRepeatable {
			b.WriteString(" repeatable")
		}
		b.WriteString(" on " + strings.Join(d.Locations, " | ") + "\n\n")
	}
	for _, t := range s.Types {
		if strings.HasPrefix(t.Name, "__") || builtinScalars[t.Name] {
			continue
		}
		switch t.Kind {
		case "SCALAR":
			b.WriteString("scalar " + t.Name + "\n\n")
		case "OBJECT", "INTERFACE":
			kw := "type "
			if t.Kind == "INTERFACE" {
				kw = "interface "
			}
			b.WriteString(kw + t.Name)
			if len(t.Interfaces) > 0 {
				names := make([]string, 0, len(t.Interfaces))
				for _, i := range t.Interfaces {
					names = append(names, typeRef(i))
				}
				b.WriteString(" implements " + strings.Join(names, " & "))
			}
			b.WriteString(" {\n")
			for _, f := range t.Fields {
				b.WriteString("  " + f.Name + args(f.Args) + ": " + typeRef(f.Type) + deprecated(f.IsDeprecated, f.DeprecationReason) + "\n")
			}
			b.WriteString("}\n\n")
		case "UNION":
			names := make([]string, 0, len(t.PossibleTypes))
			for _, p := range t.PossibleTypes {
				names = append(names, typeRef(p))
			}
			b.WriteString("union " + t.Name + " = " + strings.Join(names, " | ") + "\n\n")
		case "ENUM":
			b.WriteString("enum " + t.Name + " {\n")
			for _, v := range t.EnumValues {
				b.WriteString("  " + v.Name + deprecated(v.IsDeprecated, v.DeprecationReason) + "\n")
			}
			b.WriteString("}\n\n")
		case "INPUT_OBJECT":
			b.WriteString("input " + t.Name)
			if t.IsOneOf {
				b.WriteString(" @oneOf")
			}
			b.WriteString(" {\n")
			for _, f := range t.InputFields {
				b.WriteString("  " + inputValue(f) + "\n")
			}
			b.WriteString("}\n\n")
		default:
			return "", fmt.Errorf("shopifyfake: type %s has unknown kind %q", t.Name, t.Kind)
		}
	}
	return b.String(), nil
}

func typeRef(t introType) string {
	switch t.Kind {
	case "NON_NULL":
		if t.OfType == nil {
			return "?"
		}
		return typeRef(*t.OfType) + "!"
	case "LIST":
		if t.OfType == nil {
			return "[?]"
		}
		return "[" + typeRef(*t.OfType) + "]"
	}
	if t.Name == nil {
		return "?"
	}
	return *t.Name
}

func inputValue(v introInputValue) string {
	s := v.Name + ": " + typeRef(v.Type)
	if v.DefaultValue != nil {
		s += " = " + *v.DefaultValue
	}
	return s
}

func args(as []introInputValue) string {
	if len(as) == 0 {
		return ""
	}
	parts := make([]string, 0, len(as))
	for _, a := range as {
		parts = append(parts, inputValue(a))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func deprecated(is bool, reason *string) string {
	if !is {
		return ""
	}
	if reason == nil {
		return " @deprecated"
	}
	r, _ := json.Marshal(*reason) // a JSON string is a valid GraphQL string
	return " @deprecated(reason: " + string(r) + ")"
}

// SchemaFromIntrospection loads an *ast.Schema from an introspection
// result (gzip-compressed or plain JSON).
func SchemaFromIntrospection(r io.Reader) (*ast.Schema, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("shopifyfake: read introspection: %w", err)
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("shopifyfake: gunzip introspection: %w", err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("shopifyfake: gunzip introspection: %w", err)
		}
	}
	sdl, err := IntrospectionToSDL(raw)
	if err != nil {
		return nil, err
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "introspection", Input: sdl})
	if err != nil {
		return nil, fmt.Errorf("shopifyfake: load converted schema: %w", err)
	}
	return schema, nil
}

type cachedSchema struct {
	once   sync.Once
	schema *ast.Schema
	err    error
	absent bool
}

var adminSchema, functionSchema cachedSchema

func (c *cachedSchema) get(tb testing.TB, rel string, load func(string) (*ast.Schema, error)) *ast.Schema {
	tb.Helper()
	c.once.Do(func() {
		dir := sharedfixtures.Dir()
		if dir == "" {
			c.absent = true
			return
		}
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err != nil {
			c.absent = true
			return
		}
		c.schema, c.err = load(p)
	})
	if c.absent {
		sharedfixtures.Path(tb, rel) // skips, or fails under CI
		tb.Fatalf("shopifyfake: fixture %s vanished", rel)
	}
	if c.err != nil {
		tb.Fatalf("shopifyfake: load %s: %v", rel, c.err)
	}
	return c.schema
}

// AdminSchema returns the Admin API 2026-04 schema (gzip-compressed SDL)
// from ../shared/fixtures/shopify, loaded once per test binary. It skips
// the test when ../shared is absent (fails under $CI).
//
// That SDL lacks deprecated input fields and arguments (see the fixture
// README): a request that sends one, e.g. DiscountAutomaticAppInput's
// functionId or DiscountCodeBasicInput's customerSelection, fails
// variable validation here, which is what the bridge wants: it uses the
// current names (functionHandle, context).
func AdminSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	return adminSchema.get(tb, AdminSchemaFixture, func(p string) (*ast.Schema, error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("shopifyfake: gunzip %s: %w", p, err)
		}
		sdl, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("shopifyfake: gunzip %s: %w", p, err)
		}
		return LoadSDL(filepath.Base(p), string(sdl))
	})
}

// FunctionSchema returns the Discount Function API 2026-01 schema (SDL
// fixture), loaded once per test binary.
func FunctionSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	return functionSchema.get(tb, FunctionSchemaFixture, func(p string) (*ast.Schema, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return LoadSDL(filepath.Base(p), string(b))
	})
}

// LoadSDL loads a schema written in SDL that, like Shopify's Function
// schemas, redeclares built-in scalars (ID, String…) or directives the
// gqlparser prelude already declares (@oneOf…): those redeclarations are
// dropped before the document is merged with the prelude and validated.
func LoadSDL(name, sdl string) (*ast.Schema, error) {
	doc, err := parser.ParseSchema(&ast.Source{Name: name, Input: sdl})
	if err != nil {
		return nil, fmt.Errorf("shopifyfake: parse %s: %w", name, err)
	}
	defs := doc.Definitions[:0]
	for _, d := range doc.Definitions {
		if d.Kind == ast.Scalar && builtinScalars[d.Name] {
			continue
		}
		defs = append(defs, d)
	}
	doc.Definitions = defs
	dirs := doc.Directives[:0]
	for _, d := range doc.Directives {
		if preludeDirectives[d.Name] {
			continue
		}
		dirs = append(dirs, d)
	}
	doc.Directives = dirs
	full := validator.PreludeDocument()
	full.Merge(doc)
	schema, err := validator.ValidateSchemaDocument(full)
	if err != nil {
		return nil, fmt.Errorf("shopifyfake: load %s: %w", name, err)
	}
	return schema, nil
}

// Validate parses query and validates it against schema with the
// standard rules. It returns the document, or the validation errors.
func Validate(schema *ast.Schema, query string) (*ast.QueryDocument, gqlerror.List) {
	return gqlparser.LoadQueryWithRules(schema, query, nil)
}

// ErrorMessages flattens a gqlerror.List for test output.
func ErrorMessages(errs gqlerror.List) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Message)
	}
	sort.Strings(out)
	return out
}
