package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// jobStopped: the engine has published that it saw the job stop.
func (h *harness) jobStopped() bool {
	for _, ev := range h.events.of(liveevents.JobState) {
		if ev.CallJobID == h.job && fmt.Sprint(ev.Data["status"]) == "stopped" {
			return true
		}
	}
	return false
}

// J-6: at business end (18:00 for campaign 2) the job stops by itself, and the call in progress
// goes on; its agent is let go once the call is over, and nothing is dialed after the end. D-3:
// the connected call's disposition is due after the grace period. The next morning, started
// again, the job dials the next contact (never the first again).
func TestBusinessEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{campaign: 2, tels: []string{"09011113333", "09011114444"},
		start: time.Date(2026, 11, 30, 17, 59, 0, 0, tokyo), configure: pacing(2, "progressive", 1)})
	h.join(1003)
	first := h.waitState(1003, domain.AgentOnCall)
	h.clock.Advance(90 * time.Second) // 18:00:30
	h.waitFor("the job stopped at business end", func() bool {
		j := h.store.Job(h.job)
		return j.Status == "stopped" && j.StopReason != nil && *j.StopReason == "business_end" && h.jobStopped()
	})
	h.passes(2)
	if a := h.agent(1003); a.State != domain.AgentOnCall || !h.up(h.customerLeg("09011113333")) {
		t.Fatalf("the call in progress was cut at business end: agent %+v", a)
	}
	h.hangupCustomer(1003)
	off := h.waitLoggedOff(1003)
	if off.Message != engine.MessageJobStopped {
		t.Fatalf("agent %+v", off)
	}
	h.waitFor("the job let go", func() bool { _, runs := h.in.eng.Pacing(h.job); return !runs })
	if n := h.customersDialed(); n != 1 || h.up(h.agentLeg(1003)) {
		t.Fatalf("%d customers dialed, agent's phone up %v", n, h.up(h.agentLeg(1003)))
	}
	h.waitFor("the call recorded", func() bool { return h.store.Outcome("09011113333") == "connected" })
	a := h.store.Attempts("09011113333")[0]
	if a.ID != first.AttemptID || !a.DispositionDueAt.Equal(a.EndedAt.Add(10*time.Minute)) {
		t.Fatalf("attempt %+v: want connected, its disposition due 10 minutes after its end", a)
	}

	h.clock.Advance(15 * time.Hour) // 09:00:30 the next day
	h.store.Dispose(a.ID, "complete", h.clock.Now())
	h.startJob()
	h.join(1003)
	second := h.waitState(1003, domain.AgentOnCall)
	if got := h.store.Attempts("09011114444"); len(got) != 1 || got[0].ID != second.AttemptID || got[0].Run != 2 {
		t.Fatalf("second contact %+v, agent %+v", got, second)
	}
	if n := len(h.store.Attempts("09011113333")); n != 1 {
		t.Fatalf("the first contact dialed %d times", n)
	}
}

// J-6 with P-2: a job stopped while a customer's phone rings keeps its free agent until that
// customer is done: the customer who answers is put through, not abandoned, and only then is the
// agent let go.
func TestStopWhileRinging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{script: customers(fsim.Fate{Answer: true, Ring: 600 * time.Millisecond})})
	h.join(1001)
	h.waitFor("the customer's phone ringing", func() bool { return h.customersDialed() == 1 })
	h.stopJob()
	h.waitFor("the engine seeing the stop", h.jobStopped)
	for _, r := range h.sw.History() {
		if r.UUID == h.customerLeg("09011110001") && !r.Answered.IsZero() {
			t.Fatal("the customer answered before the engine saw the stop: this test proves nothing")
		}
	}
	h.waitState(1001, domain.AgentOnCall)
	h.hangupCustomer(1001)
	off := h.waitLoggedOff(1001)
	if off.Message != engine.MessageJobStopped {
		t.Fatalf("agent %+v", off)
	}
	h.waitFor("the call recorded", func() bool { return h.store.Outcome("09011110001") != "in_progress" })
	if got := h.store.Attempts("09011110001"); len(got) != 1 || got[0].Outcome != "connected" {
		t.Fatalf("the customer's attempts: %+v", got)
	}
}

