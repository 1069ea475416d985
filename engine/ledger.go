package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
)

// ledger writes attempt progress to PostgreSQL off the event path, so a database round trip
// never delays another call's events (an answer waiting for its bridge above all). The writes
// of one attempt go to one worker, in order; different attempts are written in parallel. Queuing
// never blocks: a stalled database must not stop the engine from bridging and abandoning (the
// writes wait in memory until it answers again).
type ledger struct {
	shards []*ledgerShard
	wg     sync.WaitGroup
	// ctx ends stopGrace after stop: writes still failing then are given up.
	ctx    context.Context
	cancel context.CancelFunc
}

type ledgerShard struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []func(context.Context)
	closed bool
}

// stopGrace bounds how long stop waits for a database that does not answer.
const stopGrace = 5 * time.Second

func newLedger(workers int) *ledger {
	l := &ledger{shards: make([]*ledgerShard, workers)}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	for i := range l.shards {
		s := &ledgerShard{}
		s.cond = sync.NewCond(&s.mu)
		l.shards[i] = s
	}
	return l
}

func (l *ledger) start() {
	for _, s := range l.shards {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				s.mu.Lock()
				for len(s.queue) == 0 && !s.closed {
					s.cond.Wait()
				}
				if len(s.queue) == 0 {
					s.mu.Unlock()
					return
				}
				fn := s.queue[0]
				s.queue[0] = nil
				s.queue = s.queue[1:]
				s.mu.Unlock()
				fn(l.ctx)
			}
		}()
	}
}

// write queues fn behind the earlier writes of the attempt. After stop it writes at once.
func (l *ledger) write(attemptID int64, fn func(context.Context)) {
	s := l.shards[int(attemptID%int64(len(l.shards)))]
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		fn(ctx)
		return
	}
	s.queue = append(s.queue, fn)
	s.mu.Unlock()
	s.cond.Signal()
}

// stop writes everything queued, giving a database that does not answer stopGrace, and ends
// the workers.
func (l *ledger) stop() {
	for _, s := range l.shards {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cond.Broadcast()
	}
	t := time.AfterFunc(stopGrace, l.cancel)
	l.wg.Wait()
	t.Stop()
}

// retryWrite runs a database write until it succeeds, waiting 100 ms, then four times longer
// each time up to 5 s, for about 20 s in all: a failover or a dropped connection must not lose
// an attempt's outcome. It stops early when ctx ends.
func retryWrite(ctx context.Context, write func() error) error {
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := write()
		// A row that is not there will not appear by waiting.
		if err == nil || try == 8 || ctx.Err() != nil || errors.Is(err, store.ErrNotFound) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(4*wait, 5*time.Second)
	}
}
