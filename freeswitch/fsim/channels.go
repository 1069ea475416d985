package fsim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// channel is one leg. Every field is guarded by Server.mu.
type channel struct {
	uuid, dial, dest, app string
	vars                  [][2]string // originate variables, in the order given, then uuid_setvar's
	job, jobCmd           string      // the originate's bgapi job, until its result is sent
	created, answeredAt   time.Time
	answered              bool
	bridge                *bridge
	ring, talk            *timer // pending answer/failure and far-end hangup
	record                int    // index in Server.history
}

// bridge joins two legs; events about it are sent on leg a (the first uuid of uuid_bridge), as
// FreeSWITCH does.
type bridge struct{ a, b *channel }

func (b *bridge) other(ch *channel) *channel {
	if b.a == ch {
		return b.b
	}
	return b.a
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

func (ch *channel) flag(name string) bool {
	v, _ := ch.getVar(name)
	return v == "true"
}

// originate parses `{vars}DIAL &app(args)` as FreeSWITCH reads it: a backslash escapes the next
// character, single quotes group a value.
var originatePattern = regexp.MustCompile(`^(?s)(\{.*?[^\\]\}|\{\})?(\S+)\s+(&\S+)\s*$`)

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

// originate runs `bgapi originate`. Caller holds s.mu.
func (s *Server) originate(job, arg string) {
	vars, dial, app, ok := parseOriginate(arg)
	if !ok {
		s.afterLocked(0, func() { s.jobResult(job, "originate", arg, "-ERR INVALID_ARGS\n") })
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
		s.afterLocked(0, func() { s.jobResult(job, "originate", arg, "-ERR DESTINATION_OUT_OF_ORDER\n") })
		return
	}
	fate := s.o.Script(dial)
	if fate.Early {
		cause := cmp(fate.Cause, "NORMAL_TEMPORARY_FAILURE")
		s.afterLocked(fate.Ring, func() { s.jobResult(job, "originate", arg, "-ERR "+cause+"\n") })
		return
	}
	ch := &channel{uuid: id, dial: dial, dest: destination(dial), app: app, vars: vars, job: job, jobCmd: arg}
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
		s.emitChannel("CHANNEL_CREATE", ch, nil)
		ringing := fate.Answer && fate.Ring > 0 || !fate.Answer && cmp(fate.Cause, "NO_ANSWER") == "NO_ANSWER"
		if ringing {
			s.emitChannel("CHANNEL_PROGRESS", ch, nil)
		}
		switch {
		case fate.Answer && fate.Ring < timeout:
			ch.ring = s.afterLocked(fate.Ring, func() { s.answer(ch, fate) })
		case fate.Answer || cmp(fate.Cause, "NO_ANSWER") == "NO_ANSWER":
			wait := timeout
			if !fate.Answer && fate.Ring > 0 {
				wait = min(fate.Ring, timeout)
			}
			ch.ring = s.afterLocked(wait, func() { s.hangup(ch, "NO_ANSWER") })
		default:
			ch.ring = s.afterLocked(fate.Ring, func() { s.hangup(ch, fate.Cause) })
		}
	})
}

