package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func (e *earnEnv) aff() postgres.Affiliates { return postgres.Affiliates{Dir: e.dir, Ledger: e.ledger} }

func (e *earnEnv) savePartner(t *testing.T, p core.Partner) core.Partner {
	t.Helper()
	out, err := e.aff().SavePartner(context.Background(), e.shop, p, "test")
	if err != nil {
		t.Fatalf("save partner %s: %v", p.ID, err)
	}
	return out
}

func custOf(id string) core.Owner { return core.Owner{Kind: core.OwnerCustomer, ID: "c:" + id} }

func partnerOwner(id string) core.Owner { return core.Owner{Kind: core.OwnerPartner, ID: id} }

// buy is a one-line order of 100.00 by customer buyer (a platform id, or
// "" for a guest with e-mail) carrying ref.
func buy(id, buyer, email, ref string, at time.Time) core.Order {
	return core.Order{Platform: core.PlatformShopify, OrderID: id, OrderNumber: "#" + id, Currency: "EUR", Paid: true,
		Customer: core.CustomerRef{PlatformID: buyer, Email: email}, PartnerRef: ref, UpdatedAt: at, CreatedAt: at,
		Lines: []core.OrderLine{{LineID: "1", ProductID: "10", SKU: "MUG", Title: "Mug", Quantity: 1, NetTotal: dec("100.00")}}}
}

func (e *earnEnv) apply(t *testing.T, o core.Order) core.ApplyResult {
	t.Helper()
	res, err := e.earner.ApplyOrder(context.Background(), e.shop, o, nil)
	if err != nil {
		t.Fatalf("order %s: %v", o.OrderID, err)
	}
	return res
}

func (e *earnEnv) wantAvail(t *testing.T, o core.Owner, want string) {
	t.Helper()
	b, err := e.ledger.Balance(context.Background(), e.shop.ID, "EUR", o)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Available.Equal(dec(want)) || !b.Overdraft.IsZero() || !b.Pending.IsZero() {
		t.Errorf("%s: available %s pending %s overdraft %s, want available %s", o, b.Available, b.Pending, b.Overdraft, want)
	}
}

func TestPartnerTreeRefusesCycles(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t) // p-top <- p-1
	ctx := context.Background()
	e.savePartner(t, core.Partner{ID: "p-2", SponsorID: "p-1"})
	e.savePartner(t, core.Partner{ID: "p-3", SponsorID: "p-2"})
	for name, p := range map[string]core.Partner{
		"under its grandchild": {ID: "p-1", SponsorID: "p-3"},
		"under its child":      {ID: "p-2", SponsorID: "p-3"},
		"root under a leaf":    {ID: "p-top", SponsorID: "p-3"},
		"itself":               {ID: "p-3", SponsorID: "p-3"},
		"unknown sponsor":      {ID: "p-3", SponsorID: "nobody"},
	} {
		_, err := e.aff().SavePartner(ctx, e.shop, p, "test")
		if core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
	got, err := e.aff().Upline(ctx, e.shop.ID, "p-3", 5)
	if err != nil {
		t.Fatal(err)
	}
	if ids := partnerIDs(got); ids != "p-2,p-1,p-top" {
		t.Fatalf("upline after refused moves: %s", ids)
	}
	// Two concurrent moves that together would close a cycle: the tree
	// lock lets at most one through.
	e.savePartner(t, core.Partner{ID: "x"})
	e.savePartner(t, core.Partner{ID: "y"})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []core.Partner{{ID: "x", SponsorID: "y"}, {ID: "y", SponsorID: "x"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.aff().SavePartner(ctx, e.shop, p, "test")
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("concurrent opposite moves: %v / %v, want exactly one refused", errs[0], errs[1])
	}
}

func partnerIDs(ps []core.Partner) string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return strings.Join(ids, ",")
}

