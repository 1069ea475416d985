package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// The agent's desk (issue 16): preview and manual dialing, hold, transfers and conferences,
// through the engine and the simulated switch.

// desk configures campaign 1 for the desk: pacing mode (preview or another), a 30 s preview
// limit with the default skip reasons, and an outside number agents may transfer to.
func desk(mode string) func(*config.Config) {
	return func(cfg *config.Config) {
		c := &cfg.Campaigns[0]
		c.Pacing.Mode = mode
		c.Preview = config.Preview{TimeLimit: 30 * time.Second, SkipReasons: config.DefaultSkipReasons()}
		c.Transfer.AllowedNumbers = []string{outsideNumber}
	}
}

const outsideNumber = "0355550000"

// callOutside asks, for agent 1001, a transfer (blind or a consult) or a conference with the
// outside number, and returns the leg the engine dialed for it.
func (h *harness) callOutside(kind domain.RequestKind, blind bool) string {
	h.t.Helper()
	target := agentstate.Target{Kind: domain.TargetNumber, Number: outsideNumber}
	h.ask(agentstate.Request{AgentID: 1001, Kind: kind, Target: &target, Blind: blind, By: "agent1"})
	h.waitFor("the number dialed", func() bool { return len(h.originates("loopback/"+outsideNumber+"/")) == 1 })
	return legOf(h.originates("loopback/" + outsideNumber + "/")[0])
}

func (h *harness) ask(r agentstate.Request) { h.agents.Push(h.job, r) }

// stepKinds are the kinds of the attempt's recorded steps.
func (h *harness) stepKinds(attemptID int64) []domain.StepKind {
	a, _ := h.store.Attempt(attemptID)
	var out []domain.StepKind
	for _, s := range a.Steps {
		out = append(out, s.Kind)
	}
	return out
}

func (h *harness) waitSteps(attemptID int64, want ...domain.StepKind) {
	h.t.Helper()
	h.waitFor("steps "+stepsText(want), func() bool { return slices.Equal(h.stepKinds(attemptID), want) })
}

func stepsText(s []domain.StepKind) string {
	var parts []string
	for _, k := range s {
		parts = append(parts, string(k))
	}
	return strings.Join(parts, ",")
}

// consultAgent1002 joins agent 1002 and has agent 1001 consult it; it returns 1002's phone and
// the loopback pair's near leg the engine dialed into 1001's room.
func (h *harness) consultAgent1002() (phone2, pair string) {
	h.t.Helper()
	h.join(1002)
	h.waitState(1002, domain.AgentAvailable)
	phone2 = h.agentLeg(1002)
	target := agentstate.Target{Kind: domain.TargetAgent, AgentID: 1002}
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestTransfer, Target: &target, By: "agent1"})
	h.waitFor("the pair dialed", func() bool { return len(h.originates("loopback/conference:"+phone2+"@default/")) == 1 })
	return phone2, legOf(h.originates("loopback/conference:" + phone2 + "@default/")[0])
}

// deskCall is a harness whose campaign 1 has the desk's settings, with agent 1001 talking to
// the customer tel (connected).
func deskCall(t *testing.T, tel string) (h *harness, attempt int64, customer, phone string) {
	t.Helper()
	h = newHarness(t, harnessOptions{tels: []string{tel}, configure: desk(config.PacingPredictive)})
	attempt, customer, phone = h.connected(tel)
	return h, attempt, customer, phone
}

// connected joins agent 1001, lets pacing dial the job's one customer and waits until the two
// talk in the agent's room; it returns the attempt, the customer's leg and the agent's.
func (h *harness) connected(tel string) (attempt int64, customer, phone string) {
	h.t.Helper()
	h.join(1001)
	h.waitState(1001, domain.AgentAvailable)
	phone = h.agentLeg(1001)
	h.waitFor("the customer with the agent", func() bool {
		return len(h.store.Attempts(tel)) == 1 && h.store.Attempts(tel)[0].BridgedAt != nil
	})
	customer = h.customerLeg(tel)
	h.waitFor("both in the room", func() bool { return h.inRoom(phone, phone, customer) })
	return h.store.Attempts(tel)[0].ID, customer, phone
}

