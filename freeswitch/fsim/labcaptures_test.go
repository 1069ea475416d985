package fsim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// Checks of captures 12 and 13 (recorded from the lab switch by ../testdata/record) beyond
// what every replayed call flow is held to.

// replyTexts pairs each command with its reply (Reply-Text, or an api response's body); the
// replies of commands the replay did not send (flowCase.instead) are missing at the end.
func replyTexts(cmds []string, frames []*wire.Frame) map[int]string {
	out := map[int]string{}
	i := 0
	for _, f := range frames {
		switch f.ContentType() {
		case "command/reply":
			out[i] = f.Header.Get("Reply-Text")
		case "api/response":
			out[i] = string(f.Body)
		default:
			continue
		}
		if i++; i == len(cmds) {
			break
		}
	}
	return out
}

// jobBodies is each originated leg's BACKGROUND_JOB body, trimmed.
func jobBodies(cmds []string, frames []*wire.Frame) map[string]string {
	_, jobs := originated(cmds)
	out := map[string]string{}
	for _, f := range frames {
		if f.ContentType() != "text/event-plain" {
			continue
		}
		if e, err := wire.ParsePlainEvent(f); err == nil && e.Name() == "BACKGROUND_JOB" && jobs[e.JobUUID()] != "" {
			out[jobs[e.JobUUID()]] = strings.TrimSpace(string(e.Body))
		}
	}
	return out
}

// roomEvents are the conference::maintenance events of the rooms named after originated legs
// (the agents' rooms) with the actions the engine reads, by action: each event's header names
// in order.
func roomEvents(t *testing.T, cmds []string, frames []*wire.Frame) map[string][][]string {
	t.Helper()
	legs, _ := originated(cmds)
	out := map[string][][]string{}
	for _, f := range frames {
		if f.ContentType() != "text/event-plain" {
			continue
		}
		e, err := wire.ParsePlainEvent(f)
		if err != nil {
			t.Fatal(err)
		}
		action := e.Header.Get("Action")
		if e.Header.Get("Event-Subclass") != freeswitch.ConferenceMaintenance || !slices.Contains(legs, e.Header.Get("Conference-Name")) ||
			!slices.Contains([]string{"conference-create", "add-member", "del-member", "conference-destroy"}, action) {
			continue
		}
		names := make([]string, len(e.Header))
		for i, h := range e.Header {
			names[i] = h.Name
		}
		out[action] = append(out[action], names)
	}
	return out
}

// Capture 12: customers moved into the agent's room after their originate's +OK keep that
// +OK (the move does not cancel the originate); the customer hanging up at the instant of
// answer gets -ERR NORMAL_CLEARING and is not moved; uuid_getvar conference_name of a member
// is the room's name, without the profile; the room's events carry the real header set.
func checkRoomFlow(t *testing.T, cmds []string, want, got []*wire.Frame) {
	legs, _ := originated(cmds)
	agent := legs[0]
	// Where each customer was sent: into the agent's room, or elsewhere (the abandon message).
	sentTo := map[string]string{}
	for _, c := range cmds {
		if rest, ok := strings.CutPrefix(c, "api uuid_transfer "); ok {
			leg, dest, _ := strings.Cut(rest, " ")
			sentTo[leg] = dest
		}
	}
	intoRoom := func(leg string) bool { return strings.Contains(sentTo[leg], "conference:"+agent+"@") }
	wantJobs, gotJobs := jobBodies(cmds, want), jobBodies(cmds, got)
	var room, elsewhere, never int
	for _, leg := range legs {
		w, g := wantJobs[leg], gotJobs[leg]
		result := "+OK " + leg
		switch {
		case leg == agent:
		case intoRoom(leg):
			room++
		case sentTo[leg] != "":
			elsewhere++
		default: // answered and gone at once: nothing to move
			never++
			result = "-ERR NORMAL_CLEARING"
		}
		if w != result {
			t.Errorf("capture: the originate of %s answered %q, want %q", leg[:8], w, result)
		}
		if g != w {
			t.Errorf("originate of %s: simulator %q, FreeSWITCH %q", leg[:8], g, w)
		}
	}
	if room != 2 || elsewhere != 1 || never != 1 {
		t.Errorf("capture: %d customers moved into the room, %d abandoned, %d not moved; want 2, 1, 1", room, elsewhere, never)
	}

	wantReplies, gotReplies := replyTexts(cmds, want), replyTexts(cmds, got)
	asked := 0
	for i, c := range cmds {
		rest, ok := strings.CutPrefix(c, "api uuid_getvar ")
		if !ok || !strings.HasSuffix(rest, " conference_name") {
			continue
		}
		asked++
		if wantReplies[i] != agent || gotReplies[i] != agent {
			t.Errorf("%s: simulator %q, FreeSWITCH %q; the room is %s", c, gotReplies[i], wantReplies[i], agent)
		}
	}
	if asked == 0 {
		t.Error("capture: no uuid_getvar conference_name")
	}

	wantRoom, gotRoom := roomEvents(t, cmds, want), roomEvents(t, cmds, got)
	for _, action := range []string{"conference-create", "add-member", "del-member", "conference-destroy"} {
		if len(wantRoom[action]) == 0 || len(gotRoom[action]) != len(wantRoom[action]) {
			t.Errorf("%s: simulator %d events, FreeSWITCH %d", action, len(gotRoom[action]), len(wantRoom[action]))
			continue
		}
		for i, g := range gotRoom[action] {
			if w := wantRoom[action][i]; !slices.Equal(g, w) {
				t.Errorf("%s #%d headers:\n  simulator:  %v\n  FreeSWITCH: %v", action, i+1, g, w)
			}
		}
	}
}

// Capture 13: `show channels` sent right after a channel's CHANNEL_CREATE does not list it,
// while uuid_exists answers true; a later listing has it. The simulator with ShowChannelsLag
// does the same.
func checkListingLag(t *testing.T, cmds []string, want, got []*wire.Frame) {
	legs, _ := originated(cmds)
	leg := legs[0]
	for _, side := range []struct {
		name   string
		frames []*wire.Frame
	}{{"FreeSWITCH", want}, {"simulator", got}} {
		replies := replyTexts(cmds, side.frames)
		var listed []bool
		for i, c := range cmds {
			switch {
			case c == "api "+freeswitch.ShowChannelsJSON():
				listed = append(listed, strings.Contains(replies[i], leg))
			case c == "api uuid_exists "+leg && len(listed) == 1:
				if replies[i] != "true" {
					t.Errorf("%s: uuid_exists after the first listing: %q", side.name, replies[i])
				}
			}
		}
		if !slices.Equal(listed, []bool{false, true}) {
			t.Errorf("%s: the channel listed %v by the two show channels; want [false true]", side.name, listed)
		}
		// The first listing was answered after the channel's CHANNEL_CREATE.
		created := false
		for _, f := range side.frames {
			if e, err := wire.ParsePlainEvent(f); err == nil && e.Name() == "CHANNEL_CREATE" && e.UniqueID() == leg {
				created = true
			}
			if f.ContentType() == "api/response" && strings.Contains(string(f.Body), "row_count") {
				if !created {
					t.Errorf("%s: the first show channels was answered before the channel's CHANNEL_CREATE", side.name)
				}
				break
			}
		}
	}
}
