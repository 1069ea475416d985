package fsim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// Checks of captures 16 to 18 (the agent's desk) beyond what every replayed call flow is held
// to: each `conference NAME list` answers with the same members in the same order (the latest
// to join first; a loopback pair's b leg known by its a leg), nine fields per member, a leg's
// Member-ID the same in every room, the same flags but the floor (which follows who makes
// sound: floor and talking), the same volumes and energy; a room that is gone is `-ERR Conference NAME not found`.
// skipped are the capture's commands the replay did not send (flowCase.instead).
func checkRoomLists(skipped ...string) func(t *testing.T, cmds []string, want, got []*wire.Frame) {
	return func(t *testing.T, cmds []string, want, got []*wire.Frame) { roomLists(t, cmds, skipped, want, got) }
}

func roomLists(t *testing.T, cmds, skipped []string, want, got []*wire.Frame) {
	t.Helper()
	legs, _ := originated(cmds)
	wantAlias, gotAlias := loopbackBLegs(want, legs), loopbackBLegs(got, legs)
	pairs := 0
	for _, c := range cmds {
		if strings.HasPrefix(c, "bgapi originate ") && strings.Contains(c, "/inline &") {
			pairs++
		}
	}
	if len(wantAlias) != pairs || len(gotAlias) != pairs {
		t.Errorf("loopback pairs with an inline b leg: %d originated, b legs seen: FreeSWITCH %d, simulator %d", pairs, len(wantAlias), len(gotAlias))
	}
	wantReplies := replyTexts(cmds, want)
	// The simulator's replies, by the index of the capture's command.
	var sent []int
	for i, c := range cmds {
		if !slices.Contains(skipped, c) {
			sent = append(sent, i)
		}
	}
	gotReplies := map[int]string{}
	sentCmds := make([]string, len(sent))
	for j, i := range sent {
		sentCmds[j] = cmds[i]
	}
	for j, r := range replyTexts(sentCmds, got) {
		gotReplies[sent[j]] = r
	}
	wantIDs, gotIDs := map[string]string{}, map[string]string{}
	lists := 0
	for i, c := range cmds {
		if !strings.HasPrefix(c, "api conference ") || !strings.HasSuffix(c, " list") {
			continue
		}
		lists++
		w, g := wantReplies[i], gotReplies[i]
		if strings.HasPrefix(w, "-ERR") || strings.HasPrefix(g, "-ERR") {
			if g != w {
				t.Errorf("%s: simulator %q, FreeSWITCH %q", c, g, w)
			}
			continue
		}
		wm, gm := listRows(t, w, wantAlias, wantIDs), listRows(t, g, gotAlias, gotIDs)
		if !slices.Equal(gm, wm) {
			t.Errorf("%s:\n  simulator:  %v\n  FreeSWITCH: %v", c, gm, wm)
		}
	}
	if lists == 0 {
		t.Error("capture: no conference list")
	}
}

// listRows reads a `conference NAME list` answer as "UUID FLAGS VOLUMES" per member (floor
// and talking left out), checking nine fields per line and that each leg keeps its Member-ID (ids: UUID →
// Member-ID over the whole capture).
func listRows(t *testing.T, body string, alias, ids map[string]string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		f := strings.Split(line, ";")
		if len(f) != 9 {
			t.Errorf("list line %q: %d fields, want 9", line, len(f))
			continue
		}
		id, uuid := f[0], f[2]
		if a, ok := alias[uuid]; ok {
			uuid = a
		}
		if old, seen := ids[uuid]; seen && old != id {
			t.Errorf("leg %s: Member-ID %s, earlier %s", uuid, id, old)
		}
		ids[uuid] = id
		flags := strings.Join(slices.DeleteFunc(strings.Split(f[5], "|"), func(s string) bool { return s == "floor" || s == "talking" }), "|")
		out = append(out, uuid[:8]+" "+flags+" "+strings.Join(f[6:], ";"))
	}
	return out
}

