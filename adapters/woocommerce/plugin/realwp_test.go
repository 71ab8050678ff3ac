package plugin_test

// TestRealWordPress drives a running WordPress + WooCommerce with this
// plugin active and registered (nothing is downloaded or installed here):
// the plugin's admin screens and the storefront lines in Debian's
// chromium, headless, at 1280 and 390 px, with an axe-core check of the
// plugin's own markup (serious or critical violations fail; those of
// WordPress, WooCommerce or the theme elsewhere on the page are logged).
//
//	REALWP_URL=http://127.0.0.1:8090      the site (unset: the test skips)
//	REALWP_LANG=de|en                     the site's language (default de)
//	REALWP_ADMIN=user:password            an administrator (admin screens)
//	REALWP_CUSTOMER=user:password         a customer (cart, checkout, My Account)
//	REALWP_PRODUCT=/product/teekanne/     a simple product that earns credit
//	REALWP_VARIABLE=/product/sencha/      optional: a variable product
//	REALWP_REGISTER="URL KEY"             optional: first register the plugin with the
//	                                      bridge at URL (API key KEY) on the settings page and
//	                                      add a rule for all products (2,5 %)
//	REALWP_CATEGORY=15                    optional, with REALWP_REGISTER: a 5 % rule for
//	                                      this product category too
//	REALWP_TIER=Silber                    optional: the customer's tier My Account must show
//	REALWP_ORDER=1                        optional: place the order (cash on delivery must
//	                                      be on) at 1280 px, classic or block checkout
//	REALWP_ADDRESS="Hauptstr. 5;10115"    optional: the customer saves this billing street and
//	                                      postcode under My Account > Addresses at 1280 px (the
//	                                      rest of their billing address must be complete)
//	REALWP_REFERRAL="PETRA5 partnerin:pw" optional, at 1280 px (realwp_referral_test.go): the
//	                                      code of an active partner linked to this WooCommerce
//	                                      user, whose shop has a partner1 rule; the customer
//	                                      places one order after following /?ref=CODE (the
//	                                      HttpOnly cookie is checked) and one with the code typed
//	                                      at checkout, the partner one through her own link; the
//	                                      orders must carry _creditbridge_partner (REST API, as
//	                                      REALWP_ADMIN), the partner's statement must show a
//	                                      level-1 earn for both referred orders without the
//	                                      buyer's billing data, and her own order must be among
//	                                      the bridge's referral refusals; her My Account shows the
//	                                      level-1 bookings and her code. Places three orders
//	                                      (cash on delivery must be on; the site must let
//	                                      WooCommerce deliver webhooks to the bridge's port, see
//	                                      http_allowed_safe_ports). Needs:
//	REALWP_BRIDGE="URL TOKEN SHOP"        the bridge, its admin token and the shop's id there
//
// Screenshots go to $CREDITBRIDGE_SCREENSHOTS (default
// $TMPDIR/creditbridge-screenshots/realwp). axe-core comes from
// adapters/httpapi/testdata/browser (npm ci there). The test adds the
// product to the customer's cart; it places no order and changes no
// setting (a rule with an invalid value is refused by the form), unless
// REALWP_REGISTER asks for the registration and rules, or REALWP_ORDER or
// REALWP_REFERRAL for orders. Classic and block checkout are whichever
// the site's checkout page uses: run once per mode.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/creditbridge/creditbridge/internal/browsertest"
)

type wpBrowser struct {
	*browsertest.Page
	t    *testing.T
	base string
	axe  string
	de   bool
}

func (b *wpBrowser) pick(de, en string) string {
	if b.de {
		return de
	}
	return en
}

func (b *wpBrowser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.Run(what, actions...)
}

// shot screenshots the viewport: it is tall already, and a full-page
// screenshot resizes it, and the block checkout re-lays itself out on a
// resize, so what it caught was not what a visitor sees.
func (b *wpBrowser) shot(name string) { b.Shot(name) }

func wpEval[T any](b *wpBrowser, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	return browsertest.Eval[T](b.Page, js, opts...)
}