// Issue 16 item 1: a preview job shows each agent its next contact, claimed (P-5) and not
// dialed; a skip records the reason and shows the next one; the agent's dial places the call,
// which reaches that agent.
func TestPreviewSkipThenDial(t *testing.T) {
	t.Parallel()
	tels := []string{"09011110001", "09011110002"}
	h := newHarness(t, harnessOptions{tels: tels, configure: desk(config.PacingPreview)})
	h.join(1001)
	st := h.waitState(1001, domain.AgentPreview)
	if st.Preview == nil || st.Preview.Tel != tels[0] || st.AttemptID != st.Preview.AttemptID {
		t.Fatalf("preview %+v", st)
	}
	if !st.Preview.DialAt.Equal(h.clock.Now().Add(30 * time.Second)) {
		t.Fatalf("dial at %s, want 30 s from now", st.Preview.DialAt)
	}
	h.passes(3)
	if n := h.customersDialed(); n != 0 {
		t.Fatalf("%d customers dialed before the agent chose", n)
	}
	if ev := h.events.of(liveevents.PreviewOffered); len(ev) != 1 || ev[0].AgentID != 1001 {
		t.Fatalf("preview_offered events %+v", ev)
	}

	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestPreviewSkip, AttemptID: st.Preview.AttemptID, Reason: "wrong_data", By: "agent1"})
	h.waitFor("the next contact shown", func() bool {
		p := h.agent(1001).Preview
		return p != nil && p.Tel == tels[1]
	})
	h.waitFor("the skip recorded", func() bool { return h.store.Outcome(tels[0]) == domain.OutcomeSkipped })
	skipped := h.store.Attempts(tels[0])[0]
	if skipped.Outcome != domain.OutcomeSkipped || skipped.SkipReason != "preview:wrong_data" {
		t.Fatalf("skipped attempt %+v", skipped)
	}
	h.waitSteps(skipped.ID, domain.StepPreviewSkipped)

	next := h.agent(1001).Preview.AttemptID
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestPreviewDial, AttemptID: next, By: "agent1"})
	h.waitFor("the second contact with its agent", func() bool {
		a := h.store.Attempts(tels[1])
		return len(a) == 1 && a[0].BridgedAt != nil && a[0].AgentID != nil && *a[0].AgentID == 1001
	})
	a, _ := h.store.Attempt(next)
	if a.Kind != domain.DialPreview || a.DialedAt == nil {
		t.Fatalf("dialed preview %+v", a)
	}
	if n := h.customersDialed(); n != 1 {
		t.Fatalf("%d customers dialed, want the one the agent chose", n)
	}
}

// Issue 16 item 1: a preview nobody decides on is dialed at the time limit.
func TestPreviewTimeLimitDials(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: desk(config.PacingPreview)})
	h.join(1001)
	st := h.waitState(1001, domain.AgentPreview)
	h.advance(29 * time.Second)
	h.passes(3)
	if n := h.customersDialed(); n != 0 {
		t.Fatalf("dialed before the limit")
	}
	h.advance(time.Second)
	h.waitFor("the customer with its agent", func() bool {
		a := h.store.Attempts(tel)
		return len(a) == 1 && a[0].BridgedAt != nil
	})
	h.waitSteps(st.Preview.AttemptID, domain.StepPreviewAutoDialed)
}

// Issue 16 item 1: an agent who takes a break while a contact is shown gives it back
// untouched: no attempt stays, the contact is dialed later as if never shown.
func TestPreviewGivenBackOnBreak(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: desk(config.PacingPreview)})
	h.join(1001)
	h.waitState(1001, domain.AgentPreview)
	h.request(1001, domain.RequestState, domain.AgentBreak)
	h.waitState(1001, domain.AgentBreak)
	h.waitFor("the preview given back", func() bool { return len(h.store.Attempts(tel)) == 0 })
	if st := h.agent(1001); st.Preview != nil || st.AttemptID != 0 {
		t.Fatalf("on break with %+v", st)
	}
}

