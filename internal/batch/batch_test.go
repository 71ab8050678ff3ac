package batch_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/creditbridge/creditbridge/internal/batch"
)

// recorder is a Commit function that records every batch it saw.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	// gate, when set, holds every commit until it is closed; entered
	// then receives each batch's size as its commit starts.
	gate    chan struct{}
	entered chan int
}

func gated() *recorder { return &recorder{gate: make(chan struct{}), entered: make(chan int, 100)} }

func (r *recorder) commit(b []int) []int {
	if r.gate != nil {
		r.entered <- len(b)
		<-r.gate
	}
	r.mu.Lock()
	r.batches = append(r.batches, append([]int(nil), b...))
	r.mu.Unlock()
	out := make([]int, len(b))
	for i, v := range b {
		out[i] = v * 10
	}
	return out
}

func (r *recorder) count() (batches, reqs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.batches {
		reqs += len(b)
	}
	return len(r.batches), reqs
}

func TestEveryRequestGetsItsOwnResult(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	b := batch.New(batch.Config[int, int]{Commit: rec.commit, Committers: 3, MaxBatch: 7})
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := b.Do(context.Background(), i)
			if err != nil || got != i*10 {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	b.Stop()
	if n := wrong.Load(); n != 0 {
		t.Fatalf("%d requests got another request's result or an error", n)
	}
	batches, reqs := rec.count()
	if reqs != 500 {
		t.Fatalf("%d requests committed, want 500", reqs)
	}
	for _, bt := range rec.batches {
		if len(bt) > 7 {
			t.Fatalf("a batch of %d requests, MaxBatch is 7", len(bt))
		}
	}
	t.Logf("500 requests in %d batches", batches)
}

// Requests that wait while a commit is under way go together into the
// next batch: that is the point of group commit.
func TestWaitingRequestsShareABatch(t *testing.T) {
	t.Parallel()
	rec := gated()
	b := batch.New(batch.Config[int, int]{Commit: rec.commit, Committers: 1, MaxBatch: 100})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = b.Do(context.Background(), 0) }()
	// Wait until the committer holds request 0 (it is blocked on the
	// gate), then queue 20 more behind it.
	<-rec.entered
	for i := 1; i <= 20; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = b.Do(context.Background(), i) }()
	}
	waitFor(func() bool { return b.Waiting() == 20 })
	close(rec.gate)
	wg.Wait()
	b.Stop()
	if len(rec.batches) != 2 || len(rec.batches[0]) != 1 || len(rec.batches[1]) != 20 {
		t.Fatalf("batches %v, want [0] then the 20 that waited", rec.batches)
	}
}

// waitFor spins (yielding) until cond holds.
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

func TestDistinctKeysNeverShareABatch(t *testing.T) {
	t.Parallel()
	rec := gated()
	b := batch.New(batch.Config[int, int]{Commit: rec.commit, Committers: 1, MaxBatch: 100,
		Distinct: func(v int) any { return v % 3 }})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = b.Do(context.Background(), 100) }()
	<-rec.entered
	for i := 1; i <= 6; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = b.Do(context.Background(), i) }()
	}
	waitFor(func() bool { return b.Waiting() == 6 })
	close(rec.gate)
	wg.Wait()
	b.Stop()
	_, reqs := rec.count()
	if reqs != 7 {
		t.Fatalf("%d requests committed, want 7", reqs)
	}
	for _, bt := range rec.batches {
		keys := map[int]bool{}
		for _, v := range bt {
			if keys[v%3] {
				t.Fatalf("batch %v has two requests with key %d", bt, v%3)
			}
			keys[v%3] = true
		}
	}
}

