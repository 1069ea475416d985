package fsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// handleLocked answers one command as FreeSWITCH does; false ends the session. Caller holds s.mu, so
// a command's reply is queued before any event it causes.
func (c *session) handleLocked(lines []string) bool {
	s := c.srv
	cmd := lines[0]
	if !c.authed {
		if pw, ok := strings.CutPrefix(cmd, "auth "); ok {
			if pw != s.o.Password {
				c.replyLocked("-ERR invalid")
				c.disconnectLocked()
				return false
			}
			c.authed = true
			c.replyLocked("+OK accepted")
			return true
		}
		c.replyLocked("-ERR command not found") // what 1.11.1 answers before auth (capture 01c)
		return true
	}
	s.record = append(s.record, strings.Join(lines, "\n"))
	switch {
	case cmd == "exit":
		c.replyLocked("+OK bye")
		c.disconnectLocked()
		return false
	case strings.HasPrefix(cmd, "event plain "):
		if c.events == nil {
			c.events, c.classes = map[string]bool{}, map[string]bool{}
		}
		// As mod_event_socket reads it: every word after CUSTOM is a subclass, whatever it is.
		custom := false
		for _, n := range strings.Fields(cmd)[2:] {
			if custom {
				c.classes[n] = true
				continue
			}
			c.events[n] = true
			c.all = c.all || n == "ALL"
			custom = n == "CUSTOM"
		}
		c.replyLocked("+OK event listener enabled plain")
	case strings.HasPrefix(cmd, "api "):
		body := s.apiLocked(strings.TrimPrefix(cmd, "api "))
		c.queueLocked(fmt.Sprintf("Content-Type: api/response\nContent-Length: %d\n\n%s", len(body), body))
	case strings.HasPrefix(cmd, "bgapi "):
		job := ""
		for _, l := range lines[1:] {
			if v, ok := strings.CutPrefix(l, "Job-UUID: "); ok {
				job = v
			}
		}
		if job == "" {
			job = newUUID()
		}
		c.replyLocked("+OK Job-UUID: "+job, "Job-UUID: "+job)
		name, arg, _ := strings.Cut(strings.TrimPrefix(cmd, "bgapi "), " ")
		if name == "originate" {
			s.originateLocked(job, arg)
		} else {
			body := s.apiLocked(strings.TrimPrefix(cmd, "bgapi "))
			s.afterLocked(0, func() { s.jobResultLocked(job, name, arg, body) })
		}
	default:
		c.replyLocked("-ERR command not found")
	}
	return true
}

// replyLocked queues a command reply. Caller holds srv.mu.
func (c *session) replyLocked(text string, extra ...string) {
	f := "Content-Type: command/reply\nReply-Text: " + text + "\n"
	for _, e := range extra {
		f += e + "\n"
	}
	c.queueLocked(f + "\n")
}

// disconnectLocked queues the notice FreeSWITCH sends before it closes a session. Caller holds
// srv.mu.
func (c *session) disconnectLocked() {
	const notice = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
	c.queueLocked(fmt.Sprintf("Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s", len(notice), notice))
}

const noSuchChannel = "-ERR No such channel!\n"

