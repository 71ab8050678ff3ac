package admin

// Every GraphQL document the bridge sends. TestOperationsValidateAgainstAdminSchema
// validates each one against the Admin API 2025-01 schema.
//
// Known differences in later Admin API versions (as far as we know; check
// the changelog before pinning a newer version):
//   - 2025-04 added DiscountAutomaticAppInput.discountClasses (and
//     DiscountCodeAppInput.discountClasses). Functions built on the new
//     Discount Function API (cart.lines.discounts.generate.run) take their
//     classes from it; on 2025-01 the discount class comes from the
//     extension, so CreateAutomaticCreditDiscount sends none.
//   - 2025-04 deprecated DiscountCodeBasicInput.customerSelection in favour
//     of `context` (DiscountContextInput, customers.add); customerSelection
//     still works but may be removed.
//   - Later versions add ShopifyFunction.handle; on 2025-01 functions are
//     found by apiType and title.
//   - DiscountCodeBasic.discountClass (MerchandiseDiscountClass) is
//     deprecated in favour of discountClasses in 2025-04.

// MetafieldNamespace is the app-reserved namespace of the credit
// metafield. Only this app can write it; the discount Function reads it
// with metafield(namespace: "$app:creditbridge", key: "available").
const MetafieldNamespace = "$app:creditbridge"

// MetafieldKey is the key of the customer's available-credit metafield.
const MetafieldKey = "available"

// MetafieldsSetMutation writes metafields (the customer's credit).
const MetafieldsSetMutation = `mutation CreditbridgeMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key }
    userErrors { field message code }
  }
}`

// DiscountCodeBasicCreateMutation creates a single-use, customer-bound
// fixed-amount discount code (vouchers, guests).
const DiscountCodeBasicCreateMutation = `mutation CreditbridgeVoucherCreate($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}`

// DiscountCodeDeactivateMutation deactivates a discount code by its
// DiscountCodeNode id.
const DiscountCodeDeactivateMutation = `mutation CreditbridgeVoucherDeactivate($id: ID!) {
  discountCodeDeactivate(id: $id) {
    codeDiscountNode {
      id
      codeDiscount {
        ... on DiscountCodeBasic { status }
      }
    }
    userErrors { field message code }
  }
}`

// CodeDiscountNodeByCodeQuery reads a code's status and usage count.
const CodeDiscountNodeByCodeQuery = `query CreditbridgeVoucherUsage($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount {
      __typename
      ... on DiscountCodeBasic { status asyncUsageCount usageLimit }
      ... on DiscountCodeApp { status asyncUsageCount usageLimit }
    }
  }
}`

// DiscountAutomaticAppCreateMutation creates the automatic discount that
// runs the creditbridge discount Function.
const DiscountAutomaticAppCreateMutation = `mutation CreditbridgeAutomaticDiscountCreate($discount: DiscountAutomaticAppInput!) {
  discountAutomaticAppCreate(automaticAppDiscount: $discount) {
    automaticAppDiscount { discountId title status }
    userErrors { field message code }
  }
}`

// ShopifyFunctionsQuery lists the app's Functions (one page).
const ShopifyFunctionsQuery = `query CreditbridgeFunctions($apiType: String, $after: String) {
  shopifyFunctions(first: 25, apiType: $apiType, after: $after) {
    nodes { id title apiType }
    pageInfo { hasNextPage endCursor }
  }
}`

// ShopQuery reads the shop's name, currency and permanent domain.
const ShopQuery = `query CreditbridgeShop {
  shop { name currencyCode myshopifyDomain }
}`

// Operation names one GraphQL document the bridge sends.
type Operation struct {
	Name  string
	Query string
	// Idempotent marks mutations that may be retried after a 5xx or a
	// transport error (repeating them has no further effect).
	Idempotent bool
}

// Operations lists every document in this package, for schema tests and
// for the retry policy.
var Operations = []Operation{
	{Name: "metafieldsSet", Query: MetafieldsSetMutation, Idempotent: true},
	{Name: "discountCodeBasicCreate", Query: DiscountCodeBasicCreateMutation},
	{Name: "discountCodeDeactivate", Query: DiscountCodeDeactivateMutation, Idempotent: true},
	{Name: "codeDiscountNodeByCode", Query: CodeDiscountNodeByCodeQuery, Idempotent: true},
	{Name: "discountAutomaticAppCreate", Query: DiscountAutomaticAppCreateMutation},
	{Name: "shopifyFunctions", Query: ShopifyFunctionsQuery, Idempotent: true},
	{Name: "shop", Query: ShopQuery, Idempotent: true},
}

func idempotentQuery(q string) bool {
	for _, op := range Operations {
		if op.Query == q {
			return op.Idempotent
		}
	}
	return false
}
