package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/shopify/payload"
	"github.com/valyala/fasthttp"
)

// httpOpts are the flags of the HTTP modes (ingest, e2e, quote). The
// defaults match `creditbridge demo`, so the quickest setup is: run the
// demo in one terminal and cbbench in another.
type httpOpts struct {
	url, secret, opToken, db string
	rate                     int
	lines                    int
	warmup                   time.Duration
	partners                 int  // e2e/ingest: levels of the partner chains half of the orders carry (0: none)
	programs                 bool // e2e/ingest: one tier multiplier and one campaign active
}

func registerHTTP(fs *flag.FlagSet) *httpOpts {
	o := &httpOpts{}
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "creditbridge base URL")
	fs.StringVar(&o.secret, "secret", envOr("SHOPIFY_CLIENT_SECRET", "demo-shopify-secret"), "Shopify app secret the server verifies with")
	fs.StringVar(&o.opToken, "operator-token", envOr("CREDITBRIDGE_ADMIN_TOKEN", "demo-operator-token-0123456789"), "operator token")
	fs.StringVar(&o.db, "server-db", envOr("SERVER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=creditbridge_demo"), "the server's DATABASE_URL (to watch progress and audit)")
	fs.IntVar(&o.rate, "rate", 0, "target requests per second (0 = as fast as the concurrency allows)")
	fs.IntVar(&o.lines, "lines", 3, "order lines per order")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "quote mode: load run before measuring, not counted (new connections, caches)")
	fs.BoolVar(&o.programs, "programs", false, "ingest/e2e: the shop runs one tier (Gold from 200.00 net spend, ×2; customers reach it on their second order) and one shop-wide campaign (×1.5, from yesterday to tomorrow)")
	fs.IntVar(&o.partners, "partners", 0, "ingest/e2e: half of the orders carry a referral to a chain of this many partners (linked to customers), each level earning by its own rule")
	return o
}

func postJSON(client *http.Client, url, token string, body any, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, rb)
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

// benchShop creates a fresh Shopify shop with a 5% default rule.
func benchShop(client *http.Client, o httpOpts) (id int64, domain, adminToken string, err error) {
	domain = fmt.Sprintf("bench-%d.myshopify.com", time.Now().UnixNano())
	var created struct {
		Shop struct {
			ID int64 `json:"id"`
		} `json:"shop"`
		AdminToken string `json:"admin_token"`
	}
	if err = postJSON(client, o.url+"/api/v1/shops/", o.opToken, map[string]any{"platform": "shopify", "domain": domain, "name": "bench", "currency": "EUR"}, &created); err != nil {
		return
	}
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/shops/%d/rules", o.url, created.Shop.ID), bytes.NewReader([]byte(`{"target":"default","mode":"percent","value":"5"}`)))
	req.Header.Set("Authorization", "Bearer "+created.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	resp.Body.Close()
	return created.Shop.ID, domain, created.AdminToken, nil
}

// benchPrograms gives the bench shop one tier and one campaign (issue
// 11's benchmark): every order then reads its buyer's tier, writes its
// tier activity, and the tier job announces the upgrades.
func benchPrograms(client *http.Client, o httpOpts, shopID int64, adminToken string) error {
	base := fmt.Sprintf("%s/api/v1/shops/%d", o.url, shopID)
	now := time.Now().UTC()
	campaign := fmt.Sprintf(`{"time_zone":"UTC","campaigns":[{"name":"bench","multiplier":"1.5","target":"shop","starts":%q,"ends":%q}]}`,
		now.AddDate(0, 0, -1).Format("2006-01-02T15:04"), now.AddDate(0, 0, 1).Format("2006-01-02T15:04"))
	for _, r := range []struct{ method, path, body string }{
		{"PATCH", "/settings", campaign},
		{"PUT", "/tiers", `{"tiers":[{"name":"Gold","threshold":"200","multiplier":"2"}]}`},
	} {
		req, _ := http.NewRequest(r.method, base+r.path, bytes.NewReader([]byte(r.body)))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d %s", r.method, r.path, resp.StatusCode, rb)
		}
	}
	return nil
}

