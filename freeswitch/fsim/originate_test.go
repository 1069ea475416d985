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

// The lab README and uuid_bridge_on_soft_execute (src/switch_ivr_bridge.c): when one side of
// an accepted uuid_bridge is no longer ready once the bridge is set up, the switch hangs up the
// other side with DESTINATION_OUT_OF_ORDER. A customer who leaves at that instant takes the
// agent's phone with them, park_after_bridge or not; one who leaves later does not.
func TestUUIDBridgeHazard(t *testing.T) {
	bridge := func(t *testing.T, customer fsim.Fate, after time.Duration) (*rawSession, string, string) {
		r := newRawSession(t, fsim.Options{Script: agentAnd(customer)}, callEvents)
		a := agentLeg(r)
		c := r.originate(customerDial, "&park()")
		r.advance(time.Second + 20*time.Millisecond) // answered, originate returned
		r.take()
		r.clock.Advance(after)
		if reply := r.send("api uuid_bridge " + c + " " + a); reply != "+OK "+a+"\n" {
			t.Fatalf("uuid_bridge: %q", reply)
		}
		return r, a, c
	}
	t.Run("customer leaves within the setup", func(t *testing.T) {
		r, a, c := bridge(t, fsim.Fate{Talk: 50 * time.Millisecond}, 5*time.Millisecond) // leaves 25 ms after the command
		r.advance(25 * time.Millisecond)
		eq(t, "events", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+c[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8],
			"CHANNEL_HANGUP DESTINATION_OUT_OF_ORDER "+a[:8], "CHANNEL_HANGUP_COMPLETE DESTINATION_OUT_OF_ORDER "+a[:8])
		if len(r.s.Channels()) != 0 {
			t.Fatalf("channels left: %v", r.s.Channels())
		}
	})
	t.Run("customer hangs up at the bridge", func(t *testing.T) {
		r, a, c := bridge(t, fsim.Fate{HangupOnBridge: true}, 0)
		r.advance(0)
		eq(t, "events", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+c[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8],
			"CHANNEL_HANGUP DESTINATION_OUT_OF_ORDER "+a[:8], "CHANNEL_HANGUP_COMPLETE DESTINATION_OUT_OF_ORDER "+a[:8])
	})
	t.Run("customer leaves after the setup", func(t *testing.T) {
		r, a, c := bridge(t, fsim.Fate{Talk: 100 * time.Millisecond}, 5*time.Millisecond) // 75 ms after the command
		r.advance(time.Minute)
		eq(t, "events", r.take(), "CHANNEL_BRIDGE "+c[:8], "CHANNEL_HANGUP NORMAL_CLEARING "+c[:8],
			"CHANNEL_PARK "+a[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8])
		if ch := r.s.Channels(); len(ch) != 1 || ch[0] != a {
			t.Fatalf("channels %v, want the agent's", ch)
		}
	})
	t.Run("BridgeSetup negative", func(t *testing.T) {
		r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{Talk: 50 * time.Millisecond}), BridgeSetup: -1}, callEvents)
		a := agentLeg(r)
		c := r.originate(customerDial, "&park()")
		r.advance(time.Second + 20*time.Millisecond)
		r.take()
		r.send("api uuid_bridge " + c + " " + a)
		r.advance(time.Minute)
		eq(t, "events", r.take(), "CHANNEL_BRIDGE "+c[:8], "CHANNEL_HANGUP NORMAL_CLEARING "+c[:8],
			"CHANNEL_PARK "+a[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c[:8])
	})
}

// The real switch reads `show channels` from a core database written asynchronously: a channel
// can be missing from it for a moment after it exists, while uuid_exists already knows it.
func TestShowChannelsLag(t *testing.T) {
	r := newRawSession(t, fsim.Options{Script: fsim.Answering(0, 0), ShowChannelsLag: 100 * time.Millisecond}, "")
	a := r.originate(agentDial, "&park()")
	r.advance(0)
	listed := func() bool {
		ch, calls := r.send("api show channels as json"), r.send("api show calls as json")
		if strings.Contains(ch, a) != strings.Contains(calls, a) {
			t.Fatalf("show channels %q, show calls %q", ch, calls)
		}
		return strings.Contains(ch, a)
	}
	if r.send("api uuid_exists "+a) != "true" || listed() {
		t.Fatal("a new channel: uuid_exists must know it, show channels not yet")
	}
	r.advance(99 * time.Millisecond)
	if listed() {
		t.Fatal("listed 99 ms after its creation")
	}
	r.advance(time.Millisecond)
	if !listed() {
		t.Fatal("not listed 100 ms after its creation")
	}

	r = newRawSession(t, fsim.Options{Script: fsim.Answering(0, 0)}, "")
	a = r.originate(agentDial, "&park()")
	r.advance(0)
	if !strings.Contains(r.send("api show channels as json"), a) {
		t.Fatal("without ShowChannelsLag a channel is listed at once")
	}
}
