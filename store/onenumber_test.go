package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// J-4 (issue 14 item 3): a number one running job of the batch has called in its run is not
// extracted into another job of the batch while the first runs, even once its retry is due; the
// job that called it dials it again as P-3 says, and once that job stops the number is free.
func TestNumberCalledByARunningJobStaysWithIt(t *testing.T) {
	f := newJobFixture(t, 1)
	ctx := context.Background()
	start := func() store.CallJob {
		j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	first, second := start(), start()
	claim := func(j store.CallJob, now time.Time) []store.DialTarget {
		t.Helper()
		got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 5, Instance: "i", Node: "fs1", NewUUID: seqUUID}, now)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := claim(first, f.now)
	if len(got) != 1 {
		t.Fatalf("first job claimed %d", len(got))
	}
	end := f.now.Add(30 * time.Second)
	if _, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: got[0].ChannelUUID, Outcome: domain.OutcomeNoAnswer,
		HangupCause: "NO_ANSWER", EndedAt: end,
		Retry: []store.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer}, After: time.Minute, MaxAttempts: 5}}}); err != nil {
		t.Fatal(err)
	}
	due := end.Add(2 * time.Minute)
	if n := len(claim(second, due)); n != 0 {
		t.Fatalf("the second job took the number the first one called: %d", n)
	}
	retry := claim(first, due)
	if len(retry) != 1 {
		t.Fatalf("the first job's retry: %d claimed", len(retry))
	}
	end = due.Add(30 * time.Second)
	if _, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: retry[0].ChannelUUID, Outcome: domain.OutcomeNoAnswer,
		HangupCause: "NO_ANSWER", EndedAt: end,
		Retry: []store.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer}, After: time.Minute, MaxAttempts: 5}}}); err != nil {
		t.Fatal(err)
	}
	// Once the first job stops, the number is the batch's again: the second job may dial it.
	if _, err := f.s.StopCallJob(ctx, first.ID, "admin", end); err != nil {
		t.Fatal(err)
	}
	if n := len(claim(second, end.Add(2*time.Minute))); n != 1 {
		t.Fatalf("after the first job stopped the second claimed %d", n)
	}
}