// TestPartnerTreeProperty applies random moves and checks after each that
// the tree has no cycle (every upline ends at a root) and that a refused
// move is exactly one that would have made a cycle.
func TestPartnerTreeProperty(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	const n = 12
	sponsor := map[string]string{}
	for i := range n {
		e.savePartner(t, core.Partner{ID: fmt.Sprintf("t%d", i)})
	}
	r := rand.New(rand.NewPCG(9, 9))
	inDownline := func(root, x string) bool { // is x root or below root?
		for cur := x; cur != ""; cur = sponsor[cur] {
			if cur == root {
				return true
			}
		}
		return false
	}
	for step := range 200 {
		id, sp := fmt.Sprintf("t%d", r.IntN(n)), ""
		if r.IntN(5) > 0 {
			sp = fmt.Sprintf("t%d", r.IntN(n))
		}
		_, err := e.aff().SavePartner(ctx, e.shop, core.Partner{ID: id, SponsorID: sp}, "test")
		wantRefused := sp != "" && inDownline(id, sp)
		if wantRefused != (err != nil) {
			t.Fatalf("step %d: move %s under %q: err %v, want refused=%v", step, id, sp, err, wantRefused)
		}
		if err == nil {
			sponsor[id] = sp
		}
		for i := range n {
			up, err := e.aff().Upline(ctx, e.shop.ID, fmt.Sprintf("t%d", i), n+1)
			if err != nil {
				t.Fatal(err)
			}
			if len(up) > n-1 {
				t.Fatalf("step %d: upline of t%d has %d partners: a cycle", step, i, len(up))
			}
		}
	}
}

