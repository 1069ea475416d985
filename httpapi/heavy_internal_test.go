package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Issue 13 load: heavy requests run one at a time on a 2-CPU default (half the CPUs), an upload
// takes the whole allowance, and a request that cannot get its turn in time is a 503 busy with
// Retry-After rather than a queue that grows without end.
func TestHeavyRequestsTakeTurns(t *testing.T) {
	s := &Server{limiter: newHeavyLimiter(2)}
	s.limiter.wait = 50 * time.Millisecond
	req := httptest.NewRequest(http.MethodGet, "/api/v1/reports/summary", nil)
	one, err := s.acquireHeavy(httptest.NewRecorder(), req, 1)
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.acquireHeavy(httptest.NewRecorder(), req, 1)
	if err != nil {
		t.Fatal("a second search waits although the allowance is 2")
	}
	w := httptest.NewRecorder()
	_, err = s.acquireHeavy(w, req, 1<<30) // an import wants them all
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Code != "busy" || w.Header().Get("Retry-After") == "" {
		t.Fatalf("import while two run: %v, Retry-After %q", err, w.Header().Get("Retry-After"))
	}
	one()
	two()
	all, err := s.acquireHeavy(httptest.NewRecorder(), req, 1<<30)
	if err != nil {
		t.Fatalf("import alone: %v", err)
	}
	all()
	// A client that leaves while waiting is not answered busy: it is gone.
	block, _ := s.acquireHeavy(httptest.NewRecorder(), req, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.acquireHeavy(httptest.NewRecorder(), req.WithContext(ctx), 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("client gone: %v", err)
	}
	block()
}

// The upload bucket lets a second's worth through at once, then makes readers wait (a reader
// whose request ended stops waiting at once).
func TestUploadRateWaits(t *testing.T) {
	b := newByteRate(1 << 20)
	if !b.take(context.Background(), 1<<20) {
		t.Fatal("the first second's worth waited")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if b.take(ctx, 1<<20) {
		t.Fatal("a second megabyte went through at once")
	}
	if !newByteRate(0).take(ctx, 1<<30) {
		t.Fatal("an unlimited bucket waited")
	}
}
