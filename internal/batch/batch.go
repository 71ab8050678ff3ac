// Package batch is the one group-commit loop of creditbridge: callers hand
// over requests, a few committer goroutines take whatever is waiting at
// that moment (up to a maximum) and commit it together with one function
// call, typically one database transaction and one WAL flush. The ledger,
// the inbox and the order store all group-commit through it.
//
// Lifecycle: the committers start with the first request (a batcher that
// is never used starts nothing). Stop refuses new hand-overs, lets the
// committers commit everything already handed over and waits for them to
// return; a request handed over after Stop is committed on its own in the
// caller's goroutine, so no request is ever left unserved.
package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Config describes a batcher. Commit is required.
type Config[Req, Res any] struct {
	// Commit commits a batch of one or more requests and returns one
	// result per request, in order. It runs in a committer goroutine
	// (or, after Stop, in the caller's) and must not keep the slice.
	Commit func(batch []Req) []Res
	// Committers is the number of concurrent commits (default 1).
	Committers int
	// MaxBatch bounds a batch (default 500).
	MaxBatch int
	// Queue is how many requests may wait for a committer (default 4096).
	Queue int
	// Distinct, when set, keeps requests with equal keys out of one
	// batch: the later one waits for the committer's next batch, so it
	// sees the earlier one's writes. Keys must be comparable.
	Distinct func(Req) any
}

// Batcher group-commits requests of type Req with results of type Res.
type Batcher[Req, Res any] struct {
	cfg   Config[Req, Res]
	reqs  chan *pending[Req, Res]
	start sync.Once
	wg    sync.WaitGroup
	// mu makes a hand-over and Stop exclusive, so nothing is sent on a
	// closed channel and nothing handed over is left behind.
	mu      sync.RWMutex
	stopped bool
	started atomic.Bool
}

type pending[Req, Res any] struct {
	req  Req
	done chan Res
}

// ErrNoCommit is the panic value when a Config has no Commit function.
var ErrNoCommit = errors.New("batch: Config.Commit is required")

// New returns a batcher; its committers start with the first request.
func New[Req, Res any](cfg Config[Req, Res]) *Batcher[Req, Res] {
	if cfg.Commit == nil {
		panic(ErrNoCommit)
	}
	if cfg.Committers <= 0 {
		cfg.Committers = 1
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 500
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	return &Batcher[Req, Res]{cfg: cfg, reqs: make(chan *pending[Req, Res], cfg.Queue)}
}

// Do hands r to a committer and returns its result once the batch that
// carried it committed (or failed). If ctx ends while the queue is full,
// r is not handed over and Do returns ctx's error. Once handed over, Do
// waits for the outcome whatever ctx does: the Commit function bounds its
// own work, and the caller must not guess whether r was written. After
// Stop, r is committed alone in the calling goroutine.
func (b *Batcher[Req, Res]) Do(ctx context.Context, r Req) (Res, error) {
	b.start.Do(b.startCommitters)
	p := &pending[Req, Res]{req: r, done: make(chan Res, 1)}
	b.mu.RLock()
	if b.stopped {
		b.mu.RUnlock()
		return b.cfg.Commit([]Req{r})[0], nil
	}
	// Stop waits for the read lock, so the queue is open while a
	// committer drains it.
	select {
	case b.reqs <- p:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		var zero Res
		return zero, ctx.Err()
	}
	return <-p.done, nil
}

// Stop refuses new hand-overs, waits until everything handed over is
// committed and the committers have returned. It is safe to call more
// than once and concurrently with Do.
func (b *Batcher[Req, Res]) Stop() {
	b.start.Do(func() {}) // a never-used batcher starts nothing
	b.mu.Lock()
	if !b.stopped {
		b.stopped = true
		close(b.reqs)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// Started reports whether the committers were started.
func (b *Batcher[Req, Res]) Started() bool { return b.started.Load() }

// Waiting is the number of requests handed over that no committer has
// taken yet.
func (b *Batcher[Req, Res]) Waiting() int { return len(b.reqs) }

func (b *Batcher[Req, Res]) startCommitters() {
	b.started.Store(true)
	b.wg.Add(b.cfg.Committers)
	for range b.cfg.Committers {
		go b.committer()
	}
}

// committer takes the first waiting request, adds whatever else waits
// (up to MaxBatch) and commits them together, until Stop closed the
// queue and it is empty.
func (b *Batcher[Req, Res]) committer() {
	defer b.wg.Done()
	var carry *pending[Req, Res] // a request whose key was already in the last batch
	batch := make([]*pending[Req, Res], 0, b.cfg.MaxBatch)
	reqs := make([]Req, 0, b.cfg.MaxBatch)
	var seen map[any]bool
	if b.cfg.Distinct != nil {
		seen = map[any]bool{}
	}
	for {
		first := carry
		carry = nil
		if first == nil {
			var ok bool
			if first, ok = <-b.reqs; !ok {
				return
			}
		}
		batch = append(batch[:0], first)
		if seen != nil {
			clear(seen)
			seen[b.cfg.Distinct(first.req)] = true
		}
	fill:
		for len(batch) < b.cfg.MaxBatch {
			select {
			case p, ok := <-b.reqs:
				if !ok {
					break fill
				}
				if seen != nil {
					k := b.cfg.Distinct(p.req)
					if seen[k] {
						carry = p
						break fill
					}
					seen[k] = true
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		reqs = reqs[:0]
		for _, p := range batch {
			reqs = append(reqs, p.req)
		}
		res := b.cfg.Commit(reqs)
		for i, p := range batch {
			p.done <- res[i]
			batch[i] = nil
		}
		clear(reqs) // drop references to the requests until the next batch
	}
}
