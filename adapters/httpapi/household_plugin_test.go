package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// homeOrder is a referred WooCommerce order of customer whose billing and
// shipping address is street, 80331 Munich.
func homeOrder(t *testing.T, s orderSpec, customer, street, ref string) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(referredOrder(t, s, customer, "w"+customer+"@example.com", ref)))
	d.UseNumber()
	var o map[string]any
	if err := d.Decode(&o); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"billing", "shipping"} {
		a := o[k].(map[string]any)
		a["address_1"], a["postcode"], a["country"], a["city"] = street, "80331", "DE", "München"
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWooCustomerAddressesHousehold: the addresses a WooCommerce customer
// keeps in their account (sent by the plugin, signed) count for the
// household check like those of their orders: a partner who never
// ordered is known at their saved address, so a referred order shipped
// there credits no partner and is listed as a household self-referral;
// before the address was sent the same kind of order credited the
// partner. While the check is off nothing is kept; only keyed hashes are
// stored, once per address whatever its spelling; bad requests are
// refused.
func TestWooCustomerAddressesHousehold(t *testing.T) {
	t.Parallel()
	e := newPlugEnv(t)
	_, reg := e.wooShop("ck_hh", "cs_hh")
	shopID := reg.id(t)
	admin := e.adminOf(reg)
	admin("PUT", "/rules", `{"target":"default","mode":"percent","value":"10"}`, http.StatusOK, nil)
	admin("PUT", "/rules", `{"target":"default","beneficiary":"partner1","mode":"percent","value":"50"}`, http.StatusOK, nil)
	admin("POST", "/partners", `{"customer_id":"7","code":"HOME"}`, http.StatusCreated, nil)
	path := "/api/v1/plugin/customers/7/addresses"
	home := map[string]any{"addresses": []map[string]string{
		{"address_1": "Sendlinger Str. 1", "postcode": "80331", "country": "DE"},
		{"address_1": "SENDLINGER STRASSE 1", "postcode": " 80331", "country": "de"}, // the same household
		{"address_1": "Postfach 12", "postcode": "", "country": "DE"},                // incomplete: dropped
	}}
	stored := func() int {
		t.Helper()
		var n int
		if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM household_addresses WHERE shop_id = $1 AND owner_id = 'c:7'`, shopID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	type answer struct {
		Recorded       int  `json:"recorded"`
		HouseholdCheck bool `json:"household_check"`
	}
	var got answer
	// The check is off: nothing is kept.
	e.signed(reg, "POST", path, home).want(t, http.StatusOK).decode(t, &got)
	if got.Recorded != 0 || got.HouseholdCheck || stored() != 0 {
		t.Fatalf("check off: %+v, %d stored", got, stored())
	}
	admin("PATCH", "/settings", `{"partner_levels":1,"referral":{"household_check":true}}`, http.StatusOK, nil)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	// Before the bridge knows the partner's home, an order shipped there
	// credits the partner (the buyer's own 10 %, the partner's 50 %).
	e.webhook(reg, homeOrder(t, orderSpec{ID: 2301, Status: "processing", Modified: t0, CartKey: plugHex(16), Lines: []string{"20.00"}}, "8", "Sendlinger Straße 1", "HOME"))
	before := e.balance(reg, "7").Available
	if before == "0.00" {
		t.Fatalf("the referred order credited no partner before the address was known")
	}

	e.signed(reg, "POST", path, home).want(t, http.StatusOK).decode(t, &got)
	if got.Recorded != 1 || !got.HouseholdCheck || stored() != 1 {
		t.Fatalf("check on: %+v, %d stored", got, stored())
	}
	e.signed(reg, "POST", path, home).want(t, http.StatusOK).decode(t, &got) // a repeat adds nothing
	if stored() != 1 {
		t.Fatalf("a repeat stored %d rows", stored())
	}
	var raw []byte
	if err := e.pool.QueryRow(context.Background(), `SELECT addr_hash FROM household_addresses WHERE shop_id = $1 AND owner_id = 'c:7'`, shopID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 32 || bytes.Contains(bytes.ToLower(raw), []byte("sendl")) {
		t.Fatalf("stored address %q, want a 32-byte keyed hash", raw)
	}

	// A flatmate's order to the partner's saved home: refused, listed.
	e.webhook(reg, homeOrder(t, orderSpec{ID: 2302, Status: "processing", Modified: t0.Add(time.Minute), CartKey: plugHex(16), Lines: []string{"20.00"}}, "9", "Sendlinger Strasse 1", "HOME"))
	if after := e.balance(reg, "7").Available; after != before {
		t.Fatalf("a household order credited the partner: %s, was %s", after, before)
	}
	if b := e.balance(reg, "9"); b.Available == "0.00" {
		t.Fatalf("the buyer's own credit: %+v", b)
	}
	var list struct {
		Refusals []struct {
			OrderID    string `json:"order_id"`
			Reason     string `json:"reason"`
			FoundLater bool   `json:"found_later"`
		} `json:"refusals"`
	}
	admin("GET", "/referral-refusals", "", http.StatusOK, &list)
	refused := false
	for _, r := range list.Refusals {
		switch {
		case r.OrderID == "2302" && r.Reason == "household" && !r.FoundLater:
			refused = true
		case r.OrderID == "2301" && r.FoundLater: // the earlier order may be listed for review; its credit stands
		default:
			t.Errorf("unexpected refusal %+v", r)
		}
	}
	if !refused {
		t.Fatalf("order 2302 is not listed as a household self-referral: %+v", list.Refusals)
	}

	// Refused requests.
	many := make([]map[string]string, 11)
	for i := range many {
		many[i] = map[string]string{"address_1": "Weg 1", "postcode": "1", "country": "DE"}
	}
	e.signed(reg, "POST", path, map[string]any{"addresses": many}).want(t, http.StatusBadRequest)
	e.signed(reg, "POST", path, map[string]any{"addresses": []map[string]string{{"address_1": "Weg 1", "postcode": "1", "country": "DEUTSCHLAND"}}}).want(t, http.StatusBadRequest)
	e.signed(reg, "POST", "/api/v1/plugin/customers/abc/addresses", home).want(t, http.StatusBadRequest)
	e.do("POST", path, []byte(`{"addresses":[]}`)).want(t, http.StatusUnauthorized)
	e.audit(shopID)
}
