package fsim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// conferenceMaintenance is the CUSTOM subclass of mod_conference's room and member events.
const conferenceMaintenance = "conference::maintenance"

// Timings of mod_conference on the lab switch (captures 16 to 18): a room emptied is destroyed
// by its own thread one 20 ms interval later (conference-destroy after the last member's
// del-member, or after its HANGUP_COMPLETE when it hung up); a member joining meanwhile keeps
// it. The floor (the `floor` flag of `conference NAME list`) is not held at once by a member
// that joins an empty room.
const (
	roomEnd    = 20 * time.Millisecond
	floorDelay = 20 * time.Millisecond
)

// room is one conference of mod_conference, `NAME@PROFILE`: made when its first member joins,
// destroyed roomEnd after its last member leaves. Every field is guarded by Server.mu.
type room struct {
	name, profile, id string
	members           []*channel // in order of joining
	// moh is the hold music the room plays to a member alone in it: with the lab's profiles
	// (no moh-sound), the conference_moh_sound variable of the member that made the room.
	moh    string
	floor  *channel // the member holding the floor, if any
	ending *timer   // the destroy of a room left empty
	giving *timer   // the floor being given
}

// Room is the conference a channel is a member of now, as NAME@PROFILE (the profile the room
// was made with), and whether it is in one.
func (s *Server) Room(uuid string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chans[uuid]
	if ch == nil || ch.room == nil {
		return "", false
	}
	return ch.room.name + "@" + ch.room.profile, true
}

// Members is the UUIDs of the members of a conference (NAME or NAME@PROFILE: a conference is
// known by its name), in order of joining; nil when no such conference exists or it is empty.
func (s *Server) Members(room string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _, _ := strings.Cut(room, "@")
	r := s.rooms[name]
	if r == nil || len(r.members) == 0 {
		return nil
	}
	out := make([]string, len(r.members))
	for i, m := range r.members {
		out[i] = m.uuid
	}
	return out
}

// HoldMusic is what a conference (NAME or NAME@PROFILE) plays to a member alone in it: the
// conference_moh_sound of the member that made it ("" when that member had none or no such
// room exists). The simulator plays nothing; tests read what the switch would play.
func (s *Server) HoldMusic(room string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _, _ := strings.Cut(room, "@")
	if r := s.rooms[name]; r != nil {
		return r.moh
	}
	return ""
}

// joinRoomLocked runs the conference application: the leg joins NAME@PROFILE, which is made first
// when it does not exist (conference-create, then add-member, as in capture 11). A leg keeps its
// Member-ID from room to room (captures 16 to 18). Caller holds s.mu.
func (s *Server) joinRoomLocked(ch *channel, spec string) {
	if s.chans[ch.uuid] != ch {
		return
	}
	name, profile, _ := strings.Cut(spec, "@")
	profile = cmp(profile, "default")
	if ch.room != nil {
		if r := s.leaveRoomLocked(ch, ""); r != nil {
			s.endRoomLocked(r)
		}
	}
	r := s.rooms[name]
	if r == nil {
		r = &room{name: name, profile: profile, id: newUUID()}
		r.moh, _ = ch.getVar("conference_moh_sound")
		s.rooms[name] = r
		s.emitCustomLocked(conferenceMaintenance, append(s.roomFields(r), [2]string{"Action", "conference-create"}))
	}
	s.cancelLocked(r.ending)
	r.ending = nil
	if ch.memberID == 0 {
		s.members++
		ch.memberID = s.members
	}
	ch.room = r
	ch.setVar("conference_name", name) // mod_conference's, without the profile (capture 12)
	ch.running = [2]string{"conference", name + "@" + r.profile}
	r.members = append(r.members, ch)
	s.emitMemberLocked(ch, "add-member", "")
	s.giveFloorLocked(r)
}

// giveFloorLocked gives a room without a floor holder to its longest member, floorDelay
// later. Caller holds s.mu.
func (s *Server) giveFloorLocked(r *room) {
	if r.floor != nil || r.giving != nil || len(r.members) == 0 {
		return
	}
	r.giving = s.afterLocked(floorDelay, func() {
		r.giving = nil
		if r.floor == nil && len(r.members) > 0 && s.rooms[r.name] == r {
			r.floor = r.members[0]
		}
	})
}

