package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
	"github.com/creditbridge/creditbridge/adapters/shopify/admin/shopifyfake"
	"github.com/creditbridge/creditbridge/core"
)

// sleeps records the delays the client asks for instead of waiting.
type sleeps struct {
	mu   sync.Mutex
	d    []time.Duration
	real bool // also wait (for tests against the fake's real-time bucket)
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	real := s.real
	s.mu.Unlock()
	if real && d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

type bundle struct {
	srv    *shopifyfake.Server
	client *admin.Client
	sleeps *sleeps
}

func setup(t *testing.T, opts shopifyfake.Options, extra ...admin.Option) bundle {
	t.Helper()
	srv := shopifyfake.New(t, opts)
	sl := &sleeps{}
	copts := []admin.Option{admin.WithBaseURL(srv.URL), admin.WithSleepFunc(sl.sleep), admin.WithTimeout(5 * time.Second), admin.WithBackoff(time.Millisecond)}
	c := admin.NewClient(srv.ShopDomain(), srv.AccessToken(), srv.APIVersion(), append(copts, extra...)...)
	return bundle{srv: srv, client: c, sleeps: sl}
}

const customer = "gid://shopify/Customer/7001234567890"

func TestSetCustomerCreditMetafield(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	ctx := context.Background()
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	err := b.client.SetCustomerCreditMetafield(ctx, customer, admin.CreditMetafield{
		Amount: "12.5", Currency: "eur", MaxPercent: "50", MaxAmount: "20", MinOrder: "30.00", UpdatedAt: at,
	})
	if err != nil {
		t.Fatalf("SetCustomerCreditMetafield: %v", err)
	}
	raw, ok := b.srv.Metafield(customer)
	if !ok {
		t.Fatal("metafield not recorded by the fake")
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("metafield value is not a JSON object of strings: %v (%s)", err, raw)
	}
	want := map[string]string{
		"amount": "12.50", "currency": "EUR", "max_percent": "50", "max_amount": "20.00",
		"min_order": "30.00", "updated_at": "2025-03-01T09:00:00Z",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metafield %s = %q, want %q", k, got[k], v)
		}
	}
	reqs := b.srv.Requests()
	if len(reqs) != 1 || reqs[0].OperationName != "CreditbridgeMetafieldsSet" {
		t.Fatalf("requests = %+v, want one metafieldsSet", reqs)
	}
	mf := reqs[0].Variables["metafields"].([]any)[0].(map[string]any)
	if mf["namespace"] != admin.MetafieldNamespace || mf["key"] != admin.MetafieldKey || mf["type"] != "json" {
		t.Errorf("metafield input = %v", mf)
	}

	// Labels per checkout language travel as an object.
	if err := b.client.SetCustomerCreditMetafield(ctx, customer, admin.CreditMetafield{Amount: "1", Currency: "EUR", UpdatedAt: at,
		Labels: map[string]string{"de": " Treuebonus ", "en": "Loyalty credit"}}); err != nil {
		t.Fatalf("set with labels: %v", err)
	}
	raw, _ = b.srv.Metafield(customer)
	var withLabels struct {
		Labels map[string]string `json:"labels"`
	}
	if err := json.Unmarshal([]byte(raw), &withLabels); err != nil || withLabels.Labels["de"] != "Treuebonus" || withLabels.Labels["en"] != "Loyalty credit" {
		t.Errorf("labels in %s (%v)", raw, err)
	}

	// Optional caps may be omitted; a second call replaces the value.
	if err := b.client.SetCustomerCreditMetafield(ctx, customer, admin.CreditMetafield{Amount: "0", Currency: "EUR", UpdatedAt: at}); err != nil {
		t.Fatalf("second set: %v", err)
	}
	raw, _ = b.srv.Metafield(customer)
	if strings.Contains(raw, "max_percent") || strings.Contains(raw, "labels") || !strings.Contains(raw, `"amount":"0.00"`) {
		t.Errorf("replaced metafield = %s", raw)
	}
}