// Issue 16 item 2: a manual dial is an attempt of the job, tied to its agent; a number on a
// do-not-call list is refused (N-1) and the agent is free again.
func TestManualDial(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tels: []string{}, configure: desk(config.PacingPredictive)})
	h.store.AddDoNotCall("0399990001")
	h.join(1001)
	h.waitState(1001, domain.AgentAvailable)

	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestManualDial, Tel: "0399990001", By: "agent1"})
	h.waitFor("the refusal", func() bool { return len(h.events.of(liveevents.DialRefused)) == 1 })
	if ev := h.events.of(liveevents.DialRefused)[0]; ev.Data["reason"] != "do_not_call" {
		t.Fatalf("refusal %+v", ev)
	}
	h.waitState(1001, domain.AgentAvailable)

	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestManualDial, Tel: "0399990002", CallerID: "0312345678", By: "agent1"})
	h.waitFor("the customer with its agent", func() bool {
		a := h.store.Attempts("0399990002")
		return len(a) == 1 && a[0].BridgedAt != nil && a[0].AgentID != nil && *a[0].AgentID == 1001
	})
	a := h.store.Attempts("0399990002")[0]
	if a.Kind != domain.DialManual || a.ContactID != 0 || a.RequestedBy != "agent1" || a.CallerID != "0312345678" {
		t.Fatalf("manual attempt %+v", a)
	}
}

// Issue 16 item 3: hold moves the customer to hold music in a room of its own, and back.
func TestHoldAndResume(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)

	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestHold, By: "agent1"})
	h.waitFor("the customer on hold", func() bool { return h.inRoom(customer+"-hold", customer) && h.inRoom(phone, phone) })
	h.waitFor("the agent's state shows it", func() bool { c := h.agent(1001).Call; return c != nil && c.Held })
	if m := h.sw.HoldMusic(customer + "-hold"); m != "local_stream://moh" {
		t.Fatalf("the customer's hold room plays %q", m)
	}

	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestUnhold, By: "agent1"})
	h.waitFor("the customer back", func() bool { return h.inRoom(phone, phone, customer) })
	h.waitSteps(attempt, domain.StepHold, domain.StepUnhold)
	if c := h.agent(1001).Call; c != nil {
		t.Fatalf("call status %+v after resuming", c)
	}
}

// Issue 16 item 3: a consult with an allowed outside number: the customer holds while the
// agent talks to the number, swap turns the agent round, finish hands the customer over (both
// in a room of their own) and the agent goes to wrap-up; when the number hangs up the customer
// is hung up and the call is connected, its talk time running to that end.
func TestConsultOutsideNumberFinish(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)

	party := h.callOutside(domain.RequestTransfer, false)
	h.waitFor("agent and number together, the customer on hold", func() bool {
		return h.inRoom(phone, phone, party) && h.inRoom(customer+"-hold", customer)
	})
	h.waitFor("talking to the party", func() bool {
		c := h.agent(1001).Call
		return c != nil && c.Held && c.Party != nil && c.Party.State == "talking" && c.Party.Mode == "consult"
	})

	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestConsultSwap, By: "agent1"})
	h.waitFor("swapped", func() bool { return h.inRoom(phone, phone, customer) && h.inRoom(party+"-hold", party) })

	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestConsultFinish, By: "agent1"})
	h.waitFor("customer and number together", func() bool {
		m := h.sw.Members(customer + "-xfer")
		return len(m) == 2 && slices.Contains(m, customer) && slices.Contains(m, party) && h.inRoom(phone, phone)
	})
	st := h.waitState(1001, domain.AgentWrapUp)
	if st.AttemptID != 0 || st.Call != nil {
		t.Fatalf("agent after the transfer %+v", st)
	}
	if ev := h.events.of(liveevents.TransferCompleted); len(ev) != 1 || ev[0].AgentID != 1001 {
		t.Fatalf("transfer_completed %+v", ev)
	}

	h.sw.Hangup(party, "NORMAL_CLEARING")
	h.waitFor("the call over", func() bool { return h.store.Outcome(tel) == domain.OutcomeConnected })
	if h.up(customer) {
		t.Fatal("the customer left alone in the transfer's room")
	}
	h.waitSteps(attempt, domain.StepConsult, domain.StepConsultAnswered, domain.StepSwap, domain.StepTransferred)
	a, _ := h.store.Attempt(attempt)
	if a.AgentID == nil || *a.AgentID != 1001 {
		t.Fatalf("attempt agent %v", a.AgentID)
	}
}

