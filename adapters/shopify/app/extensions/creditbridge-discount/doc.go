// Package creditbridgediscount holds no Go code: this directory is the
// Shopify discount Function extension (JavaScript, shopify.extension.toml,
// package.json with @shopify/shopify_function and its codegen
// configuration, package-lock.json), laid out where Shopify CLI looks for
// it: extensions/<handle> beside the app's shopify.app.toml. Its Go tests
// validate the input query and outputs against the Discount Function API
// 2026-01 schema in ../shared/fixtures/shopify (schema.graphql is the same
// file), install the npm dependencies from the lockfile (npm ci) and run
// the node tests, which run the Function through the real
// @shopify/shopify_function package, so that `go test ./...` covers it.
package creditbridgediscount