func TestSetCustomerCreditMetafieldRejectsBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	cases := map[string]struct {
		gid string
		m   admin.CreditMetafield
	}{
		"too many decimals": {customer, admin.CreditMetafield{Amount: "1.005", Currency: "EUR"}},
		"JPY decimals":      {customer, admin.CreditMetafield{Amount: "10.5", Currency: "JPY"}},
		"negative":          {customer, admin.CreditMetafield{Amount: "-1", Currency: "EUR"}},
		"missing amount":    {customer, admin.CreditMetafield{Currency: "EUR"}},
		"unknown currency":  {customer, admin.CreditMetafield{Amount: "1", Currency: "XXX"}},
		"percent above 100": {customer, admin.CreditMetafield{Amount: "1", Currency: "EUR", MaxPercent: "100.01"}},
		"percent zero":      {customer, admin.CreditMetafield{Amount: "1", Currency: "EUR", MaxPercent: "0"}},
		"not a customer":    {"gid://shopify/Order/1", admin.CreditMetafield{Amount: "1", Currency: "EUR"}},
		"empty gid":         {"", admin.CreditMetafield{Amount: "1", Currency: "EUR"}},
		"label language":    {customer, admin.CreditMetafield{Amount: "1", Currency: "EUR", Labels: map[string]string{"fr": "Crédit"}}},
		"empty label":       {customer, admin.CreditMetafield{Amount: "1", Currency: "EUR", Labels: map[string]string{"de": " "}}},
	}
	for name, tc := range cases {
		err := b.client.SetCustomerCreditMetafield(context.Background(), tc.gid, tc.m)
		if core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
	if n := len(b.srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for invalid input, want 0", n)
	}
}

func TestVoucherLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	ctx := context.Background()
	start := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	v := admin.VoucherCode{
		Code: "CB-7K2M9Q", Title: "Store credit voucher", CustomerGID: customer,
		Amount: "25", Currency: "EUR", StartsAt: start, EndsAt: start.Add(30 * 24 * time.Hour),
		CombinesWith: admin.CombinesWith{ProductDiscounts: true},
	}
	gid, err := b.client.CreateVoucherCode(ctx, v)
	if err != nil {
		t.Fatalf("CreateVoucherCode: %v", err)
	}
	if !strings.HasPrefix(gid, "gid://shopify/DiscountCodeNode/") {
		t.Fatalf("gid = %q", gid)
	}
	codes := b.srv.Codes()
	if len(codes) != 1 {
		t.Fatalf("fake has %d codes, want 1", len(codes))
	}
	c := codes[0]
	if c.ID != gid || c.Code != "CB-7K2M9Q" || c.Amount != "25.00" || c.UsageLimit != 1 || !c.AppliesOncePerCustomer ||
		c.AllCustomers || len(c.CustomerGIDs) != 1 || c.CustomerGIDs[0] != customer || !c.AllItems || c.AppliesOnEachItem ||
		c.StartsAt != "2025-05-01T00:00:00Z" || c.EndsAt != "2025-05-31T00:00:00Z" {
		t.Errorf("code = %+v", c)
	}
	if c.CombinesWith["productDiscounts"] != true || c.CombinesWith["orderDiscounts"] != false {
		t.Errorf("combinesWith = %v", c.CombinesWith)
	}

	n, status, found, err := b.client.CodeUsage(ctx, "cb-7k2m9q") // codes are case-insensitive
	if err != nil || !found || n != 0 || status != "ACTIVE" {
		t.Fatalf("CodeUsage = %d %q %t %v, want 0 ACTIVE true", n, status, found, err)
	}
	b.srv.MarkCodeUsed("CB-7K2M9Q")
	if n, _, _, err = b.client.CodeUsage(ctx, "CB-7K2M9Q"); err != nil || n != 1 {
		t.Fatalf("CodeUsage after use = %d, %v; want 1", n, err)
	}

	// The same code again is rejected by Shopify: userErrors -> EINVALID.
	_, err = b.client.CreateVoucherCode(ctx, v)
	var ue *admin.UserErrors
	if !errors.As(err, &ue) || ue.Mutation != "discountCodeBasicCreate" || len(ue.Errors) != 1 || ue.Errors[0].Code != "TAKEN" {
		t.Fatalf("duplicate create err = %v, want UserErrors TAKEN", err)
	}
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(core.ErrorMessage(err), "unique") {
		t.Errorf("duplicate create: code %q message %q", core.ErrorCode(err), core.ErrorMessage(err))
	}

	if err := b.client.DeactivateCode(ctx, gid); err != nil {
		t.Fatalf("DeactivateCode: %v", err)
	}
	if _, status, _, _ = b.client.CodeUsage(ctx, "CB-7K2M9Q"); status != "EXPIRED" {
		t.Errorf("status after deactivate = %q, want EXPIRED", status)
	}
	err = b.client.DeactivateCode(ctx, "gid://shopify/DiscountCodeNode/1")
	if core.ErrorCode(err) != core.EINVALID {
		t.Errorf("deactivate unknown: %v, want EINVALID", err)
	}
	if _, _, found, err = b.client.CodeUsage(ctx, "NOPE"); err != nil || found {
		t.Errorf("CodeUsage(unknown) found=%t err=%v", found, err)
	}
}

func TestVoucherForGuestAndValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	ctx := context.Background()
	start := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	if _, err := b.client.CreateVoucherCode(ctx, admin.VoucherCode{Code: "GUEST1", Amount: "5.00", Currency: "EUR", StartsAt: start}); err != nil {
		t.Fatalf("guest voucher: %v", err)
	}
	c := b.srv.Codes()[0]
	if !c.AllCustomers || c.EndsAt != "" || c.UsageLimit != 1 || c.Title == "" {
		t.Errorf("guest code = %+v", c)
	}
	bad := []admin.VoucherCode{
		{Code: "", Amount: "5", Currency: "EUR", StartsAt: start},
		{Code: "HAS SPACE", Amount: "5", Currency: "EUR", StartsAt: start},
		{Code: "X1", Amount: "0", Currency: "EUR", StartsAt: start},
		{Code: "X2", Amount: "5.001", Currency: "EUR", StartsAt: start},
		{Code: "X3", Amount: "5", Currency: "EUR"},
		{Code: "X4", Amount: "5", Currency: "EUR", StartsAt: start, EndsAt: start},
		{Code: "X5", Amount: "5", Currency: "EUR", StartsAt: start, CustomerGID: "7001"},
	}
	for _, v := range bad {
		if _, err := b.client.CreateVoucherCode(ctx, v); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("CreateVoucherCode(%+v) err = %v, want EINVALID", v, err)
		}
	}
	if n := len(b.srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (invalid vouchers must not be sent)", n)
	}
}

func TestAutomaticDiscount(t *testing.T) {
	t.Parallel()
	fns := []shopifyfake.Function{{ID: "fn-other", Title: "other", APIType: "discount", Handle: "other"},
		{ID: "fn-cb", Title: "creditbridge-discount", APIType: "discount", Handle: admin.FunctionHandle}}
	b := setup(t, shopifyfake.Options{Functions: fns})
	ctx := context.Background()
	gid, err := b.client.CreateAutomaticCreditDiscount(ctx, "", "")
	if err != nil || !strings.HasPrefix(gid, "gid://shopify/DiscountAutomaticNode/") {
		t.Fatalf("CreateAutomaticCreditDiscount = %q, %v", gid, err)
	}
	ds := b.srv.AutomaticDiscounts()
	if len(ds) != 1 || ds[0].FunctionHandle != admin.FunctionHandle || ds[0].Title != "Store credit" || ds[0].CombinesWith["orderDiscounts"] != true ||
		!ds[0].AllBuyers || !slices.Equal(ds[0].DiscountClasses, []string{"ORDER"}) {
		t.Errorf("automatic discounts = %+v", ds)
	}
	if _, err := b.client.CreateAutomaticCreditDiscount(ctx, "unknown", "x"); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("unknown function: %v, want EINVALID", err)
	}
}

