package core_test

import (
	"bytes"
	"testing"

	"github.com/creditbridge/creditbridge/core"
)

func TestNormalizeAddress(t *testing.T) {
	t.Parallel()
	same := [][3]string{
		{"Hauptstraße 5", "10115", "DE"},
		{"  HAUPTSTRASSE 5 ", "10115", "de"},
		{"Hauptstr. 5", " 10115", "DE"},
		{"Haupt-Straße 5", "10115", "DE"},
		{"hauptstr 5", "10115", "DE"},
		{"Haupt Str.5", "10 115", "DE"},
	}
	want := core.NormalizeAddress(same[0][0], same[0][1], same[0][2])
	if want != "DE|10115|hauptstr5" {
		t.Fatalf("normalized %q", want)
	}
	for _, a := range same[1:] {
		if got := core.NormalizeAddress(a[0], a[1], a[2]); got != want {
			t.Errorf("%q: %q, want %q", a, got, want)
		}
	}
	// Umlauts and their transliteration match; ß and ss match.
	if core.NormalizeAddress("Müllerweg 3", "80331", "DE") != core.NormalizeAddress("Muellerweg 3", "80331", "DE") ||
		core.NormalizeAddress("Schloßallee 9", "01067", "DE") != core.NormalizeAddress("SCHLOSSALLEE 9", "01067", "DE") {
		t.Error("umlauts or ß not folded")
	}
	different := [][3]string{
		{"Hauptstraße 7", "10115", "DE"}, // another number
		{"Hauptstraße 5", "10117", "DE"}, // another postcode
		{"Hauptstraße 5", "10115", "AT"}, // another country
	}
	for _, a := range different {
		if got := core.NormalizeAddress(a[0], a[1], a[2]); got == want {
			t.Errorf("%q matches %q", a, want)
		}
	}
	for _, a := range [][3]string{{"", "10115", "DE"}, {"Hauptstraße 5", "", "DE"}, {"Hauptstraße 5", "10115", ""}, {" . ", "10115", "DE"}} {
		if got := core.NormalizeAddress(a[0], a[1], a[2]); got != "" {
			t.Errorf("incomplete %q normalized to %q", a, got)
		}
	}
	// Keyed: the same address hashes alike per key, differently across keys.
	h1, h2, h3 := core.AddressHash("k1", want), core.AddressHash("k1", want), core.AddressHash("k2", want)
	if len(h1) != 32 || !bytes.Equal(h1, h2) || bytes.Equal(h1, h3) {
		t.Error("address hash is not keyed and stable")
	}
	// AddAddress skips empty and duplicate addresses.
	list := core.AddAddress(nil, "Hauptstraße 5", "10115", "DE")
	list = core.AddAddress(list, "Hauptstr. 5", "10115", "DE")
	list = core.AddAddress(list, "", "10115", "DE")
	if len(list) != 1 {
		t.Fatalf("addresses %v", list)
	}
}

func FuzzNormalizeAddress(f *testing.F) {
	f.Add("Hauptstraße 5", "10115", "DE")
	f.Add("ÄÖÜ ß str.", "x", "y")
	f.Fuzz(func(t *testing.T, street, postcode, country string) {
		n := core.NormalizeAddress(street, postcode, country)
		if n != core.NormalizeAddress(street, postcode, country) {
			t.Fatal("not deterministic")
		}
	})
}

func TestMembershipLineMonths(t *testing.T) {
	t.Parallel()
	m := core.MembershipSettings{Months: 3}
	for q, want := range map[int64]int{0: 3, 1: 3, 2: 6, 5: 15, 1000: core.MaxMembershipLineMonths} {
		if got := m.LineMonths(q); got != want {
			t.Errorf("quantity %d: %d months, want %d", q, got, want)
		}
	}
	if got := (core.MembershipSettings{}).LineMonths(2); got != 24 {
		t.Errorf("default period × 2: %d", got)
	}
}
