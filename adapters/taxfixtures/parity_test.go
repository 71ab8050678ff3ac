package taxfixtures_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parse returns the German order as each platform's normalizer sees it,
// with the WooCommerce refund completed from the refunds endpoint (as the
// worker does).
func parse(t *testing.T) map[core.Platform]core.Order {
	t.Helper()
	sh, err := shopify.ParseOrder(read(t, "shopify-order-de-taxes-included.json"), shopify.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	wc, err := woocommerce.ParseOrder(read(t, "woocommerce-order-de-prices-include-tax.json"), woocommerce.DefaultParseOptions())
	if err != nil {
		t.Fatal(err)
	}
	refunds, err := woocommerce.ParseRefunds(read(t, "woocommerce-refunds-de-4711.json"))
	if err != nil {
		t.Fatal(err)
	}
	wc.Refunds = refunds
	return map[core.Platform]core.Order{core.PlatformShopify: sh, core.PlatformWooCommerce: wc}
}

// The same German order (prices include 19 % and 7 % VAT, a 10 % code
// across both lines, shipping, a partial refund) has the same net and tax
// per line on both platforms, and earns the same, on the net and on the
// gross base, before and after the refund.
func TestGermanOrderEarnsTheSameOnBothPlatforms(t *testing.T) {
	t.Parallel()
	orders := parse(t)
	wantLines := [][2]string{{"180.00", "34.20"}, {"54.00", "3.78"}}
	for p, o := range orders {
		if len(o.Lines) != 2 {
			t.Fatalf("%s: lines %+v", p, o.Lines)
		}
		for i, l := range o.Lines {
			if !l.NetTotal.Equal(decimal.RequireFromString(wantLines[i][0])) || !l.Tax.Equal(decimal.RequireFromString(wantLines[i][1])) {
				t.Errorf("%s line %d: net %s tax %s, want %s and %s", p, i, l.NetTotal, l.Tax, wantLines[i][0], wantLines[i][1])
			}
		}
		if len(o.Refunds) != 1 || !o.Refunds[0].LinesKnown || len(o.Refunds[0].Lines) != 1 || o.Refunds[0].Lines[0].Quantity != 1 {
			t.Errorf("%s: refunds %+v", p, o.Refunds)
		}
	}
	rules := core.NewRuleSet([]core.Rule{{Target: core.TargetDefault, Beneficiary: core.BeneficiaryBuyer, Mode: core.ModePercent, Value: decimal.NewFromInt(5)}})
	buyer := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	for _, c := range []struct {
		base                core.EarnBase
		before, afterRefund [2]string
	}{
		{core.EarnOnNet, [2]string{"9.00", "2.70"}, [2]string{"9.00", "1.80"}},
		{core.EarnOnGross, [2]string{"10.71", "2.89"}, [2]string{"10.71", "1.93"}},
	} {
		for p, o := range orders {
			rates := core.FreezeRatesWith(core.ShopSettings{EarnBase: c.base}, o, nil, rules, buyer, nil)
			st := core.OrderState{Order: o, Rates: rates, Refunds: map[string]core.Refund{}}
			check := func(when string, want [2]string) {
				t.Helper()
				got, err := core.DesiredCredit(st)
				if err != nil {
					t.Fatal(err)
				}
				for i, l := range o.Lines {
					if g := got[l.LineID+"/buyer"]; !g.Equal(decimal.RequireFromString(want[i])) {
						t.Errorf("%s, %s base, %s: line %d earns %s, want %s", p, c.base, when, i, g, want[i])
					}
				}
			}
			check("before the refund", c.before)
			for _, r := range o.Refunds {
				st.Refunds[r.RefundID] = r
			}
			check("after the refund", c.afterRefund)
		}
	}
}