// Two agents' rooms joined by a loopback pair whose b leg runs `conference:ROOM_B` (capture 17):
// the b leg is in ROOM_B before the originate returns, the a leg in ROOM_A after; the rooms'
// lists name them; a leg keeps its Member-ID from room to room; a hold room plays the
// conference_moh_sound of the customer who made it; killing either leg of the pair ends the
// other; a room left empty is gone 20 ms later.
func TestLoopbackPairJoinsTwoRooms(t *testing.T) {
	r := newRawSession(t, fsim.Options{Script: agentAnd(fsim.Fate{Answer: true})}, callEvents)
	a1 := r.originate(agentDial, "&conference(agent-1@kakeru)")
	a2 := r.originate("loopback/agent-2/agents", "&conference(agent-2@kakeru)")
	c := r.originate(customerDial, "&park()", "conference_moh_sound=hold-c")
	r.advance(time.Second)
	r.take()
	if reply := r.send("api uuid_transfer " + c + " 'm:^:conference:agent-1@kakeru' inline"); reply != "+OK\n" {
		t.Fatalf("move: %q", reply)
	}
	r.advance(20 * time.Millisecond)
	list := r.send("api conference agent-1 list")
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], ";"+c+";") || !strings.HasSuffix(lines[1], ";hear|speak|floor;0;0;0") {
		t.Fatalf("list of agent-1: %q", list)
	}
	memberID, _, _ := strings.Cut(lines[0], ";")
	r.send("api uuid_transfer " + c + " 'm:^:conference:" + c + "-hold@kakeru' inline")
	r.advance(20 * time.Millisecond)
	if m := r.s.HoldMusic(c + "-hold"); m != "hold-c" {
		t.Fatalf("hold room's music %q", m)
	}
	if list := r.send("api conference " + c + "-hold list"); !strings.HasPrefix(list, memberID+";") {
		t.Fatalf("the customer's Member-ID in the hold room: %q, was %s", list, memberID)
	}
	r.take()

	l := r.originate(freeswitch.LoopbackToRoom("agent-2@kakeru"), "&conference(agent-1@kakeru)")
	r.advance(0)
	b := r.s.Members("agent-2")
	if len(b) != 2 || b[0] != a2 {
		t.Fatalf("agent-2's room: %v", b)
	}
	eq(t, "the pair answers, its b leg joins room 2", r.take(), "CHANNEL_ANSWER "+l[:8], "CHANNEL_ANSWER "+b[1][:8],
		"CUSTOM add-member agent-2 size=2 "+b[1][:8])
	r.advance(20 * time.Millisecond)
	eq(t, "the originate returns, its a leg joins room 1", r.take(), "BACKGROUND_JOB +OK "+l, "CUSTOM add-member agent-1 size=2 "+l[:8])
	eq(t, "room 1", r.s.Members("agent-1@kakeru"), a1, l)

	r.send("api uuid_transfer " + c + " 'm:^:conference:agent-2@kakeru' inline")
	r.advance(20 * time.Millisecond)
	moved := r.take()
	for _, e := range []string{"CUSTOM del-member " + c + "-hold size=0 " + c[:8], "CUSTOM add-member agent-2 size=3 " + c[:8],
		"CUSTOM conference-destroy " + c + "-hold size=0"} {
		if !slices.Contains(moved, e) {
			t.Fatalf("the customer into room 2, the hold room ended: %v, missing %s", moved, e)
		}
	}
	if list := r.send("api conference " + c + "-hold list"); list != "-ERR Conference "+c+"-hold not found\n" {
		t.Fatalf("list of a room gone: %q", list)
	}
	// The lab switch: a b leg killed takes its a leg with it, with its cause.
	if reply := r.send("api uuid_kill " + b[1] + " CALL_REJECTED"); reply != "+OK\n" {
		t.Fatalf("kill of the b leg: %q", reply)
	}
	eq(t, "the b leg killed", r.take(), "CHANNEL_HANGUP CALL_REJECTED "+b[1][:8], "CUSTOM del-member agent-2 size=2 "+b[1][:8],
		"CHANNEL_HANGUP_COMPLETE CALL_REJECTED "+b[1][:8], "CHANNEL_HANGUP CALL_REJECTED "+l[:8],
		"CUSTOM del-member agent-1 size=1 "+l[:8], "CHANNEL_HANGUP_COMPLETE CALL_REJECTED "+l[:8])
	// An a leg killed: its b leg leaves its room first and hangs up NORMAL_CLEARING, whatever
	// the a leg's cause.
	l2 := r.originate(freeswitch.LoopbackToRoom("agent-2@kakeru"), "&conference(agent-1@kakeru)")
	r.advance(20 * time.Millisecond)
	b2 := r.s.Members("agent-2")[2]
	r.take()
	r.send("api uuid_kill " + l2 + " USER_BUSY")
	eq(t, "the a leg killed", r.take(), "CHANNEL_HANGUP USER_BUSY "+l2[:8], "CUSTOM del-member agent-2 size=2 "+b2[:8],
		"CHANNEL_HANGUP NORMAL_CLEARING "+b2[:8], "CHANNEL_HANGUP_COMPLETE NORMAL_CLEARING "+b2[:8],
		"CUSTOM del-member agent-1 size=1 "+l2[:8], "CHANNEL_HANGUP_COMPLETE USER_BUSY "+l2[:8])
	eq(t, "room 1", r.s.Members("agent-1"), a1)
	eq(t, "room 2", r.s.Members("agent-2"), a2, c)
}

