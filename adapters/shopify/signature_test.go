package shopify_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

type signatureVectors struct {
	AppProxy []struct {
		Source           string `json:"source"`
		Secret           string `json:"secret"`
		Query            string `json:"query"`
		CanonicalMessage string `json:"canonical_message"`
		ExpectedHex      string `json:"expected_signature_hex"`
	} `json:"app_proxy"`
	OAuth []struct {
		Source           string `json:"source"`
		Secret           string `json:"secret"`
		QueryWithoutHmac string `json:"query_without_hmac"`
		ExpectedHex      string `json:"expected_hmac_hex"`
	} `json:"oauth_query_hmac"`
	Webhook []struct {
		Source         string `json:"source"`
		Secret         string `json:"secret"`
		RawBody        string `json:"raw_body"`
		ExpectedBase64 string `json:"expected_x_shopify_hmac_sha256_base64"`
	} `json:"webhook_body_hmac"`
	JWT []struct {
		Source      string         `json:"source"`
		Secret      string         `json:"secret"`
		ClientID    string         `json:"client_id_aud"`
		Token       string         `json:"token"`
		Claims      map[string]any `json:"claims"`
		ValidAtUnix int64          `json:"valid_at_unix"`
	} `json:"session_token_jwt"`
}

func loadVectors(t *testing.T) signatureVectors {
	t.Helper()
	raw := sharedfixtures.Read(t, "fixtures/shopify/signature-vectors.json")
	var v signatureVectors
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode signature-vectors.json: %v", err)
	}
	if len(v.AppProxy) == 0 || len(v.OAuth) == 0 || len(v.Webhook) == 0 || len(v.JWT) == 0 {
		t.Fatalf("signature-vectors.json lacks a section: %d app proxy, %d oauth, %d webhook, %d jwt",
			len(v.AppProxy), len(v.OAuth), len(v.Webhook), len(v.JWT))
	}
	return v
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want code %s", code)
	}
	if got := core.ErrorCode(err); got != code {
		t.Fatalf("error code = %s (%v), want %s", got, err, code)
	}
}

func TestWebhookVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t).Webhook {
		body := []byte(v.RawBody)
		if got := shopify.SignWebhook(body, v.Secret); got != v.ExpectedBase64 {
			t.Errorf("%s: SignWebhook = %s, want %s", v.Source, got, v.ExpectedBase64)
		}
		if err := shopify.VerifyWebhook(body, v.ExpectedBase64, v.Secret); err != nil {
			t.Errorf("%s: current secret rejected: %v", v.Source, err)
		}
		// During a rotation the new secret comes first, the previous one second.
		if err := shopify.VerifyWebhook(body, v.ExpectedBase64, "rotated-new-secret", "", v.Secret); err != nil {
			t.Errorf("%s: previous secret rejected during rotation: %v", v.Source, err)
		}
		if err := shopify.VerifyWebhook(body, " "+v.ExpectedBase64+" ", v.Secret); err != nil {
			t.Errorf("%s: header with surrounding spaces rejected: %v", v.Source, err)
		}
		wantCode(t, shopify.VerifyWebhook(body, v.ExpectedBase64, "wrong"), core.EUNAUTHORIZED)
		flipped := bytes.Clone(body)
		flipped[len(flipped)/2] ^= 1
		wantCode(t, shopify.VerifyWebhook(flipped, v.ExpectedBase64, v.Secret), core.EUNAUTHORIZED)
	}
}

