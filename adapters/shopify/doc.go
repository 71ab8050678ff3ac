// Package shopify is the Shopify platform adapter's root package: it
// verifies what Shopify signs (webhook bodies, app-proxy queries, OAuth
// callbacks and embedded-admin session tokens) and turns webhook bodies
// into the platform-neutral types of package core.
//
// Everything here is pure: no I/O, no clock reads (callers pass now), no
// logging. Verification always runs on the exact bytes Shopify sent and
// compares MACs in constant time. Parsers decode ids as int64 and money as
// decimal strings (the *_set shop_money amounts), never through float64,
// and reject malformed input with a *core.Error of code EINVALID instead
// of panicking; signature failures are EUNAUTHORIZED.
//
// The HTTP handlers, the Admin API client and the app extensions live in
// the subpackages admin, app and extensions.
package shopify
