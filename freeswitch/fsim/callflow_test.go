package fsim_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// captureFates are the numbers of ../testdata/esl-captures/README.md as the lab switch answered them.
func captureFates(dial string) fsim.Fate {
	switch d := dial; {
	// Captures 16 to 18 (the desk): a customer who stays 60 s, a party who talks 8 s.
	case strings.Contains(d, "/08106048935"):
		return fsim.Fate{Answer: true, Ring: time.Second, Talk: 60 * time.Second}
	case strings.Contains(d, "/08100848936"):
		return fsim.Fate{Answer: true, Ring: time.Second, Talk: 8 * time.Second}
	// Captures 12 and 13 (the lab switch's fate-encoding numbers 08RTTTNNNNN, NNNNN 4893x): the
	// answer comes R s after the channel is created, the far end hangs up TTT s after the answer.
	case strings.Contains(d, "/08100248931"):
		return fsim.Fate{Answer: true, Ring: time.Second, Talk: 2 * time.Second}
	case strings.Contains(d, "/08103048932"), strings.Contains(d, "/08103048934"):
		return fsim.Fate{Answer: true, Ring: time.Second, Talk: 30 * time.Second}
	case strings.Contains(d, "/08100048933"):
		return fsim.Fate{Answer: true, Ring: time.Second, HangupAtAnswer: true}
	// Capture 11's customers ring 1 s after the loopback's 20 ms set-up. The transfers of the
	// first two landed before their originate had returned (ORIGINATOR_CANCEL); the fifth's
	// originate returned 0.4 ms after its answer, before the transfer: its ring is 20 ms
	// shorter so that the transfer lands after OriginateReturn here too.
	case strings.Contains(d, "/08100300005"):
		return fsim.Fate{Answer: true, Ring: time.Second, Talk: 3 * time.Second}
	case strings.Contains(d, "/081003"):
		return fsim.Fate{Answer: true, Ring: 1020 * time.Millisecond, Talk: 3 * time.Second}
	case strings.Contains(d, "/081000"): // answers and hangs up at once (fate_talk=000)
		return fsim.Fate{Answer: true, Ring: 1020 * time.Millisecond, HangupAtAnswer: true}
	// Capture 14's answer-analysis numbers (0910RTTTNNNN a person, 0911RNNNNNNN a machine that
	// beeps, 0912RTTTNNNN silence): the lab's far end talks from its answer, 20 ms after ours.
	case strings.Contains(d, "/091010054893"), strings.Contains(d, "/091010054895"):
		return fsim.Fate{Answer: true, Ring: time.Second, Talk: 5580 * time.Millisecond}
	case strings.Contains(d, "/091010104894"):
		return fsim.Fate{Answer: true, Ring: time.Second, Talk: 10580 * time.Millisecond}
	case strings.Contains(d, "/0911"):
		return fsim.Fate{Answer: true, Voice: fsim.Machine, Beep: true, Ring: time.Second, Talk: 24600 * time.Millisecond}
	case strings.Contains(d, "/0912"):
		return fsim.Fate{Answer: true, Voice: fsim.Silence, Ring: time.Second, Talk: 10 * time.Second}
	case strings.Contains(d, "/agent-"), strings.Contains(d, "/0905"):
		return fsim.Fate{Answer: true} // answers at once and stays
	case strings.Contains(d, "/0901"):
		return fsim.Fate{Answer: true, Ring: 2 * time.Second, Talk: 3 * time.Second}
	case strings.Contains(d, "/0810"):
		return fsim.Fate{Answer: true, Ring: 900 * time.Millisecond, Talk: 4 * time.Second}
	case strings.Contains(d, "/0906"):
		return fsim.Fate{Answer: true, Ring: 1500 * time.Millisecond}
	case strings.Contains(d, "/0902"):
		return fsim.Fate{Cause: "USER_BUSY", Ring: 100 * time.Millisecond}
	case strings.Contains(d, "/0904"):
		return fsim.Fate{Cause: "UNALLOCATED_NUMBER", Ring: 50 * time.Millisecond}
	}
	return fsim.Fate{Cause: "NO_ANSWER"} // 0903, 0930: ring until originate_timeout
}

