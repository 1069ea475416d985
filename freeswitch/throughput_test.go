package freeswitch_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// BenchmarkEventThroughput: events of interleaved calls from the simulator over loopback TCP,
// read by Conn, parsed and handed to the sharded Dispatcher, with every call's order checked.
// Each round places 500 calls (not timed), then releases their 3,500 events at once by moving
// the simulator's virtual clock; the timed part ends when the handler has seen the last one.
// allocs/op covers the simulator's side too (same process); divide by events/op.
func BenchmarkEventThroughput(b *testing.B) {
	const calls, perCall = 500, 7
	clock := fsim.NewVirtualClock(time.Unix(1_800_000_000, 0))
	s := fsimtest.Start(b, fsim.Options{Clock: clock, Heartbeat: -1, Script: fsim.Answering(time.Second, 2*time.Second)})
	var check *orderCheck
	d := freeswitch.NewDispatcher(8, 1024, func(e *wire.Event) { check.handle(e) })
	d.Start()
	defer d.Stop()
	c := simConn(b, s, d.Dispatch)
	events := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		check = newOrderCheck(calls * perCall)
		for i := range calls {
			_, cmd := originateCmd(b, "0312"+strconv.Itoa(100000+i))
			if _, _, err := c.BgAPI(b.Context(), cmd); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		clock.Advance(10 * time.Second)
		<-check.done
		events += calls * perCall
		if len(check.bad) > 0 {
			b.Fatalf("out of order: %v", check.bad[0])
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(calls*perCall, "events/op")
}
