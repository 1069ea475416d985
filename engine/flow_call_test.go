package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// The happy path of FUNCTIONAL.md §4–6 through the engine: the agent joins (its phone called
// into a room of its own with the login prompt and hold music), a customer answers and is moved
// into the room with a beep once its originate has returned, the agent hangs the customer up
// and is in wrap-up alone in its room, the attempt is recorded connected with its talk time,
// and after the disposition the agent takes the next contact (G-1..G-4, J-6, D-1..D-3, P-3).
func TestHappyPath(t *testing.T) {
	h := newHarness(t, harnessOptions{tels: []string{"09011110001", "09011110002"}, script: answers(50 * time.Millisecond)})
	h.join(1001)
	first := h.waitState(1001, agentstate.OnCall)
	if first.AttemptID == 0 || first.CallJobID != h.job || first.JobRun != 1 || first.Node != "fs1" {
		t.Fatalf("agent on call %+v", first)
	}
	agentLeg := h.agentLeg(1001)
	if first.Leg != agentLeg {
		t.Fatalf("agent's leg %s, its phone was called as %s", first.Leg, agentLeg)
	}
	// G-1: the phone hears the logged-in prompt, then waits in a room of its own, named by its
	// leg, where the room's hold music plays while the agent is alone.
	call := h.originates("loopback/agent-1001/")[0]
	for _, want := range []string{"origination_caller_id_number=0011", "conference_moh_sound=local_stream://moh",
		" 'm:^:playback:ivr/ivr-you_are_now_logged_in.wav^conference:" + agentLeg + "@default' inline\n"} {
		if !strings.Contains(call, want) {
			t.Fatalf("agent's phone called without %q: %s", want, call)
		}
	}
	var tel, customer string
	for _, n := range []string{"09011110001", "09011110002"} {
		if a := h.store.Attempts(n); len(a) == 1 && a[0].ID == first.AttemptID {
			tel, customer = n, a[0].ChannelUUID
		}
	}
	if customer == "" || h.customerLeg(tel) != customer {
		t.Fatalf("attempt %d is not a call the switch placed", first.AttemptID)
	}
	// G-2: the customer's entry into the room is the agent's beep; the customer is moved in
	// once its originate has returned (a move that lands earlier is overridden by the
	// originate's own &park() or cancels it), and is with the agent in its room.
	if c := h.originates("loopback/" + tel + "/")[0]; !strings.Contains(c, `conference_enter_sound=tone_stream://%(200\,0\,1000)`) ||
		!strings.Contains(c, "origination_caller_id_number=0312345678") {
		t.Fatalf("customer's call %s", c)
	}
	if moves := h.commands("api uuid_transfer " + customer); len(moves) != 1 ||
		moves[0] != "api uuid_transfer "+customer+" 'm:^:conference:"+agentLeg+"@default' inline" {
		t.Fatalf("customer moves %q", moves)
	}
	for _, r := range h.sw.History() {
		if r.UUID == customer && !strings.HasPrefix(r.JobResult, "+OK") {
			t.Fatalf("customer's originate answered %q: moved before it returned", r.JobResult)
		}
	}
	if !h.inRoom(agentLeg, agentLeg, customer) {
		t.Fatalf("room %v: the agent is shown on a call once the customer is in its room", h.sw.Members(agentLeg))
	}
	if len(h.commands("api uuid_bridge")) != 0 || len(h.commands("api uuid_broadcast")) != 0 {
		t.Fatalf("bridge or broadcast sent: %v", h.sw.Commands())
	}

	// G-3: 30 s later the agent ends the customer's call; the agent stays on the line, alone in
	// its room (the hold music is back), in wrap-up with the call's attempt.
	h.advance(30 * time.Second)
	h.hangupCustomer(1001)
	wrap := h.waitState(1001, agentstate.WrapUp)
	h.waitFor("the agent alone in its room", func() bool { return h.inRoom(agentLeg, agentLeg) })
	if wrap.AttemptID != first.AttemptID {
		t.Fatalf("wrap-up of attempt %d, the call was %d", wrap.AttemptID, first.AttemptID)
	}
	// P-3, D-3: connected, with the agent, its talk time, and a disposition due after the grace.
	h.waitFor("the call recorded", func() bool { return h.store.Outcome(tel) == "connected" })
	a := h.store.Attempts(tel)[0]
	if a.AgentID == nil || *a.AgentID != 1001 || a.TalkSeconds == nil || *a.TalkSeconds != 30 || a.HangupCause != "NORMAL_CLEARING" ||
		a.AnsweredAt == nil || a.BridgedAt == nil || !a.DispositionDueAt.Equal(a.EndedAt.Add(10*time.Minute)) || a.AgentDropped {
		t.Fatalf("attempt %+v", a)
	}
	// S-1: the call's live events, in order.
	var seen []string
	for _, ev := range h.events.of(liveevents.CallOffered) {
		if ev.Data["attempt_id"] == a.ID {
			seen = append(seen, ev.Type)
		}
	}
	for _, ev := range append(h.events.of(liveevents.CallConnected), h.events.of(liveevents.CallEnded)...) {
		if ev.Data["attempt_id"] == a.ID && ev.AgentID == 1001 {
			seen = append(seen, ev.Type)
		}
	}
	if strings.Join(seen, ",") != "call_offered,call_connected,call_ended" {
		t.Fatalf("live events of the call: %v", seen)
	}

	// G-4: the disposition saved with "continue", the agent takes the next contact.
	h.dispose(1001, "complete", "continue")
	second := h.waitState(1001, agentstate.OnCall)
	next := "09011110002"
	if tel == next {
		next = "09011110001"
	}
	if second.AttemptID == first.AttemptID || len(h.store.Attempts(next)) != 1 || h.store.Attempts(next)[0].ID != second.AttemptID {
		t.Fatalf("second call %+v: want the other number", second)
	}
	if n := len(h.store.Attempts(tel)); n != 1 {
		t.Fatalf("the first number dialed %d times", n)
	}
}
