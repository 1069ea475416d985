package freeswitch_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// faultPeer answers status probes and subscriptions until told to misbehave: close abruptly,
// send a disconnect-notice, or stall (keep the socket open and say nothing).
type faultPeer struct {
	addr          string
	subscriptions atomic.Int32
	mu            sync.Mutex
	fault         string
	faultAt       time.Time
}

func (p *faultPeer) inject(fault string) {
	p.mu.Lock()
	p.fault, p.faultAt = fault, time.Now()
	p.mu.Unlock()
}

func (p *faultPeer) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	p.fault = ""
	return f
}

func newFaultPeer(t *testing.T) *faultPeer {
	p := &faultPeer{}
	p.addr = peer(t, "ClueCon", func(w io.Writer, cmd string) {
		switch p.take() {
		case "close":
			w.(net.Conn).Close()
			return
		case "notice":
			io.WriteString(w, "Content-Type: text/disconnect-notice\nContent-Length: 13\n\nDisconnected.")
			return
		case "stall":
			io.Copy(io.Discard, w.(net.Conn)) // say nothing until the client gives up and closes
			return
		}
		if strings.HasPrefix(cmd, "event plain") {
			p.subscriptions.Add(1)
			reply(w, "+OK event listener enabled plain")
			return
		}
		apiResponse(w, "UP 0 years")
	})
	return p
}

// Reconnect after an abrupt close, a disconnect-notice and a silent stall, each within two
// heartbeat intervals of the fault, with the subscription restored on the new connection.
func TestClientReconnects(t *testing.T) {
	const hb = 400 * time.Millisecond
	p := newFaultPeer(t)
	connected := make(chan time.Time, 8)
	states := make(chan freeswitch.NodeState, 16)
	c := freeswitch.NewClient(freeswitch.ClientOptions{Name: "fs1", Addr: p.addr, Password: "ClueCon",
		Events: freeswitch.EngineEvents(), Heartbeat: hb, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		OnConnect: func(context.Context, *freeswitch.Conn) error { connected <- time.Now(); return nil },
		OnState:   func(st freeswitch.NodeState) { states <- st }})
	c.Start(context.Background())
	defer c.Stop()
	<-connected
	for i, fault := range []string{"close", "notice", "stall"} {
		p.inject(fault)
		if fault != "stall" {
			// close and notice act on the next command: the next probe.
			conn, err := c.Conn()
			if err == nil {
				conn.API(context.Background(), "status")
			}
		}
		p.mu.Lock()
		at := p.faultAt
		p.mu.Unlock()
		select {
		case when := <-connected:
			if d := when.Sub(at); d > 2*hb {
				t.Errorf("%s: reconnected after %s, more than two heartbeat intervals", fault, d)
			}
		case <-time.After(5 * hb):
			t.Fatalf("%s: no reconnect", fault)
		}
		if got := int(p.subscriptions.Load()); got != i+2 {
			t.Errorf("%s: %d subscriptions, want %d (one per connection)", fault, got, i+2)
		}
	}
	for st := range states { // the state after the third reconnect is offered to callers
		if st.Connected && st.Reconnects == 3 {
			if st.Name != "fs1" {
				t.Fatalf("state %+v", st)
			}
			break
		}
	}
}

// Against the simulated switch: after an abrupt close, a disconnect-notice and a silent stall,
// the client is back within two heartbeat intervals with its subscription restored (an event
// of a call placed on the new connection arrives), and LiveChannels tells which known calls
// survived — a call that ended while the connection was stalled is reported gone.
func TestClientReconnectsToSimulatorAndReconciles(t *testing.T) {
	const hb = 400 * time.Millisecond
	s := fsimtest.Start(t, fsim.Options{Script: fsim.Answering(0, 0), Heartbeat: hb})
	type connected struct {
		at    time.Time
		alive map[string]bool
	}
	var known atomic.Value
	known.Store([]string{})
	connects := make(chan connected, 8)
	states := make(chan freeswitch.NodeState, 64)
	created := make(chan string, 64)
	c := freeswitch.NewClient(freeswitch.ClientOptions{Name: "fs1", Addr: s.Addr(), Password: "ClueCon",
		Events: freeswitch.EngineEvents(), Heartbeat: hb, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		OnEvent: func(_ context.Context, e *wire.Event) error {
			if e.Name() == "CHANNEL_CREATE" {
				created <- e.UniqueID()
			}
			return nil
		},
		OnConnect: func(ctx context.Context, conn *freeswitch.Conn) error {
			alive, err := freeswitch.LiveChannels(ctx, conn, known.Load().([]string))
			connects <- connected{time.Now(), alive}
			return err
		},
		OnState: func(st freeswitch.NodeState) { states <- st }})
	c.Start(context.Background())
	defer c.Stop()
	<-connects
	// up waits until the connection is offered to callers after n reconnects.
	up := func(n int) {
		t.Helper()
		for st := range states {
			if st.Connected && st.Reconnects == n {
				return
			}
		}
	}
	up(0)

	call := func() string {
		t.Helper()
		conn, err := c.Conn()
		if err != nil {
			t.Fatal(err)
		}
		id, cmd := originateCmd(t, "0312345678")
		_, res, err := conn.BgAPI(ctxTimeout(t, time.Second), cmd)
		if err != nil {
			t.Fatal(err)
		}
		<-res
		for got := range created {
			if got == id {
				return id
			}
		}
		return ""
	}
	for i, fault := range []fsim.Fault{fsim.FaultClose, fsim.FaultDisconnectNotice, fsim.FaultStall} {
		kept, ended := call(), call()
		known.Store([]string{kept, ended, freeswitch.NewUUID()})
		at := time.Now()
		if err := s.Inject(fault); err != nil {
			t.Fatal(err)
		}
		s.Hangup(ended, "NORMAL_CLEARING") // its events are lost with the connection
		var got connected
		select {
		case got = <-connects:
		case <-time.After(5 * hb):
			t.Fatalf("%s: no reconnect", fault)
		}
		if d := got.at.Sub(at); d > 2*hb {
			t.Errorf("%s: reconnected after %s, more than two heartbeat intervals", fault, d)
		}
		if len(got.alive) != 3 || !got.alive[kept] || got.alive[ended] {
			t.Errorf("%s: live channels %v (kept %s, ended %s)", fault, got.alive, kept[:8], ended[:8])
		}
		subs := 0
		for _, cmd := range s.Commands() {
			if strings.HasPrefix(cmd, "event plain ") {
				subs++
			}
		}
		if subs != i+2 {
			t.Errorf("%s: %d subscriptions, want %d", fault, subs, i+2)
		}
		up(i + 1)
		if call() == "" { // events flow on the new connection
			t.Fatalf("%s: no event after reconnect", fault)
		}
		s.Resume()
	}
}
