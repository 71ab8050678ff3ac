package core

import "time"

// ShopHealth is what the bridge knows about a shop's connection, for the
// shop's own admin page (the WooCommerce plugin's health box).
type ShopHealth struct {
	// LastWebhookAt is when the newest order webhook of the shop arrived
	// (zero: never, or longer ago than the inbox keeps rows).
	LastWebhookAt time.Time
	// LastPollAt is when the poller last read the shop's orders, and
	// LastPollOK whether that worked.
	LastPollAt time.Time
	LastPollOK bool
	// LastFailure is the newest failure: a failed poll, an event that
	// became a dead letter, or a webhook delivery the bridge refused (bad
	// signature, a delivery URL naming an unknown shop). Nil when there was
	// none.
	LastFailure *HealthFailure
}

// HealthFailure is one failure with its reason (no secrets, no payloads).
type HealthFailure struct {
	At     time.Time
	Source string // "poll", "processing" or "webhook"
	Reason string
}

// Health sources.
const (
	HealthSourcePoll       = "poll"
	HealthSourceProcessing = "processing"
	HealthSourceWebhook    = "webhook"
)
