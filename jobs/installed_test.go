package jobs_test

import (
	"context"
	"testing"

	"github.com/creditbridge/creditbridge/core"
)

// Installed tells app/uninstalled and shop/redact whether the app is
// still installed: Shopify (here the schema-checking fake) answers the
// shop query for a live token and refuses a revoked one.
func TestShopifyInstalledAsksTheAdminAPI(t *testing.T) {
	e := newShopifyEnv(t)
	ctx := context.Background()
	live := e.createShop(t, core.ShopSettings{}, core.ShopSecrets{AccessToken: e.fake.AccessToken()})
	installed, verified, err := e.clients.Installed(ctx, live)
	if err != nil || !installed || !verified {
		t.Fatalf("live token: installed=%v verified=%v err=%v", installed, verified, err)
	}
	revoked := live
	revoked.Secrets.AccessToken = "shpat_revoked_by_uninstall"
	installed, verified, err = e.clients.Installed(ctx, revoked)
	if err != nil || installed || !verified {
		t.Fatalf("revoked token: installed=%v verified=%v err=%v", installed, verified, err)
	}
	none := live
	none.Secrets.AccessToken = ""
	installed, verified, err = e.clients.Installed(ctx, none)
	if err != nil || installed || verified {
		t.Fatalf("no token: installed=%v verified=%v err=%v", installed, verified, err)
	}
}