func TestVerifyWebhookRejects(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":1}`)
	good := shopify.SignWebhook(body, "s3cret")
	raw, _ := base64.StdEncoding.DecodeString(good)
	raw[0] ^= 0x80
	tests := []struct {
		name, header, msg string
		secrets           []string
	}{
		{"missing header", "", "missing", []string{"s3cret"}},
		{"garbled header", "not base64!!", "not valid base64", []string{"s3cret"}},
		{"short mac", base64.StdEncoding.EncodeToString([]byte("short")), "has 5 bytes", []string{"s3cret"}},
		{"hex instead of base64", strings.Repeat("ab", 32), "", []string{"s3cret"}},
		{"bad signature", base64.StdEncoding.EncodeToString(raw), "does not match", []string{"s3cret"}},
		{"wrong secret", good, "does not match", []string{"other", "another"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := shopify.VerifyWebhook(body, tc.header, tc.secrets...)
			wantCode(t, err, core.EUNAUTHORIZED)
			if !strings.Contains(core.ErrorMessage(err), tc.msg) {
				t.Errorf("message %q does not mention %q", core.ErrorMessage(err), tc.msg)
			}
		})
	}
	t.Run("no secret", func(t *testing.T) {
		t.Parallel()
		for _, secrets := range [][]string{nil, {""}, {"", ""}} {
			err := shopify.VerifyWebhook(body, good, secrets...)
			if !errors.Is(err, shopify.ErrNoSecret) || core.ErrorCode(err) != core.EINTERNAL {
				t.Errorf("secrets %q: err = %v, want ErrNoSecret (internal)", secrets, err)
			}
		}
	})
}

func TestAppProxyVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t).AppProxy {
		values, err := url.ParseQuery(v.Query)
		if err != nil {
			t.Fatalf("%s: parse query: %v", v.Source, err)
		}
		if got := shopify.AppProxyMessage(values); got != v.CanonicalMessage {
			t.Errorf("%s: canonical message\n got %s\nwant %s", v.Source, got, v.CanonicalMessage)
		}
		if got := shopify.SignAppProxy(values, v.Secret); got != v.ExpectedHex {
			t.Errorf("%s: SignAppProxy = %s, want %s", v.Source, got, v.ExpectedHex)
		}
		// The signature may sit anywhere in the query and in either hex case.
		for _, q := range []string{
			v.Query + "&signature=" + v.ExpectedHex,
			"signature=" + strings.ToUpper(v.ExpectedHex) + "&" + v.Query,
		} {
			got, err := shopify.VerifyAppProxy(q, v.Secret)
			if err != nil {
				t.Errorf("%s: VerifyAppProxy(%s): %v", v.Source, q, err)
				continue
			}
			if got.Has("signature") || got.Get("shop") != "shop-name.myshopify.com" || got.Get("path_prefix") != "/apps/awesome_reviews" {
				t.Errorf("%s: returned values %v", v.Source, got)
			}
		}
		_, err = shopify.VerifyAppProxy(v.Query+"&signature="+v.ExpectedHex, "wrong")
		wantCode(t, err, core.EUNAUTHORIZED)
		tampered := strings.Replace(v.Query, "timestamp=1317327555", "timestamp=1317327556", 1)
		_, err = shopify.VerifyAppProxy(tampered+"&signature="+v.ExpectedHex, v.Secret)
		wantCode(t, err, core.EUNAUTHORIZED)
		_, err = shopify.VerifyAppProxy(v.Query+"&logged_in_customer_id=2&signature="+v.ExpectedHex, v.Secret)
		wantCode(t, err, core.EUNAUTHORIZED)
	}
}

func TestVerifyAppProxyRejects(t *testing.T) {
	t.Parallel()
	sig := strings.Repeat("00", 32)
	for name, q := range map[string]string{
		"no signature":      "shop=a.myshopify.com&timestamp=1",
		"empty signature":   "shop=a.myshopify.com&signature=",
		"two signatures":    "shop=a.myshopify.com&signature=" + sig + "&signature=" + sig,
		"non-hex signature": "shop=a.myshopify.com&signature=zz",
		"short signature":   "shop=a.myshopify.com&signature=abcd",
		"bad escaping":      "shop=%zz&signature=" + sig,
		"too long":          "shop=" + strings.Repeat("a", 20000) + "&signature=" + sig,
	} {
		if _, err := shopify.VerifyAppProxy(q, "hush"); core.ErrorCode(err) != core.EUNAUTHORIZED {
			t.Errorf("%s: err = %v, want unauthorized", name, err)
		}
	}
	if _, err := shopify.VerifyAppProxy("shop=a&signature="+sig, ""); !errors.Is(err, shopify.ErrNoSecret) {
		t.Errorf("empty secret: err = %v, want ErrNoSecret", err)
	}
}

