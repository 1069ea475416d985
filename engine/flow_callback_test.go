package engine_test

import (
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// callbackGrace sets campaign id's callback_grace (S-2).
func callbackGrace(id int, d time.Duration) func(*config.Config) {
	return func(cfg *config.Config) {
		for i := range cfg.Campaigns {
			if cfg.Campaigns[i].ID == id {
				cfg.Campaigns[i].CallbackGrace = d
			}
		}
	}
}

// disposeAs is dispose with the disposition's other number and callback time (D-1, S-2).
func (h *harness) disposeAs(agent int, d memDisposition, after string) {
	h.t.Helper()
	st := h.agent(agent)
	if st.State != domain.AgentWrapUp || st.AttemptID == 0 {
		h.t.Fatalf("agent %d has no call to dispose: %+v", agent, st)
	}
	// Wrap-up is told once the outcome is written (TestWrapUpToldAfterTheOutcomeIsWritten):
	// the call is recorded already.
	if a, _ := h.store.Attempt(st.AttemptID); a.Outcome == domain.OutcomeInProgress {
		h.t.Fatalf("agent %d in wrap-up while attempt %d is in progress", agent, st.AttemptID)
	}
	if !h.store.DisposeAs(st.AttemptID, d, h.clock.Now()) {
		h.t.Fatalf("attempt %d is not a connected call without disposition", st.AttemptID)
	}
	kind, state, ok := domain.AfterWrapUp(after).Request()
	if !ok {
		h.t.Fatalf("after %q", after)
	}
	h.request(agent, kind, state)
}

// noAttempts fails the test when the numbers were dialed, after a few loop passes.
func (h *harness) noAttempts(why string, tels ...string) {
	h.t.Helper()
	h.passes(3)
	for _, tel := range tels {
		if n := len(h.store.Attempts(tel)); n != 0 {
			h.t.Fatalf("%s: %s dialed %d times", why, tel, n)
		}
	}
}

// S-2, issue 14 item 4: a due callback goes to the agent who promised it, though another agent
// has been free longer; with no grace configured, to the agent free the longest as any call.
func TestCallbackGoesToItsAgent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		grace time.Duration
		want  int
	}{{"in its grace", 5 * time.Minute, 1002}, {"without a grace", 0, 1001}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const tel = "09011110001"
			h := newHarness(t, harnessOptions{tels: []string{tel}, configure: callbackGrace(1, tc.grace)})
			due := h.clock.Now().Add(time.Minute)
			h.store.AddCallback(tel, 1002, due)
			h.join(1001)
			h.waitState(1001, domain.AgentAvailable)
			h.advance(time.Second) // agent 1001 is the one free the longest
			h.join(1002)
			h.waitState(1002, domain.AgentAvailable)
			h.noAttempts("before its due time", tel)

			h.advance(time.Minute)
			on := h.waitState(tc.want, domain.AgentOnCall)
			if a := h.store.Attempts(tel); len(a) != 1 || a[0].ID != on.AttemptID {
				t.Fatalf("agent %d on attempt %d; attempts to the callback %+v", tc.want, on.AttemptID, a)
			}
			h.waitFor("the customer with its agent", func() bool {
				a := h.store.Attempts(tel)[0]
				return a.AgentID != nil && *a.AgentID == tc.want
			})
			other := 1001 + 1002 - tc.want
			if st := h.agent(other); st.State != domain.AgentAvailable {
				t.Fatalf("agent %d %s, want available", other, st.State)
			}
		})
	}
}

// S-2: the callback's agent is not in the job: the callback waits out the grace, then goes to
// any agent of the job.
func TestCallbackWaitsOutTheGrace(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: callbackGrace(1, 5*time.Minute)})
	due := h.clock.Now().Add(time.Minute)
	h.store.AddCallback(tel, 1002, due)
	h.join(1001)
	h.waitState(1001, domain.AgentAvailable)
	h.advance(time.Minute)
	h.noAttempts("at its due time, for another agent", tel)
	h.advance(5*time.Minute - time.Second)
	h.noAttempts("a second before the grace ends", tel)
	h.advance(time.Second)
	on := h.waitState(1001, domain.AgentOnCall)
	if a := h.store.Attempts(tel); len(a) != 1 || a[0].ID != on.AttemptID {
		t.Fatalf("agent 1001 on attempt %d; attempts to the callback %+v", on.AttemptID, a)
	}
}