// loopbackBLegs names the b leg of each loopback pair whose far leg runs an inline dialplan
// (Caller-Destination-Number `app:data`), whose UUID the switch chose: "B:" and the first six
// characters of its a leg's, the originated leg it names in other_loopback_leg_uuid.
func loopbackBLegs(frames []*wire.Frame, legs []string) map[string]string {
	out := map[string]string{}
	for _, f := range frames {
		if f.ContentType() != "text/event-plain" {
			continue
		}
		e, err := wire.ParsePlainEvent(f)
		if err != nil || e.Name() != "CHANNEL_CREATE" || e.Header.Get("variable_loopback_leg") != "B" ||
			!strings.Contains(e.Header.Get("Caller-Destination-Number"), ":") {
			continue
		}
		if a := e.Header.Get("variable_other_loopback_leg_uuid"); slices.Contains(legs, a) {
			out[e.UniqueID()] = "B:" + a[:6]
		}
	}
	return out
}

// jobResultAfterComplete puts a failed originate's BACKGROUND_JOB after its leg's
// CHANNEL_HANGUP_COMPLETE: the real switch sends it before or after (captures 04, 18), the
// simulator after.
func jobResultAfterComplete(_ string, seq []string) []string {
	for i := 0; i+1 < len(seq); i++ {
		if strings.HasPrefix(seq[i], "BACKGROUND_JOB -ERR ") && strings.HasPrefix(seq[i+1], "CHANNEL_HANGUP_COMPLETE ") &&
			!strings.HasSuffix(seq[i], " NO_ANSWER") {
			seq[i], seq[i+1] = seq[i+1], seq[i]
		}
	}
	return seq
}

// deskFlowCases are the call flows of captures 16 to 19, replayed by
// TestSimulatorCallFlowsMatchCaptures.
func deskFlowCases() []flowCase {
	return []flowCase{
		// The agent's desk (issue 16): a customer moved from the agent's room to a hold room of
		// its own and back; two agents' rooms joined by a loopback pair whose b leg runs an
		// inline dialplan, the pair killed; parties originated into a room (one answers, one
		// never does, one busy), the customer and a party moved together into an xfer room
		// where the party hangs up; `conference NAME list` throughout.
		{capture: "16-desk-hold", loopbackOnly: []string{"api conference "},
			instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}}, check: checkRoomLists()},
		{capture: "17-desk-consult", loopbackOnly: []string{"api conference "},
			instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}}, check: checkRoomLists()},
		{capture: "18-desk-transfer", loopbackOnly: []string{"api conference "},
			instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}}, check: checkRoomLists(),
			artifacts: jobResultAfterComplete},
		// How a pair joining two rooms ends: its b leg killed (the a leg follows with its
		// cause), its a leg killed (the b leg leaves first, NORMAL_CLEARING), agent 2's phone
		// gone while joined (the b leg alone in agent 2's room until the a leg is killed).
		{capture: "19-desk-pair-ends", loopbackOnly: []string{"api conference "},
			instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {},
				// The b leg the lab switch killed had a UUID of its own choosing.
				"api uuid_kill 89784aae-4db7-48a6-805d-b501f4a86ee7 CALL_REJECTED": func(s *fsim.Server) {
					s.Hangup(s.LoopbackPeer("3617863c-fb72-4b91-90d3-1f22cf04143d"), "CALL_REJECTED")
				}},
			check: checkRoomLists("api uuid_kill 89784aae-4db7-48a6-805d-b501f4a86ee7 CALL_REJECTED")},
	}
}
