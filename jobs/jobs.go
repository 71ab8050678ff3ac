// Package jobs holds creditbridge's asynq task types, their thin handlers,
// the asynq-backed core.Enqueuer, and the periodic sweeps (inbox sweeper,
// hold expiry, WooCommerce poller).
//
// Redis only carries the queue: every task names a row in PostgreSQL, so a
// lost task is found again by the sweeper.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// TypeProcessEvent processes one stored webhook event.
const TypeProcessEvent = "event:process"

// EventPayload names an inbox row.
type EventPayload struct {
	ShopID  int64 `json:"shop_id"`
	EventID int64 `json:"event_id"`
}

// Enqueuer enqueues inbox events on asynq (core.Enqueuer).
type Enqueuer struct {
	Client *asynq.Client
	Queue  string
	// Inspector tells a task id taken by a live task (pending, active,
	// scheduled, retrying: nothing to do) from one kept by an archived or
	// completed task, which is deleted so the event is enqueued again.
	// Without it an archived task would block its event for good.
	Inspector *asynq.Inspector
	// MaxRetry is asynq's retry limit of event tasks: at least the
	// dispatcher's retry budget (EVENT_MAX_ATTEMPTS), so asynq never gives
	// up first (0: core.MaxEventAttempts).
	MaxRetry int
}

func (e *Enqueuer) maxRetry() int {
	if e.MaxRetry > 0 {
		return e.MaxRetry
	}
	return taskMaxRetry
}

// Retries have one owner: the inbox's attempt counter. core.Dispatcher
// dead-letters an event on its MaxAttempts-th failed attempt (the retry
// budget, EVENT_MAX_ATTEMPTS, default core.MaxEventAttempts); asynq
// only times the retries (RetryDelay) and may try once more than that, so
// it never archives an event the dispatcher still counts on. With
// RetryDelay's schedule (1 s doubling to 10 min, each attempt at most
// taskTimeout) an accepted event ends processed, skipped or dead-lettered
// within MaxEventDuration (for the default budget); after a Redis loss the
// sweeper adds at most INBOX_SWEEP_AFTER.
const (
	taskMaxRetry = core.MaxEventAttempts
	taskTimeout  = 2 * time.Minute
	// MaxEventDuration bounds the time from acceptance to a final state:
	// the sum of the longest retry delays plus every attempt's timeout.
	MaxEventDuration = 4 * time.Hour
)

var _ core.Enqueuer = (*Enqueuer)(nil)

// TaskID is the asynq task id of an event: a re-enqueue while the task is
// pending is a no-op.
func TaskID(shopID, eventID int64) string {
	return "ev:" + strconv.FormatInt(shopID, 10) + ":" + strconv.FormatInt(eventID, 10)
}

// Enqueue enqueues an event.
func (e *Enqueuer) Enqueue(ctx context.Context, shopID, eventID int64) error {
	b, _ := json.Marshal(EventPayload{ShopID: shopID, EventID: eventID})
	id := TaskID(shopID, eventID)
	task := asynq.NewTask(TypeProcessEvent, b)
	opts := []asynq.Option{asynq.Queue(e.Queue), asynq.TaskID(id), asynq.MaxRetry(e.maxRetry()), asynq.Timeout(taskTimeout)}
	_, err := e.Client.EnqueueContext(ctx, task, opts...)
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	if e.Inspector == nil {
		return nil
	}
	info, ierr := e.Inspector.GetTaskInfo(e.Queue, id)
	switch {
	case errors.Is(ierr, asynq.ErrTaskNotFound):
		// Finished in between: enqueue once more (processing is idempotent).
	case ierr != nil:
		return fmt.Errorf("jobs: inspect task %s: %w", id, ierr)
	case info.State == asynq.TaskStateArchived || info.State == asynq.TaskStateCompleted:
		// The event is still waiting (the caller saw it 'received') but its
		// task gave up or finished: it would block the id for good.
		if derr := e.Inspector.DeleteTask(e.Queue, id); derr != nil && !errors.Is(derr, asynq.ErrTaskNotFound) {
			return fmt.Errorf("jobs: delete stale task %s: %w", id, derr)
		}
	default:
		return nil // a live task will run it
	}
	_, err = e.Client.EnqueueContext(ctx, task, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // someone else re-enqueued it meanwhile
	}
	return err
}

