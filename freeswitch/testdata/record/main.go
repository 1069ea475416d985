//go:build record

// Command record writes conformance captures of a real FreeSWITCH into
// ../esl-captures (see its README.md): it connects to the lab switch's event socket, runs one
// scripted session and keeps, per capture NN-name,
//
//	NN-name.esl       the exact bytes received, in order
//	NN-name.sent      the exact bytes sent
//	NN-name.timeline  one line per socket read (RECV) or write (SEND): seconds since the
//	                  connection opened (monotonic clock), direction, byte offset in .esl or
//	                  .sent, length
//
// The build tag keeps it out of `go test ./...` and `go vet ./...` (so does the testdata
// directory). From the repository root, with the lab switch up (scripts/freeswitch-lab.sh start):
//
//	go run -tags record ./freeswitch/testdata/record -list
//	go run -tags record ./freeswitch/testdata/record -capture 12-engine-room-flow
//
// The lab switch is shared: every leg a session makes uses the caller IDs and numbers below,
// which no kakeru instance or lab test uses, and is hung up before the session ends, whatever
// happens. The session subscribes to events as the engine does, so it sees every channel on
// the switch: a session that saw another client's channels or rooms is thrown away and
// recorded again (-tries), after waiting for the switch to have no channels at all (-idle).
// A session whose real switch did not show what the capture is about (a listing that did not
// lag, a move that did not take) is recorded again too. Nothing is written until a session
// passes.
//
// A new capture is one more entry in scripts: a function that drives the session through the
// helpers of session and returns an error when the switch did not show what it should.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// Caller IDs and numbers of the recorder's own legs on the shared lab switch.
const (
	agentCallerID    = "0093"
	customerCallerID = "0393930093"
	agentDial        = "loopback/agent-4893/agents"
	// Customers: 08RTTTNNNNN rings R s, answers and talks TTT s (000: hangs up at the instant
	// of answer); NNNNN 4893x is the recorder's.
	talksTwoSeconds = "loopback/08100248931/customers"
	killedInRoom    = "loopback/08103048932/customers"
	hangsUpAtAnswer = "loopback/08100048933/customers"
	abandoned       = "loopback/08103048934/customers"
)

// What the engine puts in its commands (engine/agents.go, engine/calls.go) with a tone as the
// login prompt: the lab switch has no sound files.
const (
	profile     = "kakeru"
	holdTone    = "tone_stream://%(1000,4000,440);loops=-1"
	loginPrompt = "tone_stream://%(100,0,600)"
	beepTone    = "tone_stream://%(200,0,1000)"
	abandonMsg  = "tone_stream://%(500,0,800)"
)

var scripts = map[string]func(*session) error{
	"12-engine-room-flow":  engineRoomFlow,
	"13-show-channels-lag": showChannelsLag,
	"14-answer-analysis":   answerAnalysis,
	"15-answer-detect":     answerDetect,
	"16-desk-hold":         deskHold,
	"17-desk-consult":      deskConsult,
	"18-desk-transfer":     deskTransfer,
	"19-desk-pair-ends":    deskPairEnds,
}

