package fsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// execution is one dialplan application running on a leg.
type execution struct{ app, data, id string }

// frame is the 20 ms packet the switch's energy detectors read.
const frame = 20 * time.Millisecond

// beepHeard is how long after a beep starts mod_avmd reports it: 70-110 ms on the lab switch
// (20 calls; capture 14: 80 ms).
const beepHeard = 80 * time.Millisecond

// frameAt is when an energy detector reads its k-th frame (from 1) after it starts: the first
// two come at once (queued before it started), then one every 20 ms. The lab switch's
// wait_for_silence with a 3 s timeout ends 2.96-2.99 s after it starts (60 calls).
func frameAt(k int) time.Duration { return time.Duration(max(k-2, 0)) * frame }

// startAppLocked marks an application as running on the leg: its CHANNEL_EXECUTE_COMPLETE comes
// when it ends, is interrupted (transfer, bridge) or the leg hangs up. Caller holds s.mu.
func (s *Server) startAppLocked(ch *channel, app, data string) {
	ch.exec = &execution{app: app, data: data, id: newUUID()}
	ch.running = [2]string{app, data}
	// The switch sets these two for each application and drops what the last one answered
	// (captures 03, 14).
	ch.delVar("current_application_response")
	ch.delVar("current_application_data")
	if data != "" {
		ch.setVar("current_application_data", data)
	}
	ch.setVar("current_application", app)
}

// completeAppLocked sends the running application's CHANNEL_EXECUTE_COMPLETE with the header
// set of captures 03, 05 and 14 (Application-Data only when it had data; Application-Response
// _none_ unless it answered). Caller holds s.mu.
func (s *Server) completeAppLocked(ch *channel, response string) {
	x := ch.exec
	if x == nil {
		return
	}
	ch.exec = nil
	tail := [][2]string{{"Application", x.app}}
	if x.data != "" {
		tail = append(tail, [2]string{"Application-Data", x.data})
	}
	tail = append(tail, [2]string{"Application-Response", cmp(response, "_none_")}, [2]string{"Application-UUID", x.id})
	s.emitChannelTailLocked("CHANNEL_EXECUTE_COMPLETE", ch, nil, tail)
}

// analysisLocked starts an answer-analysis application; false when it completes at once (the
// caller sends its CHANNEL_EXECUTE_COMPLETE and goes on). When it completes later, it does so
// and goes on with the dialplan itself. Caller holds s.mu.
func (s *Server) analysisLocked(ch *channel, app, arg string) bool {
	var after time.Duration
	var vars [][2]string
	switch app {
	case "avmd_start":
		s.avmdStartLocked(ch)
		return false
	case "avmd_stop":
		s.avmdStopLocked(ch)
		return false
	case "wait_for_silence":
		n := ints(arg, 4)
		heard := ch.fate
		if s.o.UnsequencedFrames {
			heard = Fate{Voice: Silence}
		}
		after, vars = waitForSilence(heard, s.sinceAnswer(ch), n[0], n[1], n[2], n[3])
	case "detect_audio":
		n := ints(arg, 3)
		after, vars = detectAudio(ch.fate, s.sinceAnswer(ch), n[0], n[1], n[2])
	case "detect_silence":
		n := ints(arg, 3)
		after, vars = detectSilence(ch.fate, s.sinceAnswer(ch), n[0], n[1], n[2])
	case "amd":
		after, vars = amd(ch.fate)
	default:
		return false
	}
	if after < 0 {
		return true // never ends by itself: it runs until the leg is moved or hangs up
	}
	ch.plan = s.afterLocked(after, func() {
		ch.plan = nil
		for _, v := range vars {
			ch.setVar(v[0], v[1])
		}
		s.completeAppLocked(ch, "")
		s.nextStepLocked(ch)
	})
	return true
}

func (s *Server) sinceAnswer(ch *channel) time.Duration { return s.o.Clock.Now().Sub(ch.answeredAt) }

// ints reads n space-separated numbers of an application's data (missing ones are 0).
func ints(arg string, n int) []int {
	out := make([]int, n)
	for i, f := range strings.Fields(arg) {
		if i < n {
			out[i], _ = strconv.Atoi(f)
		}
	}
	return out
}

