package engine

import (
	"context"
	"sync"
)

// stateQueue writes agents' live states to Redis off the event path (G-6) and never blocks the
// caller, who holds the engine's lock: only an agent's latest state matters, so a state queued
// while an older one of the same agent still waits replaces it. One write per agent runs at a
// time, so an agent's states reach Redis in order, and a logoff is never overtaken.
type stateQueue struct {
	workers int
	mu      sync.Mutex
	cond    *sync.Cond
	pending map[int64]func(context.Context) // agent → its latest state not yet written
	order   []int64                         // agents with a pending write, oldest first
	busy    map[int64]bool                  // agents whose write is running
	closed  bool
	wg      sync.WaitGroup
}

func newStateQueue(workers int) *stateQueue {
	q := &stateQueue{workers: workers, pending: map[int64]func(context.Context){}, busy: map[int64]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *stateQueue) start() {
	for range q.workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for {
				id, fn, ok := q.next()
				if !ok {
					return
				}
				fn(context.Background())
				q.mu.Lock()
				delete(q.busy, id)
				q.mu.Unlock()
				q.cond.Broadcast()
			}
		}()
	}
}

// next waits for a pending write of an agent whose previous write is done; false once stopped
// with nothing left.
func (q *stateQueue) next() (int64, func(context.Context), bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for i, id := range q.order {
			if !q.busy[id] {
				q.order = append(q.order[:i], q.order[i+1:]...)
				fn := q.pending[id]
				delete(q.pending, id)
				q.busy[id] = true
				return id, fn, true
			}
		}
		if q.closed && len(q.order) == 0 {
			return 0, nil, false
		}
		q.cond.Wait()
	}
}

// write queues fn as the agent's latest state. After stop it writes at once.
func (q *stateQueue) write(agentID int64, fn func(context.Context)) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		fn(context.Background())
		return
	}
	if _, ok := q.pending[agentID]; !ok {
		q.order = append(q.order, agentID)
	}
	q.pending[agentID] = fn
	q.mu.Unlock()
	q.cond.Signal()
}

// stop writes what is pending and ends the workers.
func (q *stateQueue) stop() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
	q.wg.Wait()
}
