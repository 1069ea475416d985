package httpapi

import (
	"context"
	"io"
	"sync"
	"time"
)

// byteRate is a token bucket shared by every upload of the instance: together they read at
// most rate bytes a second off the network (after a burst of one second's worth). Without it
// a few clients sending large lists as fast as the loopback or a LAN allows keep the CPUs busy
// copying into spool files, and the engine on the same machine connects its calls late. It
// keeps its own monotonic clock: the server's clock (Options.Now) is the business date, which
// tests fix.
type byteRate struct {
	rate float64 // bytes per second; 0: unlimited

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newByteRate(perSecond int64) *byteRate {
	return &byteRate{rate: float64(perSecond), tokens: float64(perSecond), last: time.Now()}
}

// take spends n bytes, waiting while the bucket is in debt; false when ctx ended first.
func (b *byteRate) take(ctx context.Context, n int) bool {
	if b == nil || b.rate <= 0 {
		return true
	}
	b.mu.Lock()
	now := time.Now()
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	debt := b.tokens
	b.mu.Unlock()
	if debt >= 0 {
		return true
	}
	t := time.NewTimer(time.Duration(-debt / b.rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// throttledReader reads through a byteRate.
type throttledReader struct {
	ctx  context.Context
	r    io.Reader
	rate *byteRate
}

func (t *throttledReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 && !t.rate.take(t.ctx, n) {
		return n, t.ctx.Err()
	}
	return n, err
}
