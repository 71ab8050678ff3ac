package shopify_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

func claimInt(t *testing.T, c map[string]any, k string) int64 {
	t.Helper()
	n, ok := c[k].(json.Number)
	if !ok {
		t.Fatalf("vector claim %s is %T, want a number", k, c[k])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("vector claim %s: %v", k, err)
	}
	return v
}

func TestSessionTokenVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t).JWT {
		exp, nbf, iat := claimInt(t, v.Claims, "exp"), claimInt(t, v.Claims, "nbf"), claimInt(t, v.Claims, "iat")
		now := time.Unix(v.ValidAtUnix, 0)
		c, err := shopify.VerifySessionToken(v.Token, v.ClientID, []string{v.Secret}, now)
		if err != nil {
			t.Fatalf("%s: %v", v.Source, err)
		}
		want := shopify.SessionClaims{
			Shop:      strings.TrimPrefix(v.Claims["dest"].(string), "https://"),
			Sub:       v.Claims["sub"].(string),
			Issuer:    v.Claims["iss"].(string),
			Dest:      v.Claims["dest"].(string),
			Audience:  v.Claims["aud"].(string),
			Exp:       time.Unix(exp, 0).UTC(),
			NotBefore: time.Unix(nbf, 0).UTC(),
			IssuedAt:  time.Unix(iat, 0).UTC(),
			JTI:       v.Claims["jti"].(string),
			SID:       v.Claims["sid"].(string),
		}
		if c != want {
			t.Errorf("claims\n got %+v\nwant %+v", c, want)
		}

		// Rotation: the previous secret (second) still verifies.
		if _, err := shopify.VerifySessionToken(v.Token, v.ClientID, []string{"new-secret", "", v.Secret}, now); err != nil {
			t.Errorf("previous secret rejected: %v", err)
		}

		// Leeway of 10 s on both ends.
		for _, tc := range []struct {
			at  int64
			ok  bool
			msg string
		}{
			{exp + 9, true, ""},
			{exp + 10, false, "expired"},
			{exp + 3600, false, "expired"},
			{nbf - 10, true, ""},
			{nbf - 11, false, "not valid yet"},
		} {
			_, err := shopify.VerifySessionToken(v.Token, v.ClientID, []string{v.Secret}, time.Unix(tc.at, 0))
			if tc.ok && err != nil {
				t.Errorf("at %d: %v", tc.at, err)
			}
			if !tc.ok {
				wantCode(t, err, core.EUNAUTHORIZED)
				if !strings.Contains(core.ErrorMessage(err), tc.msg) {
					t.Errorf("at %d: message %q, want %q", tc.at, core.ErrorMessage(err), tc.msg)
				}
			}
		}

		parts := strings.Split(v.Token, ".")
		enc := base64.RawURLEncoding.EncodeToString
		for name, tc := range map[string]struct {
			token, clientID, secret, msg string
		}{
			"wrong secret":    {v.Token, v.ClientID, "wrong", "signature does not match"},
			"wrong audience":  {v.Token, "other-app", v.Secret, "audience"},
			"empty client id": {v.Token, "", v.Secret, "audience"},
			"alg none unsigned": {enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
				v.ClientID, v.Secret, "not HS256"},
			"alg none with old sig": {enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
				v.ClientID, v.Secret, "not HS256"},
			"alg HS512": {enc([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
				v.ClientID, v.Secret, "not HS256"},
			"alg lower case": {enc([]byte(`{"alg":"hs256","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2],
				v.ClientID, v.Secret, "not HS256"},
			"tampered payload": {parts[0] + "." + enc([]byte(strings.Replace(mustB64(t, parts[1]), `"sub":"42"`, `"sub":"1"`, 1))) + "." + parts[2],
				v.ClientID, v.Secret, "signature does not match"},
			"padded signature": {v.Token + "=", v.ClientID, v.Secret, "signature"},
			"two parts":        {parts[0] + "." + parts[1], v.ClientID, v.Secret, "not a JWS"},
			"four parts":       {v.Token + ".x", v.ClientID, v.Secret, "not a JWS"},
			"empty":            {"", v.ClientID, v.Secret, "not a JWS"},
			"garbage header":   {"!!." + parts[1] + "." + parts[2], v.ClientID, v.Secret, "header"},
		} {
			_, err := shopify.VerifySessionToken(tc.token, tc.clientID, []string{tc.secret}, now)
			wantCode(t, err, core.EUNAUTHORIZED)
			if !strings.Contains(core.ErrorMessage(err), tc.msg) {
				t.Errorf("%s: message %q, want it to mention %q", name, core.ErrorMessage(err), tc.msg)
			}
		}
		if _, err := shopify.VerifySessionToken(v.Token, v.ClientID, []string{"", ""}, now); !errors.Is(err, shopify.ErrNoSecret) {
			t.Errorf("no secret: err = %v, want ErrNoSecret", err)
		}
	}
}

func mustB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// validClaims returns claims of a token valid at now for client "cid".
func validClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": "https://a-shop.myshopify.com/admin", "dest": "https://a-shop.myshopify.com", "aud": "cid",
		"sub": "7", "exp": now.Unix() + 60, "nbf": now.Unix() - 1, "iat": now.Unix() - 1, "jti": "j", "sid": "s",
	}
}

func TestVerifySessionTokenClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1767225630, 0)
	tests := []struct {
		name string
		edit func(map[string]any)
		msg  string // "" = valid
		shop string
	}{
		{"valid", func(map[string]any) {}, "", "a-shop.myshopify.com"},
		{"aud array", func(c map[string]any) { c["aud"] = []string{"x", "cid"} }, "", "a-shop.myshopify.com"},
		{"upper-case shop", func(c map[string]any) {
			c["dest"], c["iss"] = "https://A-Shop.myshopify.com", "https://A-Shop.myshopify.com/admin"
		}, "", "a-shop.myshopify.com"},
		{"dest trailing slash", func(c map[string]any) { c["dest"] = "https://a-shop.myshopify.com/" }, "", "a-shop.myshopify.com"},
		{"no nbf", func(c map[string]any) { delete(c, "nbf") }, "", "a-shop.myshopify.com"},
		{"aud array without us", func(c map[string]any) { c["aud"] = []string{"x"} }, "audience", ""},
		{"aud number", func(c map[string]any) { c["aud"] = 5 }, "audience", ""},
		{"no exp", func(c map[string]any) { delete(c, "exp") }, "exp", ""},
		{"exp string", func(c map[string]any) { c["exp"] = "soon" }, "payload", ""},
		{"exp fraction", func(c map[string]any) { c["exp"] = 1767225690.5 }, "exp", ""},
		{"exp huge", func(c map[string]any) { c["exp"] = int64(1) << 62 }, "exp", ""},
		{"http dest", func(c map[string]any) { c["dest"] = "http://a-shop.myshopify.com" }, "dest", ""},
		{"foreign dest", func(c map[string]any) {
			c["dest"], c["iss"] = "https://evil.example.com", "https://evil.example.com/admin"
		}, "dest", ""},
		{"dest with path", func(c map[string]any) { c["dest"] = "https://a-shop.myshopify.com/admin" }, "dest", ""},
		{"dest with port", func(c map[string]any) { c["dest"] = "https://a-shop.myshopify.com:8443" }, "dest", ""},
		{"dest with user", func(c map[string]any) { c["dest"] = "https://x@a-shop.myshopify.com" }, "dest", ""},
		{"iss other shop", func(c map[string]any) { c["iss"] = "https://b-shop.myshopify.com/admin" }, "issuer", ""},
		{"iss http", func(c map[string]any) { c["iss"] = "http://a-shop.myshopify.com/admin" }, "issuer", ""},
		{"iss missing", func(c map[string]any) { delete(c, "iss") }, "issuer", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := validClaims(now)
			tc.edit(c)
			tok, err := shopify.SignSessionToken(c, "sec")
			if err != nil {
				t.Fatal(err)
			}
			got, err := shopify.VerifySessionToken(tok, "cid", []string{"sec"}, now)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("valid token rejected: %v", err)
				}
				if got.Shop != tc.shop || got.Sub != "7" || got.Audience != "cid" {
					t.Errorf("claims = %+v", got)
				}
				return
			}
			wantCode(t, err, core.EUNAUTHORIZED)
			if !strings.Contains(core.ErrorMessage(err), tc.msg) {
				t.Errorf("message %q, want it to mention %q", core.ErrorMessage(err), tc.msg)
			}
		})
	}
}

func FuzzVerifySessionToken(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.x", "hush", int64(1767225630), 0)
	f.Add("a.b.c", "", int64(0), 3)
	f.Add("..", "k", int64(-1), 1)
	f.Fuzz(func(t *testing.T, token, secret string, now int64, flip int) {
		at := time.Unix(now%(1<<40), 0)
		// Arbitrary tokens: no panic, and success only with sane claims.
		if c, err := shopify.VerifySessionToken(token, "cid", []string{secret}, at); err == nil {
			if !shopify.ValidShopDomain(c.Shop) || c.Audience != "cid" {
				t.Fatalf("accepted claims %+v", c)
			}
		}
		if secret == "" {
			return
		}
		tok, err := shopify.SignSessionToken(validClaims(at), secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shopify.VerifySessionToken(tok, "cid", []string{secret}, at); err != nil {
			t.Fatalf("valid token rejected: %v", err)
		}
		// Flip one bit of the signed part (header or payload): must fail.
		signedLen := strings.LastIndexByte(tok, '.')
		i := flip % signedLen
		if i < 0 {
			i = -i
		}
		b := []byte(tok)
		b[i] ^= 0x01
		if _, err := shopify.VerifySessionToken(string(b), "cid", []string{secret}, at); err == nil {
			t.Fatalf("token with byte %d flipped verified", i)
		}
	})
}
