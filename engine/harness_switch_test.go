package engine_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
)

// instance is one engine wired to the switch as `kakeru serve` wires it (cmd/kakeru/app.go): a
// freeswitch.Pool over real ESL connections to the simulated switch (fsim) on loopback TCP,
// one subscribed to the engine's events and two for control, whose events reach
// Engine.HandleEvent through an ordered freeswitch.Dispatcher. The wire is the real one: the
// commands as the engine builds them, the replies and events as fsim sends them.
type instance struct {
	name   string
	eng    *engine.Engine
	pool   *freeswitch.Pool
	events *freeswitch.Dispatcher
	once   sync.Once
}

// startInstance starts an engine instance on the harness's store, agent state and switch; it
// is stopped at the test's end if the test does not stop it first.
func (h *harness) startInstance(name string) *instance {
	h.t.Helper()
	in := &instance{name: name}
	in.eng = engine.New(engine.Options{Store: h.store, Agents: h.agents, Config: h.config, Logger: h.log.With("instance", name),
		Now: h.clock.Now, Instance: name, Tick: tick, OnStep: h.stepped, Events: h.events})
	in.events = freeswitch.NewDispatcher(8, 1024, in.eng.HandleEvent)
	in.events.Start()
	in.pool = newPool(h.config(), h.log.With("instance", name, "component", "freeswitch"), in.events.Dispatch)
	in.eng.SetSwitch(&tappedSwitch{Switch: in.pool, tap: h.tap})
	in.pool.Start(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	in.pool.WaitTried(ctx)
	cancel()
	h.t.Cleanup(in.stop)
	for _, st := range in.pool.States() {
		if !st.Connected {
			h.t.Fatalf("%s: switch node %s not connected: %s", name, st.Name, st.LastError)
		}
	}
	in.eng.Start(context.Background())
	return in
}

// stop stops the instance as Main.Close does after its drain: the engine (calls in progress
// stay up on the switch for the job's next owner), then its switch connections.
func (in *instance) stop() {
	in.once.Do(func() {
		in.eng.Stop()
		in.pool.Stop()
		in.events.Stop()
	})
}

// newPool is cmd/kakeru's newPool: per node an event connection and two control connections.
func newPool(cfg *config.Config, log *slog.Logger, events func(context.Context, *wire.Event) error) *freeswitch.Pool {
	clients := make([]*freeswitch.Client, len(cfg.FreeSWITCH.Nodes))
	for i, n := range cfg.FreeSWITCH.Nodes {
		clients[i] = freeswitch.NewClient(freeswitch.ClientOptions{Name: n.Name, Addr: n.Address, Password: n.Password,
			Events: freeswitch.EngineEvents(), DialTimeout: cfg.FreeSWITCH.DialTimeout, Logger: log, OnEvent: events})
	}
	p := freeswitch.NewPool(clients...)
	for _, n := range cfg.FreeSWITCH.Nodes {
		for i := range 2 {
			p.AddControl(n.Name, freeswitch.NewClient(freeswitch.ClientOptions{Name: fmt.Sprintf("%s/control%d", n.Name, i+1),
				Addr: n.Address, Password: n.Password, DialTimeout: cfg.FreeSWITCH.DialTimeout, Logger: log}))
		}
	}
	return p
}

// apiAnswer is a reply a test gives in the switch's place.
type apiAnswer struct {
	reply string
	err   error
}

// switchTap lets a test answer api commands in the switch's place, for the faults fsim does not
// make by itself: a move into a room that the switch loses (+OK, nothing happens) or refuses.
// It records every api command the engine sends.
type switchTap struct {
	mu        sync.Mutex
	intercept func(cmd string) *apiAnswer // nil, or a nil answer: the switch answers
	sent      []string
}

// Intercept answers the commands f answers (non-nil) from now on; nil stops intercepting.
func (t *switchTap) Intercept(f func(cmd string) *apiAnswer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.intercept = f
}

// Sent is every api command the engine sent through the tap, answered by the switch or not.
func (t *switchTap) Sent(prefix string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, c := range t.sent {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// tappedSwitch is the engine's Switch with api commands going through a switchTap.
type tappedSwitch struct {
	engine.Switch
	tap *switchTap
}

func (s *tappedSwitch) API(ctx context.Context, node, cmd string) (string, error) {
	s.tap.mu.Lock()
	s.tap.sent = append(s.tap.sent, cmd)
	f := s.tap.intercept
	s.tap.mu.Unlock()
	if f != nil {
		if a := f(cmd); a != nil {
			return a.reply, a.err
		}
	}
	return s.Switch.API(ctx, node, cmd)
}

// commands are the commands the switch received that start with prefix, in order.
func (h *harness) commands(prefix string) []string {
	var out []string
	for _, c := range h.sw.Commands() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// originates are the originates the switch received whose dial string contains dial.
func (h *harness) originates(dial string) []string {
	var out []string
	for _, c := range h.commands("bgapi originate ") {
		if strings.Contains(c, "}"+dial) {
			out = append(out, c)
		}
	}
	return out
}

// legOf is the origination_uuid of an originate command.
func legOf(originate string) string {
	_, rest, _ := strings.Cut(originate, "origination_uuid=")
	return rest[:min(36, len(rest))]
}

// customerLeg is the channel of the latest call to tel; the test fails when it was never dialed.
func (h *harness) customerLeg(tel string) string {
	h.t.Helper()
	calls := h.originates("loopback/" + tel + "/")
	if len(calls) == 0 {
		h.t.Fatalf("%s was never dialed", tel)
	}
	return legOf(calls[len(calls)-1])
}

// agentLeg is the channel of the latest call to the agent's phone.
func (h *harness) agentLeg(agent int) string {
	h.t.Helper()
	calls := h.originates(fmt.Sprintf("loopback/agent-%d/", agent))
	if len(calls) == 0 {
		h.t.Fatalf("agent %d's phone was never called", agent)
	}
	return legOf(calls[len(calls)-1])
}

// customersDialed is how many customer originates the switch received.
func (h *harness) customersDialed() int {
	return len(h.originates("loopback/")) - len(h.originates("loopback/agent-"))
}

// inRoom: the room's members are exactly these legs, in order of joining.
func (h *harness) inRoom(room string, legs ...string) bool {
	return slices.Equal(h.sw.Members(room), legs)
}

// phoneUp calls an agent's phone into its room from a connection of the test's own, as an
// instance that stopped or died would have left it: up on the switch, looked after by nobody.
func (h *harness) phoneUp(agent int) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := freeswitch.Dial(ctx, h.sw.Addr(), "ClueCon", []string{"BACKGROUND_JOB"}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close()
	leg := freeswitch.NewUUID()
	cmd, err := freeswitch.OriginateCmd(freeswitch.Originate{UUID: leg, DialString: fmt.Sprintf("loopback/agent-%d/agents", agent),
		App: "&conference(" + leg + "@default)"})
	if err != nil {
		h.t.Fatal(err)
	}
	_, res, err := conn.BgAPI(ctx, cmd)
	if err != nil {
		h.t.Fatal(err)
	}
	if r := <-res; r.Err != nil || !strings.HasPrefix(string(r.Body), "+OK") {
		h.t.Fatalf("agent %d's phone: %+v", agent, r)
	}
	h.waitFor("the phone in its room", func() bool { return h.inRoom(leg, leg) })
	return leg
}

// up: the channel exists on the switch.
func (h *harness) up(leg string) bool { return slices.Contains(h.sw.Channels(), leg) }
