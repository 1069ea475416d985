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