type flowCase struct {
	capture string
	// loopbackOnly: commands that only mean something with the loopback endpoint; their reply
	// is compared by frame shape only.
	loopbackOnly []string
	// instead: a command of the capture replaced by what it did on the lab switch.
	instead map[string]func(s *fsim.Server)
	// artifacts removes loopback-only events from the real sequence of a leg.
	artifacts func(leg string, seq []string) []string
	// options adjusts the simulator's options for the capture.
	options func(o *fsim.Options)
	// check is what else the case asserts of the real frames and the simulator's.
	check func(t *testing.T, cmds []string, want, got []*wire.Frame)
	// rewrite changes a command before the simulator gets it (a recording's path).
	rewrite func(t *testing.T, cmd string) string
}

// Call flows of captures 03, 04, 05 and 09 to 19, replayed against the simulator on a virtual
// clock with the capture's own gaps between commands: every originated leg gets the events of
// the real switch in the same order (docs/event-socket.md §3 set), every reply the same frame and text, and
// every event a header set the real one has.
func TestSimulatorCallFlowsMatchCaptures(t *testing.T) {
	cases := []flowCase{
		{capture: "03-originate-answered-plain"},
		{capture: "04-busy-plain"},
		{capture: "04-noanswer-plain"},
		{capture: "04-unallocated-plain"},
		{capture: "05-agent-bridge-kill-plain"},
		{capture: "09-engine-call-flow"},
		// The agent's room: ORIGINATOR_CANCEL for transfers before the originate returned,
		// zero-talk customers, add-member / del-member / conference-destroy in the real order.
		{capture: "11-agent-room", instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}}},
		{capture: "10-edge-cases", loopbackOnly: []string{"api uuid_getvar", "api show calls"},
			// The lab's "agent puts the phone down" was a kill of the loopback's far leg.
			instead: map[string]func(s *fsim.Server){
				"api uuid_kill c53759bc-f765-4c82-acb7-5ff7fb8e2f3f NORMAL_CLEARING": func(s *fsim.Server) {
					s.Hangup("545d482e-88b7-4cb4-ba7a-96ce33be49b7", "NORMAL_CLEARING")
				}},
			// With loopback, the agent's a leg re-parks for a moment when its far leg dies.
			artifacts: func(leg string, seq []string) []string {
				if leg == "545d482e-88b7-4cb4-ba7a-96ce33be49b7" {
					if i := slices.Index(seq, "CHANNEL_HANGUP NORMAL_CLEARING"); i > 0 && seq[i-1] == "CHANNEL_PARK" {
						return slices.Delete(seq, i-1, i)
					}
				}
				return seq
			}},
		// The engine's room flow as it sends it: customers moved in once their originate's +OK
		// is in, one leaving by itself, one hung up by the client, one hanging up at the
		// instant of answer, one abandoned; conference_name asked of a member.
		{capture: "12-engine-room-flow", instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}},
			check: checkRoomFlow},
		// show channels right after CHANNEL_CREATE misses the channel; uuid_exists knows it.
		{capture: "13-show-channels-lag", instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}},
			options: func(o *fsim.Options) { o.ShowChannelsLag = 130 * time.Millisecond },
			check:   checkListingLag},
		// Answer analysis (issue 15): avmd_start and wait_for_silence on the answer, a person
		// moved into the room and recorded, a machine's beep answered with a message, silence
		// hung up after `avmd C stop`, a move that interrupts wait_for_silence, a recording
		// stopped by uuid_record stop; every application's CHANNEL_EXECUTE_COMPLETE.
		{capture: "14-answer-analysis", instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}},
			options: func(o *fsim.Options) { o.UnsequencedFrames = true },
			rewrite: recordInTempDir(), check: checkAnalysis},
		// detect_audio then detect_silence, which hear loopback legs: a person, a machine (and
		// its beep), silence, each hung up once classified.
		{capture: "15-answer-detect", instead: map[string]func(s *fsim.Server){"exit": func(*fsim.Server) {}},
			check: checkDetectVerdicts},
	}
	cases = append(cases, deskFlowCases()...) // desk_test.go
	pool := realEvents(t)
	for _, tc := range cases {
		t.Run(tc.capture, func(t *testing.T) {
			real, err := os.ReadFile(filepath.Join(captures, tc.capture+".esl"))
			if err != nil {
				t.Fatal(err)
			}
			cmds, gaps := sentCommands(t, tc.capture)
			legs, jobs := originated(cmds)
			want := readFrames(t, real)
			got := replayFlow(t, tc, cmds, gaps)

			wantLegs, gotLegs := perLeg(want, legs, jobs), perLeg(got, legs, jobs)
			for leg := range wantLegs {
				if strings.HasPrefix(leg, "conference ") || strings.HasPrefix(leg, "B:") {
					legs = append(legs, leg)
				}
			}
			for _, leg := range legs {
				w := wantLegs[leg]
				if tc.artifacts != nil {
					w = tc.artifacts(leg, w)
				}
				if !slices.Equal(gotLegs[leg], w) {
					t.Errorf("leg %s:\n  simulator:  %s\n  FreeSWITCH: %s", leg[:min(len(leg), 18)], strings.Join(gotLegs[leg], ", "), strings.Join(w, ", "))
				}
			}
			compareReplies(t, tc, cmds, replies(want), replies(got))
			if tc.check != nil {
				tc.check(t, cmds, want, got)
			}
			for _, f := range got {
				if f.ContentType() == "text/event-plain" {
					checkHeaderSet(t, f, pool)
				}
			}
		})
	}
}