func TestShop(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{Currency: "CHF", ShopName: "Velo"})
	s, err := b.client.Shop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "Velo" || s.CurrencyCode != "CHF" || s.MyshopifyDomain != b.srv.ShopDomain() {
		t.Errorf("Shop = %+v", s)
	}
}

func TestThrottledRequestIsRetriedAfterRefill(t *testing.T) {
	t.Parallel()
	frozen := time.Now()
	b := setup(t, shopifyfake.Options{RestoreRate: 50}, admin.WithNowFunc(func() time.Time { return frozen }))
	b.srv.Throttle(2)
	if _, err := b.client.Shop(context.Background()); err != nil {
		t.Fatalf("Shop after throttling: %v", err)
	}
	reqs := b.srv.Requests()
	if len(reqs) != 3 || !reqs[0].Throttled || !reqs[1].Throttled || reqs[2].Throttled {
		t.Fatalf("requests = %+v, want 2 throttled then 1 answered", reqs)
	}
	// The throttled responses report an empty bucket, so before each retry
	// the client waits cost/restoreRate = 1/50 s for the bucket to refill.
	var refills int
	for _, d := range b.sleeps.all() {
		if d == 20*time.Millisecond {
			refills++
		}
	}
	if refills != 2 {
		t.Errorf("sleeps = %v, want two refill waits of about 20ms", b.sleeps.all())
	}
	if ts := b.client.Throttle(); ts.MaximumAvailable != 2000 || ts.RestoreRate != 50 {
		t.Errorf("tracked throttle status = %+v", ts)
	}
}

func TestThrottledTooOftenGivesUp(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	b.srv.Throttle(10)
	_, err := b.client.Shop(context.Background())
	var gerr *admin.GraphQLError
	if !errors.As(err, &gerr) || !gerr.HasCode("THROTTLED") {
		t.Fatalf("err = %v, want THROTTLED GraphQLError", err)
	}
	if n := len(b.srv.Requests()); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}
}