// Stop returns only after everything handed over is committed; later
// requests are committed alone in the caller's goroutine.
func TestStopWaitsAndLaterRequestsCommitAlone(t *testing.T) {
	t.Parallel()
	rec := gated()
	b := batch.New(batch.Config[int, int]{Commit: rec.commit, Committers: 2, MaxBatch: 4})
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = b.Do(context.Background(), i) }()
	}
	held := <-rec.entered + <-rec.entered // each committer holds a batch
	waitFor(func() bool { return b.Waiting() == 30-held })
	stopped := make(chan struct{})
	go func() { b.Stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Stop returned while commits were held")
	default:
	}
	close(rec.gate)
	<-stopped
	if _, reqs := rec.count(); reqs != 30 {
		t.Fatalf("Stop returned after %d of 30 requests were committed", reqs)
	}
	wg.Wait()
	got, err := b.Do(context.Background(), 7)
	if err != nil || got != 70 {
		t.Fatalf("after Stop: %d, %v", got, err)
	}
	if last := rec.batches[len(rec.batches)-1]; len(last) != 1 || last[0] != 7 {
		t.Fatalf("last batch %v, want [7] alone", last)
	}
	b.Stop() // twice is fine
}

func TestDoGivesUpOnAFullQueueWhenCtxEnds(t *testing.T) {
	t.Parallel()
	rec := gated()
	b := batch.New(batch.Config[int, int]{Commit: rec.commit, Committers: 1, MaxBatch: 1, Queue: 1})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = b.Do(context.Background(), 1) }() // held by the committer
	<-rec.entered
	go func() { defer wg.Done(); _, _ = b.Do(context.Background(), 2) }() // fills the queue
	waitFor(func() bool { return b.Waiting() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Do(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do on a full queue with a cancelled context: %v", err)
	}
	close(rec.gate)
	wg.Wait()
	b.Stop()
	if _, reqs := rec.count(); reqs != 2 {
		t.Fatalf("%d requests committed, want 2 (the third was never handed over)", reqs)
	}
}

func TestUnusedBatcherStartsNothing(t *testing.T) {
	t.Parallel()
	b := batch.New(batch.Config[int, int]{Commit: func(b []int) []int { return b }, Committers: 4})
	if b.Started() {
		t.Fatal("committers started before the first request")
	}
	b.Stop()
}

func TestCombinerEveryRequestGetsItsOwnResult(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var sizes []int
	var running, most atomic.Int64
	c := &batch.Combiner[int, int]{MaxBatch: 7, MaxRunning: 2, Run: func(b []int) ([]int, error) {
		if n := running.Add(1); n > most.Load() {
			most.Store(n)
		}
		defer running.Add(-1)
		runtime.Gosched()
		mu.Lock()
		sizes = append(sizes, len(b))
		mu.Unlock()
		out := make([]int, len(b))
		for i, v := range b {
			out[i] = v * 10
		}
		return out, nil
	}}
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for i := range 2000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := c.Do(i); err != nil || got != i*10 {
				wrong.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := wrong.Load(); n != 0 {
		t.Fatalf("%d requests got another request's result or an error", n)
	}
	total := 0
	for _, s := range sizes {
		if s > 7 || s == 0 {
			t.Fatalf("a batch of %d requests, MaxBatch is 7", s)
		}
		total += s
	}
	if total != 2000 {
		t.Fatalf("%d requests run, want 2000", total)
	}
	if most.Load() > 2 {
		t.Fatalf("%d runs at once, MaxRunning is 2", most.Load())
	}
	t.Logf("2000 requests in %d runs", len(sizes))
}

func TestCombinerErrorReachesEveryCallerOfTheBatch(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	gate := make(chan struct{})
	first := true
	c := &batch.Combiner[int, int]{Run: func(b []int) ([]int, error) {
		if first {
			first = false
			<-gate // the others queue up behind this run
			return []int{1}, nil
		}
		return nil, boom
	}}
	done := make(chan error, 10)
	go func() { _, err := c.Do(0); done <- err }()
	for !c.Busy() {
		runtime.Gosched()
	}
	for i := 1; i <= 5; i++ {
		go func() { _, err := c.Do(i); done <- err }()
	}
	for c.Waiting() < 5 {
		runtime.Gosched()
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatalf("first request: %v", err)
	}
	for range 5 {
		if err := <-done; !errors.Is(err, boom) {
			t.Fatalf("got %v, want the batch's error", err)
		}
	}
}
