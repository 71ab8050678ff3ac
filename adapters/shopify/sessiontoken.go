package shopify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// SessionTokenLeeway is the clock skew tolerated on a session token's exp
// and nbf claims.
const SessionTokenLeeway = 10 * time.Second

// maxSessionTokenLen bounds the token we are willing to decode; Shopify's
// are well under 1 KB.
const maxSessionTokenLen = 8 << 10

// SessionClaims are the verified claims of an embedded-admin session token
// (the JWT App Bridge sends as "Authorization: Bearer <token>").
type SessionClaims struct {
	Shop      string    // shop domain taken from dest, lower case, e.g. "shop-name.myshopify.com"
	Sub       string    // Shopify staff user id (may be empty for some token kinds)
	Issuer    string    // iss, e.g. "https://shop-name.myshopify.com/admin"
	Dest      string    // dest, e.g. "https://shop-name.myshopify.com"
	Audience  string    // aud: the app's client id
	Exp       time.Time // expiry
	NotBefore time.Time // nbf (zero when absent)
	IssuedAt  time.Time // iat (zero when absent)
	JTI       string    // token id; callers may use it to reject replays
	SID       string    // session id
}

// VerifySessionToken verifies an HS256 session token signed with the
// app's client secret and returns its claims. Any of secrets is accepted
// (current and previous client secret during a rotation); empty ones are
// skipped. It checks, in order: the shape, the header (alg must be exactly
// HS256, so "none" and asymmetric algorithms are refused), the signature
// (constant-time), exp and nbf with SessionTokenLeeway, aud == clientID,
// dest is https://<valid shop domain>, and iss has the same host as dest.
// Every failure is EUNAUTHORIZED; no usable secret wraps ErrNoSecret.
func VerifySessionToken(token, clientID string, secrets []string, now time.Time) (SessionClaims, error) {
	var zero SessionClaims
	if len(token) > maxSessionTokenLen {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token is longer than %d bytes", maxSessionTokenLen)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token is not a JWS compact token")
	}
	hdrJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token header is not base64url")
	}
	var hdr struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token header is not JSON")
	}
	if hdr.Alg != "HS256" {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token algorithm %q is not HS256", truncate(hdr.Alg, 16))
	}
	if hdr.Typ != "" && !strings.EqualFold(hdr.Typ, "JWT") {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token type is not JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != sha256.Size {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token signature is not a base64url HMAC-SHA256")
	}
	signed := []byte(token[:len(parts[0])+1+len(parts[1])])
	tried, ok := false, false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		tried = true
		if hmac.Equal(sig, macSHA256([]byte(s), signed)) {
			ok = true
			break
		}
	}
	if !tried {
		return zero, fmt.Errorf("shopify: verify session token: %w", ErrNoSecret)
	}
	if !ok {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token signature does not match")
	}

	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token payload is not base64url")
	}
	var raw struct {
		Iss  string          `json:"iss"`
		Dest string          `json:"dest"`
		Aud  json.RawMessage `json:"aud"`
		Sub  string          `json:"sub"`
		Exp  json.Number     `json:"exp"`
		Nbf  json.Number     `json:"nbf"`
		Iat  json.Number     `json:"iat"`
		Jti  string          `json:"jti"`
		Sid  string          `json:"sid"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token payload is not a JSON claims object")
	}

	exp, err := unixClaim(raw.Exp)
	if err != nil || raw.Exp == "" {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token has no valid exp claim")
	}
	nbf, err := unixClaim(raw.Nbf)
	if err != nil {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token nbf claim is not a Unix time")
	}
	iat, err := unixClaim(raw.Iat)
	if err != nil {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token iat claim is not a Unix time")
	}
	leeway := int64(SessionTokenLeeway / time.Second)
	n := now.Unix()
	if n >= exp+leeway {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token expired")
	}
	if raw.Nbf != "" && n < nbf-leeway {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token not valid yet")
	}
	if clientID == "" || !audienceContains(raw.Aud, clientID) {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token audience is not this app")
	}

	shop, ok := destShop(raw.Dest)
	if !ok {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token dest is not https://<shop>.myshopify.com")
	}
	iss, err := url.Parse(raw.Iss)
	if err != nil || iss.Scheme != "https" || !strings.EqualFold(iss.Host, shop) {
		return zero, core.Errorf(core.EUNAUTHORIZED, "session token issuer does not match its dest shop")
	}

	c := SessionClaims{
		Shop:     shop,
		Sub:      raw.Sub,
		Issuer:   raw.Iss,
		Dest:     raw.Dest,
		Audience: clientID,
		Exp:      time.Unix(exp, 0).UTC(),
		JTI:      raw.Jti,
		SID:      raw.Sid,
	}
	if raw.Nbf != "" {
		c.NotBefore = time.Unix(nbf, 0).UTC()
	}
	if raw.Iat != "" {
		c.IssuedAt = time.Unix(iat, 0).UTC()
	}
	return c, nil
}

// SignSessionToken builds an HS256 token over claims (a JSON object) with
// secret, as Shopify does. It exists for tests and local tooling.
func SignSessionToken(claims map[string]any, secret string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("shopify: sign session token: %w", err)
	}
	signed := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(payload)
	return signed + "." + base64.RawURLEncoding.EncodeToString(macSHA256([]byte(secret), []byte(signed))), nil
}

// unixClaim parses a NumericDate claim; an absent claim is 0. Only
// integral values within ±1e12 s are accepted (fractions are not used by
// Shopify and would only widen the attack surface).
func unixClaim(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, err
	}
	if v > 1e12 || v < -1e12 {
		return 0, fmt.Errorf("out of range")
	}
	return v, nil
}

// audienceContains accepts aud as a string or an array of strings.
func audienceContains(aud json.RawMessage, clientID string) bool {
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one == clientID
	}
	var many []string
	if json.Unmarshal(aud, &many) == nil {
		for _, a := range many {
			if a == clientID {
				return true
			}
		}
	}
	return false
}

// destShop extracts the shop domain from a dest claim, which must be
// exactly https://<shop>.myshopify.com (an optional trailing "/").
func destShop(dest string) (string, bool) {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "https" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Path != "" && u.Path != "/") || u.Port() != "" {
		return "", false
	}
	if !ValidShopDomain(u.Host) {
		return "", false
	}
	return strings.ToLower(u.Host), true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
