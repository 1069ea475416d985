package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// The ledger never blocks the caller while the database stalls, keeps each attempt's writes in
// order, writes everything queued before stop returns, and retries a failing write.
func TestLedgerOrderedAndNonBlocking(t *testing.T) {
	l := newLedger(2)
	l.start()
	stall := make(chan struct{})
	var mu sync.Mutex
	got := map[int64][]int{}
	l.write(0, func(context.Context) { <-stall }) // shard 0 stalls
	for i := range 5000 {                         // far beyond any fixed queue: never blocks
		id := int64(i % 4)
		l.write(id, func(context.Context) {
			mu.Lock()
			got[id] = append(got[id], i)
			mu.Unlock()
		})
	}
	close(stall)
	l.stop()
	for id, seq := range got {
		if len(seq) != 1250 {
			t.Fatalf("attempt %d: %d writes", id, len(seq))
		}
		for k := 1; k < len(seq); k++ {
			if seq[k] < seq[k-1] {
				t.Fatalf("attempt %d's writes out of order at %d", id, k)
			}
		}
	}
	tries := 0
	err := retryWrite(context.Background(), func() error {
		if tries++; tries < 3 {
			return errors.New("connection reset")
		}
		return nil
	})
	if err != nil || tries != 3 {
		t.Fatalf("retry: %v after %d tries", err, tries)
	}
}
