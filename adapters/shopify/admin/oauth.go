package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// OAuth constants from Shopify's token exchange documentation.
const (
	GrantTypeTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantTypeRefreshToken      = "refresh_token"
	TokenTypeIDToken           = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeOfflineAccess     = "urn:shopify:params:oauth:token-type:offline-access-token"
	refreshEarly               = 5 * time.Minute
	maxTokenResponseBytes      = 1 << 20
	defaultOAuthRequestTimeout = 15 * time.Second
)

var shopDomainRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`)

// ValidShopDomain reports whether shop is a permanent *.myshopify.com
// domain. OAuth requests carry the client secret, so they are only ever
// sent to such a domain (never to a host taken unchecked from a request).
func ValidShopDomain(shop string) bool { return shopDomainRE.MatchString(shop) }

// Token is an Admin API access token as returned by Shopify's token
// endpoint.
type Token struct {
	AccessToken string
	Scope       string
	// ExpiresAt is zero for a non-expiring offline token.
	ExpiresAt time.Time
	// RefreshToken is set for expiring offline tokens.
	RefreshToken string
	// RefreshExpiresAt is when RefreshToken stops working (zero if
	// unknown or none).
	RefreshExpiresAt time.Time
}

// NeedsRefresh reports whether an expiring token should be refreshed at
// now (five minutes before it expires). Non-expiring tokens never do.
func (t Token) NeedsRefresh(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Add(refreshEarly).Before(t.ExpiresAt)
}

// String hides the secrets so a Token printed by mistake leaks nothing.
func (t Token) String() string {
	return fmt.Sprintf("admin.Token{scope=%q expires=%s refresh=%t}", t.Scope, t.ExpiresAt.Format(time.RFC3339), t.RefreshToken != "")
}

// LogValue hides the secrets from slog.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("scope", t.Scope), slog.Time("expires_at", t.ExpiresAt), slog.Bool("has_refresh_token", t.RefreshToken != ""))
}

// OAuthError is a non-2xx answer of the token endpoint. It unwraps to a
// *core.Error: EUNAUTHORIZED for 400/401/403 (bad code, expired session
// or refresh token: the merchant must authorize again), EINTERNAL
// otherwise.
type OAuthError struct {
	StatusCode  int
	Code        string // OAuth "error", e.g. invalid_grant
	Description string
}

func (e *OAuthError) Error() string {
	s := fmt.Sprintf("shopify oauth: status %d", e.StatusCode)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Unwrap returns the equivalent *core.Error.
func (e *OAuthError) Unwrap() error {
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return core.Errorf(core.EUNAUTHORIZED, "shopify refused the token request (%s)", e.Code)
	}
	return core.Errorf(core.EINTERNAL, "shopify token endpoint failed with status %d", e.StatusCode)
}

// InstallURL returns the authorization URL the merchant is sent to for an
// offline-access install. It returns "" when shop is not a valid
// *.myshopify.com domain.
func InstallURL(shop, clientID, scopes, redirectURI, state string) string {
	if !ValidShopDomain(shop) {
		return ""
	}
	q := url.Values{}
	q.Set("client_id", clientID)
	q.Set("scope", scopes)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	return "https://" + shop + "/admin/oauth/authorize?" + q.Encode()
}

// ExchangeCode runs the authorization code grant. It asks for an expiring
// offline token (expiring=1), which Shopify requires of public apps
// created since April 2026 and of all public apps from 2027.
//
// httpClient may be nil (a client with a 15 s timeout is used). Tests
// redirect the request with a custom Transport; the URL itself is always
// https://{shop}/admin/oauth/access_token.
func ExchangeCode(ctx context.Context, httpClient *http.Client, shop, clientID, clientSecret, code string) (Token, error) {
	if code == "" {
		return Token{}, core.Errorf(core.EINVALID, "oauth: empty authorization code")
	}
	return tokenRequest(ctx, httpClient, shop, url.Values{
		"client_id":     {clientID},
		"client_secret": {clientSecret},
		"code":          {code},
		"expiring":      {"1"},
	})
}

// ExchangeSessionToken exchanges an embedded app's session token (the
// App Bridge id_token JWT; verify it before calling) for an expiring
// offline access token.
func ExchangeSessionToken(ctx context.Context, httpClient *http.Client, shop, clientID, clientSecret, sessionToken string) (Token, error) {
	if sessionToken == "" {
		return Token{}, core.Errorf(core.EINVALID, "oauth: empty session token")
	}
	return tokenRequest(ctx, httpClient, shop, url.Values{
		"client_id":            {clientID},
		"client_secret":        {clientSecret},
		"grant_type":           {GrantTypeTokenExchange},
		"subject_token":        {sessionToken},
		"subject_token_type":   {TokenTypeIDToken},
		"requested_token_type": {TokenTypeOfflineAccess},
		"expiring":             {"1"},
	})
}

// RefreshToken trades an expiring offline token's refresh token for a new
// access token. Shopify rotates the refresh token: store the returned
// Token in full, replacing the old one.
func RefreshToken(ctx context.Context, httpClient *http.Client, shop, clientID, clientSecret, refreshToken string) (Token, error) {
	if refreshToken == "" {
		return Token{}, core.Errorf(core.EINVALID, "oauth: empty refresh token")
	}
	return tokenRequest(ctx, httpClient, shop, url.Values{
		"client_id":     {clientID},
		"client_secret": {clientSecret},
		"grant_type":    {GrantTypeRefreshToken},
		"refresh_token": {refreshToken},
	})
}

type tokenResponse struct {
	AccessToken           string      `json:"access_token"`
	Scope                 string      `json:"scope"`
	ExpiresIn             json.Number `json:"expires_in"`
	RefreshToken          string      `json:"refresh_token"`
	RefreshTokenExpiresIn json.Number `json:"refresh_token_expires_in"`
}

func tokenRequest(ctx context.Context, httpClient *http.Client, shop string, form url.Values) (Token, error) {
	if !ValidShopDomain(shop) {
		return Token{}, core.Errorf(core.EINVALID, "oauth: %q is not a myshopify.com domain", shop)
	}
	if form.Get("client_id") == "" || form.Get("client_secret") == "" {
		return Token{}, core.Errorf(core.EINVALID, "oauth: client id and secret are required")
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: defaultOAuthRequestTimeout}
	}
	endpoint := "https://" + shop + "/admin/oauth/access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("shopify oauth: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// Expiry is measured from before the request, so it errs early.
	start := time.Now()
	resp, err := httpClient.Do(req)
	if err != nil {
		// The error text may include the URL but never the form body.
		return Token{}, fmt.Errorf("shopify oauth: post token request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes))
	if err != nil {
		return Token{}, fmt.Errorf("shopify oauth: read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		oe := &OAuthError{StatusCode: resp.StatusCode}
		var body struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(raw, &body) == nil {
			oe.Code, oe.Description = body.Error, body.ErrorDescription
		}
		return Token{}, oe
	}
	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return Token{}, fmt.Errorf("shopify oauth: decode token response: %w", err)
	}
	if tr.AccessToken == "" {
		return Token{}, fmt.Errorf("shopify oauth: token response without access_token")
	}
	t := Token{AccessToken: tr.AccessToken, Scope: tr.Scope, RefreshToken: tr.RefreshToken}
	if t.ExpiresAt, err = expiry(start, tr.ExpiresIn); err != nil {
		return Token{}, err
	}
	if t.RefreshExpiresAt, err = expiry(start, tr.RefreshTokenExpiresIn); err != nil {
		return Token{}, err
	}
	return t, nil
}

func expiry(start time.Time, secs json.Number) (time.Time, error) {
	if secs == "" {
		return time.Time{}, nil
	}
	n, err := secs.Int64()
	if err != nil || n <= 0 {
		return time.Time{}, fmt.Errorf("shopify oauth: bad expiry %q in token response", secs)
	}
	return start.Add(time.Duration(n) * time.Second), nil
}