// benchChains enrols partner chains of the given depth (each partner a
// customer of its own, the leaf carrying the code), sets partner levels
// and a rule per level, and returns the leaves' codes.
func benchChains(client *http.Client, o httpOpts, shopID int64, adminToken string, levels int) ([]string, error) {
	base := fmt.Sprintf("%s/api/v1/shops/%d", o.url, shopID)
	do := func(method, path, body string) error {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			rb, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, rb)
		}
		return nil
	}
	if err := do("PATCH", "/settings", fmt.Sprintf(`{"partner_levels":%d}`, levels)); err != nil {
		return nil, err
	}
	for l := 1; l <= levels; l++ {
		if err := do("PUT", "/rules", fmt.Sprintf(`{"target":"default","beneficiary":"partner%d","mode":"percent","value":"%d"}`, l, levels+1-l)); err != nil {
			return nil, err
		}
	}
	const chains = 500
	var codes []string
	for c := range chains {
		sponsor := ""
		for l := levels; l >= 1; l-- {
			cust := 900000 + c*10 + l
			code := fmt.Sprintf("BENCH%d%d", c, l)
			body := fmt.Sprintf(`{"customer_id":"%d","code":"%s","sponsor_id":"%s"}`, cust, code, sponsor) //nolint:gocritic // JSON quoting, not Go's %q; the values are plain ASCII
			if err := do("POST", "/partners", body); err != nil {
				return nil, err
			}
			sponsor = fmt.Sprintf("c-%d", cust)
			if l == 1 {
				codes = append(codes, code)
			}
		}
	}
	return codes, nil
}

func runHTTP(ctx context.Context, mode string, o httpOpts, d time.Duration, conc int) error {
	switch mode {
	case "ingest", "e2e":
		return runWebhooks(ctx, mode, o, d, conc)
	case "quote":
		return runQuotes(ctx, o, d, conc)
	}
	return fmt.Errorf("unknown mode %q (ledger, holds, ingest, e2e)", mode)
}

