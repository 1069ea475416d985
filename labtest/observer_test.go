//go:build lab

package labtest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// replay feeds a real switch capture (freeswitch/testdata/esl-captures) through an Observer's
// event handling, without a switch.
func replay(t *testing.T, capture string) *Observer {
	t.Helper()
	src, err := SourceDir()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(src, "freeswitch", "testdata", "esl-captures", capture+".esl"))
	if err != nil {
		t.Fatal(err)
	}
	o := &Observer{legs: map[string]*Leg{}}
	r := wire.NewReader(bytes.NewReader(raw))
	for {
		f, err := r.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.ContentType() != "text/event-plain" {
			continue
		}
		e, err := wire.ParsePlainEvent(f)
		if err != nil {
			t.Fatal(err)
		}
		o.handle(e)
	}
	return o
}

// attemptFor is what the engine should record for a customer leg the switch handled so.
func attemptFor(l Leg, id int64, agent int) Attempt {
	a := Attempt{ID: id, Tel: l.Dest, ChannelUUID: l.UUID, StartedAt: l.Created, AnsweredAt: l.Answered, EndedAt: l.Hangup,
		HangupCause: l.Cause, TalkSeconds: -1}
	switch j, joined := l.FirstJoin(); {
	case joined:
		a.Outcome, a.AgentID, a.BridgedAt = "connected", agent, j.At
		a.TalkSeconds = int(l.Talk().Round(time.Second) / time.Second)
	case !l.Answered.IsZero():
		a.Outcome = "abandoned"
	default:
		a.Outcome = CauseOutcome(l.Cause)
	}
	return a
}

// Capture 11: an agent in a room of its own, customers moved in with uuid_transfer.
func TestObserverRoomCapture(t *testing.T) {
	o := replay(t, "11-agent-room")
	agents := o.ALegs("agent")
	if len(agents) != 1 || agents[0].UUID != "8255a061-9c50-4bc2-a196-b126a48d6e00" || agents[0].Up() || agents[0].Cause != "NORMAL_CLEARING" {
		t.Fatalf("agent legs %v", agents)
	}
	if j := agents[0].Joins; len(j) != 1 || j[0].Room != "agent-1001" || j[0].LeftBy != "del-member" {
		t.Fatalf("agent's room %+v", j)
	}
	customers := o.ALegs("customer")
	if len(customers) != 5 {
		t.Fatalf("%d customer a-legs", len(customers))
	}
	var attempts []Attempt
	for i, l := range customers {
		_, joined := l.FirstJoin()
		talks := FateOf(l.Dest).Talk > 0
		if joined != talks {
			t.Errorf("%s joined=%v", l, joined)
		}
		if joined {
			if d := l.Talk() - 3*time.Second; d < -200*time.Millisecond || d > 200*time.Millisecond {
				t.Errorf("%s: talk %v, want about 3 s", l, l.Talk())
			}
			if j, _ := l.FirstJoin(); j.Room != "agent-1001" || j.LeftBy != "del-member" {
				t.Errorf("%s: join %+v", l, j)
			}
		}
		attempts = append(attempts, attemptFor(l, int64(i+1), 1001))
	}
	for _, l := range o.Legs() {
		if l.BLeg != (l.ChannelName[len(l.ChannelName)-2:] == "-b") {
			t.Errorf("b-leg mark of %s", l)
		}
	}
	c := Compare(o.Legs(), attempts, Expect{})
	if len(c.Problems) != 0 || len(c.AgentDrops) != 0 || c.AbandonsSwitch != 2 || c.SwitchJoined != 3 {
		t.Fatalf("faithful records: %s\n%v %v", c.Summary(), c.Problems, c.AgentDrops)
	}
	// What the comparison must catch: an abandon recorded as connected, a talk time cut short, a
	// call given to the wrong agent.
	attempts[2].Outcome, attempts[2].AgentID, attempts[2].BridgedAt = "connected", 1001, attempts[2].AnsweredAt
	attempts[0].EndedAt = attempts[0].BridgedAt.Add(20 * time.Millisecond)
	attempts[1].AgentID = 1002
	kinds := Compare(o.Legs(), attempts, Expect{}).Kinds()
	for _, k := range []string{"connected-not-joined", "talk-mismatch", "wrong-agent", "abandon-count"} {
		if kinds[k] == 0 {
			t.Errorf("no %s problem in %v", k, kinds)
		}
	}
}

// Capture 09: uuid_bridge of customers to a parked agent, a supervisor's eavesdrop leg, an
// abandon, then the agent's leg killed.
func TestObserverBridgeCapture(t *testing.T) {
	o := replay(t, "09-engine-call-flow")
	const agent = "b050d810-4efd-40c3-af27-ec111eb49eff"
	c1, ok := o.Leg("55713d9f-24e6-4e14-a91a-610835258b8b")
	if !ok {
		t.Fatal("customer 1 not seen")
	}
	j, joined := c1.FirstJoin()
	if !joined || j.Kind != "bridge" || j.Peer != agent || j.LeftBy != "unbridge" {
		t.Fatalf("customer 1: %s", c1)
	}
	a, _ := o.Leg(agent)
	if len(a.Joins) < 2 || a.Joins[0].Peer != c1.UUID || a.Joins[0].Left.IsZero() {
		t.Fatalf("agent: %s", a)
	}
	c3, _ := o.Leg("88837d87-5695-48a1-95be-d2d283e51ffe")
	if c3.Joined() || c3.Answered.IsZero() {
		t.Fatalf("customer 3 (abandoned): %s", c3)
	}
	var attempts []Attempt
	for i, l := range o.ALegs("customer") {
		attempts = append(attempts, attemptFor(l, int64(i+1), 1001))
	}
	c := Compare(o.Legs(), attempts, Expect{})
	// The capture's switch answered 0906 numbers (its dialplan predates the lab's fates).
	if k := c.Kinds(); len(c.Problems) != k["fate-outcome"] || k["fate-outcome"] != 2 || c.SwitchJoined != 2 || c.AbandonsSwitch != 1 {
		t.Fatalf("%s\n%v", c.Summary(), c.Problems)
	}
}
