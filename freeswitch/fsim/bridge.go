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

// uuidBridgeLocked runs an accepted `uuid_bridge a b`. A leg whose originate has not returned makes
// that originate answer -ERR ORIGINATOR_CANCEL (lab README). When either leg's far end hangs up
// within BridgeSetup of the command (or its fate hangs up at the bridge), that leg is no longer
// ready once the bridge is set up, and uuid_bridge_on_soft_execute (src/switch_ivr_bridge.c)
// hangs up the other leg with DESTINATION_OUT_OF_ORDER: a customer who leaves at that instant
// takes the agent's phone with them. Caller holds s.mu.
func (s *Server) uuidBridgeLocked(a, b *channel) {
	now := s.o.Clock.Now()
	if r := &s.history[a.record]; r.Bridged.IsZero() {
		r.Bridged = now
	}
	for _, ch := range []*channel{a, b} {
		s.preemptLocked(ch)
		if ch.fate.HangupOnBridge && ch.answered {
			s.farEndHangupLocked(ch, 0)
		}
	}
	leaving := func(ch *channel) bool {
		return ch.talk != nil && s.o.BridgeSetup >= 0 && !ch.talkEnds.After(now.Add(s.o.BridgeSetup))
	}
	if !leaving(a) && !leaving(b) {
		s.connectLocked(a, b)
		return
	}
	for _, ch := range []*channel{a, b} {
		s.detachLocked(ch)
	}
	a.bridging, b.bridging = b, a
	// Should the leaving leg not leave after all (its hangup cancelled), the bridge is made.
	s.afterLocked(s.o.BridgeSetup, func() {
		if a.bridging == b && b.bridging == a && s.chans[a.uuid] == a && s.chans[b.uuid] == b {
			a.bridging, b.bridging = nil, nil
			s.connectLocked(a, b)
		}
	})
}

// connectLocked bridges a and b (uuid_bridge a b). Caller holds s.mu.
func (s *Server) connectLocked(a, b *channel) {
	for _, ch := range []*channel{a, b} {
		s.detachLocked(ch)
	}
	for _, ch := range []*channel{a, b} {
		if !ch.answered {
			s.cancelLocked(ch.ring)
			ch.ring = nil
			ch.answered, ch.answeredAt = true, s.o.Clock.Now()
			s.emitChannelLocked("CHANNEL_ANSWER", ch, nil)
		}
	}
	br := &bridge{a: a, b: b}
	a.bridge, b.bridge = br, br
	a.running, b.running = [2]string{"uuid_bridge", b.uuid}, [2]string{"uuid_bridge", a.uuid}
	s.emitBridgeLocked("CHANNEL_BRIDGE", br, nil)
}

// detachLocked stops what a leg runs before a bridge or a transfer gives it something else: a bridge
// (its partner re-parks with park_after_bridge, else hangs up), a room (del-member), a pending
// bridge, a playback's end, a conference about to start. Caller holds s.mu.
func (s *Server) detachLocked(ch *channel) {
	if ch.bridge != nil { // bridging a bridged leg takes it away from its old partner
		old := ch.bridge
		other := old.other(ch)
		ch.bridge, other.bridge = nil, nil
		s.emitBridgeLocked("CHANNEL_UNBRIDGE", old, nil)
		if other.flag("park_after_bridge") {
			other.running = [2]string{"park", ""}
			s.emitChannelLocked("CHANNEL_PARK", other, nil)
		} else {
			s.hangupLocked(other, "NORMAL_CLEARING")
		}
	}
	if o := ch.bridging; o != nil {
		ch.bridging = nil
		if o.bridging == ch {
			o.bridging = nil
		}
	}
	if ch.room != nil {
		if r := s.leaveRoomLocked(ch, ""); r != nil {
			s.endRoomLocked(r)
		}
	}
	for _, t := range []**timer{&ch.plan, &ch.join} {
		s.cancelLocked(*t)
		*t = nil
	}
	// The application it ran is interrupted: its CHANNEL_EXECUTE_COMPLETE (a wait for silence
	// without its verdict variables), and the rest of its dialplan is dropped (captures 05, 14).
	ch.steps = nil
	s.completeAppLocked(ch, "")
}