// leaveRoomLocked takes a member out of its room (del-member; cause: it hung up). The room it leaves
// empty is returned: the caller ends it (endRoomLocked) once the member's own events are sent.
// Caller holds s.mu.
func (s *Server) leaveRoomLocked(ch *channel, cause string) *room {
	r := ch.room
	r.members = slices.DeleteFunc(r.members, func(m *channel) bool { return m == ch })
	s.emitMemberLocked(ch, "del-member", cause)
	ch.room = nil
	if r.floor == ch {
		r.floor = nil
		s.giveFloorLocked(r)
	}
	if len(r.members) > 0 {
		return nil
	}
	return r
}

// endRoomLocked destroys a room its last member left, roomEnd later (conference-destroy), unless
// a member joins it first. Caller holds s.mu.
func (s *Server) endRoomLocked(r *room) {
	s.cancelLocked(r.ending)
	r.ending = s.afterLocked(roomEnd, func() {
		r.ending = nil
		if len(r.members) > 0 || s.rooms[r.name] != r {
			return
		}
		delete(s.rooms, r.name)
		s.cancelLocked(r.giving)
		r.giving = nil
		s.emitCustomLocked(conferenceMaintenance, append(s.roomFields(r), [2]string{"Action", "conference-destroy"}))
	})
}

// conferenceListLocked answers `conference NAME list` as mod_conference does (captures 16 to
// 18): one line per member, the latest to join first,
// `ID;CHANNEL;UUID;CALLER-ID-NAME;CALLER-ID-NUMBER;FLAGS;VOLUME-IN;VOLUME-OUT;ENERGY`, the flags
// `hear|speak`, with `|floor` for the floor holder; a room that does not exist is
// `-ERR Conference NAME not found`. Caller holds s.mu.
func (s *Server) conferenceListLocked(name string) string {
	r := s.rooms[name]
	if r == nil {
		return "-ERR Conference " + name + " not found\n"
	}
	var b strings.Builder
	for i := len(r.members) - 1; i >= 0; i-- {
		m := r.members[i]
		cidName, cidNum := "Outbound Call", cmpVar(m, "origination_caller_id_number", "0000000000")
		if m.loop != nil && m.loopB {
			cidName = "" // the b leg of a loopback pair has the a leg's number and no name
		}
		flags := "hear|speak"
		if r.floor == m {
			flags += "|floor"
		}
		fmt.Fprintf(&b, "%d;%s;%s;%s;%s;%s;0;0;0\n", m.memberID, m.dial, m.uuid, cidName, cidNum, flags)
	}
	return b.String()
}

func cmpVar(ch *channel, name, def string) string {
	v, _ := ch.getVar(name)
	return cmp(v, def)
}

// roomFields open every conference::maintenance event (capture 11).
func (s *Server) roomFields(r *room) [][2]string {
	return [][2]string{{"Conference-Name", r.name}, {"Conference-Domain", "127.0.0.1"},
		{"Conference-Size", strconv.Itoa(len(r.members))}, {"Conference-Ghosts", "0"},
		{"Conference-Profile-Name", r.profile}, {"Conference-Unique-ID", r.id}}
}

