// Package admin is creditbridge's client for the Shopify Admin GraphQL API
// and Shopify OAuth.
//
// The Client sends GraphQL operations to
// https://{shop}/admin/api/{version}/graphql.json with the shop's access
// token. It keeps Shopify's cost-based rate limit on the client side: every
// response carries extensions.cost.throttleStatus (maximumAvailable,
// currentlyAvailable, restoreRate), the client tracks that leaky bucket per
// shop and sleeps before a request whose estimated cost exceeds what is
// available. THROTTLED errors and HTTP 429 are retried (the request was not
// executed); HTTP 5xx and transport errors are retried only for queries and
// for mutations that are idempotent (see Operation.Idempotent), because a
// lost response may hide an executed mutation. At most four attempts are
// made, with exponential backoff and full jitter.
//
// GraphQL errors are returned as *GraphQLError, mutation userErrors as
// *UserErrors, which unwraps to a *core.Error with code core.EINVALID.
//
// Every operation the bridge sends is an exported constant listed in
// Operations; a test validates each one against the Admin API schema in
// ../shared/fixtures/shopify/admin_schema_2026-04.graphql.gz (the pinned
// DefaultAPIVersion).
//
// oauth.go implements the authorization code grant, token exchange of an
// embedded-app session token for an (expiring) offline access token, and
// the refresh of expiring offline tokens.
package admin
