package admin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/core"
)

// TestOperationsValidateAgainstAdminSchema validates every document the
// client sends against the Admin API 2026-04 schema (SDL fixture), the
// version the client pins.
func TestOperationsValidateAgainstAdminSchema(t *testing.T) {
	t.Parallel()
	schema := shopifyfake.AdminSchema(t)
	if len(admin.Operations) < 10 {
		t.Fatalf("Operations lists %d documents, want at least 10", len(admin.Operations))
	}
	seen := map[string]bool{}
	for _, op := range admin.Operations {
		t.Run(op.Name, func(t *testing.T) {
			t.Parallel()
			doc, errs := shopifyfake.Validate(schema, op.Query)
			if len(errs) > 0 {
				t.Fatalf("%s does not validate: %v", op.Name, shopifyfake.ErrorMessages(errs))
			}
			if len(doc.Operations) != 1 {
				t.Fatalf("%s has %d operations, want 1", op.Name, len(doc.Operations))
			}
			root := doc.Operations[0].SelectionSet
			if len(root) == 0 {
				t.Fatalf("%s selects nothing", op.Name)
			}
			if !strings.Contains(op.Query, op.Name+"(") && !strings.Contains(op.Query, op.Name+" ") {
				t.Errorf("operation %s does not select root field %s", doc.Operations[0].Name, op.Name)
			}
		})
		if seen[op.Query] {
			t.Errorf("query of %s listed twice", op.Name)
		}
		seen[op.Query] = true
	}
}

// TestSchemaValidationRejectsWrongQueries proves the validation above can
// fail: misspelled fields, wrong argument types and unknown input fields
// are reported.
func TestSchemaValidationRejectsWrongQueries(t *testing.T) {
	t.Parallel()
	schema := shopifyfake.AdminSchema(t)
	bad := map[string]string{
		"misspelled field":                strings.Replace(admin.ShopQuery, "currencyCode", "currencyCod", 1),
		"unknown argument":                `query { codeDiscountNodeByCode(kode: "X") { id } }`,
		"wrong variable type":             `mutation($id: String!) { discountCodeDeactivate(id: $id) { userErrors { message } } }`,
		"field on union without fragment": `query { codeDiscountNodeByCode(code: "X") { codeDiscount { status } } }`,
		"missing required argument":       `mutation { discountCodeDeactivate { userErrors { message } } }`,
		"unknown input field":             `mutation { metafieldsSet(metafields: [{ownerId: "gid://shopify/Customer/1", key: "k", value: "v", colour: "red"}]) { userErrors { message } } }`,
	}
	for name, q := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, errs := shopifyfake.Validate(schema, q); len(errs) == 0 {
				t.Fatalf("invalid query accepted: %s", q)
			}
		})
	}
}

// TestFakeServesPinnedVersion: the fake answers only at the client's
// pinned version (any other version gets 404, as Shopify does for an
// unknown one), so every fake-backed test runs at DefaultAPIVersion.
func TestFakeServesPinnedVersion(t *testing.T) {
	t.Parallel()
	srv := shopifyfake.New(t, shopifyfake.Options{})
	if srv.APIVersion() != admin.DefaultAPIVersion {
		t.Fatalf("fake serves %s, client pins %s", srv.APIVersion(), admin.DefaultAPIVersion)
	}
	old := admin.NewClient(srv.ShopDomain(), srv.AccessToken(), "2025-01", admin.WithBaseURL(srv.URL), admin.WithBackoff(time.Millisecond))
	if _, err := old.Shop(context.Background()); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("a 2025-01 call answered %v, want a 404 (ENOTFOUND)", err)
	}
}

// TestRemovedFieldNamesAreRejected: the 2026-04 schema has no
// DiscountAutomaticAppInput.functionId nor DiscountCodeBasicInput.customerSelection
// (deprecated; the SDL omits deprecated input fields), so the fake refuses
// variables that still use them, and the current names validate.
func TestRemovedFieldNamesAreRejected(t *testing.T) {
	t.Parallel()
	schema := shopifyfake.AdminSchema(t)
	in := schema.Types["DiscountAutomaticAppInput"]
	if in == nil || in.Fields.ForName("functionHandle") == nil || in.Fields.ForName("discountClasses") == nil || in.Fields.ForName("context") == nil {
		t.Fatalf("DiscountAutomaticAppInput lacks functionHandle/discountClasses/context")
	}
	if in.Fields.ForName("functionId") != nil {
		t.Fatalf("DiscountAutomaticAppInput still has functionId in this SDL")
	}
	if b := schema.Types["DiscountCodeBasicInput"]; b == nil || b.Fields.ForName("customerSelection") != nil || b.Fields.ForName("context") == nil {
		t.Fatalf("DiscountCodeBasicInput: want context and no customerSelection")
	}
	if d := schema.Directives["idempotent"]; d == nil {
		t.Fatalf("directive @idempotent missing from the 2026-04 schema")
	}
}

// TestIdempotentWhereRequired: a 2026-04 mutation whose description says
// the @idempotent key is required must carry the directive in our
// document. refundCreate (which the bridge does not send) is the control:
// its description says so, proving the check reads the schema.
func TestIdempotentWhereRequired(t *testing.T) {
	t.Parallel()
	schema := shopifyfake.AdminSchema(t)
	required := func(name string) bool {
		f := schema.Mutation.Fields.ForName(name)
		return f != nil && strings.Contains(f.Description, "the idempotency key is required")
	}
	if !required("refundCreate") || required("storeCreditAccountCredit") || required("metafieldsSet") {
		t.Fatal("the schema descriptions do not read as expected (refundCreate must require @idempotent)")
	}
	for _, op := range admin.Operations {
		doc, errs := shopifyfake.Validate(schema, op.Query)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", op.Name, shopifyfake.ErrorMessages(errs))
		}
		for _, o := range doc.Operations {
			for _, sel := range o.SelectionSet {
				f, ok := sel.(*ast.Field)
				if !ok || o.Operation != ast.Mutation || !required(f.Name) {
					continue
				}
				if f.Directives.ForName("idempotent") == nil {
					t.Errorf("%s requires @idempotent(key:) in 2026-04", f.Name)
				}
			}
		}
	}
}
