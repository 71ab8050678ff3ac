package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// InboxStatus is the processing state of a webhook delivery.
type InboxStatus string

// Inbox states.
const (
	InboxReceived  InboxStatus = "received"
	InboxProcessed InboxStatus = "processed"
	InboxSkipped   InboxStatus = "skipped" // understood, nothing to do (stale, ignored status, ping)
	InboxDead      InboxStatus = "dead"    // could not be understood; kept with its reason, retryable
)

// InboxEvent is one verified webhook delivery, stored before it is
// acknowledged. ShopID 0 is a signed event of a shop not (yet) known.
type InboxEvent struct {
	ShopID     int64       `json:"shop_id"`
	ID         int64       `json:"id"`
	Platform   Platform    `json:"platform"`
	EventKey   string      `json:"event_key"`
	Topic      string      `json:"topic"`
	ShopDomain string      `json:"shop_domain"`
	Payload    []byte      `json:"-"`
	ReceivedAt time.Time   `json:"received_at"`
	Status     InboxStatus `json:"status"`
	Attempts   int         `json:"attempts"`
	LastError  string      `json:"last_error,omitempty"`
	// Enqueued: the inbox already enqueued the stored event, together
	// with the others stored in the same batch (see BatchEnqueuer).
	Enqueued bool `json:"-"`
}

// InboxCursor is a position in the inbox by arrival (keyset paging);
// the zero value is the start.
type InboxCursor struct {
	ReceivedAt time.Time
	ShopID, ID int64
}

// EventRef names a stored inbox event.
type EventRef struct{ ShopID, ID int64 }

// BatchEnqueuer enqueues several stored events as one task: the inbox
// uses it for the events one group commit stored, so the queue's cost is
// paid once per batch instead of once per webhook.
type BatchEnqueuer interface {
	EnqueueMany(ctx context.Context, events []EventRef) error
}

// InboxStore is the durable inbox.
type InboxStore interface {
	Insert(ctx context.Context, e InboxEvent) (stored InboxEvent, duplicate bool, err error)
	Get(ctx context.Context, shopID, id int64) (InboxEvent, error)
	Finish(ctx context.Context, shopID, id int64, st InboxStatus, reason string) error
	Failed(ctx context.Context, shopID, id int64, reason string) error
}

// Enqueuer hands a stored event to the workers. Enqueueing the same event
// twice is harmless (processing is idempotent).
type Enqueuer interface {
	Enqueue(ctx context.Context, shopID, eventID int64) error
}

// Outcome is what handling an event did.
type Outcome struct {
	Status InboxStatus // InboxProcessed or InboxSkipped
	Note   string
	// Marked: the handler's order transaction already marked the event
	// processed (see OrderWork.Done), so the dispatcher records only an
	// outcome other than InboxProcessed.
	Marked bool
}

// EventHandler handles one platform's events (implemented by the platform
// adapters). A *Error with code EINVALID or ENOTFOUND means the event cannot
// be understood and becomes a dead letter; other errors are retried.
type EventHandler interface {
	Handle(ctx context.Context, shop Shop, e InboxEvent) (Outcome, error)
}

// Dispatcher processes stored events exactly once in effect: it loads the
// event, resolves its shop, lets the platform handler apply it and records
// the outcome. Replays of a processed event do nothing.
type Dispatcher struct {
	Inbox    EventInbox
	Shops    ShopStore
	Handlers map[Platform]EventHandler
	Log      *slog.Logger
	// Observe, when set, is told each outcome (for metrics).
	Observe func(platform Platform, topic string, status InboxStatus, d time.Duration)
	// MaxAttempts is the retry budget: the failed attempt that reaches it
	// dead-letters the event (0: MaxEventAttempts).
	MaxAttempts int
}

// MaxEventAttempts bounds how often an event that keeps failing with a
// transient error is tried before it becomes a dead letter, unless the
// Dispatcher's MaxAttempts says otherwise.
const MaxEventAttempts = 25

func (d *Dispatcher) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return MaxEventAttempts
}

// ErrRetry wraps errors that should be retried later.
var ErrRetry = errors.New("retry later")

// InboxBatchReader is an InboxStore that loads several events at once.
type InboxBatchReader interface {
	// GetMany returns the events that exist, in any order.
	GetMany(ctx context.Context, refs []EventRef) ([]InboxEvent, error)
}

// EventInbox is the inbox the Dispatcher loads events from (one by one,
// or a task's events in one read) and records their outcome in.
type EventInbox interface {
	InboxStore
	InboxBatchReader
}