func TestCheckFreshness(t *testing.T) {
	t.Parallel()
	now := time.Unix(1317327555, 0)
	tests := []struct {
		ts string
		ok bool
	}{
		{"1317327555", true},
		{"1317327255", true},  // 300 s old: at the limit
		{"1317327254", false}, // 301 s old
		{"1317327855", true},  // 300 s in the future (clock skew)
		{"1317327856", false},
		{"", false},
		{"abc", false},
		{"-9223372036854775808", false},
		{"9223372036854775807", false},
	}
	for _, tc := range tests {
		v := url.Values{}
		if tc.ts != "" {
			v.Set("timestamp", tc.ts)
		}
		err := shopify.CheckFreshness(v, now, 5*time.Minute)
		if tc.ok && err != nil {
			t.Errorf("timestamp %q: %v", tc.ts, err)
		}
		if !tc.ok {
			wantCode(t, err, core.EUNAUTHORIZED)
		}
	}
}

func TestOAuthVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t).OAuth {
		values, err := url.ParseQuery(v.QueryWithoutHmac)
		if err != nil {
			t.Fatal(err)
		}
		if got := shopify.SignOAuthQuery(values, v.Secret); got != v.ExpectedHex {
			t.Errorf("%s: SignOAuthQuery = %s, want %s", v.Source, got, v.ExpectedHex)
		}
		for _, q := range []string{
			v.QueryWithoutHmac + "&hmac=" + v.ExpectedHex,
			"hmac=" + v.ExpectedHex + "&" + v.QueryWithoutHmac,
		} {
			got, err := shopify.VerifyOAuthQuery(q, v.Secret)
			if err != nil {
				t.Errorf("%s: VerifyOAuthQuery(%s): %v", v.Source, q, err)
				continue
			}
			if got.Has("hmac") || got.Get("shop") != "some-shop.myshopify.com" || got.Get("code") == "" {
				t.Errorf("%s: returned values %v", v.Source, got)
			}
		}
		_, err = shopify.VerifyOAuthQuery(v.QueryWithoutHmac+"&hmac="+v.ExpectedHex, "wrong")
		wantCode(t, err, core.EUNAUTHORIZED)
		_, err = shopify.VerifyOAuthQuery(strings.Replace(v.QueryWithoutHmac, "some-shop", "evil-shop", 1)+"&hmac="+v.ExpectedHex, v.Secret)
		wantCode(t, err, core.EUNAUTHORIZED)
		_, err = shopify.VerifyOAuthQuery(v.QueryWithoutHmac, v.Secret)
		wantCode(t, err, core.EUNAUTHORIZED)
	}
}

func TestOAuthQueryEscapedValues(t *testing.T) {
	t.Parallel()
	// host is base64 with "=" padding; the message re-encodes values.
	values := url.Values{"shop": {"a.myshopify.com"}, "host": {"YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYQ=="}, "timestamp": {"1"}, "state": {"n o/nce"}}
	q := values.Encode() + "&hmac=" + shopify.SignOAuthQuery(values, "k")
	got, err := shopify.VerifyOAuthQuery(q, "k")
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("host") != values.Get("host") || got.Get("state") != "n o/nce" {
		t.Errorf("values = %v", got)
	}
}

