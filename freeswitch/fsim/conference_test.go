package fsim_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// Agent rooms as capture 11 shows them: an agent's originate into its room (here through an
// inline dialplan that plays a prompt first), customers moved in with uuid_transfer in both
// inline forms, a member killed, a member moved to another room, the last member leaving. Every
// member event sits where the capture puts it relative to the member's hangup events.
func TestAgentRooms(t *testing.T) {
	r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{Talk: 10 * time.Second})}, callEvents)
	const room = "agent-7@default"
	a := r.originate(agentDial, "'m:^:playback:tone_stream://%(200,0,500)^conference:"+room+"' inline")
	r.advance(20 * time.Millisecond)
	eq(t, "the agent answers", r.take(), "CHANNEL_ANSWER "+a[:8], "BACKGROUND_JOB +OK "+a)
	r.advance(499 * time.Millisecond)
	eq(t, "while the prompt plays", r.take())
	if _, in := r.s.Room(a); in {
		t.Fatal("in the room before the prompt ended")
	}
	r.advance(time.Millisecond) // the 500 ms prompt, then the conference application at once
	eq(t, "after the prompt", r.take(), "CUSTOM conference-create agent-7 size=0", "CUSTOM add-member agent-7 size=1 "+a[:8])
	if got, in := r.s.Room(a); !in || got != room {
		t.Fatalf("Room(agent) = %q %v", got, in)
	}
	var listing struct {
		Rows []map[string]string `json:"rows"`
	}
	if err := json.Unmarshal([]byte(r.send("api show channels as json")), &listing); err != nil || len(listing.Rows) != 1 ||
		listing.Rows[0]["application"] != "conference" || listing.Rows[0]["application_data"] != room {
		t.Fatalf("show channels: %+v %v", listing, err)
	}

	if reply := r.send("api uuid_transfer " + newID() + " conference:" + room + " inline"); reply != "-ERR No such channel!\n" {
		t.Fatalf("transfer of a missing channel: %q", reply)
	}
	customer := func() string {
		c := r.originate(customerDial, "&park()")
		r.advance(time.Second + 20*time.Millisecond)
		eq(t, "customer answers", r.take(), "CHANNEL_ANSWER "+c[:8], "BACKGROUND_JOB +OK "+c, "CHANNEL_PARK "+c[:8])
		return c
	}
	c1 := customer()
	if reply := r.send("api uuid_transfer " + c1 + " 'm:^:conference:" + room + "' inline"); reply != "+OK\n" {
		t.Fatalf("uuid_transfer: %q", reply)
	}
	r.advance(20 * time.Millisecond)
	eq(t, "a customer joins", r.take(), "CUSTOM add-member agent-7 size=2 "+c1[:8])
	c2 := customer()
	r.send("api uuid_transfer " + c2 + " conference:" + room + " inline")
	r.advance(20 * time.Millisecond)
	eq(t, "another customer joins", r.take(), "CUSTOM add-member agent-7 size=3 "+c2[:8])
	eq(t, "members", r.s.Members(room), a, c1, c2)

	r.send("api uuid_kill " + c2)
	eq(t, "a member killed", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+c2[:8], "CUSTOM del-member agent-7 size=2 "+c2[:8],
		"CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c2[:8])

	r.send("api uuid_transfer " + c1 + " conference:agent-8@default inline")
	r.advance(20 * time.Millisecond)
	eq(t, "a member moved", r.take(), "CUSTOM del-member agent-7 size=1 "+c1[:8], "CUSTOM conference-create agent-8 size=0",
		"CUSTOM add-member agent-8 size=1 "+c1[:8])
	if got, _ := r.s.Room(c1); got != "agent-8@default" {
		t.Fatalf("Room(moved customer) = %q", got)
	}
	r.advance(10 * time.Second) // its far end hangs up; the room ends 20 ms later (capture 16)
	eq(t, "the last member hangs up", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+c1[:8], "CUSTOM del-member agent-8 size=0 "+c1[:8],
		"CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c1[:8], "CUSTOM conference-destroy agent-8 size=0")
	if m := r.s.Members("agent-8"); m != nil {
		t.Fatalf("destroyed room's members: %v", m)
	}

	c3 := customer()
	r.send("api uuid_transfer " + c3 + " conference:" + room + " inline")
	r.advance(20 * time.Millisecond)
	r.take()
	r.send("api uuid_transfer " + c3 + " 'm:^:playback:goodbye.wav^hangup:NORMAL_CLEARING' inline")
	eq(t, "transferred out of the room", r.take(), "CUSTOM del-member agent-7 size=1 "+c3[:8])
	r.advance(time.Second)
	eq(t, "after the message", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+c3[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+c3[:8])

	r.s.Hangup(a, "NORMAL_CLEARING")
	r.sync()
	r.advance(20 * time.Millisecond)
	eq(t, "the agent's phone hangs up", r.take(), "CHANNEL_HANGUP NORMAL_CLEARING "+a[:8], "CUSTOM del-member agent-7 size=0 "+a[:8],
		"CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+a[:8], "CUSTOM conference-destroy agent-7 size=0")
	if _, in := r.s.Room(a); in || r.s.Members(room) != nil {
		t.Fatal("the room outlived its last member")
	}
}

// A uuid_bridge of a room's member takes it out of the room first.
func TestBridgeTakesAMemberOutOfItsRoom(t *testing.T) {
	r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{})}, callEvents)
	a := r.originate(agentDial, "&conference(agent-1@default)")
	b := r.originate("loopback/agent-2/agents", "&park()")
	r.advance(20 * time.Millisecond)
	r.take()
	r.send("api uuid_bridge " + a + " " + b)
	eq(t, "bridged", r.take(), "CUSTOM del-member agent-1 size=0 "+a[:8], "CHANNEL_BRIDGE "+a[:8])
	r.advance(20 * time.Millisecond)
	eq(t, "the empty room ends", r.take(), "CUSTOM conference-destroy agent-1 size=0")
	if _, in := r.s.Room(a); in {
		t.Fatal("a bridged leg is still a member")
	}
}

