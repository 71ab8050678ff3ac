package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
)

// runQuotes registers a WooCommerce shop the way the companion plugin
// does, gives many customers credit, then sends signed checkout quotes
// (each places or reuses a hold) at the chosen rate.
func runQuotes(ctx context.Context, o httpOpts, d time.Duration, conc int) error {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var reg struct {
		ShopID       string `json:"shop_id"`
		PluginSecret string `json:"plugin_secret"`
		AdminToken   string `json:"admin_token"`
	}
	site := fmt.Sprintf("https://bench-%d.example.com", time.Now().UnixNano())
	if err := postJSON(client, o.url+"/api/v1/woocommerce/register", o.opToken, map[string]any{"site_url": site, "consumer_key": "ck_bench", "consumer_secret": "cs_bench", "currency": "EUR"}, &reg); err != nil {
		return fmt.Errorf("setup (is `creditbridge demo` or `serve` running at %s?): %w", o.url, err)
	}
	const customers = 2000
	fmt.Printf("mode=quote shop=%s url=%s concurrency=%d rate=%d duration=%s customers=%d\n", reg.ShopID, o.url, conc, o.rate, d, customers)
	// Seed credit through the admin API (idempotent adjustments).
	var seeded atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for c := w; c < customers; c += 16 {
				err := postJSON(client, fmt.Sprintf("%s/api/v1/shops/%s/customers/%d/adjustments", o.url, reg.ShopID, c+1), reg.AdminToken,
					map[string]any{"amount": "100000.00", "note": "benchmark seed", "idempotency_key": fmt.Sprintf("seed-%d", c)}, nil)
				if err == nil {
					seeded.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	if seeded.Load() != customers {
		return fmt.Errorf("seeded %d of %d customers", seeded.Load(), customers)
	}
	spool, err := openServerDB(ctx, o.db)
	if err != nil {
		return err
	}
	defer spool.Close()
	defer autovacuumStandIn(ctx, spool.Pool, 10*time.Second)()
	var seq, zero atomic.Int64
	// Each cart quotes twice in a row (the second reuses its hold), as a
	// checkout does from cart page to payment page: per-worker state.
	type cartState struct{ cart, rep int64 }
	carts := make([]cartState, conc)
	quote := func(w int) error {
		st := &carts[w]
		if st.rep%2 == 0 {
			st.cart = seq.Add(1)
		}
		st.rep++
		body, _ := json.Marshal(map[string]any{"customer_id": strconv.FormatInt(1+st.cart%customers, 10), "cart_key": fmt.Sprintf("cart-%d", st.cart),
			"currency": "EUR", "subtotal": "40.00", "lines": []any{map[string]any{"product_id": "1", "quantity": 2, "total": "40.00"}}})
		path := "/api/v1/plugin/quote"
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, _ := http.NewRequest("POST", o.url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Creditbridge-Shop", reg.ShopID)
		req.Header.Set("X-Creditbridge-Timestamp", ts)
		req.Header.Set("X-Creditbridge-Signature", httpapi.PluginSignature(reg.PluginSecret, ts, "POST", path, body))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var q struct {
			Amount string `json:"amount"`
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || json.Unmarshal(b, &q) != nil {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if q.Amount != "40.00" {
			zero.Add(1)
		}
		return nil
	}
	if o.warmup > 0 {
		load(ctx, o.warmup, conc, o.rate, quote)
	}
	rec, errs, elapsed := load(ctx, d, conc, o.rate, quote)
	rec.report("quotes with hold placement", elapsed, errs)
	if zero.Load() > 0 {
		return fmt.Errorf("%d quotes applied less credit than expected", zero.Load())
	}
	id, _ := strconv.ParseInt(reg.ShopID, 10, 64)
	return auditShop(ctx, spool.Pool, id)
}
