package postgres_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// withReferralRewards configures bring-a-friend on the test shop (reward
// 10.00, welcome 5.00) and follows its orders like cmd/creditbridge.
func (e *earnEnv) withReferralRewards(t *testing.T, edit func(*core.ReferralRewardSettings)) postgres.ReferralStore {
	t.Helper()
	r := &e.shop.Settings.Referral.ReferralRewardSettings
	r.RewardAmount = decimal.NewNullDecimal(dec("10.00"))
	r.WelcomeAmount = decimal.NewNullDecimal(dec("5.00"))
	if edit != nil {
		edit(r)
	}
	if err := e.shop.Settings.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := e.shops.UpdateSettings(context.Background(), e.shop); err != nil {
		t.Fatal(err)
	}
	rs := postgres.ReferralStore{L: e.ledger, Dir: e.dir}
	e.earner.AfterOrder = core.OrderFollowers{postgres.SecondPurchaseStore{L: e.ledger}, rs}
	return rs
}

func (e *earnEnv) referrals(t *testing.T, rs postgres.ReferralStore, status core.ReferralStatus) []core.ReferralReward {
	t.Helper()
	page, err := rs.ReferralRewards(context.Background(), e.shop.ID, core.ReferralQuery{Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return page.Rewards
}

func refundAll(o core.Order, at time.Time) core.Order {
	o.UpdatedAt = at
	o.Refunds = []core.Refund{{RefundID: "r-" + o.OrderID, LinesKnown: true, Lines: []core.RefundLine{{LineID: "1", Quantity: 1}}}}
	return o
}

// A referred customer's first paid order pays the referrer's reward and
// the welcome credit once (replays and a second order change nothing);
// refunding that order takes both back, also when the refund arrives
// twice or as a separate refund event.
func TestReferralRewardFirstOrderThenRefund(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	rs := e.withReferralRewards(t, nil)
	ctx := context.Background()
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	first := buy("7001", "501", "friend@example.com", "ANNA", at)
	e.apply(t, first)
	e.apply(t, first) // duplicate delivery
	// partner p-1: 2% of 100 + reward 10; p-top (level 2) 1%; buyer 5% + welcome 5.
	e.wantAvail(t, partnerOwner("p-1"), "12.00")
	e.wantAvail(t, partnerOwner("p-top"), "1.00")
	e.wantAvail(t, custOf("501"), "10.00")
	second := buy("7002", "501", "friend@example.com", "ANNA", at.Add(24*time.Hour))
	e.apply(t, second)
	e.wantAvail(t, partnerOwner("p-1"), "14.00")
	e.wantAvail(t, custOf("501"), "15.00")
	// The welcome credit tells the customer like an earning (credit.earned).
	if _, err := (&postgres.NotifyStore{L: e.ledger}).Derive(ctx, e.shop, time.Now().Add(time.Hour), 1000); err != nil {
		t.Fatal(err)
	}
	var welcomed int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE shop_id = $1 AND owner_id = 'c:501' AND topic = $2 AND payload->>'reason' = 'referral_welcome'`,
		e.shop.ID, core.TopicCreditEarned).Scan(&welcomed); err != nil || welcomed != 1 {
		t.Fatalf("welcome notifications: %d (%v), want 1", welcomed, err)
	}
	got := e.referrals(t, rs, "")
	if len(got) != 1 || got[0].Status != core.ReferralRewarded || got[0].OrderID != "7001" || got[0].Referrer != partnerOwner("p-1") ||
		!got[0].RewardAmount.Equal(dec("10")) || !got[0].WelcomeAmount.Equal(dec("5")) || !got[0].OrderNet.Equal(dec("100")) {
		t.Fatalf("recorded rewards: %+v", got)
	}
	// The first order is refunded in full: earnings, reward and welcome go.
	e.apply(t, refundAll(first, at.Add(48*time.Hour)))
	e.wantAvail(t, partnerOwner("p-1"), "2.00")
	e.wantAvail(t, custOf("501"), "5.00")
	// The same refund again, as a refund event and as a late, older snapshot.
	if _, err := e.earner.ApplyRefund(ctx, e.shop, "7001", refundAll(first, at).Refunds[0], nil); err != nil {
		t.Fatal(err)
	}
	e.apply(t, first) // stale: older than the refunded snapshot
	e.wantAvail(t, partnerOwner("p-1"), "2.00")
	e.wantAvail(t, custOf("501"), "5.00")
	got = e.referrals(t, rs, core.ReferralReversed)
	if len(got) != 1 || got[0].ReversedAt == nil {
		t.Fatalf("reversed rewards: %+v", got)
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM ledger_transactions WHERE shop_id = $1 AND idem_key LIKE 'referral:%'`, e.shop.ID).Scan(&n); err != nil || n != 4 {
		t.Fatalf("referral transactions: %d (%v), want reward, welcome and their two reversals", n, err)
	}
	mustAuditClean(t, e.pool)
}

// Abuse limits: a first order below the minimum net value and a referral
// beyond the monthly limit are refused and recorded with their reason;
// the next month pays again; a refused customer's later orders stay
// unrewarded; a self-referral records nothing.
func TestReferralRewardLimits(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	rs := e.withReferralRewards(t, func(r *core.ReferralRewardSettings) {
		r.MinOrderNet = decimal.NewNullDecimal(dec("50.00"))
		r.MaxRewardsPerMonth = 1
	})
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	small := buy("8001", "601", "", "ANNA", at)
	small.Lines[0].NetTotal = dec("49.99")
	e.apply(t, small)
	e.apply(t, buy("8002", "601", "", "ANNA", at.Add(time.Hour))) // a second order never rewards
	e.apply(t, buy("8003", "602", "", "ANNA", at))                // rewarded
	e.apply(t, buy("8004", "603", "", "ANNA", at.Add(time.Hour))) // same month: over the limit
	e.apply(t, buy("8005", "604", "", "ANNA", at.AddDate(0, 1, 0)))
	// p-1 earns 2% on every order: 1.00 + 2.00*4, and two rewards.
	e.wantAvail(t, partnerOwner("p-1"), "29.00")
	refused := e.referrals(t, rs, core.ReferralRefused)
	reasons := map[string]string{}
	for _, r := range refused {
		reasons[r.OrderID] = r.Refusal
	}
	if len(refused) != 2 || reasons["8001"] != core.ReferralRefusedMinOrder || reasons["8004"] != core.ReferralRefusedMonthlyLimit {
		t.Fatalf("refusals: %+v", refused)
	}
	if n := len(e.referrals(t, rs, core.ReferralRewarded)); n != 2 {
		t.Fatalf("%d rewards, want 2", n)
	}
	// A partner linked to customer 700 uses its own code.
	e.savePartner(t, core.Partner{ID: "p-self", Code: "SELF", CustomerID: "700"})
	e.apply(t, buy("8006", "700", "", "SELF", at))
	if n := len(e.referrals(t, rs, "")); n != 4 {
		t.Fatalf("%d records after a self-referral, want 4", n)
	}
	mustAuditClean(t, e.pool)
}

// Out of order: a cancellation that arrives before the paid snapshot
// (which is then stale) pays nothing; two referred first orders racing for
// the last reward of the month pay exactly one.
func TestReferralRewardOutOfOrderAndRace(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	rs := e.withReferralRewards(t, func(r *core.ReferralRewardSettings) { r.MaxRewardsPerMonth = 1 })
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	paid := buy("9001", "801", "", "ANNA", at)
	cancelled := paid
	cancelled.Cancelled, cancelled.UpdatedAt = true, at.Add(time.Hour)
	e.apply(t, cancelled)
	e.apply(t, paid)
	e.wantAvail(t, partnerOwner("p-1"), "0")
	if n := len(e.referrals(t, rs, "")); n != 0 {
		t.Fatalf("%d records for a cancelled first order", n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, id := range []string{"802", "803"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.earner.ApplyOrder(context.Background(), e.shop, buy("9"+id, id, "", "ANNA", at), nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var st []string
	for _, r := range e.referrals(t, rs, "") {
		st = append(st, string(r.Status)+":"+r.Refusal)
	}
	sort.Strings(st)
	if strings.Join(st, ",") != "refused:monthly_limit,rewarded:" {
		t.Fatalf("racing referrals: %v", st)
	}
	e.wantAvail(t, partnerOwner("p-1"), "14.00") // 2% of two orders + one reward
	mustAuditClean(t, e.pool)
}

// A guest's welcome credit follows the guest's claim; refunding the guest
// order takes it back from the customer who claimed it, into a recorded
// overdraft for what was spent.
func TestReferralWelcomeFollowsGuestClaim(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	e.withReferralRewards(t, nil)
	ctx := context.Background()
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	guestOrder := buy("9101", "", "new@example.com", "ANNA", at)
	e.apply(t, guestOrder)
	guest := core.Owner{Kind: core.OwnerCustomer, ID: core.GuestOwnerID(e.shop.Secrets.CustomerKey, "new@example.com")}
	e.wantAvail(t, guest, "10.00")
	if _, err := e.aff().ClaimGuest(ctx, e.shop, "new@example.com", "910", "test"); err != nil {
		t.Fatal(err)
	}
	e.wantAvail(t, custOf("910"), "10.00")
	spend := core.Transaction{ShopID: e.shop.ID, Key: "spend-910", Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "t", Note: "spend"}, Postings: []core.Posting{
		{Currency: "EUR", Owner: custOf("910"), Bucket: core.BucketAvailable, Amount: dec("-8.00")},
		{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: dec("8.00")}}}
	if _, err := e.ledger.Post(ctx, spend); err != nil {
		t.Fatal(err)
	}
	e.apply(t, refundAll(guestOrder, at.Add(time.Hour)))
	b, err := e.ledger.Balance(ctx, e.shop.ID, "EUR", custOf("910"))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Available.IsZero() || !b.Overdraft.Equal(dec("-8.00")) {
		t.Fatalf("claimer after the refund: available %s overdraft %s, want 0 and -8.00", b.Available, b.Overdraft)
	}
	e.wantAvail(t, guest, "0")
	e.wantAvail(t, partnerOwner("p-1"), "0")
	mustAuditClean(t, e.pool)
}

// One person, two accounts: a guest rewarded as a referred customer who
// then registers and orders again through a link is not a new friend;
// the other way round, a registered customer's earlier order makes a
// later guest order with the same address no first order.
func TestReferralRewardOncePerPerson(t *testing.T) {
	t.Parallel()
	e := newEarnEnv(t)
	rs := e.withReferralRewards(t, nil)
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	e.apply(t, buy("9201", "", "Twice@Example.com", "ANNA", at))
	e.apply(t, buy("9202", "920", "twice@example.com", "ANNA", at.Add(time.Hour)))
	e.apply(t, buy("9203", "930", "first@example.com", "", at))
	e.apply(t, buy("9204", "", "first@example.com", "ANNA", at.Add(time.Hour)))
	got := e.referrals(t, rs, "")
	status := map[string]string{}
	for _, r := range got {
		status[r.OrderID] = string(r.Status) + ":" + r.Refusal
	}
	if len(got) != 2 || status["9201"] != "rewarded:" || status["9204"] != "refused:not_first" {
		t.Fatalf("decisions %v", status)
	}
	// p-1: 2 % of 9201, 9202 and 9204, and one reward.
	e.wantAvail(t, partnerOwner("p-1"), "16.00")
	mustAuditClean(t, e.pool)
}
