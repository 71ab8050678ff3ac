// Package taxfixtures holds the German tax-inclusive order fixtures
// (testdata/) shared by tests of both platforms, and the test that the
// same order earns the same on Shopify and WooCommerce. It has no code.
package taxfixtures
