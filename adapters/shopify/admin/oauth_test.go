package admin_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/core"
)

func TestExchangeCode(t *testing.T) {
	t.Parallel()
	srv := shopifyfake.New(t, shopifyfake.Options{})
	ctx := context.Background()
	code := srv.IssueAuthCode()
	before := time.Now()
	tok, err := admin.ExchangeCode(ctx, srv.HTTPClient(), srv.ShopDomain(), srv.ClientID(), srv.ClientSecret(), code)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !strings.Contains(tok.Scope, "write_discounts") {
		t.Errorf("token = %s", tok)
	}
	if d := tok.ExpiresAt.Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("ExpiresAt %v is not about an hour away", tok.ExpiresAt)
	}
	if d := tok.RefreshExpiresAt.Sub(before); d < 89*24*time.Hour || d > 91*24*time.Hour {
		t.Errorf("RefreshExpiresAt %v is not about 90 days away", tok.RefreshExpiresAt)
	}
	form := srv.OAuthRequests()[0]
	want := url.Values{"client_id": {srv.ClientID()}, "client_secret": {srv.ClientSecret()}, "code": {code}, "expiring": {"1"}}
	if form.Encode() != want.Encode() {
		t.Errorf("form = %v, want %v", form, want)
	}
	// The issued token works against the Admin API.
	c := admin.NewClient(srv.ShopDomain(), tok.AccessToken, "", admin.WithBaseURL(srv.URL))
	if _, err := c.Shop(ctx); err != nil {
		t.Errorf("Shop with exchanged token: %v", err)
	}
	// A code works once.
	_, err = admin.ExchangeCode(ctx, srv.HTTPClient(), srv.ShopDomain(), srv.ClientID(), srv.ClientSecret(), code)
	var oe *admin.OAuthError
	if !errors.As(err, &oe) || oe.StatusCode != 400 || core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Errorf("reused code: %v, want 400 EUNAUTHORIZED", err)
	}
	// A wrong secret is refused.
	_, err = admin.ExchangeCode(ctx, srv.HTTPClient(), srv.ShopDomain(), srv.ClientID(), "wrong", srv.IssueAuthCode())
	if !errors.As(err, &oe) || oe.Code != "invalid_client" {
		t.Errorf("wrong secret: %v, want invalid_client", err)
	}
}

func TestExchangeSessionTokenAndRefresh(t *testing.T) {
	t.Parallel()
	srv := shopifyfake.New(t, shopifyfake.Options{})
	ctx := context.Background()
	tok, err := admin.ExchangeSessionToken(ctx, srv.HTTPClient(), srv.ShopDomain(), srv.ClientID(), srv.ClientSecret(), srv.SessionToken())
	if err != nil {
		t.Fatalf("ExchangeSessionToken: %v", err)
	}
	if tok.ExpiresAt.IsZero() || tok.RefreshToken == "" {
		t.Fatalf("expected an expiring token with refresh token, got %s", tok)
	}
	form := srv.OAuthRequests()[0]
	for k, v := range map[string]string{
		"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
		"subject_token_type":   "urn:ietf:params:oauth:token-type:id_token",
		"requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
		"expiring":             "1",
		"client_id":            srv.ClientID(),
	} {
		if form.Get(k) != v {
			t.Errorf("form %s = %q, want %q", k, form.Get(k), v)
		}
	}

	// A forged session token (wrong signature) is refused.
	forged := srv.SessionToken()
	forged = forged[:len(forged)-2] + "xx"
	if _, err := admin.ExchangeSessionToken(ctx, srv.HTTPClient(), srv.ShopDomain(), srv.ClientID(), srv.ClientSecret(), forged); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Errorf("forged session token: %v, want EUNAUTHORIZED", err)
	}

	// Refresh rotates both tokens; the old refresh token then fails.
	next, err := admin.RefreshToken(ctx, srv.HTTPClient(), srv.ShopDomain(), srv.ClientID(), srv.ClientSecret(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	if next.AccessToken == tok.AccessToken || next.RefreshToken == tok.RefreshToken || next.ExpiresAt.IsZero() {
		t.Errorf("refresh did not rotate: %s -> %s", tok, next)
	}
	last := srv.OAuthRequests()
	if f := last[len(last)-1]; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != tok.RefreshToken {
		t.Errorf("refresh form = %v", f)
	}
	if _, err := admin.RefreshToken(ctx, srv.HTTPClient(), srv.ShopDomain(), srv.ClientID(), srv.ClientSecret(), tok.RefreshToken); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Errorf("reused refresh token: %v, want EUNAUTHORIZED", err)
	}
	c := admin.NewClient(srv.ShopDomain(), next.AccessToken, "", admin.WithBaseURL(srv.URL))
	if _, err := c.Shop(ctx); err != nil {
		t.Errorf("Shop with refreshed token: %v", err)
	}
}

