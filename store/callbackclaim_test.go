package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
)

// S-2, issue 14 item 4: a callback promised by an agent is that agent's for the grace after its
// due time: claimed only for it (tied to it) while it is free in the job, one per agent; any
// claim may take it once the grace has passed. A callback nobody promised (saved by an admin)
// is anyone's at once.
func TestCallbackGoesToItsAgentFirst(t *testing.T) {
	f := newJobFixture(t, 4)
	ctx := context.Background()
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	const grace = 5 * time.Minute
	claim := func(now time.Time, n int, owners ...int) []store.DialTarget {
		t.Helper()
		got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: n, Instance: "i", Node: "fs1",
			NewUUID: seqUUID, CallbackGrace: grace, Owners: owners}, now)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	all := claim(f.now, 4)
	if len(all) != 4 {
		t.Fatalf("claimed %+v", all)
	}
	// Contacts 0 and 3 promised by agent 1001 (due at T and T+1s), 1 by agent 1002, 2 by an admin.
	T := f.now.Add(2 * time.Hour)
	for i, by := range []*int{ptr(1001), ptr(1002), nil, ptr(1001)} {
		answered, ended := f.now.Add(time.Minute), f.now.Add(2*time.Minute)
		if ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: all[i].ChannelUUID, Outcome: "connected",
			AnsweredAt: &answered, BridgedAt: &answered, EndedAt: ended, AgentID: by, DispositionGrace: 10 * time.Minute}); err != nil || !ok {
			t.Fatalf("finish %d: %v %v", i, ok, err)
		}
		due := T
		if i == 3 {
			due = T.Add(time.Second)
		}
		if err := f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: all[i].AttemptID, Party: "self", ResultCode: "x",
			NextAction: "callback", CallbackAt: &due, SavedBy: "someone"}, ended); err != nil {
			t.Fatal(err)
		}
	}
	contacts := func(ds []store.DialTarget) []int64 {
		out := []int64{}
		for _, d := range ds {
			out = append(out, d.ContactID)
		}
		return out
	}
	same := func(what string, got []store.DialTarget, want ...int) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: claimed contacts %v, want contacts %v of %v", what, contacts(got), want, contacts(all))
		}
		for k, i := range want {
			if got[k].ContactID != all[i].ContactID || !got[k].Callback {
				t.Fatalf("%s: claimed %+v, want contacts %v of %v", what, got, want, contacts(all))
			}
		}
	}

	// At the due time, an ordinary claim takes only the callback nobody promised.
	same("ordinary claim at T", claim(T, 10), 2)
	// A claim for agents who promised nothing due gets nothing, nor anything else.
	same("claim for agent 1003", claim(T, 10, 1003))
	// Agent 1001 free: the earlier of its two callbacks, tied to it; one per agent.
	mine := claim(T.Add(2*time.Second), 10, 1001)
	same("claim for agent 1001", mine, 0)
	if mine[0].Agent != 1001 {
		t.Fatalf("callback tied to agent %d, want 1001", mine[0].Agent)
	}
	// During the grace the others wait for their agents.
	same("ordinary claim in the grace", claim(T.Add(grace-time.Second), 10))
	// The grace over: no longer tied, anyone's.
	same("claim for agent 1002 after its grace", claim(T.Add(grace), 10, 1002))
	anyone := claim(T.Add(grace), 10)
	same("ordinary claim after the grace", anyone, 1)
	if anyone[0].Agent != 0 {
		t.Fatalf("callback after the grace tied to agent %d", anyone[0].Agent)
	}
	same("ordinary claim after the second one's grace", claim(T.Add(grace+time.Second), 10), 3)
}