func main() {
	addr := flag.String("addr", env("KAKERU_LAB_ESL_ADDR", "127.0.0.1:18021"), "the lab switch's event socket")
	password := flag.String("password", env("KAKERU_LAB_ESL_PASSWORD", "kakeru-lab"), "its password")
	out := flag.String("out", "freeswitch/testdata/esl-captures", "directory the capture files are written to")
	capture := flag.String("capture", "", "the capture to record (see -list)")
	list := flag.Bool("list", false, "list the captures this program records")
	tries := flag.Int("tries", 10, "sessions to run before giving up")
	failed := flag.String("failed", "", "directory failed sessions are written to, for a look (default: not kept)")
	idle := flag.Duration("idle", 10*time.Minute, "how long to wait for the switch to have no channels before each session (0: do not wait)")
	flag.Parse()
	if *list {
		names := make([]string, 0, len(scripts))
		for n := range scripts {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Println(strings.Join(names, "\n"))
		return
	}
	script := scripts[*capture]
	if script == nil {
		fmt.Fprintf(os.Stderr, "record: no capture %q (-list)\n", *capture)
		os.Exit(2)
	}
	go hangUpOnSignal(*addr, *password)
	for try := 1; try <= *tries; try++ {
		if err := waitIdle(*addr, *password, *idle); err != nil {
			fmt.Fprintf(os.Stderr, "record: %v\n", err)
			os.Exit(1)
		}
		s, err := run(*addr, *password, script)
		if err == nil {
			if err := s.write(*out, *capture); err != nil {
				fmt.Fprintf(os.Stderr, "record: %v\n", err)
				os.Exit(1)
			}
			fmt.Printf("record: %s written to %s (session %d, %.1f s, %d bytes received)\n",
				*capture, *out, try, s.elapsed().Seconds(), s.recv.Len())
			return
		}
		fmt.Fprintf(os.Stderr, "record: session %d: %v\n", try, err)
		if s != nil && *failed != "" {
			if err := s.write(*failed, fmt.Sprintf("%s.try%d", *capture, try)); err != nil {
				fmt.Fprintf(os.Stderr, "record: %v\n", err)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "record: %s not recorded in %d sessions\n", *capture, *tries)
	os.Exit(1)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// waitIdle waits until the switch lists no channel at all (on a connection of its own, which
// is not recorded).
func waitIdle(addr, password string, limit time.Duration) error {
	if limit <= 0 {
		return nil
	}
	deadline := time.Now().Add(limit)
	for {
		s, err := dial(addr, password, false)
		if err != nil {
			return err
		}
		body, err := s.api("show channels count")
		s.close()
		if err != nil {
			return err
		}
		if strings.HasPrefix(strings.TrimSpace(body), "0 total") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the switch still has channels after %v: %s", limit, strings.TrimSpace(body))
		}
		time.Sleep(2 * time.Second)
	}
}

// current is the session running, for hangUpOnSignal.
var current struct {
	sync.Mutex
	s *session
}

// hangUpOnSignal: interrupted, the program hangs up the legs of the session running before it
// exits, so nothing it made stays up on the shared switch.
func hangUpOnSignal(addr, password string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	current.Lock()
	var legs []string
	if s := current.s; s != nil {
		s.mu.Lock()
		for l := range s.legs {
			legs = append(legs, l)
		}
		s.mu.Unlock()
	}
	if err := hangUp(addr, password, legs); err != nil {
		fmt.Fprintf(os.Stderr, "record: %v\n", err)
	}
	os.Exit(1)
}

// run records one session: the script, then the hang-up of every leg it made that is still up.
func run(addr, password string, script func(*session) error) (*session, error) {
	s, err := dial(addr, password, true)
	if err != nil {
		return nil, err
	}
	current.Lock()
	current.s = s
	current.Unlock()
	defer func() {
		current.Lock()
		current.s = nil
		current.Unlock()
	}()
	err = script(s)
	if leftover := s.cleanUp(); err == nil {
		err = leftover
	}
	if err == nil {
		err = s.foreign()
	}
	return s, err
}

// session is one recorded event-socket connection: every read and write is kept with its time.
type session struct {
	nc        net.Conn
	password  string
	t0        time.Time
	closeOnce sync.Once
	record    bool
	replies   chan *wire.Frame
	done      chan struct{} // closed when the reader stops

	mu       sync.Mutex
	cond     *sync.Cond
	recv     bytes.Buffer
	sent     bytes.Buffer
	timeline bytes.Buffer
	events   []*wire.Event
	err      error // why the reader stopped
	legs     map[string]string
	rooms    map[string]bool
	jobs     map[string]bool
	numbers  []string // destination numbers of our legs (their loopback b-legs carry them too)
}

func dial(addr, password string, record bool) (*session, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("lab switch %s (scripts/freeswitch-lab.sh start): %w", addr, err)
	}
	s := &session{nc: nc, password: password, t0: time.Now(), record: record, replies: make(chan *wire.Frame, 16),
		done: make(chan struct{}), legs: map[string]string{}, rooms: map[string]bool{}, jobs: map[string]bool{}}
	s.cond = sync.NewCond(&s.mu)
	greeting := make(chan struct{})
	go s.read(greeting)
	select {
	case <-greeting:
	case <-time.After(5 * time.Second):
		nc.Close()
		return nil, errors.New("no auth/request from the switch")
	}
	if r, err := s.command("auth " + password); err != nil || r != "+OK accepted" {
		nc.Close()
		return nil, fmt.Errorf("auth: %q %v", r, err)
	}
	return s, nil
}

// Read is the socket as the frame reader sees it: each read is logged with its time.
func (s *session) Read(p []byte) (int, error) {
	n, err := s.nc.Read(p)
	if n > 0 && s.record {
		at := time.Since(s.t0)
		s.mu.Lock()
		fmt.Fprintf(&s.timeline, "%.6f\tRECV\toffset=%d\tlen=%d\n", at.Seconds(), s.recv.Len(), n)
		s.recv.Write(p[:n])
		s.mu.Unlock()
	}
	return n, err
}

func (s *session) read(greeting chan struct{}) {
	defer close(s.done)
	r := wire.NewReader(io.Reader(s))
	for {
		f, err := r.ReadFrame()
		if err != nil {
			s.stop(err)
			return
		}
		switch f.ContentType() {
		case "auth/request":
			close(greeting)
		case "text/event-plain":
			e, err := wire.ParsePlainEvent(f)
			if err != nil {
				s.stop(err)
				return
			}
			s.mu.Lock()
			s.events = append(s.events, e)
			s.cond.Broadcast()
			s.mu.Unlock()
		default: // command/reply, api/response, and the disconnect notice after exit
			s.replies <- f
		}
	}
}

func (s *session) stop(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}

func (s *session) elapsed() time.Duration { return time.Since(s.t0) }

// send writes one command (lines joined by "\n", then the blank line) in one write.
func (s *session) send(cmd string) error {
	b := []byte(cmd + "\n\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.record {
		fmt.Fprintf(&s.timeline, "%.6f\tSEND\toffset=%d\tlen=%d\n", time.Since(s.t0).Seconds(), s.sent.Len(), len(b))
		s.sent.Write(b)
	}
	_, err := s.nc.Write(b)
	return err
}

// command sends a command and returns its reply: Reply-Text, or an api response's body.
func (s *session) command(cmd string) (string, error) {
	if err := s.send(cmd); err != nil {
		return "", err
	}
	select {
	case f := <-s.replies:
		if f.ContentType() == "command/reply" {
			return f.Header.Get("Reply-Text"), nil
		}
		return string(f.Body), nil
	case <-s.done:
		select { // the reply may have come just before the end (exit's +OK bye)
		case f := <-s.replies:
			if f.ContentType() == "command/reply" {
				return f.Header.Get("Reply-Text"), nil
			}
			return string(f.Body), nil
		default:
		}
		return "", fmt.Errorf("%q: connection ended: %v", firstLine(cmd), s.err)
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("%q: no reply within 10 s", firstLine(cmd))
	}
}

func (s *session) api(cmd string) (string, error) { return s.command("api " + cmd) }

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func must(cmd string, err error) string {
	if err != nil {
		panic(err) // a builder refused what this program wrote: a bug here
	}
	return cmd
}

// originate sends `bgapi originate …` with a Job-UUID of the client's own, as the engine does,
// and returns the job.
func (s *session) originate(o freeswitch.Originate) (string, error) {
	job := freeswitch.NewUUID()
	s.mu.Lock()
	s.legs[o.UUID] = o.DialString
	s.jobs[job] = true
	s.numbers = append(s.numbers, strings.Split(o.DialString, "/")[1])
	s.mu.Unlock()
	r, err := s.command(must(freeswitch.BgAPI(must(freeswitch.OriginateCmd(o)), job)))
	if err != nil {
		return "", err
	}
	if r != "+OK Job-UUID: "+job {
		return "", fmt.Errorf("bgapi originate: %q", r)
	}
	return job, nil
}

// agent calls an agent's phone into a room of its own, as the engine does (engine/agents.go).
func (s *session) agent(leg string) (job string, err error) {
	room := must(freeswitch.Room(leg, profile))
	s.mu.Lock()
	s.rooms[leg] = true
	s.mu.Unlock()
	return s.originate(freeswitch.Originate{UUID: leg, DialString: agentDial,
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: agentCallerID},
			{Name: "ignore_early_media", Value: "true"}, {Name: "originate_timeout", Value: "30"},
			{Name: "conference_moh_sound", Value: holdTone}},
		Inline: []freeswitch.App{{Name: "playback", Data: loginPrompt}, {Name: "conference", Data: room}}})
}

