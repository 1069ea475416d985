//go:build record

package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// The agent's desk (issue 16): hold, consult, transfer and conference through rooms. Numbers of
// the recorder's own (NNNNN 4893x, agents 4893 and 4894).
const (
	agent2Dial     = "loopback/agent-4894/agents"
	customerStays  = "loopback/08106048935/customers" // rings 1 s, talks 60 s
	partyTalks8    = "loopback/08100848936/customers" // rings 1 s, talks 8 s, hangs up
	partyNoAnswer  = "loopback/0903048937/customers"  // rings until the originate gives up
	partyBusy      = "loopback/0902048938/customers"  // USER_BUSY
	customerHold   = "tone_stream://%(300,2700,523);loops=-1"
	partyTimeout   = "5"
	customerTimout = "25"
)

// room registers a room of the session (for the foreign-room check) and returns NAME@PROFILE.
func (s *session) room(name string) string {
	s.mu.Lock()
	s.rooms[name] = true
	s.mu.Unlock()
	return must(freeswitch.Room(name, profile))
}

// batch sends api commands in one write, as the engine's APIBatch does, and returns their
// replies in order. The timeline has one SEND line per command, all at the time of the write.
func (s *session) batch(cmds ...string) ([]string, error) {
	var all []byte
	s.mu.Lock()
	at := time.Since(s.t0).Seconds()
	for _, c := range cmds {
		b := []byte("api " + c + "\n\n")
		fmt.Fprintf(&s.timeline, "%.6f\tSEND\toffset=%d\tlen=%d\n", at, s.sent.Len(), len(b))
		s.sent.Write(b)
		all = append(all, b...)
	}
	_, err := s.nc.Write(all)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(cmds))
	for range cmds {
		select {
		case f := <-s.replies:
			out = append(out, string(f.Body))
		case <-s.done:
			return out, fmt.Errorf("batch: connection ended: %v", s.err)
		case <-time.After(10 * time.Second):
			return out, fmt.Errorf("batch: no reply within 10 s")
		}
	}
	return out, nil
}

// deskCustomer dials a customer as the engine does for the desk: conference_moh_sound on the
// customer's leg, so the hold room the customer creates plays it.
func (s *session) deskCustomer(leg, dial string, attempt int) (string, error) {
	return s.originate(freeswitch.Originate{UUID: leg, DialString: dial, App: "&park()",
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: customerCallerID},
			{Name: "originate_timeout", Value: customerTimout}, {Name: "ignore_early_media", Value: "true"},
			{Name: "dialer_attempt_id", Value: fmt.Sprint(attempt)},
			{Name: "conference_enter_sound", Value: beepTone}, {Name: "conference_moh_sound", Value: customerHold}}})
}

// party originates a third party straight into a room.
func (s *session) party(leg, dial, room string) (string, error) {
	return s.originate(freeswitch.Originate{UUID: leg, DialString: dial, App: "&conference(" + room + ")",
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: customerCallerID},
			{Name: "originate_timeout", Value: partyTimeout}, {Name: "ignore_early_media", Value: "true"},
			{Name: "conference_moh_sound", Value: customerHold}}})
}

// agentUp calls an agent's phone into its room and waits until it is there.
func (s *session) agentUp(leg, dial string) error {
	room := s.room(leg)
	job, err := s.originate(freeswitch.Originate{UUID: leg, DialString: dial,
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: agentCallerID},
			{Name: "ignore_early_media", Value: "true"}, {Name: "originate_timeout", Value: "30"},
			{Name: "conference_moh_sound", Value: holdTone}},
		Inline: []freeswitch.App{{Name: "conference", Data: room}}})
	if err != nil {
		return err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("agent's originate: %q %v", r, err)
	}
	_, err = s.wait("the agent "+leg+" in its room", 5*time.Second, member("add-member", leg))
	return err
}

// customerIn dials a customer and moves it into room once its originate has returned.
func (s *session) customerIn(leg, room string, attempt int) error {
	job, err := s.deskCustomer(leg, customerStays, attempt)
	if err != nil {
		return err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("customer %s: originate %q %v", leg, r, err)
	}
	return s.move(leg, room)
}

