package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/mail"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	cbredis "github.com/creditbridge/creditbridge/adapters/redis"
	"github.com/creditbridge/creditbridge/adapters/secretbox"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/jobs"
	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
)

// smtpSink is a real SMTP server (emersion/go-smtp) on a loopback port
// that keeps every message it accepts.
type smtpSink struct {
	mu   sync.Mutex
	msgs []sunkMail
	Addr string
}

type sunkMail struct {
	From string
	To   []string
	Data string
}

type sinkSession struct {
	sink *smtpSink
	cur  sunkMail
}

func (s *sinkSession) Reset()        { s.cur = sunkMail{} }
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, s.cur)
	s.sink.mu.Unlock()
	return nil
}

func startSMTP(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: sink}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sink
}

func (s *smtpSink) all() []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunkMail(nil), s.msgs...)
}

// hookSink is the merchant's endpoint: it refuses the first delivery of
// every notification with a 500, then accepts; it records what it got.
type hookSink struct {
	mu      sync.Mutex
	secret  string
	tries   map[string]int
	bodies  map[string]string
	badSigs int
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !core.VerifyWebhook(h.secret, r.Header.Get(core.SignatureHeader), b, time.Now(), 5*time.Minute) {
		h.badSigs++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("X-Creditbridge-Delivery")
	h.tries[id]++
	if h.tries[id] == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	h.bodies[id] = string(b)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookSink) delivered() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]string{}
	for k, v := range h.bodies {
		out[k] = v
	}
	return out
}

type notifyEnv struct {
	pool     *pgxpool.Pool
	ledger   *postgres.LedgerStore
	shops    *postgres.ShopStore
	dir      *postgres.Directory
	store    *postgres.NotifyStore
	client   *asynq.Client
	queue    string
	clock    *fakeNow
	notifier *jobs.Notifier
}

type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time  { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) Set(t time.Time) { f.mu.Lock(); f.t = t; f.mu.Unlock() }

func newNotifyEnv(t *testing.T, start time.Time) *notifyEnv {
	t.Helper()
	ctx := context.Background()
	e := &notifyEnv{pool: pgtest.NewPool(t, 8), clock: &fakeNow{t: start}}
	e.ledger = postgres.NewLedgerStore(e.pool, 1)
	t.Cleanup(e.ledger.Close)
	e.ledger.SetClock(e.clock.Now)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secretbox.New(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.shops = postgres.NewShopStore(e.pool, box)
	e.dir = postgres.NewDirectory(e.pool)
	e.store = &postgres.NotifyStore{L: e.ledger}
	rdb, err := cbredis.Open(ctx, "redis://127.0.0.1:6379/0")
	if err != nil {
		t.Fatal(err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	e.queue = "cbnotify-" + hex.EncodeToString(rnd[:])
	e.client = asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() {
		_ = insp.DeleteQueue(e.queue, true)
		_ = insp.Close()
		_ = e.client.Close()
		_ = rdb.Close()
	})
	e.notifier = &jobs.Notifier{Shops: e.shops, Store: e.store, Client: e.client, Queue: e.queue, Now: e.clock.Now, Lag: time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return e
}

func (e *notifyEnv) startWorker(t *testing.T, d *jobs.Deliverer) {
	t.Helper()
	rdb, err := cbredis.Open(context.Background(), "redis://127.0.0.1:6379/0")
	if err != nil {
		t.Fatal(err)
	}
	srv := jobs.NewServer(rdb, e.queue, 4, 5*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := asynq.NewServeMux()
	jobs.RegisterNotify(mux, d)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); _ = rdb.Close() })
}

func earn(t *testing.T, l *postgres.LedgerStore, shop int64, owner core.Owner, key, amount string) {
	t.Helper()
	if _, err := l.Post(context.Background(), core.Transaction{ShopID: shop, Key: key, Reason: core.Reason{Kind: core.ReasonEarn, OrderID: key, OrderNumber: "#" + key},
		Postings: []core.Posting{{Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: decimal.RequireFromString(amount).Neg()},
			{Currency: "EUR", Owner: owner, Bucket: core.BucketAvailable, Amount: decimal.RequireFromString(amount)}}}); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func deliveryStatuses(t *testing.T, pool *pgxpool.Pool) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT channel || ':' || status, count(*) FROM notification_deliveries GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(k, "webhook:") {
			k = "webhook" + k[strings.LastIndex(k, ":"):]
		}
		out[k] += n
	}
	return out
}