// Issue 16 item 3: a consult cancelled brings the customer back and hangs the party up.
func TestConsultCancel(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)
	party := h.callOutside(domain.RequestTransfer, false)
	h.waitFor("agent and number together", func() bool { return h.inRoom(phone, phone, party) })
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestConsultCancel})
	h.waitFor("the customer back, the number gone", func() bool { return h.inRoom(phone, phone, customer) && !h.up(party) })
	h.waitSteps(attempt, domain.StepConsult, domain.StepConsultAnswered, domain.StepConsultCancelled)
	if st := h.agent(1001); st.State != domain.AgentOnCall || st.Call != nil {
		t.Fatalf("agent %+v", st)
	}
}

// Issue 16 item 3: a blind transfer to an outside number hands the customer over when the
// number answers; the agent goes to wrap-up at once then.
func TestBlindTransferOutside(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)
	party := h.callOutside(domain.RequestTransfer, true)
	h.waitFor("customer and number together", func() bool {
		m := h.sw.Members(customer + "-xfer")
		return len(m) == 2 && slices.Contains(m, customer) && slices.Contains(m, party) && h.inRoom(phone, phone)
	})
	h.waitState(1001, domain.AgentWrapUp)
	h.waitSteps(attempt, domain.StepConsultAnswered, domain.StepTransferred)
	h.sw.Hangup(customer, "NORMAL_CLEARING")
	h.waitFor("the number hung up after the customer", func() bool { return !h.up(party) })
	h.waitFor("the call over", func() bool { return h.store.Outcome(tel) == domain.OutcomeConnected })
}

// Issue 16 item 3: a three-way conference: the party joins the agent and the customer; its
// end leaves the two talking.
func TestConference(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)
	party := h.callOutside(domain.RequestConference, false)
	h.waitFor("three in the room", func() bool { return h.inRoom(phone, phone, customer, party) })
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestConferenceEnd})
	h.waitFor("two again", func() bool { return h.inRoom(phone, phone, customer) && !h.up(party) })
	h.waitSteps(attempt, domain.StepConference, domain.StepConferenceJoined, domain.StepConferenceEnded)
}

var _ = store.AttemptStep{}

// failing is a script where the outside number is busy; everyone else answers and stays.
func failing() fsim.Script {
	return func(dial string) fsim.Fate {
		if strings.Contains(dial, "/"+outsideNumber+"/") {
			return fsim.Fate{Ring: 20 * time.Millisecond, Cause: "USER_BUSY"}
		}
		return fsim.Fate{Answer: true, Ring: 20 * time.Millisecond}
	}
}

// Issue 16 item 3: a blind transfer whose number does not answer brings the customer back to
// its agent, who never left the call.
func TestBlindTransferFails(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, script: failing(), configure: desk(config.PacingPredictive)})
	attempt, customer, phone := h.connected(tel)
	target := agentstate.Target{Kind: domain.TargetNumber, Number: outsideNumber}
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestTransfer, Target: &target, Blind: true})
	h.waitFor("the failure", func() bool { return len(h.events.of(liveevents.TransferFailed)) == 1 })
	h.waitFor("the customer back", func() bool { return h.inRoom(phone, phone, customer) })
	h.waitSteps(attempt, domain.StepTransferFailed)
	if st := h.agent(1001); st.State != domain.AgentOnCall || st.Call != nil {
		t.Fatalf("agent %+v", st)
	}
}

// Issue 16 item 3: the customer hangs up during a consult: the party is hung up, the agent
// goes to wrap-up with the call to dispose of.
func TestCustomerLeavesDuringConsult(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)
	party := h.callOutside(domain.RequestTransfer, false)
	h.waitFor("agent and number together", func() bool { return h.inRoom(phone, phone, party) })
	h.sw.Hangup(customer, "NORMAL_CLEARING")
	st := h.waitState(1001, domain.AgentWrapUp)
	if st.AttemptID != attempt || st.Call != nil {
		t.Fatalf("agent %+v", st)
	}
	h.waitFor("the number hung up", func() bool { return !h.up(party) })
	if h.store.Outcome(tel) != domain.OutcomeConnected {
		t.Fatalf("outcome %s", h.store.Outcome(tel))
	}
}