// move transfers a leg into a room and waits for its add-member there.
func (s *session) move(leg, room string) error {
	if r, err := s.api(must(freeswitch.UUIDTransferToRoom(leg, room))); err != nil || r != "+OK\n" {
		return fmt.Errorf("move of %s to %s: %q %v", leg, room, r, err)
	}
	name, _, _ := strings.Cut(room, "@")
	_, err := s.wait(leg+" in "+name, 2*time.Second, func(e *wire.Event) bool {
		return member("add-member", leg)(e) && e.Header.Get("Conference-Name") == name
	})
	return err
}

// list asks who is in a room and checks that the answer names exactly the legs given.
func (s *session) list(room string, legs ...string) (string, error) {
	r, err := s.api(must(freeswitch.ConferenceList(room)))
	if err != nil {
		return "", err
	}
	for _, l := range legs {
		if !strings.Contains(r, l) {
			return r, fmt.Errorf("conference %s list does not name %s: %q", room, l, r)
		}
	}
	return r, nil
}

func (s *session) kill(leg string) error {
	if r, err := s.api(must(freeswitch.UUIDKill(leg, "NORMAL_CLEARING"))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of %s: %q %v", leg, r, err)
	}
	return s.gone(leg, 3*time.Second)
}

func subscribeEngine(s *session) error {
	if r, err := s.command(must(freeswitch.EventSubscription(freeswitch.EngineEvents()))); err != nil || r != "+OK event listener enabled plain" {
		return fmt.Errorf("subscription: %q %v", r, err)
	}
	return nil
}

// deskHold is capture 16: an agent in its room, a customer moved in, listed; put on hold in a
// room of its own (`C-hold`, made by the customer, whose conference_moh_sound it plays), both
// rooms listed; back into the agent's room (the hold room destroyed), the list of a room that is
// gone; the customer and the agent hung up.
func deskHold(s *session) error {
	if err := subscribeEngine(s); err != nil {
		return err
	}
	a, c := freeswitch.NewUUID(), freeswitch.NewUUID()
	if err := s.agentUp(a, agentDial); err != nil {
		return err
	}
	room := s.room(a)
	if _, err := s.list(room, a); err != nil {
		return err
	}
	if err := s.customerIn(c, room, 1); err != nil {
		return err
	}
	if _, err := s.list(room, a, c); err != nil {
		return err
	}
	hold := s.room(c + "-hold")
	if err := s.move(c, hold); err != nil {
		return err
	}
	if _, err := s.list(room, a); err != nil {
		return err
	}
	if _, err := s.list(hold, c); err != nil {
		return err
	}
	time.Sleep(time.Second)
	if err := s.move(c, room); err != nil {
		return err
	}
	if _, err := s.wait("the hold room's end", 2*time.Second, roomEvent("conference-destroy", c+"-hold")); err != nil {
		return err
	}
	if _, err := s.list(room, a, c); err != nil {
		return err
	}
	if r, err := s.list(hold); err != nil || !strings.HasPrefix(r, "-ERR Conference ") {
		return fmt.Errorf("list of the hold room once gone: %q %v", r, err)
	}
	if r, err := s.api(must(freeswitch.UUIDGetVar(c, "conference_name"))); err != nil || r != a {
		return fmt.Errorf("conference_name of the customer back: %q %v", r, err)
	}
	if err := s.kill(c); err != nil {
		return err
	}
	if err := s.kill(a); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	return s.exit()
}