// emitMemberLocked sends add-member / del-member with the header set of captures 11 and 12: the
// room, the member's channel (after a hangup, Answer-State hangup and its Hangup-Cause) and
// codecs, its whole caller profile (with Caller-Transfer-Source when the leg came to its room
// by a transfer to an inline dialplan) and its member flags.
func (s *Server) emitMemberLocked(ch *channel, action, cause string) {
	stateNumber, answer := "4", "answered"
	if cause != "" {
		stateNumber, answer = "10", "hangup"
	}
	f := s.roomFields(ch.room)
	f = append(f, [][2]string{{"Floor", "false"}, {"Channel-State", "CS_EXECUTE"}, {"Channel-Call-State", "ACTIVE"},
		{"Channel-State-Number", stateNumber}, {"Channel-Name", ch.dial}, {"Unique-ID", ch.uuid},
		{"Call-Direction", "outbound"}, {"Presence-Call-Direction", "outbound"}, {"Channel-HIT-Dialplan", "true"},
		{"Channel-Call-UUID", ch.uuid}, {"Answer-State", answer}}...)
	if cause != "" {
		f = append(f, [2]string{"Hangup-Cause", cause})
	}
	f = append(f, [][2]string{{"Channel-Read-Codec-Name", "PCMU"}, {"Channel-Read-Codec-Rate", "8000"},
		{"Channel-Read-Codec-Bit-Rate", "64000"}, {"Channel-Write-Codec-Name", "PCMU"}, {"Channel-Write-Codec-Rate", "8000"},
		{"Channel-Write-Codec-Bit-Rate", "64000"}}...)
	f = append(f, s.callerProfile(ch)...)
	f = append(f, [][2]string{{"Video", "false"}, {"Hear", "true"}, {"See", "true"}, {"Speak", "true"},
		{"Talking", "false"}, {"Mute-Detect", "false"}, {"Hold", "false"}, {"Member-ID", strconv.Itoa(ch.memberID)},
		{"Member-Type", "member"}, {"Member-Ghost", "false"}, {"Energy-Level", "100"}, {"Current-Energy", "0"},
		{"Action", action}}...)
	s.emitCustomLocked(conferenceMaintenance, f)
}

// callerProfile is a channel's whole caller profile as mod_conference's member events carry it
// (captures 11, 12). A transfer to an inline dialplan makes a second profile: dialplan inline,
// index 2, created at the transfer, with Caller-Transfer-Source.
func (s *Server) callerProfile(ch *channel) [][2]string {
	cid, _ := ch.getVar("origination_caller_id_number")
	cid = cmp(cid, "0000000000")
	usec := func(t time.Time) string {
		if t.IsZero() {
			return "0"
		}
		return strconv.FormatInt(t.UnixMicro(), 10)
	}
	dialplan, index, profileCreated := "xml", "1", ch.created
	if !ch.transferredAt.IsZero() {
		dialplan, index, profileCreated = "inline", "2", ch.transferredAt
	}
	f := [][2]string{{"Caller-Direction", "outbound"}, {"Caller-Logical-Direction", "outbound"},
		{"Caller-Dialplan", dialplan}, {"Caller-Caller-ID-Name", "Outbound Call"}, {"Caller-Caller-ID-Number", cid},
		{"Caller-Orig-Caller-ID-Number", cid}, {"Caller-Callee-ID-Number", ch.dest}, {"Caller-ANI", cid},
		{"Caller-Destination-Number", ch.dest}, {"Caller-Unique-ID", ch.uuid}, {"Caller-Source", "src/switch_ivr_originate.c"}}
	if !ch.transferredAt.IsZero() {
		f = append(f, [2]string{"Caller-Transfer-Source",
			fmt.Sprintf("%d:%s:bl_xfer:%s/default/inline", ch.transferredAt.Unix(), ch.uuid, ch.transferDest)})
	}
	answered := time.Time{}
	if ch.answered {
		answered = ch.answeredAt
	}
	return append(f, [][2]string{{"Caller-Context", "default"}, {"Caller-Channel-Name", ch.dial},
		{"Caller-Profile-Index", index}, {"Caller-Profile-Created-Time", usec(profileCreated)},
		{"Caller-Channel-Created-Time", usec(ch.created)}, {"Caller-Channel-Answered-Time", usec(answered)},
		{"Caller-Channel-Progress-Time", usec(ch.progressAt)}, {"Caller-Channel-Progress-Media-Time", "0"},
		{"Caller-Channel-Hangup-Time", "0"}, {"Caller-Channel-Transfer-Time", "0"}, {"Caller-Channel-Resurrect-Time", "0"},
		{"Caller-Channel-Bridged-Time", "0"}, {"Caller-Channel-Last-Hold", "0"}, {"Caller-Channel-Hold-Accum", "0"},
		{"Caller-Screen-Bit", "true"}, {"Caller-Privacy-Hide-Name", "false"}, {"Caller-Privacy-Hide-Number", "false"}}...)
}
