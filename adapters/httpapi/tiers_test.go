package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/adapters/woocommerce"
)

// decodeFixture reads a shared fixture into a map (numbers kept exact).
func decodeFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(sharedfixtures.Read(t, name)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// keepByID keeps the items of list whose key field is one of ids.
func keepByID(list any, key string, ids ...string) []any {
	var out []any
	for _, it := range list.([]any) {
		m := it.(map[string]any)
		for _, id := range ids {
			if m[key].(json.Number).String() == id {
				out = append(out, m)
			}
		}
	}
	return out
}

// Line ids of fixtures/shopify/orders-paid.json.
const (
	shopifySunglasses = "487817672276298560" // SKU2006-001, 89.99
	shopifyLensPlan   = "789012345678901200" // LENS-PROTECT-2YR, 19.99 (the membership here)
	shopifySKU020     = "976318377106520300" // SKU2006-020, 159.99
	shopifySKU035     = "315789986012684400" // SKU2006-035, 119.99
	shopifyCustomer   = "115310627314723950"
)

// shopifyOrder is the orders-paid fixture as a paid order id, placed at
// created, with only the given lines.
func shopifyOrder(t *testing.T, domain string, id int64, created time.Time, lines ...string) []byte {
	t.Helper()
	m := decodeFixture(t, "fixtures/shopify/orders-paid.json")
	m["id"], m["name"], m["order_number"], m["financial_status"], m["cancelled_at"] = id, "#"+strconv.FormatInt(id%10000, 10), id%10000, "paid", nil
	m["created_at"], m["updated_at"] = created.UTC().Format(time.RFC3339), created.UTC().Format(time.RFC3339)
	m["line_items"], m["refunds"] = keepByID(m["line_items"], "id", lines...), []any{}
	// The order's status page names the shop it belongs to.
	m["order_status_url"] = "https://" + domain + "/548380009/orders/123456abcd/authenticate?key=abcdefg"
	b, _ := json.Marshal(m)
	return b
}

// shopifyRefund is the refunds-create fixture refunding one unit of each
// given line of order.
func shopifyRefund(t *testing.T, order, refund int64, at time.Time, lines ...string) []byte {
	t.Helper()
	m := decodeFixture(t, "fixtures/shopify/refunds-create.json")
	m["id"], m["order_id"], m["created_at"], m["processed_at"] = refund, order, at.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339)
	m["refund_line_items"] = keepByID(m["refund_line_items"], "line_item_id", lines...)
	b, _ := json.Marshal(m)
	return b
}

