package core_test

import (
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

func TestCapCreditMinimumBalance(t *testing.T) {
	s := core.ShopSettings{ProgramSettings: core.ProgramSettings{MinRedeemBalance: decimal.NewNullDecimal(decimal.RequireFromString("10"))}}
	for _, c := range []struct{ avail, want string }{{"9.99", "0"}, {"10", "10"}, {"25.50", "20"}} {
		got, err := core.CapCredit(s, "EUR", decimal.RequireFromString(c.avail), decimal.RequireFromString("20"))
		if err != nil || !got.Equal(decimal.RequireFromString(c.want)) {
			t.Fatalf("available %s: %s, %v; want %s", c.avail, got, err, c.want)
		}
	}
	if err := (core.ShopSettings{ProgramSettings: core.ProgramSettings{MinRedeemBalance: decimal.NewNullDecimal(decimal.RequireFromString("-1"))}}).Validate(); err == nil {
		t.Fatal("a negative minimum was accepted")
	}
}

func TestPeriodStartInShopTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	// 2026-03-31 22:30 UTC is already 1 April 00:30 in Berlin (CEST).
	at := time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC)
	if got := core.PeriodStart(core.PeriodMonth, at, berlin); !got.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, berlin)) {
		t.Fatalf("month start %s", got)
	}
	if got := core.PeriodStart(core.PeriodMonth, at, time.UTC); !got.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("month start UTC %s", got)
	}
	// Sunday 2026-03-29 (the DST change) belongs to the week from Monday 23 March.
	if got := core.PeriodStart(core.PeriodWeek, time.Date(2026, 3, 29, 12, 0, 0, 0, berlin), berlin); !got.Equal(time.Date(2026, 3, 23, 0, 0, 0, 0, berlin)) {
		t.Fatalf("week start %s", got)
	}
}

func TestExpiringFIFO(t *testing.T) {
	d := decimal.RequireFromString
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	lots := []core.Lot{{At: t0, Amount: d("10")}, {At: t0.AddDate(0, 3, 0), Amount: d("5")}, {At: t0.AddDate(0, 6, 0), Amount: d("1")}}
	rem := core.RemainingLots(lots, d("12"))
	if len(rem) != 2 || !rem[0].Amount.Equal(d("3")) || !rem[0].At.Equal(lots[1].At) {
		t.Fatalf("remaining %+v", rem)
	}
	if got := core.Expiring(rem, d("4"), t0.AddDate(0, 4, 0)); !got.Equal(d("3")) {
		t.Fatalf("expiring %s", got)
	}
	if got := core.Expiring(rem, d("2"), t0.AddDate(1, 0, 0)); !got.Equal(d("2")) {
		t.Fatalf("expiring capped by available: %s", got)
	}
	if got := core.Expiring(rem, d("4"), time.Time{}); !got.IsZero() {
		t.Fatalf("no cutoff expired %s", got)
	}
}
