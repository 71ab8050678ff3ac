package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestReviewAndSimulation: the review API over a booked order (month
// figures, CSV), and the simulation of edited rules sent as a rules file:
// doubling the percentage doubles the credit, and nothing is booked.
func TestReviewAndSimulation(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Settings: core.ShopSettings{TimeZone: "Europe/Berlin"}, Secrets: core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "k"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := postgres.NewDirectory(e.pool)
	if _, err := dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: decimal.RequireFromString("2.5")}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-2 * time.Hour)
	o := core.Order{Platform: core.PlatformShopify, OrderID: "9001", OrderNumber: "#9001", Currency: "EUR", Paid: true, CreatedAt: at, UpdatedAt: at,
		Customer: core.CustomerRef{PlatformID: "42"}, Lines: []core.OrderLine{{LineID: "1", ProductID: "5", Quantity: 2, NetTotal: decimal.RequireFromString("80.00")}}}
	if _, err := e.earner.ApplyOrder(ctx, shop, o, nil); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/shops/" + strconv.FormatInt(shop.ID, 10)
	auth := []string{"Authorization", "Bearer " + e.fake.SessionToken()}

	var rev struct {
		Currency string `json:"currency"`
		Months   []struct {
			Month, Issued, Liability string
		} `json:"months"`
		RepeatWith struct {
			Customers int `json:"customers"`
		} `json:"repeat_with_credit"`
	}
	body := wantStatus(t, e.get(base+"/review?months=3", auth...), http.StatusOK)
	if err := json.Unmarshal([]byte(body), &rev); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Months []map[string]any `json:"months"`
	}
	_ = json.Unmarshal([]byte(body), &raw)
	if rev.Currency != "EUR" || len(raw.Months) != 3 || raw.Months[2]["issued"] != "2.00" || raw.Months[2]["liability_end"] != "2.00" ||
		raw.Months[2]["month"] != time.Now().In(mustLoc(t, "Europe/Berlin")).Format("2006-01") || rev.RepeatWith.Customers != 1 {
		t.Fatalf("review = %s", body)
	}
	csv := wantStatus(t, e.get(base+"/review.csv?months=3", auth...), http.StatusOK)
	if !strings.HasPrefix(csv, "month,currency,issued,redeemed,expired,adjustments,breakage,breakage_rate,liability_end\n") || !strings.Contains(csv, ",EUR,2.00,0.00,0.00,0.00,0.00,0.0000,2.00\n") {
		t.Fatalf("review.csv:\n%s", csv)
	}

	post := func(payload string) *http.Response {
		req := httptest.NewRequest(http.MethodPost, base+"/review/simulate", strings.NewReader(payload))
		req.Header.Set(auth[0], auth[1])
		req.Header.Set("Content-Type", "application/json")
		return e.do(req)
	}
	var sim map[string]any
	body = wantStatus(t, post(`{"days": 7, "csv": "target;mode;value\ndefault;percent;5\n"}`), http.StatusOK)
	if err := json.Unmarshal([]byte(body), &sim); err != nil {
		t.Fatal(err)
	}
	if sim["orders"] != float64(1) || sim["current"] != "2.00" || sim["simulated"] != "4.00" || sim["difference"] != "2.00" || sim["booked"] != false {
		t.Fatalf("simulation = %s", body)
	}
	// The shop's own rules: no difference.
	body = wantStatus(t, post(`{"days": 7}`), http.StatusOK)
	if !strings.Contains(body, `"difference":"0.00"`) || !strings.Contains(body, `"simulated":"2.00"`) {
		t.Fatalf("simulation with the shop's rules = %s", body)
	}
	// A bad line is named with its field; the books did not move.
	if body := wantStatus(t, post(`{"days": 7, "csv": "target,mode,value\ndefault,percent,viel\n"}`), http.StatusBadRequest); !strings.Contains(body, "line 2: value") {
		t.Fatalf("bad rules: %s", body)
	}
	wantStatus(t, post(`{"days": 400}`), http.StatusBadRequest)
	b, err := e.ledger.Balance(ctx, shop.ID, "EUR", core.Owner{Kind: core.OwnerCustomer, ID: "c:42"})
	if err != nil || !b.Available.Equal(decimal.RequireFromString("2")) {
		t.Fatalf("balance after simulating = %+v (%v), want 2.00", b, err)
	}
}