// apiLocked answers the api commands of docs/event-socket.md §4 and §5 with FreeSWITCH 1.11.1's reply texts
// (captures 02, 05, 09, 10). Caller holds s.mu.
func (s *Server) apiLocked(cmd string) string {
	name, arg, _ := strings.Cut(cmd, " ")
	args := strings.Fields(arg)
	ch := func() *channel {
		if len(args) == 0 {
			return nil
		}
		return s.chans[args[0]]
	}
	switch name {
	case "global_getvar":
		if arg == "hostname" {
			return s.o.Hostname
		}
		return ""
	case "status":
		return fmt.Sprintf("UP %s\nFreeSWITCH (Version 1.11.1-fsim 64bit) is ready\n%d session(s) since startup\n%d session(s) - peak 100, last 5min 0 \n0 session(s) per Sec out of max 1000, peak 0, last 5min 0 \n2000 session(s) max\nmin idle cpu 0.00/100.00\nCurrent Stack Size/Max 240K/8192K\n",
			uptime(s.o.Clock.Now().Sub(s.started)), s.created, len(s.chans))
	case "uuid_exists":
		return fmt.Sprint(ch() != nil) // no newline, as 1.11.1 answers (capture 02)
	case "uuid_kill":
		c := ch()
		if c == nil {
			return noSuchChannel
		}
		cause := "NORMAL_CLEARING"
		if len(args) > 1 {
			cause = args[1]
		}
		s.hangupLocked(c, cause)
		return "+OK\n"
	case "uuid_bridge":
		if len(args) < 2 || s.chans[args[0]] == nil || s.chans[args[1]] == nil || args[0] == args[1] {
			return "-ERR Invalid uuid\n"
		}
		s.uuidBridgeLocked(s.chans[args[0]], s.chans[args[1]])
		return "+OK " + args[1] + "\n"
	case "uuid_break":
		if ch() == nil {
			return noSuchChannel
		}
		return "+OK\n"
	case "uuid_record":
		return s.uuidRecordLocked(args)
	case "avmd":
		return s.avmdAPILocked(args)
	case "uuid_broadcast":
		c := ch()
		if c == nil {
			return "-ERR Operation failed\n"
		}
		// The message plays beside what the leg runs and ends with its own
		// CHANNEL_EXECUTE_COMPLETE (capture 05).
		data := strings.TrimSpace(strings.TrimPrefix(arg, args[0]))
		data = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(data, " aleg"), " bleg"), " both"))
		s.afterLocked(s.o.Playback, func() {
			if s.chans[c.uuid] == c {
				c.setVar("current_application_response", "FILE PLAYED")
				tail := [][2]string{{"Application", "playback"}, {"Application-Data", data},
					{"Application-Response", "FILE PLAYED"}, {"Application-UUID", newUUID()}}
				s.emitChannelTailLocked("CHANNEL_EXECUTE_COMPLETE", c, nil, tail)
			}
		})
		return "+OK Message sent\n"
	case "uuid_transfer":
		c := ch()
		if c == nil {
			return noSuchChannel
		}
		dest := strings.TrimSpace(strings.TrimPrefix(arg, args[0]))
		if d, ok := strings.CutSuffix(dest, " inline"); ok {
			if r := &s.history[c.record]; r.Bridged.IsZero() && strings.Contains(d, "conference:") {
				r.Bridged = s.o.Clock.Now() // put through to an agent: moved into a room
			}
			s.transferInlineLocked(c, d)
		} else {
			s.hangupLocked(c, "NO_ROUTE_DESTINATION") // the simulator has no dialplan to route to
		}
		return "+OK\n"
	case "conference":
		if len(args) == 2 && args[1] == "list" {
			return s.conferenceListLocked(args[0])
		}
		if len(args) > 0 && s.rooms[args[0]] == nil {
			return "-ERR Conference " + args[0] + " not found\n"
		}
		return "-ERR fsim: only `conference NAME list` is simulated\n"
	case "uuid_getvar":
		c := ch()
		if c == nil || len(args) < 2 {
			return noSuchChannel
		}
		if v, ok := c.getVar(args[1]); ok {
			return v
		}
		return "_undef_"
	case "uuid_setvar":
		c := ch()
		if c == nil || len(args) < 2 {
			return noSuchChannel
		}
		c.setVar(args[1], strings.Join(args[2:], " "))
		return "+OK\n"
	case "show":
		switch arg {
		case "channels as json":
			return s.showChannelsLocked(false)
		case "calls as json":
			return s.showChannelsLocked(true)
		}
	}
	return "-ERR " + name + " Command not found!\n"
}

