package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// The happy path of J-1 … D-3 through the engine: the agent joins (its phone called
// into a room of its own with the login prompt and hold music), a customer answers and is moved
// into the room with a beep once its originate has returned, the agent hangs the customer up
// and is in wrap-up alone in its room, the attempt is recorded connected with its talk time,
// and after the disposition the agent takes the next contact (G-1..G-4, J-6, D-1..D-3, P-3).
func TestHappyPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tels: []string{"09011110001", "09011110002"}, script: answers(50 * time.Millisecond)})
	h.join(1001)
	first := h.waitState(1001, domain.AgentOnCall)
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
	wrap := h.waitState(1001, domain.AgentWrapUp)
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

	// D-2, G-4: the disposition saved (complete), the agent goes on ("continue") to the next contact.
	h.dispose(1001, "complete", "continue")
	second := h.waitState(1001, domain.AgentOnCall)
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

// everyOutcome scripts a number for each outcome class of docs/event-socket.md §3 and two live answers that
// stay; agents' phones answer.
func everyOutcome() (fsim.Script, map[string]string, []string) {
	fates := map[string]fsim.Fate{
		"09022220001": {Cause: "USER_BUSY", Ring: 20 * time.Millisecond},
		"09033330002": {Cause: "NO_ANSWER", Ring: 50 * time.Millisecond},
		"09044440003": {Cause: "UNALLOCATED_NUMBER", Ring: 20 * time.Millisecond},
		"09055550004": {Early: true, Cause: "GATEWAY_DOWN"},
		"09066660005": {Cause: "CALL_REJECTED", Ring: 20 * time.Millisecond},
		"09077770006": {Answer: true, Ring: 50 * time.Millisecond},
		"09077770007": {Answer: true, Ring: 50 * time.Millisecond},
	}
	want := map[string]string{"09022220001": "busy", "09033330002": "no_answer", "09044440003": "invalid_number",
		"09055550004": "network_failure", "09066660005": "rejected"}
	script := func(dial string) fsim.Fate {
		for tel, f := range fates {
			if strings.Contains(dial, "/"+tel+"/") {
				return f
			}
		}
		return fsim.Fate{Answer: true} // agents
	}
	return script, want, []string{"09022220001", "09033330002", "09044440003", "09055550004", "09066660005", "09077770006", "09077770007"}
}

