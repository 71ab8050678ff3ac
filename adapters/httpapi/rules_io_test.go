package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// TestRulesCSVImportExport: the embedded admin's rules file round trip. A
// dry run previews every line (errors at their field) and stores nothing;
// an import with an invalid line stores nothing (422); a valid one stores
// all, a Shopify collection rule with its products read from the Admin
// API; the export reads back unchanged.
func TestRulesCSVImportExport(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Secrets: core.ShopSecrets{AccessToken: e.fake.AccessToken()}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e.fake.SetCollection("841564295", "Sommertee", "632910392", "632910393", "632910394")
	base := "/api/v1/shops/" + strconv.FormatInt(shop.ID, 10)
	send := func(method, path, body string) *http.Response {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.fake.SessionToken())
		req.Header.Set("Content-Type", "text/csv")
		return e.do(req)
	}
	type plan struct {
		OK      bool                  `json:"ok"`
		Applied bool                  `json:"applied"`
		Create  int                   `json:"create"`
		Invalid int                   `json:"invalid"`
		Lines   []core.RuleImportLine `json:"lines"`
	}
	read := func(r *http.Response, status int) plan {
		t.Helper()
		body := wantStatus(t, r, status)
		var p plan
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return p
	}
	bad := "target;target_id;mode;value\ndefault;;percent;2,5\ncollection;841564295;percent;zehn\n"
	p := read(send(http.MethodPost, base+"/rules/import?dry_run=true", bad), http.StatusOK)
	if p.OK || p.Applied || p.Create != 1 || p.Invalid != 1 || len(p.Lines) != 2 || p.Lines[1].Line != 3 ||
		len(p.Lines[1].Errors) != 1 || p.Lines[1].Errors[0].Field != "value" || p.Lines[1].Errors[0].Code != core.FieldNumber {
		t.Fatalf("dry run = %+v", p)
	}
	p = read(send(http.MethodPost, base+"/rules/import", bad), http.StatusUnprocessableEntity)
	if p.Applied {
		t.Fatal("an import with an invalid line was applied")
	}
	rules, _ := e.srv.deps.Store.ListRules(ctx, shop.ID)
	if len(rules) != 0 {
		t.Fatalf("rules after refused import: %+v", rules)
	}
	// The plugin sends the file inside JSON.
	jreq := httptest.NewRequest(http.MethodPost, base+"/rules/import", strings.NewReader(`{"csv":"target,mode,value\ndefault,percent,2\n","dry_run":true}`))
	jreq.Header.Set("Authorization", "Bearer "+e.fake.SessionToken())
	jreq.Header.Set("Content-Type", "application/json")
	if p := read(e.do(jreq), http.StatusOK); !p.OK || p.Applied || p.Create != 1 {
		t.Fatalf("JSON dry run = %+v", p)
	}
	good := strings.Replace(bad, "zehn", "10", 1)
	p = read(send(http.MethodPost, base+"/rules/import?dry_run=1", good), http.StatusOK)
	if !p.OK || p.Applied || p.Create != 2 {
		t.Fatalf("dry run of a good file = %+v", p)
	}
	if rules, _ := e.srv.deps.Store.ListRules(ctx, shop.ID); len(rules) != 0 {
		t.Fatal("a dry run stored rules")
	}
	p = read(send(http.MethodPost, base+"/rules/import", good), http.StatusOK)
	if !p.OK || !p.Applied || p.Create != 2 {
		t.Fatalf("import = %+v", p)
	}
	rules, err = e.srv.deps.Store.ListRules(ctx, shop.ID)
	if err != nil || len(rules) != 2 {
		t.Fatalf("rules = %+v (%v)", rules, err)
	}
	col := rules[1]
	if col.Target != core.TargetCollection || col.Title != "Sommertee" || strings.Join(col.Products, ",") != "632910392,632910393,632910394" ||
		!col.Value.Equal(decimal.RequireFromString("10")) {
		t.Fatalf("collection rule = %+v", col)
	}
	// The export reads back as unchanged.
	csv := wantStatus(t, e.get(base+"/rules.csv", "Authorization", "Bearer "+e.fake.SessionToken()), http.StatusOK)
	if !strings.HasPrefix(csv, "target,target_id,title,beneficiary,mode,value\n") || !strings.Contains(csv, "collection,841564295,Sommertee,buyer,percent,10\n") {
		t.Fatalf("export:\n%s", csv)
	}
	p = read(send(http.MethodPost, base+"/rules/import?dry_run=true", csv), http.StatusOK)
	if !p.OK || p.Create != 0 || len(p.Lines) != 2 || p.Lines[0].Action != core.ImportUnchanged || p.Lines[1].Action != core.ImportUnchanged {
		t.Fatalf("re-import of the export = %+v", p)
	}
	// A product joins the collection: refresh reads it.
	e.fake.SetCollection("841564295", "Sommertee", "632910392", "632910393", "632910394", "632910395")
	wantStatus(t, send(http.MethodPost, base+"/rules/"+strconv.FormatInt(col.ID, 10)+"/refresh", ""), http.StatusOK)
	rules, _ = e.srv.deps.Store.ListRules(ctx, shop.ID)
	if len(rules[1].Products) != 4 {
		t.Fatalf("after refresh: %+v", rules[1])
	}
	// An unknown collection is refused at save, with nothing stored.
	req := httptest.NewRequest(http.MethodPut, base+"/rules", strings.NewReader(`{"target":"collection","target_id":"1","mode":"percent","value":"3"}`))
	req.Header.Set("Authorization", "Bearer "+e.fake.SessionToken())
	req.Header.Set("Content-Type", "application/json")
	wantStatus(t, e.do(req), http.StatusNotFound)
}
