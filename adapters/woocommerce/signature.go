package woocommerce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"

	"github.com/creditbridge/creditbridge/core"
)

// Header names WooCommerce sets on webhook deliveries (class-wc-webhook.php).
const (
	// SignatureHeader carries base64(HMAC-SHA256(secret, raw body)).
	SignatureHeader = "X-WC-Webhook-Signature"
	// TopicHeader carries the topic, e.g. "order.updated".
	TopicHeader = "X-WC-Webhook-Topic"
	// ResourceHeader carries the resource, e.g. "order".
	ResourceHeader = "X-WC-Webhook-Resource"
	// EventHeader carries the event, e.g. "updated".
	EventHeader = "X-WC-Webhook-Event"
	// WebhookIDHeader carries the id of the webhook configuration.
	WebhookIDHeader = "X-WC-Webhook-ID"
	// DeliveryIDHeader carries the id of this delivery.
	DeliveryIDHeader = "X-WC-Webhook-Delivery-ID"
	// SourceHeader carries the shop's home URL.
	SourceHeader = "X-WC-Webhook-Source"
)

// maxSignatureLen bounds the header we are willing to decode: a base64
// SHA-256 MAC is 44 characters.
const maxSignatureLen = 128

// VerifyWebhook checks the X-WC-Webhook-Signature header of a delivery
// against the raw body bytes exactly as received (before any decoding) and
// the webhook's secret. The comparison of the decoded MAC is constant-time.
// It returns a *core.Error with code core.EUNAUTHORIZED when the header is
// missing, garbled or does not match, or when secret is empty (an empty key
// would let anyone forge deliveries).
func VerifyWebhook(body []byte, signatureHeader, secret string) error {
	if secret == "" {
		return core.Errorf(core.EUNAUTHORIZED, "woocommerce webhook secret is not configured")
	}
	if signatureHeader == "" {
		return core.Errorf(core.EUNAUTHORIZED, "missing %s header", SignatureHeader)
	}
	if len(signatureHeader) > maxSignatureLen {
		return core.Errorf(core.EUNAUTHORIZED, "%s header is too long", SignatureHeader)
	}
	got, err := base64.StdEncoding.DecodeString(signatureHeader)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "%s header is not valid base64", SignatureHeader)
	}
	if len(got) != sha256.Size {
		return core.Errorf(core.EUNAUTHORIZED, "%s header has %d bytes, want %d", SignatureHeader, len(got), sha256.Size)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return core.Errorf(core.EUNAUTHORIZED, "%s does not match the body", SignatureHeader)
	}
	return nil
}

// Sign returns the X-WC-Webhook-Signature value WooCommerce would send for
// body and secret. It is used by tests and by tools that replay deliveries.
func Sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// maxPingIDDigits bounds the webhook id in a ping body (int64 has 19 digits).
const maxPingIDDigits = 19

// IsPing reports whether a request is the unsigned ping WooCommerce POSTs
// when a webhook is created or activated (WC_Webhook::deliver_ping): the
// form-encoded body is exactly "webhook_id=<digits>" and neither the
// signature nor the topic header is present. WooCommerce disables the
// webhook unless the ping gets HTTP 200, so the caller answers 200 without
// verifying a signature and without storing anything. headers returns the
// value of a request header by name ("" when absent), e.g. fiber's c.Get or
// http.Header.Get.
func IsPing(body []byte, headers func(string) string) bool {
	if headers != nil && (headers(SignatureHeader) != "" || headers(TopicHeader) != "") {
		return false
	}
	const prefix = "webhook_id="
	if len(body) <= len(prefix) || string(body[:len(prefix)]) != prefix {
		return false
	}
	digits := body[len(prefix):]
	if len(digits) > maxPingIDDigits {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