// eavesdropTarget is the channel an `&eavesdrop(UUID)` application listens to.
func eavesdropTarget(app string) (string, bool) {
	rest, ok := strings.CutPrefix(app, "&eavesdrop(")
	if !ok || !strings.HasSuffix(rest, ")") {
		return "", false
	}
	return strings.TrimSuffix(rest, ")"), true
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// answer: CHANNEL_ANSWER, the job's +OK, then the application (park emits CHANNEL_PARK), as in
// captures 03, 09 and 10. Caller holds s.mu.
func (s *Server) answer(ch *channel, fate Fate) {
	ch.ring = nil
	ch.answered, ch.answeredAt = true, s.o.Clock.Now()
	s.history[ch.record].Answered = ch.answeredAt
	s.emitChannel("CHANNEL_ANSWER", ch, nil)
	s.finishJob(ch, "+OK "+ch.uuid+"\n")
	if strings.HasPrefix(ch.app, "&park(") {
		s.emitChannel("CHANNEL_PARK", ch, nil)
	}
	if target, ok := eavesdropTarget(ch.app); ok {
		if _, live := s.chans[target]; !live {
			// mod_eavesdrop finds no such channel and returns: the leg has nothing left to run.
			s.afterLocked(0, func() { s.hangup(ch, "NORMAL_CLEARING") })
		}
	}
	if _, amd := ch.getVar("execute_on_answer"); amd {
		result := "PERSON"
		if fate.Machine {
			result = "MACHINE"
		}
		s.afterLocked(s.o.AMDDelay, func() {
			if s.chans[ch.uuid] == ch {
				ch.setVar("amd_result", result)
			}
		})
	}
	if fate.Talk > 0 {
		ch.talk = s.afterLocked(fate.Talk, func() { s.hangup(ch, "NORMAL_CLEARING") })
	}
}

func (s *Server) finishJob(ch *channel, body string) {
	if ch.job != "" {
		s.jobResult(ch.job, "originate", ch.jobCmd, body)
		ch.job = ""
	}
}

func (s *Server) jobResult(job, cmd, arg, body string) {
	s.emit("BACKGROUND_JOB", [][2]string{{"Job-UUID", job}, {"Job-Command", cmd}, {"Job-Command-Arg", arg}}, body)
}

// hangup ends a leg with the event orders of the captures. Caller holds s.mu; false when the
// channel is already gone.
func (s *Server) hangup(ch *channel, cause string) bool {
	if s.chans[ch.uuid] != ch {
		return false
	}
	delete(s.chans, ch.uuid)
	s.history[ch.record].Ended, s.history[ch.record].Cause = s.o.Clock.Now(), cause
	for _, o := range s.chans {
		if target, ok := eavesdropTarget(o.app); ok && target == ch.uuid && o.answered {
			// The eavesdropped leg is gone: the eavesdrop application returns and its leg ends.
			s.afterLocked(0, func() { s.hangup(o, "NORMAL_CLEARING") })
		}
	}
	s.cancel(ch.ring)
	s.cancel(ch.talk)
	ch.ring, ch.talk = nil, nil
	hc := [][2]string{{"Hangup-Cause", cause}}
	s.emitChannel("CHANNEL_HANGUP", ch, hc)
	switch {
	case ch.bridge != nil:
		br := ch.bridge
		other := br.other(ch)
		ch.bridge, other.bridge = nil, nil
		if other.flag("park_after_bridge") {
			// Capture 09: the survivor re-parks before the bridge's UNBRIDGE, still naming the
			// dead leg as its other leg.
			s.emitChannel("CHANNEL_PARK", other, [][2]string{{"Other-Leg-Unique-ID", ch.uuid}})
			s.emitBridge("CHANNEL_UNBRIDGE", br, hc)
			s.complete(ch, cause)
			return true
		}
		// Capture 10: without park_after_bridge the other leg ends with it.
		s.complete(ch, cause)
		s.emitBridge("CHANNEL_UNBRIDGE", br, hc)
		s.hangup(other, cause)
	case ch.job != "" && cause == "NO_ANSWER":
		// Capture 04-noanswer: the job's -ERR comes between HANGUP and HANGUP_COMPLETE.
		s.finishJob(ch, "-ERR "+cause+"\n")
		s.complete(ch, cause)
	case ch.job != "":
		// Captures 04-busy, 04-unallocated, 10 (cancel): after HANGUP_COMPLETE, before DESTROY.
		s.emitChannel("CHANNEL_HANGUP_COMPLETE", ch, s.completeFields(ch, cause))
		s.finishJob(ch, "-ERR "+cause+"\n")
		s.emitChannel("CHANNEL_DESTROY", ch, hc)
	default:
		s.complete(ch, cause)
	}
	return true
}

func (s *Server) complete(ch *channel, cause string) {
	s.emitChannel("CHANNEL_HANGUP_COMPLETE", ch, s.completeFields(ch, cause))
	s.emitChannel("CHANNEL_DESTROY", ch, [][2]string{{"Hangup-Cause", cause}})
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

// connect bridges a and b (uuid_bridge a b). Caller holds s.mu.
func (s *Server) connect(a, b *channel) {
	for _, ch := range []*channel{a, b} {
		if ch.bridge != nil { // bridging a bridged leg takes it away from its old partner
			old := ch.bridge
			other := old.other(ch)
			ch.bridge, other.bridge = nil, nil
			s.emitBridge("CHANNEL_UNBRIDGE", old, nil)
			if other.flag("park_after_bridge") {
				s.emitChannel("CHANNEL_PARK", other, nil)
			} else {
				s.hangup(other, "NORMAL_CLEARING")
			}
		}
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
	s.emitBridge("CHANNEL_BRIDGE", br, nil)
}

// transferInline runs `uuid_transfer C 'APPS' inline`: playback then hangup. The plain
// `playback:X,hangup` form splits a tone_stream's commas and the switch then fails the call
// with DESTINATION_OUT_OF_ORDER (ESL.md §4); `m:^:` makes ^ the separator. Caller holds s.mu.
func (s *Server) transferInline(ch *channel, dialplan string) {
	dialplan = strings.Trim(dialplan, "'")
	sep := ","
	if rest, ok := strings.CutPrefix(dialplan, "m:"); ok && len(rest) > 1 && rest[1] == ':' {
		sep, dialplan = rest[:1], rest[2:]
	}
	if ch.bridge != nil {
		br := ch.bridge
		other := br.other(ch)
		ch.bridge, other.bridge = nil, nil
		s.emitBridge("CHANNEL_UNBRIDGE", br, nil)
		if other.flag("park_after_bridge") {
			s.emitChannel("CHANNEL_PARK", other, nil)
		} else {
			s.hangup(other, "NORMAL_CLEARING")
		}
	}
	s.cancel(ch.talk)
	ch.talk = nil
	delay, cause := time.Duration(0), ""
	for _, step := range strings.Split(dialplan, sep) {
		app, arg, _ := strings.Cut(step, ":")
		switch app {
		case "playback":
			if strings.Contains(arg, "%(") && !strings.Contains(arg, ")") {
				cause = "DESTINATION_OUT_OF_ORDER" // a tone_stream cut at its comma
			}
			delay += s.o.Playback
		case "hangup":
			cause = cmp(cause, cmp(arg, "NORMAL_CLEARING"))
		case "park":
			s.emitChannel("CHANNEL_PARK", ch, nil)
		default:
			if cause == "" && app != "" && !strings.HasPrefix(app, "%(") && !strings.HasPrefix(app, "tone_stream") {
				cause = "DESTINATION_OUT_OF_ORDER"
			}
		}
	}
	if cause != "" {
		ch.talk = s.afterLocked(delay, func() { s.hangup(ch, cause) })
	}
}

// emitChannel sends a channel event with the header set FreeSWITCH gives it (in its order, a
// subset of it), extras after Answer-State, then the channel's variables.
func (s *Server) emitChannel(name string, ch *channel, extra [][2]string) {
	fields := make([][2]string, 0, 48)
	if name == "CHANNEL_HANGUP_COMPLETE" && len(extra) > 0 {
		fields = append(fields, extra[0]) // Hangup-Cause comes first too (it appears twice)
	}
	fields = append(fields, s.channelFields(name, ch)...)
	var vars, rest [][2]string
	for _, e := range extra {
		if strings.HasPrefix(e[0], "variable_") {
			vars = append(vars, e)
		} else if e[0] != "Other-Leg-Unique-ID" {
			rest = append(rest, e)
		}
	}
	fields = append(fields, rest...)
	fields = append(fields, s.callerFields(ch)...)
	for _, e := range extra {
		if e[0] == "Other-Leg-Unique-ID" {
			fields = append(fields, [2]string{"Other-Type", "originatee"}, e)
		}
	}
	fields = append(fields, [2]string{"variable_direction", "outbound"}, [2]string{"variable_uuid", ch.uuid},
		[2]string{"variable_channel_name", ch.dial})
	for _, v := range ch.vars {
		fields = append(fields, [2]string{"variable_" + v[0], v[1]})
	}
	fields = append(fields, vars...)
	s.emit(name, fields, "")
}

func (s *Server) channelFields(name string, ch *channel) [][2]string {
	state, callState, answer := "CS_EXECUTE", "ACTIVE", "answered"
	switch {
	case name == "CHANNEL_HANGUP" || name == "CHANNEL_HANGUP_COMPLETE" || name == "CHANNEL_DESTROY":
		state, callState, answer = "CS_HANGUP", "HANGUP", "hangup"
		if name == "CHANNEL_DESTROY" {
			state = "CS_DESTROY"
		}
	case name == "CHANNEL_CREATE":
		state, callState, answer = "CS_INIT", "DOWN", "ringing"
	case !ch.answered:
		state, callState, answer = "CS_CONSUME_MEDIA", "RINGING", "ringing"
	}
	return [][2]string{{"Channel-State", state}, {"Channel-Call-State", callState}, {"Channel-Name", ch.dial},
		{"Unique-ID", ch.uuid}, {"Call-Direction", "outbound"}, {"Presence-Call-Direction", "outbound"},
		{"Channel-Call-UUID", ch.uuid}, {"Answer-State", answer}}
}

func (s *Server) callerFields(ch *channel) [][2]string {
	cid, _ := ch.getVar("origination_caller_id_number")
	answered := "0"
	if ch.answered {
		answered = fmt.Sprint(ch.answeredAt.UnixMicro())
	}
	return [][2]string{{"Caller-Direction", "outbound"}, {"Caller-Caller-ID-Number", cmp(cid, "0000000000")},
		{"Caller-Destination-Number", ch.dest}, {"Caller-Unique-ID", ch.uuid}, {"Caller-Channel-Name", ch.dial},
		{"Caller-Channel-Created-Time", fmt.Sprint(ch.created.UnixMicro())}, {"Caller-Channel-Answered-Time", answered}}
}

// emitBridge sends CHANNEL_BRIDGE / CHANNEL_UNBRIDGE on the bridge's a leg.
func (s *Server) emitBridge(name string, br *bridge, extra [][2]string) {
	fields := [][2]string{{"Bridge-A-Unique-ID", br.a.uuid}, {"Bridge-B-Unique-ID", br.b.uuid}}
	fields = append(fields, s.channelFields(name, br.a)...)
	fields = append(fields, extra...)
	fields = append(fields, s.callerFields(br.a)...)
	fields = append(fields, [2]string{"Other-Type", "originatee"}, [2]string{"Other-Leg-Destination-Number", br.b.dest},
		[2]string{"Other-Leg-Unique-ID", br.b.uuid}, [2]string{"Other-Leg-Channel-Name", br.b.dial},
		[2]string{"variable_direction", "outbound"}, [2]string{"variable_uuid", br.a.uuid},
		[2]string{"variable_channel_name", br.a.dial})
	for _, v := range br.a.vars {
		fields = append(fields, [2]string{"variable_" + v[0], v[1]})
	}
	fields = append(fields, [2]string{"variable_bridge_uuid", br.b.uuid})
	s.emit(name, fields, "")
}
