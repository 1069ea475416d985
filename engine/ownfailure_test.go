package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/store"
)

// ownStore records what ownFailure asks of PostgreSQL; the rest of Store is not used.
type ownStore struct {
	Store
	mu       sync.Mutex
	keep     bool // GiveBackAttempt reports false: the attempt could not be given back
	given    []string
	finished []store.AttemptEnd
	stopped  []string
}

func (s *ownStore) GiveBackAttempt(_ context.Context, channelUUID string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keep {
		return false, nil
	}
	s.given = append(s.given, channelUUID)
	return true, nil
}

func (s *ownStore) FinishAttempt(_ context.Context, e store.AttemptEnd) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = append(s.finished, e)
	return true, nil
}

func (s *ownStore) StopCallJob(_ context.Context, id int64, reason string, _ time.Time) (store.CallJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = append(s.stopped, reason)
	return store.CallJob{ID: id}, nil
}

func (s *ownStore) snapshot() (given []string, finished []store.AttemptEnd, stopped []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.given...), append([]store.AttemptEnd(nil), s.finished...), append([]string(nil), s.stopped...)
}

// Issue 11 item 5: a failure of our own forgets the call as finish does and gives its attempt
// back (no outcome recorded); three in a row stop the job with the reason, once; a success in
// between, or a new run, starts the count again.
func TestOwnFailure(t *testing.T) {
	st := &ownStore{}
	cfg := &config.Config{Campaigns: []config.Campaign{{ID: 1, Retry: []config.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNetworkFailure}, After: time.Minute, MaxAttempts: 5}}}}}
	e := New(Options{Store: st, Config: func() *config.Config { return cfg }})
	e.ledger = newLedger(2)
	e.ledger.start()
	j := &job{id: 7, campaign: 1, row: store.CallJob{ID: 7, Run: 1}, calls: map[string]*call{}, agents: map[int]*agent{}}
	e.jobs[j.id] = j
	released := 0
	n := 0
	// placed is a call registered as originate registers it; early is one that failed before.
	placed := func() *call {
		n++
		c := &call{attemptID: int64(n), uuid: freeswitch.NewUUID(), release: func() { released++ }}
		e.mu.Lock()
		j.calls[c.uuid] = c
		e.legs[c.uuid] = leg{job: j, call: c}
		e.calls++
		e.mu.Unlock()
		return c
	}
	early := func() *call { n++; return &call{attemptID: int64(n), uuid: freeswitch.NewUUID()} }
	ctx := context.Background()
	var want []string
	fail := func(c *call, reason string) {
		t.Helper()
		want = append(want, c.uuid)
		e.ownFailure(ctx, j, c, reason)
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(j.calls) != 0 || len(e.legs) != 0 || e.calls != 0 {
			t.Fatalf("call not forgotten: %d calls, %d legs, %d in flight", len(j.calls), len(e.legs), e.calls)
		}
	}

	fail(placed(), freeswitch.OwnDialStringRefused)
	fail(early(), freeswitch.OwnSwitchUnavailable)
	e.ownSuccess(j)
	fail(placed(), freeswitch.OwnDialStringRefused)
	fail(placed(), freeswitch.OwnDialStringRefused)
	if _, _, stopped := st.snapshot(); len(stopped) != 0 || j.stopping {
		t.Fatalf("stopped after a success and two failures: %v", stopped)
	}
	fail(early(), freeswitch.OwnSwitchUnavailable) // the third in a row
	fail(placed(), freeswitch.OwnDialStringRefused)
	if released != 4 {
		t.Fatalf("%d switch slots released, want 4", released)
	}
	e.wg.Wait() // the stop is written off the event path
	e.mu.Lock()
	stopping := j.stopping
	e.mu.Unlock()
	if _, _, stopped := st.snapshot(); len(stopped) != 1 || stopped[0] != freeswitch.OwnSwitchUnavailable || !stopping {
		t.Fatalf("stops %v (stopping %v), want one switch_unavailable", stopped, stopping)
	}

	// Started again (a new run): the count starts afresh.
	e.mu.Lock()
	j.row.Run, j.stopping = 2, false
	e.mu.Unlock()
	fail(placed(), freeswitch.OwnDialStringRefused)
	fail(placed(), freeswitch.OwnDialStringRefused)

	e.ledger.stop() // every give-back written
	given, finished, stopped := st.snapshot()
	slices.Sort(given) // the ledger writes different attempts in parallel
	slices.Sort(want)
	if !slices.Equal(given, want) {
		t.Fatalf("given back %v, want %v", given, want)
	}
	if len(finished) != 0 {
		t.Fatalf("attempts finished instead of given back: %+v", finished)
	}
	if len(stopped) != 1 {
		t.Fatalf("the new run stopped after two failures: %v", stopped)
	}

	// An attempt that cannot be given back is recorded as before, not left in progress.
	e.ledger = newLedger(2)
	e.ledger.start()
	st.mu.Lock()
	st.keep = true
	st.mu.Unlock()
	kept := placed()
	e.ownFailure(ctx, j, kept, freeswitch.OwnSwitchUnavailable)
	e.ledger.stop()
	e.wg.Wait() // the stop is written off the event path
	_, finished, stopped = st.snapshot()
	if len(finished) != 1 || finished[0].ChannelUUID != kept.uuid || finished[0].Outcome != "network_failure" ||
		finished[0].HangupCause != "SWITCH_UNAVAILABLE" || len(finished[0].Retry) != 1 {
		t.Fatalf("finished %+v", finished)
	}
	if len(stopped) != 2 || stopped[1] != freeswitch.OwnSwitchUnavailable {
		t.Fatalf("stops %v: the third failure of run 2 stops it again", stopped)
	}
}