// channelRowKeys are the columns of `show channels as json` in FreeSWITCH 1.11.1 (capture 10).
var channelRowKeys = []string{"uuid", "direction", "created", "created_epoch", "name", "state", "cid_name",
	"cid_num", "ip_addr", "dest", "application", "application_data", "dialplan", "context", "read_codec",
	"read_rate", "read_bit_rate", "write_codec", "write_rate", "write_bit_rate", "secure", "hostname",
	"presence_id", "presence_data", "accountcode", "callstate", "callee_name", "callee_num",
	"callee_direction", "call_uuid", "sent_callee_name", "sent_callee_num", "initial_cid_name",
	"initial_cid_num", "initial_ip_addr", "initial_dest", "initial_dialplan", "initial_context"}

// showChannelsLocked answers `show channels as json` (calls: `show calls as json`, with the bridged
// leg as b_uuid). An empty list is `{"row_count": 0}`, as 1.11.1 writes it (capture 02).
// Channels younger than ShowChannelsLag are not listed yet.
func (s *Server) showChannelsLocked(calls bool) string {
	ids := make([]string, 0, len(s.chans))
	now := s.o.Clock.Now()
	for id, ch := range s.chans {
		if s.o.ShowChannelsLag <= 0 || now.Sub(ch.created) >= s.o.ShowChannelsLag {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return s.chans[a].created.Compare(s.chans[b].created) })
	var rows []string
	for _, id := range ids {
		ch := s.chans[id]
		if calls && ch.bridge != nil && ch.bridge.a != ch {
			continue // a call is listed once, from its a leg
		}
		cid, _ := ch.getVar("origination_caller_id_number")
		app, data := ch.running[0], ch.running[1]
		if app == "" && strings.HasPrefix(ch.app, "&") {
			app, data, _ = strings.Cut(strings.TrimSuffix(strings.TrimPrefix(ch.app, "&"), ")"), "(")
		}
		state, callstate := "CS_EXECUTE", "ACTIVE"
		if !ch.answered {
			state, callstate = "CS_CONSUME_MEDIA", "RINGING"
		}
		v := map[string]string{"uuid": ch.uuid, "direction": "outbound", "created": ch.created.Format("2006-01-02 15:04:05"),
			"created_epoch": fmt.Sprint(ch.created.Unix()), "name": ch.dial, "state": state, "cid_name": "Outbound Call",
			"cid_num": cmp(cid, "0000000000"), "dest": ch.dest, "application": app, "application_data": data,
			"dialplan": "xml", "context": "default", "read_codec": "PCMU", "read_rate": "8000", "read_bit_rate": "64000",
			"write_codec": "PCMU", "write_rate": "8000", "write_bit_rate": "64000", "hostname": s.o.Hostname,
			"callstate": callstate, "callee_num": ch.dest, "callee_direction": "SEND", "call_uuid": ch.uuid,
			"initial_cid_num": cmp(cid, "0000000000"), "initial_dest": ch.dest, "initial_dialplan": "xml", "initial_context": "default"}
		keys := channelRowKeys
		if calls {
			keys = slices.Clone(channelRowKeys)
			b := map[string]string{}
			if ch.bridge != nil {
				o := ch.bridge.other(ch)
				b = map[string]string{"b_uuid": o.uuid, "b_direction": "outbound", "b_name": o.dial, "b_dest": o.dest,
					"b_callstate": "ACTIVE", "b_created_epoch": fmt.Sprint(o.created.Unix())}
			}
			for _, k := range []string{"b_uuid", "b_direction", "b_created", "b_created_epoch", "b_name", "b_state",
				"b_cid_name", "b_cid_num", "b_ip_addr", "b_dest", "b_callstate", "b_callee_name", "b_callee_num",
				"b_callee_direction", "call_created_epoch"} {
				keys = append(keys, k)
				v[k] = b[k]
			}
		}
		rows = append(rows, jsonRow(keys, v))
	}
	if len(rows) == 0 {
		return "{\"row_count\": 0}\n"
	}
	return fmt.Sprintf("{\"row_count\":%d,\"rows\":[%s]}", len(rows), strings.Join(rows, ","))
}

// jsonRow writes an object with keys in FreeSWITCH's column order (a map would sort them).
func jsonRow(keys []string, v map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(v[k])
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	b.WriteByte('}')
	return b.String()
}
