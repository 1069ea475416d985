package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// The engine's test harness: the call and agent flows (flow_*_test.go) run through the
// engine's public API, in a few hundred milliseconds each, on
//   - memStore (harness_store*_test.go), an in-memory PostgreSQL store with the semantics the
//     engine relies on: job runs and leases, contact claims, attempts and the retry rules;
//   - memAgents (harness_agents_test.go), the live agent state and request queues of Redis;
//   - the simulated switch (fsim) over real ESL connections on loopback, wired to the engine as
//     `kakeru serve` wires it (instance, harness_switch_test.go), with a switchTap to answer
//     some commands in the switch's place for the faults fsim does not make.
//
// The tests act as the API does (join, requests, dispositions: harness_test.go) and look at
// the fakes, the switch (commands received, rooms, channels) and the engine's live events.
//
// Time: the engine reads a test clock that moves only when a test advances it, so its
// deadlines (connect deadline, move timeout, channel checks, stale agents, idle limit,
// business hours) pass exactly when a test says; the switch runs on the real clock, with
// rings and talk times of milliseconds. Tests never sleep: they wait for a condition, woken
// by every loop pass of the engine (Options.OnStep), every write to the fakes and every live
// event, and looking again every 20 ms for what only the switch shows.

// tick is the engine's loop interval in the harness.
const tick = 10 * time.Millisecond

// waitLimit bounds every wait: far beyond what any step takes, even under the race detector.
const waitLimit = 10 * time.Second

// poll is how often a wait looks again when nothing has woken it.
const poll = 20 * time.Millisecond

var tokyo = mustLocation("Asia/Tokyo")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// harness is one engine (or several in turn) over its fakes and a simulated switch, with a job
// over the test's numbers.
type harness struct {
	t      *testing.T
	clock  *testClock
	store  *memStore
	agents *memAgents
	sw     *fsim.Server
	tap    *switchTap
	events *eventLog
	log    *slog.Logger
	cfg    atomic.Pointer[config.Config]
	job    int64
	in     *instance // the instance started by newHarness

	changed signal
	steps   atomic.Int64 // loop passes of every instance
}

// harnessOptions shape a harness; the zero value is campaign 1 of config.example.yaml
// (predictive, open all day) with one number whose customer answers after 20 ms and stays.
type harnessOptions struct {
	tels      []string    // the job's contacts; default one
	script    fsim.Script // the switch's fates; default: every call answers after 20 ms and stays
	campaign  int         // default 1
	configure func(*config.Config)
	// start is the engine clock's start; default 2026-11-30 12:00 in Tokyo.
	start time.Time
	// listingLag and originateReturn are fsim's ShowChannelsLag and OriginateReturn.
	listingLag, originateReturn time.Duration
	stopped                     bool // leave the job stopped (not started)
}

// newHarness starts a simulated switch and an engine instance with a call job of the numbers,
// started unless o.stopped. Everything stops at the test's end; the engine's log is shown when
// the test fails.
func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	if o.tels == nil {
		o.tels = []string{"09011110001"}
	}
	if o.script == nil {
		o.script = answers(20 * time.Millisecond)
	}
	if o.campaign == 0 {
		o.campaign = 1
	}
	if o.start.IsZero() {
		o.start = time.Date(2026, 11, 30, 12, 0, 0, 0, tokyo)
	}
	h := &harness{t: t, clock: &testClock{now: o.start}, store: newMemStore(), agents: newMemAgents(), tap: &switchTap{}}
	var logs lockedBuffer
	h.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() { // registered first: runs last, once everything has stopped
		if t.Failed() {
			t.Logf("engine log:\n%s", logs.String())
		}
	})
	h.clock.changed = h.changed.notify
	h.store.changed = h.changed.notify
	h.agents.changed = h.changed.notify
	h.events = &eventLog{changed: h.changed.notify}
	// Prompts and messages play for 50 ms instead of 500: the flows do not depend on their length.
	h.sw = fsimtest.Start(t, fsim.Options{Script: o.script, Playback: 50 * time.Millisecond,
		ShowChannelsLag: o.listingLag, OriginateReturn: o.originateReturn})
	cfg := testConfig(h.sw.Addr())
	if o.configure != nil {
		o.configure(cfg)
	}
	h.cfg.Store(cfg)
	camp, ok := cfg.Campaign(o.campaign)
	if !ok {
		t.Fatalf("no campaign %d", o.campaign)
	}
	h.job = h.store.AddJob(camp.ID, camp.TimeZone, camp.CallerIDs[0], o.tels...)
	if !o.stopped {
		h.store.StartJob(h.job, h.clock.Now())
	}
	h.in = h.startInstance("engine-1")
	return h
}