// Each outcome class of docs/event-socket.md §3 is recorded (P-3); of two live answers with one agent, one is
// put through and the other abandoned exactly at the connect deadline with the campaign's
// message (P-2), which pacing sees at once; the retry rules then dial again what they cover,
// when their wait has passed, and nothing else (P-3).
func TestOutcomesAndAbandonAtDeadline(t *testing.T) {
	t.Parallel()
	script, want, tels := everyOutcome()
	// Ratio mode with seven calls per ready agent dials the whole list at once (P-1).
	h := newHarness(t, harnessOptions{tels: tels, script: script, configure: pacing(1, "ratio", 7)})
	h.join(1001)
	answered := func(tel string) bool { a := h.store.Attempts(tel); return len(a) == 1 && a[0].AnsweredAt != nil }
	h.waitFor("every failure recorded, both answers seen and one put through", func() bool {
		for tel, o := range want {
			if string(h.store.Outcome(tel)) != o {
				return false
			}
		}
		return answered("09077770006") && answered("09077770007") && h.agent(1001).State == domain.AgentOnCall
	})
	connected, waiting := "09077770006", "09077770007"
	if h.store.Attempts(waiting)[0].ID == h.agent(1001).AttemptID {
		connected, waiting = waiting, connected
	}
	abandons := func() []string {
		var out []string
		for _, c := range h.commands("api uuid_transfer ") {
			if !strings.Contains(c, "'m:^:conference:") { // not a move into the agent's room
				out = append(out, c)
			}
		}
		return out
	}

	// P-2: the customer waits for an agent until the connect deadline (2 s), not a moment less.
	h.advance(1900 * time.Millisecond)
	if got := abandons(); len(got) != 0 || h.store.Outcome(waiting) != "in_progress" {
		t.Fatalf("abandoned before the deadline: %q, %s", got, h.store.Outcome(waiting))
	}
	h.clock.Advance(100 * time.Millisecond)
	h.waitFor("the waiting customer abandoned", func() bool { return h.store.Outcome(waiting) == "abandoned" })
	if got := abandons(); len(got) != 1 || got[0] != "api uuid_transfer "+h.customerLeg(waiting)+
		" 'm:^:playback:tone_stream://%(500,0,800)^hangup:NORMAL_CLEARING' inline" {
		t.Fatalf("abandon message: %q", got)
	}
	// The pacer sees the abandon at once: two live answers, one abandoned, in every window.
	if v, ok := h.in.eng.Pacing(h.job); !ok || v.Compliance.Rolling24h.Live != 2 || v.Compliance.Rolling24h.Abandoned != 1 ||
		v.Compliance.Day.Abandoned != 1 || v.Compliance.Rolling30d.Abandoned != 1 || v.Decision.Reason != "ratio" {
		t.Fatalf("pacing view %+v %v", v, ok)
	}
	h.hangupCustomer(1001)
	h.waitFor("the call put through recorded", func() bool { return h.store.Outcome(connected) == "connected" })
	h.waitState(1001, domain.AgentWrapUp)

	// P-3: with the agent free again, nothing is dialed before its retry wait (network failures
	// 5 minutes, busy and no answer 30 minutes); rejected, invalid, answered numbers never.
	h.dispose(1001, "complete", "continue")
	h.waitState(1001, domain.AgentAvailable)
	dialed := func() map[string]int {
		n := map[string]int{}
		for _, tel := range tels {
			n[tel] = len(h.store.Attempts(tel))
		}
		return n
	}
	h.passes(3)
	for tel, n := range dialed() {
		if n != 1 {
			t.Fatalf("%s dialed %d times before any retry wait passed", tel, n)
		}
	}
	h.clock.Advance(5 * time.Minute)
	h.waitFor("the network failure dialed again", func() bool {
		return len(h.store.Attempts("09055550004")) == 2 && h.store.Outcome("09055550004") == "network_failure"
	})
	h.clock.Advance(25 * time.Minute)
	h.waitFor("busy and no answer dialed again", func() bool {
		n := dialed()
		return n["09022220001"] == 2 && n["09033330002"] == 2 && n["09055550004"] == 3 &&
			h.store.Outcome("09022220001") == "busy" && h.store.Outcome("09033330002") == "no_answer"
	})
	h.passes(3)
	for tel, n := range dialed() {
		if want := map[string]int{"09022220001": 2, "09033330002": 2, "09055550004": 3}[tel]; n != max(want, 1) {
			t.Errorf("%s dialed %d times", tel, n)
		}
	}
}

