package batch

import (
	"errors"
	"sync"
)

// Combiner runs concurrent requests together, like a Batcher, but without
// goroutines of its own (so it needs no Stop): a caller that finds fewer
// than MaxRunning runs under way runs the requests waiting at that moment
// (its own among them, up to MaxBatch, oldest first) with one call of Run
// and hands each of their callers its result; requests that arrive
// meanwhile wait, and the next run takes them together. It suits reads,
// where one set-based statement for many callers replaces a round trip
// each.
type Combiner[Req, Res any] struct {
	// Run runs a batch and returns one result per request, in order, or
	// an error for all of them. It must not keep the slice.
	Run func(batch []Req) ([]Res, error)
	// MaxBatch bounds a batch (default 500).
	MaxBatch int
	// MaxRunning bounds the runs under way at once (default 1).
	MaxRunning int

	mu      sync.Mutex
	waiting []*combined[Req, Res]
	running int
}

type combined[Req, Res any] struct {
	req Req
	// done receives the result and, before it, at most one wake-up
	// (sent only while it is empty): room for both, so a send never
	// blocks.
	done chan combinedResult[Res]
}

type combinedResult[Res any] struct {
	res  Res
	err  error
	wake bool // no result: a run may be started
}

var errCombinerResults = errors.New("batch: Combiner.Run returned a result count other than the batch's")

// Do returns the result of r, run alone or together with other callers'
// requests.
func (c *Combiner[Req, Res]) Do(r Req) (Res, error) {
	p := &combined[Req, Res]{req: r, done: make(chan combinedResult[Res], 2)}
	c.mu.Lock()
	c.waiting = append(c.waiting, p)
	for {
		// Done (by this caller's run or another's)?
	drain:
		for {
			select {
			case res := <-p.done:
				if !res.wake {
					c.wakeLocked()
					c.mu.Unlock()
					return res.res, res.err
				}
			default:
				break drain
			}
		}
		if c.running < max(c.MaxRunning, 1) && len(c.waiting) > 0 {
			c.running++
			n := min(len(c.waiting), c.maxBatch())
			batch := make([]*combined[Req, Res], n)
			copy(batch, c.waiting)
			c.waiting = append(c.waiting[:0], c.waiting[n:]...)
			c.mu.Unlock()
			c.run(batch)
			c.mu.Lock()
			c.running--
			continue
		}
		c.mu.Unlock()
		res := <-p.done
		c.mu.Lock()
		if !res.wake {
			c.wakeLocked()
			c.mu.Unlock()
			return res.res, res.err
		}
	}
}

// wakeLocked wakes the oldest waiting caller when requests wait and a run
// may start, so they do not wait for a caller that is returning.
func (c *Combiner[Req, Res]) wakeLocked() {
	if len(c.waiting) == 0 || c.running >= max(c.MaxRunning, 1) {
		return
	}
	if w := c.waiting[0]; len(w.done) == 0 {
		w.done <- combinedResult[Res]{wake: true}
	}
}

func (c *Combiner[Req, Res]) maxBatch() int {
	if c.MaxBatch > 0 {
		return c.MaxBatch
	}
	return 500
}

func (c *Combiner[Req, Res]) run(batch []*combined[Req, Res]) {
	reqs := make([]Req, len(batch))
	for i, p := range batch {
		reqs[i] = p.req
	}
	res, err := c.Run(reqs)
	if err == nil && len(res) != len(batch) {
		err = errCombinerResults
	}
	for i, p := range batch {
		if err != nil {
			p.done <- combinedResult[Res]{err: err}
			continue
		}
		p.done <- combinedResult[Res]{res: res[i]}
	}
}

// Busy reports whether a run is under way (tests).
func (c *Combiner[Req, Res]) Busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running > 0
}

// Waiting is the number of requests no run has taken yet.
func (c *Combiner[Req, Res]) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting)
}
