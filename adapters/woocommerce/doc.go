// Package woocommerce is creditbridge's WooCommerce adapter.
//
// It has three parts:
//
//   - signature.go verifies webhook deliveries (X-WC-Webhook-Signature is
//     the base64 HMAC-SHA256 of the raw body keyed with the per-webhook
//     secret) and recognizes the unsigned ping WooCommerce sends when a
//     webhook is created.
//   - normalize.go turns order webhook bodies and REST order objects into
//     platform-neutral core.Order snapshots, and REST refund lists into
//     core.Refund values with line detail.
//   - client.go is the REST client the bridge uses to poll orders (WooCommerce
//     never retries a failed webhook delivery, so a poller backs them), fetch
//     refunds and manage the single-use coupons that carry vouchers.
//
// The companion plugin in adapters/woocommerce/plugin applies quoted credit
// at checkout as a virtual fixed_cart coupon whose code is the credit
// prefix ("cb-") followed by the hold id; ParseOrder reports such coupons as
// core.Redemption values so the worker can capture the hold.
//
// The subpackage wcfake is an in-memory fake of the WooCommerce REST API
// for tests only.
package woocommerce