// sentCommands splits a capture's .sent into commands and the delay before each (.timeline).
func sentCommands(t *testing.T, name string) ([]string, []time.Duration) {
	t.Helper()
	sent, err := os.ReadFile(filepath.Join(captures, name+".sent"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, c := range strings.Split(string(sent), "\n\n") {
		if strings.TrimSpace(c) != "" {
			cmds = append(cmds, c)
		}
	}
	tl, err := os.ReadFile(filepath.Join(captures, name+".timeline"))
	if err != nil {
		t.Fatal(err)
	}
	var at []float64
	for _, line := range strings.Split(string(tl), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == "SEND" {
			v, _ := strconv.ParseFloat(f[0], 64)
			at = append(at, v)
		}
	}
	if len(at) != len(cmds) {
		t.Fatalf("%s: %d sends in the timeline for %d commands", name, len(at), len(cmds))
	}
	gaps := make([]time.Duration, len(at))
	for i := 1; i < len(at); i++ {
		gaps[i] = time.Duration((at[i] - at[i-1]) * float64(time.Second))
	}
	return cmds, gaps
}

var anyUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

var originationUUID = regexp.MustCompile(`origination_uuid=([0-9a-f-]{36})`)

// originated is the uuid of every originated leg, and the job of each bgapi that named one.
func originated(cmds []string) (legs []string, jobs map[string]string) {
	jobs = map[string]string{}
	for _, c := range cmds {
		if m := originationUUID.FindStringSubmatch(c); m != nil && strings.HasPrefix(c, "bgapi originate") {
			legs = append(legs, m[1])
			if _, job, ok := strings.Cut(c, "\nJob-UUID: "); ok {
				jobs[strings.TrimSpace(job)] = m[1]
			}
		}
	}
	return legs, jobs
}

func readFrames(t *testing.T, b []byte) []*wire.Frame {
	t.Helper()
	r := wire.NewReader(strings.NewReader(string(b)))
	var out []*wire.Frame
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return out
		}
		out = append(out, f)
	}
}