// waitForSilence is switch_ivr_wait_for_silence (src/switch_ivr_play_say.c) over the fate's
// sound, started at since after the answer: frames of 20 ms; a loud frame counts as heard
// (listenhits); once more than listen frames were heard, sil silent frames in a row end it 25
// frames later (timeout false); at timeoutMS it ends with timeout true. The real switch hears
// nothing on the lab's loopback legs (their frames carry no sequence number, which the
// function requires): there it always times out with 0 listen hits (capture 14); the simulator
// hears what a SIP leg would. -1: it never ends by itself.
func waitForSilence(f Fate, since time.Duration, thresh, sil, listen, timeoutMS int) (time.Duration, [][2]string) {
	_ = thresh // every sound of the fates is above any usual threshold
	listening, silence, countdown := 0, sil, 0
	end := func(k int, timeout bool) (time.Duration, [][2]string) {
		return frameAt(k), [][2]string{{"wait_for_silence_timeout", strconv.FormatBool(timeout)},
			{"wait_for_silence_listenhits", strconv.Itoa(listening)}, {"wait_for_silence_silence_hits", strconv.Itoa(silence)}}
	}
	timeoutFrames := (timeoutMS + 19) / 20
	for k := 1; k < 30_000; k++ {
		if timeoutMS > 0 && k >= timeoutFrames {
			return end(k, true)
		}
		if countdown > 0 {
			if countdown--; countdown == 0 {
				return end(k, false)
			}
			continue
		}
		loud := f.loud(since + frameAt(k))
		if loud {
			listening++
		}
		if (listen == 0 || listening > listen) && !loud {
			if silence--; silence == 0 {
				countdown = 25
			}
		} else {
			silence = sil
		}
	}
	return -1, nil
}

// detectAudio is switch_ivr_detect_audio: more than hits loud frames in a row end it (timeout
// false), else timeoutMS does. Unlike wait_for_silence it hears loopback legs (it does not
// check frames for a sequence number).
func detectAudio(f Fate, since time.Duration, thresh, hits, timeoutMS int) (time.Duration, [][2]string) {
	_ = thresh
	n := 0
	for k := 1; k < 30_000; k++ {
		if timeoutMS > 0 && k >= (timeoutMS+19)/20 {
			return frameAt(k), [][2]string{{"detect_audio_timeout", "true"}, {"detect_audio_hits", strconv.Itoa(n)}}
		}
		if f.loud(since + frameAt(k)) {
			if n++; n > hits {
				return frameAt(k), [][2]string{{"detect_audio_timeout", "false"}}
			}
		} else {
			n = 0
		}
	}
	return -1, nil
}

// detectSilence is switch_ivr_detect_silence: more than hits silent frames in a row end it
// (timeout false), else timeoutMS does.
func detectSilence(f Fate, since time.Duration, thresh, hits, timeoutMS int) (time.Duration, [][2]string) {
	_ = thresh
	n := 0
	for k := 1; k < 30_000; k++ {
		if timeoutMS > 0 && k >= (timeoutMS+19)/20 {
			return frameAt(k), [][2]string{{"detect_silence_timeout", "true"}, {"detect_silence_hits", strconv.Itoa(n)}}
		}
		if !f.loud(since + frameAt(k)) {
			if n++; n > hits {
				return frameAt(k), [][2]string{{"detect_silence_timeout", "false"}}
			}
		} else {
			n = 0
		}
	}
	return -1, nil
}

// amd is a community mod_amd with its default settings: a greeting longer than 1.5 s is a
// MACHINE (LONGGREETING, when it passes 1.5 s), 2.5 s of silence from the answer a MACHINE
// (INITIALSILENCE), a shorter greeting followed by 800 ms of silence a HUMAN (HUMAN). The
// verdict is in amd_result and amd_cause when the application completes.
func amd(f Fate) (time.Duration, [][2]string) {
	verdict := func(d time.Duration, result, cause string) (time.Duration, [][2]string) {
		return d, [][2]string{{"amd_result", result}, {"amd_cause", cause}}
	}
	greeting, _ := f.speech()
	switch {
	case greeting == 0:
		return verdict(2500*time.Millisecond, "MACHINE", "INITIALSILENCE")
	case greeting > 1500*time.Millisecond:
		return verdict(1500*time.Millisecond, "MACHINE", "LONGGREETING")
	}
	return verdict(greeting+800*time.Millisecond, "HUMAN", "HUMAN")
}

