package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creditbridge/creditbridge/core"
)

// maxHealthReason bounds a stored failure reason (the column allows 500).
const maxHealthReason = 500

// RecordPoll records one poller run of a shop: its time and, when it
// failed, the failure with its reason (trimmed to 500 bytes).
func (b *Inbox) RecordPoll(ctx context.Context, shopID int64, at time.Time, pollErr error) error {
	if pollErr == nil {
		_, err := b.pool.Exec(ctx, `INSERT INTO shop_health (shop_id, last_poll_at, last_poll_ok) VALUES ($1, $2, true)
ON CONFLICT (shop_id) DO UPDATE SET last_poll_at = EXCLUDED.last_poll_at, last_poll_ok = true, updated_at = now()`, shopID, at)
		return err
	}
	reason := truncateUTF8(pollErr.Error(), maxHealthReason)
	_, err := b.pool.Exec(ctx, `INSERT INTO shop_health (shop_id, last_poll_at, last_poll_ok, last_failure_at, last_failure_source, last_failure_reason)
VALUES ($1, $2, false, $2, $3, $4)
ON CONFLICT (shop_id) DO UPDATE SET last_poll_at = EXCLUDED.last_poll_at, last_poll_ok = false, last_failure_at = EXCLUDED.last_failure_at,
  last_failure_source = EXCLUDED.last_failure_source, last_failure_reason = EXCLUDED.last_failure_reason, updated_at = now()`,
		shopID, at, core.HealthSourcePoll, reason)
	return err
}

// refusalRecordInterval is how often a repeated refusal (same reason) is
// written again for a shop: refused deliveries are unauthenticated
// requests, so a burst of them costs one write, not one per request.
const refusalRecordInterval = time.Minute

// RecordRefusedWebhook records a webhook delivery the bridge refused for a
// shop as the shop's last failure (source "webhook", reason trimmed to 500
// bytes). The same reason is written again only after a minute; the poll
// fields are left alone.
func (b *Inbox) RecordRefusedWebhook(ctx context.Context, shopID int64, at time.Time, reason string) error {
	reason = truncateUTF8(reason, maxHealthReason)
	_, err := b.pool.Exec(ctx, `INSERT INTO shop_health (shop_id, last_failure_at, last_failure_source, last_failure_reason) VALUES ($1, $2, $3, $4)
ON CONFLICT (shop_id) DO UPDATE SET last_failure_at = EXCLUDED.last_failure_at, last_failure_source = EXCLUDED.last_failure_source,
  last_failure_reason = EXCLUDED.last_failure_reason, updated_at = now()
WHERE shop_health.last_failure_at IS NULL OR shop_health.last_failure_source IS DISTINCT FROM EXCLUDED.last_failure_source
  OR shop_health.last_failure_reason IS DISTINCT FROM EXCLUDED.last_failure_reason OR shop_health.last_failure_at <= EXCLUDED.last_failure_at - $5::interval`,
		shopID, at, core.HealthSourceWebhook, reason, refusalRecordInterval)
	return err
}

// ShopHealth reads a shop's health: the stored poll state and failure, the
// newest webhook delivery (a topic other than pollTopic) and the newest dead
// letter, whichever failure is newer.
func (b *Inbox) ShopHealth(ctx context.Context, shopID int64, pollTopic string) (core.ShopHealth, error) {
	var h core.ShopHealth
	var pollAt, failAt *time.Time
	var source, reason *string
	err := b.pool.QueryRow(ctx, `SELECT last_poll_at, last_poll_ok, last_failure_at, last_failure_source, last_failure_reason FROM shop_health WHERE shop_id = $1`, shopID).
		Scan(&pollAt, &h.LastPollOK, &failAt, &source, &reason)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return h, err
	}
	if pollAt != nil {
		h.LastPollAt = *pollAt
	}
	if failAt != nil {
		h.LastFailure = &core.HealthFailure{At: *failAt, Source: deref(source), Reason: deref(reason)}
	}
	// Newest webhook: walk the shop's rows newest first (primary key),
	// skipping polled ones.
	var hook time.Time
	err = b.pool.QueryRow(ctx, `SELECT received_at FROM inbox WHERE shop_id = $1 AND topic <> $2 ORDER BY id DESC LIMIT 1`, shopID, pollTopic).Scan(&hook)
	switch {
	case err == nil:
		h.LastWebhookAt = hook
	case !errors.Is(err, pgx.ErrNoRows):
		return h, err
	}
	// Newest dead letter (inbox_dead index).
	var deadAt time.Time
	var deadTopic, deadErr string
	err = b.pool.QueryRow(ctx, `SELECT coalesce(processed_at, received_at), topic, coalesce(last_error, '') FROM inbox WHERE shop_id = $1 AND status = 'dead' ORDER BY id DESC LIMIT 1`, shopID).
		Scan(&deadAt, &deadTopic, &deadErr)
	switch {
	case err == nil:
		if h.LastFailure == nil || deadAt.After(h.LastFailure.At) {
			h.LastFailure = &core.HealthFailure{At: deadAt, Source: core.HealthSourceProcessing,
				Reason: truncateUTF8("an event ("+deadTopic+") became a dead letter: "+deadErr, maxHealthReason)}
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return h, err
	}
	return h, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}
