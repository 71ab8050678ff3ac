package admin

// Every GraphQL document the bridge sends. TestOperationsValidateAgainstAdminSchema
// validates each one against the Admin API 2026-04 schema (SDL in
// ../shared/fixtures/shopify), the version the client pins
// (DefaultAPIVersion). Field names follow 2026-04: discounts take
// `context` (customerSelection is deprecated) and automatic app discounts
// `functionHandle` (functionId is deprecated) and `discountClasses`.
// None of these mutations is among those that require @idempotent in
// 2026-04 (refundCreate, locationActivate/Deactivate, inventory*), and
// none of them documents @idempotent support, so none carries it:
// idempotency comes from how each is used (see the functions in api.go
// and storecredit.go).

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

// ShopQuery reads the shop's name, currency and permanent domain.
const ShopQuery = `query CreditbridgeShop {
  shop { name currencyCode myshopifyDomain }
}`

// StoreCreditAccountsQuery reads a customer's store credit accounts
// (one per currency) and their balances.
const StoreCreditAccountsQuery = `query CreditbridgeStoreCreditAccounts($id: ID!) {
  customer(id: $id) {
    id
    storeCreditAccounts(first: 25) {
      nodes { id balance { amount currencyCode } }
    }
  }
}`

// StoreCreditAccountCreditMutation adds store credit to a customer's
// account in one currency (the account is created when it does not exist).
const StoreCreditAccountCreditMutation = `mutation CreditbridgeStoreCreditCredit($id: ID!, $credit: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $credit) {
    storeCreditAccountTransaction {
      id
      amount { amount currencyCode }
      balanceAfterTransaction { amount currencyCode }
      account { id }
    }
    userErrors { field message code }
  }
}`

// StoreCreditAccountDebitMutation takes store credit from an account.
const StoreCreditAccountDebitMutation = `mutation CreditbridgeStoreCreditDebit($id: ID!, $debit: StoreCreditAccountDebitInput!) {
  storeCreditAccountDebit(id: $id, debitInput: $debit) {
    storeCreditAccountTransaction {
      id
      amount { amount currencyCode }
      balanceAfterTransaction { amount currencyCode }
      account { id }
    }
    userErrors { field message code }
  }
}`

// OrderTransactionsQuery reads an order's payment transactions: store
// credit spent at checkout is a SALE (or CAPTURE) with gateway
// shopify_store_credit, store credit given back a REFUND.
const OrderTransactionsQuery = `query CreditbridgeOrderTransactions($id: ID!) {
  order(id: $id) {
    id
    customer { id }
    transactions(first: 100) {
      id
      gateway
      kind
      status
      amountSet { shopMoney { amount currencyCode } }
    }
  }
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
	{Name: "customer", Query: StoreCreditAccountsQuery, Idempotent: true},
	{Name: "storeCreditAccountCredit", Query: StoreCreditAccountCreditMutation},
	{Name: "storeCreditAccountDebit", Query: StoreCreditAccountDebitMutation},
	{Name: "order", Query: OrderTransactionsQuery, Idempotent: true},
	{Name: "shop", Query: ShopQuery, Idempotent: true},
	{Name: "collection", Query: CollectionProductsQuery, Idempotent: true},
}

func idempotentQuery(q string) bool {
	for _, op := range Operations {
		if op.Query == q {
			return op.Idempotent
		}
	}
	return false
}