// Issue 16 item 3: a supervisor of the campaign is reached at its first endpoint; a number
// not on the allow-list is refused without dialing anything.
func TestConferenceSupervisorAndRefusedNumber(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: func(cfg *config.Config) {
		desk(config.PacingPredictive)(cfg)
		cfg.Users = []config.User{{Name: "sv1", Role: config.RoleSupervisor, CampaignIDs: []int{1},
			SupervisorEndpoints: []string{"loopback/sv-desk/agents"}}}
	}})
	attempt, customer, phone := h.connected(tel)
	bad := agentstate.Target{Kind: domain.TargetNumber, Number: "0366660000"}
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestConference, Target: &bad})
	h.waitFor("the refusal", func() bool { return len(h.events.of(liveevents.TransferFailed)) == 1 })
	sv := agentstate.Target{Kind: domain.TargetSupervisor, Supervisor: "sv1"}
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestConference, Target: &sv})
	h.waitFor("the supervisor dialed", func() bool { return len(h.originates("loopback/sv-desk/")) == 1 })
	party := legOf(h.originates("loopback/sv-desk/")[0])
	h.waitFor("three in the room", func() bool { return h.inRoom(phone, phone, customer, party) })
	h.sw.Hangup(party, "NORMAL_CLEARING")
	h.waitSteps(attempt, domain.StepConference, domain.StepConferenceJoined, domain.StepConferenceEnded)
	if len(h.originates("loopback/0366660000/")) != 0 {
		t.Fatal("a number off the allow-list was dialed")
	}
}

// Issue 16 item 3: a blind transfer to another agent of the job moves the customer straight
// into that agent's room; the call, its wrap-up and its disposition become that agent's.
func TestBlindTransferToAgent(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)
	h.join(1002)
	h.waitState(1002, domain.AgentAvailable)
	phone2 := h.agentLeg(1002)
	target := agentstate.Target{Kind: domain.TargetAgent, AgentID: 1002}
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestTransfer, Target: &target, Blind: true, By: "agent1"})
	h.waitFor("the customer with the other agent", func() bool { return h.inRoom(phone2, phone2, customer) && h.inRoom(phone, phone) })
	if st := h.waitState(1001, domain.AgentWrapUp); st.AttemptID != 0 {
		t.Fatalf("the first agent keeps attempt %d", st.AttemptID)
	}
	if st := h.waitState(1002, domain.AgentOnCall); st.AttemptID != attempt {
		t.Fatalf("the second agent on attempt %d, want %d", st.AttemptID, attempt)
	}
	h.hangupCustomer(1002)
	if st := h.waitState(1002, domain.AgentWrapUp); st.AttemptID != attempt {
		t.Fatalf("the second agent wraps up attempt %d", st.AttemptID)
	}
	a, _ := h.store.Attempt(attempt)
	if a.AgentID == nil || *a.AgentID != 1002 || a.Outcome != domain.OutcomeConnected {
		t.Fatalf("attempt %+v", a)
	}
	h.waitSteps(attempt, domain.StepTransferred)
}

// Issue 16 item 3: a consult lives in its owner's memory; the instance that takes the job over
// hangs the party up and brings the held customer back to its agent.
func TestTakeoverSettlesConsult(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, _, customer, phone := deskCall(t, tel)
	party := h.callOutside(domain.RequestTransfer, false)
	h.waitFor("the agent's state shows the consult", func() bool {
		c := h.agent(1001).Call
		return c != nil && c.Held && c.Party != nil && c.Party.Leg == party && c.Party.State == "talking"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	h.in.eng.Drain(ctx)
	cancel()
	h.in.stop()
	next := h.startInstance("engine-2")
	h.waitFor("the call adopted", func() bool { return next.eng.CallsInFlight() == 1 })
	h.waitFor("the party gone, the customer back", func() bool { return !h.up(party) && h.inRoom(phone, phone, customer) })
}

// Issue 16 item 1: a preview shown when the instance stopped is given back by the next owner,
// never dialed as if its originate had been lost.
func TestTakeoverGivesBackPreview(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, configure: desk(config.PacingPreview)})
	h.join(1001)
	first := h.waitState(1001, domain.AgentPreview).Preview.AttemptID
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	h.in.eng.Drain(ctx)
	cancel()
	h.in.stop()
	h.startInstance("engine-2")
	h.waitFor("the preview given back and shown anew", func() bool {
		p := h.agent(1001).Preview
		return p != nil && p.AttemptID != first && len(h.store.Attempts(tel)) == 1
	})
	if n := h.customersDialed(); n != 0 {
		t.Fatalf("%d customers dialed", n)
	}
}

