package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// HeaderHmacSHA256 is the webhook header carrying base64(HMAC-SHA256(secret, body)).
const HeaderHmacSHA256 = "X-Shopify-Hmac-Sha256"

// ErrNoSecret is returned (wrapped) when a verifier is called without any
// non-empty secret. It is a configuration error, not a client error, so it
// carries no core code and reads as EINTERNAL.
var ErrNoSecret = errors.New("shopify: no signing secret configured")

// maxQueryLen bounds the app-proxy and OAuth query strings we are willing
// to canonicalize; real ones are a few hundred bytes.
const maxQueryLen = 16 << 10

// VerifyWebhook checks the X-Shopify-Hmac-Sha256 header of a webhook
// against the raw request body. The header is base64(HMAC-SHA256(secret,
// body)); the body must be the exact bytes received (before any
// decompression or JSON decoding). Any of secrets is accepted, so the
// current and the previous client secret both verify during a rotation;
// empty secrets are skipped. The comparison is constant-time on the
// decoded MAC.
//
// A missing, garbled or non-matching header returns a *core.Error with
// code EUNAUTHORIZED; no usable secret returns an error wrapping
// ErrNoSecret.
func VerifyWebhook(body []byte, hmacHeader string, secrets ...string) error {
	h := strings.TrimSpace(hmacHeader)
	if h == "" {
		return core.Errorf(core.EUNAUTHORIZED, "missing %s header", HeaderHmacSHA256)
	}
	got, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "%s header is not valid base64", HeaderHmacSHA256)
	}
	if len(got) != sha256.Size {
		return core.Errorf(core.EUNAUTHORIZED, "%s header has %d bytes, want %d", HeaderHmacSHA256, len(got), sha256.Size)
	}
	tried := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		tried = true
		if hmac.Equal(got, macSHA256([]byte(s), body)) {
			return nil
		}
	}
	if !tried {
		return fmt.Errorf("shopify: verify webhook: %w", ErrNoSecret)
	}
	return core.Errorf(core.EUNAUTHORIZED, "webhook HMAC does not match")
}

// SignWebhook returns the X-Shopify-Hmac-Sha256 value Shopify would send
// for body signed with secret. It exists for tests and local tooling.
func SignWebhook(body []byte, secret string) string {
	return base64.StdEncoding.EncodeToString(macSHA256([]byte(secret), body))
}

// VerifyAppProxy checks the `signature` parameter of an app-proxy request
// (a customer-facing page proxied by the shop). The signature is the hex
// HMAC-SHA256, keyed with the client secret, of the canonical message:
// every parameter except signature, as key=value with multiple values of
// one key joined by ",", sorted by key and concatenated without
// separators (see shopify.dev "Authenticate app proxies").
//
// It returns the decoded parameters without signature. The caller should
// then check freshness (CheckFreshness) and the shop (ValidShopDomain on
// values.Get("shop")) and take logged_in_customer_id from the result: an
// empty value means an anonymous visitor. Failures are EUNAUTHORIZED.
func VerifyAppProxy(rawQuery string, secret string) (url.Values, error) {
	if secret == "" {
		return nil, fmt.Errorf("shopify: verify app proxy: %w", ErrNoSecret)
	}
	values, sig, err := splitSigned(rawQuery, "signature")
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(sig, macSHA256([]byte(secret), []byte(AppProxyMessage(values)))) {
		return nil, core.Errorf(core.EUNAUTHORIZED, "app proxy signature does not match")
	}
	return values, nil
}

// AppProxyMessage returns the canonical message an app-proxy signature
// covers for values (any "signature" entry is left out).
func AppProxyMessage(values url.Values) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strings.Join(values[k], ","))
	}
	return b.String()
}

// SignAppProxy returns the hex signature of values (as VerifyAppProxy
// expects it). It exists for tests and local tooling.
func SignAppProxy(values url.Values, secret string) string {
	return hex.EncodeToString(macSHA256([]byte(secret), []byte(AppProxyMessage(values))))
}

