package fsim

import (
	"slices"
	"strings"
)

// Loopback pairs whose far leg runs an inline dialplan (captures 17): `originate {…}
// loopback/conference:ROOM_B@PROFILE/default/inline &conference(ROOM_A@PROFILE)` makes two legs,
// the a leg (the origination_uuid) and a b leg of a fresh UUID, Channel-Name
// loopback/EXTEN-b, with the a leg's variables plus other_loopback_leg_uuid and loopback_leg B.
// Both are created, show media and answer in the same instant; the b leg joins ROOM_B at once
// (before the originate returns); the a leg's originate returns OriginateReturn later and the a
// leg joins ROOM_A. The two rooms hear each other through the pair. When the a leg hangs up, the
// b leg leaves its room and hangs up NORMAL_CLEARING; when the b leg hangs up, the a leg hangs
// up after it with its cause (unloopLocked). Other loopback dial strings stay one leg, as a SIP
// gateway gives.

// loopbackInline is the inline dialplan of a `loopback/EXTEN/CONTEXT/inline` dial string.
func loopbackInline(dial string) (exten string, ok bool) {
	rest, ok := strings.CutPrefix(dial, "loopback/")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[2] != "inline" || parts[0] == "" {
		return "", false
	}
	return parts[0], true
}

// loopbackPairLocked makes the b leg of a, whose CHANNEL_CREATE is out, and answers both.
// Caller holds s.mu.
func (s *Server) loopbackPairLocked(a *channel, exten string) {
	b := &channel{uuid: newUUID(), dial: "loopback/" + exten + "-b", dest: exten, fate: Fate{Answer: true},
		created: a.created, loop: a, loopB: true}
	b.vars = append(slices.Clone(a.vars), [2]string{"other_loopback_leg_uuid", a.uuid}, [2]string{"loopback_leg", "B"})
	a.loop = b
	a.setVar("other_loopback_leg_uuid", b.uuid)
	a.setVar("loopback_leg", "A")
	s.created++
	b.record = len(s.history)
	s.history = append(s.history, ChannelRecord{UUID: b.uuid, Dial: b.dial, Created: b.created})
	s.chans[b.uuid] = b
	s.emitChannelLocked("CHANNEL_CREATE", b, nil)
	s.emitChannelLocked("CHANNEL_PROGRESS_MEDIA", a, nil)
	s.emitChannelLocked("CHANNEL_PROGRESS_MEDIA", b, nil)
	s.answerLocked(a, a.fate)
	b.answered, b.answeredAt = true, s.o.Clock.Now()
	s.history[b.record].Answered = b.answeredAt
	s.emitChannelLocked("CHANNEL_ANSWER", b, nil)
	b.transferredAt, b.transferDest = b.created, exten
	s.runDialplanLocked(b, exten) // a conference joined in the answer's instant

}

// unloopLocked parts a loopback pair whose leg ch hangs up (its CHANNEL_HANGUP is out). When ch
// is the a leg, the b leg leaves its room (del-member without a cause), its application ends and
// it hangs up, NORMAL_CLEARING whatever ch's cause (capture 17; uuid_kill A USER_BUSY on the lab
// switch gave the b leg NORMAL_CLEARING), all before ch's own del-member. When ch is the b leg,
// the a leg is returned: the caller hangs it up with ch's cause once ch's events are out. Caller
// holds s.mu.
func (s *Server) unloopLocked(ch *channel) (aLeg *channel) {
	o := ch.loop
	if o == nil {
		return nil
	}
	ch.loop, o.loop = nil, nil
	if s.chans[o.uuid] != o {
		return nil
	}
	if ch.loopB {
		return o
	}
	if o.room != nil {
		if r := s.leaveRoomLocked(o, ""); r != nil {
			s.endRoomLocked(r)
		}
	}
	for _, t := range []**timer{&o.plan, &o.join} {
		s.cancelLocked(*t)
		*t = nil
	}
	o.steps = nil
	s.completeAppLocked(o, "")
	s.hangupLocked(o, "NORMAL_CLEARING")
	return nil
}

// LoopbackPeer is the other leg of a loopback pair whose b leg runs an inline dialplan (the b
// leg of an originated a leg, or the a leg of a b leg); "" when uuid is no such leg or the pair
// has parted.
func (s *Server) LoopbackPeer(uuid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.chans[uuid]; ch != nil && ch.loop != nil {
		return ch.loop.uuid
	}
	return ""
}
