//go:build lab

package labtest

import (
	"context"
	"testing"
	"time"
)

// workJob has the simulated agents s work the job until it has n attempts, none in progress
// (or until nothing has moved for stall, or within), then stops the job, lets the agents finish
// and leave, and waits until nothing the test started is up on the switch. It returns the
// attempts as they stand then and when the agents were released; a job that did not get
// through is the test's error, not fatal, so the comparison that follows can say why.
func workJob(t *testing.T, s *AgentSim, o *Observer, n int, within, stall time.Duration) ([]Attempt, time.Time) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { stop(); <-done }()
	start := time.Now()
	dialCtx, cancel := context.WithTimeout(context.Background(), within)
	attempts, err := s.In.WaitAttemptsOrStall(dialCtx, s.Job, n, stall)
	cancel()
	if err != nil {
		t.Errorf("not every contact was dialed and ended: %v", err)
	}
	t.Logf("%d attempts in %v", len(attempts), time.Since(start).Round(time.Second))
	stop()
	<-done
	released := time.Now()
	s.In.StopJob(t, s.Job)
	leaveCtx, cancel2 := context.WithTimeout(context.Background(), 45*time.Second)
	if err := s.FinishAndLeave(leaveCtx); err != nil {
		t.Errorf("agents leaving: %v", err)
	}
	cancel2()
	noLegsLeft(t, o, 30*time.Second)
	// Writes queued behind the outcomes (a recording's length) are in once the job is quiet.
	attempts, err = s.In.Attempts(context.Background(), s.Job)
	if err != nil {
		t.Fatal(err)
	}
	return attempts, released
}