// testConfig is the demo setup of config.example.yaml (what cmd/kakeru's end-to-end tests run)
// as Load gives it, pointed at the simulated switch: campaign 1 open all day, predictive, with
// the abandon message; campaign 2 on weekday office hours, ratio 2; agents 1001 to 1004 on
// loopback phones. The parts the engine does not read (users, dial groups, databases) are left
// out.
func testConfig(switchAddr string) *config.Config {
	hours := func(start, end int) config.BusinessHours {
		return config.BusinessHours{Start: config.ClockTime{Minutes: start * 60}, End: config.ClockTime{Minutes: end * 60}}
	}
	cfg := &config.Config{
		System: config.System{AgentIdleLimit: time.Hour, UnsavedDispositionGrace: 10 * time.Minute, ShutdownTimeout: time.Second},
		FreeSWITCH: config.FreeSWITCH{Nodes: []config.Node{{Name: "fs1", Address: switchAddr, Password: "ClueCon"}},
			CustomerDialString: "loopback/{tel}/customers", AgentCallerID: "0011",
			LoginPrompt: "ivr/ivr-you_are_now_logged_in.wav", HoldMusic: "local_stream://moh",
			ConferenceProfile: "default", DialTimeout: 5 * time.Second},
		Campaigns: []config.Campaign{
			{ID: 1, Name: "Demo renewals", TimeZone: "Asia/Tokyo", Location: tokyo, BusinessHours: hours(0, 24),
				CallerIDs:   []string{"0312345678"},
				ResultCodes: []config.ResultCode{{Code: "interested", Label: "興味あり"}, {Code: "not_interested", Label: "興味なし"}},
				Pacing:      config.Pacing{Mode: "predictive", TargetAbandonRate: 0.03, MaxRatio: 3, ConnectDeadline: 2 * time.Second},
				Retry: []config.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer, domain.OutcomeBusy}, After: 30 * time.Minute, MaxAttempts: 3},
					{Outcomes: []domain.Outcome{domain.OutcomeNetworkFailure}, After: 5 * time.Minute, MaxAttempts: 5}},
				AbandonMessage: "tone_stream://%(500,0,800)"},
			{ID: 2, Name: "Weekday surveys", TimeZone: "Asia/Tokyo", Location: tokyo, BusinessHours: hours(9, 18),
				CallerIDs:      []string{"0312345679"},
				ResultCodes:    []config.ResultCode{{Code: "completed", Label: "回答完了"}},
				Pacing:         config.Pacing{Mode: "ratio", TargetAbandonRate: 0.03, MaxRatio: 2, ConnectDeadline: 2 * time.Second},
				Retry:          []config.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer, domain.OutcomeBusy}, After: 2 * time.Hour, MaxAttempts: 2}},
				AbandonMessage: "tone_stream://%(500,0,800)"},
		},
	}
	for id := 1001; id <= 1004; id++ {
		cfg.Agents = append(cfg.Agents, config.Agent{ID: id, Name: fmt.Sprintf("Agent %d", id), DialString: fmt.Sprintf("loopback/agent-%d/agents", id)})
	}
	return cfg
}

// pacing sets campaign id's pacing mode and ratio (calls per ready agent).
func pacing(id int, mode string, ratio float64) func(*config.Config) {
	return func(cfg *config.Config) {
		for i := range cfg.Campaigns {
			if cfg.Campaigns[i].ID == id {
				cfg.Campaigns[i].Pacing.Mode, cfg.Campaigns[i].Pacing.MaxRatio = mode, ratio
			}
		}
	}
}

func (h *harness) config() *config.Config { return h.cfg.Load() }

func (h *harness) stepped() {
	h.steps.Add(1)
	h.changed.notify()
}

// answers: every call (customers and agents' phones) answers after ring and stays up.
func answers(ring time.Duration) fsim.Script {
	return func(string) fsim.Fate { return fsim.Fate{Answer: true, Ring: ring} }
}

// customers gives customers the fate f; agents' phones answer at once and stay.
func customers(f fsim.Fate) fsim.Script {
	return func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		return f
	}
}

