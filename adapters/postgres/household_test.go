package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

func addr(street, postcode, country string) string {
	return core.NormalizeAddress(street, postcode, country)
}

// TestHouseholdSelfReferral: with the household check on, an order whose
// billing or shipping address is one of the partner's own orders'
// (spelled differently) credits no partner and is recorded with reason
// household; replays and a paid snapshot without addresses keep it
// refused; a guest order under the partner's e-mail counts as the
// partner's household; a neighbour's order earns the chain; a referred
// order frozen before the partner's address was known keeps its credit
// and is listed as found later (for the merchant's review); the check
// off earns as before. Only keyed hashes are stored.
func TestHouseholdSelfReferral(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	e.shop.Settings.Referral.HouseholdCheck = true
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-top", CustomerID: "77"})

	// Out of order: Ben's referred order arrives before Anna's own order
	// from their home is known: it earns the chain, frozen.
	early := buy("7000", "78", "ben@example.com", "ANNA", at.Add(-time.Hour))
	early.Addresses = []string{addr("Hauptstraße 5", "10115", "DE")}
	e.apply(t, early)
	e.wantAvail(t, custOf("77"), "2.00")
	e.wantAvail(t, partnerOwner("p-top"), "1.00")

	home := buy("7001", "77", "anna@example.com", "", at)
	home.Addresses = []string{addr("Hauptstraße 5", "10115", "DE"), addr("Am Markt 1", "20095", "DE")}
	e.apply(t, home)
	e.wantAvail(t, custOf("77"), "7.00") // her own 5 %

	// Ben (another account and e-mail) orders to "HAUPTSTR. 5" with Anna's code.
	mate := buy("7002", "78", "ben@example.com", "ANNA", at.Add(time.Hour))
	mate.Addresses = []string{addr("Lindenweg 2", "80331", "DE"), addr("HAUPTSTR. 5", " 10115", "de")}
	e.apply(t, mate)
	e.apply(t, mate) // a replay
	stale := mate
	stale.UpdatedAt = at
	e.apply(t, stale) // an older snapshot arriving late
	e.wantAvail(t, custOf("78"), "10.00")
	e.wantAvail(t, custOf("77"), "7.00")
	e.wantAvail(t, partnerOwner("p-top"), "1.00")
	// The early order replayed now: its frozen rates stand.
	e.apply(t, early)
	e.wantAvail(t, partnerOwner("p-top"), "1.00")

	// First seen unpaid with its addresses, then paid without them (a
	// stored snapshot): the recorded hashes still refuse it.
	unpaid := buy("7003", "79", "carl@example.com", "ANNA", at.Add(2*time.Hour))
	unpaid.Paid, unpaid.Addresses = false, []string{addr("Am Markt 1", "20095", "DE")}
	e.apply(t, unpaid)
	paid := buy("7003", "79", "carl@example.com", "ANNA", at.Add(2*time.Hour))
	paid.UpdatedAt = paid.UpdatedAt.Add(time.Minute)
	e.apply(t, paid)
	e.wantAvail(t, custOf("79"), "5.00")
	e.wantAvail(t, custOf("77"), "7.00")

	// Anna once ordered as a guest to her parents' address: her household too.
	guest := buy("7004", "", "Anna@Example.com", "", at.Add(3*time.Hour))
	guest.Addresses = []string{addr("Schloßallee 9", "01067", "DE")}
	e.apply(t, guest)
	viaGuest := buy("7005", "80", "dora@example.com", "ANNA", at.Add(4*time.Hour))
	viaGuest.Addresses = []string{addr("Schlossallee 9", "01067", "DE")}
	e.apply(t, viaGuest)
	e.wantAvail(t, custOf("77"), "7.00")

	// A neighbour earns the chain.
	neighbour := buy("7006", "81", "erik@example.com", "ANNA", at.Add(5*time.Hour))
	neighbour.Addresses = []string{addr("Hauptstraße 7", "10115", "DE")}
	e.apply(t, neighbour)
	e.wantAvail(t, custOf("77"), "9.00")
	e.wantAvail(t, partnerOwner("p-top"), "2.00")

	// Anna's own account with her code (the existing refusal) is recorded too.
	e.apply(t, buy("7007", "77", "", "ANNA", at.Add(6*time.Hour)))
	e.wantAvail(t, custOf("77"), "14.00")

	// The check off: the same household earns as before.
	off := e.shop
	off.Settings.Referral.HouseholdCheck = false
	again := buy("7008", "78", "ben@example.com", "ANNA", at.Add(7*time.Hour))
	again.Addresses = mate.Addresses
	if _, err := e.earner.ApplyOrder(ctx, off, again, nil); err != nil {
		t.Fatal(err)
	}
	e.wantAvail(t, custOf("77"), "16.00")

	list, next, err := e.dir.ReferralRefusals(ctx, e.shop.ID, 0, 50)
	if err != nil || next != "" {
		t.Fatalf("refusals: %v %q", err, next)
	}
	got := map[string]string{}
	for _, r := range list {
		got[r.OrderID] = r.Reason + "/" + r.Partner + "/" + r.Buyer + "/" + r.Status()
	}
	want := map[string]string{"7000": "household/p-1/c:78/review", "7002": "household/p-1/c:78/refused", "7003": "household/p-1/c:79/refused",
		"7005": "household/p-1/c:80/refused", "7007": "customer/p-1/c:77/refused"}
	if len(got) != len(want) {
		t.Fatalf("refusals %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("refusal of %s: %q, want %q (all %v)", k, got[k], v, got)
		}
	}
	// Paging.
	page, next, err := e.dir.ReferralRefusals(ctx, e.shop.ID, 0, 3)
	if err != nil || len(page) != 3 || next == "" || page[0].OrderID != "7007" {
		t.Fatalf("first page %+v next %q err %v", page, next, err)
	}

	// Nothing but 32-byte hashes; no address in any snapshot.
	var rows, bad int
	if err := e.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE length(addr_hash) <> 32) FROM household_addresses WHERE shop_id = $1`, e.shop.ID).Scan(&rows, &bad); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || bad != 0 {
		t.Fatalf("household rows %d, bad %d", rows, bad)
	}
	var leaked int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE shop_id = $1 AND (snapshot::text ILIKE '%haupt%' OR snapshot::text ILIKE '%10115%' OR snapshot::text ILIKE '%Addresses%')`, e.shop.ID).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("snapshots with an address: %d (%v)", leaked, err)
	}

	// customers/redact removes the customer's hashes and refusals.
	if _, err := e.dir.RedactCustomer(ctx, e.shop, core.CustomerRef{PlatformID: "78"}); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM household_addresses WHERE shop_id = $1 AND owner_id = 'c:78')
	+ (SELECT count(*) FROM referral_refusals WHERE shop_id = $1 AND buyer_owner = 'c:78')`, e.shop.ID).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("rows of a redacted customer: %d (%v)", leaked, err)
	}
	mustAuditClean(t, e.pool)
}
