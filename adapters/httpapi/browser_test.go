package httpapi

// Browser tests: Debian's chromium, driven headless by chromedp, against
// the pages served by the real router on localhost with PostgreSQL: the
// Shopify embedded admin (App Bridge stubbed: the CDN script is answered
// by the test) and the storefront statement behind an app-proxy
// emulator that signs requests as Shopify does and wraps the Liquid page
// in a theme. At 1280 px and 390 px, in German and English; axe-core
// (testdata/browser, npm) must find no serious or critical violation.
// Screenshots go to $CREDITBRIDGE_SCREENSHOTS (default
// $TMPDIR/creditbridge-screenshots).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// browserPrereqs finds chromium and axe-core, or skips (fails in CI).
func browserPrereqs(t *testing.T) (chromium, axe string) {
	t.Helper()
	need := func(msg string) {
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		for _, n := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(n); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		need("browser tests skipped: chromium is not installed (apt-get install -y chromium, or set CHROMIUM)")
	}
	axe = filepath.Join("testdata", "browser", "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(axe); err != nil {
		need("browser tests skipped: axe-core is not installed (npm ci --prefix adapters/httpapi/testdata/browser)")
	}
	return chromium, axe
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("CREDITBRIDGE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "creditbridge-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// appBridgeStub stands in for https://cdn.shopify.com/shopifycloud/app-bridge.js
// (which the browser is kept from loading): session tokens from the test,
// toasts, save bar and resource picker recorded.
const appBridgeStub = `window.__cb = { toasts: [], saveBar: "hidden" };
window.shopify = {
  idToken: function () { return window.cbSessionToken(""); },
  toast: { show: function (m, o) { window.__cb.toasts.push((o && o.isError ? "error: " : "") + m); } },
  saveBar: { show: function () { window.__cb.saveBar = "shown"; }, hide: function () { window.__cb.saveBar = "hidden"; } },
  resourcePicker: async function (o) {
    window.__cb.picker = o;
    return [{ id: "gid://shopify/Product/632910392", title: "Teekanne Classic",
      variants: [{ id: "gid://shopify/ProductVariant/808950810", title: "1 Liter" }] }];
  }
};`

// storefront emulates the parts of a Shopify storefront creditbridge
// plugs into: the app proxy for /apps/credit/* (it signs the request for
// the bridge with the logged-in customer, cookie set by /login, renders a
// Liquid answer inside a theme page and passes anything else, such as the
// JSON of /earn and /account, through as Shopify does); the customer's
// account page with the theme extension's account block; a cart page
// with the extension's app embed ("you earn X with this order") and the
// cart JSON it reads (/cart.js); and Shopify's shareable discount link
// (/discount/CODE?redirect=/cart), which applies a code to the cart. The
// extension's scripts are served from the repository
// (adapters/shopify/app/extensions/creditbridge-earn/assets). Cart and
// discounts are the emulator's (Shopify's own); code maps a discount
// code to its amount in cents.
func storefront(t *testing.T, bridge, shop, secret string, code func(string) (int64, bool)) string {
	t.Helper()
	mux := http.NewServeMux()
	lang := func(r *http.Request) string {
		if c, err := r.Cookie("lang"); err == nil && c.Value != "" {
			return c.Value
		}
		return "en"
	}
	theme := func(w http.ResponseWriter, r *http.Request, status int, title, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="%s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>%s – Teeladen</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;margin:0"><header style="padding:1rem;background:#1f3b2d;color:#fff"><a href="/" style="color:#fff">Teeladen</a></header><main>%s</main></body></html>`, lang(r), title, body)
	}
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "customer", Value: r.URL.Query().Get("customer"), Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: r.URL.Query().Get("lang"), Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "discount", Value: "", Path: "/", MaxAge: -1})
		to := r.URL.Query().Get("to")
		if !strings.HasPrefix(to, "/") {
			to = "/apps/credit/statement"
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	mux.HandleFunc("/apps/credit/", func(w http.ResponseWriter, r *http.Request) {
		vals := r.URL.Query()
		vals.Set("shop", shop)
		vals.Set("path_prefix", "/apps/credit")
		vals.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		vals.Del("logged_in_customer_id")
		if c, err := r.Cookie("customer"); err == nil && c.Value != "" {
			vals.Set("logged_in_customer_id", c.Value)
		}
		vals.Del("signature")
		vals.Set("signature", shopify.SignAppProxy(vals, secret))
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, bridge+"/proxy/"+strings.TrimPrefix(r.URL.Path, "/apps/credit/")+"?"+vals.Encode(), r.Body)
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		req.Header.Set("Accept-Language", lang(r))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/liquid") {
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(body)
			return
		}
		theme(w, r, resp.StatusCode, "Guthaben", string(body))
	})
	assets := filepath.Join("..", "shopify", "app", "extensions", "creditbridge-earn", "assets")
	mux.HandleFunc("/ext/", func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join(assets, filepath.Base(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(b)
	})
	// The account page: the theme renders the account block for a
	// logged-in customer (blocks/account-credit.liquid).
	mux.HandleFunc("/account", func(w http.ResponseWriter, r *http.Request) {
		heading := map[string]string{"de": "Mein Konto", "en": "My account"}[lang(r)]
		theme(w, r, http.StatusOK, heading, `<div style="max-width:48rem;margin:2rem auto;padding:0 1rem"><h1>`+heading+`</h1>
<section class="cb-account" data-cb-account data-proxy="/apps/credit" aria-live="polite"></section></div><script src="/ext/account.js" defer></script>`)
	})
	// The cart: 2 × Teekanne Classic at 12.00 and any code applied by a
	// discount link, with the app embed (blocks/earn-embed.liquid).
	const items = 2400
	applied := func(r *http.Request) (string, int64) {
		c, err := r.Cookie("discount")
		if err != nil || c.Value == "" {
			return "", 0
		}
		off, ok := code(c.Value)
		if !ok {
			return "", 0
		}
		return c.Value, min(off, items)
	}
	mux.HandleFunc("/discount/", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "discount", Value: strings.TrimPrefix(r.URL.Path, "/discount/"), Path: "/"})
		to := r.URL.Query().Get("redirect")
		if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") {
			to = "/"
		}
		http.Redirect(w, r, to, http.StatusFound)
	})
	mux.HandleFunc("/cart.js", func(w http.ResponseWriter, r *http.Request) {
		cart := map[string]any{"items": []map[string]any{{"product_id": 632910392, "variant_id": 808950810, "sku": "TEE-1L", "quantity": 2,
			"final_price": 1200, "final_line_price": items, "title": "Teekanne Classic"}}, "items_subtotal_price": items}
		if c, off := applied(r); c != "" {
			cart["cart_level_discount_applications"] = []map[string]any{{"type": "discount_code", "title": c, "total_allocated_amount": off}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(cart)
	})
	mux.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		de := lang(r) == "de"
		euro := func(cents int64) string {
			s := fmt.Sprintf("%d.%02d", cents/100, cents%100)
			if de {
				return strings.Replace(s, ".", ",", 1) + " €"
			}
			return "€" + s
		}
		tr := func(deText, enText string) string {
			if de {
				return deText
			}
			return enText
		}
		c, off := applied(r)
		rows := `<tr><td>Teekanne Classic × 2</td><td style="text-align:right">` + euro(items) + `</td></tr>`
		if c != "" {
			rows += `<tr><td>` + tr("Rabattcode ", "Discount code ") + c + `</td><td style="text-align:right">−` + euro(off) + `</td></tr>`
		}
		rows += `<tr><th scope="row" style="text-align:left">` + tr("Gesamt", "Total") + `</th><td style="text-align:right"><strong id="cart-total">` + euro(items-off) + `</strong></td></tr>`
		theme(w, r, http.StatusOK, tr("Warenkorb", "Cart"), `<div style="max-width:48rem;margin:2rem auto;padding:0 1rem"><h1>`+tr("Warenkorb", "Cart")+`</h1>
<form action="/cart" method="post"><table style="width:100%;border-collapse:collapse"><tbody>`+rows+`</tbody></table>
<button type="submit" name="checkout">`+tr("Zur Kasse", "Check out")+`</button></form></div>
<script>window.CreditbridgeEarnConfig = {"proxy": "/apps/credit", "cartPage": true};</script><script src="/ext/earn.js" defer></script>`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

type browser struct {
	t    *testing.T
	ctx  context.Context
	axe  string
	dir  string
	name string // width and language, for screenshot names
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("FAILED-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s %s: %v", b.name, what, err)
	}
}

func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.dir, b.name+"-"+name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// check screenshots the page and runs axe-core on it: serious and
// critical violations fail the test.
func (b *browser) check(name string) {
	b.t.Helper()
	b.shot(name)
	src, err := os.ReadFile(b.axe)
	if err != nil {
		b.t.Fatal(err)
	}
	b.run("axe "+name, chromedp.Evaluate[chromedp.Void](string(src)))
	res := evalT[string](b, `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  return JSON.stringify(r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; }).map(function (v) {
    return v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.slice(0, 3).map(function (n) { return n.target.join(" "); }).join(", ");
  }));
})`, chromedp.EvalAwaitPromise)
	var violations []string
	if err := json.Unmarshal([]byte(res), &violations); err != nil {
		b.t.Fatalf("axe result %q: %v", res, err)
	}
	for _, v := range violations {
		b.t.Errorf("%s %s: accessibility: %s", b.name, name, v)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return evalT[string](b, `document.querySelector(`+strconv.Quote(sel)+`).innerText`)
}

// setValue sets a form field's value as a script would, with an input event.
func setValue(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(function(){var e=document.querySelector(` + strconv.Quote(sel) + `);e.value=` + strconv.Quote(v) +
		`;e.dispatchEvent(new Event("input",{bubbles:true}));e.dispatchEvent(new Event("change",{bubbles:true}));})()`)
}

