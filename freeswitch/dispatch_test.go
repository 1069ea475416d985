package freeswitch_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

func event(name, uid string, seq int) *wire.Event {
	return &wire.Event{Header: wire.Header{{Name: "Event-Name", Value: name}, {Name: "Unique-ID", Value: uid},
		{Name: "X-Seq", Value: strconv.Itoa(seq)}}}
}

// 10,000 events of 100 interleaved calls: each call's events reach the handler in wire order.
func TestDispatcherKeepsCallOrder(t *testing.T) {
	var mu sync.Mutex
	last := map[string]int{}
	bad := 0
	d := freeswitch.NewDispatcher(8, 16, func(e *wire.Event) {
		seq, _ := strconv.Atoi(e.Header.Get("X-Seq"))
		mu.Lock()
		if seq <= last[e.UniqueID()] {
			bad++
		}
		last[e.UniqueID()] = seq
		mu.Unlock()
	})
	d.Start()
	for i := 1; i <= 10000; i++ {
		call := fmt.Sprintf("call-%03d", (i*37)%100)
		if err := d.Dispatch(context.Background(), event("CHANNEL_PROGRESS", call, i)); err != nil {
			t.Fatal(err)
		}
	}
	d.Stop()
	if bad != 0 || len(last) != 100 {
		t.Fatalf("%d events out of order over %d calls", bad, len(last))
	}
}

// A BACKGROUND_JOB goes with the leg its originate created.
func TestCallKeyOfOriginateJob(t *testing.T) {
	job := &wire.Event{Header: wire.Header{{Name: "Event-Name", Value: "BACKGROUND_JOB"},
		{Name: "Job-Command", Value: "originate"},
		{Name: "Job-Command-Arg", Value: "{origination_uuid=55713d9f-24e6-4e14-a91a-610835258b8b,originate_timeout=25}loopback/1/customers &park()"}}}
	if k := freeswitch.CallKey(job); k != "55713d9f-24e6-4e14-a91a-610835258b8b" {
		t.Fatalf("key %q", k)
	}
	if k := freeswitch.CallKey(&wire.Event{Header: wire.Header{{Name: "Event-Name", Value: "HEARTBEAT"}}}); k != "" {
		t.Fatalf("heartbeat key %q", k)
	}
}

func TestDispatchHonoursContext(t *testing.T) {
	block := make(chan struct{})
	d := freeswitch.NewDispatcher(1, 0, func(*wire.Event) { <-block })
	d.Start()
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Dispatch(ctx, event("A", "x", 1)); err != nil { // taken by the shard, which now blocks
		t.Fatal(err)
	}
	cancel()
	if err := d.Dispatch(ctx, event("A", "x", 2)); err == nil {
		t.Fatal("dispatch to a full shard ignored the cancelled context")
	}
	close(block)
	d.Stop()
}

func BenchmarkDispatch(b *testing.B) {
	d := freeswitch.NewDispatcher(4, 256, func(*wire.Event) {})
	d.Start()
	events := make([]*wire.Event, 64)
	for i := range events {
		events[i] = event("CHANNEL_ANSWER", fmt.Sprintf("call-%d", i), i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = d.Dispatch(context.Background(), events[i%64])
		i++
	}
	d.Stop()
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
}
