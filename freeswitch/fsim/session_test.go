package fsim_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// rawSession is a raw event-socket client of a simulator on a virtual clock: commands are sent
// one at a time, and the events that came before each reply are kept in order.
type rawSession struct {
	t      *testing.T
	s      *fsim.Server
	clock  *fsim.VirtualClock
	nc     net.Conn
	frames chan *wire.Frame
	events []*wire.Event
}

// newRawSession starts a simulator on a virtual clock (o.Clock is replaced) and subscribes a
// session to events.
func newRawSession(t *testing.T, o fsim.Options, events string) *rawSession {
	t.Helper()
	clock := fsim.NewVirtualClock(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	o.Clock, o.Heartbeat = clock, -1
	s := fsimtest.Start(t, o)
	r := dialRaw(t, s, events)
	r.clock = clock
	return r
}

// dialRaw opens another session on the same simulator.
func dialRaw(t *testing.T, s *fsim.Server, events string) *rawSession {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	r := &rawSession{t: t, s: s, nc: nc, frames: make(chan *wire.Frame, 4096)}
	go func() {
		defer close(r.frames)
		fr := wire.NewReader(bufio.NewReader(nc))
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			r.frames <- f
		}
	}()
	if f := <-r.frames; f == nil || f.ContentType() != "auth/request" {
		t.Fatalf("greeting %v", f)
	}
	r.send("auth ClueCon")
	if events != "" {
		r.send("event plain " + events)
	}
	return r
}

// send writes a command and returns its reply (Reply-Text or api body), keeping the events
// that came before it.
func (r *rawSession) send(cmd string) string {
	r.t.Helper()
	if _, err := r.nc.Write([]byte(cmd + "\n\n")); err != nil {
		r.t.Fatal(err)
	}
	for f := range r.frames {
		if f.ContentType() != "text/event-plain" {
			return f.Header.Get("Reply-Text") + string(f.Body)
		}
		e, err := wire.ParsePlainEvent(f)
		if err != nil {
			r.t.Fatal(err)
		}
		r.events = append(r.events, e)
	}
	r.t.Fatalf("connection ended before the reply to %q", cmd)
	return ""
}

// sync collects every event sent so far: a reply comes after the events queued before it.
func (r *rawSession) sync() { r.send("api uuid_exists 00000000-0000-4000-8000-000000000000") }

// advance moves the clock and collects the events it caused.
func (r *rawSession) advance(d time.Duration) {
	r.clock.Advance(d)
	r.sync()
}

// take returns the events collected since the last take, each described as
// "NAME [detail] [uuid prefix]": a job's body, a hangup's cause, a conference action.
func (r *rawSession) take() []string {
	var out []string
	for _, e := range r.events {
		d := e.Name()
		switch e.Name() {
		case "BACKGROUND_JOB":
			d += " " + strings.TrimSpace(string(e.Body))
		case "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE":
			d += " " + e.Header.Get("Hangup-Cause")
		case "CUSTOM":
			d += " " + e.Header.Get("Action") + " " + e.Header.Get("Conference-Name") + " size=" + e.Header.Get("Conference-Size")
		}
		if id := e.UniqueID(); id != "" {
			d += " " + id[:8]
		}
		out = append(out, d)
	}
	r.events = nil
	return out
}

// originate sends `bgapi originate {origination_uuid=ID,VARS}DIAL APP` with a fresh uuid.
func (r *rawSession) originate(dial, app string, vars ...string) string {
	r.t.Helper()
	id := newID()
	v := append([]string{"origination_uuid=" + id}, vars...)
	if reply := r.send(fmt.Sprintf("bgapi originate {%s}%s %s", strings.Join(v, ","), dial, app)); !strings.HasPrefix(reply, "+OK Job-UUID: ") {
		r.t.Fatalf("originate reply %q", reply)
	}
	return id
}

var ids atomic.Uint32

// newID is a fresh uuid whose first 8 characters tell legs apart in take's descriptions.
func newID() string {
	return fmt.Sprintf("%08x-0000-4000-8000-000000000000", ids.Add(1))
}

// eq fails the test when got differs from want.
func eq(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n  got:  %s\n  want: %s", what, strings.Join(got, "\n        "), strings.Join(want, "\n        "))
	}
}