// S-2, P-1: an agent whose callback rings is reserved for it: pacing dials nothing more for it
// (ratio pacing, 3 calls per free agent), and the customers who answer meanwhile go to another
// agent or wait, never to it.
func TestCallbackReservesItsAgent(t *testing.T) {
	t.Parallel()
	const callback = "09011110001"
	fresh := []string{"09022220001", "09022220002", "09022220003", "09022220004"}
	grace, ratio := callbackGrace(1, 5*time.Minute), pacing(1, "ratio", 3)
	h := newHarness(t, harnessOptions{tels: []string{callback}, configure: func(c *config.Config) { grace(c); ratio(c) },
		script: func(dial string) fsim.Fate {
			if dial == "loopback/"+callback+"/customers" {
				return fsim.Fate{Cause: "NO_ANSWER"} // rings until the originate's timeout
			}
			return fsim.Fate{Answer: true, Ring: 20 * time.Millisecond}
		}})
	h.store.AddCallback(callback, 1002, h.clock.Now().Add(time.Minute))
	h.join(1002)
	h.waitState(1002, domain.AgentAvailable)
	h.advance(time.Minute)
	h.waitFor("the callback dialed", func() bool { return len(h.store.Attempts(callback)) == 1 })
	h.store.AddContacts(h.job, fresh...)
	h.noAttempts("for an agent reserved for its callback", fresh...)

	h.join(1001)
	on := h.waitState(1001, domain.AgentOnCall)
	var answered []memAttempt
	h.waitFor("the fresh customers dialed for agent 1001 answered", func() bool {
		answered = nil
		for _, tel := range fresh {
			for _, a := range h.store.Attempts(tel) {
				if a.AnsweredAt != nil {
					answered = append(answered, a)
				}
			}
		}
		return len(answered) >= 3 // three calls for agent 1001
	})
	h.passes(3)
	if st := h.agent(1002); st.State != domain.AgentAvailable || st.AttemptID != 0 {
		t.Fatalf("agent 1002 reserved for its callback is %+v; agent 1001 is on attempt %d", st, on.AttemptID)
	}
	if a := h.store.Attempts(callback); len(a) != 1 || a[0].Outcome != domain.OutcomeInProgress {
		t.Fatalf("the callback %+v", a)
	}
}

// D-1, S-2, issue 14 item 4: a callback the agent saved with another number (電話番号(その他))
// dials that number, tied to the agent; the attempt records it.
func TestCallbackDialsTheOtherNumber(t *testing.T) {
	t.Parallel()
	const tel, other = "09011110001", "08012345678"
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: callbackGrace(1, 5*time.Minute)})
	h.join(1001)
	first := h.waitState(1001, domain.AgentOnCall)
	h.hangupCustomer(1001)
	h.waitState(1001, domain.AgentWrapUp)
	h.disposeAs(1001, memDisposition{NextAction: "callback", OtherTel: other, CallbackAt: h.clock.Now().Add(time.Minute)}, "continue")
	h.waitState(1001, domain.AgentAvailable)
	h.noAttempts("before the callback's time", other)

	h.advance(time.Minute)
	second := h.waitState(1001, domain.AgentOnCall)
	a := h.store.Attempts(other)
	if second.AttemptID == first.AttemptID || len(a) != 1 || a[0].ID != second.AttemptID || a[0].ContactID != h.store.Attempts(tel)[0].ContactID {
		t.Fatalf("agent on attempt %d; attempts to the other number %+v", second.AttemptID, a)
	}
	if n := len(h.originates("loopback/" + other + "/customers")); n != 1 {
		t.Fatalf("the other number originated %d times", n)
	}
	if n := len(h.store.Attempts(tel)); n != 1 {
		t.Fatalf("the list's number dialed %d times", n)
	}
}

// S-2, P-2: the callback's own agent went on a break while the callback rang: the customer who
// answers goes to another free agent rather than waiting to be abandoned.
func TestCallbackGoesToAnotherAgentWhenItsOwnIsAway(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: callbackGrace(1, 5*time.Minute),
		script: customers(fsim.Fate{Answer: true, Ring: time.Second})})
	h.store.AddCallback(tel, 1002, h.clock.Now().Add(time.Minute))
	h.join(1001)
	h.waitState(1001, domain.AgentAvailable)
	h.advance(time.Second)
	h.join(1002)
	h.waitState(1002, domain.AgentAvailable)
	h.advance(time.Minute)
	h.waitFor("the callback dialed", func() bool { return len(h.store.Attempts(tel)) == 1 })
	h.request(1002, domain.RequestState, domain.AgentBreak)
	h.waitState(1002, domain.AgentBreak)
	if a := h.store.Attempts(tel)[0]; a.AnsweredAt != nil {
		t.Fatalf("the callback answered before its agent's break was taken (a ring of 1 s): %+v", a)
	}
	on := h.waitState(1001, domain.AgentOnCall)
	if a := h.store.Attempts(tel); len(a) != 1 || a[0].ID != on.AttemptID {
		t.Fatalf("agent 1001 on attempt %d; attempts to the callback %+v", on.AttemptID, a)
	}
}
