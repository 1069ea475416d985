package fsim

import (
	"strings"
	"time"
)

// roomStart is how long the conference application of an inline dialplan takes to add the
// member: capture 11's add-member comes about 20 ms after the uuid_transfer.
const roomStart = 20 * time.Millisecond

// transferInlineLocked runs `uuid_transfer C 'APPS' inline` (or `uuid_transfer C APP:DATA inline`):
// what the leg ran stops (a bridge, a room, a playback) and the dialplan runs. Before the leg's
// originateLocked has returned, the originate answers -ERR ORIGINATOR_CANCEL (capture 11). Caller
// holds s.mu.
func (s *Server) transferInlineLocked(ch *channel, dialplan string) {
	s.preemptLocked(ch)
	s.detachLocked(ch)
	ch.transferredAt, ch.transferDest = s.o.Clock.Now(), strings.Trim(dialplan, "'")
	s.runDialplanLocked(ch, dialplan)
}

// runDialplanLocked runs an inline dialplan: playback, hangup, park, conference. The plain
// `playback:X,hangup` form splits a tone_stream's commas and the switch then fails the call
// with DESTINATION_OUT_OF_ORDER (docs/event-socket.md §4); `m:^:` makes ^ the separator. A conference
// application keeps the leg in its room until it leaves. Caller holds s.mu.
func (s *Server) runDialplanLocked(ch *channel, dialplan string) {
	dialplan = strings.Trim(dialplan, "'")
	sep := ","
	if rest, ok := strings.CutPrefix(dialplan, "m:"); ok && len(rest) > 1 && rest[1] == ':' {
		sep, dialplan = rest[:1], rest[2:]
	}
	delay, cause := time.Duration(0), ""
steps:
	for _, step := range strings.Split(dialplan, sep) {
		app, arg, _ := strings.Cut(step, ":")
		switch app {
		case "playback":
			if strings.Contains(arg, "%(") && !strings.Contains(arg, ")") {
				cause = "DESTINATION_OUT_OF_ORDER" // a tone_stream cut at its comma
			}
			if delay == 0 {
				ch.running = [2]string{app, arg}
			}
			delay += s.o.Playback
		case "hangup":
			cause = cmp(cause, cmp(arg, "NORMAL_CLEARING"))
		case "park":
			ch.running = [2]string{app, ""}
			s.emitChannelLocked("CHANNEL_PARK", ch, nil)
		case "conference":
			if cause == "" {
				ch.join = s.afterLocked(delay+roomStart, func() {
					ch.join = nil
					s.joinRoomLocked(ch, arg)
				})
			}
			break steps // the leg stays in the room: what follows runs only once it leaves
		default:
			if cause == "" && app != "" && !strings.HasPrefix(app, "%(") && !strings.HasPrefix(app, "tone_stream") {
				cause = "DESTINATION_OUT_OF_ORDER"
			}
		}
	}
	if cause != "" {
		ch.plan = s.afterLocked(delay, func() {
			ch.plan = nil
			s.hangupLocked(ch, cause)
		})
	}
}
