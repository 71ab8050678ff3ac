package plugin_test

// The referral step of TestRealWordPress (REALWP_REFERRAL, see the comment
// at the top of realwp_test.go): a referral link followed through the
// plugin's cookie to the order meta, WooCommerce's webhook and the
// partner's statement in the bridge, a code typed at checkout, and a
// partner's own code refused. It runs once, at 1280 px, in whichever
// checkout the site uses (classic or block); run it once per mode.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// wpBridge reads the bridge's admin API (REALWP_BRIDGE="URL TOKEN SHOP").
type wpBridge struct {
	base, token, shop string
}

func (br wpBridge) get(b *wpBrowser, path string, into any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, br.base+"/api/v1/shops/"+br.shop+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+br.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatalf("bridge %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		b.t.Fatalf("bridge %s: %d %s %v", path, res.StatusCode, body, err)
	}
	if err := json.Unmarshal(body, into); err != nil {
		b.t.Fatalf("bridge %s: %v in %s", path, err, body)
	}
}

type wpStatementEntry struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	OrderID     string `json:"order_id"`
	Beneficiary string `json:"beneficiary"`
	Delta       string `json:"delta"`
	Pending     string `json:"pending_delta"`
}

// statement is the partner's statement as the merchant reads it, with its
// raw JSON (to look for the buyer's personal data).
func (br wpBridge) statement(b *wpBrowser, customer string) ([]wpStatementEntry, string) {
	var raw json.RawMessage
	br.get(b, "/customers/"+url.PathEscape(customer)+"/statement?currency=EUR&limit=100", &raw)
	var st struct {
		Entries []wpStatementEntry `json:"entries"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		b.t.Fatal(err)
	}
	return st.Entries, string(raw)
}

// nudgeCron asks WordPress to run its due events: WooCommerce delivers
// webhooks from Action Scheduler, which WP-Cron runs on page loads.
func nudgeCron(b *wpBrowser) {
	ctx, cancel := context.WithTimeout(b.t.Context(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/wp-cron.php?doing_wp_cron", nil)
	if err != nil {
		b.t.Fatal(err)
	}
	if res, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
}

var orderReceivedID = regexp.MustCompile(`order-received/(\d+)`)

// placeReferralOrder follows ?ref=link as a visitor and then signs in as
// cred (checking the cookie), or signs in with no cookie; it adds the
// product to the cart and places the order, typing typed into the
// checkout's referral field when given. It returns the order id and
// whether the checkout was classic.
func placeReferralOrder(b *wpBrowser, tag, cred, product, link, typed string) (string, bool) {
	b.t.Helper()
	if link != "" {
		// A visitor follows the link, then signs in (the cookie must
		// survive that).
		b.run(tag+" clear cookies", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
			return err
		}))
		b.run(tag+" referral link", chromedp.Navigate(b.base+"/?ref="+url.QueryEscape(link)), chromedp.Sleep(300*time.Millisecond))
		user, pass, _ := strings.Cut(cred, ":")
		b.run(tag+" login form", chromedp.Navigate(b.base+"/wp-login.php"), chromedp.WaitVisible(chromedp.CSS("#user_login")),
			chromedp.SetValue(chromedp.CSS("#user_login"), user), chromedp.SetValue(chromedp.CSS("#user_pass"), pass),
			chromedp.Click(chromedp.CSS("#wp-submit")), chromedp.Sleep(500*time.Millisecond))
		if strings.Contains(wpEval[string](b, `location.pathname`), "wp-login.php") {
			b.shot("FAILED-" + tag + "-login")
			b.t.Fatalf("%s: login as %s failed", tag, user)
		}
		var cookies []*network.Cookie
		b.run(tag+" cookies", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
			cookies = res.Cookies
			return err
		}))
		found := false
		for _, c := range cookies {
			if c.Name == "creditbridge_ref" {
				found = true
				if c.Value != link || !c.HTTPOnly || c.Expires < float64(time.Now().Add(24*time.Hour).Unix()) {
					b.t.Errorf("%s: referral cookie %q httponly=%v expires=%v; want %q, HttpOnly, for the attribution window", tag, c.Value, c.HTTPOnly, c.Expires, link)
				}
			}
		}
		if !found {
			b.shot("FAILED-" + tag + "-cookie")
			b.t.Fatalf("%s: no creditbridge_ref cookie after following ?ref=%s and signing in", tag, link)
		}
	} else {
		b.login(cred) // a fresh session: no referral cookie
	}
	b.run(tag+" product", chromedp.Navigate(b.base+product), chromedp.WaitVisible(chromedp.CSS("form.cart")))
	b.run(tag+" add to cart", chromedp.Click(chromedp.CSS("form.cart button[type=submit]")), chromedp.Sleep(time.Second))
	b.run(tag+" checkout", chromedp.Navigate(b.base+checkoutPath(b)))
	field := `#creditbridge_referral_code, input[id$="creditbridge-referral-code"], input[id$="creditbridge/referral-code"]`
	b.run(tag+" referral field", chromedp.WaitVisible(chromedp.CSS(field)))
	classic := wpEval[bool](b, `!!document.querySelector("#place_order")`)
	shown := wpEval[string](b, `document.querySelector(`+jsQuote(field)+`).value`)
	if classic && link != "" && shown != link {
		// Classic checkout fills the field with the remembered code.
		b.t.Errorf("%s: the classic checkout's referral field shows %q, want the link's code %q", tag, shown, link)
	}
	if typed != "" {
		b.run(tag+" type code", chromedp.Click(chromedp.CSS(field)), chromedp.SendKeys(chromedp.CSS(field), typed), chromedp.Sleep(500*time.Millisecond))
		if got := wpEval[string](b, `document.querySelector(`+jsQuote(field)+`).value`); got != typed {
			b.t.Fatalf("%s: typed %q, the field holds %q", tag, typed, got)
		}
	}
	b.shot(tag + "-checkout")
	if classic {
		b.run(tag+" classic order", chromedp.Evaluate[chromedp.Void](`(function(){var r=document.querySelector("#payment_method_cod");if(r){r.click();}})()`),
			chromedp.Sleep(2*time.Second), chromedp.Click(chromedp.CSS("#place_order")))
	} else {
		b.run(tag+" block order", chromedp.Evaluate[chromedp.Void](`(function(){var r=document.querySelector("input[value=cod]");if(r){r.click();}})()`),
			chromedp.Sleep(time.Second), chromedp.Click(chromedp.CSS(".wc-block-components-checkout-place-order-button")))
	}
	var id string
	for deadline := time.Now().Add(60 * time.Second); ; {
		if m := orderReceivedID.FindStringSubmatch(wpEval[string](b, `location.href`)); m != nil {
			id = m[1]
			break
		}
		if time.Now().After(deadline) {
			b.shot("FAILED-" + tag + "-order")
			b.t.Fatalf("%s: the order was not placed; the page is %s", tag, wpEval[string](b, `location.href`))
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.run(tag+" order received", chromedp.WaitVisible(chromedp.CSS(".woocommerce-order, .wc-block-order-confirmation-status, .woocommerce-thankyou-order-received")))
	b.shot(tag + "-order-received")
	b.t.Logf("%s: order %s placed (%s checkout)", tag, id, map[bool]string{true: "classic", false: "block"}[classic])
	return id, classic
}

func jsQuote(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// orderMeta reads an order through WooCommerce's REST API (the schema
// its order webhooks carry) as the administrator: the value of meta key
// and the buyer's personal data (e-mail, names, street, postcode, phone).
func orderMeta(b *wpBrowser, id, key string) (string, []string) {
	b.t.Helper()
	js := `fetch("/wp-admin/admin-ajax.php?action=rest-nonce",{credentials:"same-origin"}).then(function(r){return r.text();}).then(function(n){
  return fetch("/wp-json/wc/v3/orders/` + id + `",{credentials:"same-origin",headers:{"X-WP-Nonce":n}});}).then(function(r){return r.json();}).then(function(o){
  var m=(o.meta_data||[]).filter(function(x){return x.key===` + jsQuote(key) + `;}), bi=o.billing||{};
  return JSON.stringify({meta:m.length?String(m[0].value):"",pii:[bi.email,bi.first_name,bi.last_name,bi.address_1,bi.postcode,bi.phone]});})`
	var out struct {
		Meta string   `json:"meta"`
		PII  []string `json:"pii"`
	}
	if err := json.Unmarshal([]byte(wpEval[string](b, js, chromedp.EvalAwaitPromise)), &out); err != nil {
		b.t.Fatalf("order %s through the REST API: %v", id, err)
	}
	var pii []string
	for _, p := range out.PII {
		if len(p) >= 3 {
			pii = append(pii, p)
		}
	}
	return out.Meta, pii
}

// realWPReferral: REALWP_REFERRAL="CODE PARTNER_USER:PASSWORD", with
// REALWP_CUSTOMER (the buyer), REALWP_ADMIN, REALWP_PRODUCT and
// REALWP_BRIDGE.
func realWPReferral(b *wpBrowser, spec string) {
	code, partnerCred, _ := strings.Cut(spec, " ")
	f := strings.Fields(os.Getenv("REALWP_BRIDGE"))
	buyer, admin, product := os.Getenv("REALWP_CUSTOMER"), os.Getenv("REALWP_ADMIN"), os.Getenv("REALWP_PRODUCT")
	if code == "" || partnerCred == "" || len(f) != 3 || buyer == "" || admin == "" || product == "" {
		b.t.Fatal(`REALWP_REFERRAL="CODE PARTNER_USER:PASSWORD" needs REALWP_BRIDGE="URL ADMIN_TOKEN SHOP", REALWP_CUSTOMER, REALWP_ADMIN and REALWP_PRODUCT`)
	}
	br := wpBridge{base: strings.TrimRight(f[0], "/"), token: f[1], shop: f[2]}
	var partners struct {
		Partners []struct {
			ID         string `json:"id"`
			Code       string `json:"code"`
			CustomerID string `json:"customer_id"`
			Status     string `json:"status"`
		} `json:"partners"`
	}
	br.get(b, "/partners?limit=200", &partners)
	partner := ""
	for _, p := range partners.Partners {
		if strings.EqualFold(p.Code, code) && p.Status == "active" {
			partner = p.CustomerID
		}
	}
	if partner == "" {
		b.t.Fatalf("no active partner with code %s linked to a customer in shop %s of the bridge", code, br.shop)
	}

	// A link followed, a code typed with no link, the partner's own link.
	linked, classic := placeReferralOrder(b, "referral-link", buyer, product, code, "")
	typed, _ := placeReferralOrder(b, "referral-typed", buyer, product, "", strings.ToLower(code))
	own, _ := placeReferralOrder(b, "referral-self", partnerCred, product, code, "")

	// The orders carry the code as meta (classic checkout or Store API).
	b.login(admin)
	b.run("admin", chromedp.Navigate(b.base+"/wp-admin/"), chromedp.WaitVisible(chromedp.CSS("#wpadminbar")))
	var buyerPII []string
	for _, o := range []struct{ id, want string }{{linked, code}, {typed, strings.ToLower(code)}, {own, code}} {
		got, pii := orderMeta(b, o.id, "_creditbridge_partner")
		if got != o.want {
			b.t.Errorf("order %s: _creditbridge_partner = %q, want %q (classic checkout: %v)", o.id, got, o.want, classic)
		}
		if o.id != own {
			buyerPII = append(buyerPII, pii...)
		}
	}
	if len(buyerPII) == 0 {
		b.t.Fatal("the referred orders have no billing data to look for")
	}

	// WooCommerce's webhooks reach the bridge; the partner is credited at
	// level 1 for both referred orders, with the order and no buyer data.
	var entries []wpStatementEntry
	var raw string
	level1 := func(order string) *wpStatementEntry {
		for i, e := range entries {
			if e.OrderID == order && e.Beneficiary == "partner1" {
				return &entries[i]
			}
		}
		return nil
	}
	ownEarn := func() bool {
		for _, e := range entries {
			if e.OrderID == own && e.Beneficiary == "buyer" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(3 * time.Minute); ; {
		nudgeCron(b)
		entries, raw = br.statement(b, partner)
		if level1(linked) != nil && level1(typed) != nil && ownEarn() {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("after 3 minutes the partner's statement has no level-1 booking for order %s (link) or %s (typed), or no own earn for %s: %s", linked, typed, own, raw)
		}
		time.Sleep(2 * time.Second)
	}
	for _, o := range []string{linked, typed} {
		e := level1(o)
		named := strings.Contains(e.Description, "(level 1)") || strings.Contains(e.Description, "(Stufe 1)")
		if e.Kind != "earn" || (strings.TrimLeft(e.Delta, "0.") == "" && strings.TrimLeft(e.Pending, "0.") == "") || !named {
			b.t.Errorf("order %s: partner booking %+v, want an earn with an amount, level 1 in its description", o, *e)
		}
		b.t.Logf("partner %s, order %s: %s %s (pending %s): %s", partner, o, e.Kind, e.Delta, e.Pending, e.Description)
	}
	// The buyer's personal data never reaches the partner's statement.
	for _, pii := range buyerPII {
		if strings.Contains(raw, pii) {
			b.t.Errorf("the partner's statement contains the buyer's %q: %s", pii, raw)
		}
	}
	// Her own code credits her as buyer only, and the bridge records why.
	if e := level1(own); e != nil {
		b.t.Errorf("self-referral: order %s credited the partner at level 1: %+v", own, *e)
	}
	var refusals struct {
		Refusals []struct {
			OrderID string `json:"order_id"`
			Reason  string `json:"reason"`
			Text    string `json:"text_en"`
		} `json:"refusals"`
	}
	br.get(b, "/referral-refusals", &refusals)
	refused := false
	for _, r := range refusals.Refusals {
		if r.OrderID == own {
			refused = true
			b.t.Logf("self-referral: order %s refused: %s (%s)", own, r.Reason, r.Text)
		}
	}
	if !refused {
		b.t.Errorf("self-referral: order %s is not among the bridge's referral refusals: %+v", own, refusals.Refusals)
	}
	// The partner sees the bookings, with level and order but not the
	// buyer, and her share code in My Account.
	b.login(partnerCred)
	b.run("partner my account", chromedp.Navigate(b.base+"/my-account/store-credit/"), chromedp.WaitVisible(chromedp.CSS("table.creditbridge-balance")))
	shown := b.waitText(".woocommerce-MyAccount-content", b.pick("Empfehlung (Stufe 1)", "referral (level 1)"))
	for _, want := range []string{linked, code} {
		if !strings.Contains(shown, want) {
			b.t.Errorf("the partner's My Account does not show %q: %s", want, shown)
		}
	}
	for _, pii := range buyerPII {
		if strings.Contains(shown, pii) {
			b.t.Errorf("the partner's My Account shows the buyer's %q", pii)
		}
	}
	b.check("referral-partner-account", ".woocommerce-MyAccount-content")
	b.t.Logf("referral: orders %s (link), %s (typed), %s (own code) in %s checkout", linked, typed, own, map[bool]string{true: "classic", false: "block"}[classic])
}
