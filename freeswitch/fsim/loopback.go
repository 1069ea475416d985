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
// leg joins ROOM_A. The two rooms hear each other through the pair. When one leg hangs up, the
// other leaves its room (del-member without a cause), ends its application and hangs up with the
// same cause. Other loopback dial strings stay one leg, as a SIP gateway gives.

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

// unloopLocked ends the other half of a loopback pair whose leg ch hangs up with cause: it
// leaves its room, its application ends, then it hangs up. Caller holds s.mu.
func (s *Server) unloopLocked(ch *channel, cause string) {
	o := ch.loop
	if o == nil {
		return
	}
	ch.loop, o.loop = nil, nil
	if s.chans[o.uuid] != o {
		return
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
	s.hangupLocked(o, cause)
}