// evalT evaluates js in the page and returns its value.
func evalT[T any](b *browser, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.shot("FAILED-eval")
		b.t.Fatalf("%s: evaluate %.60s: %v", b.name, js, err)
	}
	return v
}

// waitToast waits until App Bridge was asked to show the toast msg.
func (b *browser) waitToast(msg string) {
	b.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		toasts := evalT[[]string](b, `window.__cb.toasts`)
		if slices.Contains(toasts, msg) {
			_ = evalT[chromedp.Void](b, `window.__cb.toasts = []`)
			return
		}
		if time.Now().After(deadline) {
			b.shot("FAILED-toast")
			b.t.Fatalf("%s: no toast %q; toasts %v", b.name, msg, toasts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(function(){var e=document.querySelector(`+strconv.Quote(sel)+`);return e?e.innerText:"";})()`))
		if strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			b.shot("FAILED-wait")
			b.t.Fatalf("%s: %s never showed %q; it shows %q", b.name, sel, want, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBrowserPages(t *testing.T) {
	chromium, axe := browserPrereqs(t)
	t.Parallel()
	vouchers := &limitedVouchers{available: decimal.RequireFromString("10000")}
	e := newSappEnv(t, vouchers)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Name: "Teeladen", Currency: "EUR",
		Settings: core.ShopSettings{TimeZone: "Europe/Berlin", PendingDays: 14, ProgramSettings: core.ProgramSettings{TierSettings: core.TierSettings{Tiers: []core.Tier{
			{Name: "Teefreund", Threshold: decimal.Zero, Multiplier: decimal.RequireFromString("1")},
			{Name: "Teekenner", Threshold: decimal.RequireFromString("150"), Multiplier: decimal.RequireFromString("1.5")}}}}},
		Secrets: core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "customer-key"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e.fake.SetCollection("841564295", "Sommertee", "632910392", "632910393", "632910394")
	dir := postgres.NewDirectory(e.pool)
	if _, err := dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: decimal.RequireFromString("2.5")}); err != nil {
		t.Fatal(err)
	}
	for i := range 45 {
		if _, err := dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetProduct, TargetID: strconv.Itoa(1000 + i), Title: fmt.Sprintf("Tee Nr. %02d", i),
			Mode: core.ModeFixed, Value: decimal.RequireFromString("0.50")}); err != nil {
			t.Fatal(err)
		}
	}
	cust, err := dir.CustomerOwner(ctx, shop, core.CustomerRef{PlatformID: "42", Email: "Maria@Example.com"})
	if err != nil {
		t.Fatal(err)
	}
	amt := decimal.RequireFromString("1234.56")
	e.post(shop, "earn:1", core.Reason{Kind: core.ReasonEarn, OrderNumber: "#1001", Product: "Teekanne"},
		core.Posting{Owner: cust, Bucket: core.BucketPending, Amount: amt},
		core.Posting{Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: amt.Neg()})
	e.adjust(shop, "42", "bonus", "25.00", "Willkommensbonus")
	// Credit the shop's per-order cap kept from being booked on order #1002
	// (earning metadata beside the ledger; the statement shows it).
	if _, err := e.pool.Exec(ctx, `INSERT INTO earn_withheld (shop_id, order_id, line_id, beneficiary, cap, currency, owner_kind, owner_id, order_number, amount)
VALUES ($1, '1002', '1', 'buyer', 'order', 'EUR', $2, $3, '#1002', 3.00)`, shop.ID, string(cust.Kind), cust.ID); err != nil {
		t.Fatal(err)
	}
	ten := decimal.RequireFromString("10.00")
	e.post(shop, "hold:1:place", core.Reason{Kind: core.ReasonHoldPlace, HoldID: "1"},
		core.Posting{Owner: cust, Bucket: core.BucketAvailable, Amount: ten.Neg()}, core.Posting{Owner: cust, Bucket: core.BucketHeld, Amount: ten})
	e.post(shop, "hold:1:resolve", core.Reason{Kind: core.ReasonHoldVoid, HoldID: "1"},
		core.Posting{Owner: cust, Bucket: core.BucketHeld, Amount: ten.Neg()}, core.Posting{Owner: cust, Bucket: core.BucketAvailable, Amount: ten})
	for i := range 30 {
		e.adjust(shop, "43", fmt.Sprintf("p%02d", i), "1.00", fmt.Sprintf("Eintrag %02d", i))
	}

	// Partners (when the affiliate routes are there): two roots, one below the first.
	hasPartners := false
	for _, r := range e.app.GetRoutes() {
		if r.Method == http.MethodGet && r.Path == "/api/v1/shops/:shop/partners" {
			hasPartners = true
		}
	}
	if hasPartners {
		for _, p := range []string{`anna {"name":"Anna Sommer"}`, `carl {"name":"Carl Winter"}`, `ben {"name":"Ben Herbst","sponsor_id":"anna"}`} {
			id, body, _ := strings.Cut(p, " ")
			req := httptest.NewRequest(http.MethodPut, "/api/v1/shops/"+strconv.FormatInt(shop.ID, 10)+"/partners/"+id, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.fake.SessionToken())
			req.Header.Set("Content-Type", "application/json")
			wantStatus(t, e.do(req), http.StatusOK)
		}
		// Two bring-a-friend decisions for the Partners view: a refusal and a reversal.
		if _, err := e.pool.Exec(ctx, `INSERT INTO referral_rewards (shop_id, referred_owner, order_id, order_number, referrer_kind, referrer_id, status, refusal,
	currency, order_net, reward_amount, welcome_amount, ordered_at, reversed_at) VALUES
	($1, 'c:501', '7001', '#1001', 'partner', 'anna', 'refused', 'min_order', 'EUR', 12.50, 0, 0, now() - interval '2 days', NULL),
	($1, 'c:502', '7002', '#1002', 'partner', 'ben', 'reversed', NULL, 'EUR', 80.00, 10, 5, now() - interval '1 day', now())`, shop.ID); err != nil {
			t.Fatal(err)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.app.Listener(ln) }()
	t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(5 * time.Second) })
	bridge := "http://" + ln.Addr().String()
	store := storefront(t, bridge, e.fake.ShopDomain(), e.fake.ClientSecret(), vouchers.amountOf)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelA)
	dirShots := screenshotDir(t)

	for _, width := range []int64{1280, 390} {
		for _, lang := range []string{"de", "en"} {
			bctx, cancel := chromedp.NewContext(actx)
			b := &browser{t: t, ctx: bctx, axe: axe, dir: dirShots, name: fmt.Sprintf("%d-%s", width, lang)}
			// Start the browser and the tab on the tab's own context (not on
			// a child with a timeout, whose end would close them).
			if err := chromedp.Do(bctx); err != nil {
				t.Fatalf("start chromium: %v", err)
			}
			var vp []chromedp.EmulateViewportOption
			if width < 600 {
				vp = append(vp, chromedp.EmulateMobile)
			}
			// App Bridge from the CDN is kept out; the stub stands in for it
			// with session tokens minted by the test.
			b.run("start", chromedp.ExposeFunc("cbSessionToken", func(context.Context, string) (string, error) { return e.fake.SessionToken(), nil }),
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
						return err
					}
					if _, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
						{URLPattern: "https://cdn.shopify.com/*", Block: true}}}); err != nil {
						return err
					}
					_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: appBridgeStub})
					return err
				}),
				chromedp.EmulateViewport(width, 900, vp...))
			adminFlows(b, bridge, e, shop, lang, width == 1280, hasPartners)
			storefrontFlows(b, store, lang, width == 1280, vouchers)
			cancel()
		}
	}
}

func adminFlows(b *browser, bridge string, e *sappEnv, shop core.Shop, lang string, full, hasPartners bool) {
	t := b.t
	de := lang == "de"
	pick := func(deText, enText string) string {
		if de {
			return deText
		}
		return enText
	}
	admin := func(view string) {
		b.run("open "+view, chromedp.Navigate(bridge+"/shopify/admin/"+view+"?shop="+e.fake.ShopDomain()+"&host=x&embedded=1&locale="+lang),
			chromedp.WaitVisible(chromedp.CSS("#cb-main .card")))
	}
	admin("overview")
	b.waitText("#cb-main", pick("1.234,56\u00a0€", "€1,234.56"))
	b.waitText("#month", pick("Dieser Monat", "This month"))
	b.check("admin-overview")

	admin("rules")
	if full {
		b.waitText("#cb-rule-list", pick("Seite 1 von 3", "Page 1 of 3")) // 20 a page
	} else {
		b.waitText("#cb-rule-list", pick("Seite 1 von 5", "Page 1 of 5")) // 10 a page on a phone
	}
	b.waitText("#cb-rule-list", pick("Alle Produkte", "All products"))
	b.check("admin-rules")
	tall := evalT[int64](b, `document.documentElement.scrollHeight`)
	if tall > 4000 {
		t.Errorf("%s: the rules page is %d px tall with 46 rules", b.name, tall)
	}
	// Search narrows the list.
	b.run("search", chromedp.SendKeys(chromedp.CSS("#cb-rule-search"), "Nr. 07"))
	b.waitText("#cb-rule-list", "Tee Nr. 07")
	b.waitText("#cb-rule-list", pick("Seite 1 von 1", "Page 1 of 1"))
	if full {
		// A wrong value is shown at its field, in people's words.
		b.run("bad rule", setValue("#f-target", "product"),
			chromedp.Click(chromedp.CSS(`#rule-add button.btn.secondary`)))
		b.waitText("#cb-picked", "Teekanne Classic")
		b.run("type value", chromedp.SendKeys(chromedp.CSS("#f-value"), "abc"), chromedp.Click(chromedp.CSS(`#rule-add button[type=submit]`)))
		b.waitText("#f-value-error", pick("Gib eine Zahl wie 2,5 ein.", "Enter a number such as 2,5 or 2.5."))
		b.shot("admin-rule-error")
		// A decimal comma is fine; the rule shows with its product name.
		b.run("fix value", setValue("#f-value", ""), chromedp.SendKeys(chromedp.CSS("#f-value"), "2,5"),
			chromedp.Click(chromedp.CSS(`#rule-add button[type=submit]`)))
		b.waitToast(pick("Regel gespeichert", "Rule saved"))
		b.run("search picked", setValue("#cb-rule-search", "Teekanne"))
		b.waitText("#cb-rule-list", "Teekanne Classic")
		b.waitText("#cb-rule-list", pick("2,5\u00a0%", "2.5\u00a0%"))
		rules, err := e.srv.deps.Store.ListRules(context.Background(), shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rules {
			if r.TargetID == "632910392" && r.Title == "Teekanne Classic" && r.Value.Equal(decimal.RequireFromString("2.5")) {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s: the picked rule was not stored: %+v", b.name, rules)
		}
		// Delete asks first; Cancel keeps the rule, Delete removes it.
		del := `button[aria-label="` + pick("Regel für Teekanne Classic (Produkt 632910392) löschen", "Delete rule for Teekanne Classic (Product 632910392)") + `"]`
		b.run("delete", chromedp.Click(chromedp.CSS(del)), chromedp.WaitVisible(chromedp.CSS("#cb-confirm")))
		b.shot("admin-rule-confirm")
		b.run("cancel", chromedp.Click(chromedp.CSS("#cb-confirm-cancel")), chromedp.WaitNotVisible(chromedp.CSS("#cb-confirm")))
		b.waitText("#cb-rule-list", "Teekanne Classic")
		b.run("confirm", chromedp.Click(chromedp.CSS(del)), chromedp.WaitVisible(chromedp.CSS("#cb-confirm")), chromedp.Click(chromedp.CSS("#cb-confirm-ok")))
		b.waitToast(pick("Regel gelöscht", "Rule deleted"))
		b.waitText("#cb-rule-list", pick("Keine Regel passt", "No rule matches"))
	}

	// Import a CSV file: the preview shows each line's change and each
	// error at its line and field; the corrected file imports.
	if full {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.csv")
		good := filepath.Join(dir, "good.csv")
		badCSV := "target;target_id;title;mode;value\nproduct;1001;Tee Nr. 01;fixed;0,75\ncollection;841564295;;percent;zehn\nsku;;;fixed;1\n"
		if err := os.WriteFile(bad, []byte(badCSV), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(good, []byte(strings.NewReplacer("zehn", "10", "sku;;;fixed;1\n", "").Replace(badCSV)), 0o600); err != nil {
			t.Fatal(err)
		}
		b.run("import bad", chromedp.SetUploadFiles(chromedp.CSS(`#f-rules_file`), []string{bad}), chromedp.Click(chromedp.CSS(`#rule-file form button[type=submit]`)))
		b.waitText("#cb-import-summary", pick("0 neu, 1 geändert, 0 unverändert, 2 mit Fehlern.", "0 new, 1 changed, 0 unchanged, 2 with errors."))
		b.waitText("#cb-import", pick("value (Wert): keine Zahl", "value: not a number"))
		b.waitText("#cb-import", pick("target_id (ID): fehlt", "target_id: required"))
		b.check("admin-rules-import-errors")
		b.run("import good", chromedp.SetUploadFiles(chromedp.CSS(`#f-rules_file`), []string{good}), chromedp.Click(chromedp.CSS(`#rule-file form button[type=submit]`)))
		b.waitText("#cb-import-summary", pick("1 neu, 1 geändert, 0 unverändert, 0 mit Fehlern.", "1 new, 1 changed, 0 unchanged, 0 with errors."))
		b.waitText("#cb-import", pick("vorher: 0,50", "before: €0.50"))
		b.check("admin-rules-import-preview")
		b.run("apply import", chromedp.Click(chromedp.CSS(`#cb-import .actions button`)))
		b.waitToast(pick("2 Regeln importiert", "2 rules imported"))
		b.run("search imported", setValue("#cb-rule-search", "Sommertee"))
		b.waitText("#cb-rule-list", pick("Sommertee (Kollektion 841564295) · 3 Produkte", "Sommertee (Collection 841564295) · 3 products"))
		// Back for the next language.
		rules, err := e.srv.deps.Store.ListRules(context.Background(), shop.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			switch {
			case r.Target == core.TargetCollection:
				if len(r.Products) != 3 {
					t.Errorf("%s: imported collection rule %+v, want its 3 products", b.name, r)
				}
				if err := e.srv.deps.Store.DeleteRule(context.Background(), shop.ID, r.ID); err != nil {
					t.Fatal(err)
				}
			case r.Target == core.TargetProduct && r.TargetID == "1001":
				if !r.Value.Equal(decimal.RequireFromString("0.75")) {
					t.Errorf("%s: imported product rule %+v, want 0.75", b.name, r)
				}
				r.Value = decimal.RequireFromString("0.50")
				if _, err := e.srv.deps.Store.PutRule(context.Background(), shop.ID, r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	admin("settings")
	hold := evalT[string](b, `document.getElementById("f-hold_minutes").value`)
	days := evalT[string](b, `document.getElementById("f-voucher_days").value`)
	if hold != "60" || days != "90" {
		t.Errorf("%s: settings show hold %q, voucher days %q; want the defaults 60 and 90", b.name, hold, days)
	}
	b.check("admin-settings")
	if full {
		b.run("bad setting", chromedp.SendKeys(chromedp.CSS("#f-pending_days"), "x"), chromedp.Click(chromedp.CSS(`#cb-settings button[type=submit]`)))
		b.waitText("#f-pending_days-error", pick("ganze Zahl von 0 bis 365", "whole number from 0 to 365"))
		saveBar := evalT[string](b, `window.__cb.saveBar`)
		if saveBar != "shown" {
			t.Errorf("%s: the save bar was not shown after a change", b.name)
		}
		label := pick("Treuebonus", "Loyalty credit")
		b.run("good setting", setValue("#f-pending_days", "14"), setValue("#f-max_percent", "12,5"),
			setValue(`#f-discount_labels\.`+lang, label),
			setValue(`#f-referral\.reward_amount`, pick("7,50", "7.50")), setValue(`#f-referral\.welcome_amount`, "2"),
			setValue(`#f-referral\.max_rewards_per_month`, "3"), setValue(`#f-referral\.reward_min_order_net`, "25"),
			chromedp.Click(chromedp.CSS(`#cb-settings button[type=submit]`)))
		deadline := time.Now().Add(5 * time.Second)
		for {
			sh, err := e.shops.ShopByID(context.Background(), shop.ID)
			if err != nil {
				t.Fatal(err)
			}
			ref := sh.Settings.Referral
			if sh.Settings.MaxPercent.Valid && sh.Settings.MaxPercent.Decimal.Equal(decimal.RequireFromString("12.5")) && sh.Settings.HoldMinutes == 60 &&
				sh.Settings.DiscountLabels[lang] == label && ref.RewardAmount.Decimal.Equal(decimal.RequireFromString("7.5")) &&
				ref.WelcomeAmount.Decimal.Equal(decimal.RequireFromString("2")) && ref.MaxRewardsPerMonth == 3 && ref.MinOrderNet.Decimal.Equal(decimal.RequireFromString("25")) {
				// The checkout label is recorded for recognising orders.
				if !slices.Contains(sh.IssuedLabels, label) {
					t.Errorf("%s: label %q saved but not recorded as issued: %v", b.name, label, sh.IssuedLabels)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: settings not saved: %+v", b.name, sh.Settings)
			}
			time.Sleep(50 * time.Millisecond)
		}
		b.waitToast(pick("Einstellungen gespeichert", "Settings saved"))
	}

	admin("customers")
	if full {
		// Found by part of the e-mail address.
		b.run("customer search", chromedp.SendKeys(chromedp.CSS("#f-customer"), "maria@"), chromedp.Click(chromedp.CSS(`#customers button[type=submit]`)))
		b.waitText("#cb-customer", "maria@example.com")
		b.run("customer show", chromedp.Click(chromedp.CSS(`button[aria-label="`+pick("Guthaben von maria@example.com anzeigen", "Show credit of maria@example.com")+`"]`)))
	} else {
		b.run("customer", chromedp.SendKeys(chromedp.CSS("#f-customer"), "42"), chromedp.Click(chromedp.CSS(`#customers button[type=submit]`)))
	}
	b.waitText("#cb-customer", pick("An der Kasse reserviert", "Reserved at checkout")) // the merchant sees holds
	b.waitText("#cb-customer", pick("1.234,56\u00a0€", "€1,234.56"))
	if full {
		b.run("adjust", chromedp.SendKeys(chromedp.CSS("#f-amount"), "-1,50"), chromedp.SendKeys(chromedp.CSS("#f-note"), "Kulanz"),
			chromedp.SendKeys(chromedp.CSS("#f-internal_note"), "Ticket 7"), chromedp.Click(chromedp.CSS(`#cb-customer form button[type=submit]`)))
		b.waitText("#cb-customer", pick("interne Notiz: Ticket 7", "internal note: Ticket 7"))
		b.waitText("#cb-customer", pick("−1,50\u00a0€", "−€1.50"))
	}
	b.check("admin-customer")

	admin("review")
	b.waitText("#cb-main", pick("Einlösequote", "Redemption rate"))
	b.waitText("#review", pick("Verbindlichkeit zum Monatsende", "Liability at month end"))
	now := time.Now().In(mustLoc(t, "Europe/Berlin"))
	deMonths := []string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}
	b.waitText("#review", pick(deMonths[now.Month()-1], now.Month().String())+" "+now.Format("2006")) // this month, named
	if full {
		// What if: a higher percentage for all products, over the last 30 days.
		b.run("simulate", setValue("#f-sim_rules", "target,mode,value\ndefault,percent,5\n"), chromedp.Click(chromedp.CSS(`#cb-sim-form button[type=submit]`)))
		b.waitText("#cb-sim-summary", pick("0 Bestellungen", "0 orders"))
		b.run("simulate bad", setValue("#f-sim_rules", "target,mode,value\ndefault,percent,viel\n"), chromedp.Click(chromedp.CSS(`#cb-sim-form button[type=submit]`)))
		b.waitText("#f-sim_rules-error", pick("Zeile 2: value (Wert): keine Zahl", "Line 2: value: not a number"))
	}
	b.check("admin-review")

	for _, v := range []string{"failed", "audit", "export"} {
		admin(v)
		b.check("admin-" + v)
	}
	if hasPartners {
		admin("partners")
		b.waitText("#cb-partner-list", "Ben Herbst (ben)")
		b.waitText("#referral-rewards", pick("unter dem Mindestbestellwert", "below the minimum order value"))
		b.waitText("#referral-rewards", pick("Zurückgenommen", "Taken back"))
		b.check("admin-partners")
		if full {
			// Move Ben under Carl, then deactivate Carl (after confirming).
			b.run("move", chromedp.SendKeys(chromedp.CSS("#f-move_partner"), "ben"), chromedp.SendKeys(chromedp.CSS("#f-move_to"), "carl"),
				chromedp.Click(chromedp.CSS(`#partner-move button[type=submit]`)))
			b.waitToast(pick("Partner verschoben", "Partner moved"))
			if left := evalT[string](b, `document.getElementById("f-move_partner").value + document.getElementById("f-move_to").value`); left != "" {
				t.Errorf("%s: the move form still shows %q after the move", b.name, left)
			}
			var sponsor string
			if err := e.pool.QueryRow(context.Background(), `SELECT coalesce(sponsor_id, '') FROM partners WHERE shop_id = $1 AND partner_id = 'ben'`, shop.ID).Scan(&sponsor); err != nil || sponsor != "carl" {
				t.Fatalf("%s: ben's sponsor is %q (%v), want carl", b.name, sponsor, err)
			}
			deact := `button[aria-label="` + pick("Partner Carl Winter (carl) deaktivieren", "Deactivate partner Carl Winter (carl)") + `"]`
			b.run("deactivate", chromedp.Click(chromedp.CSS(deact)), chromedp.WaitVisible(chromedp.CSS("#cb-confirm")), chromedp.Click(chromedp.CSS("#cb-confirm-ok")))
			b.waitToast(pick("Partner gespeichert", "Partner saved"))
			b.waitText("#cb-partner-list", pick("Deaktiviert", "Deactivated"))
			b.shot("admin-partners-changed")
			// Back for the next language.
			b.run("reactivate", chromedp.Click(chromedp.CSS(`button[aria-label="`+pick("Partner Carl Winter (carl) aktivieren", "Activate partner Carl Winter (carl)")+`"]`)))
			b.waitToast(pick("Partner gespeichert", "Partner saved"))
		}
	}
	admin("audit")
	b.run("audit", chromedp.Click(chromedp.CSS(`#audit button`)))
	b.waitText("#audit", pick("Alles geht auf.", "Everything balances."))
}

func storefrontFlows(b *browser, store, lang string, full bool, vouchers *limitedVouchers) {
	t := b.t
	de := lang == "de"
	pick := func(deText, enText string) string {
		if de {
			return deText
		}
		return enText
	}
	b.run("storefront", chromedp.Navigate(store+"/login?customer=42&lang="+lang), chromedp.WaitVisible(chromedp.CSS(".creditbridge-statement")))
	b.waitText(".creditbridge-statement", pick("verfügbar ab", "available from"))
	page := b.text(".creditbridge-statement")
	if want := pick("Nicht gutgeschrieben · Bestellung #1002 · 3,00\u00a0€ über der Obergrenze des Shops pro Bestellung",
		"Not credited · Order #1002 · €3.00 above the shop's limit per order"); !strings.Contains(page, want) {
		t.Errorf("%s: storefront lacks the capped credit %q:\n%s", b.name, want, page)
	}
	for _, bad := range []string{pick("An der Kasse reserviert", "Reserved at checkout"), "EUR</"} {
		if strings.Contains(page, bad) {
			t.Errorf("%s: storefront shows %q", b.name, bad)
		}
	}
	for _, want := range []string{pick("Deine Stufe", "Your tier"), "Teefreund", pick("Noch 150,00\u00a0€ bis Teekenner", "€150.00 more to reach Teekenner")} {
		if !strings.Contains(page, want) {
			t.Errorf("%s: storefront statement lacks the tier %q:\n%s", b.name, want, page)
		}
	}
	b.check("store-statement")
	if full {
		b.run("voucher bad", chromedp.SendKeys(chromedp.CSS("#cb-amount"), "zehn"), chromedp.Submit(chromedp.CSS("#cb-amount")),
			chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
		b.waitText(`[role=alert]`, pick("Bitte gib einen Betrag wie 10,50 ein.", "Please enter an amount such as 10.50."))
		b.check("store-voucher-error")
		b.run("back", chromedp.Navigate(store+"/apps/credit/statement"), chromedp.WaitVisible(chromedp.CSS("#cb-amount")),
			chromedp.SendKeys(chromedp.CSS("#cb-amount"), "10,50"), chromedp.Submit(chromedp.CSS("#cb-amount")))
		b.waitText(".creditbridge-statement", pick("Dein Gutscheincode über 10,50\u00a0€", "Your voucher code for €10.50"))
		b.check("store-voucher")
		if got := vouchers.lastIssued(); !got.Equal(decimal.RequireFromString("10.5")) {
			t.Errorf("%s: voucher of %s, want 10.5", b.name, got)
		}
		// Apply the credit in the cart: the voucher page's link (Shopify's
		// discount link) applies the code and opens the cart, whose earn
		// line (the theme extension's app embed) counts the code as
		// booking will: 2.5 % of 24.00 − 10.50.
		b.run("apply in cart", chromedp.Click(chromedp.Search(`//a[contains(., "`+pick("Jetzt im Warenkorb einlösen", "Use it in your cart now")+`")]`)),
			chromedp.WaitVisible(chromedp.CSS("#cart-total")))
		b.waitText("#cart-total", pick("13,50\u00a0€", "€13.50"))
		b.waitText("main", pick("Mit dieser Bestellung erhältst du 0,34\u00a0€ Guthaben.", "You earn €0.34 in store credit with this order."))
		b.check("store-cart-credit")
	}
	// The cart without a code: the earn line of the app embed.
	b.run("cart", chromedp.Navigate(store+"/login?customer=42&lang="+lang+"&to=/cart"), chromedp.WaitVisible(chromedp.CSS("#cart-total")))
	b.waitText("main", pick("Mit dieser Bestellung erhältst du 0,60\u00a0€ Guthaben.", "You earn €0.60 in store credit with this order."))
	b.check("store-cart")
	// The account page block (theme extension): balance, pending credit
	// with its day, tier, the link to every booking.
	b.run("account", chromedp.Navigate(store+"/account"), chromedp.WaitVisible(chromedp.CSS(".cb-account")))
	b.waitText(".cb-account", pick("Jetzt verfügbar", "Available now"))
	b.waitText(".cb-account", pick("1.234,56\u00a0€ · verfügbar ab", "€1,234.56 · available from"))
	b.waitText(".cb-account", pick("Alle Buchungen und Gutscheincodes", "All bookings and voucher codes"))
	b.check("store-account")
	b.run("account to statement", chromedp.Click(chromedp.Search(`//a[contains(., "`+pick("Alle Buchungen", "All bookings")+`")]`)),
		chromedp.WaitVisible(chromedp.CSS(".creditbridge-statement")))
	// Pages both ways.
	b.run("pages", chromedp.Navigate(store+"/login?customer=43&lang="+lang), chromedp.WaitVisible(chromedp.CSS(".creditbridge-statement")))
	b.run("older", chromedp.Click(chromedp.Search(`//a[contains(., "`+pick("Ältere Buchungen", "Older bookings")+`")]`)))
	b.waitText(".creditbridge-statement", "Eintrag 00")
	b.check("store-page-2")
	b.run("newer", chromedp.Click(chromedp.Search(`//a[contains(., "`+pick("Neuere Buchungen", "Newer bookings")+`")]`)))
	b.waitText(".creditbridge-statement", "Eintrag 29")
	// Empty: how to earn.
	b.run("empty", chromedp.Navigate(store+"/login?customer=99&lang="+lang), chromedp.WaitVisible(chromedp.CSS(".creditbridge-statement")))
	b.waitText(".creditbridge-statement", pick("2,5 % des Preises", "2.5% of the price"))
	b.check("store-empty")
}

// TestBrowserPartnerStorefront: issue 9 on the Shopify storefront (app
// proxy page and the theme extension's account block), 1280 and 390 px,
// German and English, axe clean.
func TestBrowserPartnerStorefront(t *testing.T) {
	chromium, axe := browserPrereqs(t)
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Name: "Teeladen", Currency: "EUR",
		Settings: core.ShopSettings{TimeZone: "Europe/Berlin"}, Secrets: core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "customer-key"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`ben {"name":"Ben Herbst"}`, `dora {"name":"Dora Lenz","sponsor_id":"ben","customer_id":"44","code":"DORA"}`} {
		id, body, _ := strings.Cut(p, " ")
		req := httptest.NewRequest(http.MethodPut, "/api/v1/shops/"+strconv.FormatInt(shop.ID, 10)+"/partners/"+id, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.fake.SessionToken())
		req.Header.Set("Content-Type", "application/json")
		wantStatus(t, e.do(req), http.StatusOK)
	}
	// Dora (customer 44) earned on order #1003 of her downline, level 2.
	dora := core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID("44")}
	four := decimal.RequireFromString("4.00")
	e.post(shop, "earn:dora", core.Reason{Kind: core.ReasonEarn, OrderID: "7003", OrderNumber: "#1003", Beneficiary: "partner2"},
		core.Posting{Owner: dora, Bucket: core.BucketAvailable, Amount: four},
		core.Posting{Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: four.Neg()})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.app.Listener(ln) }()
	t.Cleanup(func() { _ = e.app.ShutdownWithTimeout(5 * time.Second) })
	store := storefront(t, "http://"+ln.Addr().String(), e.fake.ShopDomain(), e.fake.ClientSecret(), func(string) (int64, bool) { return 0, false })
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelA)
	dir := screenshotDir(t)
	for i, width := range []int64{1280, 390} {
		for j, lang := range []string{"de", "en"} {
			bctx, cancel := chromedp.NewContext(actx)
			b := &browser{t: t, ctx: bctx, axe: axe, dir: dir, name: fmt.Sprintf("%d-%s", width, lang)}
			if err := chromedp.Do(bctx); err != nil {
				t.Fatalf("start chromium: %v", err)
			}
			var vp []chromedp.EmulateViewportOption
			if width < 600 {
				vp = append(vp, chromedp.EmulateMobile)
			}
			b.run("start", chromedp.EmulateViewport(width, 900, vp...))
			partnerStorefront(b, store, lang, strconv.Itoa(601+2*i+j))
			cancel()
		}
	}
}

// partnerStorefront: a partner's statement page shows the share code and
// link and each booking from the downline with its order and level; the
// account block shows code and link; a customer who is no partner gets
// the offer, signs up (the shop approves new partners) and sees the code
// waiting for approval.
func partnerStorefront(b *browser, store, lang, newcomer string) {
	t := b.t
	pick := func(deText, enText string) string {
		if lang == "de" {
			return deText
		}
		return enText
	}
	b.run("partner statement", chromedp.Navigate(store+"/login?customer=44&lang="+lang), chromedp.WaitVisible(chromedp.CSS(".creditbridge-referral")))
	page := b.text(".creditbridge-statement")
	for _, want := range []string{pick("Empfiehl uns", "Recommend us"), pick("Dein Empfehlungscode: DORA", "Your referral code: DORA"),
		pick("Gutgeschrieben · Bestellung #1003 · Empfehlung (Stufe 2)", "Earned · Order #1003 · referral (level 2)")} {
		if !strings.Contains(page, want) {
			t.Errorf("%s: partner statement lacks %q:\n%s", b.name, want, page)
		}
	}
	if link := evalT[string](b, `document.getElementById("cb-ref-link").value`); !strings.HasSuffix(link, "/?ref=DORA") || !strings.HasPrefix(link, "https://") {
		t.Errorf("%s: share link %q", b.name, link)
	}
	if strings.Contains(page, pick("Meinen Empfehlungslink holen", "Get my referral link")) {
		t.Errorf("%s: a partner is offered the signup", b.name)
	}
	b.check("store-partner")
	b.run("partner account", chromedp.Navigate(store+"/account"), chromedp.WaitVisible(chromedp.CSS(".cb-account")))
	b.waitText(".cb-account", pick("Dein Empfehlungscode: DORA", "Your referral code: DORA"))
	b.waitText(".cb-account", "/?ref=DORA")
	b.check("store-partner-account")

	// A customer who is no partner: the offer, then the signup.
	b.run("newcomer account", chromedp.Navigate(store+"/login?customer="+newcomer+"&lang="+lang+"&to=/account"), chromedp.WaitVisible(chromedp.CSS(".cb-account")))
	b.waitText(".cb-account", pick("Meinen Empfehlungslink holen", "Get my referral link"))
	b.run("offer", chromedp.Click(chromedp.Search(`//a[contains(., "`+pick("Meinen Empfehlungslink holen", "Get my referral link")+`")]`)),
		chromedp.WaitVisible(chromedp.CSS(".creditbridge-referral button")))
	b.waitText(".creditbridge-referral", pick("Der Shop gibt neue Partner frei.", "The shop approves new partners."))
	b.check("store-partner-offer")
	b.run("signup", chromedp.Click(chromedp.CSS(".creditbridge-referral button")), chromedp.WaitVisible(chromedp.CSS("#cb-ref-link")))
	b.waitText("[role=status]", pick("der Shop muss dein Partnerkonto noch freigeben", "the shop still has to approve your partner account"))
	b.waitText(".creditbridge-referral", pick("Der Shop muss dein Partnerkonto noch freigeben", "The shop still has to approve your partner account"))
	b.check("store-partner-signed-up")
	// Sent again (reload of the POST): nothing changes, still one partner.
	b.run("statement again", chromedp.Navigate(store+"/apps/credit/statement"), chromedp.WaitVisible(chromedp.CSS("#cb-ref-link")))
	if n := evalT[int](b, `document.querySelectorAll(".creditbridge-referral form").length`); n != 0 {
		t.Errorf("%s: a pending partner still sees the signup form", b.name)
	}
}
