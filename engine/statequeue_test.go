package engine

import (
	"context"
	"sync"
	"testing"
)

// G-6 under a slow Redis: writing never blocks, a waiting state is replaced by the agent's
// newer one, and each agent's states land in order, one at a time.
func TestStateQueueKeepsTheLatestInOrder(t *testing.T) {
	q := newStateQueue(2)
	release, running := make(chan struct{}), make(chan struct{}, 2)
	var mu sync.Mutex
	written := map[int64][]int{}
	record := func(agent int64, v int, wait bool) func(context.Context) {
		return func(context.Context) {
			if wait {
				running <- struct{}{}
				<-release // Redis is slow
			}
			mu.Lock()
			written[agent] = append(written[agent], v)
			mu.Unlock()
		}
	}
	q.start()
	q.write(1, record(1, 1, true)) // taken by a worker, held
	q.write(2, record(2, 1, true)) // taken by the other worker, held
	<-running
	<-running
	for v := 2; v <= 1000; v++ { // would fill any bounded queue; never blocks
		q.write(1, record(1, v, false))
	}
	close(release)
	q.stop()
	if got := written[1]; len(got) < 2 || got[0] != 1 || got[len(got)-1] != 1000 {
		t.Fatalf("agent 1's states %v: want 1 first and 1000 last", got)
	}
	for i := 1; i < len(written[1]); i++ {
		if written[1][i] <= written[1][i-1] {
			t.Fatalf("agent 1's states out of order: %v", written[1])
		}
	}
	if len(written[2]) != 1 {
		t.Fatalf("agent 2's states %v", written[2])
	}
	q.write(3, record(3, 7, false)) // after stop: at once
	if written[3][0] != 7 {
		t.Fatal("a state written after stop was lost")
	}
}
