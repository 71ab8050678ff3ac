package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// referralEmbed renders the theme extension's app embed
// (blocks/referral-capture.liquid) as Shopify would with its default
// settings and no customer logged in, followed by its javascript asset
// (the schema's "javascript": "referral.js", loaded deferred).
func referralEmbed(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "shopify", "app", "extensions", "creditbridge-referral")
	src, err := os.ReadFile(filepath.Join(dir, "blocks", "referral-capture.liquid"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		JavaScript string `json:"javascript"`
		Settings   []struct {
			ID      string `json:"id"`
			Default any    `json:"default"`
		} `json:"settings"`
	}
	s := string(src)
	body, schemaText, ok := strings.Cut(s, "{% schema %}")
	if !ok {
		t.Fatal("referral-capture.liquid has no schema")
	}
	schemaText, _, _ = strings.Cut(schemaText, "{% endschema %}")
	if err := json.Unmarshal([]byte(schemaText), &schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	defaults := map[string]any{}
	for _, st := range schema.Settings {
		defaults[st.ID] = st.Default
	}
	body = regexp.MustCompile(`(?s)\{%-? comment -?%\}.*?\{%-? endcomment -?%\}`).ReplaceAllString(body, "")
	// The only Liquid in the block: {{ block.settings.X [| default: "…"] | json }} and {{ customer.id | json }}.
	out := regexp.MustCompile(`\{\{\s*([a-z_.]+)[^}]*\}\}`).ReplaceAllStringFunc(body, func(m string) string {
		expr := regexp.MustCompile(`\{\{\s*([a-z_.]+)`).FindStringSubmatch(m)[1]
		var v any
		if name, ok := strings.CutPrefix(expr, "block.settings."); ok {
			v = defaults[name]
		} else if expr != "customer.id" {
			t.Fatalf("unexpected Liquid %q in the embed", m)
		}
		b, _ := json.Marshal(v)
		return string(b)
	})
	if strings.Contains(out, "{{") || strings.Contains(out, "{%") {
		t.Fatalf("Liquid left in the rendered embed:\n%s", out)
	}
	return out + `<script src="/cdn/` + schema.JavaScript + `" defer></script>`
}

// TestShopifyReferralLinkToCredit proves the Shopify referral path in one
// run: chromium opens a storefront page (a German locale root, /de/) with
// ?ref=LEAF that includes the real theme app extension embed and script;
// the script writes the cart attribute through a fake of Shopify's Ajax
// Cart API (POST {root}cart/update.js, JSON body {"attributes": {…}});
// the cart's attributes become the order's note_attributes in the real
// orders/paid body, as Shopify copies them at checkout; the webhook
// credits the partner chain.
func TestShopifyReferralLinkToCredit(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium, _ = exec.LookPath("chromium")
	}
	if chromium == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("chromium is not installed (apt-get install -y chromium, or set CHROMIUM)")
	}
	t.Parallel()
	e := newEnv(t, envOptions{})
	domain := "capture-" + randomHex(4) + ".myshopify.com"
	s := e.createShop(map[string]any{"platform": "shopify", "domain": domain, "name": "Capture", "currency": "USD"})
	e.putRules(s,
		map[string]any{"target": "default", "mode": "percent", "value": "10"},
		map[string]any{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "5"},
		map[string]any{"target": "default", "beneficiary": "partner2", "mode": "percent", "value": "2"})
	must(t, e.as(s.AdminToken, "PATCH", s.Path+"/settings", map[string]any{"partner_levels": 2}), http.StatusOK)
	for _, p := range []map[string]any{{"customer_id": "501"}, {"customer_id": "502", "sponsor_id": "c-501", "code": "LEAF"}} {
		must(t, e.as(s.AdminToken, "POST", s.Path+"/partners", p), http.StatusCreated)
	}

	// The storefront: a page with the embed, the asset, and the cart.
	embed := referralEmbed(t)
	var mu sync.Mutex
	attrs := map[string]string{}
	var updates []string
	mux := http.NewServeMux()
	mux.HandleFunc("/de/products/tea", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Tee</title>
<script>window.Shopify = {routes: {root: "/de/"}};</script></head><body><h1>Tee</h1>%s</body></html>`, embed)
	})
	mux.HandleFunc("/cdn/referral.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, filepath.Join("..", "shopify", "app", "extensions", "creditbridge-referral", "assets", "referral.js"))
	})
	cart := func(w http.ResponseWriter) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"token": "c1", "note": nil, "attributes": attrs, "items": []any{}, "item_count": 0})
	}
	mux.HandleFunc("GET /de/cart.js", func(w http.ResponseWriter, r *http.Request) { cart(w) })
	mux.HandleFunc("POST /de/cart/update.js", func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body struct {
			Attributes map[string]string `json:"attributes"`
		}
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &body) != nil || len(body.Attributes) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		updates = append(updates, string(raw))
		for k, v := range body.Attributes {
			attrs[k] = v
		}
		mu.Unlock()
		cart(w)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+ln.Addr().String()+"/de/products/tea?utm_source=mail&ref=LEAF"),
		chromedp.WaitReady("h1")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(updates)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the embed never wrote the cart attribute")
		}
	}
	remembered, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("creditbridge_ref") + " " + document.cookie`))
	if err != nil || !strings.Contains(remembered, `"code":"LEAF"`) || !strings.Contains(remembered, "creditbridge_ref=LEAF") {
		t.Errorf("the code is not remembered for the window: %s %v", remembered, err)
	}
	mu.Lock()
	if len(updates) != 1 || updates[0] != `{"attributes":{"creditbridge_partner":"LEAF"}}` {
		t.Fatalf("cart/update.js bodies %q", updates)
	}
	captured := map[string]string{}
	for k, v := range attrs {
		captured[k] = v
	}
	mu.Unlock()

	// Checkout: Shopify copies the cart attributes into the order's
	// note_attributes ([{name, value}]).
	m := map[string]any{}
	if err := json.Unmarshal(fixtureOrder(t, domain, 7401, 42, "mia.buyer@example.net", "", time.Now().Add(-time.Minute), false), &m); err != nil {
		t.Fatal(err)
	}
	var notes []any
	for k, v := range captured {
		notes = append(notes, map[string]any{"name": k, "value": v})
	}
	m["note_attributes"] = notes
	body, _ := json.Marshal(m)
	must(t, e.shopifyWebhook(domain, "orders/paid", "cap-1", body, shopifySecret), http.StatusOK)
	e.drain()
	for c, want := range map[string]string{"42": "10.00", "502": "5.00", "501": "2.00"} {
		if b := e.balance(s, c); b.Available != want {
			t.Errorf("customer %s available %s, want %s", c, b.Available, want)
		}
	}
	e.auditOK(s.ID)
}
