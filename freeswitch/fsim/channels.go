package fsim

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// channel is one leg. Every field is guarded by Server.mu.
type channel struct {
	uuid, dial, dest, app string
	fate                  Fate
	vars                  [][2]string // originate variables, in the order given, then uuid_setvar's
	job, jobCmd           string      // the originate's bgapi job, until its result is sent
	created, answeredAt   time.Time
	answered              bool
	bridge                *bridge
	ring, talk            *timer    // pending answer/failure and far-end hangup
	talkEnds              time.Time // when talk fires (zero: no far-end hangup scheduled)
	ret                   *timer    // the originate's return after the answer
	plan                  *timer    // the end of what the dialplan plays (hangup after playback)
	join                  *timer    // the conference application starting
	bridging              *channel  // the other leg of a uuid_bridge set up while this one leaves
	room                  *room     // the conference the leg is a member of
	memberID              int       // its Member-ID, given at its first join and kept from room to room
	loop                  *channel  // the other half of a loopback pair (loopback.go)
	loopB                 bool      // this leg is the pair's b leg
	moved                 bool      // a uuid_transfer's dialplan has not started an application yet
	running               [2]string // application and data now running, for show channels
	record                int       // index in Server.history
	progressAt            time.Time // when CHANNEL_PROGRESS was sent (zero: it never rang)
	// The last transfer to an inline dialplan (uuid_transfer, or the originate's own inline
	// dialplan): it gives the leg a new caller profile, as the real switch does.
	transferredAt time.Time
	transferDest  string
	exec          *execution // the dialplan application running, until its CHANNEL_EXECUTE_COMPLETE
	steps         []string   // what is left of its inline dialplan after exec
	avmd          *avmdRun   // mod_avmd's beep detection, while it runs
	recordings    []*recording
	hungUp        string // its hangup cause once CHANNEL_HANGUP is sent
}

func (ch *channel) getVar(name string) (string, bool) {
	for i := len(ch.vars) - 1; i >= 0; i-- {
		if ch.vars[i][0] == name {
			return ch.vars[i][1], true
		}
	}
	return "", false
}

func (ch *channel) setVar(name, value string) {
	for i := range ch.vars {
		if ch.vars[i][0] == name {
			ch.vars[i][1] = value
			return
		}
	}
	ch.vars = append(ch.vars, [2]string{name, value})
}

func (ch *channel) delVar(name string) {
	ch.vars = slices.DeleteFunc(ch.vars, func(v [2]string) bool { return v[0] == name })
}

func (ch *channel) flag(name string) bool {
	v, _ := ch.getVar(name)
	return v == "true"
}

// originateLocked parses `{vars}DIAL &app(args)` and `{vars}DIAL 'DIALPLAN' inline` as FreeSWITCH
// reads them: a backslash escapes the next character, single quotes group a value.
var originatePattern = regexp.MustCompile(`^(?s)(\{.*?[^\\]\}|\{\})?(\S+)\s+(&\S+|'[^']*'\s+inline|\S+\s+inline)\s*$`)

func parseOriginate(arg string) (vars [][2]string, dial, app string, ok bool) {
	m := originatePattern.FindStringSubmatch(strings.TrimSpace(arg))
	if m == nil {
		return nil, "", "", false
	}
	if m[1] != "" {
		vars = splitVars(m[1][1 : len(m[1])-1])
	}
	return vars, m[2], m[3], true
}