// customer dials a customer, parked on answer, as the engine does (engine/calls.go).
func (s *session) customer(leg, dial string, attempt int) (job string, err error) {
	return s.originate(freeswitch.Originate{UUID: leg, DialString: dial, App: "&park()",
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: customerCallerID},
			{Name: "originate_timeout", Value: "25"}, {Name: "ignore_early_media", Value: "true"},
			{Name: "dialer_attempt_id", Value: fmt.Sprint(attempt)},
			{Name: "conference_enter_sound", Value: beepTone}}})
}

// wait returns the first event (from the start of the session) that match accepts, waiting up
// to limit for it.
func (s *session) wait(what string, limit time.Duration, match func(*wire.Event) bool) (*wire.Event, error) {
	deadline := time.Now().Add(limit)
	t := time.AfterFunc(limit, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; ; {
		for ; i < len(s.events); i++ {
			if match(s.events[i]) {
				return s.events[i], nil
			}
		}
		if s.err != nil {
			return nil, fmt.Errorf("waiting for %s: connection ended: %v", what, s.err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no %s within %v", what, limit)
		}
		s.cond.Wait()
	}
}

func channelEvent(name, leg string) func(*wire.Event) bool {
	return func(e *wire.Event) bool { return e.Name() == name && e.UniqueID() == leg }
}

func member(action, leg string) func(*wire.Event) bool {
	return func(e *wire.Event) bool {
		return e.Name() == "CUSTOM" && e.Header.Get("Event-Subclass") == freeswitch.ConferenceMaintenance &&
			e.Header.Get("Action") == action && e.UniqueID() == leg
	}
}

func roomEvent(action, room string) func(*wire.Event) bool {
	return func(e *wire.Event) bool {
		return e.Name() == "CUSTOM" && e.Header.Get("Event-Subclass") == freeswitch.ConferenceMaintenance &&
			e.Header.Get("Action") == action && e.Header.Get("Conference-Name") == room
	}
}

// jobResult waits for a bgapi job's BACKGROUND_JOB and returns its body.
func (s *session) jobResult(job string, limit time.Duration) (string, error) {
	e, err := s.wait("BACKGROUND_JOB "+job, limit, func(e *wire.Event) bool {
		return e.Name() == "BACKGROUND_JOB" && e.JobUUID() == job
	})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(e.Body)), nil
}

// gone waits for a leg's CHANNEL_DESTROY.
func (s *session) gone(leg string, limit time.Duration) error {
	_, err := s.wait("CHANNEL_DESTROY of "+leg, limit, channelEvent("CHANNEL_DESTROY", leg))
	return err
}

// cleanUp ends the recorded connection when the script has not, then, on a connection of its
// own (not recorded), hangs up every leg of the session the switch still has: a script that
// passes has hung them all up itself.
func (s *session) cleanUp() error {
	s.close()
	s.mu.Lock()
	legs := make([]string, 0, len(s.legs))
	for l := range s.legs {
		legs = append(legs, l)
	}
	addr := s.nc.RemoteAddr().String()
	s.mu.Unlock()
	return hangUp(addr, s.password, legs)
}

// hangUp kills whichever of legs the switch still has.
func hangUp(addr, password string, legs []string) error {
	if len(legs) == 0 {
		return nil
	}
	c, err := dial(addr, password, false)
	if err != nil {
		return fmt.Errorf("legs %v may be up: %w", legs, err)
	}
	defer c.close()
	var up []string
	for _, l := range legs {
		if r, err := c.api(must(freeswitch.UUIDExists(l))); err != nil || r != "false" {
			up = append(up, l)
			c.api(must(freeswitch.UUIDKill(l, "")))
		}
	}
	if len(up) > 0 {
		return fmt.Errorf("legs still up at the end, hung up: %v", up)
	}
	return nil
}

func (s *session) close() {
	s.closeOnce.Do(func() { s.nc.Close() })
	<-s.done
}

// foreign names the first event about a channel, room or job that is not the session's.
func (s *session) foreign() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		switch {
		case e.Name() == "HEARTBEAT":
		case e.Name() == "BACKGROUND_JOB":
			if !s.jobs[e.JobUUID()] {
				return fmt.Errorf("another client's job %s in the session", e.JobUUID())
			}
		case e.Header.Get("Event-Subclass") == freeswitch.ConferenceMaintenance && e.UniqueID() == "":
			if !s.rooms[e.Header.Get("Conference-Name")] {
				return fmt.Errorf("another client's room %s in the session", e.Header.Get("Conference-Name"))
			}
		default:
			name := e.Header.Get("Channel-Name")
			if _, ours := s.legs[e.UniqueID()]; !ours && !slices.ContainsFunc(s.numbers, func(n string) bool {
				return strings.HasPrefix(name, "loopback/"+n+"-")
			}) {
				return fmt.Errorf("another client's channel %s (%s) in the session", e.UniqueID(), name)
			}
		}
	}
	return nil
}

