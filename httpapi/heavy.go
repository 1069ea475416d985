package httpapi

import (
	"context"
	"net/http"
	"runtime"
	"time"

	"golang.org/x/sync/semaphore"
)

// heavyWait is how long a heavy request waits for its turn before it is answered 503 busy.
const heavyWait = 10 * time.Second

// heavyLimiter lets few heavy requests (list uploads, report exports, searches) run at once:
// each can keep a CPU busy, and the engine placing and connecting calls on the same machine,
// and the health checks, must keep theirs. An upload takes the whole allowance: it parses and
// spools tens of megabytes.
type heavyLimiter struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration // heavyWait; shorter in tests
	// spooling bounds the uploads coming in at once (twice size): each can read tens of
	// megabytes a second off the network. Apart from sem, so a slow upload never holds a turn
	// an import or a report needs.
	spooling *semaphore.Weighted
}

// newHeavyLimiter allows n units at once; n < 1 means half the CPUs the process may use, at
// least one.
func newHeavyLimiter(n int) *heavyLimiter {
	if n < 1 {
		n = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &heavyLimiter{sem: semaphore.NewWeighted(int64(n)), size: int64(n), wait: heavyWait,
		spooling: semaphore.NewWeighted(2 * int64(n))}
}

// heavy wraps a handler that takes weight units (the whole allowance when larger).
func (s *Server) heavy(weight int64, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		release, err := s.acquireHeavy(w, r, weight)
		if err != nil {
			return err
		}
		defer release()
		return h(w, r)
	}
}

// acquireSpool waits for an upload's turn to come in, as acquireHeavy does.
func (s *Server) acquireSpool(w http.ResponseWriter, r *http.Request) (release func(), err error) {
	return acquire(w, r, s.limiter.spooling, 1, s.limiter.wait)
}

// spoolUpload takes an upload in its turn (acquireSpool) and spools it (readListUpload).
func (s *Server) spoolUpload(w http.ResponseWriter, r *http.Request, maxBytes int64) (*listUpload, error) {
	spooled, err := s.acquireSpool(w, r)
	if err != nil {
		return nil, err
	}
	defer spooled()
	return s.readListUpload(w, r, maxBytes)
}

// acquireHeavy waits for weight units (the whole allowance when larger) up to heavyWait; past
// it the request is answered 503 busy with a Retry-After.
func (s *Server) acquireHeavy(w http.ResponseWriter, r *http.Request, weight int64) (release func(), err error) {
	return acquire(w, r, s.limiter.sem, min(weight, s.limiter.size), s.limiter.wait)
}

func acquire(w http.ResponseWriter, r *http.Request, sem *semaphore.Weighted, weight int64, wait time.Duration) (release func(), err error) {
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	err = sem.Acquire(ctx, weight)
	cancel()
	if err != nil {
		if r.Context().Err() != nil {
			return nil, r.Context().Err()
		}
		w.Header().Set("Retry-After", "5")
		return nil, errorf(http.StatusServiceUnavailable, "busy",
			"the server is busy with other uploads, exports or searches; try again in a few seconds")
	}
	return func() { sem.Release(weight) }, nil
}
