package app

import (
	_ "embed"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// TOML is the app configuration file as deployed.
//
//go:embed shopify.app.toml
var TOML []byte

// Config is the part of shopify.app.toml creditbridge relies on.
type Config struct {
	ClientID       string `toml:"client_id"`
	Name           string `toml:"name"`
	Handle         string `toml:"handle"`
	ApplicationURL string `toml:"application_url"`
	Embedded       bool   `toml:"embedded"`
	AccessScopes   struct {
		Scopes               string `toml:"scopes"`
		UseLegacyInstallFlow bool   `toml:"use_legacy_install_flow"`
	} `toml:"access_scopes"`
	Auth struct {
		RedirectURLs []string `toml:"redirect_urls"`
	} `toml:"auth"`
	Webhooks struct {
		APIVersion    string         `toml:"api_version"`
		Subscriptions []Subscription `toml:"subscriptions"`
	} `toml:"webhooks"`
	AppProxy *struct {
		URL     string `toml:"url"`
		Subpath string `toml:"subpath"`
		Prefix  string `toml:"prefix"`
	} `toml:"app_proxy"`
}

// Subscription is one [[webhooks.subscriptions]] entry.
type Subscription struct {
	Topics           []string `toml:"topics"`
	ComplianceTopics []string `toml:"compliance_topics"`
	URI              string   `toml:"uri"`
	Filter           string   `toml:"filter"`
	IncludeFields    []string `toml:"include_fields"`
}

// validateSubscriptions applies the checks Shopify CLI makes before it
// deploys [webhooks] (validateInnerSubscriptions in the CLI's
// packages/app/src/cli/models/extensions/specifications/
// app_config_webhook_schemas/webhook_subscription_schema): every entry
// has topics or compliance_topics, no topic is subscribed twice with the
// same uri and filter, and no compliance topic twice with the same uri.
func (c Config) validateSubscriptions() error {
	seen := map[string]bool{}
	seenCompliance := map[string]bool{}
	for i, s := range c.Webhooks.Subscriptions {
		if len(s.Topics) == 0 && len(s.ComplianceTopics) == 0 {
			return fmt.Errorf("shopify.app.toml: webhooks.subscriptions[%d]: either topics or compliance_topics must be added", i)
		}
		for _, t := range s.Topics {
			k := t + "::" + s.URI + "::" + s.Filter
			if seen[k] {
				return fmt.Errorf("shopify.app.toml: webhooks.subscriptions[%d]: topic %s is subscribed twice with the same uri and filter (Shopify CLI refuses duplicate subscriptions)", i, t)
			}
			seen[k] = true
		}
		for _, t := range s.ComplianceTopics {
			k := t + "::" + s.URI
			if seenCompliance[k] {
				return fmt.Errorf("shopify.app.toml: webhooks.subscriptions[%d]: compliance topic %s is subscribed twice with the same uri", i, t)
			}
			seenCompliance[k] = true
		}
	}
	return nil
}

// Parse decodes an app configuration file. Keys creditbridge does not
// model are allowed (the CLI knows many more), but a key in a table it
// models that it does not know is reported: it is most likely a typo.
func Parse(b []byte) (Config, error) {
	var c Config
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return c, fmt.Errorf("shopify.app.toml: %w", err)
	}
	for _, k := range md.Undecoded() {
		switch k[0] {
		case "webhooks", "auth", "app_proxy":
			return c, fmt.Errorf("shopify.app.toml: unknown key %s", k)
		}
	}
	return c, c.validateSubscriptions()
}

// Load parses the embedded shopify.app.toml.
func Load() (Config, error) { return Parse(TOML) }

// ResolveURL resolves a URL of the configuration the way Shopify CLI does
// before it sends the configuration to Shopify (prependApplicationUrl in
// the CLI's packages/app/.../validation/url_prepender.ts): a value that
// starts with "/" is appended to application_url with its trailing slash
// removed, so "/webhooks" under "https://h/shopify/admin" becomes
// "https://h/shopify/admin/webhooks", not "https://h/webhooks". Any other
// value is used as it is.
func ResolveURL(raw, applicationURL string) string {
	if applicationURL == "" || !strings.HasPrefix(raw, "/") {
		return raw
	}
	return strings.TrimRight(applicationURL, "/") + raw
}

// Endpoint is one URL Shopify sends requests to, resolved.
type Endpoint struct {
	// Kind is "application_url", "redirect_url", "webhook",
	// "compliance_webhook" or "app_proxy".
	Kind string
	// Topic is the webhook topic (webhooks only).
	Topic string
	// Method is the HTTP method Shopify (or the browser) uses.
	Method string
	// URL is the resolved absolute URL.
	URL *url.URL
}

// Endpoints resolves every URL of c: application_url, each redirect URL,
// each webhook and compliance topic's uri, and the app proxy url. The app
// proxy forwards https://{shop}/{prefix}/{subpath}/<rest> to url/<rest>,
// so it yields the proxy url itself plus extra (e.g. "/statement") for
// each given sub-path, with the methods given.
func (c Config) Endpoints(proxyPaths map[string]string) ([]Endpoint, error) {
	var out []Endpoint
	add := func(kind, topic, method, raw string) error {
		resolved := ResolveURL(raw, c.ApplicationURL)
		u, err := url.Parse(resolved)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("shopify.app.toml: %s %s: %q does not resolve to an absolute https URL", kind, topic, raw)
		}
		out = append(out, Endpoint{Kind: kind, Topic: topic, Method: method, URL: u})
		return nil
	}
	if err := add("application_url", "", "GET", c.ApplicationURL); err != nil {
		return nil, err
	}
	for _, r := range c.Auth.RedirectURLs {
		if err := add("redirect_url", "", "GET", r); err != nil {
			return nil, err
		}
	}
	for _, s := range c.Webhooks.Subscriptions {
		for _, t := range s.Topics {
			if err := add("webhook", t, "POST", s.URI); err != nil {
				return nil, err
			}
		}
		for _, t := range s.ComplianceTopics {
			if err := add("compliance_webhook", t, "POST", s.URI); err != nil {
				return nil, err
			}
		}
	}
	if p := c.AppProxy; p != nil {
		if err := add("app_proxy", "", "GET", p.URL); err != nil {
			return nil, err
		}
		base := strings.TrimRight(ResolveURL(p.URL, c.ApplicationURL), "/")
		for _, sub := range slices.Sorted(maps.Keys(proxyPaths)) {
			if err := add("app_proxy", sub, proxyPaths[sub], base+sub); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