// deskConsult is capture 17: agent 1's room and agent 2's room joined by a loopback pair whose
// b leg runs the inline dialplan conference:ROOM2 and whose a leg (origination_uuid L) runs
// &conference(ROOM1); the customer on hold meanwhile. Both rooms listed. Then the finish of a
// transfer to agent 2: the customer moved into agent 2's room, L killed (what its b leg does).
func deskConsult(s *session) error {
	if err := subscribeEngine(s); err != nil {
		return err
	}
	a1, a2, c, l := freeswitch.NewUUID(), freeswitch.NewUUID(), freeswitch.NewUUID(), freeswitch.NewUUID()
	if err := s.agentUp(a1, agentDial); err != nil {
		return err
	}
	if err := s.agentUp(a2, agent2Dial); err != nil {
		return err
	}
	room1, room2 := s.room(a1), s.room(a2)
	if err := s.customerIn(c, room1, 1); err != nil {
		return err
	}
	if err := s.move(c, s.room(c+"-hold")); err != nil {
		return err
	}
	job, err := s.originate(freeswitch.Originate{UUID: l, DialString: freeswitch.LoopbackToRoom(room2),
		App: "&conference(" + room1 + ")",
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: agentCallerID},
			{Name: "originate_timeout", Value: "30"}, {Name: "ignore_early_media", Value: "true"}}})
	if err != nil {
		return err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("loopback originate: %q %v", r, err)
	}
	if _, err := s.wait("the loopback a leg in room 1", 3*time.Second, member("add-member", l)); err != nil {
		return err
	}
	b, err := s.wait("the loopback b leg in room 2", 3*time.Second, func(e *wire.Event) bool {
		return e.Header.Get("Action") == "add-member" && e.Header.Get("Conference-Name") == a2 && e.UniqueID() != a2
	})
	if err != nil {
		return err
	}
	bleg := b.UniqueID()
	if _, err := s.list(room1, a1, l); err != nil {
		return err
	}
	if _, err := s.list(room2, a2, bleg); err != nil {
		return err
	}
	time.Sleep(time.Second)
	// Finish: the customer into agent 2's room, the loopback pair hung up.
	if err := s.move(c, room2); err != nil {
		return err
	}
	if err := s.kill(l); err != nil {
		return err
	}
	if err := s.gone(bleg, 3*time.Second); err != nil {
		return err
	}
	if _, err := s.list(room1, a1); err != nil {
		return err
	}
	if _, err := s.list(room2, a2, c); err != nil {
		return err
	}
	for _, leg := range []string{c, a1, a2} {
		if err := s.kill(leg); err != nil {
			return err
		}
	}
	time.Sleep(300 * time.Millisecond)
	return s.exit()
}

// deskTransfer is capture 18: outside parties originated into the agent's room while the
// customer waits on hold: one that never answers (originate_timeout 5: -ERR NO_ANSWER), one
// busy, one that answers and joins; the room listed with the agent and the party. Then the
// finish of a transfer: the customer and the party moved together (one batch of two
// uuid_transfer) into `C-xfer`; the party hangs up by itself (8 s after its answer): what the
// customer, alone there, sees. The customer and the agent are hung up.
func deskTransfer(s *session) error {
	if err := subscribeEngine(s); err != nil {
		return err
	}
	a, c, p1, p2, p3 := freeswitch.NewUUID(), freeswitch.NewUUID(), freeswitch.NewUUID(), freeswitch.NewUUID(), freeswitch.NewUUID()
	if err := s.agentUp(a, agentDial); err != nil {
		return err
	}
	room := s.room(a)
	if err := s.customerIn(c, room, 1); err != nil {
		return err
	}
	if err := s.move(c, s.room(c+"-hold")); err != nil {
		return err
	}
	job, err := s.party(p2, partyNoAnswer, room)
	if err != nil {
		return err
	}
	if r, err := s.jobResult(job, 8*time.Second); err != nil || r != "-ERR NO_ANSWER" {
		return fmt.Errorf("party that does not answer: %q %v", r, err)
	}
	if job, err = s.party(p3, partyBusy, room); err != nil {
		return err
	}
	if r, err := s.jobResult(job, 3*time.Second); err != nil || r != "-ERR USER_BUSY" {
		return fmt.Errorf("busy party: %q %v", r, err)
	}
	if job, err = s.party(p1, partyTalks8, room); err != nil {
		return err
	}
	if r, err := s.jobResult(job, 5*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("party: %q %v", r, err)
	}
	if _, err := s.wait("the party in the room", 2*time.Second, member("add-member", p1)); err != nil {
		return err
	}
	if _, err := s.list(room, a, p1); err != nil {
		return err
	}
	xfer := s.room(c + "-xfer")
	r, err := s.batch(must(freeswitch.UUIDTransferToRoom(c, xfer)), must(freeswitch.UUIDTransferToRoom(p1, xfer)))
	if err != nil || len(r) != 2 || r[0] != "+OK\n" || r[1] != "+OK\n" {
		return fmt.Errorf("finish batch: %q %v", r, err)
	}
	for _, leg := range []string{c, p1} {
		if _, err := s.wait(leg+" in the xfer room", 2*time.Second, func(e *wire.Event) bool {
			return member("add-member", leg)(e) && e.Header.Get("Conference-Name") == c+"-xfer"
		}); err != nil {
			return err
		}
	}
	if _, err := s.list(xfer, c, p1); err != nil {
		return err
	}
	if _, err := s.list(room, a); err != nil {
		return err
	}
	if err := s.gone(p1, 10*time.Second); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := s.list(xfer, c); err != nil {
		return err
	}
	if err := s.kill(c); err != nil {
		return err
	}
	if err := s.kill(a); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	return s.exit()
}

