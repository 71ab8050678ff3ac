// Package configs loads creditbridge's configuration from the environment
// and validates it, with messages that say exactly what is wrong.
// Every variable is documented in the README and in example.env.
package configs

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/shopify/admin"
)

// Config is the validated configuration.
type Config struct {
	DatabaseURL       string
	DBMaxConns        int32
	RedisURL          string
	HTTPAddr          string
	PublicURL         string
	Role              string // all, web, worker
	EncryptionKey     string
	EncryptionKeyPrev string
	AdminToken        string // operator token: creates shops, reads every shop
	MetricsToken      string // bearer token /metrics requires (empty: open)
	ShopifyClientID   string
	ShopifySecret     string
	ShopifySecretPrev string
	ShopifyAPIVersion string
	ShopifyScopes     string
	LogLevel          string
	LogFormat         string
	BodyLimit         int
	WorkerConcurrency int
	Queue             string
	SweepAfter        time.Duration
	// EventMaxAttempts is the retry budget of an event that keeps failing
	// with a transient error: the attempt that reaches it dead-letters it.
	EventMaxAttempts int
	PollInterval     time.Duration
	// CollectionRefresh is how often the products of Shopify collection
	// rules are read again from the Admin API.
	CollectionRefresh  time.Duration
	ShutdownTimeout    time.Duration
	CustomerTokenTTL   time.Duration
	LedgerCommitters   int
	InboxRetentionDays int
	PprofAddr          string // optional net/http/pprof listener, e.g. 127.0.0.1:6060
	FailedPerIPMinute  int    // refused requests (status >= 400) one client IP may make per minute
	// SMTP for customer notification e-mails (empty host: no e-mail).
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string
	SMTPTLS      string // starttls (default), tls, none
}

// Load reads the configuration through lookup (os.LookupEnv in main, a map
// in tests). It returns every problem at once.
func Load(lookup func(string) (string, bool)) (Config, error) {
	p := parser{lookup: lookup}
	c := Config{
		DatabaseURL:        p.str("DATABASE_URL", ""),
		DBMaxConns:         int32(p.int("DB_MAX_CONNS", 16, 2, 1000)),
		RedisURL:           p.str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		HTTPAddr:           p.str("HTTP_ADDR", ":8080"),
		PublicURL:          strings.TrimRight(p.str("PUBLIC_URL", "http://localhost:8080"), "/"),
		Role:               p.str("ROLE", "all"),
		EncryptionKey:      p.str("CREDITBRIDGE_ENCRYPTION_KEY", ""),
		EncryptionKeyPrev:  p.str("CREDITBRIDGE_ENCRYPTION_KEY_PREVIOUS", ""),
		AdminToken:         p.str("CREDITBRIDGE_ADMIN_TOKEN", ""),
		MetricsToken:       p.str("METRICS_TOKEN", ""),
		ShopifyClientID:    p.str("SHOPIFY_CLIENT_ID", ""),
		ShopifySecret:      p.str("SHOPIFY_CLIENT_SECRET", ""),
		ShopifySecretPrev:  p.str("SHOPIFY_CLIENT_SECRET_PREVIOUS", ""),
		ShopifyAPIVersion:  p.str("SHOPIFY_API_VERSION", admin.DefaultAPIVersion),
		ShopifyScopes:      p.str("SHOPIFY_SCOPES", admin.DefaultScopes),
		LogLevel:           strings.ToLower(p.str("LOG_LEVEL", "info")),
		LogFormat:          strings.ToLower(p.str("LOG_FORMAT", "json")),
		BodyLimit:          p.int("BODY_LIMIT_BYTES", 1<<20, 1024, 64<<20),
		WorkerConcurrency:  p.int("WORKER_CONCURRENCY", 64, 1, 1000),
		Queue:              p.str("QUEUE_NAME", "creditbridge"),
		SweepAfter:         p.dur("INBOX_SWEEP_AFTER", 2*time.Minute),
		EventMaxAttempts:   p.int("EVENT_MAX_ATTEMPTS", 25, 2, 100),
		PollInterval:       p.dur("WOOCOMMERCE_POLL_INTERVAL", 5*time.Minute),
		CollectionRefresh:  p.dur("COLLECTION_REFRESH_INTERVAL", 6*time.Hour),
		ShutdownTimeout:    p.dur("SHUTDOWN_TIMEOUT", 20*time.Second),
		CustomerTokenTTL:   p.dur("CUSTOMER_TOKEN_TTL", 15*time.Minute),
		LedgerCommitters:   p.int("LEDGER_COMMITTERS", 4, 1, 64),
		InboxRetentionDays: p.int("INBOX_RETENTION_DAYS", 30, 1, 3650),
		PprofAddr:          p.str("PPROF_ADDR", ""),
		FailedPerIPMinute:  p.int("RATE_LIMIT_FAILED_PER_MINUTE", 600, 0, 1_000_000),
		SMTPHost:           p.str("SMTP_HOST", ""),
		SMTPPort:           p.int("SMTP_PORT", 587, 1, 65535),
		SMTPUsername:       p.str("SMTP_USERNAME", ""),
		SMTPPassword:       p.str("SMTP_PASSWORD", ""),
		SMTPFrom:           p.str("SMTP_FROM", ""),
		SMTPTLS:            strings.ToLower(p.str("SMTP_TLS", "starttls")),
	}
	p.errs = append(p.errs, c.validate()...)
	if len(p.errs) > 0 {
		return c, &Error{Problems: p.errs}
	}
	return c, nil
}

