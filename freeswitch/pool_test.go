package freeswitch_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
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

// OnCommand hears each api and bgapi round trip with its node, kind and first word only, the
// commands of a batch each with the batch's round trip; a node that is down sends nothing.
func TestPoolReportsCommandRoundTrips(t *testing.T) {
	addr := peer(t, "ClueCon", func(w io.Writer, cmd string) {
		if strings.HasPrefix(cmd, "bgapi ") {
			reply(w, "+OK Job-UUID: "+cmd[strings.Index(cmd, "Job-UUID: ")+len("Job-UUID: "):])
			return
		}
		apiResponse(w, "+OK")
	})
	connected := make(chan struct{}, 1)
	c := freeswitch.NewClient(freeswitch.ClientOptions{Name: "fs1", Addr: addr, Password: "ClueCon", Heartbeat: time.Minute,
		OnState: func(st freeswitch.NodeState) {
			if st.Connected {
				connected <- struct{}{}
			}
		}})
	pool := freeswitch.NewPool(c)
	var mu sync.Mutex
	var heard []string
	pool.OnCommand(func(node, kind, command string, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if took <= 0 {
			t.Errorf("%s %s took %v", kind, command, took)
		}
		heard = append(heard, node+" "+kind+" "+command)
	})
	pool.Start(context.Background())
	defer pool.Stop()
	<-connected
	ctx := ctxTimeout(t, 2*time.Second)
	if _, err := pool.API(ctx, "fs1", "uuid_kill 55713d9f-24e6-4e14-a91a-610835258b8b NORMAL_CLEARING"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pool.APIBatch(ctx, "fs1", []string{"uuid_break 55713d9f-24e6-4e14-a91a-610835258b8b all", "uuid_bridge a b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.BgAPI(ctx, "fs1", "originate {origination_uuid=55713d9f-24e6-4e14-a91a-610835258b8b}loopback/1/customers &park()"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.API(ctx, "nowhere", "status"); err == nil {
		t.Fatal("a command on an unknown node")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"fs1 api uuid_kill", "fs1 api uuid_break", "fs1 api uuid_bridge", "fs1 bgapi originate"}
	if !slices.Equal(heard, want) {
		t.Fatalf("heard %q, want %q", heard, want)
	}
}
