package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
)

// Demo defaults: everything local, clearly not for production.
var demoDefaults = map[string]string{
	"DATABASE_URL":                "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=" + demoSchema,
	"CREDITBRIDGE_ENCRYPTION_KEY": "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=", // "demo-only-key-do-not-use-in-prod"
	"CREDITBRIDGE_ADMIN_TOKEN":    "demo-operator-token-0123456789",
	"SHOPIFY_CLIENT_ID":           "demo-client-id",
	"SHOPIFY_CLIENT_SECRET":       "demo-shopify-secret",
	"LOG_FORMAT":                  "text",
	"LOG_LEVEL":                   "warn",
	"QUEUE_NAME":                  "creditbridge-demo",
	"INBOX_SWEEP_AFTER":           "10s",
}

func demoLookup(next func(string) (string, bool)) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := next(k); ok && v != "" {
			return v, true
		}
		v, ok := demoDefaults[k]
		return v, ok
	}
}

const demoDomain = "demo-shop.myshopify.com"

func demo(ctx context.Context, cfg configs.Config, log *slog.Logger, out io.Writer) error {
	if err := createSchema(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, log, func(addr string, a *app) {
			go func() {
				if err := runDemo(ctx, cfg, a, "http://"+localAddr(addr), out); err != nil {
					fmt.Fprintln(out, "demo failed:", err)
				}
			}()
		})
	}()
	return <-done
}

func localAddr(addr string) string {
	if strings.HasPrefix(addr, "[::]") {
		return "127.0.0.1" + strings.TrimPrefix(addr, "[::]")
	}
	if strings.HasPrefix(addr, "0.0.0.0") {
		return "127.0.0.1" + strings.TrimPrefix(addr, "0.0.0.0")
	}
	return addr
}

// demoSchema is the demo's own schema: every demo run starts it afresh,
// so a demo left from an older version never blocks `make run` with
// pending migrations. No other schema is ever dropped.
const demoSchema = "creditbridge_demo"

// createSchema creates the schema named in DATABASE_URL's search_path
// (the demo's own schema is first dropped with everything in it).
func createSchema(ctx context.Context, url string) error {
	i := strings.Index(url, "search_path=")
	if i < 0 {
		return nil
	}
	schema := url[i+len("search_path="):]
	if j := strings.IndexAny(schema, "&"); j >= 0 {
		schema = schema[:j]
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL (%s): %w", strings.SplitN(url, "?", 2)[0], err)
	}
	defer c.Close(ctx)
	if schema == demoSchema {
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("reset the demo schema %s: %w", schema, err)
		}
	}
	_, err = c.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	return err
}

type demoClient struct {
	base, token string
}