// replayFlow sends the capture's commands to a simulator on a virtual clock, advancing it by
// the capture's gaps, and returns every frame received.
func replayFlow(t *testing.T, tc flowCase, cmds []string, gaps []time.Duration) []*wire.Frame {
	t.Helper()
	clock := fsim.NewVirtualClock(time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC))
	o := fsim.Options{Script: captureFates, Clock: clock, Heartbeat: -1}
	if pw, ok := strings.CutPrefix(cmds[0], "auth "); ok {
		o.Password = pw // the lab switch's captures (12, 13) authenticate with its own password
	}
	if tc.options != nil {
		tc.options(&o)
	}
	s := fsimtest.Start(t, o)
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	frames := make(chan *wire.Frame, 4096)
	go func() {
		defer close(frames)
		r := wire.NewReader(bufio.NewReader(nc))
		for {
			f, err := r.ReadFrame()
			if err != nil {
				return
			}
			frames <- f
		}
	}()
	var got []*wire.Frame
	// next collects frames up to and including the next reply.
	next := func() {
		for f := range frames {
			got = append(got, f)
			if ct := f.ContentType(); ct != "text/event-plain" {
				return
			}
		}
		t.Fatal("connection ended early")
	}
	next() // auth/request
	for i, c := range cmds {
		clock.Advance(gaps[i])
		if do, ok := tc.instead[c]; ok {
			do(s)
			continue
		}
		if tc.rewrite != nil {
			c = tc.rewrite(t, c)
		}
		if _, err := nc.Write([]byte(c + "\n\n")); err != nil {
			t.Fatal(err)
		}
		next()
	}
	clock.Advance(time.Minute) // every pending ring, talk and timeout runs out
	// A last command marks the end of the stream: every frame before its reply is in.
	nc.Write([]byte("api uuid_exists 00000000-0000-4000-8000-000000000000\n\n"))
	next()
	return got[:len(got)-1]
}

// perLeg is each originated leg's events of the docs/event-socket.md §3 set, BACKGROUND_JOB results included
// (with their body) and hangups with their cause, and its conference membership (add-member,
// del-member); each conference's own sequence (create, members joining and leaving, destroy) is
// under "conference NAME".
func perLeg(frames []*wire.Frame, legs []string, jobs map[string]string) map[string][]string {
	used := map[string]bool{}
	for _, n := range freeswitch.EngineEvents() {
		used[n] = true
	}
	isLeg := map[string]bool{}
	for _, l := range legs {
		isLeg[l] = true
	}
	out := map[string][]string{}
	alias := loopbackBLegs(frames, legs)
	for _, a := range alias {
		isLeg[a] = true
	}
	for _, f := range frames {
		if f.ContentType() != "text/event-plain" {
			continue
		}
		e, err := wire.ParsePlainEvent(f)
		if err != nil || !used[e.Name()] {
			continue
		}
		leg := e.UniqueID()
		if a, ok := alias[leg]; ok {
			leg = a
		}
		desc := e.Name()
		switch e.Name() {
		case "BACKGROUND_JOB":
			leg = jobs[e.JobUUID()]
			if m := originationUUID.FindStringSubmatch(e.Header.Get("Job-Command-Arg")); leg == "" && m != nil {
				leg = m[1]
			}
			body := strings.TrimSpace(string(e.Body))
			if strings.HasPrefix(body, "+OK") {
				body = "+OK"
			}
			desc += " " + body
		case "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE":
			desc += " " + e.Header.Get("Hangup-Cause")
		case "CHANNEL_EXECUTE_COMPLETE":
			desc += " " + e.Header.Get("Application")
		case "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE":
			desc += " " + e.Header.Get("Bridge-A-Unique-ID")[:8] + ">" + e.Header.Get("Bridge-B-Unique-ID")[:8]
		case "CUSTOM":
			if sub := e.Header.Get("Event-Subclass"); sub == freeswitch.AVMDBeep {
				desc += " " + sub
				break
			}
			action := e.Header.Get("Action")
			if e.Header.Get("Event-Subclass") != "conference::maintenance" ||
				!slices.Contains([]string{"conference-create", "add-member", "del-member", "conference-destroy"}, action) {
				continue
			}
			desc += " " + action
			room := "conference " + e.Header.Get("Conference-Name")
			if leg != "" {
				out[room] = append(out[room], desc+" "+leg[:8]+" size="+e.Header.Get("Conference-Size"))
			} else {
				out[room] = append(out[room], desc+" size="+e.Header.Get("Conference-Size"))
			}
		}
		if isLeg[leg] {
			out[leg] = append(out[leg], desc)
		}
	}
	return out
}

