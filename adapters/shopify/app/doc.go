// Package app holds the Shopify app configuration file shopify.app.toml
// (deployed with Shopify CLI) and the extensions/ folder beside it, and
// reads the TOML the way the CLI does: Endpoints resolves every URL
// (webhook and compliance subscriptions, app proxy, OAuth redirect URLs,
// application_url) with the CLI's rule for relative paths, so tests can
// request each one from the real router.
package app
