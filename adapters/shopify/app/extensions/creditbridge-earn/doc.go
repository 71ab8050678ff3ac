// Package creditbridgeearn holds no Go code: this directory is the Shopify
// theme app extension that shows "you earn X with this order" in the
// storefront (Shopify CLI layout: shopify.extension.toml, blocks/*.liquid,
// assets/earn.js). Its Go tests check the blocks' schemas and that the
// script asks the app proxy route the bridge serves, and run the script's
// unit tests with `node --test`, so `go test ./...` covers it.
package creditbridgeearn
