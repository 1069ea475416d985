package fsim

import (
	"fmt"
	"strings"
)

// emitChannelLocked sends a channel event with the header set FreeSWITCH gives it (in its order, a
// subset of it), extras after Answer-State, then the channel's variables.
func (s *Server) emitChannelLocked(name string, ch *channel, extra [][2]string) {
	s.emitChannelTailLocked(name, ch, extra, nil)
}

// emitChannelTailLocked is emitChannelLocked with headers after the variables, where
// CHANNEL_EXECUTE_COMPLETE has its Application headers and RECORD_START / RECORD_STOP their
// Record-File-Path (capture 14). A leg that has hung up says so (Answer-State hangup,
// Hangup-Cause) in the events that follow its CHANNEL_HANGUP.
func (s *Server) emitChannelTailLocked(name string, ch *channel, extra, tail [][2]string) {
	if ch.hungUp != "" && name != "CHANNEL_HANGUP" && name != "CHANNEL_HANGUP_COMPLETE" && name != "CHANNEL_DESTROY" {
		extra = append([][2]string{{"Hangup-Cause", ch.hungUp}}, extra...)
	}
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
	fields = append(fields, tail...)
	s.emitLocked(name, fields, "")
}

func (s *Server) channelFields(name string, ch *channel) [][2]string {
	state, callState, answer := "CS_EXECUTE", "ACTIVE", "answered"
	switch {
	case name == "CHANNEL_HANGUP" || name == "CHANNEL_HANGUP_COMPLETE" || name == "CHANNEL_DESTROY":
		state, callState, answer = "CS_HANGUP", "HANGUP", "hangup"
		if name == "CHANNEL_DESTROY" {
			state = "CS_DESTROY"
		}
	case ch.hungUp != "":
		state, answer = "CS_EXECUTE", "hangup" // an application's end or a recording's after the hangup
		if name == "RECORD_STOP" {
			state = "CS_HANGUP"
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

// emitBridgeLocked sends CHANNEL_BRIDGE / CHANNEL_UNBRIDGE on the bridge's a leg.
func (s *Server) emitBridgeLocked(name string, br *bridge, extra [][2]string) {
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
	s.emitLocked(name, fields, "")
}