func TestValidShopDomain(t *testing.T) {
	t.Parallel()
	for shop, want := range map[string]bool{
		"shop-name.myshopify.com":                   true,
		"Shop1.myshopify.com":                       true,
		"0shop.myshopify.com":                       true,
		"-shop.myshopify.com":                       false,
		"shop.myshopify.com.evil.com":               false,
		"evil.com/shop.myshopify.com":               false,
		"shop.myshopify.com/":                       false,
		"shop.myshopifyXcom":                        false,
		"sub.shop.myshopify.com":                    false,
		"shop_name.myshopify.com":                   false,
		".myshopify.com":                            false,
		"":                                          false,
		"shop.myshopify.com\n":                      false,
		"{shop}.myshopify.com":                      false,
		"https://shop.myshopify.com":                false,
		"shop.myshopify.com:443":                    false,
		strings.Repeat("a", 300) + ".myshopify.com": false,
	} {
		if got := shopify.ValidShopDomain(shop); got != want {
			t.Errorf("ValidShopDomain(%q) = %v, want %v", shop, got, want)
		}
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`{"id":820982911946154508,"total_price":"12.50"}`), "hush", 3, "")
	f.Add([]byte{}, "k", 0, "7nZfoAJOtPeZrf4StTsho6hPVj6WHcXGkHO2dvKJfXk=")
	f.Add([]byte("x"), "", 5, "====")
	f.Fuzz(func(t *testing.T, body []byte, secret string, flip int, header string) {
		// Arbitrary headers must never panic nor verify by accident.
		if err := shopify.VerifyWebhook(body, header, secret); err == nil {
			got, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
			want, _ := base64.StdEncoding.DecodeString(shopify.SignWebhook(body, secret))
			if !bytes.Equal(got, want) {
				t.Fatalf("arbitrary header %q verified", header)
			}
		}
		if secret == "" {
			return
		}
		sig := shopify.SignWebhook(body, secret)
		if err := shopify.VerifyWebhook(body, sig, secret); err != nil {
			t.Fatalf("valid signature rejected: %v", err)
		}
		if err := shopify.VerifyWebhook(body, sig, "other-"+secret, secret); err != nil {
			t.Fatalf("valid signature rejected with the secret second: %v", err)
		}
		if len(body) == 0 {
			return
		}
		tampered := bytes.Clone(body)
		i := flip % len(tampered)
		if i < 0 {
			i = -i
		}
		tampered[i] ^= 0x01
		if err := shopify.VerifyWebhook(tampered, sig, secret); core.ErrorCode(err) != core.EUNAUTHORIZED {
			t.Fatalf("tampered body: err = %v, want unauthorized", err)
		}
	})
}

func FuzzVerifyAppProxy(f *testing.F) {
	f.Add("extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555", "hush", 7)
	f.Add("signature=abc&x=%zz", "k", 0)
	f.Add("a=1;b=2", "k", 1)
	f.Fuzz(func(t *testing.T, rawQuery, secret string, flip int) {
		// Whatever the query, no panic, and a verified result never keeps the signature.
		if v, err := shopify.VerifyAppProxy(rawQuery, secret); err == nil && v.Has("signature") {
			t.Fatalf("verified values keep signature: %v", v)
		}
		values, err := url.ParseQuery(rawQuery)
		if err != nil || secret == "" || len(rawQuery) > 4096 {
			return
		}
		values.Del("signature")
		if len(values) == 0 {
			return
		}
		q := values.Encode() + "&signature=" + shopify.SignAppProxy(values, secret)
		got, err := shopify.VerifyAppProxy(q, secret)
		if err != nil {
			t.Fatalf("valid signature rejected for %q: %v", q, err)
		}
		if shopify.AppProxyMessage(got) != shopify.AppProxyMessage(values) {
			t.Fatalf("values changed: %v vs %v", got, values)
		}
		// Change one value by appending a byte: the signature must fail.
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		k := keys[0]
		for _, kk := range keys {
			if kk < k {
				k = kk
			}
		}
		changed := url.Values{}
		for kk, vs := range values {
			changed[kk] = append([]string(nil), vs...)
		}
		changed[k][0] += string(rune('a' + (flip & 7)))
		q2 := changed.Encode() + "&signature=" + shopify.SignAppProxy(values, secret)
		if _, err := shopify.VerifyAppProxy(q2, secret); core.ErrorCode(err) != core.EUNAUTHORIZED {
			t.Fatalf("tampered query verified: %q (err %v)", q2, err)
		}
	})
}

func BenchmarkVerifyWebhook(b *testing.B) {
	body := bytes.Repeat([]byte(`{"k":"v"},`), 2048/10+1)[:2048]
	sig := shopify.SignWebhook(body, "previous")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		// Worst realistic case: the matching secret is the second one.
		if err := shopify.VerifyWebhook(body, sig, "current", "previous"); err != nil {
			b.Fatal(err)
		}
	}
}