// Issue 16 item 3: a consult with another agent of the job joins the two agents' rooms through
// a loopback pair (nobody's phone moves) while the customer holds; completing it moves the
// customer into the other agent's room, hangs the pair up, and makes the call that agent's.
func TestConsultAgentFinish(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)
	phone2, pair := h.consultAgent1002()
	var far string // the pair's far leg: it exists a moment after the originate is received
	h.waitFor("the rooms joined, the customer on hold", func() bool {
		far = h.sw.LoopbackPeer(pair)
		return far != "" && h.inRoom(phone, phone, pair) && h.inRoom(phone2, phone2, far) && h.inRoom(customer+"-hold", customer)
	})
	if st := h.waitState(1002, domain.AgentOnCall); st.Call == nil || st.Call.Party == nil || st.Call.Party.Mode != "incoming" ||
		st.Call.Party.Target.AgentID != 1001 {
		t.Fatalf("the consulted agent %+v", st)
	}
	h.waitFor("talking", func() bool { c := h.agent(1001).Call; return c != nil && c.Party != nil && c.Party.State == "talking" })
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestConsultFinish, By: "agent1"})
	h.waitFor("the customer with the other agent, the pair gone", func() bool {
		return h.inRoom(phone2, phone2, customer) && h.inRoom(phone, phone) && !h.up(pair) && !h.up(far)
	})
	if st := h.waitState(1001, domain.AgentWrapUp); st.AttemptID != 0 {
		t.Fatalf("first agent %+v", st)
	}
	h.waitFor("the call the other agent's", func() bool { st := h.agent(1002); return st.AttemptID == attempt && st.Call == nil })
	h.hangupCustomer(1002)
	if st := h.waitState(1002, domain.AgentWrapUp); st.AttemptID != attempt {
		t.Fatalf("second agent %+v", st)
	}
	h.waitSteps(attempt, domain.StepConsult, domain.StepConsultAnswered, domain.StepTransferred)
}

// Issue 16 item 3: the consulted agent's phone drops: the pair is hung up and the customer is
// back with the first agent.
func TestConsultedAgentDrops(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h, attempt, customer, phone := deskCall(t, tel)
	phone2, pair := h.consultAgent1002()
	h.waitFor("the rooms joined", func() bool { return h.inRoom(phone, phone, pair) })
	h.sw.Hangup(phone2, "NORMAL_CLEARING")
	h.waitLoggedOff(1002)
	h.waitFor("the customer back, the pair gone", func() bool { return h.inRoom(phone, phone, customer) && !h.up(pair) })
	h.waitSteps(attempt, domain.StepConsult, domain.StepConsultAnswered, domain.StepConsultCancelled)
}

// Issue 16 item 1, J-6: a preview still shown at business end is not dialed, though the agent
// asks: the job stopped, and no call is placed after its end.
func TestPreviewNotDialedAfterBusinessEnd(t *testing.T) {
	t.Parallel()
	const tel = "09011110001"
	h := newHarness(t, harnessOptions{tels: []string{tel}, campaign: 2, configure: func(cfg *config.Config) {
		c := &cfg.Campaigns[1]
		c.Pacing.Mode = config.PacingPreview
		c.Preview = config.Preview{TimeLimit: 30 * time.Second, SkipReasons: config.DefaultSkipReasons()}
	}, start: time.Date(2026, 11, 30, 17, 59, 0, 0, tokyo)}) // a Monday, a minute before 18:00
	h.join(1001)
	st := h.waitState(1001, domain.AgentPreview)
	h.advance(time.Minute) // 18:00: the job stops at business end (J-6)
	h.ask(agentstate.Request{AgentID: 1001, Kind: domain.RequestPreviewDial, AttemptID: st.Preview.AttemptID})
	h.advance(time.Minute)
	h.passes(5)
	if n := h.customersDialed(); n != 0 {
		t.Fatalf("%d customers dialed after hours", n)
	}
}