type tierView struct {
	Status struct {
		Tier        string `json:"tier"`
		Member      bool   `json:"member"`
		Qualifying  string `json:"qualifying"`
		Multiplier  string `json:"multiplier"`
		MaxPercent  string `json:"max_percent"`
		NextTier    string `json:"next_tier"`
		MemberUntil string `json:"member_until"`
	} `json:"status"`
	History []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"history"`
}

func (e *env) tier(s testShop, customer string) tierView {
	e.t.Helper()
	var v tierView
	must(e.t, e.as(s.AdminToken, "GET", s.Path+"/customers/"+customer+"/tier", nil), http.StatusOK).JSON(e.t, &v)
	return v
}

// TestTiersAndMembershipShopify: tiers defined through the admin API; a
// Shopify customer reaches Silver, earns ×2 there, loses it at once when
// refunds take the spend away (the refunds reverse exactly the frozen
// credit, whatever the tier is by then); buying the membership makes the
// order earn ×3 and a refund of the membership line ends it. Replays
// change nothing; the statement shows the tier.
func TestTiersAndMembershipShopify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.createShop(map[string]any{"platform": "shopify", "domain": "tiers-" + randomHex(3) + ".myshopify.com", "name": "Tiers", "currency": "USD"})
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	// Invalid definitions are refused.
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/tiers", map[string]any{"tiers": []map[string]any{
		{"name": "Gold", "threshold": "500", "multiplier": "2"}, {"name": "Silver", "threshold": "100", "multiplier": "1.5"}}}), http.StatusBadRequest)
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/tiers", map[string]any{
		"tiers": []map[string]any{
			{"name": "Silver", "threshold": "100", "multiplier": "2", "max_percent": "100"},
			{"name": "Club", "membership": true, "multiplier": "3"},
		},
		"tier_period": "quarter",
		"membership":  map[string]any{"tier": "Club", "skus": []string{"LENS-PROTECT-2YR"}, "months": 12},
	}), http.StatusOK)
	var got map[string]any
	must(t, e.as(s.AdminToken, "GET", s.Path+"/tiers", nil), http.StatusOK).JSON(t, &got)
	if len(got["tiers"].([]any)) != 2 || got["tier_period"] != "quarter" {
		t.Fatalf("GET tiers %v", got)
	}
	send := func(topic, id string, body []byte) {
		t.Helper()
		must(t, e.shopifyWebhook(s.Domain, topic, id, body, shopifySecret), http.StatusOK)
		e.drain()
	}
	balance := func(want, why string) {
		t.Helper()
		if b := e.balance(s, shopifyCustomer); b.Available != want {
			t.Fatalf("%s: balance %+v, want %s", why, b, want)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	// 1: no tier yet: 10 % of 249.98 = 25.00. Spend 249.98 → Silver.
	o1 := shopifyOrder(t, s.Domain, 5600000000001, now.Add(-5*time.Hour), shopifySunglasses, shopifySKU020)
	send(shopify.TopicOrdersPaid, "t-1", o1)
	balance("25.00", "first order")
	if v := e.tier(s, shopifyCustomer); v.Status.Tier != "Silver" || v.Status.Qualifying != "249.98" || v.Status.MaxPercent != "100" {
		t.Fatalf("after the first order: %+v", v.Status)
	}
	// 2: Silver ×2: 10 % of 119.99 × 2 = 23.998 → 24.00.
	o2 := shopifyOrder(t, s.Domain, 5600000000002, now.Add(-4*time.Hour), shopifySKU035)
	send(shopify.TopicOrdersPaid, "t-2", o2)
	balance("49.00", "Silver order")
	// Replays: the same event, and the same state as orders/updated.
	send(shopify.TopicOrdersPaid, "t-2", o2)
	send(shopify.TopicOrdersUpdated, "t-2u", o2)
	balance("49.00", "replays")
	// Order 1 refunded in full: its spend no longer counts, so the tier
	// is gone at once (the documented refund rule) ...
	send(shopify.TopicRefundsCreate, "t-r1", shopifyRefund(t, 5600000000001, 7100000000001, now.Add(-3*time.Hour), shopifySunglasses, shopifySKU020))
	balance("24.00", "order 1 refunded")
	if v := e.tier(s, shopifyCustomer); v.Status.Tier != "Silver" || v.Status.Qualifying != "119.99" {
		t.Fatalf("after refunding order 1: %+v (119.99 still reaches Silver)", v.Status)
	}
	// ... and order 2's refund reverses exactly its frozen ×2 credit.
	send(shopify.TopicRefundsCreate, "t-r2", shopifyRefund(t, 5600000000002, 7100000000002, now.Add(-2*time.Hour), shopifySKU035))
	balance("0.00", "order 2 refunded")
	if v := e.tier(s, shopifyCustomer); v.Status.Tier != "" || v.Status.NextTier != "Silver" {
		t.Fatalf("after refunding everything: %+v, want no tier", v.Status)
	}
	// 3: buys the membership with sunglasses: the order earns as a member
	// (×3): 8.999 × 3 = 27.00 and 1.999 × 3 = 6.00.
	o3 := shopifyOrder(t, s.Domain, 5600000000003, now.Add(-time.Hour), shopifySunglasses, shopifyLensPlan)
	send(shopify.TopicOrdersPaid, "t-3", o3)
	balance("33.00", "membership order")
	if v := e.tier(s, shopifyCustomer); v.Status.Tier != "Club" || !v.Status.Member || v.Status.MemberUntil == "" {
		t.Fatalf("after buying the membership: %+v", v.Status)
	}
	st := e.statement(s.AdminToken, s.Path+"/customers/"+shopifyCustomer+"/statement")
	var raw map[string]any
	must(t, e.as(s.AdminToken, "GET", s.Path+"/customers/"+shopifyCustomer+"/statement?locale=de", nil), http.StatusOK).JSON(t, &raw)
	if tv, _ := raw["tier"].(map[string]any); tv == nil || tv["tier"] != "Club" || tv["text"] != "Deine Stufe: Club" {
		t.Fatalf("statement tier %v", raw["tier"])
	}
	sawClub := false
	for _, en := range st.Entries {
		if en.Kind == "earn" && en.OrderID == "5600000000003" {
			sawClub = sawClub || bytes.Contains([]byte(en.Rule), []byte("×3 (Club)"))
		}
	}
	if !sawClub {
		t.Fatalf("the membership order's entries do not name the tier: %+v", st.Entries)
	}
	// The membership line refunded: the membership ends, its line's
	// frozen credit (6.00) is reversed, the sunglasses keep theirs.
	send(shopify.TopicRefundsCreate, "t-r3", shopifyRefund(t, 5600000000003, 7100000000003, now.Add(-30*time.Minute), shopifyLensPlan))
	balance("27.00", "membership refunded")
	if v := e.tier(s, shopifyCustomer); v.Status.Tier != "" || v.Status.Member {
		t.Fatalf("after refunding the membership: %+v", v.Status)
	}
	// A stale replay of the paid membership order changes nothing.
	send(shopify.TopicOrdersUpdated, "t-3u", o3)
	balance("27.00", "stale replay of the membership order")
	if v := e.tier(s, shopifyCustomer); v.Status.Member {
		t.Fatalf("a replay revived the refunded membership: %+v", v.Status)
	}
	e.auditOK(s.ID)
}

// wooOrder is the synthetic order.updated fixture as order id of customer
// 7 in status, placed at created, with only the given line items (315:
// product 93, 2 × 3.00; 316: SKU Bar3, 12.00).
func wooOrder(t *testing.T, id int, status string, created, modified time.Time, lines ...string) []byte {
	t.Helper()
	m := decodeFixture(t, "fixtures/woocommerce/synthetic/order-updated.body.json")
	m["id"], m["number"], m["status"], m["customer_id"] = id, strconv.Itoa(id), status, 7
	m["date_created_gmt"] = created.UTC().Format("2006-01-02T15:04:05")
	m["date_modified_gmt"] = modified.UTC().Format("2006-01-02T15:04:05")
	m["line_items"] = keepByID(m["line_items"], "id", lines...)
	b, _ := json.Marshal(m)
	return b
}

// TestTiersAndMembershipWooCommerce: Silver from 10.00 spend (×2),
// cancellations take spend away at once and reverse exactly the frozen
// credit; the membership (SKU Bar3) earns ×3 on its own order, a full
// refund ends it; a members-only rule added later makes a non-member's
// line earn nothing, while earlier lines keep what they earned.
func TestTiersAndMembershipWooCommerce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.wooShop(map[string]any{"currency": "USD"})
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	tiers := map[string]any{
		"tiers":      []map[string]any{{"name": "Silver", "threshold": "10", "multiplier": "2"}, {"name": "Club", "membership": true, "multiplier": "3"}},
		"membership": map[string]any{"tier": "Club", "skus": []string{"Bar3"}},
	}
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/tiers", tiers), http.StatusOK)
	now := time.Now().UTC().Truncate(time.Second)
	send := func(body []byte) {
		t.Helper()
		must(t, e.wooWebhook(s.ID, woocommerce.TopicOrderUpdated, body, s.WebhookSecret), http.StatusOK)
		e.drain()
	}
	balance := func(want, why string) {
		t.Helper()
		if b := e.balance(s, "7"); b.Available != want {
			t.Fatalf("%s: balance %+v, want %s", why, b, want)
		}
	}
	at := func(h int) time.Time { return now.Add(time.Duration(h-20) * time.Hour) }
	send(wooOrder(t, 901, "processing", at(1), at(1), "315")) // 0.60, spend 6
	send(wooOrder(t, 902, "processing", at(2), at(2), "315")) // 0.60, spend 12 → Silver
	balance("1.20", "two plain orders")
	if v := e.tier(s, "7"); v.Status.Tier != "Silver" {
		t.Fatalf("after 12.00: %+v", v.Status)
	}
	o903 := wooOrder(t, 903, "processing", at(3), at(3), "315") // Silver: 0.60 × 2
	send(o903)
	send(o903) // replay
	balance("2.40", "Silver order and its replay")
	send(wooOrder(t, 903, "cancelled", at(3), at(4))) // reverses the frozen 1.20
	balance("1.20", "Silver order cancelled")
	send(wooOrder(t, 902, "cancelled", at(2), at(5))) // spend 6: no tier at once
	balance("0.60", "second order cancelled")
	if v := e.tier(s, "7"); v.Status.Tier != "" {
		t.Fatalf("after the cancellations: %+v", v.Status)
	}
	// The membership order earns as a member: (0.60 + 1.20) × 3.
	o904 := wooOrder(t, 904, "processing", at(6), at(6), "315", "316")
	send(o904)
	balance("6.00", "membership order")
	if v := e.tier(s, "7"); v.Status.Tier != "Club" || !v.Status.Member {
		t.Fatalf("after the membership order: %+v", v.Status)
	}
	send(wooOrder(t, 904, "refunded", at(6), at(7), "315", "316"))
	balance("0.60", "membership order refunded")
	if v := e.tier(s, "7"); v.Status.Tier != "" || v.Status.Member {
		t.Fatalf("after the refund: %+v", v.Status)
	}
	send(o904) // the older paid state again: stale, changes nothing
	balance("0.60", "stale replay")
	// Members only from now on: a non-member's line earns nothing.
	tiers["membership"].(map[string]any)["rules"] = []map[string]any{{"target": "product", "target_ids": []string{"93"}, "members_only": true}}
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/tiers", tiers), http.StatusOK)
	send(wooOrder(t, 905, "processing", at(8), at(8), "315"))
	balance("0.60", "members-only line for a non-member")
	st := e.statement(s.AdminToken, s.Path+"/customers/7/statement")
	if len(st.Entries) == 0 || st.Entries[0].AvailableAfter != "0.60" {
		t.Fatalf("statement %+v", st.Entries)
	}
	for _, en := range st.Entries {
		if en.OrderID == "905" {
			t.Fatalf("a members-only line earned for a non-member: %+v", en)
		}
	}
	e.auditOK(s.ID)
}
