package freeswitch_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
)

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// A pool with one node down keeps dialing on the other, and spreads calls by load.
func TestPoolSkipsNodeThatIsDown(t *testing.T) {
	up1 := peer(t, "ClueCon", func(w io.Writer, cmd string) { apiResponse(w, "ok") })
	up2 := peer(t, "ClueCon", func(w io.Writer, cmd string) { apiResponse(w, "ok") })
	connected := make(chan string, 4)
	client := func(name, addr string) *freeswitch.Client {
		return freeswitch.NewClient(freeswitch.ClientOptions{Name: name, Addr: addr, Password: "ClueCon", Heartbeat: time.Second,
			BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
			OnState: func(st freeswitch.NodeState) {
				if st.Connected {
					connected <- name
				}
			}})
	}
	pool := freeswitch.NewPool(client("fs1", up1), client("down", closedAddr(t)), client("fs2", up2))
	pool.Start(context.Background())
	defer pool.Stop()
	<-connected
	<-connected
	counts := map[string]int{}
	var leases []*freeswitch.Lease
	for range 10 {
		l, err := pool.Pick()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Conn.API(context.Background(), "status"); err != nil {
			t.Fatalf("dial on %s: %v", l.Node, err)
		}
		counts[l.Node]++
		leases = append(leases, l)
	}
	if counts["down"] != 0 || counts["fs1"] != 5 || counts["fs2"] != 5 {
		t.Fatalf("spread %v", counts)
	}
	for _, l := range leases {
		l.Release()
		l.Release() // idempotent
	}
	if in := pool.InFlight(); in["fs1"] != 0 || in["fs2"] != 0 {
		t.Fatalf("in flight after release %v", in)
	}
	states := pool.States()
	if len(states) != 3 || states[1].Connected || !states[0].Connected || !states[2].Connected {
		t.Fatalf("states %+v", states)
	}
}

func TestPoolWithNoNodeUp(t *testing.T) {
	pool := freeswitch.NewPool(freeswitch.NewClient(freeswitch.ClientOptions{Name: "down", Addr: closedAddr(t)}))
	if _, err := pool.Pick(); !errors.Is(err, freeswitch.ErrNotConnected) {
		t.Fatalf("got %v", err)
	}
}
