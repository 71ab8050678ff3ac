// Package creditbridgediscount holds no Go code: this directory is the
// Shopify discount Function extension (JavaScript, shopify.extension.toml).
// Its Go tests validate the Function's input query and its outputs against
// the Discount Function API 2025-04 schema in ../shared/fixtures/shopify,
// and run the JavaScript unit tests with `node --test`, so that
// `go test ./...` covers the extension.
package creditbridgediscount