type replyFrame struct {
	shape, body string
	job         string // a bgapi's BACKGROUND_JOB body
}

func replies(frames []*wire.Frame) []replyFrame {
	jobs := map[string]string{}
	for _, f := range frames {
		if e, err := wire.ParsePlainEvent(f); err == nil && f.ContentType() == "text/event-plain" && e.Name() == "BACKGROUND_JOB" {
			jobs[e.JobUUID()] = string(e.Body)
		}
	}
	var out []replyFrame
	for _, f := range frames {
		if f.ContentType() == "text/event-plain" || f.ContentType() == "auth/request" {
			continue
		}
		names := make([]string, 0, len(f.Header))
		for _, h := range f.Header {
			names = append(names, h.Name)
		}
		out = append(out, replyFrame{shape: f.ContentType() + " " + strings.Join(names, ","),
			body: f.Header.Get("Reply-Text") + string(f.Body), job: jobs[f.Header.Get("Job-UUID")]})
	}
	return out
}

// compareReplies checks every reply: same frame type and headers, same text, except the status
// banner (uptime differs), JSON listings (compared by their columns) and loopback-only commands.
func compareReplies(t *testing.T, tc flowCase, cmds []string, want, got []replyFrame) {
	t.Helper()
	wi, gi := 0, 0
	for _, c := range cmds {
		if _, ok := tc.instead[c]; ok {
			wi++ // the lab switch's reply to the command the simulator did not need
			continue
		}
		if wi >= len(want) || gi >= len(got) {
			t.Fatalf("reply to %q: simulator %d replies, FreeSWITCH %d", firstLine(c), len(got), len(want))
		}
		w, g := want[wi], got[gi]
		wi, gi = wi+1, gi+1
		if g.shape != w.shape {
			t.Errorf("reply to %q: frame %q, FreeSWITCH %q", firstLine(c), g.shape, w.shape)
			continue
		}
		if g.job != w.job {
			t.Errorf("job of %q: %q, FreeSWITCH %q", firstLine(c), g.job, w.job)
		}
		switch {
		case slices.ContainsFunc(tc.loopbackOnly, func(p string) bool { return strings.HasPrefix(c, p) }):
		case strings.HasPrefix(c, "api status"):
		case strings.HasPrefix(c, "bgapi ") && !strings.Contains(c, "\nJob-UUID: "):
			// The switch chose the Job-UUID: compare all but its value.
			if anyUUID.ReplaceAllString(g.body, "J") != anyUUID.ReplaceAllString(w.body, "J") {
				t.Errorf("reply to %q: %q, FreeSWITCH %q", firstLine(c), g.body, w.body)
			}
		case strings.HasPrefix(c, "api show"):
			if wk, gk := jsonColumns(t, w.body), jsonColumns(t, g.body); !slices.Equal(wk, gk) {
				t.Errorf("%q columns:\n  simulator:  %v\n  FreeSWITCH: %v", c, gk, wk)
			}
			// The originated legs listed (the real listing also has loopback b legs and, in
			// captures of a shared switch, nothing else: the recorder throws such sessions away).
			legs, _ := originated(cmds)
			for _, l := range legs {
				if strings.Contains(w.body, l) != strings.Contains(g.body, l) {
					t.Errorf("%q: leg %s listed %v, by FreeSWITCH %v", c, l[:8], strings.Contains(g.body, l), strings.Contains(w.body, l))
				}
			}
		case g.body != w.body:
			t.Errorf("reply to %q: %q, FreeSWITCH %q", firstLine(c), g.body, w.body)
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func jsonColumns(t *testing.T, body string) []string {
	t.Helper()
	var v struct {
		Rows []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("listing %q: %v", body, err)
	}
	if len(v.Rows) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(v.Rows[0])))
	var keys []string
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		dec.Token()
	}
	return keys
}

