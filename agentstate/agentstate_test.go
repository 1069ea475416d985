package agentstate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
)

// The package's tests use Redis database 11 so they do not meet other packages' keys.
func newStore(t *testing.T) *agentstate.Store {
	t.Helper()
	s := agentstate.Open("127.0.0.1:6379", 11, "")
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("redis: %v", err)
	}
	all, _ := s.All(ctx)
	for _, a := range all {
		_ = s.Remove(ctx, a.ID)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// G-6: state, since, job and current call round-trip through Redis.
func TestSetGetCounts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	since := time.UnixMilli(1_700_000_000_123)
	for _, a := range []agentstate.Agent{
		{ID: 1001, State: domain.AgentAvailable, Since: since, CallJobID: 7},
		{ID: 1002, State: domain.AgentOnCall, Since: since, CallJobID: 7, AttemptID: 99},
		{ID: 1003, State: domain.AgentAvailable, Since: since},
	} {
		if err := s.Set(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, 1002)
	if err != nil || got.State != domain.AgentOnCall || !got.Since.Equal(since) || got.CallJobID != 7 || got.AttemptID != 99 {
		t.Fatalf("got %+v %v", got, err)
	}
	counts, err := s.Counts(ctx)
	if err != nil || counts[domain.AgentAvailable] != 2 || counts[domain.AgentOnCall] != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
	if err := s.Remove(ctx, 1003); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, 1003); !errors.Is(err, agentstate.ErrUnknownAgent) {
		t.Fatalf("removed agent: %v", err)
	}
	if err := s.Set(ctx, agentstate.Agent{ID: 1, State: "dancing"}); err == nil {
		t.Fatal("unknown state accepted")
	}
}