// TypeProcessEvents processes several stored webhook events (those one
// inbox group commit stored) in one task.
const TypeProcessEvents = "event:process-batch"

// EventsPayload names several inbox rows.
type EventsPayload struct {
	Events []EventPayload `json:"events"`
}

var _ core.BatchEnqueuer = (*Enqueuer)(nil)

// EnqueueMany enqueues several events as one task (one task for one
// event). An event's own task may exist too (the sweeper's): processing
// is idempotent, the second run finds the event done.
func (e *Enqueuer) EnqueueMany(ctx context.Context, evs []core.EventRef) error {
	switch len(evs) {
	case 0:
		return nil
	case 1:
		return e.Enqueue(ctx, evs[0].ShopID, evs[0].ID)
	}
	p := EventsPayload{Events: make([]EventPayload, len(evs))}
	for i, ev := range evs {
		p.Events[i] = EventPayload{ShopID: ev.ShopID, EventID: ev.ID}
	}
	b, _ := json.Marshal(p)
	_, err := e.Client.EnqueueContext(ctx, asynq.NewTask(TypeProcessEvents, b),
		asynq.Queue(e.Queue), asynq.MaxRetry(e.maxRetry()), asynq.Timeout(taskTimeout))
	return err
}

// EventsHandler is the asynq handler of TypeProcessEvents: it processes
// the events at once (so the order store can batch their orders) and
// fails the task if any of them needs a retry; on the retry, the events
// already done are skipped.
type EventsHandler struct {
	Dispatcher *core.Dispatcher
}

// ProcessTask processes every event of the task.
func (h *EventsHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p EventsPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || len(p.Events) == 0 {
		return fmt.Errorf("jobs: bad payload: %w", asynq.SkipRetry)
	}
	refs := make([]core.EventRef, 0, len(p.Events))
	for _, ev := range p.Events {
		if ev.EventID != 0 {
			refs = append(refs, core.EventRef{ShopID: ev.ShopID, ID: ev.EventID})
		}
	}
	return h.Dispatcher.ProcessMany(ctx, refs)
}

// EventHandler is the asynq handler of TypeProcessEvent.
type EventHandler struct {
	Dispatcher *core.Dispatcher
}

// ProcessTask decodes the payload and lets the dispatcher process it.
func (h *EventHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p EventPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.EventID == 0 {
		return fmt.Errorf("jobs: bad payload: %w", asynq.SkipRetry)
	}
	return h.Dispatcher.Process(ctx, p.ShopID, p.EventID)
}

// RetryDelay backs off 1s, 2s, 4s ... capped at 10 minutes, with jitter.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Second << min(n, 10)
	if d > 10*time.Minute {
		d = 10 * time.Minute
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// NewServer builds the asynq server for the worker role on a shared Redis
// client (asynq does not close it).
func NewServer(r redis.UniversalClient, queue string, concurrency int, shutdown time.Duration, log *slog.Logger) *asynq.Server {
	return asynq.NewServerFromRedisClient(r, asynq.Config{
		Concurrency:     concurrency,
		Queues:          map[string]int{queue: 1},
		RetryDelayFunc:  RetryDelay,
		ShutdownTimeout: shutdown,
		Logger:          asynqLogger{log.With(slog.String("component", "asynq"))},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			if retried >= maxRetry {
				log.Error("task exhausted its retries; the inbox sweeper will enqueue its waiting events again", slog.String("type", t.Type()), slog.Any("error", err))
			}
		}),
	})
}

// NewMux routes task types to handlers.
func NewMux(h *EventHandler) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Handle(TypeProcessEvent, h)
	mux.Handle(TypeProcessEvents, &EventsHandler{Dispatcher: h.Dispatcher})
	return mux
}

type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// Every runs fn every interval until ctx ends, logging failures.
func Every(ctx context.Context, interval time.Duration, name string, log *slog.Logger, fn func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Error("periodic job failed", slog.String("job", name), slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