// An engine restarted mid-call adopts the call and the agent from the switch: the call is
// neither cut nor dialed again, and its outcome is recorded when it ends.
func TestRestartAdoptsCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.join(1001)
	on := h.waitState(1001, domain.AgentOnCall)
	// Main.Close: the drain ends at the shutdown timeout with the call still up, and the engine
	// stops, leaving it up for the job's next owner.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	h.in.eng.Drain(ctx)
	cancel()
	if n := h.in.eng.CallsInFlight(); n != 1 {
		t.Fatalf("%d calls in flight after the drain", n)
	}
	h.in.stop()
	customer, leg := h.customerLeg("09011110001"), h.agentLeg(1001)
	if !h.up(customer) || !h.inRoom(leg, leg, customer) || h.agent(1001).State != domain.AgentOnCall {
		t.Fatalf("shutdown cut the call: room %v, agent %+v", h.sw.Members(leg), h.agent(1001))
	}
	next := h.startInstance("engine-2")
	h.waitFor("the call adopted", func() bool { return next.eng.CallsInFlight() == 1 })
	h.hangupCustomer(1001)
	h.waitFor("the adopted call recorded", func() bool { return h.store.Outcome("09011110001") == "connected" })
	if a := h.waitState(1001, domain.AgentWrapUp); a.AttemptID != on.AttemptID || a.Leg != leg {
		t.Fatalf("agent %+v", a)
	}
	if n := len(h.commands("bgapi originate ")); n != 2 { // the agent's phone and the customer, once each
		t.Fatalf("%d originates, want 2", n)
	}
}

// Graceful shutdown (Main.Close): while the engine drains it places no new call, the calls in
// progress go on to their end, and the drain is over once none is left.
func TestDrain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tels: []string{"09011110001", "09011110002"}})
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		h.in.eng.Drain(context.Background())
	}()
	isDrained := func() bool {
		select {
		case <-drained:
			return true
		default:
			return false
		}
	}
	h.passes(3)
	if isDrained() {
		t.Fatal("the drain ended with a call in progress")
	}
	h.hangupCustomer(1001)
	h.waitState(1001, domain.AgentWrapUp)
	h.waitFor("the drain over", isDrained)
	h.dispose(1001, "complete", "continue")
	h.waitState(1001, domain.AgentAvailable)
	h.passes(3)
	if n := h.customersDialed(); n != 1 {
		t.Fatalf("%d customers dialed while draining", n)
	}
}

// Several instances share the jobs through their leases: an instance whose lease of a job is
// lost (its connection to PostgreSQL died) lets the job go at once, and whichever instance
// leases it next (the other one, or the same one again) adopts its call and agent from the
// switch: the call goes on, is never dialed again and is recorded once.
func TestLeaseLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.join(1001)
	on := h.waitState(1001, domain.AgentOnCall)
	other := h.startInstance("engine-2")
	h.passes(3)
	if other.eng.CallsInFlight() != 0 {
		t.Fatal("a second instance took a job the first holds")
	}
	taken := func() int {
		n := 0
		for _, ev := range h.events.of(liveevents.JobState) {
			if ev.CallJobID == h.job && fmt.Sprint(ev.Data["status"]) == "running" {
				n++
			}
		}
		return n
	}
	h.store.LoseLease(h.job)
	h.waitFor("the job let go and taken again", func() bool {
		return taken() == 2 && h.in.eng.CallsInFlight()+other.eng.CallsInFlight() == 1
	})
	h.hangupCustomer(1001)
	h.waitFor("the call recorded", func() bool { return h.store.Outcome("09011110001") == "connected" })
	if a := h.waitState(1001, domain.AgentWrapUp); a.AttemptID != on.AttemptID {
		t.Fatalf("agent %+v", a)
	}
	if n := len(h.commands("bgapi originate ")); n != 2 {
		t.Fatalf("%d originates, want 2", n)
	}
}