// TestLevelEarningsFollowRules: per-level rules (a product rule for
// level 2 overrides the default) give every level exactly its rule, and
// every booking names its level and order without the buyer's data.
func TestLevelEarningsFollowRules(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	e.shop.Settings.PartnerLevels = 3
	for _, r := range []core.Rule{
		{Target: core.TargetDefault, Beneficiary: "partner3", Mode: core.ModePercent, Value: dec("0.5")},
		{Target: core.TargetProduct, TargetID: "10", Beneficiary: "partner2", Mode: core.ModeFixed, Value: dec("4.00")},
	} {
		if _, err := e.dir.PutRule(ctx, e.shop.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	e.savePartner(t, core.Partner{ID: "p-top", CustomerID: "301"})
	e.savePartner(t, core.Partner{ID: "p-mid", SponsorID: "p-top", CustomerID: "302"})
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-mid", CustomerID: "303"})
	e.apply(t, buy("9001", "77", "buyer@example.com", "anna", time.Now()))
	// buyer 5% = 5.00; level 1: 2% = 2.00; level 2: product rule 4.00; level 3: 0.5% = 0.50
	e.wantAvail(t, custOf("77"), "5.00")
	e.wantAvail(t, custOf("303"), "2.00")
	e.wantAvail(t, custOf("302"), "4.00")
	e.wantAvail(t, custOf("301"), "0.50")
	page, err := e.ledger.Statement(ctx, core.StatementQuery{ShopID: e.shop.ID, Currency: "EUR", Owner: custOf("302"), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 {
		t.Fatalf("level 2 statement: %+v", page.Entries)
	}
	r := page.Entries[0].Reason
	if r.Beneficiary != "partner2" || r.OrderID != "9001" || r.OrderNumber != "#9001" || !strings.HasPrefix(r.Rule, "product:10 ") {
		t.Errorf("level 2 booking reason: %+v", r)
	}
	if s := fmt.Sprintf("%+v", r); strings.Contains(s, "77") || strings.Contains(s, "example.com") {
		t.Errorf("booking exposes the buyer: %s", s)
	}
	mustAuditClean(t, e.pool)
}

// TestPartnerLinkMovesCreditOnce: credit a partner earned before it was
// linked moves to its customer account with one balanced transfer;
// saving again moves nothing more, and a later refund of an order the
// partner earned on reverses from the customer account.
func TestPartnerLinkMovesCreditOnce(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	at := time.Now()
	e.apply(t, buy("8001", "77", "", "ANNA", at))
	e.wantAvail(t, partnerOwner("p-1"), "2.00")
	e.seed(t, custOf("500"), "3.00") // the customer's own credit
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-top", CustomerID: "500"})
	e.wantAvail(t, partnerOwner("p-1"), "0")
	e.wantAvail(t, custOf("500"), "5.00")
	// Idempotent: saving the link again (or re-sending it) moves nothing.
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-top", CustomerID: "500"})
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-top"})
	var transfers int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM ledger_transactions WHERE shop_id = $1 AND kind = 'transfer'`, e.shop.ID).Scan(&transfers); err != nil {
		t.Fatal(err)
	}
	if transfers != 1 {
		t.Fatalf("%d transfers, want 1", transfers)
	}
	// A link is permanent.
	if _, err := e.aff().SavePartner(ctx, e.shop, core.Partner{ID: "p-1", CustomerID: "501"}, "test"); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("relink to another customer: %v", err)
	}
	// One partner per customer.
	if _, err := e.aff().SavePartner(ctx, e.shop, core.Partner{ID: "p-other", CustomerID: "500"}, "test"); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("second partner for the customer: %v", err)
	}
	// New earnings land on the customer account directly.
	e.apply(t, buy("8002", "78", "", "ANNA", at))
	e.wantAvail(t, custOf("500"), "7.00")
	e.wantAvail(t, partnerOwner("p-1"), "0")
	// Refunding the pre-link order reverses from where the credit is now.
	refunded := buy("8001", "77", "", "ANNA", at.Add(time.Minute))
	refunded.Refunds = []core.Refund{{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}}
	e.apply(t, refunded)
	e.wantAvail(t, custOf("500"), "5.00")
	e.wantAvail(t, partnerOwner("p-1"), "0")
	mustAuditClean(t, e.pool)
}

// TestPartnerMoveChangesOnlyFutureEarnings: after a move, booked history
// and refunds of earlier orders stay with the old chain; new orders
// follow the new one.
func TestPartnerMoveChangesOnlyFutureEarnings(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t) // p-top <- p-1 (ANNA)
	ctx := context.Background()
	at := time.Now()
	e.savePartner(t, core.Partner{ID: "p-new"})
	e.apply(t, buy("7001", "77", "", "ANNA", at))
	e.wantAvail(t, partnerOwner("p-top"), "1.00")
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-new"})
	e.apply(t, buy("7002", "77", "", "ANNA", at))
	e.wantAvail(t, partnerOwner("p-top"), "1.00")
	e.wantAvail(t, partnerOwner("p-new"), "1.00")
	e.wantAvail(t, partnerOwner("p-1"), "4.00")
	// A late snapshot of the first order keeps its frozen chain.
	e.apply(t, buy("7001", "77", "", "ANNA", at.Add(time.Hour)))
	e.wantAvail(t, partnerOwner("p-top"), "1.00")
	refunded := buy("7001", "77", "", "ANNA", at.Add(2*time.Hour))
	refunded.Refunds = []core.Refund{{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}}
	e.apply(t, refunded)
	e.wantAvail(t, partnerOwner("p-top"), "0")
	e.wantAvail(t, partnerOwner("p-new"), "1.00")
	moves, err := e.aff().Moves(ctx, e.shop.ID, "p-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(moves) != 1 || moves[0].From != "p-top" || moves[0].To != "p-new" || moves[0].Actor != "test" {
		t.Fatalf("moves: %+v", moves)
	}
	mustAuditClean(t, e.pool)
}

func TestSelfReferralRefused(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	at := time.Now()
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-top", CustomerID: "77"})
	// The partner's own customer account buys with its own code.
	e.apply(t, buy("6001", "77", "anna@example.com", "ANNA", at))
	e.wantAvail(t, custOf("77"), "5.00") // the buyer's own 5%, no level 1 on top
	e.wantAvail(t, partnerOwner("p-top"), "0")
	// The same person as a guest (same e-mail, any case).
	e.apply(t, buy("6002", "", "Anna@Example.com ", "ANNA", at))
	e.wantAvail(t, custOf("77"), "5.00")
	e.wantAvail(t, partnerOwner("p-top"), "0")
	// A partner in the upline buying through its downline's code.
	e.savePartner(t, core.Partner{ID: "p-top", CustomerID: "66"})
	e.apply(t, buy("6003", "66", "", "ANNA", at))
	e.wantAvail(t, custOf("77"), "5.00")
	e.wantAvail(t, custOf("66"), "5.00")
	// Someone else with the same code earns the chain.
	e.apply(t, buy("6004", "88", "other@example.com", "ANNA", at))
	e.wantAvail(t, custOf("77"), "7.00")
	e.wantAvail(t, custOf("66"), "6.00")
	mustAuditClean(t, e.pool)
}

func TestInactivePartnerLevelEarnsNothing(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	e.savePartner(t, core.Partner{ID: "p-1", Code: "ANNA", SponsorID: "p-top", Status: core.PartnerInactive})
	e.apply(t, buy("5001", "77", "", "ANNA", time.Now()))
	e.wantAvail(t, partnerOwner("p-1"), "0")
	e.wantAvail(t, partnerOwner("p-top"), "1.00") // level 2 still earns
	mustAuditClean(t, e.pool)
}

// TestCustomerBinding: with binding, a referred buyer's later orders
// credit the same chain without a link, another partner's link does not
// take the buyer, and the earliest referred order decides whatever order
// the webhooks arrive in.
func TestCustomerBinding(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	e.shop.Settings.Referral.Binding = true
	e.savePartner(t, core.Partner{ID: "p-b", Code: "BEA"})
	t0 := time.Now().Add(-time.Hour)
	// The later order arrives first and binds to BEA; the earlier one (ANNA) re-binds.
	e.apply(t, buy("4002", "77", "", "BEA", t0.Add(time.Minute)))
	e.apply(t, buy("4001", "77", "", "ANNA", t0))
	bound, ok, err := e.aff().BoundPartner(ctx, e.shop.ID, custOf("77"))
	if err != nil || !ok || bound != "p-1" {
		t.Fatalf("binding: %q %v %v", bound, ok, err)
	}
	// No link: the bound chain earns. Another partner's link: still bound.
	e.apply(t, buy("4003", "77", "", "", t0.Add(2*time.Minute)))
	e.apply(t, buy("4004", "77", "", "BEA", t0.Add(3*time.Minute)))
	e.wantAvail(t, partnerOwner("p-1"), "6.00")   // 4001, 4003, 4004
	e.wantAvail(t, partnerOwner("p-top"), "3.00") // level 2 of those
	e.wantAvail(t, partnerOwner("p-b"), "2.00")   // 4002, frozen before the re-binding
	// Without binding, a plain order earns nobody.
	e.shop.Settings.Referral.Binding = false
	e.apply(t, buy("4005", "77", "", "", t0.Add(4*time.Minute)))
	e.wantAvail(t, partnerOwner("p-1"), "6.00")
	mustAuditClean(t, e.pool)
}

func TestListPartnersPagesAndSearches(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t) // p-top, p-1
	ctx := context.Background()
	for i := range 5 {
		e.savePartner(t, core.Partner{ID: fmt.Sprintf("d%d", i), SponsorID: "p-top", Name: fmt.Sprintf("Downline %d", i)})
	}
	var got []string
	cursor := ""
	for {
		page, err := e.aff().ListPartners(ctx, e.shop.ID, core.PartnerQuery{SponsorID: "p-top", After: cursor, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, partnerIDs(page.Partners))
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if s := strings.Join(got, "|"); s != "d0,d1|d2,d3|d4,p-1" {
		t.Fatalf("pages: %s", s)
	}
	page, err := e.aff().ListPartners(ctx, e.shop.ID, core.PartnerQuery{Search: "anna"})
	if err != nil {
		t.Fatal(err)
	}
	if partnerIDs(page.Partners) != "p-1" {
		t.Fatalf("search by code: %s", partnerIDs(page.Partners))
	}
	top, err := e.aff().Partner(ctx, e.shop.ID, "p-top")
	if err != nil || top.Downline != 6 {
		t.Fatalf("p-top: %+v %v", top, err)
	}
}

// TestClaimGuestCredit: a guest's credit moves to the registered customer
// once (balanced, idempotent); a later refund of the guest order reverses
// from the customer, into a recorded overdraft for what was spent.
func TestClaimGuestCredit(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	at := time.Now()
	e.apply(t, buy("3001", "", "Guest@Example.com", "", at))
	guest := core.Owner{Kind: core.OwnerCustomer, ID: core.GuestOwnerID(e.shop.Secrets.CustomerKey, "guest@example.com")}
	e.wantAvail(t, guest, "5.00")
	if _, err := e.aff().ClaimGuest(ctx, e.shop, "nobody@example.com", "900", "test"); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("claim of an unknown guest: %v", err)
	}
	txs, err := e.aff().ClaimGuest(ctx, e.shop, " guest@example.com", "900", "test")
	if err != nil || len(txs) != 1 {
		t.Fatalf("claim: %d transactions, %v", len(txs), err)
	}
	e.wantAvail(t, guest, "0")
	e.wantAvail(t, custOf("900"), "5.00")
	if again, err := e.aff().ClaimGuest(ctx, e.shop, "guest@example.com", "900", "test"); err != nil || len(again) != 0 {
		t.Fatalf("repeated claim: %d transactions, %v", len(again), err)
	}
	if _, err := e.aff().ClaimGuest(ctx, e.shop, "guest@example.com", "901", "test"); core.ErrorCode(err) != core.ECONFLICT {
		t.Fatalf("claim by another customer: %v", err)
	}
	// The customer spends 3.00, then the guest order is refunded.
	spend := core.Transaction{ShopID: e.shop.ID, Key: "spend-900", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "spend"}, Postings: []core.Posting{
		{Currency: "EUR", Owner: custOf("900"), Bucket: core.BucketAvailable, Amount: dec("-3.00")},
		{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: dec("3.00")}}}
	if _, err := e.ledger.Post(ctx, spend); err != nil {
		t.Fatal(err)
	}
	refunded := buy("3001", "", "guest@example.com", "", at.Add(time.Minute))
	refunded.Refunds = []core.Refund{{RefundID: "r1", LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}}
	e.apply(t, refunded)
	b, err := e.ledger.Balance(ctx, e.shop.ID, "EUR", custOf("900"))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Available.IsZero() || !b.Overdraft.Equal(dec("-3.00")) {
		t.Fatalf("customer after the refund: available %s overdraft %s, want 0 and -3.00", b.Available, b.Overdraft)
	}
	e.wantAvail(t, guest, "0")
	mustAuditClean(t, e.pool)
}

// TestLevelEarningsProperty: for random tree shapes and referrals, every
// partner's credit equals the sum, over the orders whose upline it is in,
// of its level's rule (levels deeper than partner_levels earn nothing).
func TestLevelEarningsProperty(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	ctx := context.Background()
	e.shop.Settings.PartnerLevels = 4
	for l := 1; l <= 5; l++ { // partner1 2 %, partner2 1 % (from newEarnEnv) are replaced
		if _, err := e.dir.PutRule(ctx, e.shop.ID, core.Rule{Target: core.TargetDefault, Beneficiary: core.PartnerLevel(l), Mode: core.ModePercent, Value: dec(fmt.Sprint(l))}); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(4, 2))
	const n = 15
	sponsor := map[string]string{}
	for i := range n { // each partner's sponsor is an earlier one (or none): any forest shape
		id, sp := fmt.Sprintf("f%d", i), ""
		if i > 0 && r.IntN(4) > 0 {
			sp = fmt.Sprintf("f%d", r.IntN(i))
		}
		sponsor[id] = sp
		e.savePartner(t, core.Partner{ID: id, Code: fmt.Sprintf("CODE%d", i), SponsorID: sp})
	}
	want := map[string]decimal.Decimal{}
	for o := range 25 {
		leaf := fmt.Sprintf("f%d", r.IntN(n))
		e.apply(t, buy(fmt.Sprint(20000+o), fmt.Sprint(100+o), "", "code"+strings.TrimPrefix(leaf, "f"), time.Now()))
		level := 1
		for p := leaf; p != "" && level <= e.shop.Settings.PartnerLevels; p = sponsor[p] {
			want[p] = want[p].Add(dec(fmt.Sprint(level))) // level % of 100.00
			level++
		}
	}
	for i := range n {
		id := fmt.Sprintf("f%d", i)
		e.wantAvail(t, partnerOwner(id), want[id].StringFixed(2))
	}
	mustAuditClean(t, e.pool)
}