// CheckFreshness rejects a signed query whose `timestamp` (Unix seconds)
// is missing, malformed or more than maxAge away from now in either
// direction, which bounds how long a captured app-proxy URL can be
// replayed. Failures are EUNAUTHORIZED.
func CheckFreshness(values url.Values, now time.Time, maxAge time.Duration) error {
	ts := values.Get("timestamp")
	if ts == "" {
		return core.Errorf(core.EUNAUTHORIZED, "signed query has no timestamp")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return core.Errorf(core.EUNAUTHORIZED, "signed query timestamp is not a Unix time")
	}
	d := now.Unix() - sec
	if d < 0 {
		d = -d
	}
	// Compare in seconds so that absurd timestamps cannot overflow a Duration.
	if d > int64(maxAge/time.Second) {
		return core.Errorf(core.EUNAUTHORIZED, "signed query timestamp is outside the allowed %s window", maxAge)
	}
	return nil
}

// VerifyOAuthQuery checks the `hmac` parameter of an OAuth callback (and
// of the app's launch URL): the hex HMAC-SHA256, keyed with the client
// secret, of the remaining parameters (hmac and the legacy signature
// removed) URL-encoded as key=value, sorted by key and joined with "&".
// It returns the parameters without hmac and signature. Failures are
// EUNAUTHORIZED; the caller still checks the shop (ValidShopDomain), the
// state nonce and the timestamp.
func VerifyOAuthQuery(rawQuery, secret string) (url.Values, error) {
	if secret == "" {
		return nil, fmt.Errorf("shopify: verify oauth query: %w", ErrNoSecret)
	}
	values, sig, err := splitSigned(rawQuery, "hmac")
	if err != nil {
		return nil, err
	}
	values.Del("signature")
	if !hmac.Equal(sig, macSHA256([]byte(secret), []byte(values.Encode()))) {
		return nil, core.Errorf(core.EUNAUTHORIZED, "oauth query hmac does not match")
	}
	return values, nil
}

// SignOAuthQuery returns the hex hmac of values (as VerifyOAuthQuery
// expects it; hmac and signature entries are ignored). It exists for tests
// and local tooling.
func SignOAuthQuery(values url.Values, secret string) string {
	v := url.Values{}
	for k, vs := range values {
		if k != "hmac" && k != "signature" {
			v[k] = vs
		}
	}
	return hex.EncodeToString(macSHA256([]byte(secret), []byte(v.Encode())))
}

// splitSigned parses rawQuery, removes the single parameter named sigKey
// and returns the other values and the hex-decoded signature.
func splitSigned(rawQuery, sigKey string) (url.Values, []byte, error) {
	if len(rawQuery) > maxQueryLen {
		return nil, nil, core.Errorf(core.EUNAUTHORIZED, "signed query is longer than %d bytes", maxQueryLen)
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, nil, core.Errorf(core.EUNAUTHORIZED, "signed query is malformed")
	}
	sigs := values[sigKey]
	switch {
	case len(sigs) == 0 || sigs[0] == "":
		return nil, nil, core.Errorf(core.EUNAUTHORIZED, "signed query has no %s parameter", sigKey)
	case len(sigs) > 1:
		return nil, nil, core.Errorf(core.EUNAUTHORIZED, "signed query has more than one %s parameter", sigKey)
	}
	sig, err := hex.DecodeString(sigs[0])
	if err != nil || len(sig) != sha256.Size {
		return nil, nil, core.Errorf(core.EUNAUTHORIZED, "%s parameter is not a hex SHA-256 MAC", sigKey)
	}
	values.Del(sigKey)
	return values, sig, nil
}

var shopDomainRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`)

// ValidShopDomain reports whether shop is a permanent *.myshopify.com
// domain (the only form Shopify uses in OAuth, app-proxy and session-token
// shop fields). Check it before building any URL from a shop parameter.
func ValidShopDomain(shop string) bool {
	return len(shop) <= 255 && shopDomainRE.MatchString(shop)
}

func macSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