// A customer's hangup whose events were lost (the connection was down) is found by asking the
// switch: the call is recorded and the agent moves on to wrap-up instead of staying on a call
// that no longer exists; an agent's phone lost the same way logs the agent off (G-3).
func TestReconcilesLostHangups(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	if !h.sw.Vanish(h.customerLeg("09011110001"), "NORMAL_CLEARING") {
		t.Fatal("no customer channel to lose")
	}
	h.advance(10 * time.Second)
	if a := h.agent(1001); a.State != domain.AgentOnCall { // checked every 15 s
		t.Fatalf("agent %+v", a)
	}
	h.clock.Advance(6 * time.Second)
	h.waitState(1001, domain.AgentWrapUp)
	h.waitFor("the lost call recorded", func() bool { return h.store.Outcome("09011110001") == "connected" })
	if a := h.store.Attempts("09011110001")[0]; a.HangupCause != "LOST_CHANNEL" {
		t.Fatalf("attempt %+v", a)
	}
	if !h.sw.Vanish(h.agentLeg(1001), "NORMAL_CLEARING") {
		t.Fatal("no agent channel to lose")
	}
	h.clock.Advance(16 * time.Second)
	if off := h.waitLoggedOff(1001); off.Message != engine.MessageLegDropped {
		t.Fatalf("agent %+v", off)
	}
}

// The switch's channel listing lags (the real switch reads it from an asynchronous database):
// the periodic check confirms an absence with uuid_exists before it ends a call or logs an agent
// off, so neither is lost while the listing has not caught up (G-3).
func TestChannelListingLags(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{listingLag: time.Hour})
	h.join(1001)
	h.waitState(1001, domain.AgentOnCall)
	before := len(h.commands("api uuid_exists "))
	h.clock.Advance(16 * time.Second) // past the check interval: both channels are asked about
	h.waitFor("the channels checked", func() bool { return len(h.commands("api uuid_exists ")) >= before+2 })
	h.passes(2)
	leg := h.agentLeg(1001)
	if a := h.agent(1001); a.State != domain.AgentOnCall || h.store.Outcome("09011110001") != "in_progress" ||
		!h.inRoom(leg, leg, h.customerLeg("09011110001")) {
		t.Fatalf("after the check: agent %+v, call %s, room %v", a, h.store.Outcome("09011110001"), h.sw.Members(leg))
	}
}

// P-2 with a stalled database: while the engine's loop and every write wait on PostgreSQL,
// customers who answer with no agent free still hear the abandon message at the connect
// deadline instead of silence; their outcomes are written once the database answers again.
func TestAbandonsWhileDatabaseStalls(t *testing.T) {
	t.Parallel()
	tels := []string{"09011119991", "09011119992", "09011119993"}
	h := newHarness(t, harnessOptions{tels: tels, configure: pacing(1, "ratio", 3)})
	h.join(1001)
	h.waitFor("three customers answered, one put through", func() bool {
		for _, tel := range tels {
			if a := h.store.Attempts(tel); len(a) != 1 || a[0].AnsweredAt == nil {
				return false
			}
		}
		return h.agent(1001).State == domain.AgentOnCall
	})
	release := h.store.Stall()
	defer release()
	h.waitFor("the loop held by the database", func() bool { return h.store.Stalled() > 0 })
	h.clock.Advance(2 * time.Second)
	abandoned := map[string]bool{}
	h.waitFor("both waiting customers abandoned with the message while the database is held", func() bool {
		for _, tel := range tels {
			for _, c := range h.commands("api uuid_transfer " + h.customerLeg(tel)) {
				if c == "api uuid_transfer "+h.customerLeg(tel)+" 'm:^:playback:tone_stream://%(500,0,800)^hangup:NORMAL_CLEARING' inline" {
					abandoned[tel] = true
				}
			}
		}
		return len(abandoned) == 2
	})
	if h.store.Stalled() == 0 {
		t.Fatal("the database was not held throughout")
	}
	release()
	h.waitFor("the abandons recorded", func() bool {
		n := 0
		for tel := range abandoned {
			if h.store.Outcome(tel) == "abandoned" {
				n++
			}
		}
		return n == 2
	})
	for _, tel := range tels {
		if !abandoned[tel] && h.store.Outcome(tel) != "in_progress" {
			t.Fatalf("the call put through: %s", h.store.Outcome(tel))
		}
	}
}

