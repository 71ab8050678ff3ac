package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/core"
)

type recordingCreator struct {
	shop  core.Shop
	token string
}

func (r *recordingCreator) CreateShop(_ context.Context, s core.Shop, tok string) (core.Shop, error) {
	r.shop, r.token = s, tok
	s.ID = 7
	return s, nil
}

func TestShopProvisionerGeneratesTheBridgesSecrets(t *testing.T) {
	t.Parallel()
	store := &recordingCreator{}
	n := 0
	p := &core.ShopProvisioner{Store: store, Token: func(prefix string, size int) string {
		n++
		return prefix + strings.Repeat("x", size) + string(rune('0'+n))
	}, CheckDomain: map[core.Platform]func(string) error{
		core.PlatformShopify: func(d string) error {
			if !strings.HasSuffix(d, ".myshopify.com") {
				return core.Errorf(core.EINVALID, "not a myshopify domain")
			}
			return nil
		},
	}}
	ctx := context.Background()

	out, tok, err := p.Provision(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://woo.example", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != 7 || tok == "" || tok != store.token || !strings.HasPrefix(tok, "cba_") {
		t.Fatalf("shop %d, token %q (stored %q)", out.ID, tok, store.token)
	}
	if !strings.HasPrefix(store.shop.Secrets.WebhookSecret, "whsec_") || store.shop.Secrets.CustomerKey == "" {
		t.Fatalf("WooCommerce secrets not generated: %+v", store.shop.Secrets)
	}
	// A webhook secret the operator gave is kept.
	if _, _, err := p.Provision(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://woo.example", Currency: "EUR",
		Secrets: core.ShopSecrets{WebhookSecret: "given"}}); err != nil || store.shop.Secrets.WebhookSecret != "given" {
		t.Fatalf("given webhook secret replaced by %q (%v)", store.shop.Secrets.WebhookSecret, err)
	}
	// Shopify: no webhook secret of its own (the app's secret signs), the domain rule applies.
	if _, _, err := p.Provision(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "a.myshopify.com", Currency: "EUR"}); err != nil ||
		store.shop.Secrets.WebhookSecret != "" {
		t.Fatalf("shopify: secret %q, err %v", store.shop.Secrets.WebhookSecret, err)
	}
	store.token = ""
	_, _, err = p.Provision(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "evil.example.com", Currency: "EUR"})
	if core.ErrorCode(err) != core.EINVALID || store.token != "" {
		t.Fatalf("bad domain: err %v, stored %v", err, store.token != "")
	}
}