// ProcessMany handles several events at once (concurrently, so their
// orders can share database transactions), loading them in one read. The
// result joins the errors of the events that need a retry.
func (d *Dispatcher) ProcessMany(ctx context.Context, refs []EventRef) error {
	loaded := map[EventRef]InboxEvent{}
	evs, err := d.Inbox.GetMany(ctx, refs)
	if err != nil {
		return fmt.Errorf("%w: load events: %w", ErrRetry, err)
	}
	for _, ev := range evs {
		loaded[EventRef{ev.ShopID, ev.ID}] = ev
	}
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, r := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ev, ok := loaded[r]; ok {
				errs[i] = d.process(ctx, ev, time.Now())
				return
			}
			errs[i] = d.Process(ctx, r.ShopID, r.ID) // loads it (or reports it vanished)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Process handles the event; a nil error means it needs no retry (it was
// processed, skipped or dead-lettered).
func (d *Dispatcher) Process(ctx context.Context, shopID, eventID int64) error {
	start := time.Now()
	ev, err := d.Inbox.Get(ctx, shopID, eventID)
	if ErrorCode(err) == ENOTFOUND {
		d.Log.Warn("inbox event vanished", slog.Int64("shop", shopID), slog.Int64("event", eventID))
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: load event: %w", ErrRetry, err)
	}
	return d.process(ctx, ev, start)
}

func (d *Dispatcher) process(ctx context.Context, ev InboxEvent, start time.Time) error {
	if ev.Status != InboxReceived {
		return nil // already done (replayed task)
	}
	log := d.Log.With(slog.Int64("shop", ev.ShopID), slog.Int64("event", ev.ID), slog.String("platform", string(ev.Platform)), slog.String("topic", ev.Topic))
	shop, err := d.resolveShop(ctx, ev)
	var out Outcome
	marked := false
	if err == nil {
		h, ok := d.Handlers[ev.Platform]
		if !ok {
			err = Errorf(EINVALID, "no handler for platform %q", ev.Platform)
		} else {
			out, err = safeHandle(ctx, h, shop, ev)
			marked = out.Marked
		}
	}
	status := out.Status
	// The outcome is recorded even when the task's context ran out (a
	// timeout): a failed attempt must count, or an event that always
	// times out would be retried for ever instead of dead-lettered.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch code := ErrorCode(err); {
	case err == nil:
		if status == "" {
			status = InboxProcessed
		}
		// Already marked processed together with the postings, unless the
		// outcome is another status (stale snapshot: skipped).
		if !marked || status != InboxProcessed {
			if ferr := d.Inbox.Finish(ctx, ev.ShopID, ev.ID, status, out.Note); ferr != nil {
				return fmt.Errorf("%w: finish: %w", ErrRetry, ferr)
			}
		}
		log.Debug("event processed", slog.String("status", string(status)), slog.String("note", out.Note))
	case code == EINVALID || code == ENOTFOUND || code == EUNAUTHORIZED:
		status = InboxDead
		if ferr := d.Inbox.Finish(ctx, ev.ShopID, ev.ID, InboxDead, ErrorMessage(err)); ferr != nil {
			return fmt.Errorf("%w: dead-letter: %w", ErrRetry, ferr)
		}
		log.Warn("event dead-lettered", slog.String("reason", ErrorMessage(err)))
	case ev.Attempts+1 >= d.maxAttempts():
		// A persistent failure (revoked credentials, a platform down for
		// days): park it as a dead letter the merchant can retry.
		status = InboxDead
		// The last failure itself, not ErrorMessage's "Internal error.":
		// the merchant reading the dead letter needs to see what kept
		// failing (a platform answering 503, revoked credentials).
		reason := fmt.Sprintf("gave up after %d attempts: %s", ev.Attempts+1, err.Error())
		if ferr := d.Inbox.Finish(ctx, ev.ShopID, ev.ID, InboxDead, reason); ferr != nil {
			return fmt.Errorf("%w: dead-letter: %w", ErrRetry, ferr)
		}
		log.Error("event dead-lettered after repeated failures", slog.Any("error", err))
	default:
		_ = d.Inbox.Failed(ctx, ev.ShopID, ev.ID, err.Error())
		log.Error("event failed, will retry", slog.Any("error", err))
		if d.Observe != nil {
			d.Observe(ev.Platform, ev.Topic, "failed", time.Since(start))
		}
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	if d.Observe != nil {
		d.Observe(ev.Platform, ev.Topic, status, time.Since(start))
	}
	return nil
}

func (d *Dispatcher) resolveShop(ctx context.Context, ev InboxEvent) (Shop, error) {
	if ev.ShopID != 0 {
		return d.Shops.ShopByID(ctx, ev.ShopID)
	}
	sh, err := d.Shops.ShopByDomain(ctx, ev.Platform, ev.ShopDomain)
	if ErrorCode(err) == ENOTFOUND {
		return sh, Errorf(ENOTFOUND, "unknown shop %q: install the app or register the shop, then retry this dead letter", ev.ShopDomain)
	}
	return sh, err
}

// safeHandle turns a handler panic into an internal error so a malformed
// event can never crash a worker.
func safeHandle(ctx context.Context, h EventHandler, shop Shop, ev InboxEvent) (out Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Errorf(EINVALID, "handler panicked on this event: %v", r)
		}
	}()
	return h.Handle(ctx, shop, ev)
}