func TestOAuthRejectsBadInputWithoutSending(t *testing.T) {
	t.Parallel()
	srv := shopifyfake.New(t, shopifyfake.Options{})
	ctx := context.Background()
	for _, shop := range []string{"evil.example.com", "http://x.myshopify.com", "x.myshopify.com.evil.com", "", "a/b.myshopify.com"} {
		if _, err := admin.ExchangeCode(ctx, srv.HTTPClient(), shop, "id", "secret", "code"); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("shop %q: %v, want EINVALID", shop, err)
		}
	}
	if _, err := admin.RefreshToken(ctx, srv.HTTPClient(), srv.ShopDomain(), "id", "secret", ""); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("empty refresh token: %v", err)
	}
	if _, err := admin.ExchangeSessionToken(ctx, srv.HTTPClient(), srv.ShopDomain(), "", "secret", "jwt"); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("empty client id: %v", err)
	}
	if n := len(srv.OAuthRequests()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

func TestTokenNeedsRefresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		expires time.Time
		want    bool
	}{
		{time.Time{}, false}, // non-expiring offline token
		{now.Add(time.Hour), false},
		{now.Add(5*time.Minute + time.Second), false},
		{now.Add(5 * time.Minute), true},
		{now.Add(time.Minute), true},
		{now.Add(-time.Minute), true},
	}
	for _, tc := range cases {
		if got := (admin.Token{AccessToken: "x", ExpiresAt: tc.expires}).NeedsRefresh(now); got != tc.want {
			t.Errorf("NeedsRefresh(expires %v) = %t, want %t", tc.expires, got, tc.want)
		}
	}
}

func TestTokenStringHidesSecrets(t *testing.T) {
	t.Parallel()
	tok := admin.Token{AccessToken: "shpat_secret", RefreshToken: "shprt_secret", Scope: "read_orders"}
	if s := tok.String(); strings.Contains(s, "secret") || !strings.Contains(s, "read_orders") {
		t.Errorf("String() = %q", s)
	}
	if s := tok.LogValue().String(); strings.Contains(s, "secret") {
		t.Errorf("LogValue() = %q", s)
	}
}

func TestInstallURL(t *testing.T) {
	t.Parallel()
	got := admin.InstallURL("shop-1.myshopify.com", "cid", "read_orders,write_discounts", "https://app.example/auth/callback", "n0nce")
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "https" || u.Host != "shop-1.myshopify.com" || u.Path != "/admin/oauth/authorize" ||
		q.Get("client_id") != "cid" || q.Get("scope") != "read_orders,write_discounts" ||
		q.Get("redirect_uri") != "https://app.example/auth/callback" || q.Get("state") != "n0nce" || q.Has("grant_options[]") {
		t.Errorf("InstallURL = %s", got)
	}
	if admin.InstallURL("evil.com", "cid", "s", "r", "n") != "" {
		t.Error("InstallURL accepted a non-myshopify domain")
	}
}
