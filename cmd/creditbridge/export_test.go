package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/datev"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"
)

// TestExportCommand runs `creditbridge export` against a shop with one
// adjustment today: the DATEV file passes the format check, the report
// shows the liability, and a bad period or shop exits 2 with the reason.
func TestExportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, 4)
	schema := pool.Config().ConnConfig.RuntimeParams["search_path"]
	const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	get, look := env(map[string]string{"DATABASE_URL": pgtest.URL() + "&search_path=" + schema, "CREDITBRIDGE_ENCRYPTION_KEY": key})
	k, _ := secretbox.ParseKey(key)
	box, _ := secretbox.New(k, nil)
	shop, err := postgres.NewShopStore(pool, box).CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://cli.example", Currency: "EUR",
		Settings: core.ShopSettings{Accounting: core.AccountingSettings{Chart: core.ChartSKR04, ConsultantNumber: 1001, ClientNumber: 1, TimeZone: "UTC"}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	l := postgres.NewLedgerStore(pool, 1)
	defer l.Close()
	if _, err := l.Post(ctx, core.Transaction{ShopID: shop.ID, Key: "adjust:cli", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "Ärger"},
		Postings: []core.Posting{{Currency: "EUR", Owner: core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}, Bucket: core.BucketAvailable, Amount: decimal.RequireFromString("7.5")},
			{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: decimal.RequireFromString("-7.5")}}}); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(shop.ID, 10)
	today := time.Now().UTC()
	from, to := today.Format("2006-01-02"), today.AddDate(0, 0, 1).Format("2006-01-02")
	var out, errb bytes.Buffer
	if code := run([]string{"export", "datev", "--shop", id, "--from", from, "--to", to}, get, look, &out, &errb); code != 0 {
		t.Fatalf("export datev: %d %s", code, errb.String())
	}
	if err := datev.Check(out.Bytes()); err != nil {
		t.Fatalf("format check: %v\n%s", err, out.Bytes())
	}
	text, _ := charmap.Windows1252.NewDecoder().String(out.String())
	if !strings.Contains(text, "\r\n7,50;\"S\";\"EUR\";;;;6600;3500;;") || !strings.Contains(errb.String(), "wrote 1 bookings") {
		t.Errorf("DATEV file (SKR04 accounts):\n%s\n%s", text, errb.String())
	}
	out.Reset()
	if code := run([]string{"export", "report", "--shop", id, "--from", from, "--to", to}, get, look, &out, &errb); code != 0 {
		t.Fatalf("export report: %d %s", code, errb.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep["closing_liability"] != "7.50" || rep["adjustments"] != "7.50" {
		t.Errorf("report (%v): %s", err, out.Bytes())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "report", "--shop", id, "--from", to, "--to", from}, "reversed"},
		{[]string{"export", "report", "--shop", id, "--from", from}, "needs both from and to"},
		{[]string{"export", "datev", "--shop", id, "--from", "2026-01-01", "--to", "2027-02-01"}, "longer than a year"},
		{[]string{"export", "datev", "--shop", "999999", "--from", from, "--to", to}, "shop 999999"},
		{[]string{"export", "report", "--shop", id, "--from", from, "--to", to, "--format", "xml"}, "json or csv"},
		{[]string{"export"}, "usage"},
	} {
		errb.Reset()
		if code := run(tc.args, get, look, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
}