// Error lists every configuration problem.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return "configuration is invalid:\n  - " + strings.Join(e.Problems, "\n  - ") + "\n(see configs/example.env and the README's Configuration section)"
}

func (c Config) validate() []string {
	var errs []string
	if c.DatabaseURL == "" {
		errs = append(errs, "DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/creditbridge?sslmode=disable")
	} else if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		errs = append(errs, "DATABASE_URL must be a postgres:// URL")
	}
	if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		errs = append(errs, "REDIS_URL must be a redis:// or rediss:// URL")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, "PUBLIC_URL must be an absolute http(s) URL, e.g. https://credit.example.com")
	}
	switch c.Role {
	case "all", "web", "worker":
	default:
		errs = append(errs, fmt.Sprintf("ROLE must be all, web or worker (got %q)", c.Role))
	}
	if c.EncryptionKey == "" {
		errs = append(errs, "CREDITBRIDGE_ENCRYPTION_KEY is required: 32 random bytes as base64 (openssl rand -base64 32)")
	}
	if c.SMTPHost != "" && !strings.Contains(c.SMTPFrom, "@") {
		errs = append(errs, "SMTP_FROM must be an e-mail address when SMTP_HOST is set")
	}
	if c.SMTPTLS != "starttls" && c.SMTPTLS != "tls" && c.SMTPTLS != "none" {
		errs = append(errs, "SMTP_TLS must be starttls, tls or none")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 24 {
		errs = append(errs, "METRICS_TOKEN must be at least 24 characters")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 24 {
		errs = append(errs, "CREDITBRIDGE_ADMIN_TOKEN must be at least 24 characters")
	}
	if (c.ShopifyClientID == "") != (c.ShopifySecret == "") {
		errs = append(errs, "SHOPIFY_CLIENT_ID and SHOPIFY_CLIENT_SECRET must be set together")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("LOG_LEVEL must be debug, info, warn or error (got %q)", c.LogLevel))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Sprintf("LOG_FORMAT must be json or text (got %q)", c.LogFormat))
	}
	if c.Production() {
		if sampleKeys[c.EncryptionKey] || sampleKeys[c.EncryptionKeyPrev] {
			errs = append(errs, "CREDITBRIDGE_ENCRYPTION_KEY is a published sample value (configs/example.env or the demo): generate one with openssl rand -base64 32")
		}
		for name, v := range map[string]string{"CREDITBRIDGE_ADMIN_TOKEN": c.AdminToken, "METRICS_TOKEN": c.MetricsToken} {
			if v != "" && (sampleTokens[v] || strings.Contains(strings.ToLower(v), "change-me")) {
				errs = append(errs, name+" is the sample value from configs/example.env: generate one with openssl rand -base64 32")
			}
		}
	}
	if c.CollectionRefresh < time.Minute {
		errs = append(errs, "COLLECTION_REFRESH_INTERVAL must be at least 1m (each run reads every collection rule from Shopify's Admin API)")
	}
	if c.Queue == "" || strings.ContainsAny(c.Queue, "{}: ") {
		errs = append(errs, "QUEUE_NAME must be non-empty without braces, colons or spaces")
	}
	return errs
}

// Sample values published in configs/example.env and the demo. A
// production configuration (see Production) refuses them: anyone can read
// them.
var (
	sampleKeys = map[string]bool{
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=": true, // configs/example.env
		"ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=": true, // creditbridge demo
	}
	sampleTokens = map[string]bool{"change-me-to-a-long-random-operator-token": true}
)

// Production reports whether the service is reachable beyond this
// machine: its PUBLIC_URL is not on localhost. Sample secrets are refused
// there.
func (c Config) Production() bool {
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return true
	}
	switch h := u.Hostname(); h {
	case "localhost", "127.0.0.1", "::1":
		return false
	default:
		return !strings.HasSuffix(h, ".localhost")
	}
}

type parser struct {
	lookup func(string) (string, bool)
	errs   []string
}

func (p *parser) str(k, def string) string {
	if v, ok := p.lookup(k); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (p *parser) int(k string, def, lo, hi int) int {
	v, ok := p.lookup(k)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		p.errs = append(p.errs, fmt.Sprintf("%s must be an integer between %d and %d (got %q)", k, lo, hi, v))
		return def
	}
	return n
}

func (p *parser) dur(k string, def time.Duration) time.Duration {
	v, ok := p.lookup(k)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		p.errs = append(p.errs, fmt.Sprintf("%s must be a positive duration like 30s or 5m (got %q)", k, v))
		return def
	}
	return d
}