func (d demoClient) do(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func sendShopify(base, topic, eventID string, body []byte, secret string) (int, error) {
	req, _ := http.NewRequest("POST", base+"/webhooks/shopify", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", topic)
	req.Header.Set("X-Shopify-Shop-Domain", demoDomain)
	req.Header.Set("X-Shopify-Event-Id", eventID)
	req.Header.Set("X-Shopify-Hmac-Sha256", shopify.SignWebhook(body, secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func runDemo(ctx context.Context, cfg configs.Config, a *app, base string, out io.Writer) error {
	// The demo shop: created once, reused on later runs (webhooks are
	// idempotent, so re-sending the same events changes nothing).
	shop, err := a.Shops.ShopByDomain(ctx, core.PlatformShopify, demoDomain)
	if core.ErrorCode(err) == core.ENOTFOUND {
		var created struct {
			Shop       core.Shop `json:"shop"`
			AdminToken string    `json:"admin_token"`
		}
		op := demoClient{base, cfg.AdminToken}
		if err := op.do("POST", "/api/v1/shops/", map[string]any{"platform": "shopify", "domain": demoDomain, "name": "Demo Shop", "currency": "EUR",
			"settings": map[string]any{"partner_levels": 2, "max_percent": "50"}}, &created); err != nil {
			return err
		}
		shop = created.Shop
	} else if err != nil {
		return err
	}
	adminTok := "demo-shop-admin-token-0123456789"
	if err := a.Shops.SetAdminToken(ctx, shop.ID, adminTok); err != nil {
		return err
	}
	api := demoClient{base, adminTok}
	sid := fmt.Sprint(shop.ID)
	for _, r := range []map[string]any{
		{"target": "default", "mode": "percent", "value": "5"},
		{"target": "sku", "target_id": "SERUM-30", "mode": "fixed", "value": "4.00"},
		{"target": "product", "target_id": "7003", "mode": "exclude"},
		{"target": "default", "beneficiary": "partner1", "mode": "percent", "value": "3"},
		{"target": "default", "beneficiary": "partner2", "mode": "percent", "value": "1"},
	} {
		if err := api.do("PUT", "/api/v1/shops/"+sid+"/rules", r, nil); err != nil {
			return err
		}
	}
	_ = api.do("PUT", "/api/v1/shops/"+sid+"/partners/lea", map[string]any{"name": "Lea"}, nil)
	_ = api.do("PUT", "/api/v1/shops/"+sid+"/partners/anna", map[string]any{"code": "ANNA10", "sponsor_id": "lea", "name": "Anna"}, nil)

	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	lines := []payload.Line{
		{ID: 9001, ProductID: 7001, VariantID: 8001, SKU: "SERUM-30", Title: "Vitamin C Serum 30ml", Quantity: 2, Price: "39.00"},
		{ID: 9002, ProductID: 7002, VariantID: 8002, SKU: "CREAM-50", Title: "Night Cream 50ml", Quantity: 1, Price: "24.90", Discount: "2.49"},
		{ID: 9003, ProductID: 7003, VariantID: 8003, SKU: "GIFTBOX", Title: "Gift box (no credit)", Quantity: 1, Price: "5.00"},
	}
	ord := payload.Order{ID: 4400000000001, Number: 1001, CustomerID: 6100000000001, Email: "maria@example.com", Currency: "EUR", Financial: "paid",
		UpdatedAt: t0, Lines: lines, PartnerRef: "ANNA10", CheckoutToken: "demo-checkout-1"}
	paid := payload.OrderJSON(ord)
	refund := payload.RefundJSON(ord.ID, 990001, 9001, 1, "EUR", t0.Add(time.Hour))
	later := ord
	later.ID, later.Number, later.UpdatedAt, later.PartnerRef = 4400000000002, 1002, t0.Add(2*time.Hour), ""
	later.Lines = []payload.Line{{ID: 9101, ProductID: 7002, VariantID: 8002, SKU: "CREAM-50", Title: "Night Cream 50ml", Quantity: 2, Price: "24.90"}}
	fmt.Fprintf(out, "\n== creditbridge demo: shop %d (%s), API on %s ==\n", shop.ID, demoDomain, base)
	fmt.Fprintln(out, "rules: default 5% · SKU SERUM-30 4.00/unit · product 7003 excluded · partner levels 3% / 1%")
	steps := []struct {
		what, topic, id string
		body            []byte
	}{
		{"orders/paid #1001 (2 serums, 1 cream, 1 gift box; referred by ANNA10)", "orders/paid", "demo-evt-1", paid},
		{"the same delivery again (Shopify retries)", "orders/paid", "demo-evt-1", paid},
		{"refunds/create: 1 serum returned", "refunds/create", "demo-evt-2", refund},
		{"orders/paid #1002 (2 creams)", "orders/paid", "demo-evt-3", payload.OrderJSON(later)},
		{"a delivery with a bad signature", "orders/paid", "demo-evt-4", nil},
	}
	for _, s := range steps {
		body, secret := s.body, cfg.ShopifySecret
		if body == nil {
			body, secret = paid, "wrong-secret"
		}
		code, err := sendShopify(base, s.topic, s.id, body, secret)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  → %-72s HTTP %d\n", s.what, code)
	}
	// Wait for the worker.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if lag, err := a.Inbox.Lag(ctx); err == nil && lag == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var bal map[string]any
	if err := api.do("GET", "/api/v1/shops/"+sid+"/customers/6100000000001/balance", nil, &bal); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nbalance of customer 6100000000001: available %v %s (pending %v, held %v)\n", bal["available"], bal["currency"], bal["pending"], bal["held"])
	var st struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := api.do("GET", "/api/v1/shops/"+sid+"/customers/6100000000001/statement", nil, &st); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nstatement (newest first):\n  #\tchange\tbalance\twhat\trule")
	for _, e := range st.Entries {
		fmt.Fprintf(tw, "  %v\t%v\t%v\t%v\t%v\n", e["seq"], e["delta"], e["available_after"], e["description"], e["rule"])
	}
	_ = tw.Flush()
	var pb map[string]any
	_ = api.do("GET", "/api/v1/shops/"+sid+"/customers/partner:anna/balance", nil, &pb)
	var pl map[string]any
	_ = api.do("GET", "/api/v1/shops/"+sid+"/customers/partner:lea/balance", nil, &pl)
	fmt.Fprintf(out, "\npartner anna (level 1): %v EUR · partner lea (level 2): %v EUR\n", pb["available"], pl["available"])
	var audit struct {
		OK bool `json:"ok"`
	}
	_ = api.do("GET", "/api/v1/shops/"+sid+"/audit", nil, &audit)
	fmt.Fprintf(out, "ledger audit: ok=%v\n", audit.OK)
	fmt.Fprintf(out, "\nThe service keeps running. Try:\n  curl -H 'Authorization: Bearer %s' %s/api/v1/shops/%s/customers/6100000000001/statement\n  curl %s/metrics | grep creditbridge_\nCtrl-C stops it.\n", adminTok, base, sid, base)
	return nil
}