// waitFor waits until cond holds, checking it after every loop pass, every write to the fakes
// and every live event, and at least every poll for what only the switch shows while the loop
// is held (a stalled database); the test fails after waitLimit.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	limit := time.NewTimer(waitLimit)
	defer limit.Stop()
	again := time.NewTicker(poll)
	defer again.Stop()
	for {
		woken := h.changed.wait()
		if cond() {
			return
		}
		select {
		case <-woken:
		case <-again.C:
		case <-limit.C:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// passes waits until the engine has run n more loop passes: what a pass does after a change
// (a clock advance, a request) is done by the second pass that starts after it.
func (h *harness) passes(n int) {
	h.t.Helper()
	until := h.steps.Load() + int64(n)
	h.waitFor(fmt.Sprintf("%d loop passes", n), func() bool { return h.steps.Load() >= until })
}

// advance moves the engine's clock and waits for two loop passes, so that the loop has seen
// the new time once whole (watchCalls ticks alongside, on the same interval).
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.clock.Advance(d)
	h.passes(2)
}

// agent is the agent's live state.
func (h *harness) agent(id int) agentstate.Agent { return h.agents.Agent(id) }

// waitState waits until the agent's live state is st.
func (h *harness) waitState(id int, st domain.AgentState) agentstate.Agent {
	h.t.Helper()
	var a agentstate.Agent
	h.waitFor(fmt.Sprintf("agent %d %s", id, st), func() bool { a = h.agent(id); return a.State == st })
	return a
}

// waitLoggedOff waits until the agent is logged off and out of its job (the state a join
// starts from is logged off too, but names the job).
func (h *harness) waitLoggedOff(id int) agentstate.Agent {
	h.t.Helper()
	var a agentstate.Agent
	h.waitFor(fmt.Sprintf("agent %d logged off", id), func() bool {
		a = h.agent(id)
		return a.State == domain.AgentLoggedOff && a.CallJobID == 0
	})
	return a
}

// join is POST /agents/{id}/join once its checks pass (httpapi handleJoin): the agent's state
// names the job and its run, logged off until the job's owner calls its phone (G-1), and a
// join request is queued for that owner.
func (h *harness) join(agent int) {
	h.t.Helper()
	run := h.store.Job(h.job).Run
	if err := h.agents.Set(context.Background(), agentstate.Agent{ID: agent, State: domain.AgentLoggedOff,
		Since: h.clock.Now(), CallJobID: h.job, JobRun: run}); err != nil {
		h.t.Fatal(err)
	}
	h.agents.Push(h.job, agentstate.Request{AgentID: agent, Kind: "join"})
}

// request queues an agent's request (leave, state, hangup_customer) for the owner of its job,
// as the API does.
func (h *harness) request(agent int, kind domain.RequestKind, st domain.AgentState) {
	h.agents.Push(h.job, agentstate.Request{AgentID: agent, Kind: kind, State: st})
}

// hangupCustomer is POST /agents/{id}/hangup-customer (G-3).
func (h *harness) hangupCustomer(agent int) { h.request(agent, "hangup_customer", "") }

// dispose is POST /attempts/{id}/disposition for the agent's call in wrap-up (D-1, D-2, G-4):
// the disposition saved with its next action, then the agent moved on as it chose.
func (h *harness) dispose(agent int, nextAction, after string) {
	h.t.Helper()
	h.disposeAs(agent, memDisposition{NextAction: nextAction}, after)
}

// startJob starts the job again (a new run) and stopJob stops it as an admin does (J-6).
func (h *harness) startJob() { h.store.StartJob(h.job, h.clock.Now()) }

func (h *harness) stopJob() {
	h.t.Helper()
	if _, err := h.store.StopCallJob(context.Background(), h.job, "admin", h.clock.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// testClock is the engine's clock: it moves only when a test advances it.
type testClock struct {
	mu      sync.Mutex
	now     time.Time
	changed func()
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.changed()
}

// signal wakes every waiter when something they may wait for has changed.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next notify.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// eventLog keeps the engine's live events (S-1).
type eventLog struct {
	mu      sync.Mutex
	events  []liveevents.Event
	changed func()
}

func (l *eventLog) Publish(ev liveevents.Event) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	l.changed()
}

// of are the events of a type, in order.
func (l *eventLog) of(typ string) []liveevents.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []liveevents.Event
	for _, ev := range l.events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// lockedBuffer is a log sink the engine's goroutines share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
