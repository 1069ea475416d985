package fsim_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t testing.TB, script fsim.Script) *fsim.Server {
	return fsimtest.Start(t, fsim.Options{Script: script})
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func originate(t testing.TB, tel string) (string, string) {
	id := freeswitch.NewUUID()
	cmd, err := freeswitch.OriginateCmd(freeswitch.Originate{UUID: id, DialString: "loopback/" + tel + "/customers", App: "&park()",
		Vars: []freeswitch.Var{{Name: "ignore_early_media", Value: "true"}}})
	if err != nil {
		t.Fatal(err)
	}
	return id, cmd
}

// The client and the simulator speak the same protocol in every mode of the simulator (real
// clock, virtual clock, frames split across writes, unknown frames interleaved): an answered
// call, a busy one, api commands, and the command record.
func TestClientAgainstSimulator(t *testing.T) {
	for _, mode := range []string{"real-clock", "virtual-clock", "split-frames", "unknown-content"} {
		t.Run(mode, func(t *testing.T) { clientAgainstSimulator(t, mode) })
	}
}

func clientAgainstSimulator(t *testing.T, mode string) {
	o := fsim.Options{Script: func(dial string) fsim.Fate {
		if strings.Contains(dial, "/0902") {
			return fsim.Fate{Cause: "USER_BUSY", Ring: 10 * time.Millisecond}
		}
		return fsim.Fate{Answer: true, Ring: 20 * time.Millisecond}
	}}
	pass := func(time.Duration) {} // on the real clock, waiting for a result lets time pass
	if mode == "virtual-clock" {
		clock := fsim.NewVirtualClock(time.Unix(1_800_000_000, 0))
		o.Clock, pass = clock, clock.Advance
	}
	s := fsimtest.Start(t, o)
	if mode == "split-frames" {
		s.Inject(fsim.FaultSplitFrames)
	}
	var mu sync.Mutex
	var names []string
	c, err := freeswitch.Dial(ctx(t), s.Addr(), "ClueCon", freeswitch.EngineEvents(), func(_ context.Context, e *wire.Event) error {
		mu.Lock()
		names = append(names, e.Name())
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if mode == "unknown-content" {
		s.Inject(fsim.FaultUnknownContent)
	}
	id, cmd := originate(t, "09011112222")
	_, res, err := c.BgAPI(ctx(t), cmd)
	if err != nil {
		t.Fatal(err)
	}
	pass(20 * time.Millisecond) // the answer
	pass(20 * time.Millisecond) // the originate returns (Options.OriginateReturn)
	r := <-res
	if got, err := freeswitch.ParseJobResult(r.Body); err != nil || got != id {
		t.Fatalf("answered originate: %q %v", got, err)
	}
	if body, err := c.API(ctx(t), "uuid_exists "+id); err != nil || body != "true" {
		t.Fatalf("uuid_exists %q %v", body, err)
	}
	_, busy := originate(t, "09025550002")
	_, res, err = c.BgAPI(ctx(t), busy)
	if err != nil {
		t.Fatal(err)
	}
	pass(10 * time.Millisecond)
	_, err = freeswitch.ParseJobResult((<-res).Body)
	var oe *freeswitch.OriginateError
	if !errors.As(err, &oe) || oe.Verdict().Outcome != domain.OutcomeBusy {
		t.Fatalf("busy originate: %v", err)
	}
	kill, _ := freeswitch.UUIDKill(id, "NORMAL_CLEARING")
	if _, err := c.API(ctx(t), kill); err != nil {
		t.Fatal(err)
	}
	if _, err := c.API(ctx(t), kill); !errors.Is(err, freeswitch.ErrNoSuchChannel) {
		t.Fatalf("second kill: %v", err)
	}
	if _, err := c.API(ctx(t), "nonsense"); err == nil {
		t.Fatal("unknown api accepted")
	}
	// Wait for the destroy of the killed call to come through the ordered path.
	if body, _ := c.API(ctx(t), "uuid_exists "+id); body != "false" {
		t.Fatalf("killed channel still exists: %q", body)
	}
	mu.Lock()
	got := strings.Join(names, " ")
	mu.Unlock()
	for _, want := range []string{"CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s in %s", want, got)
		}
	}
	if rec := s.Commands(); len(rec) < 6 || !strings.HasPrefix(rec[0], "event plain CHANNEL_CREATE") || !strings.Contains(rec[1], "Job-UUID: ") {
		t.Fatalf("record %q", rec)
	}
}

func TestSimulatorAuth(t *testing.T) {
	s := start(t, fsim.Answering(0, 0))
	if _, err := freeswitch.Dial(ctx(t), s.Addr(), "wrong", nil, nil); err == nil {
		t.Fatal("wrong password accepted")
	}
}

// BenchmarkOriginateRoundTrip: bgapi sent → BACKGROUND_JOB result received, one connection.
func BenchmarkOriginateRoundTrip(b *testing.B) {
	s := start(b, func(string) fsim.Fate { return fsim.Fate{Cause: "USER_BUSY"} })
	c, err := freeswitch.Dial(ctx(b), s.Addr(), "ClueCon", []string{"BACKGROUND_JOB"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	n := 0
	for b.Loop() {
		_, cmd := originate(b, "09025550002")
		_, res, err := c.BgAPI(context.Background(), cmd)
		if err != nil {
			b.Fatal(err)
		}
		<-res
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "originates/s")
}

// docs/event-socket.md §4.5: a supervision leg runs &eavesdrop(A); it ends when A ends, or at once when A
// does not exist, as mod_eavesdrop returns then.
func TestSimulatorEavesdrop(t *testing.T) {
	s := start(t, fsim.Answering(0, 0))
	c, err := freeswitch.Dial(ctx(t), s.Addr(), "ClueCon", freeswitch.EngineEvents(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	agent, cmd := originate(t, "agent-1")
	if _, res, err := c.BgAPI(ctx(t), cmd); err != nil || (<-res).Err != nil {
		t.Fatal(err)
	}
	listen := func(target string) string {
		id := freeswitch.NewUUID()
		cmd, err := freeswitch.SupervisionCmd(freeswitch.Supervision{UUID: id, Endpoint: "loopback/sup-1/supervisors", AgentLeg: target, CallerID: "0011", Whisper: true})
		if err != nil {
			t.Fatal(err)
		}
		_, res, err := c.BgAPI(ctx(t), cmd)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := freeswitch.ParseJobResult((<-res).Body); err != nil || got != id {
			t.Fatalf("supervision originate: %q %v", got, err)
		}
		return id
	}
	exists := func(id string) bool {
		body, _ := c.API(ctx(t), "uuid_exists "+id)
		return body == "true"
	}
	waitGone := func(id string) {
		deadline := time.Now().Add(2 * time.Second)
		for exists(id) {
			if time.Now().After(deadline) {
				t.Fatalf("leg %s still up", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sup := listen(agent)
	if !exists(sup) {
		t.Fatal("the supervision leg ended while the agent's leg is up")
	}
	if v, _ := s.Var(sup, "eavesdrop_whisper_aleg"); v != "true" {
		t.Fatalf("whisper variable %q", v)
	}
	kill, _ := freeswitch.UUIDKill(agent, "NORMAL_CLEARING")
	if _, err := c.API(ctx(t), kill); err != nil {
		t.Fatal(err)
	}
	waitGone(sup)
	waitGone(listen(freeswitch.NewUUID()))
}
