// Package app holds the Shopify app configuration file shopify.app.toml
// (deployed with the Shopify CLI) and a test that checks it declares the
// scopes, webhook topics, compliance topics and app proxy creditbridge
// relies on. It has no runtime code.
package app