// waitText waits until an element matching sel contains want.
func (b *wpBrowser) waitText(sel, want string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Only what a person sees: hidden copies (a collapsed summary) do not count.
		s, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`(function(){var a=document.querySelectorAll(`+strconv.Quote(sel)+
			`);return Array.prototype.filter.call(a,function(e){return e.getClientRects().length>0&&getComputedStyle(e).visibility!=="hidden";}).map(function(e){return e.innerText;}).join("\n");})()`))
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			b.shot("FAILED-wait")
			b.t.Fatalf("%s: %s never showed %q; it shows %q", b.Name, sel, want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check screenshots the page and runs axe-core: violations inside scope
// (the plugin's markup) fail, others are logged.
func (b *wpBrowser) check(name, scope string) {
	b.t.Helper()
	b.shot(name)
	for _, v := range b.Axe(b.axe, scope) {
		if v.Inside {
			b.t.Errorf("%s %s: accessibility: %s", b.Name, name, v.Text)
		} else {
			b.t.Logf("%s %s: accessibility outside the plugin (WordPress, WooCommerce or theme): %s", b.Name, name, v.Text)
		}
	}
}

// login signs in through wp-login.php.
func (b *wpBrowser) login(cred string) {
	b.t.Helper()
	user, pass, _ := strings.Cut(cred, ":")
	// Logging out asks for confirmation; clearing the cookies (the auth
	// cookies are HttpOnly) is simpler.
	b.run("clear cookies", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	b.run("login form "+user, chromedp.Navigate(b.base+"/wp-login.php"), chromedp.WaitVisible(chromedp.CSS("#user_login")),
		chromedp.SetValue(chromedp.CSS("#user_login"), user), chromedp.SetValue(chromedp.CSS("#user_pass"), pass),
		chromedp.Click(chromedp.CSS("#wp-submit")), chromedp.Sleep(500*time.Millisecond))
	if strings.Contains(wpEval[string](b, `location.pathname`), "wp-login.php") {
		b.shot("FAILED-login")
		b.t.Fatalf("%s: login as %s failed", b.Name, user)
	}
}

func TestRealWordPress(t *testing.T) {
	base := strings.TrimRight(os.Getenv("REALWP_URL"), "/")
	if base == "" {
		t.Skip("REALWP_URL is not set: this test drives a running WordPress + WooCommerce with the plugin active and registered (see the comment at the top of realwp_test.go); it never installs one")
	}
	chromium := browsertest.Chromium()
	if chromium == "" {
		t.Fatal("REALWP_URL is set but chromium is not installed (apt-get install -y chromium, or set CHROMIUM)")
	}
	axe := filepath.Join("..", "..", "httpapi", "testdata", "browser", "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(axe); err != nil {
		t.Fatal("REALWP_URL is set but axe-core is not installed (npm ci --prefix adapters/httpapi/testdata/browser)")
	}
	dir := browsertest.ScreenshotDir(t, "realwp")
	lang := os.Getenv("REALWP_LANG")
	if lang == "" {
		lang = "de"
	}
	actx := browsertest.Allocator(t, chromium, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	register := os.Getenv("REALWP_REGISTER")
	for _, width := range []int64{1280, 390} {
		page, cancel := browsertest.NewPage(t, actx, dir, fmt.Sprintf("%d-%s", width, lang), width, 1800)
		page.Timeout, page.Viewport = 45*time.Second, true
		b := &wpBrowser{Page: page, t: t, base: base, axe: axe, de: lang == "de"}
		if cred := os.Getenv("REALWP_ADMIN"); cred != "" {
			realWPAdmin(b, cred, register)
			register = "" // once
		}
		if cred := os.Getenv("REALWP_CUSTOMER"); cred != "" {
			realWPStorefront(b, cred)
		}
		if spec := os.Getenv("REALWP_REFERRAL"); spec != "" && width == 1280 {
			realWPReferral(b, spec)
		}
		cancel()
	}
}

// realWPAdmin: the settings page (registered, health box) and the rules
// page (list, categories, names per language, a refused rule).
func realWPAdmin(b *wpBrowser, cred, register string) {
	b.login(cred)
	if register != "" {
		url, key, _ := strings.Cut(register, " ")
		b.run("register", chromedp.Navigate(b.base+"/wp-admin/admin.php?page=creditbridge"), chromedp.WaitVisible(chromedp.CSS("#creditbridge_bridge_url")),
			chromedp.SetValue(chromedp.CSS("#creditbridge_bridge_url"), url), chromedp.SetValue(chromedp.CSS("#creditbridge_api_key"), key))
		b.check("admin-settings-form", ".wrap")
		b.run("register submit", chromedp.Click(chromedp.CSS(".wrap form [type=submit]")), chromedp.Sleep(time.Second), chromedp.WaitVisible(chromedp.CSS(".wrap h1")))
		b.waitText(".wrap", b.pick("registriert als Shop", "registered as shop"))
		rules := []string{"default  percent 2,5"}
		if cat := os.Getenv("REALWP_CATEGORY"); cat != "" {
			rules = append(rules, "collection "+cat+" percent 5")
		}
		for _, r := range rules {
			f := strings.Split(r, " ")
			b.run("rule "+r, chromedp.Navigate(b.base+"/wp-admin/admin.php?page=creditbridge-rules"), chromedp.WaitVisible(chromedp.CSS("#creditbridge-value")),
				chromedp.SetValue(chromedp.CSS("#creditbridge-target"), f[0]), chromedp.SetValue(chromedp.CSS("#creditbridge-mode"), f[2]),
				chromedp.SetValue(chromedp.CSS("#creditbridge-value"), f[3]))
			if f[1] != "" {
				b.run("category", chromedp.SetValue(chromedp.CSS("#creditbridge-category"), f[1]))
			}
			b.run("save rule", chromedp.Click(chromedp.Search(`//form[.//*[@id="creditbridge-value"]]//*[@type="submit"]`)), chromedp.Sleep(time.Second),
				chromedp.WaitVisible(chromedp.CSS(".wrap h1")))
			b.waitText(".notice", b.pick("Regel gespeichert.", "Rule saved."))
		}
	}
	b.run("settings", chromedp.Navigate(b.base+"/wp-admin/admin.php?page=creditbridge"), chromedp.WaitVisible(chromedp.CSS(".wrap h1")))
	b.waitText(".wrap", b.pick("registriert als Shop", "registered as shop"))
	b.check("admin-settings", ".wrap")
	b.run("rules", chromedp.Navigate(b.base+"/wp-admin/admin.php?page=creditbridge-rules"), chromedp.WaitVisible(chromedp.CSS(".wrap h1")))
	b.waitText(".wrap", b.pick("Produktkategorie", "Product category"))
	b.waitText(".wrap", "discount_labels.de")
	b.check("admin-rules", ".wrap")
	// A value that is not a number is refused with a message; nothing is stored.
	b.run("bad rule", chromedp.SetValue(chromedp.CSS("#creditbridge-target"), "default"), chromedp.SetValue(chromedp.CSS("#creditbridge-mode"), "percent"),
		chromedp.SetValue(chromedp.CSS("#creditbridge-value"), "zehn"),
		chromedp.Evaluate[chromedp.Void](`HTMLFormElement.prototype.submit.call(document.querySelector("#creditbridge-value").form)`), chromedp.Sleep(500*time.Millisecond),
		chromedp.WaitVisible(chromedp.CSS(".wrap h1")))
	b.waitText(".notice", b.pick("Zahl", "number"))
	b.check("admin-rules-error", ".wrap")
}

// realWPStorefront: the earn line on the product page, in the cart and
// at checkout (classic or block, whichever the site uses), and My Account.
func realWPStorefront(b *wpBrowser, cred string) {
	b.login(cred)
	earn := b.pick("erhältst du", "You earn")
	earnSel := ".creditbridge-earn, .creditbridge-block-earn"
	if p := os.Getenv("REALWP_VARIABLE"); p != "" {
		b.run("variable product", chromedp.Navigate(b.base+p), chromedp.WaitVisible(chromedp.CSS("form.variations_form")))
		// Choose a variation once WooCommerce's variation script is listening.
		for deadline := time.Now().Add(30 * time.Second); ; {
			shown := wpEval[string](b, `(function(){var s=document.querySelector("form.variations_form select");s.selectedIndex=1;
  if(window.jQuery){jQuery(s).trigger("change");}else{s.dispatchEvent(new Event("change",{bubbles:true}));}
  var v=document.querySelector(".woocommerce-variation");return v?v.innerText:"";})()`)
			if strings.Contains(shown, earn) || time.Now().After(deadline) {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		b.waitText(".woocommerce-variation", earn)
		b.check("product-variable", ".creditbridge-earn")
	}
	p := os.Getenv("REALWP_PRODUCT")
	if p == "" {
		b.t.Log("REALWP_PRODUCT is not set: product, cart and checkout skipped")
	} else {
		b.run("product", chromedp.Navigate(b.base+p), chromedp.WaitVisible(chromedp.CSS("form.cart")))
		line := b.waitText(".creditbridge-earn", earn)
		if b.de && !strings.Contains(line, "\u00a0€") {
			b.t.Errorf("%s: the product line %q is not in the German format", b.Name, line)
		}
		b.check("product", ".creditbridge-earn")
		b.run("add to cart", chromedp.Click(chromedp.CSS("form.cart button[type=submit]")), chromedp.Sleep(time.Second))
		b.run("cart page", chromedp.Navigate(b.base+cartPath(b)), chromedp.Sleep(500*time.Millisecond))
		b.waitText(earnSel, earn)
		b.check("cart", ".creditbridge-earn, .creditbridge-block-earn, .creditbridge-balance, .creditbridge-block-notice")
		b.run("checkout page", chromedp.Navigate(b.base+checkoutPath(b)), chromedp.Sleep(500*time.Millisecond))
		b.waitText(earnSel, earn)
		b.check("checkout", ".creditbridge-earn, .creditbridge-block-earn, .creditbridge-balance, .creditbridge-block-notice")
		if os.Getenv("REALWP_ORDER") != "" && strings.HasPrefix(b.Name, "1280") {
			if wpEval[bool](b, `!!document.querySelector("#place_order")`) { // classic
				b.run("classic order", chromedp.Evaluate[chromedp.Void](`(function(){var r=document.querySelector("#payment_method_cod");if(r){r.click();}})()`),
					chromedp.Sleep(2*time.Second), chromedp.Click(chromedp.CSS("#place_order")))
			} else {
				b.run("block order", chromedp.Click(chromedp.CSS(".wc-block-components-checkout-place-order-button")))
			}
			for deadline := time.Now().Add(60 * time.Second); !strings.Contains(wpEval[string](b, `location.href`), "order-received"); {
				if time.Now().After(deadline) {
					b.shot("FAILED-order")
					b.t.Fatalf("%s: the order was not placed; the page is %s", b.Name, wpEval[string](b, `location.href`))
				}
				time.Sleep(500 * time.Millisecond)
			}
			b.run("order received", chromedp.WaitVisible(chromedp.CSS(".woocommerce-order, .wc-block-order-confirmation-status, .woocommerce-thankyou-order-received")))
			b.shot("order-received")
			b.t.Logf("%s: order placed: %s", b.Name, wpEval[string](b, `location.href`))
		}
	}
	b.run("my account", chromedp.Navigate(b.base+"/my-account/store-credit/"), chromedp.WaitVisible(chromedp.CSS("table.creditbridge-balance")))
	b.waitText(".woocommerce-MyAccount-content", b.pick("Buchungen", "Statement"))
	if want := os.Getenv("REALWP_TIER"); want != "" { // the customer's tier and the next one, e.g. "Silber"
		b.waitText(".creditbridge-tier-name", want)
		b.waitText(".creditbridge-tier", b.pick("Noch ", " more to reach "))
	}
	b.check("my-account", ".woocommerce-MyAccount-content")
	// The household check learns the customer's saved address: a new
	// billing street and postcode saved under My Account > Addresses (the
	// plugin sends them to the bridge when the request ends).
	if a := os.Getenv("REALWP_ADDRESS"); a != "" && strings.HasPrefix(b.Name, "1280") {
		street, postcode, _ := strings.Cut(a, ";")
		notice := ".woocommerce-message, .wc-block-components-notice-banner.is-success" // classic and block themes
		b.run("edit address", chromedp.Navigate(b.base+"/my-account/edit-address/billing/"), chromedp.WaitVisible(chromedp.CSS("#billing_address_1")),
			chromedp.SetValue(chromedp.CSS("#billing_address_1"), street), chromedp.SetValue(chromedp.CSS("#billing_postcode"), postcode))
		b.run("save address", chromedp.Click(chromedp.CSS(`button[name="save_address"]`)), chromedp.Sleep(time.Second),
			chromedp.WaitVisible(chromedp.CSS(notice)))
		b.shot("address-saved")
		b.t.Logf("%s: billing address saved: %s", b.Name, wpEval[string](b, `document.querySelector(`+strconv.Quote(notice)+`).innerText`))
	}
}

// cartPath and checkoutPath: REALWP_CART / REALWP_CHECKOUT, else
// WooCommerce's default pages.
func cartPath(_ *wpBrowser) string {
	if p := os.Getenv("REALWP_CART"); p != "" {
		return p
	}
	return "/cart/"
}

func checkoutPath(_ *wpBrowser) string {
	if p := os.Getenv("REALWP_CHECKOUT"); p != "" {
		return p
	}
	return "/checkout/"
}