func TestClientWaitsBeforeSendingWhenBucketIsLow(t *testing.T) {
	t.Parallel()
	// A tiny bucket: 25 points, refilling 10 per second. Each mutation
	// costs 10, so the third call in quick succession must wait.
	b := setup(t, shopifyfake.Options{MaximumAvailable: 25, RestoreRate: 10})
	b.sleeps.real = true
	ctx := context.Background()
	m := admin.CreditMetafield{Amount: "1.00", Currency: "EUR"}
	for range 3 {
		if err := b.client.SetCustomerCreditMetafield(ctx, customer, m); err != nil {
			t.Fatal(err)
		}
	}
	var waited time.Duration
	for _, d := range b.sleeps.all() {
		waited += d
	}
	// After two calls the fake reports 5 available; the third call needs
	// 10 → wait about 0.5 s (less whatever refilled meanwhile).
	if waited < 100*time.Millisecond || waited > 600*time.Millisecond {
		t.Errorf("client waited %v before the third call, want about 500ms (sleeps %v)", waited, b.sleeps.all())
	}
	if reqs := b.srv.Requests(); len(reqs) != 3 || reqs[2].Throttled {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestServerErrorsRetriedForQueriesOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	ctx := context.Background()
	b.srv.FailNext(503, 502, 429)
	if _, err := b.client.Shop(ctx); err != nil {
		t.Fatalf("query after 503, 502, 429: %v", err)
	}
	if n := len(b.srv.Requests()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
	d := b.sleeps.all()
	if len(d) != 3 || d[0] <= 0 || d[1] <= 0 || d[2] < 10*time.Millisecond {
		t.Errorf("backoff sleeps = %v, want three positive delays, the last honouring Retry-After", d)
	}

	// A non-idempotent mutation is not repeated after a 5xx: Shopify may
	// have executed it.
	b.srv.FailNext(503)
	_, err := b.client.CreateVoucherCode(ctx, admin.VoucherCode{Code: "X9", Amount: "1", Currency: "EUR", StartsAt: time.Now()})
	var herr *admin.HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != 503 {
		t.Fatalf("err = %v, want HTTPError 503", err)
	}
	if n := len(b.srv.Requests()); n != 5 {
		t.Errorf("%d requests, want 5 (mutation sent once)", n)
	}
	// But 429 means "not executed", so even that mutation is retried.
	b.srv.FailNext(429)
	if _, err := b.client.CreateVoucherCode(ctx, admin.VoucherCode{Code: "X9", Amount: "1", Currency: "EUR", StartsAt: time.Now()}); err != nil {
		t.Fatalf("mutation after 429: %v", err)
	}
	// An idempotent mutation is retried after a 5xx.
	b.srv.FailNext(500)
	if err := b.client.SetCustomerCreditMetafield(ctx, customer, admin.CreditMetafield{Amount: "1", Currency: "EUR"}); err != nil {
		t.Fatalf("metafieldsSet after 500: %v", err)
	}
	b.srv.FailNext(500, 500, 500, 500)
	_, err = b.client.Shop(ctx)
	if !errors.As(err, &herr) || herr.StatusCode != 500 {
		t.Errorf("after 4 failures err = %v, want HTTPError 500", err)
	}
}

func TestWrongTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	srv := shopifyfake.New(t, shopifyfake.Options{})
	c := admin.NewClient(srv.ShopDomain(), "shpat_wrong", "", admin.WithBaseURL(srv.URL))
	_, err := c.Shop(context.Background())
	var herr *admin.HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusUnauthorized || core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Fatalf("err = %v, want 401 EUNAUTHORIZED", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (401 is not retried)", n)
	}
}

func TestGraphQLErrorsSurfaced(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{AllowInvalidQueries: true})
	var out map[string]any
	err := b.client.Do(context.Background(), `query { shop { nmae } }`, nil, &out) //nolint:misspell // the misspelled field is the test
	var gerr *admin.GraphQLError
	if !errors.As(err, &gerr) || len(gerr.Errors) == 0 || !strings.Contains(gerr.Errors[0].Message, "nmae") { //nolint:misspell // the misspelled field is the test
		t.Fatalf("err = %v, want GraphQLError naming the bad field", err)
	}
	if n := len(b.srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (GraphQL errors are not retried)", n)
	}
	// Wrong variable types are caught by the fake's variable validation.
	err = b.client.Do(context.Background(), admin.CodeDiscountNodeByCodeQuery, map[string]any{"code": 12}, nil)
	if !errors.As(err, &gerr) {
		t.Fatalf("err = %v, want GraphQLError for a bad variable", err)
	}
}

// TestCollectionProducts reads a collection's products page by page (the
// fake pages by two) as numeric ids; an unknown collection is ENOTFOUND.
func TestCollectionProducts(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{})
	b.srv.SetCollection("841564295", "Sommertee", "632910392", "632910393", "632910394", "632910395", "632910396")
	c, err := b.client.CollectionProducts(context.Background(), "841564295")
	if err != nil {
		t.Fatal(err)
	}
	if c.Title != "Sommertee" || strings.Join(c.ProductIDs, ",") != "632910392,632910393,632910394,632910395,632910396" {
		t.Errorf("collection = %+v", c)
	}
	if n := len(b.srv.Requests()); n != 3 {
		t.Errorf("%d requests for 5 products, want 3 pages", n)
	}
	if _, err := b.client.CollectionProducts(context.Background(), "gid://shopify/Collection/1"); core.ErrorCode(err) != core.ENOTFOUND {
		t.Errorf("unknown collection: %v", err)
	}
	if _, err := b.client.CollectionProducts(context.Background(), "gid://shopify/Product/1"); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("not a collection id: %v", err)
	}
}
