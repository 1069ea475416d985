package fsim

import (
	"strings"
	"time"
)

// roomStart is how long a uuid_transfer to a room takes to add the member: capture 11's
// add-member comes about 20 ms after the uuid_transfer. An originate's inline dialplan or one
// that played a prompt first joins the room at once (captures 12, 16).
const roomStart = 20 * time.Millisecond

// transferInlineLocked runs `uuid_transfer C 'APPS' inline` (or `uuid_transfer C APP:DATA inline`):
// what the leg ran stops (a bridge, a room, a playback, a wait for silence: its
// CHANNEL_EXECUTE_COMPLETE comes first, capture 14) and the dialplan runs. Before the leg's
// originateLocked has returned, the originate answers -ERR ORIGINATOR_CANCEL (capture 11). Caller
// holds s.mu.
func (s *Server) transferInlineLocked(ch *channel, dialplan string) {
	s.preemptLocked(ch)
	s.detachLocked(ch)
	ch.transferredAt, ch.transferDest = s.o.Clock.Now(), strings.Trim(dialplan, "'")
	ch.moved = true
	s.runDialplanLocked(ch, dialplan)
}

// inlineApps are the applications the simulator runs in an inline dialplan.
var inlineApps = map[string]bool{"playback": true, "hangup": true, "park": true, "conference": true,
	"avmd_start": true, "avmd_stop": true, "wait_for_silence": true, "detect_audio": true,
	"detect_silence": true, "amd": true}

// runDialplanLocked runs an inline dialplan, one application after the other, each ending with
// its CHANNEL_EXECUTE_COMPLETE (capture 14): playback, hangup, park, conference, and the
// answer-analysis applications of analysis.go. The plain `playback:X,hangup` form splits a
// tone_stream's commas and the switch then fails the call with DESTINATION_OUT_OF_ORDER
// (docs/event-socket.md §4); `m:^:` makes ^ the separator. A conference or park keeps the leg
// until something moves it. Caller holds s.mu.
func (s *Server) runDialplanLocked(ch *channel, dialplan string) {
	dialplan = strings.Trim(dialplan, "'")
	sep := ","
	if rest, ok := strings.CutPrefix(dialplan, "m:"); ok && len(rest) > 1 && rest[1] == ':' {
		sep, dialplan = rest[:1], rest[2:]
	}
	steps := strings.Split(dialplan, sep)
	delay := time.Duration(0)
	for _, step := range steps {
		app, arg, _ := strings.Cut(step, ":")
		if app == "conference" || app == "park" {
			break // what follows runs only once the leg leaves
		}
		broken := app == "playback" && strings.Contains(arg, "%(") && !strings.Contains(arg, ")")
		if broken {
			delay += s.o.Playback
		}
		if broken || !inlineApps[app] && app != "" && !strings.HasPrefix(app, "%(") && !strings.HasPrefix(app, "tone_stream") {
			// A tone_stream cut at its comma, or an application the switch does not know:
			// the call fails once what comes before has played.
			ch.plan = s.afterLocked(delay, func() {
				ch.plan = nil
				s.hangupLocked(ch, "DESTINATION_OUT_OF_ORDER")
			})
			return
		}
		if app == "playback" {
			delay += s.o.Playback
		}
	}
	ch.steps = steps
	s.nextStepLocked(ch)
}

// nextStepLocked starts the next application of the leg's inline dialplan. Caller holds s.mu.
func (s *Server) nextStepLocked(ch *channel) {
	for len(ch.steps) > 0 && s.chans[ch.uuid] == ch {
		app, arg, _ := strings.Cut(ch.steps[0], ":")
		ch.steps = ch.steps[1:]
		if app == "" || strings.HasPrefix(app, "%(") || strings.HasPrefix(app, "tone_stream") {
			continue
		}
		s.startAppLocked(ch, app, arg)
		if app != "conference" {
			ch.moved = false // only a transfer's first application waits for it to land
		}
		switch app {
		case "playback":
			ch.plan = s.afterLocked(s.o.Playback, func() {
				ch.plan = nil
				s.played(ch)
				s.completeAppLocked(ch, "FILE PLAYED")
				s.nextStepLocked(ch)
			})
			return
		case "hangup":
			s.hangupLocked(ch, cmp(arg, "NORMAL_CLEARING")) // its EXECUTE_COMPLETE comes after CHANNEL_HANGUP
			return
		case "park":
			s.emitChannelLocked("CHANNEL_PARK", ch, nil)
			return
		case "conference":
			if !ch.moved {
				s.joinRoomLocked(ch, arg)
				return
			}
			ch.moved = false
			ch.join = s.afterLocked(roomStart, func() {
				ch.join = nil
				s.joinRoomLocked(ch, arg)
			})
			return
		default:
			if s.analysisLocked(ch, app, arg) {
				return // it completes later and then goes on
			}
			s.completeAppLocked(ch, "")
		}
	}
}

// played sets the variables a finished playback leaves on the leg (capture 03).
func (s *Server) played(ch *channel) {
	ms := s.o.Playback.Milliseconds()
	ch.setVar("playback_seconds", itoa(ms/1000))
	ch.setVar("playback_ms", itoa(ms))
	ch.setVar("playback_samples", itoa(ms*8))
	ch.setVar("current_application_response", "FILE PLAYED")
}
