package engine_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// A customer's move into its agent's room (uuid_transfer … conference: inline) that goes wrong.

// interceptFirstMove answers the first move of a customer into a room with a in the switch's
// place; every later command goes to the switch.
func interceptFirstMove(h *harness, a *apiAnswer) {
	var done atomic.Bool
	h.tap.Intercept(func(cmd string) *apiAnswer {
		if strings.HasPrefix(cmd, "uuid_transfer ") && strings.Contains(cmd, "'m:^:conference:") && done.CompareAndSwap(false, true) {
			return a
		}
		return nil
	})
}

// moves are the moves into a room the engine sent, and those the switch received.
func (h *harness) moves() (sent, received int) {
	for _, c := range h.tap.Sent("uuid_transfer ") {
		if strings.Contains(c, "'m:^:conference:") {
			sent++
		}
	}
	for _, c := range h.commands("api uuid_transfer ") {
		if strings.Contains(c, "'m:^:conference:") {
			received++
		}
	}
	return sent, received
}

// G-2 with a move the switch refuses (the customer not in a state to be moved): the agent is
// free again and the customer, still waiting within its connect deadline, is moved again.
func TestMoveRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	interceptFirstMove(h, &apiAnswer{err: &freeswitch.CommandError{Command: "uuid_transfer", Reply: "-ERR Operation failed"}})
	h.join(1001)
	on := h.waitState(1001, domain.AgentOnCall)
	customer, leg := h.customerLeg("09011110001"), h.agentLeg(1001)
	if sent, received := h.moves(); sent != 2 || received != 1 || !h.inRoom(leg, leg, customer) {
		t.Fatalf("%d moves sent, %d reached the switch, room %v: want the refused one sent again", sent, received, h.sw.Members(leg))
	}
	h.hangupCustomer(1001)
	h.waitFor("the call recorded", func() bool { return h.store.Outcome("09011110001") == "connected" })
	if a := h.store.Attempts("09011110001")[0]; a.ID != on.AttemptID || a.AgentID == nil || *a.AgentID != 1001 {
		t.Fatalf("attempt %+v", a)
	}
}

// G-2 with a move the switch loses (it answers +OK and the customer stays parked, as a transfer
// overridden by the originate's own &park() does): not in the room a second later, the engine
// asks the switch where the customer is (uuid_getvar conference_name), frees the agent, and the
// customer, within its connect deadline, is moved again (P-2, issue 11).
func TestMoveLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	interceptFirstMove(h, &apiAnswer{reply: "+OK\n"})
	h.join(1001)
	h.waitFor("the customer's move sent", func() bool { sent, _ := h.moves(); return sent == 1 })
	customer, leg := h.customerLeg("09011110001"), h.agentLeg(1001)
	h.waitState(1001, domain.AgentAvailable)
	h.passes(2)
	if a := h.agent(1001); a.State != domain.AgentAvailable || !h.inRoom(leg, leg) {
		t.Fatalf("agent %+v, room %v: shown on a call before the customer is in its room", a, h.sw.Members(leg))
	}
	h.clock.Advance(time.Second) // the move's timeout; the connect deadline (2 s) is not past
	h.waitState(1001, domain.AgentOnCall)
	if got := h.tap.Sent("uuid_getvar " + customer + " conference_name"); len(got) != 1 {
		t.Fatalf("the lost move was asked about %d times", len(got))
	}
	if sent, received := h.moves(); sent != 2 || received != 1 || !h.inRoom(leg, leg, customer) {
		t.Fatalf("%d moves sent, %d reached the switch, room %v", sent, received, h.sw.Members(leg))
	}
	if o := h.store.Outcome("09011110001"); o != "in_progress" {
		t.Fatalf("the customer's call %s", o)
	}
}

// G-2 with the agent's phone gone and its events lost: the customer moved into the agent's room
// finds it empty (the switch makes the room anew); the call is not connected, the agent is
// logged off once the switch says its phone is gone (G-3), and the customer, with no other
// agent, hears the abandon message at the connect deadline (P-2).
func TestMoveIntoEmptyRoom(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{script: customers(fsim.Fate{Answer: true, Ring: 500 * time.Millisecond})})
	h.join(1001)
	h.waitFor("the customer ringing", func() bool { return h.customersDialed() == 1 })
	leg := h.agentLeg(1001)
	if !h.sw.Vanish(leg, "NORMAL_CLEARING") {
		t.Fatal("no agent leg")
	}
	off := h.waitLoggedOff(1001)
	if off.Message != engine.MessageLegDropped {
		t.Fatalf("agent %+v", off)
	}
	customer := h.customerLeg("09011110001")
	h.waitFor("the customer alone in the agent's room", func() bool { return h.inRoom(leg, customer) })
	if o := h.store.Outcome("09011110001"); o != "in_progress" {
		t.Fatalf("customer's call %s: want it waiting for an agent", o)
	}
	h.clock.Advance(2 * time.Second)
	h.waitFor("the customer abandoned", func() bool { return h.store.Outcome("09011110001") == "abandoned" })
	// Moved into the room (again, should a check find the agent free while its phone is being
	// asked about), then to the abandon message.
	got := h.commands("api uuid_transfer " + customer)
	last := len(got) - 1
	for i, c := range got {
		if i < last && !strings.HasSuffix(c, " 'm:^:conference:"+leg+"@default' inline") ||
			i == last && !strings.HasSuffix(c, " 'm:^:playback:tone_stream://%(500,0,800)^hangup:NORMAL_CLEARING' inline") {
			t.Fatalf("customer's transfers %q: want moves into the agent's room, then the abandon message", got)
		}
	}
	if a := h.store.Attempts("09011110001")[0]; a.AgentID != nil || a.BridgedAt != nil {
		t.Fatalf("attempt %+v: never put through", a)
	}
}