// runWebhooks sends signed orders/paid webhooks with unique ids. ingest
// reports acceptance throughput and latency; e2e also waits until every
// order's credit is in the ledger, reports the processing rate, and audits.
func runWebhooks(ctx context.Context, mode string, o httpOpts, d time.Duration, conc int) error {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	shopID, domain, adminToken, err := benchShop(client, o)
	if err != nil {
		return fmt.Errorf("setup (is `creditbridge demo` or `serve` running at %s?): %w", o.url, err)
	}
	if o.programs {
		if err = benchPrograms(client, o, shopID, adminToken); err != nil {
			return fmt.Errorf("setup tier and campaign: %w", err)
		}
	}
	var codes []string
	if o.partners > 0 {
		if codes, err = benchChains(client, o, shopID, adminToken, o.partners); err != nil {
			return fmt.Errorf("setup partner chains: %w", err)
		}
	}
	fmt.Printf("mode=%s shop=%d url=%s concurrency=%d rate=%d lines=%d partner-levels=%d programs=%v duration=%s\n", mode, shopID, o.url, conc, o.rate, o.lines, o.partners, o.programs, d)
	base := time.Now().UnixNano() / 1000
	build := func(i int64) signedOrder {
		lines := make([]payload.Line, o.lines)
		for l := range lines {
			lines[l] = payload.Line{ID: (base+i)*10 + int64(l), ProductID: 7000 + int64(l), VariantID: 8000 + int64(l), SKU: fmt.Sprintf("SKU-%d", l),
				Title: fmt.Sprintf("Product %d", l), Quantity: 1 + l, Price: "19.90"}
		}
		ref := ""
		if len(codes) > 0 && i%2 == 0 {
			ref = codes[int(i/2)%len(codes)]
		}
		body := payload.OrderJSON(payload.Order{ID: base + i, Number: int(i), CustomerID: 1 + i%5000, Email: "bench@example.com", Currency: "EUR",
			Financial: "paid", UpdatedAt: time.Now().UTC(), Lines: lines, PartnerRef: ref})
		return signedOrder{body: body, eventID: fmt.Sprintf("bench-%d-%d", base, i), sig: shopify.SignWebhook(body, o.secret)}
	}
	// Payloads are built and signed before the clock starts: the load
	// generator shares the machine with the service, and building them
	// during the run would take CPU from what is measured.
	pre := prepare(o.rate, d, build)
	hc := &fasthttp.Client{MaxConnsPerHost: conc * 2, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	url := o.url + "/webhooks/shopify"
	var seq, accepted atomic.Int64
	send := func(int) error {
		i := seq.Add(1)
		var so signedOrder
		if int(i) <= len(pre) {
			so, pre[i-1] = pre[i-1], signedOrder{}
		} else {
			so = build(i)
		}
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.Header.Set("X-Shopify-Topic", "orders/paid")
		req.Header.Set("X-Shopify-Shop-Domain", domain)
		req.Header.Set("X-Shopify-Event-Id", so.eventID)
		req.Header.Set("X-Shopify-Hmac-Sha256", so.sig)
		req.SetBodyRaw(so.body)
		if err := hc.DoTimeout(req, resp, 10*time.Second); err != nil {
			return err
		}
		if resp.StatusCode() != 200 {
			return fmt.Errorf("HTTP %d", resp.StatusCode())
		}
		accepted.Add(1)
		return nil
	}
	deadline := time.Now().Add(d)
	var progress []float64
	var watchDone chan struct{}
	var spool *postgresPool
	if mode == "e2e" {
		spool, err = openServerDB(ctx, o.db)
		if err != nil {
			return err
		}
		defer spool.Close()
		defer autovacuumStandIn(ctx, spool.Pool, 10*time.Second)()
		watchDone = make(chan struct{})
		go func() {
			defer close(watchDone)
			last, lastT := int64(0), time.Now()
			// Every 5 s: counting the waiting events costs the server
			// more as the backlog grows.
			for time.Now().Before(deadline) && ctx.Err() == nil {
				time.Sleep(5 * time.Second)
				n, err := spool.processed(ctx, shopID, accepted.Load())
				if err != nil {
					continue
				}
				now := time.Now()
				progress = append(progress, float64(n-last)/now.Sub(lastT).Seconds())
				last, lastT = n, now
			}
		}()
	}
	rec, errs, sent := load(ctx, d, conc, o.rate, send)
	rec.report("webhooks accepted (HTTP 200)", sent, errs)
	if mode != "e2e" {
		return nil
	}
	<-watchDone
	total := int64(len(rec.all))
	fmt.Printf("waiting for the worker to drain %d orders...\n", total)
	for ctx.Err() == nil {
		n, err := spool.processed(ctx, shopID, accepted.Load())
		if err == nil && n >= total {
			break
		}
		time.Sleep(time.Second)
	}
	drained := time.Since(deadline.Add(-d))
	credited, err := spool.creditedOrders(ctx, shopID)
	if err != nil {
		return err
	}
	// steady-state processing rate: median of the 5-second rates,
	// skipping the first one (warm-up)
	steady := progress
	if len(steady) > 2 {
		steady = steady[1:]
	}
	slices.Sort(steady)
	med := 0.0
	if len(steady) > 0 {
		med = steady[len(steady)/2]
	}
	fmt.Printf("end to end: %d orders (%d lines each) credited in %s = %.0f orders/s overall; median processing rate while sending %.0f orders/s\n",
		credited, o.lines, drained.Round(time.Millisecond), float64(credited)/drained.Seconds(), med)
	if credited != total {
		return fmt.Errorf("%d orders accepted but %d credited", total, credited)
	}
	return auditShop(ctx, spool.Pool, shopID)
}

// signedOrder is one webhook delivery: body, event id and signature.
type signedOrder struct {
	body         []byte
	eventID, sig string
}

// prepare builds and signs rate×d deliveries (plus a second's worth) on
// every core; without a rate, enough for 8,000/s (more are built on the
// fly).
func prepare(rate int, d time.Duration, build func(int64) signedOrder) []signedOrder {
	if rate <= 0 {
		rate = 8000
	}
	n := int(float64(rate)*d.Seconds()) + rate
	out := make([]signedOrder, n)
	t0 := time.Now()
	var wg sync.WaitGroup
	workers := runtime.NumCPU()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				out[i] = build(int64(i + 1))
			}
		}(w)
	}
	wg.Wait()
	fmt.Printf("prepared %d signed payloads in %s\n", n, time.Since(t0).Round(time.Millisecond))
	return out
}
