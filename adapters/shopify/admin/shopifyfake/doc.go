// Package shopifyfake is a test-only fake of the Shopify Admin GraphQL API
// and OAuth token endpoint, for tests of package admin and of anything that
// drives it. Import it only from _test.go files.
//
// The fake validates every incoming GraphQL document and its variables
// against the Admin API 2026-04 schema (SDL) in ../shared/fixtures/shopify (the
// test is skipped when ../shared is absent, and fails under $CI), answers
// the operations creditbridge sends with realistic data projected through
// the query's own selection set, reports extensions.cost.throttleStatus on
// every response, and can simulate throttling, server errors and code
// usage. It also converts introspection JSON to a gqlparser schema
// (IntrospectionToSDL, SchemaFromIntrospection).
package shopifyfake
