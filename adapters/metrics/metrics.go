// Package metrics defines creditbridge's Prometheus metrics.
package metrics

import (
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the service's collectors, registered on their own registry.
type Metrics struct {
	Registry          *prometheus.Registry
	WebhooksReceived  *prometheus.CounterVec
	WebhooksRefused   *prometheus.CounterVec
	WebhookDuplicates *prometheus.CounterVec
	IngestSeconds     *prometheus.HistogramVec
	EventsProcessed   *prometheus.CounterVec
	EventSeconds      *prometheus.HistogramVec
	LedgerCommits     prometheus.Counter
	LedgerTxs         prometheus.Counter
	Holds             *prometheus.CounterVec
	Quotes            *prometheus.CounterVec
	QuoteSeconds      prometheus.Histogram

	// topics are the label values allowed for a platform's topics
	// (AllowTopics); every other topic is counted as "other". Written
	// only while wiring, before the first request.
	topics map[string]map[string]string
}

// OtherTopic is the topic label of every topic not allowed by AllowTopics.
const OtherTopic = "other"

// AllowTopics lets the topics a platform adapter handles appear as label
// values. Label values must come from a fixed set: a topic header is
// request data (unbounded, attacker-chosen, and in fiber a view into a
// reused buffer), so it is never used as a label itself. Call it while
// wiring, before the service handles requests.
func (m *Metrics) AllowTopics(platform core.Platform, topics ...string) {
	if m.topics == nil {
		m.topics = map[string]map[string]string{}
	}
	set := m.topics[string(platform)]
	if set == nil {
		set = map[string]string{}
		m.topics[string(platform)] = set
	}
	for _, t := range topics {
		t = strings.Clone(t)
		set[t] = t
	}
}

// TopicLabel returns the label value for a delivery's topic: the allowed
// topic's own copy, never the caller's string, or OtherTopic.
func (m *Metrics) TopicLabel(platform core.Platform, topic string) string {
	if t, ok := m.topics[string(platform)][topic]; ok {
		return t
	}
	return OtherTopic
}

// New creates and registers the metrics. queueLag and queueSize are read
// at scrape time (seconds the oldest unprocessed inbox event has waited;
// tasks pending in the queue).
func New(queueLag func() float64, queueSize func() float64) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		WebhooksReceived: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditbridge_webhooks_received_total",
			Help: "Verified webhook deliveries stored in the inbox."}, []string{"platform", "topic"}),
		WebhooksRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditbridge_webhooks_refused_total",
			Help: "Webhook deliveries refused before storage, by reason."}, []string{"platform", "reason"}),
		WebhookDuplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditbridge_webhook_duplicates_total",
			Help: "Deliveries of events already in the inbox."}, []string{"platform"}),
		IngestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "creditbridge_webhook_ingest_seconds",
			Help: "Time from request to 200 for webhook deliveries.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}}, []string{"platform"}),
		EventsProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditbridge_events_processed_total",
			Help: "Inbox events handled by workers, by outcome."}, []string{"platform", "topic", "status"}),
		EventSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "creditbridge_event_processing_seconds",
			Help: "Worker time per inbox event.", Buckets: prometheus.DefBuckets}, []string{"platform"}),
		LedgerCommits: prometheus.NewCounter(prometheus.CounterOpts{Name: "creditbridge_ledger_commits_total",
			Help: "Database transactions committed by the ledger."}),
		LedgerTxs: prometheus.NewCounter(prometheus.CounterOpts{Name: "creditbridge_ledger_postings_total",
			Help: "Ledger transactions (balanced sets of postings) written."}),
		Holds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditbridge_holds_total",
			Help: "Checkout holds by operation."}, []string{"op"}),
		Quotes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creditbridge_quotes_total",
			Help: "Checkout quotes by result."}, []string{"platform", "result"}),
		QuoteSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creditbridge_quote_seconds",
			Help: "Checkout quote latency (including hold placement).", Buckets: []float64{.001, .002, .005, .01, .025, .05, .1, .25}}),
	}
	r.MustRegister(m.WebhooksReceived, m.WebhooksRefused, m.WebhookDuplicates, m.IngestSeconds, m.EventsProcessed, m.EventSeconds,
		m.LedgerCommits, m.LedgerTxs, m.Holds, m.Quotes, m.QuoteSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queueLag != nil {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "creditbridge_queue_lag_seconds",
			Help: "Age of the oldest inbox event not yet processed."}, queueLag))
	}
	if queueSize != nil {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "creditbridge_queue_pending_tasks",
			Help: "Accepted events not yet processed (from the inbox, so a Redis loss does not hide them)."}, queueSize))
	}
	return m
}

// ObserveEvent records a dispatcher outcome (core.Dispatcher.Observe).
func (m *Metrics) ObserveEvent(p core.Platform, topic string, st core.InboxStatus, d time.Duration) {
	m.EventsProcessed.WithLabelValues(string(p), m.TopicLabel(p, topic), string(st)).Inc()
	m.EventSeconds.WithLabelValues(string(p)).Observe(d.Seconds())
}

// OnCommit records a ledger commit of n transactions.
func (m *Metrics) OnCommit(n int) {
	m.LedgerCommits.Inc()
	m.LedgerTxs.Add(float64(n))
}