// joinRooms originates a loopback pair joining room2 (its b leg) to room1 (its a leg, leg) and
// returns the b leg once both are in.
func (s *session) joinRooms(leg, room1, room2 string) (string, error) {
	job, err := s.originate(freeswitch.Originate{UUID: leg, DialString: freeswitch.LoopbackToRoom(room2),
		App: "&conference(" + room1 + ")",
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: agentCallerID},
			{Name: "originate_timeout", Value: "30"}, {Name: "ignore_early_media", Value: "true"}}})
	if err != nil {
		return "", err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return "", fmt.Errorf("loopback originate: %q %v", r, err)
	}
	if _, err := s.wait("the loopback a leg in room 1", 3*time.Second, member("add-member", leg)); err != nil {
		return "", err
	}
	name2, _, _ := strings.Cut(room2, "@")
	// A b leg not returned before (match runs with s.mu held: s.legs is read directly).
	b, err := s.wait("the loopback b leg in room 2", 3*time.Second, func(e *wire.Event) bool {
		return e.Header.Get("Action") == "add-member" && e.Header.Get("Conference-Name") == name2 &&
			e.Header.Get("Channel-Name") == "loopback/conference:"+room2+"-b" && e.UniqueID() != "" && s.legs[e.UniqueID()] == ""
	})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.legs[b.UniqueID()] = "b leg"
	s.mu.Unlock()
	return b.UniqueID(), nil
}

// deskPairEnds is capture 19: how a loopback pair joining two agents' rooms ends. 1: its b leg
// killed with CALL_REJECTED (the a leg follows with that cause). 2: its a leg killed with
// USER_BUSY (the b leg leaves its room first and hangs up NORMAL_CLEARING). 3: agent 2's phone
// hangs up while the rooms are joined: the b leg stays alone in agent 2's room (both rooms
// listed), until the a leg is killed.
func deskPairEnds(s *session) error {
	if err := subscribeEngine(s); err != nil {
		return err
	}
	a1, a2 := freeswitch.NewUUID(), freeswitch.NewUUID()
	if err := s.agentUp(a1, agentDial); err != nil {
		return err
	}
	if err := s.agentUp(a2, agent2Dial); err != nil {
		return err
	}
	room1, room2 := s.room(a1), s.room(a2)

	l1 := freeswitch.NewUUID()
	b1, err := s.joinRooms(l1, room1, room2)
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if r, err := s.api(must(freeswitch.UUIDKill(b1, "CALL_REJECTED"))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of the b leg: %q %v", r, err)
	}
	for _, leg := range []string{b1, l1} {
		if err := s.gone(leg, 3*time.Second); err != nil {
			return err
		}
	}
	if e, err := s.wait("the a leg's hangup", time.Second, channelEvent("CHANNEL_HANGUP_COMPLETE", l1)); err != nil || e.Header.Get("Hangup-Cause") != "CALL_REJECTED" {
		return fmt.Errorf("the a leg of a b leg killed CALL_REJECTED: %v", err)
	}
	time.Sleep(300 * time.Millisecond)

	l2 := freeswitch.NewUUID()
	b2, err := s.joinRooms(l2, room1, room2)
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if r, err := s.api(must(freeswitch.UUIDKill(l2, "USER_BUSY"))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of the a leg: %q %v", r, err)
	}
	for _, leg := range []string{l2, b2} {
		if err := s.gone(leg, 3*time.Second); err != nil {
			return err
		}
	}
	time.Sleep(300 * time.Millisecond)

	l3 := freeswitch.NewUUID()
	b3, err := s.joinRooms(l3, room1, room2)
	if err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if err := s.kill(a2); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := s.list(room2, b3); err != nil {
		return err
	}
	if _, err := s.list(room1, a1, l3); err != nil {
		return err
	}
	if err := s.kill(l3); err != nil {
		return err
	}
	if err := s.gone(b3, 3*time.Second); err != nil {
		return err
	}
	if _, err := s.wait("agent 2's room's end", 2*time.Second, roomEvent("conference-destroy", a2)); err != nil {
		return err
	}
	if err := s.kill(a1); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	return s.exit()
}