// realEvents are the header-name lists of every event in every capture, by event name.
func realEvents(t *testing.T) map[string][][]string {
	t.Helper()
	pool := map[string][][]string{}
	files, _ := filepath.Glob(filepath.Join(captures, "*.esl"))
	if len(files) == 0 {
		t.Fatalf("no captures in %s", captures)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range readFrames(t, b) {
			if f.ContentType() != "text/event-plain" {
				continue
			}
			e, err := wire.ParsePlainEvent(f)
			if err != nil {
				continue
			}
			names := make([]string, 0, len(e.Header))
			for _, h := range e.Header {
				names = append(names, h.Name)
			}
			pool[e.Name()] = append(pool[e.Name()], names)
		}
	}
	return pool
}

// checkHeaderSet: the simulator's headers of an event, variables aside, appear in the same
// order in some real event of that name; its variables all appear in real events of that name;
// values are encoded as FreeSWITCH encodes them.
func checkHeaderSet(t *testing.T, f *wire.Frame, pool map[string][][]string) {
	t.Helper()
	e, err := wire.ParsePlainEvent(f)
	if err != nil {
		t.Fatal(err)
	}
	var fixed, vars []string
	for _, h := range e.Header {
		if strings.HasPrefix(h.Name, "variable_") {
			vars = append(vars, h.Name)
		} else {
			fixed = append(fixed, h.Name)
		}
	}
	real := pool[e.Name()]
	if len(real) == 0 {
		t.Errorf("%s: no such event in the captures", e.Name())
		return
	}
	realVars := map[string]bool{}
	ordered := false
	for _, names := range real {
		ordered = ordered || subsequence(fixed, names)
		for _, n := range names {
			realVars[n] = true
		}
	}
	if !ordered {
		t.Errorf("%s: headers %v are not in the order of any real %s", e.Name(), fixed, e.Name())
	}
	for _, v := range vars {
		if !realVars[v] {
			t.Errorf("%s: %s never appears in a real %s", e.Name(), v, e.Name())
		}
	}
	for _, line := range strings.Split(string(f.Body), "\n") {
		name, value, _ := strings.Cut(line, ": ")
		if name == "Job-Command-Arg" || name == "Event-Date-Local" {
			if strings.ContainsAny(value, " {}=&:") {
				t.Errorf("%s: %s not URL-encoded as FreeSWITCH does: %q", e.Name(), name, value)
			}
		}
	}
}

func subsequence(sub, of []string) bool {
	i := 0
	for _, n := range of {
		if i < len(sub) && sub[i] == n {
			i++
		}
	}
	return i == len(sub)
}

// Capture 06: an idle subscription gets HEARTBEAT every interval, with the real header set.
func TestSimulatorHeartbeatMatchesCapture06(t *testing.T) {
	clock := fsim.NewVirtualClock(time.Unix(1_800_000_000, 0))
	s := fsimtest.Start(t, fsim.Options{Clock: clock, Heartbeat: 20 * time.Second})
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	r := wire.NewReader(nc)
	nc.Write([]byte("auth ClueCon\n\nevent plain HEARTBEAT\n\n"))
	for range 3 { // greeting, auth and subscription replies
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(19 * time.Second)
	nc.Write([]byte("api uuid_exists 00000000-0000-4000-8000-000000000000\n\n"))
	if f, err := r.ReadFrame(); err != nil || f.ContentType() != "api/response" {
		t.Fatalf("before the interval: %v %v", f, err)
	}
	clock.Advance(time.Second)
	pool := realEvents(t)
	for range 2 {
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		checkHeaderSet(t, f, pool)
		clock.Advance(20 * time.Second)
	}
}
