package secretbox_test

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/secretbox"
)

func key(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRotate(t *testing.T) {
	t.Parallel()
	k1, k2 := key(t), key(t)
	old, err := secretbox.New(k1, nil)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := old.Seal([]byte("shpat_secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("shpat_secret")) {
		t.Fatal("plaintext visible in sealed value")
	}
	rotated, _ := secretbox.New(k2, k1)
	pt, err := rotated.Open(sealed)
	if err != nil || string(pt) != "shpat_secret" {
		t.Fatalf("open with previous key: %q %v", pt, err)
	}
	other, _ := secretbox.New(k2, nil)
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("opened with the wrong key")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := old.Open(sealed); err == nil {
		t.Fatal("tampered value opened")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	if _, err := secretbox.ParseKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="); err != nil {
		t.Fatal(err)
	}
	if _, err := secretbox.ParseKey("short"); err == nil {
		t.Fatal("short key accepted")
	}
}