func splitVars(s string) [][2]string {
	var out [][2]string
	var cur strings.Builder
	quoted := false
	flush := func() {
		if name, value, ok := strings.Cut(cur.String(), "="); ok {
			out = append(out, [2]string{name, value})
		}
		cur.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '\'':
			quoted = !quoted
		case c == ',' && !quoted:
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// destination is the number part of a dial string: loopback/0901/customers → 0901,
// sofia/gateway/main/0312345678 → 0312345678.
func destination(dial string) string {
	parts := strings.Split(dial, "/")
	if len(parts) >= 3 && parts[0] == "loopback" {
		return parts[1]
	}
	return parts[len(parts)-1]
}

// originateLocked runs `bgapi originate`. Caller holds s.mu.
func (s *Server) originateLocked(job, arg string) {
	vars, dial, app, ok := parseOriginate(arg)
	if !ok {
		s.afterLocked(0, func() { s.jobResultLocked(job, "originate", arg, "-ERR INVALID_ARGS\n") })
		return
	}
	id := ""
	for _, v := range vars {
		if v[0] == "origination_uuid" {
			id = v[1]
		}
	}
	if id == "" {
		id = newUUID()
	}
	if _, dup := s.chans[id]; dup {
		s.afterLocked(0, func() { s.jobResultLocked(job, "originate", arg, "-ERR DESTINATION_OUT_OF_ORDER\n") })
		return
	}
	exten, pair := loopbackInline(dial)
	fate := Fate{Answer: true} // a loopback pair answers when its b leg's dialplan does, at once
	if !pair {
		fate = s.o.Script(dial)
	}
	if fate.Early {
		cause := cmp(fate.Cause, "NORMAL_TEMPORARY_FAILURE")
		s.afterLocked(fate.Ring, func() { s.jobResultLocked(job, "originate", arg, "-ERR "+cause+"\n") })
		return
	}
	ch := &channel{uuid: id, dial: dial, dest: destination(dial), app: app, fate: fate, vars: vars, job: job, jobCmd: arg}
	timeout := 60 * time.Second
	if v, ok := ch.getVar("originate_timeout"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	s.afterLocked(0, func() {
		ch.created = s.o.Clock.Now()
		s.created++
		ch.record = len(s.history)
		s.history = append(s.history, ChannelRecord{UUID: id, Dial: dial, Created: ch.created})
		s.chans[id] = ch
		s.emitChannelLocked("CHANNEL_CREATE", ch, nil)
		if pair {
			s.loopbackPairLocked(ch, exten)
			return
		}
		ringing := fate.Answer && fate.Ring > 0 || !fate.Answer && cmp(fate.Cause, "NO_ANSWER") == "NO_ANSWER"
		if ringing {
			ch.progressAt = ch.created
			s.emitChannelLocked("CHANNEL_PROGRESS", ch, nil)
		}
		switch {
		case fate.Answer && fate.Ring < timeout:
			ch.ring = s.afterLocked(fate.Ring, func() { s.answerLocked(ch, fate) })
		case fate.Answer || cmp(fate.Cause, "NO_ANSWER") == "NO_ANSWER":
			wait := timeout
			if !fate.Answer && fate.Ring > 0 {
				wait = min(fate.Ring, timeout)
			}
			ch.ring = s.afterLocked(wait, func() { s.hangupLocked(ch, "NO_ANSWER") })
		default:
			ch.ring = s.afterLocked(fate.Ring, func() { s.hangupLocked(ch, fate.Cause) })
		}
	})
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// answer: CHANNEL_ANSWER; the originate returns OriginateReturn later (its +OK, then the
// application: park emits CHANNEL_PARK), as in captures 03, 09, 10 and 11. A far end that hangs
// up at the instant it answers ends the call before the originate returns: its job answers
// -ERR NORMAL_CLEARING after the hangup events (capture 11). Caller holds s.mu.
func (s *Server) answerLocked(ch *channel, fate Fate) {
	ch.ring = nil
	ch.answered, ch.answeredAt = true, s.o.Clock.Now()
	s.history[ch.record].Answered = ch.answeredAt
	s.emitChannelLocked("CHANNEL_ANSWER", ch, nil)
	if fate.HangupAtAnswer {
		s.hangupLocked(ch, "NORMAL_CLEARING")
		return
	}
	if fate.Talk > 0 {
		s.farEndHangupLocked(ch, fate.Talk)
	}
	switch {
	case ch.job == "": // a uuid_bridge or uuid_transfer took the ringing leg: no application
	case s.o.OriginateReturn < 0:
		s.returnedLocked(ch)
	default:
		ch.ret = s.afterLocked(s.o.OriginateReturn, func() { s.returnedLocked(ch) })
	}
}

// farEndHangupLocked schedules the far end putting the phone down after d. Caller holds s.mu.
func (s *Server) farEndHangupLocked(ch *channel, d time.Duration) {
	s.cancelLocked(ch.talk)
	ch.talkEnds = s.o.Clock.Now().Add(d)
	ch.talk = s.afterLocked(d, func() { s.hangupLocked(ch, "NORMAL_CLEARING") })
}

// returned: the originate returns +OK and the leg starts its application or inline dialplan
// (mod_commands' originate sets the application after switch_ivr_originate returns).
func (s *Server) returnedLocked(ch *channel) {
	ch.ret = nil
	s.finishJobLocked(ch, "+OK "+ch.uuid+"\n")
	if plan, ok := strings.CutSuffix(ch.app, " inline"); ok {
		ch.transferredAt, ch.transferDest = s.o.Clock.Now(), strings.Trim(strings.TrimSpace(plan), "'")
		s.runDialplanLocked(ch, strings.TrimSpace(plan))
		return
	}
	name, data, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(ch.app, "&"), ")"), "(")
	s.startAppLocked(ch, name, data)
	switch name {
	case "park":
		s.emitChannelLocked("CHANNEL_PARK", ch, nil)
	case "conference":
		s.joinRoomLocked(ch, data)
	case "eavesdrop":
		if _, live := s.chans[data]; !live {
			// mod_eavesdrop finds no such channel and returns: the leg has nothing left to run.
			s.afterLocked(0, func() { s.hangupLocked(ch, "NORMAL_CLEARING") })
		}
	}
}

// preempt: a uuid_bridge or uuid_transfer that lands on a leg whose originate has not returned
// makes the originate answer -ERR ORIGINATOR_CANCEL, and its application never runs; the leg
// lives on with what the command gave it (capture 11, lab README). Caller holds s.mu.
func (s *Server) preemptLocked(ch *channel) {
	if ch.job == "" {
		return
	}
	s.cancelLocked(ch.ret)
	ch.ret = nil
	s.finishJobLocked(ch, "-ERR ORIGINATOR_CANCEL\n")
}

func (s *Server) finishJobLocked(ch *channel, body string) {
	if ch.job != "" {
		s.jobResultLocked(ch.job, "originate", ch.jobCmd, body)
		s.history[ch.record].JobResult = strings.TrimSpace(body)
		ch.job = ""
	}
}

func (s *Server) jobResultLocked(job, cmd, arg, body string) {
	s.emitLocked("BACKGROUND_JOB", [][2]string{{"Job-UUID", job}, {"Job-Command", cmd}, {"Job-Command-Arg", arg}}, body)
}

// hangupLocked ends a leg with the event orders of the captures. Caller holds s.mu; false when the
// channel is already gone.
func (s *Server) hangupLocked(ch *channel, cause string) bool {
	if s.chans[ch.uuid] != ch {
		return false
	}
	delete(s.chans, ch.uuid)
	s.history[ch.record].Ended, s.history[ch.record].Cause = s.o.Clock.Now(), cause
	for _, o := range s.chans {
		if o.running == [2]string{"eavesdrop", ch.uuid} {
			// The eavesdropped leg is gone: the eavesdrop application returns and its leg ends.
			s.afterLocked(0, func() { s.hangupLocked(o, "NORMAL_CLEARING") })
		}
	}
	for _, t := range []**timer{&ch.ring, &ch.talk, &ch.ret, &ch.plan, &ch.join} {
		s.cancelLocked(*t)
		*t = nil
	}
	hc := [][2]string{{"Hangup-Cause", cause}}
	s.emitChannelLocked("CHANNEL_HANGUP", ch, hc)
	ch.hungUp = cause
	aLeg := s.unloopLocked(ch) // capture 17: the b leg of a hung-up a leg leaves and hangs up first
	var emptied *room
	if ch.room != nil {
		emptied = s.leaveRoomLocked(ch, cause) // capture 11: del-member between HANGUP and HANGUP_COMPLETE
	}
	// Captures 03 and 14: the application the leg ran ends after CHANNEL_HANGUP (and after its
	// del-member), then its recordings stop, before HANGUP_COMPLETE.
	ch.steps = nil
	s.completeAppLocked(ch, "")
	for len(ch.recordings) > 0 {
		s.stopRecordingLocked(ch, ch.recordings[0], "success-silence")
	}
	if ch.avmd != nil {
		s.avmdStopLocked(ch)
	}
	switch {
	case ch.bridge != nil:
		br := ch.bridge
		other := br.other(ch)
		ch.bridge, other.bridge = nil, nil
		if other.flag("park_after_bridge") {
			// Capture 09: the survivor re-parks before the bridge's UNBRIDGE, still naming the
			// dead leg as its other leg.
			other.running = [2]string{"park", ""}
			s.emitChannelLocked("CHANNEL_PARK", other, [][2]string{{"Other-Leg-Unique-ID", ch.uuid}})
			s.emitBridgeLocked("CHANNEL_UNBRIDGE", br, hc)
			s.completeLocked(ch, cause)
			break
		}
		// Capture 10: without park_after_bridge the other leg ends with it.
		s.completeLocked(ch, cause)
		s.emitBridgeLocked("CHANNEL_UNBRIDGE", br, hc)
		s.hangupLocked(other, cause)
	case ch.job != "" && cause == "NO_ANSWER":
		// Capture 04-noanswer: the job's -ERR comes between HANGUP and HANGUP_COMPLETE.
		s.finishJobLocked(ch, "-ERR "+cause+"\n")
		s.completeLocked(ch, cause)
	case ch.job != "":
		// Captures 04-busy, 04-unallocated, 10 (cancel), 11 (an answer that hangs up at once):
		// after HANGUP_COMPLETE, before DESTROY.
		s.emitChannelLocked("CHANNEL_HANGUP_COMPLETE", ch, s.completeFields(ch, cause))
		s.finishJobLocked(ch, "-ERR "+cause+"\n")
		s.emitChannelLocked("CHANNEL_DESTROY", ch, hc)
	default:
		s.completeLocked(ch, cause)
	}
	if emptied != nil {
		s.endRoomLocked(emptied) // capture 11: conference-destroy after the last member's HANGUP_COMPLETE
	}
	if o := ch.bridging; o != nil && o.bridging == ch {
		// A uuid_bridge was being set up with this leg: the switch hangs up the other side.
		ch.bridging, o.bridging = nil, nil
		s.hangupLocked(o, "DESTINATION_OUT_OF_ORDER")
	}
	if aLeg != nil {
		s.hangupLocked(aLeg, cause) // the a leg of a hung-up b leg follows it, with its cause
	}
	return true
}

func (s *Server) completeLocked(ch *channel, cause string) {
	s.emitChannelLocked("CHANNEL_HANGUP_COMPLETE", ch, s.completeFields(ch, cause))
	s.emitChannelLocked("CHANNEL_DESTROY", ch, [][2]string{{"Hangup-Cause", cause}})
}

// completeFields are the HANGUP_COMPLETE extras: the cause and the billing variables.
func (s *Server) completeFields(ch *channel, cause string) [][2]string {
	now := s.o.Clock.Now()
	billsec := 0
	if ch.answered {
		billsec = int(now.Sub(ch.answeredAt).Seconds())
	}
	return [][2]string{{"Hangup-Cause", cause}, {"variable_hangup_cause", cause},
		{"variable_duration", strconv.Itoa(int(now.Sub(ch.created).Seconds()))}, {"variable_billsec", strconv.Itoa(billsec)}}
}