// mod_event_socket's subscription rules (event_handler, parse_command): CUSTOM events of a
// subclass go to ALL and to sessions that named CUSTOM and the subclass; every word after
// CUSTOM is a subclass, even an event's name.
func TestConferenceEventsGoOnlyToTheirSubscribers(t *testing.T) {
	main := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{})}, "CHANNEL_ANSWER CUSTOM conference::maintenance")
	sessions := map[string]*rawSession{
		"CHANNEL_ANSWER CUSTOM conference::maintenance": main,
		"ALL":                                    dialRaw(t, main.s, "ALL"),
		"CUSTOM":                                 dialRaw(t, main.s, "CUSTOM"),
		"CUSTOM other::class CHANNEL_ANSWER":     dialRaw(t, main.s, "CUSTOM other::class CHANNEL_ANSWER"),
		"CHANNEL_ANSWER conference::maintenance": dialRaw(t, main.s, "CHANNEL_ANSWER conference::maintenance"),
		"CUSTOM conference::maintenance (2 lines)": dialRaw(t, main.s, "CUSTOM conference::maintenance"),
	}
	sessions["CUSTOM conference::maintenance (2 lines)"].send("event plain CHANNEL_ANSWER")
	a := main.originate(agentDial, "&conference(agent-1@default)")
	main.clock.Advance(20 * time.Millisecond)
	want := map[string][]string{
		"CHANNEL_ANSWER CUSTOM conference::maintenance": {"CHANNEL_ANSWER " + a[:8], "CUSTOM conference-create agent-1 size=0", "CUSTOM add-member agent-1 size=1 " + a[:8]},
		"CUSTOM":                                   nil,
		"CUSTOM other::class CHANNEL_ANSWER":       nil,
		"CHANNEL_ANSWER conference::maintenance":   {"CHANNEL_ANSWER " + a[:8]},
		"CUSTOM conference::maintenance (2 lines)": {"CHANNEL_ANSWER " + a[:8], "CUSTOM conference-create agent-1 size=0", "CUSTOM add-member agent-1 size=1 " + a[:8]},
	}
	for name, s := range sessions {
		s.sync()
		got := s.take()
		if name == "ALL" {
			var custom []string
			for _, e := range got {
				if len(e) > 6 && e[:6] == "CUSTOM" {
					custom = append(custom, e)
				}
			}
			eq(t, name, custom, "CUSTOM conference-create agent-1 size=0", "CUSTOM add-member agent-1 size=1 "+a[:8])
			continue
		}
		eq(t, name, got, want[name]...)
	}
}