// write keeps the session's three files.
func (s *session) write(dir, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ext, b := range map[string][]byte{".esl": s.recv.Bytes(), ".sent": s.sent.Bytes(), ".timeline": s.timeline.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name+ext), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// engineRoomFlow is capture 12: the engine's room flow as it sends it, with the engine's
// subscription. An agent's phone called into a room of its own (login prompt, then the room,
// whose hold music is the leg's conference_moh_sound), then customers, each moved into the room
// with uuid_transfer only once its originate's +OK has arrived: one who talks 2 s and hangs up,
// one hung up by the client in the room (uuid_kill, as the agent's "hang up the customer" does),
// one who hangs up at the instant of answer (-ERR NORMAL_CLEARING, nothing to move) and one
// abandoned (the abandon message, then hangup). Then what the engine asks about the agent's
// leg, its hang-up and exit.
func engineRoomFlow(s *session) error {
	if r, err := s.command(must(freeswitch.EventSubscription(freeswitch.EngineEvents()))); err != nil || r != "+OK event listener enabled plain" {
		return fmt.Errorf("subscription: %q %v", r, err)
	}
	a := freeswitch.NewUUID()
	job, err := s.agent(a)
	if err != nil {
		return err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("agent's originate: %q %v", r, err)
	}
	if _, err := s.wait("the agent in its room", 5*time.Second, member("add-member", a)); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // alone in the room: the hold music plays

	// moveIn: the customer is moved once its originate has returned +OK (engine/calls.go).
	moveIn := func(c, job string) error {
		if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
			return fmt.Errorf("customer %s: originate %q %v", c, r, err)
		}
		if _, err := s.wait("CHANNEL_ANSWER of "+c, time.Second, channelEvent("CHANNEL_ANSWER", c)); err != nil {
			return err
		}
		if r, err := s.api(must(freeswitch.UUIDTransferToRoom(c, must(freeswitch.Room(a, profile))))); err != nil || r != "+OK\n" {
			return fmt.Errorf("move of %s: %q %v", c, r, err)
		}
		_, err := s.wait("the customer "+c+" in the room", 2*time.Second, member("add-member", c))
		return err
	}

	// 1: talks 2 s in the room and hangs up.
	c1 := freeswitch.NewUUID()
	if job, err = s.customer(c1, talksTwoSeconds, 1); err != nil {
		return err
	}
	if err := moveIn(c1, job); err != nil {
		return err
	}
	if _, err := s.wait("the customer "+c1+" leaving", 5*time.Second, member("del-member", c1)); err != nil {
		return err
	}
	if err := s.gone(c1, 2*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	// 2: hung up by the client while in the room; before that, what the engine asks when a move
	// does not show (uuid_getvar C conference_name).
	c2 := freeswitch.NewUUID()
	if job, err = s.customer(c2, killedInRoom, 2); err != nil {
		return err
	}
	if err := moveIn(c2, job); err != nil {
		return err
	}
	time.Sleep(time.Second)
	if r, err := s.api(must(freeswitch.UUIDGetVar(c2, "conference_name"))); err != nil || r != a {
		return fmt.Errorf("conference_name of the customer in the room: %q %v", r, err)
	}
	if r, err := s.api(must(freeswitch.UUIDKill(c2, "NORMAL_CLEARING"))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of %s: %q %v", c2, r, err)
	}
	if err := s.gone(c2, 2*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	// 3: answers and hangs up at once: the originate answers -ERR NORMAL_CLEARING, nothing moves.
	c3 := freeswitch.NewUUID()
	if job, err = s.customer(c3, hangsUpAtAnswer, 3); err != nil {
		return err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || r != "-ERR NORMAL_CLEARING" {
		return fmt.Errorf("customer %s hanging up at answer: originate %q %v", c3, r, err)
	}
	if _, err := s.wait("CHANNEL_ANSWER of "+c3, time.Second, channelEvent("CHANNEL_ANSWER", c3)); err != nil {
		return err
	}
	if err := s.gone(c3, 2*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	// 4: answered with no agent to take it: the abandon message, then hangup.
	c4 := freeswitch.NewUUID()
	if job, err = s.customer(c4, abandoned, 4); err != nil {
		return err
	}
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("customer %s: originate %q %v", c4, r, err)
	}
	if r, err := s.api(must(freeswitch.UUIDTransferInline(c4, []freeswitch.App{{Name: "playback", Data: abandonMsg},
		{Name: "hangup", Data: "NORMAL_CLEARING"}}))); err != nil || r != "+OK\n" {
		return fmt.Errorf("abandon of %s: %q %v", c4, r, err)
	}
	if err := s.gone(c4, 3*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	// The agent's leg: still in its room, up; then hung up.
	if r, err := s.api(must(freeswitch.UUIDGetVar(a, "conference_name"))); err != nil || r != a {
		return fmt.Errorf("conference_name of the agent: %q %v", r, err)
	}
	if r, err := s.api(must(freeswitch.UUIDExists(a))); err != nil || r != "true" {
		return fmt.Errorf("uuid_exists of the agent: %q %v", r, err)
	}
	if r, err := s.api(must(freeswitch.UUIDKill(a, ""))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of the agent: %q %v", r, err)
	}
	if err := s.gone(a, 2*time.Second); err != nil {
		return err
	}
	if _, err := s.wait("the room's end", 2*time.Second, roomEvent("conference-destroy", a)); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // the loopback's b legs end too
	return s.exit()
}

// showChannelsLag is capture 13: `show channels` read right after a channel's CHANNEL_CREATE
// does not list it yet (the core database is written behind the live sessions), while
// uuid_exists knows it; a little later the listing has it. A session in which the first
// listing already had the channel is recorded again.
func showChannelsLag(s *session) error {
	if r, err := s.command(must(freeswitch.EventSubscription(freeswitch.EngineEvents()))); err != nil || r != "+OK event listener enabled plain" {
		return fmt.Errorf("subscription: %q %v", r, err)
	}
	a := freeswitch.NewUUID()
	job, err := s.agent(a)
	if err != nil {
		return err
	}
	if _, err := s.wait("CHANNEL_CREATE of "+a, 5*time.Second, channelEvent("CHANNEL_CREATE", a)); err != nil {
		return err
	}
	first, err := s.api(freeswitch.ShowChannelsJSON())
	if err != nil {
		return err
	}
	if r, err := s.api(must(freeswitch.UUIDExists(a))); err != nil || r != "true" {
		return fmt.Errorf("uuid_exists right after CHANNEL_CREATE: %q %v", r, err)
	}
	lagged := !strings.Contains(first, a)
	if r, err := s.jobResult(job, 10*time.Second); err != nil || !strings.HasPrefix(r, "+OK") {
		return fmt.Errorf("agent's originate: %q %v", r, err)
	}
	if _, err := s.wait("the agent in its room", 5*time.Second, member("add-member", a)); err != nil {
		return err
	}
	time.Sleep(time.Second)
	later, err := s.api(freeswitch.ShowChannelsJSON())
	if err != nil {
		return err
	}
	if r, err := s.api(must(freeswitch.UUIDKill(a, ""))); err != nil || r != "+OK\n" {
		return fmt.Errorf("uuid_kill of the agent: %q %v", r, err)
	}
	if err := s.gone(a, 2*time.Second); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	if err := s.exit(); err != nil {
		return err
	}
	if !lagged {
		return errors.New("show channels listed the channel right after its CHANNEL_CREATE (no lag this time)")
	}
	if !strings.Contains(later, a) {
		return fmt.Errorf("show channels a second after the answer does not list the channel: %s", later)
	}
	return nil
}

// exit ends the session as a client does: +OK bye, the disconnect notice, end of stream.
func (s *session) exit() error {
	r, err := s.command("exit")
	if err != nil || r != "+OK bye" {
		return fmt.Errorf("exit: %q %v", r, err)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		return errors.New("the switch did not close the connection after exit")
	}
	return nil
}
