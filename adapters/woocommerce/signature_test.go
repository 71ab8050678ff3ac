package woocommerce

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/sharedfixtures"
	"github.com/creditbridge/creditbridge/core"
)

// fixtureHeaders parses synthetic/order-updated.headers.txt (a request line
// followed by "Name: value" lines).
func fixtureHeaders(t testing.TB) http.Header {
	t.Helper()
	raw := sharedfixtures.Read(t, "fixtures/woocommerce/synthetic/order-updated.headers.txt")
	h := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	first := true
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if first {
			first = false
			continue
		}
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad header line %q", line)
		}
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return h
}

func TestVerifyWebhookKnownAnswer(t *testing.T) {
	t.Parallel()
	body := sharedfixtures.Read(t, "fixtures/woocommerce/synthetic/order-updated.body.json")
	secret := string(sharedfixtures.Read(t, "fixtures/woocommerce/synthetic/secret.txt"))
	h := fixtureHeaders(t)
	sig := h.Get(SignatureHeader)
	if sig != "3lmo1k9jNF4DGmRmnqkFP+zUZUV9Hwag2R9d3TnOQjo=" {
		t.Fatalf("fixture signature header = %q", sig)
	}
	if err := VerifyWebhook(body, sig, secret); err != nil {
		t.Fatalf("VerifyWebhook(fixture) = %v", err)
	}
	if got := Sign(body, secret); got != sig {
		t.Fatalf("Sign = %q, want %q", got, sig)
	}
	if h.Get(TopicHeader) != "order.updated" || h.Get(ResourceHeader) != "order" || h.Get(EventHeader) != "updated" ||
		h.Get(WebhookIDHeader) != "142" || h.Get(DeliveryIDHeader) == "" || h.Get(SourceHeader) != "https://example.com/" {
		t.Fatalf("header constants do not find the fixture headers: %v", h)
	}
	if IsPing(body, h.Get) {
		t.Fatal("a signed order delivery was taken for a ping")
	}
	// The signed body parses as an order.
	o, err := ParseOrder(body, DefaultParseOptions())
	if err != nil || o.OrderID != "727" {
		t.Fatalf("ParseOrder(signed body) = %+v, %v", o.OrderID, err)
	}
}

func TestVerifyWebhookRejects(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":1}`)
	const secret = "s3cret"
	good := Sign(body, secret)
	tests := []struct {
		name, sig, secret string
		body              []byte
		wantMsg           string
	}{
		{"missing header", "", secret, body, "missing"},
		{"not base64", "%%%not-base64%%%", secret, body, "base64"},
		{"wrong length", "AAAA", secret, body, "bytes"},
		{"too long", strings.Repeat("A", 200), secret, body, "too long"},
		{"wrong secret", good, "other", body, "does not match"},
		{"tampered body", good, secret, []byte(`{"id":2}`), "does not match"},
		{"empty secret", Sign(body, ""), "", body, "not configured"},
		{"hex instead of base64", "de59a8d24f63345e03191a664fa9053fecd465457d1f06a0d91f5ddd39ce423a", secret, body, ""},
		{"url-safe base64", strings.NewReplacer("+", "-", "/", "_").Replace(Sign([]byte("x?>"), secret)), secret, []byte("x?>"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyWebhook(tt.body, tt.sig, tt.secret)
			if core.ErrorCode(err) != core.EUNAUTHORIZED {
				t.Fatalf("VerifyWebhook = %v, want EUNAUTHORIZED", err)
			}
			if !strings.Contains(core.ErrorMessage(err), tt.wantMsg) {
				t.Fatalf("message %q does not mention %q", core.ErrorMessage(err), tt.wantMsg)
			}
		})
	}
	if err := VerifyWebhook(body, good, secret); err != nil {
		t.Fatalf("valid signature rejected: %v", err)
	}
}

func TestIsPing(t *testing.T) {
	t.Parallel()
	ping := sharedfixtures.Read(t, "fixtures/woocommerce/synthetic/ping.body.txt")
	none := func(string) string { return "" }
	if !IsPing(ping, none) {
		t.Fatalf("fixture ping %q not recognized", ping)
	}
	if !IsPing(ping, nil) {
		t.Fatal("nil header func should mean no headers")
	}
	withHeader := func(name string) func(string) string {
		return func(n string) string {
			if n == name {
				return "x"
			}
			return ""
		}
	}
	if IsPing(ping, withHeader(SignatureHeader)) {
		t.Fatal("ping with a signature header accepted")
	}
	if IsPing(ping, withHeader(TopicHeader)) {
		t.Fatal("ping with a topic header accepted")
	}
	for _, b := range []string{
		"", "webhook_id=", "webhook_id=14a", "webhook_id=142\n", "webhook_id=142&x=1", "Webhook_id=1",
		"webhook_id=-1", `{"webhook_id":142}`, "webhook_id=" + strings.Repeat("9", 20),
	} {
		if IsPing([]byte(b), none) {
			t.Errorf("IsPing(%q) = true", b)
		}
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`{"id":727}`), "wc-test-secret-1234", "3lmo1k9jNF4DGmRmnqkFP+zUZUV9Hwag2R9d3TnOQjo=", 0)
	f.Add([]byte("webhook_id=142"), "k", "", 5)
	f.Add([]byte{}, "", "====", 1)
	f.Fuzz(func(t *testing.T, body []byte, secret, header string, flip int) {
		// Arbitrary input never panics, and a header verifies only if it
		// decodes to the real MAC.
		if err := VerifyWebhook(body, header, secret); err == nil {
			got, decErr := base64.StdEncoding.DecodeString(header)
			want, _ := base64.StdEncoding.DecodeString(Sign(body, secret))
			if decErr != nil || !bytes.Equal(got, want) {
				t.Fatalf("header %q verified but is not the MAC of the body", header)
			}
		} else if core.ErrorCode(err) != core.EUNAUTHORIZED {
			t.Fatalf("error code %s, want EUNAUTHORIZED", core.ErrorCode(err))
		}
		_ = IsPing(body, func(string) string { return header })
		if secret == "" {
			return
		}
		sig := Sign(body, secret)
		if err := VerifyWebhook(body, sig, secret); err != nil {
			t.Fatalf("valid signature rejected: %v", err)
		}
		if len(body) == 0 {
			return
		}
		tampered := bytes.Clone(body)
		i := flip % len(tampered)
		if i < 0 {
			i = -i
		}
		tampered[i] ^= 0x01
		if err := VerifyWebhook(tampered, sig, secret); core.ErrorCode(err) != core.EUNAUTHORIZED {
			t.Fatalf("flipped byte %d verified: %v", i, err)
		}
	})
}

func BenchmarkVerifyWebhook(b *testing.B) {
	body := bytes.Repeat([]byte(`{"id":727,"status":"processing"},`), 150) // ~5 KB, a typical order
	const secret = "wc-test-secret-1234"
	sig := Sign(body, secret)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyWebhook(body, sig, secret); err != nil {
			b.Fatal(err)
		}
	}
}