// avmdRun is mod_avmd's detection on a leg: it reports the fate's beep.
type avmdRun struct {
	started time.Time
	beep    *timer
}

// avmdStartLocked runs avmd_start: the fate's beep, if it is still to come, is reported
// beepHeard after it starts (CUSTOM avmd::beep). Caller holds s.mu.
func (s *Server) avmdStartLocked(ch *channel) {
	if ch.avmd != nil {
		return
	}
	run := &avmdRun{started: s.o.Clock.Now()}
	ch.avmd = run
	if _, beepAt := ch.fate.speech(); beepAt >= 0 {
		heard := beepAt + beepHeard - s.sinceAnswer(ch)
		if heard >= 0 {
			run.beep = s.afterLocked(heard, func() {
				run.beep = nil
				if ch.avmd == run && s.chans[ch.uuid] == ch {
					s.beepLocked(ch, run)
				}
			})
		}
	}
}

// avmdStopLocked ends beep detection (avmd_stop, `avmd UUID stop`); false when none ran.
func (s *Server) avmdStopLocked(ch *channel) bool {
	run := ch.avmd
	if run == nil {
		return false
	}
	s.cancelLocked(run.beep)
	ch.avmd = nil
	return true
}

// beepLocked sends what mod_avmd's avmd_fire_event sends for a beep (capture 14): the event
// once with its own headers, then a copy queued to the session that the switch fires with the
// channel's headers and variables, both with the same Event-Sequence; it sets avmd_detect and
// avmd_total_time (ms since avmd_start, in brackets). Caller holds s.mu.
func (s *Server) beepLocked(ch *channel, run *avmdRun) {
	took := s.o.Clock.Now().Sub(run.started)
	beep := [][2]string{{"Unique-ID", ch.uuid}, {"Call-command", "avmd"}, {"Beep-Status", "DETECTED"},
		{"Frequency", "1000.454123"}, {"Frequency-variance", "0.000018"}, {"Amplitude", "14401.345206"},
		{"Amplitude-variance", "27176.962574"}, {"Detection-time", strconv.FormatInt(took.Microseconds(), 10)},
		{"Detector-resolution", "1"}, {"Detector-offset", "0"}, {"Detector-index", "0"}}
	ch.setVar("avmd_total_time", fmt.Sprintf("[%d]", took.Milliseconds()))
	ch.setVar("avmd_detect", "TRUE")
	s.emitCustomLocked(avmdBeep, beep)
	s.seq-- // the session's copy has the same sequence
	fields := append(append([][2]string(nil), beep...), s.channelFields("CUSTOM", ch)...)
	fields = append(fields, s.callerFields(ch)...)
	fields = append(fields, [2]string{"variable_direction", "outbound"}, [2]string{"variable_uuid", ch.uuid},
		[2]string{"variable_channel_name", ch.dial})
	for _, v := range ch.vars {
		fields = append(fields, [2]string{"variable_" + v[0], v[1]})
	}
	s.emitEventLocked("CUSTOM", avmdBeep, fields, "")
}

// avmdBeep is mod_avmd's CUSTOM subclass for a beep.
const avmdBeep = "avmd::beep"

// avmdAPILocked answers `avmd UUID stop` as the lab switch (report_status 0) does: a stop that
// stopped something writes nothing, which mod_event_socket answers "-ERR no reply" (capture 14).
func (s *Server) avmdAPILocked(args []string) string {
	if len(args) < 2 {
		return "-ERR, avmd takes [2] min and [3] max parameters!\n"
	}
	ch := s.chans[args[0]]
	if ch == nil {
		return fmt.Sprintf("-ERR, no FreeSWITCH session for uuid [%s]!\n", args[0])
	}
	switch args[1] {
	case "stop":
		if !s.avmdStopLocked(ch) {
			return fmt.Sprintf("+ERR, avmd has not yet been started on\n [%s] [%s]\n\n", ch.uuid, ch.dial)
		}
		return "-ERR no reply\n"
	case "start":
		s.avmdStartLocked(ch)
		return "-ERR no reply\n"
	}
	return "-ERR, did you mean\n api avmd " + ch.uuid + " start ?\n"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