// An originate's BACKGROUND_JOB -ERR after its customer answered is not the end of the call: the
// switch answers -ERR ORIGINATOR_CANCEL for a customer moved into a room before its originate
// returned, and the customer goes on talking (capture 11). The engine moves a customer once its
// originate has returned, or 0.5 s after the answer when that is slow to come, as here; the
// attempt is connected, with the talk time from the move to the customer's own hangup (G-2, P-3).
func TestOriginateCancelledAfterAnswer(t *testing.T) {
	t.Parallel()
	// Originates return 1 s after their answer: the agent's phone is in its room by then, the
	// customer's grace (on the engine's clock) ends long before.
	h := newHarness(t, harnessOptions{script: customers(fsim.Fate{Answer: true, Ring: 20 * time.Millisecond}),
		originateReturn: time.Second})
	h.join(1001)
	h.waitFor("the customer answered", func() bool {
		a := h.store.Attempts("09011110001")
		return len(a) == 1 && a[0].AnsweredAt != nil
	})
	customer := h.customerLeg("09011110001")
	h.passes(2)
	if got := h.commands("api uuid_transfer " + customer); len(got) != 0 {
		t.Fatalf("moved before its originate returned and before the grace: %q", got)
	}
	h.clock.Advance(500 * time.Millisecond)
	h.waitState(1001, domain.AgentOnCall)
	h.waitFor("the originate answered", func() bool {
		for _, r := range h.sw.History() {
			if r.UUID == customer && r.JobResult != "" {
				return true
			}
		}
		return false
	})
	for _, r := range h.sw.History() {
		if r.UUID == customer && r.JobResult != "-ERR ORIGINATOR_CANCEL" {
			t.Fatalf("the customer's originate answered %q: this test proves nothing", r.JobResult)
		}
	}
	h.clock.Advance(time.Second)
	h.sw.Hangup(customer, "NORMAL_CLEARING") // the customer puts the phone down
	h.waitFor("the call recorded", func() bool { return h.store.Outcome("09011110001") == "connected" })
	a := h.store.Attempts("09011110001")[0]
	if a.HangupCause != "NORMAL_CLEARING" || a.TalkSeconds == nil || *a.TalkSeconds != 1 ||
		!a.BridgedAt.Equal(a.AnsweredAt.Add(500*time.Millisecond)) || !a.EndedAt.Equal(a.AnsweredAt.Add(1500*time.Millisecond)) {
		t.Fatalf("attempt %+v: want answered, moved 0.5 s later, ended by its own hangup 1 s after that", a)
	}
	h.waitState(1001, domain.AgentWrapUp)
}

// A customer who hangs up at the instant it answers never takes the agent's phone with it: the
// agent stays in its room, available, and the calls are abandoned (P-2). (With uuid_bridge the
// switch hangs up the agent's leg in this race: docs/call-lifecycle.md.)
func TestCustomersLeavingAtAnswerKeepTheAgent(t *testing.T) {
	t.Parallel()
	tels := []string{"09011110011", "09011110012", "09011110013", "09011110014"}
	h := newHarness(t, harnessOptions{tels: tels,
		script: customers(fsim.Fate{Answer: true, Ring: 20 * time.Millisecond, HangupAtAnswer: true})})
	h.join(1001)
	h.waitFor("every customer's call recorded", func() bool {
		for _, tel := range tels {
			if o := h.store.Outcome(tel); o == "" || o == "in_progress" {
				return false
			}
		}
		return true
	})
	for _, tel := range tels {
		if got := h.store.Attempts(tel); len(got) != 1 || got[0].Outcome != "abandoned" || got[0].AgentID != nil {
			t.Errorf("%s: %+v, want one attempt abandoned without an agent", tel, got)
		}
	}
	leg := h.agentLeg(1001)
	if !h.inRoom(leg, leg) {
		t.Fatalf("agent's room %v", h.sw.Members(leg))
	}
	if a := h.agent(1001); a.State != domain.AgentAvailable || a.Leg != leg {
		t.Fatalf("agent %+v", a)
	}
}

// Issue 16 item 4 (screen-pop): call_offered and call_connected carry the contact's card, read
// by the claim: the agent's screen shows who is on the line without another request.
func TestCallEventsCarryTheContact(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}})
	h.join(1001)
	h.waitFor("the call connected", func() bool { return len(h.events.of(liveevents.CallConnected)) == 1 })
	ev := h.events.of(liveevents.CallConnected)[0]
	card, _ := ev.Data["contact"].(map[string]any)
	if ev.AgentID != 1001 || card == nil || card["name"] != "Customer "+tel || card["kana"] != "カスタマー" || card["tel"] != tel ||
		card["remarks"] != "remarks of "+tel || card["previous_attempts"] != 0 || card["last_outcome"] != nil || card["last_attempt_at"] != nil {
		t.Fatalf("call_connected %+v", ev)
	}
	if offered := h.events.of(liveevents.CallOffered); len(offered) != 1 || offered[0].Data["contact"] == nil {
		t.Fatalf("call_offered %+v", offered)
	}
}
