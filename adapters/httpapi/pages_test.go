package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// limitedVouchers issues vouchers up to an available amount, as the real
// service does (EINSUFFICIENT beyond it).
type limitedVouchers struct {
	mu sync.Mutex // the browser test's storefront reads codes while the bridge issues them
	sappVouchers
	available decimal.Decimal
}

func (v *limitedVouchers) Issue(ctx context.Context, shop core.Shop, owner core.Owner, cur string, amt decimal.Decimal, key string) (core.Voucher, error) {
	if amt.GreaterThan(v.available) {
		return core.Voucher{}, core.Errorf(core.EINSUFFICIENT, "insufficient credit")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sappVouchers.Issue(ctx, shop, owner, cur, amt, key)
}

// amountOf is the amount in cents of a code Issue gave out (CB-TEST-n).
func (v *limitedVouchers) amountOf(code string) (int64, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := strconv.Atoi(strings.TrimPrefix(code, "CB-TEST-"))
	if err != nil || n < 1 || n > len(v.issued) {
		return 0, false
	}
	return v.issued[n-1].Shift(2).IntPart(), true
}

// lastIssued is the amount of the newest voucher.
func (v *limitedVouchers) lastIssued() decimal.Decimal {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.issued[len(v.issued)-1]
}

func (e *sappEnv) post(shop core.Shop, key string, reason core.Reason, postings ...core.Posting) {
	e.t.Helper()
	for i := range postings {
		postings[i].Currency = shop.Currency
	}
	if _, err := e.ledger.Post(context.Background(), core.Transaction{ShopID: shop.ID, Key: key, Reason: reason, Postings: postings}); err != nil {
		e.t.Fatal(err)
	}
}

func formField(t *testing.T, page, name string) string {
	t.Helper()
	marker := `name="` + name + `" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("page has no %s field:\n%s", name, page)
	}
	v := page[i+len(marker):]
	return v[:strings.IndexByte(v, '"')]
}

func link(t *testing.T, page, text string) string {
	t.Helper()
	i := strings.Index(page, text)
	if i < 0 {
		t.Fatalf("page has no link %q:\n%s", text, page)
	}
	h := strings.LastIndex(page[:i], `href="`)
	v := page[h+len(`href="`):]
	return strings.ReplaceAll(v[:strings.IndexByte(v, '"')], "&amp;", "&")
}

// TestStorefrontStatementGerman: a German shop's statement page shows
// German texts, amounts as 1.234,56 €, dates as "6. Dezember 2026" in the
// shop's time zone, pending credit with its date, issued voucher codes,
// no hold/release pairs (the merchant still sees them), pages both ways,
// and errors of the voucher form as a page in German.
func TestStorefrontStatementGerman(t *testing.T) {
	t.Parallel()
	vouchers := &limitedVouchers{available: decimal.RequireFromString("1234.56")}
	e := newSappEnv(t, vouchers)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Settings: core.ShopSettings{Locale: "de", TimeZone: "Europe/Berlin", PendingDays: 14},
		Secrets:  core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "customer-key"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := postgres.NewDirectory(e.pool)
	if _, err := dir.PutRule(ctx, shop.ID, core.Rule{Target: core.TargetDefault, Mode: core.ModePercent, Value: decimal.RequireFromString("2.5")}); err != nil {
		t.Fatal(err)
	}
	secret := e.fake.ClientSecret()
	get := func(customer string, extra url.Values) string {
		v := e.proxyValues(customer)
		for k, x := range extra {
			v[k] = x
		}
		return wantStatus(t, e.proxy(http.MethodGet, "/proxy/statement", v, secret, nil, ""), http.StatusOK)
	}

	// Empty: how to earn, from the shop's rules.
	empty := get("42", nil)
	for _, want := range []string{`lang="de"`, "Du hast noch kein Guthaben.", "2,5 % des Preises bei jedem Einkauf", "14 Tage nach der Bestellung"} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty page lacks %q:\n%s", want, empty)
		}
	}

	cust := core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID("42")}
	amt := decimal.RequireFromString("1234.56")
	e.post(shop, "earn:1", core.Reason{Kind: core.ReasonEarn, OrderNumber: "#1001", Product: "Teekanne"},
		core.Posting{Owner: cust, Bucket: core.BucketPending, Amount: amt},
		core.Posting{Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: amt.Neg()})
	ten := decimal.RequireFromString("10.00")
	e.adjust(shop, "42", "bonus", "10.00", "Willkommen")
	e.post(shop, "hold:1:place", core.Reason{Kind: core.ReasonHoldPlace, HoldID: "1"},
		core.Posting{Owner: cust, Bucket: core.BucketAvailable, Amount: ten.Neg()}, core.Posting{Owner: cust, Bucket: core.BucketHeld, Amount: ten})
	e.post(shop, "hold:1:resolve", core.Reason{Kind: core.ReasonHoldVoid, HoldID: "1"},
		core.Posting{Owner: cust, Bucket: core.BucketHeld, Amount: ten.Neg()}, core.Posting{Owner: cust, Bucket: core.BucketAvailable, Amount: ten})

	page := get("42", nil)
	from := time.Now().AddDate(0, 0, 14).In(mustLoc(t, "Europe/Berlin"))
	fromText := from.Format("2") + ". " + germanMonths[from.Month()-1] + " " + from.Format("2006")
	for _, want := range []string{"Jetzt verfügbar", "10,00\u00a0€", "1.234,56\u00a0€ verfügbar ab " + fromText,
		"Gutgeschrieben · Bestellung #1001 · Teekanne", "vorgemerkt, verfügbar ab " + fromText, "Korrektur · Willkommen",
		"&#43;1.234,56\u00a0€", "1.244,56\u00a0€", "Buchungen"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	for _, bad := range []string{"An der Kasse reserviert", "Reservierung aufgehoben", "So sammelst du Guthaben", "EUR</strong>", "Store credit"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	// The merchant's statement keeps the hold and its release.
	mst, err := e.ledger.Statement(ctx, core.StatementQuery{ShopID: shop.ID, Currency: "EUR", Owner: cust})
	if err != nil || len(mst.Entries) != 4 {
		t.Fatalf("merchant statement: %d entries, %v", len(mst.Entries), err)
	}

	// The voucher form takes a decimal comma; errors are German pages.
	send := func(amount string, status int) string {
		form := url.Values{"amount": {amount}, "form_token": {formField(t, page, "form_token")}, "request": {formField(t, page, "request")}}
		resp := e.proxy(http.MethodPost, "/proxy/vouchers", e.proxyValues("42"), secret, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		body := wantStatus(t, resp, status)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/liquid") {
			t.Fatalf("voucher answer %s is %s: %s", amount, ct, body)
		}
		return body
	}
	if out := send("abc", http.StatusBadRequest); !strings.Contains(out, "Bitte gib einen Betrag wie 10,50 ein.") || strings.Contains(out, `"error"`) {
		t.Errorf("bad amount page:\n%s", out)
	}
	if out := send("0,001", http.StatusBadRequest); !strings.Contains(out, "höchstens 2 Nachkommastellen") {
		t.Errorf("decimals page:\n%s", out)
	}
	if out := send("5000,00", http.StatusUnprocessableEntity); !strings.Contains(out, "So viel Guthaben ist nicht verfügbar. Jetzt verfügbar: 10,00\u00a0€.") ||
		!strings.Contains(out, `href="/apps/credit/statement"`) {
		t.Errorf("insufficient page:\n%s", out)
	}
	if out := send("10,50", http.StatusCreated); !strings.Contains(out, "Dein Gutscheincode über 10,50\u00a0€") || !strings.Contains(out, "gültig bis 2. Januar 2030") {
		t.Errorf("voucher page:\n%s", out)
	}
	if got := vouchers.issued[len(vouchers.issued)-1]; !got.Equal(decimal.RequireFromString("10.5")) {
		t.Fatalf("issued %s, want 10.5", got)
	}
	// A forged form token: a German page, not JSON.
	form := url.Values{"amount": {"1"}, "form_token": {"forged"}}
	forged := wantStatus(t, e.proxy(http.MethodPost, "/proxy/vouchers", e.proxyValues("42"), secret, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"), http.StatusUnauthorized)
	if !strings.Contains(forged, "Diese Seite ist abgelaufen") {
		t.Errorf("forged token page:\n%s", forged)
	}

	// Issued voucher codes are listed with their state.
	vs := postgres.VoucherStore{L: e.ledger}
	v, err := vs.CreatePending(ctx, core.Voucher{ShopID: shop.ID, Code: "cbv-abcd", Currency: "EUR", Owner: cust, Amount: decimal.RequireFromString("5"),
		Status: core.VoucherPending, ExpiresAt: time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if err := vs.MarkIssued(ctx, shop.ID, v.ID, "ref"); err != nil {
		t.Fatal(err)
	}
	withVoucher := get("42", nil)
	for _, want := range []string{"Deine Gutscheincodes", "cbv-abcd", "1. März 2027", "Einlösbar"} {
		if !strings.Contains(withVoucher, want) {
			t.Errorf("page lacks %q:\n%s", want, withVoucher)
		}
	}

	// Pages both ways; English when the shop sets no locale and the browser asks for it.
	for i := range 30 {
		e.adjust(shop, "43", "p"+string(rune('a'+i/26))+string(rune('a'+i%26)), "1.00", "eintrag-"+string(rune('a'+i/26))+string(rune('a'+i%26))+"-ende")
	}
	first := get("43", nil)
	if strings.Contains(first, "Neuere Buchungen") || !strings.Contains(first, "eintrag-bd-ende") {
		t.Fatalf("first page:\n%s", first)
	}
	older := link(t, first, "Ältere Buchungen")
	u, _ := url.Parse(older)
	second := get("43", u.Query())
	if !strings.Contains(second, "eintrag-aa-ende") || strings.Contains(second, "eintrag-bd-ende") || strings.Contains(second, "Ältere Buchungen") {
		t.Fatalf("second page:\n%s", second)
	}
	u, _ = url.Parse(link(t, second, "Neuere Buchungen"))
	back := get("43", u.Query())
	if !strings.Contains(back, "eintrag-bd-ende") || strings.Contains(back, "eintrag-aa-ende") || !strings.Contains(back, "Ältere Buchungen") ||
		strings.Contains(back, "Neuere Buchungen") {
		t.Fatalf("back to the first page:\n%s", back)
	}
}

var germanMonths = []string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCustomerSearch: by platform id or part of the e-mail (wildcards in
// the search are plain characters); redacted customers are not found.
func TestCustomerSearch(t *testing.T) {
	t.Parallel()
	e := newSappEnv(t, nil)
	ctx := context.Background()
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: e.fake.ShopDomain(), Currency: "EUR",
		Secrets: core.ShopSecrets{AccessToken: e.fake.AccessToken(), CustomerKey: "customer-key"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := postgres.NewDirectory(e.pool)
	for _, c := range []core.CustomerRef{{PlatformID: "501", Email: "Maria@Example.com"}, {PlatformID: "502", Email: "max_100@example.com"}, {Email: "guest@example.org"}} {
		if _, err := dir.CustomerOwner(ctx, shop, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dir.RedactCustomer(ctx, shop, core.CustomerRef{PlatformID: "502"}); err != nil {
		t.Fatal(err)
	}
	tok := e.fake.SessionToken()
	search := func(q string) []core.CustomerMatch {
		t.Helper()
		var out struct {
			Customers []core.CustomerMatch `json:"customers"`
		}
		body := wantStatus(t, e.get("/api/v1/shops/"+strconv.FormatInt(shop.ID, 10)+"/customers?q="+url.QueryEscape(q), "Authorization", "Bearer "+tok), http.StatusOK)
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out.Customers
	}
	if got := search("maria@"); len(got) != 1 || got[0].PlatformID != "501" || got[0].Email != "maria@example.com" {
		t.Fatalf("maria@ = %+v", got)
	}
	if got := search("501"); len(got) != 1 || got[0].OwnerID != "c:501" {
		t.Fatalf("501 = %+v", got)
	}
	if got := search("example.org"); len(got) != 1 || got[0].PlatformID != "" || got[0].OwnerID[:2] != "g:" {
		t.Fatalf("guest = %+v", got)
	}
	if got := search("%"); len(got) != 0 {
		t.Fatalf("%% matched %+v", got)
	}
	if got := search("max_1"); len(got) != 0 {
		t.Fatalf("the redacted customer was found: %+v", got)
	}
	wantStatus(t, e.get("/api/v1/shops/"+strconv.FormatInt(shop.ID, 10)+"/customers?q=x"), http.StatusUnauthorized)
}

// TestEveryReasonHasWords: each kind of booking has a German and English
// line (a new kind without one would show its code to customers).
func TestEveryReasonHasWords(t *testing.T) {
	t.Parallel()
	de, en := i18n.New(i18n.German, ""), i18n.New(i18n.English, "")
	for _, k := range []core.ReasonKind{core.ReasonEarn, core.ReasonEarnReversal, core.ReasonHoldPlace, core.ReasonHoldCapture, core.ReasonHoldVoid,
		core.ReasonHoldExpire, core.ReasonRedeem, core.ReasonRedeemReversal, core.ReasonOverdraftSettle, core.ReasonVoucherIssue, core.ReasonVoucherSettle,
		core.ReasonVoucherReturn, core.ReasonVoucherFailed, core.ReasonMature, core.ReasonStoreCreditUse, core.ReasonStoreCreditBack, core.ReasonAdjustment,
		core.ReasonActivity, core.ReasonActivityRevoke, core.ReasonExpire} {
		for _, l := range []*i18n.Locale{de, en} {
			if got := DescribeIn(l, core.Reason{Kind: k}); got == string(k) {
				t.Errorf("%s: no %s words for %s", l.Lang(), l.Lang(), k)
			}
		}
	}
}
