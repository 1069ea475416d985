package fsim

// bridge joins two legs; events about it are sent on leg a (the first uuid of uuid_bridge), as
// FreeSWITCH does.
type bridge struct{ a, b *channel }

func (b *bridge) other(ch *channel) *channel {
	if b.a == ch {
		return b.b
	}
	return b.a
}

// uuidBridge runs an accepted `uuid_bridge a b`. A leg whose originate has not returned makes
// that originate answer -ERR ORIGINATOR_CANCEL (lab README). Caller holds s.mu.
func (s *Server) uuidBridge(a, b *channel) {
	if r := &s.history[a.record]; r.Bridged.IsZero() {
		r.Bridged = s.o.Clock.Now()
	}
	s.preempt(a)
	s.preempt(b)
	s.connect(a, b)
}

// connect bridges a and b (uuid_bridge a b). Caller holds s.mu.
func (s *Server) connect(a, b *channel) {
	for _, ch := range []*channel{a, b} {
		s.detach(ch)
	}
	for _, ch := range []*channel{a, b} {
		if !ch.answered {
			s.cancel(ch.ring)
			ch.ring = nil
			ch.answered, ch.answeredAt = true, s.o.Clock.Now()
			s.emitChannel("CHANNEL_ANSWER", ch, nil)
		}
	}
	br := &bridge{a: a, b: b}
	a.bridge, b.bridge = br, br
	a.running, b.running = [2]string{"uuid_bridge", b.uuid}, [2]string{"uuid_bridge", a.uuid}
	s.emitBridge("CHANNEL_BRIDGE", br, nil)
}

// detach stops what a leg runs before a bridge or a transfer gives it something else: a bridge
// (its partner re-parks with park_after_bridge, else hangs up), a room (del-member), a
// playback's end, a conference about to start. Caller holds s.mu.
func (s *Server) detach(ch *channel) {
	if ch.bridge != nil { // bridging a bridged leg takes it away from its old partner
		old := ch.bridge
		other := old.other(ch)
		ch.bridge, other.bridge = nil, nil
		s.emitBridge("CHANNEL_UNBRIDGE", old, nil)
		if other.flag("park_after_bridge") {
			other.running = [2]string{"park", ""}
			s.emitChannel("CHANNEL_PARK", other, nil)
		} else {
			s.hangup(other, "NORMAL_CLEARING")
		}
	}
	if ch.room != nil {
		if r := s.leaveRoom(ch, ""); r != nil {
			s.endRoom(r)
		}
	}
	for _, t := range []**timer{&ch.plan, &ch.join} {
		s.cancel(*t)
		*t = nil
	}
}
