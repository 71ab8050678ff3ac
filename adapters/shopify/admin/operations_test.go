package admin_test

import (
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
)

// TestOperationsValidateAgainstAdminSchema validates every document the
// client sends against the Admin API 2025-01 schema (see operations.go for
// the fields that differ in later versions).
func TestOperationsValidateAgainstAdminSchema(t *testing.T) {
	t.Parallel()
	schema := shopifyfake.AdminSchema(t)
	if len(admin.Operations) < 7 {
		t.Fatalf("Operations lists %d documents, want at least 7", len(admin.Operations))
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
