package woocommerce

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OAuth 1.0a as WooCommerce verifies it on plain-HTTP sites
// (WC_REST_Authentication::check_oauth_signature, WooCommerce 3.x to 10.x):
//
//   - the parameters oauth_consumer_key, oauth_timestamp, oauth_nonce,
//     oauth_signature_method and oauth_signature travel in the query string
//     (WooCommerce documents the query string for http sites);
//   - the base string is METHOD & rawurlencode(base URI) & the sorted
//     parameters: every key and value rawurlencoded (RFC 3986), joined as
//     k=v, each pair rawurlencoded again, joined with %26;
//   - the base URI is the home URL with the request path below the home
//     path, in the scheme WordPress sees (http here);
//   - the key is the consumer secret followed by "&" (one-legged: no token
//     secret); HMAC-SHA256, base64.
//
// WooCommerce also refuses a timestamp more than 15 minutes off its clock
// and a nonce it saw in the last 15 minutes.

// OAuthSignatureMethod is the signature method the client uses.
const OAuthSignatureMethod = "HMAC-SHA256"

// oauthBaseURI is the URI WooCommerce signs for a request to requestPath:
// the site URL (no trailing slash) plus the part of the path below the
// site's path and its slash. {site}/?rest_route=... therefore signs as
// the bare site URL.
func oauthBaseURI(site *url.URL, requestPath string) string {
	home := site.Path + "/"
	rest := strings.TrimPrefix(requestPath, home)
	u := url.URL{Scheme: site.Scheme, Host: site.Host, Path: site.Path}
	s := strings.TrimRight(u.String(), "/")
	if rest != "" {
		s += "/" + strings.TrimLeft(rest, "/")
	}
	return s
}

// signOAuth adds the OAuth 1.0a parameters and the signature to params.
func signOAuth(method, baseURI string, params url.Values, key, secret string, now time.Time) error {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	params.Set("oauth_consumer_key", key)
	params.Set("oauth_nonce", hex.EncodeToString(nonce[:]))
	params.Set("oauth_signature_method", OAuthSignatureMethod)
	params.Set("oauth_timestamp", strconv.FormatInt(now.Unix(), 10))
	params.Del("oauth_signature")
	params.Set("oauth_signature", OAuthSignature(method, baseURI, params, secret))
	return nil
}

// OAuthSignature computes the HMAC-SHA256 signature WooCommerce expects
// for a request (params without oauth_signature; one value per key, as
// PHP's $_GET keeps the last one).
func OAuthSignature(method, baseURI string, params url.Values, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "oauth_signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // PHP uksort with strcmp: byte order
	pairs := make([]string, 0, len(keys))
	for _, k := range keys {
		v := params[k]
		last := ""
		if len(v) > 0 {
			last = v[len(v)-1]
		}
		pairs = append(pairs, rawURLEncode(rawURLEncode(k)+"="+rawURLEncode(last)))
	}
	base := strings.ToUpper(method) + "&" + rawURLEncode(baseURI) + "&" + strings.Join(pairs, "%26")
	m := hmac.New(sha256.New, []byte(secret+"&"))
	m.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// rawURLEncode is PHP's rawurlencode (RFC 3986: everything but
// A-Z a-z 0-9 - . _ ~ is percent-encoded, upper-case hex).
func rawURLEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
