package fsim

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// handle answers one command as FreeSWITCH does; false ends the session.
func (c *session) handle(_ context.Context, lines []string) bool {
	cmd := lines[0]
	if !c.authed {
		if pw, ok := strings.CutPrefix(cmd, "auth "); ok {
			if pw != c.srv.password {
				c.reply("-ERR invalid")
				c.disconnect()
				return false
			}
			c.authed = true
			c.reply("+OK accepted")
			return true
		}
		c.reply("-ERR command not found") // what 1.11.1 answers before auth (capture 01c)
		return true
	}
	c.srv.mu.Lock()
	c.srv.record = append(c.srv.record, strings.Join(lines, "\n"))
	c.srv.mu.Unlock()
	switch {
	case cmd == "exit":
		c.reply("+OK bye")
		c.disconnect()
		return false
	case strings.HasPrefix(cmd, "event plain "):
		c.smu.Lock()
		if c.events == nil {
			c.events = map[string]bool{}
		}
		for _, n := range strings.Fields(cmd)[2:] {
			c.events[n] = true
			c.all = c.all || n == "ALL"
		}
		c.smu.Unlock()
		c.reply("+OK event listener enabled plain")
	case strings.HasPrefix(cmd, "api "):
		c.apiResponse(c.srv.api(strings.TrimPrefix(cmd, "api ")))
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
		c.reply("+OK Job-UUID: "+job, "Job-UUID: "+job)
		c.srv.bgapi(strings.TrimPrefix(cmd, "bgapi "), job)
	default:
		c.reply("-ERR command not found")
	}
	return true
}

func (c *session) disconnect() {
	const notice = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
	c.write(fmt.Sprintf("Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s", len(notice), notice))
}

// api answers the api commands of ESL.md §5.
func (s *Server) api(cmd string) string {
	name, arg, _ := strings.Cut(cmd, " ")
	switch name {
	case "global_getvar":
		if arg == "hostname" {
			return "fsim"
		}
		return ""
	case "status":
		return "UP 0 years, 0 days, 0 hours, 0 minutes, 1 second\nFreeSWITCH (fsim) is ready\n"
	case "uuid_exists":
		s.mu.Lock()
		_, ok := s.chans[arg]
		s.mu.Unlock()
		return fmt.Sprint(ok) // no newline, as 1.11.1 answers (capture 02)
	case "uuid_kill":
		id, cause, _ := strings.Cut(arg, " ")
		if cause == "" {
			cause = "NORMAL_CLEARING"
		}
		if !s.hangup(id, cause) {
			return "-ERR No such channel!\n"
		}
		return "+OK\n"
	case "show":
		if arg == "channels as json" {
			s.mu.Lock()
			defer s.mu.Unlock()
			rows := make([]string, 0, len(s.chans))
			for _, ch := range s.chans {
				rows = append(rows, fmt.Sprintf(`{"uuid":%q,"dest":%q}`, ch.uuid, ch.dial))
			}
			return fmt.Sprintf(`{"row_count":%d,"rows":[%s]}`, len(rows), strings.Join(rows, ","))
		}
	}
	return "-ERR " + name + " Command not found!\n"
}

var originateArg = regexp.MustCompile(`^originate \{origination_uuid=([0-9a-fA-F-]{36})[^}]*\}(\S+) &\S+$`)

// bgapi runs a background command; only originate is simulated.
func (s *Server) bgapi(cmd, job string) {
	m := originateArg.FindStringSubmatch(cmd)
	if m == nil {
		s.after(0, func() { s.jobResult(job, cmd, "-ERR INVALID_ARGS\n") })
		return
	}
	id, dial := m[1], m[2]
	fate := s.script(dial)
	s.after(0, func() {
		s.mu.Lock()
		s.chans[id] = &channel{uuid: id, dial: dial}
		s.mu.Unlock()
		s.broadcast("CHANNEL_CREATE", chanFields(id, dial, "ringing"), "")
	})
	if !fate.Answer {
		cause := fate.Cause
		if cause == "" {
			cause = "NO_ANSWER"
		}
		s.after(fate.Ring, func() {
			s.hangup(id, cause)
			s.jobResult(job, cmd, "-ERR "+cause+"\n")
		})
		return
	}
	s.after(fate.Ring, func() {
		s.mu.Lock()
		ch := s.chans[id]
		if ch != nil {
			ch.answered = true
		}
		s.mu.Unlock()
		if ch == nil {
			return
		}
		s.broadcast("CHANNEL_ANSWER", chanFields(id, dial, "answered"), "")
		s.jobResult(job, cmd, "+OK "+id+"\n")
		if fate.Talk > 0 {
			s.after(fate.Talk, func() { s.hangup(id, "NORMAL_CLEARING") })
		}
	})
}

func (s *Server) jobResult(job, cmd, body string) {
	name, arg, _ := strings.Cut(cmd, " ")
	s.broadcast("BACKGROUND_JOB", [][2]string{{"Job-UUID", job}, {"Job-Command", name}, {"Job-Command-Arg", arg}}, body)
}

// hangup ends a channel with its HANGUP_COMPLETE and DESTROY events.
func (s *Server) hangup(id, cause string) bool {
	s.mu.Lock()
	ch, ok := s.chans[id]
	delete(s.chans, id)
	s.mu.Unlock()
	if !ok {
		return false
	}
	state := "hangup"
	fields := append(chanFields(id, ch.dial, state), [2]string{"Hangup-Cause", cause}, [2]string{"variable_hangup_cause", cause})
	s.broadcast("CHANNEL_HANGUP_COMPLETE", fields, "")
	s.broadcast("CHANNEL_DESTROY", chanFields(id, ch.dial, state), "")
	return true
}

func chanFields(id, dial, answerState string) [][2]string {
	return [][2]string{{"Unique-ID", id}, {"Channel-Call-UUID", id}, {"Answer-State", answerState},
		{"Caller-Destination-Number", dial}}
}
