package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// membershipRow is one membership as stored.
type membershipRow struct {
	owner        string
	starts, ends time.Time
}

func (e *env) memberships(shopID int64) map[string]membershipRow {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT order_id, owner_id, starts_at, ends_at FROM memberships WHERE shop_id = $1 AND ended_at IS NULL`, shopID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]membershipRow{}
	for rows.Next() {
		var id string
		var r membershipRow
		if err := rows.Scan(&id, &r.owner, &r.starts, &r.ends); err != nil {
			e.t.Fatal(err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestShopifyClaimedGuestMembershipChains: a membership bought as a guest
// and then claimed (verified customers/update, shared fixtures) and the
// customer's own memberships form one chain in the order they were
// bought: the customer's own membership booked before the claim is moved
// to start when the guest's ends (keeping its 12 months), one bought
// after the claim starts when that one ends; repeated claims and replays
// change nothing; the customer is a member throughout.
func TestShopifyClaimedGuestMembershipChains(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.createShop(map[string]any{"platform": "shopify", "domain": "chain-" + randomHex(3) + ".myshopify.com", "name": "Chain", "currency": "USD"})
	e.putRules(s, map[string]any{"target": "default", "mode": "percent", "value": "10"})
	must(t, e.as(s.AdminToken, "PUT", s.Path+"/tiers", map[string]any{
		"tiers":      []map[string]any{{"name": "Club", "membership": true, "multiplier": "2"}},
		"membership": map[string]any{"tier": "Club", "skus": []string{"LENS-PROTECT-2YR"}, "months": 12},
	}), http.StatusOK)
	cust := decodeFixture(t, "fixtures/shopify/customers-create.json")
	customer := cust["id"].(json.Number).String()
	email := cust["email"].(string)
	cid, _ := strconv.ParseInt(customer, 10, 64)
	n := 0
	send := func(topic string, body []byte) {
		t.Helper()
		n++
		must(t, e.shopifyWebhook(s.Domain, topic, "mc-"+strconv.Itoa(n), body, shopifySecret), http.StatusOK)
		e.drain()
	}
	own := func(id int64, at time.Time) []byte {
		var m map[string]any
		if err := json.Unmarshal(shopifyOrder(t, s.Domain, id, at, shopifyLensPlan), &m); err != nil {
			t.Fatal(err)
		}
		m["email"], m["contact_email"] = email, email
		c := m["customer"].(map[string]any)
		c["id"], c["email"] = cid, email
		b, _ := json.Marshal(m)
		return b
	}
	t0 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	send("orders/paid", shopifyGuestOrder(t, s.Domain, 7501, email, t0, shopifyLensPlan))
	first := own(7502, t0.Add(time.Hour))
	send("orders/paid", first) // the customer's own, before the claim
	m := e.memberships(s.ID)
	if m["7501"].owner == m["7502"].owner || !m["7502"].starts.Before(m["7501"].ends) {
		t.Fatalf("before the claim the two accounts' memberships overlap: %+v", m)
	}
	cust["verified_email"] = true
	claim, _ := json.Marshal(cust)
	send("customers/update", claim)
	m = e.memberships(s.ID)
	g, c := m["7501"], m["7502"]
	if !c.starts.Equal(g.ends) || !c.ends.Equal(c.starts.AddDate(1, 0, 0)) || !g.starts.Equal(t0) {
		t.Fatalf("after the claim: guest %v–%v, customer %v–%v; want the customer's 12 months from the guest's end", g.starts, g.ends, c.starts, c.ends)
	}
	send("customers/update", claim) // a repeated claim
	send("orders/paid", first)      // a replay
	same := func(a, b membershipRow) bool {
		return a.owner == b.owner && a.starts.Equal(b.starts) && a.ends.Equal(b.ends)
	}
	if again := e.memberships(s.ID); !same(again["7502"], c) || !same(again["7501"], g) {
		t.Fatalf("a repeat moved the chain: %+v", again)
	}
	// Bought after the claim: starts when the chain ends.
	send("orders/paid", own(7503, t0.Add(2*time.Hour)))
	m = e.memberships(s.ID)
	if !m["7503"].starts.Equal(c.ends) || !m["7503"].ends.Equal(c.ends.AddDate(1, 0, 0)) {
		t.Fatalf("the membership bought after the claim: %v–%v, want from %v", m["7503"].starts, m["7503"].ends, c.ends)
	}
	if v := e.tier(s, customer); !v.Status.Member || v.Status.Tier != "Club" {
		t.Fatalf("the customer's tier: %+v", v.Status)
	}
	e.auditOK(s.ID)
}
