package fsim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

const (
	customerDial = "sofia/gateway/main/0312345678"
	agentDial    = "loopback/agent-1/agents"
	callEvents   = "CHANNEL_ANSWER CHANNEL_BRIDGE CHANNEL_PARK CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB CUSTOM conference::maintenance"
)

// agentAnd: agents answer at once and stay; customers answer after 1 s with this fate.
func agentAnd(customer fsim.Fate) fsim.Script {
	return func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		customer.Answer, customer.Ring = true, time.Second
		return customer
	}
}

// agentLeg originates a parked agent leg with park_after_bridge and lets it answer and return.
func agentLeg(r *rawSession) string {
	a := r.originate(agentDial, "&park()", "park_after_bridge=true")
	r.advance(20 * time.Millisecond)
	eq(r.t, "agent leg", r.take(), "CHANNEL_ANSWER "+a[:8], "BACKGROUND_JOB +OK "+a, "CHANNEL_PARK "+a[:8])
	return a
}

// Captures 09 and 11: the BACKGROUND_JOB +OK of an originate comes after the leg's
// CHANNEL_ANSWER (about 20 ms under load), and only then does its application run.
func TestOriginateReturnsAfterTheAnswer(t *testing.T) {
	r := newRawSession(t, fsim.Options{Script: fsim.Answering(time.Second, 0)}, callEvents)
	c := r.originate(customerDial, "&park()")
	r.advance(time.Second)
	eq(t, "at the answer", r.take(), "CHANNEL_ANSWER "+c[:8])
	r.advance(19 * time.Millisecond)
	eq(t, "19 ms after the answer", r.take())
	r.advance(time.Millisecond)
	eq(t, "20 ms after the answer", r.take(), "BACKGROUND_JOB +OK "+c, "CHANNEL_PARK "+c[:8])

	r = newRawSession(t, fsim.Options{Script: fsim.Answering(time.Second, 0), OriginateReturn: -1}, callEvents)
	c = r.originate(customerDial, "&park()")
	r.advance(time.Second)
	eq(t, "OriginateReturn negative", r.take(), "CHANNEL_ANSWER "+c[:8], "BACKGROUND_JOB +OK "+c, "CHANNEL_PARK "+c[:8])
}

// Capture 11 and the lab README: a uuid_bridge or uuid_transfer of an answered customer that
// lands before its originate has returned makes the originate answer -ERR ORIGINATOR_CANCEL,
// while the call lives on, bridged or in the room, until its own hangup. After the return the
// originate has answered +OK and the command changes nothing of it.
func TestCommandBeforeTheOriginateReturns(t *testing.T) {
	t.Run("uuid_bridge", func(t *testing.T) {
		r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{Talk: 3 * time.Second})}, callEvents)
		a := agentLeg(r)
		c := r.originate(customerDial, "&park()")
		r.advance(time.Second)
		r.clock.Advance(5 * time.Millisecond)
		if reply := r.send("api uuid_bridge " + c + " " + a); reply != "+OK "+a+"\n" {
			t.Fatalf("uuid_bridge: %q", reply)
		}
		r.advance(time.Second)
		eq(t, "bridged 5 ms after the answer", r.take(), "CHANNEL_ANSWER "+c[:8],
			"BACKGROUND_JOB -ERR ORIGINATOR_CANCEL", "CHANNEL_BRIDGE "+c[:8])
		if reply := r.send("api uuid_exists " + c); reply != "true" {
			t.Fatalf("the customer's channel ended with its originate: %q", reply)
		}
		r.advance(2 * time.Second) // the customer hangs up 3 s after answering
		eq(t, "the customer's own hangup", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+c[:8],
			"CHANNEL_PARK "+a[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8])
	})
	t.Run("uuid_transfer", func(t *testing.T) {
		r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{Talk: 3 * time.Second})}, callEvents)
		a := r.originate(agentDial, "&conference(agent-1@default)")
		r.advance(20 * time.Millisecond)
		c := r.originate(customerDial, "&park()")
		r.advance(time.Second)
		r.take()
		r.clock.Advance(time.Millisecond)
		if reply := r.send("bgapi uuid_transfer " + c + " conference:agent-1@default inline"); !strings.HasPrefix(reply, "+OK Job-UUID") {
			t.Fatalf("uuid_transfer: %q", reply)
		}
		r.advance(19 * time.Millisecond)
		eq(t, "transferred 1 ms after the answer", r.take(), "BACKGROUND_JOB -ERR ORIGINATOR_CANCEL", "BACKGROUND_JOB +OK")
		r.advance(time.Millisecond)
		eq(t, "20 ms after the transfer", r.take(), "CUSTOM add-member agent-1 size=2 "+c[:8])
		if room, ok := r.s.Room(c); !ok || room != "agent-1@default" {
			t.Fatalf("Room(customer) = %q %v", room, ok)
		}
		eq(t, "members", r.s.Members("agent-1"), a, c)
		r.advance(3 * time.Second)
		eq(t, "the customer's own hangup", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+c[:8],
			"CUSTOM del-member agent-1 size=1 "+c[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8])
	})
	t.Run("after the return", func(t *testing.T) {
		r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{Talk: 3 * time.Second})}, callEvents)
		a := agentLeg(r)
		c := r.originate(customerDial, "&park()")
		r.advance(time.Second + 20*time.Millisecond)
		r.send("api uuid_bridge " + c + " " + a)
		eq(t, "bridged after the return", r.take(), "CHANNEL_ANSWER "+c[:8], "BACKGROUND_JOB +OK "+c,
			"CHANNEL_PARK "+c[:8], "CHANNEL_BRIDGE "+c[:8])
	})
}

// Capture 11's third and fourth customers and the lab README: a far end that answers and hangs
// up at the same instant gives CHANNEL_ANSWER, the hangup events, then the originate's
// -ERR NORMAL_CLEARING (no +OK ever); commands that come after find no channel, and the agent
// leg named by the refused uuid_bridge is untouched.
func TestAnswerAndHangupAtOnce(t *testing.T) {
	r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{HangupAtAnswer: true})}, callEvents)
	a := agentLeg(r)
	c := r.originate(customerDial, "&park()")
	r.advance(time.Second)
	eq(t, "answer and hangup", r.take(), "CHANNEL_ANSWER "+c[:8], "CHANNEL_HANGUP NORMAL_CLEARING "+c[:8],
		"CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8], "BACKGROUND_JOB -ERR NORMAL_CLEARING")
	if reply := r.send("api uuid_transfer " + c + " conference:agent-1@default inline"); reply != "-ERR No such channel!\n" {
		t.Fatalf("uuid_transfer: %q", reply)
	}
	if reply := r.send("api uuid_bridge " + c + " " + a); reply != "-ERR Invalid uuid\n" {
		t.Fatalf("uuid_bridge: %q", reply)
	}
	r.advance(time.Minute)
	eq(t, "the agent's leg", r.take())
	if reply := r.send("api uuid_exists " + a); reply != "true" {
		t.Fatalf("agent leg: %q", reply)
	}
	if h := r.s.History(); h[1].Cause != "NORMAL_CLEARING" || !h[1].Answered.Equal(h[1].Ended) {
		t.Fatalf("history %+v", h[1])
	}
}
