package core

import "context"

// ShopCreator stores a new shop together with its admin token.
type ShopCreator interface {
	CreateShop(ctx context.Context, s Shop, adminToken string) (Shop, error)
}

// ShopProvisioner is the operator's use case of registering a shop: it
// checks the platform's domain rules, generates the secrets the bridge
// owns (the customer-token key, a WooCommerce webhook secret when none was
// given, the shop's admin token) and stores the shop.
type ShopProvisioner struct {
	Store ShopCreator
	// Token returns prefix followed by n random bytes, hex-encoded.
	Token func(prefix string, n int) string
	// CheckDomain, per platform (optional), refuses a domain the platform
	// would never send.
	CheckDomain map[Platform]func(domain string) error
}

// Provision stores shop and returns it with its admin token (shown once).
func (p *ShopProvisioner) Provision(ctx context.Context, shop Shop) (Shop, string, error) {
	if check := p.CheckDomain[shop.Platform]; check != nil {
		if err := check(shop.Domain); err != nil {
			return Shop{}, "", err
		}
	}
	shop.Secrets.CustomerKey = p.Token("", 32)
	if shop.Platform == PlatformWooCommerce && shop.Secrets.WebhookSecret == "" {
		shop.Secrets.WebhookSecret = p.Token("whsec_", 24)
	}
	token := p.Token("cba_", 24)
	out, err := p.Store.CreateShop(ctx, shop, token)
	if err != nil {
		return Shop{}, "", err
	}
	return out, token, nil
}