// Credit earned reaches the merchant's endpoint as a signed webhook
// (retried by asynq after a 500) and consenting customers by e-mail
// (a real SMTP server, German template, one-click unsubscribe); a customer
// without consent gets no e-mail; a second round sends nothing again.
func TestNotificationsWebhookAndEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e := newNotifyEnv(t, start)
	hooks := &hookSink{tries: map[string]int{}, bodies: map[string]string{}}
	hs := httptest.NewServer(hooks)
	t.Cleanup(hs.Close)
	shop, err := e.shops.CreateShop(ctx, core.Shop{Platform: core.PlatformShopify, Domain: "notify.myshopify.com",
		Name: "Teeladen", Currency: "EUR", Active: true, Settings: core.ShopSettings{Locale: "de", TimeZone: "Europe/Berlin",
			ProgramSettings: core.ProgramSettings{NotifySettings: core.NotifySettings{Email: true,
				Endpoints: []core.Endpoint{{URL: hs.URL + "/hooks", Topics: []string{core.TopicCreditEarned}}}}}},
		Secrets: core.ShopSecrets{CustomerKey: "ck-test", NotifySecret: "whsig_test"}}, "cba_"+hex.EncodeToString([]byte("notify-token-01")))
	if err != nil {
		t.Fatal(err)
	}
	hooks.secret = "whsig_test"
	yes, no := true, false
	anna, err := e.dir.RegisterCustomer(ctx, shop, core.CustomerRef{PlatformID: "1", Email: "anna@example.com"}, &yes, "")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := e.dir.RegisterCustomer(ctx, shop, core.CustomerRef{PlatformID: "2", Email: "bob@example.com"}, &no, "")
	if err != nil {
		t.Fatal(err)
	}
	earn(t, e.ledger, shop.ID, anna, "1001", "2.50")
	earn(t, e.ledger, shop.ID, bob, "1002", "4.00")
	smtpd := startSMTP(t)
	host, port, _ := net.SplitHostPort(smtpd.Addr)
	var p int
	for _, c := range port {
		p = p*10 + int(c-'0')
	}
	sender, err := mail.New(mail.Config{Host: host, Port: p, From: "credit@teeladen.example", TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	e.startWorker(t, &jobs.Deliverer{Shops: e.shops, Store: e.store, Mail: sender, Contacts: e.dir.CustomerContact,
		PublicURL: "https://bridge.example", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.clock.Set(start.Add(time.Minute))
	n, err := e.notifier.Run(ctx)
	if err != nil || n != 4 {
		t.Fatalf("notifier: n=%d err=%v (want 2 webhooks + 2 e-mails)", n, err)
	}
	waitUntil(t, "both webhooks delivered after a retry", func() bool { return len(hooks.delivered()) == 2 })
	waitUntil(t, "the e-mail deliveries to end", func() bool {
		st := deliveryStatuses(t, e.pool)
		return st["email:delivered"]+st["email:skipped"] == 2 && st["webhook:delivered"] == 2
	})
	for id, body := range hooks.delivered() {
		if hooks.tries[id] != 2 || !strings.Contains(body, `"topic":"credit.earned"`) || strings.Contains(body, "@") {
			t.Fatalf("delivery %s after %d tries: %s", id, hooks.tries[id], body)
		}
	}
	if hooks.badSigs != 0 {
		t.Fatalf("%d deliveries had a bad signature", hooks.badSigs)
	}
	mails := smtpd.all()
	if len(mails) != 1 || len(mails[0].To) != 1 || mails[0].To[0] != "anna@example.com" {
		t.Fatalf("mails %+v: want exactly one, to the consenting customer", mails)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(mails[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Du hast 2,50\u00a0€ Guthaben bei Teeladen erhalten" {
		t.Fatalf("subject %q", subject)
	}
	unsub := msg.Header.Get("List-Unsubscribe")
	if !strings.HasPrefix(unsub, "<https://bridge.example/unsubscribe?s=") || msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" ||
		!strings.Contains(string(text), "Dein verfügbares Guthaben: 2,50\u00a0€") || !strings.Contains(string(text), strings.Trim(unsub, "<>")) {
		t.Fatalf("mail headers %v\n%s", msg.Header, text)
	}
	if st := deliveryStatuses(t, e.pool); st["email:skipped"] != 1 {
		t.Fatalf("statuses %v: bob's e-mail must be skipped (no consent)", st)
	}
	views, err := e.store.Notifications(ctx, shop.ID, 10)
	if err != nil || len(views) != 2 || views[0].Topic != core.TopicCreditEarned || !strings.Contains(string(views[0].Deliveries), `"status": "delivered"`) {
		t.Fatalf("notification log %+v, %v", views, err)
	}
	// Nothing new: a second round delivers nothing again.
	e.clock.Set(start.Add(2 * time.Minute))
	if n, err := e.notifier.Run(ctx); err != nil || n != 0 {
		t.Fatalf("second round: n=%d err=%v", n, err)
	}
}
