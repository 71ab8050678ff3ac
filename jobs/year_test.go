package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/shopspring/decimal"
)

// A year on a fake clock: two orders, lots expiring oldest first with a
// notice two weeks before each, balance reminders after 30 days without
// an order at most every 60 days (exactly once each), and an activity cap
// per calendar month in Europe/Berlin across midnight. In a second shop
// the same year runs tiers (monthly review) and a paid membership: up,
// down at a month's end when old spend ages out, down at once when a
// refund takes the membership away, with every line keeping the tier it
// first earned with, and a weekend campaign's window edges at midnight in
// Berlin across the DST change (see yearTiers). A third shop runs
// second-purchase windows through the year: granted and used, expired by
// the noon job exactly once, taken back by a full refund, and used before
// its second order was refunded (see yearSecond).
func TestProgramYearOnAFakeClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	e := newNotifyEnv(t, start)
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformWooCommerce, Domain: "https://year.example", Name: "Year", Currency: "EUR", Active: true,
		Settings: core.ShopSettings{TimeZone: "Europe/Berlin", ProgramSettings: core.ProgramSettings{
			ExpiryMonths: 6, ExpiryNoticeDays: 14,
			Activities:     []core.ActivityRule{{Kind: "review", Amount: decimal.RequireFromString("1.00"), PerObject: true, MaxPerPeriod: 1, Period: core.PeriodMonth}},
			NotifySettings: core.NotifySettings{Email: true, ReminderDays: 30, ReminderIntervalDays: 60}}},
		Secrets: core.ShopSecrets{CustomerKey: "ck"}}, "cba_year_token_0123456789")
	if err != nil {
		t.Fatal(err)
	}
	c := core.Owner{Kind: core.OwnerCustomer, ID: "c:1"}
	expiry := &jobs.CreditExpiry{Shops: e.shops, Ledger: e.ledger, Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	acts := &core.Activities{Store: postgres.ActivityStore{L: e.ledger}, Now: e.clock.Now}
	earn(t, e.ledger, shop.ID, c, "1", "10.00") // lot A, 1 Jan 10:00
	tiers := newYearTiers(t, e)
	second := newYearSecond(t, e)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for day := start; day.Year() == 2026; day = day.AddDate(0, 0, 1) {
		noon := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, time.UTC)
		tiers.day(t, day)
		second.day(t, day)
		if day.Month() == time.March && day.Day() == 15 {
			e.clock.Set(time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC))
			earn(t, e.ledger, shop.ID, c, "2", "5.00") // lot B
		}
		e.clock.Set(noon)
		if _, err := expiry.Run(ctx); err != nil {
			t.Fatal(err)
		}
		// The notifier twice: a rerun (or a second worker) finds nothing
		// new, so each reminder and notice exists exactly once.
		for range 2 {
			if _, err := e.notifier.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		second.noon(t, day)
		tiers.review(t)
		if day.Month() == time.March && day.Day() == 31 {
			// 23:30 and 00:30 in Berlin (CEST since 29 March): two
			// calendar months there, one in UTC; a cap of one review a
			// month pays both.
			for i, at := range []time.Time{time.Date(2026, 3, 31, 23, 30, 0, 0, berlin), time.Date(2026, 4, 1, 0, 30, 0, 0, berlin), time.Date(2026, 4, 1, 1, 0, 0, 0, berlin)} {
				e.clock.Set(at)
				ev, err := acts.Record(ctx, shop, core.ActivityRequest{Kind: "review", Owner: c, Object: "p" + string(rune('1'+i)), Key: "r" + string(rune('1'+i))})
				if err != nil {
					t.Fatal(err)
				}
				want := core.ActivityRewarded
				if i == 2 {
					want = core.ActivityRefused
				}
				if ev.Status != want {
					t.Fatalf("review %d at %s: %s (%s)", i+1, at, ev.Status, ev.Refusal)
				}
			}
		}
	}
	tiers.check(t)
	second.check(t)
	rows, err := e.pool.Query(ctx, `SELECT topic, created_at, payload->>'amount' FROM notifications WHERE shop_id = $1 AND topic <> 'tier.changed' ORDER BY created_at, id`, shop.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var topic, amount string
		var at time.Time
		if err := rows.Scan(&topic, &at, &amount); err != nil {
			t.Fatal(err)
		}
		got = append(got, at.UTC().Format("01-02")+" "+topic+" "+amount)
	}
	rows.Close()
	want := []string{
		"01-01 credit.earned 10",
		"01-31 balance.reminder 10",
		"03-15 credit.earned 5",
		"03-31 credit.earned 1", // the review at 23:30 in Berlin
		"03-31 credit.earned 1", // the review at 00:30 in Berlin, already April there
		"04-14 balance.reminder 17",
		"06-13 balance.reminder 17",
		"06-17 credit.expiring 10", // lot A, oldest first
		"07-01 credit.expired 10",
		"08-12 balance.reminder 7",
		"09-01 credit.expiring 5", // lot B
		"09-15 credit.expired 5",
		"09-17 credit.expiring 2", // both reviews, due 30 September evening
		"10-01 credit.expired 2",
	}
	if len(got) != len(want) {
		t.Fatalf("notifications:\n%v\nwant:\n%v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("notification %d: %q, want %q\nall: %v", i, got[i], want[i], got)
		}
	}
	b, _ := e.ledger.Balance(ctx, shop.ID, "EUR", c)
	if !b.Available.IsZero() {
		t.Fatalf("balance at the end of the year %+v", b)
	}
	r, err := postgres.Audit(ctx, e.pool, shop.ID)
	if err != nil || !r.OK() {
		t.Fatalf("audit: %v\n%s", err, r)
	}
}
