// Package creditbridgereferral holds no Go code: this directory is the
// Shopify theme app extension that captures referrals in the storefront
// (Shopify CLI layout: shopify.extension.toml, blocks/*.liquid,
// assets/referral.js). Its Go tests check the blocks' schemas and that the
// script writes the cart attribute the order normalizer reads, and run the
// script's unit tests with `node --test`, so `go test ./...` covers it.
package creditbridgereferral
