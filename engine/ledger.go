package engine

import (
	"context"
	"sync"
	"time"
)

// ledger writes attempt progress to PostgreSQL off the event path, so a database round trip
// never delays another call's events (an answer waiting for its bridge above all). The writes
// of one attempt go to one worker, in order; different attempts are written in parallel.
type ledger struct {
	mu     sync.RWMutex
	closed bool
	queues []chan func(context.Context)
	wg     sync.WaitGroup
}

func newLedger(workers, depth int) *ledger {
	l := &ledger{queues: make([]chan func(context.Context), workers)}
	for i := range l.queues {
		l.queues[i] = make(chan func(context.Context), depth)
	}
	return l
}

func (l *ledger) start() {
	for _, q := range l.queues {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for fn := range q {
				fn(context.Background())
			}
		}()
	}
}

// write queues fn behind the earlier writes of the attempt; when the queue is full it waits, so
// a slow database slows the engine instead of growing memory. After stop it writes at once.
func (l *ledger) write(attemptID int64, fn func(context.Context)) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		fn(context.Background())
		return
	}
	l.queues[int(attemptID%int64(len(l.queues)))] <- fn
	l.mu.RUnlock()
}

// stop writes everything queued and ends the workers.
func (l *ledger) stop() {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		for _, q := range l.queues {
			close(q)
		}
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// retryWrite runs a database write up to four times, waiting 100 ms, 400 ms and 1.6 s between
// tries: a failover or a dropped connection must not lose an attempt's outcome. It stops early
// when ctx ends.
func retryWrite(ctx context.Context, write func() error) error {
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := write()
		if err == nil || try == 4 {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 4
	}
}
