package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// G-3: the agent's own phone drops during a call: the customer is not left alone (its leg is
// hung up), the call is recorded as connected with the agent dropped, and the agent is out of
// the job with a message for its next screen.
func TestAgentLegDrop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	h.sw.Hangup(h.agentLeg(1001), "NORMAL_CLEARING")
	off := h.waitLoggedOff(1001)
	if off.Message != engine.MessageLegDropped || off.Leg != "" {
		t.Fatalf("agent %+v", off)
	}
	// Recorded with the call's end, or just after it when the customer's hangup was handled
	// before the agent's (their events travel on different shards).
	h.waitFor("the call recorded with the agent dropped", func() bool {
		a := h.store.Attempts("09011110001")
		return a[0].Outcome != "in_progress" && a[0].AgentDropped
	})
	if a := h.store.Attempts("09011110001")[0]; a.Outcome != "connected" || a.AgentID == nil || *a.AgentID != 1001 {
		t.Fatalf("attempt %+v", a)
	}
	h.waitFor("nothing left up on the switch", func() bool { return len(h.sw.Channels()) == 0 })
}

// G-5: an agent is never idle on a call; idle 60 minutes in wrap-up (or available, break, away)
// it is logged off with the manual's message and its phone hung up.
func TestIdleLogoff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	leg := h.agentLeg(1001)
	h.advance(61 * time.Minute)
	if a := h.agent(1001); a.State != domain.AgentOnCall {
		t.Fatalf("agent on a call for an hour: %+v", a)
	}
	h.hangupCustomer(1001)
	h.waitState(1001, domain.AgentWrapUp)
	h.advance(59 * time.Minute)
	if a := h.agent(1001); a.State != domain.AgentWrapUp {
		t.Fatalf("agent 59 minutes in wrap-up: %+v", a)
	}
	h.clock.Advance(time.Minute)
	off := h.waitLoggedOff(1001)
	if off.Message != "エージェントステータスがログオフの状態です" { // G-5: the manual's words
		t.Fatalf("agent %+v", off)
	}
	h.waitFor("its phone hung up", func() bool { return !h.up(leg) })
}

// G-1, G-4: an agent who asks to leave during a call leaves once the call is over, without
// cutting it; one who takes a break between calls is given no customer until it is back.
func TestLeaveAfterCallAndBreak(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tels: []string{"09011110001", "09011110002"}})
	h.join(1001)
	on := h.waitState(1001, domain.AgentOnCall)
	h.hangupCustomer(1001)
	h.waitState(1001, domain.AgentWrapUp)
	h.dispose(1001, "complete", "break")
	h.waitState(1001, domain.AgentBreak)
	h.passes(3)
	if n := h.customersDialed(); n != 1 {
		t.Fatalf("%d customers dialed with the only agent on a break", n)
	}
	h.request(1001, "state", domain.AgentAvailable)
	second := h.waitState(1001, domain.AgentOnCall)
	if second.AttemptID == on.AttemptID {
		t.Fatalf("no new call: %+v", second)
	}
	h.request(1001, "leave", "")
	h.passes(3)
	if a := h.agent(1001); a.State != domain.AgentOnCall {
		t.Fatalf("the call was cut by the leave: %+v", a)
	}
	leg := h.agentLeg(1001)
	h.hangupCustomer(1001)
	off := h.waitLoggedOff(1001)
	if off.Message != "" {
		t.Fatalf("agent %+v", off)
	}
	h.waitFor("its phone hung up", func() bool { return !h.up(leg) })
	h.waitFor("the second call recorded", func() bool { return h.store.Outcome("09011110002") == "connected" })
}

// Live agent state left in a job nobody runs (its owner stopped right after the job did) or of
// an earlier run of a running job is released by the instance that finds it, after seeing the
// same state in two checks five seconds apart: the phone hung up, the agent logged off with a
// message, and free to join again (J-6, G-3, docs/call-lifecycle.md).
func TestReleasesStaleAgents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{stopped: true})
	legs := map[int]string{1001: h.phoneUp(1001), 1002: h.phoneUp(1002)}
	h.passes(2) // the first pass's check is done: the next is 5 s away
	ctx := context.Background()
	// 1001: in the job, which is stopped (never started here).
	if err := h.agents.Set(ctx, agentstate.Agent{ID: 1001, State: domain.AgentAvailable, Since: h.clock.Now(), CallJobID: h.job,
		JobRun: 1, Leg: legs[1001], Node: "fs1"}); err != nil {
		t.Fatal(err)
	}
	released := func(id int) {
		t.Helper()
		off := h.waitLoggedOff(id)
		if off.Message != engine.MessageJobStopped {
			t.Fatalf("agent %d %+v", id, off)
		}
		h.waitFor("its phone hung up", func() bool { return !h.up(legs[id]) })
	}
	h.advance(5 * time.Second)
	if a := h.agent(1001); a.State != domain.AgentAvailable || !h.inRoom(legs[1001], legs[1001]) {
		t.Fatalf("released after one check: %+v", a)
	}
	h.clock.Advance(5 * time.Second)
	released(1001)

	// 1002: in the run before the job's current one, once the job runs here.
	h.startJob()
	if err := h.agents.Set(ctx, agentstate.Agent{ID: 1002, State: domain.AgentAvailable, Since: h.clock.Now(), CallJobID: h.job,
		JobRun: h.store.Job(h.job).Run - 1, Leg: legs[1002], Node: "fs1"}); err != nil {
		t.Fatal(err)
	}
	h.advance(5 * time.Second)
	if a := h.agent(1002); a.State != domain.AgentAvailable {
		t.Fatalf("released after one check (or adopted): %+v", a)
	}
	h.clock.Advance(5 * time.Second)
	released(1002)

	// Both may join again.
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	if a := h.agent(1001); a.Leg == legs[1001] || a.CallJobID != h.job {
		t.Fatalf("agent 1001 back %+v", a)
	}
}

// D-1, G-4: wrap-up is told (live event, agent state) only once the call's outcome is written,
// so a screen that saves the disposition the moment it sees wrap-up finds the call connected
// rather than still in progress.
func TestWrapUpToldAfterTheOutcomeIsWritten(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	customer := h.store.Attempts("09011110001")[0].ChannelUUID
	release := h.store.Stall()
	defer release()
	h.sw.Hangup(customer, "NORMAL_CLEARING") // the customer hangs up: no pass of the job needed
	h.waitFor("the call's outcome being written", func() bool {
		return len(h.events.of(liveevents.CallEnded)) > 0 && h.store.Stalled() > 0
	})
	for _, ev := range h.events.of(liveevents.AgentState) {
		if ev.AgentID == 1001 && ev.Data["state"] == domain.AgentWrapUp {
			t.Fatalf("wrap-up told while the outcome is not written yet: %+v", ev)
		}
	}
	release()
	h.waitState(1001, domain.AgentWrapUp)
	if a := h.store.Attempts("09011110001")[0]; a.Outcome != "connected" {
		t.Fatalf("attempt %+v once wrap-up is told", a)
	}
}