// Originates the switch refuses because of us (a dial string naming a gateway it does not have)
// use no contact up: their attempts are given back, and after three in a row the job stops by
// itself with the reason, its agent let go (issue 11 item 5, J-6).
func TestOwnFailuresStopTheJob(t *testing.T) {
	t.Parallel()
	tels := []string{"09011110001", "09011110002", "09011110003"}
	h := newHarness(t, harnessOptions{tels: tels, configure: pacing(1, "ratio", 3),
		script: customers(fsim.Fate{Early: true, Cause: "INVALID_GATEWAY"})})
	h.join(1001)
	h.waitFor("the job stopped", func() bool {
		j := h.store.Job(h.job)
		return j.Status == "stopped" && j.StopReason != nil && *j.StopReason == freeswitch.OwnDialStringRefused
	})
	off := h.waitLoggedOff(1001)
	if off.Message != engine.MessageJobStopped {
		t.Fatalf("agent %+v", off)
	}
	h.waitFor("the job let go", func() bool { _, runs := h.in.eng.Pacing(h.job); return !runs })
	h.waitFor("every attempt given back", func() bool {
		for _, tel := range tels {
			if len(h.store.Attempts(tel)) != 0 {
				return false
			}
		}
		return true
	})
	if n := h.customersDialed(); n < 3 {
		t.Fatalf("%d customer originates", n)
	}
	if j := h.store.Job(h.job); j.RemainingCount != j.TargetCount {
		t.Fatalf("job %+v: the failures used up contacts", j)
	}
}

// Issue 17 item 5: a switch node that stays down is given up after a grace: its calls end
// (connected until then) and its agents are logged off with a message; once a switch answers at
// the node's address again, agents join and calls are placed there again.
func TestNodeLostAndBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tels: []string{"09011110001", "09011110002"}})
	h.join(1001)
	on := h.waitState(1001, domain.AgentOnCall)
	addr := h.sw.Addr()
	h.sw.Stop()
	h.waitFor("the node seen down", func() bool { return !h.in.pool.States()[0].Connected })
	h.passes(2) // the engine's loop has seen it too
	h.advance(5 * time.Second)
	h.passes(3)
	if st := h.agent(1001); st.State != domain.AgentOnCall {
		t.Fatalf("given up within the grace: %+v", st)
	}
	h.advance(6 * time.Second)
	gone := h.waitLoggedOff(1001)
	if gone.Message != engine.MessageNodeLost {
		t.Fatalf("agent told %q", gone.Message)
	}
	h.waitFor("the call ended", func() bool { return h.store.Outcome("09011110001") == domain.OutcomeConnected })
	if a, _ := h.store.Attempt(on.AttemptID); a.HangupCause != engine.NodeCause {
		t.Fatalf("attempt %+v", a)
	}
	// The switch answers again at the same address: the agent joins and the next contact is dialed.
	sw := fsim.New(fsim.Options{Script: answers(20 * time.Millisecond), Playback: 50 * time.Millisecond})
	if err := sw.Start(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)
	h.waitFor("the node connected again", func() bool {
		for _, st := range h.in.pool.States() {
			if !st.Connected {
				return false
			}
		}
		return true
	})
	h.join(1001)
	h.waitFor("the next contact dialed on the node", func() bool {
		a := h.store.Attempts("09011110002")
		return len(a) == 1 && a[0].BridgedAt != nil
	})
}
