package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/metrics"
	"github.com/kakeru-dialer/kakeru/store"
)

// Main is one running kakeru instance: what `kakeru serve` runs and what end-to-end tests start.
type Main struct {
	// Now is the clock of every date rule; tests set it to fix "today".
	Now        func() time.Time
	InstanceID string
	// Adjust, when set, changes the configuration after it is read (benchmarks size it).
	Adjust func(*config.Config)
	// OnBridge, when set, hears each answer→bridge latency of the engine (benchmarks).
	OnBridge func(time.Duration)
	// EventHeartbeat is the interval of keep-alive comments on idle event streams (15 s when zero).
	EventHeartbeat time.Duration

	cfgPath string
	log     *slog.Logger
	live    liveConfig
	started time.Time

	store   *store.Store
	agents  *agentstate.Store
	pool    *freeswitch.Pool
	events  *freeswitch.Dispatcher
	engine  *engine.Engine
	sweeper *engine.RetentionSweeper
	monitor *liveMonitor
	srv     *http.Server
	ln      net.Listener
	failed  chan error
	serving sync.WaitGroup
}

// NewMain prepares an instance that reads its configuration from cfgPath.
func NewMain(cfgPath string, log *slog.Logger) *Main {
	return &Main{cfgPath: cfgPath, log: log, Now: time.Now, InstanceID: newInstanceID(), failed: make(chan error, 1)}
}

// liveConfig is the configuration in force; SIGHUP swaps it atomically.
type liveConfig struct{ p atomic.Pointer[config.Config] }

func (l *liveConfig) Current() *config.Config { return l.p.Load() }

// Run loads the configuration, connects the dependencies, checks the schema and starts the
// background work and the HTTP server. It returns once the server listens.
func (m *Main) Run(ctx context.Context) (err error) {
	cfg, err := config.Load(m.cfgPath)
	if err == nil && m.Adjust != nil {
		m.Adjust(cfg)
	}
	if err != nil {
		return fmt.Errorf("configuration %s: %w", m.cfgPath, err)
	}
	m.live.p.Store(cfg)
	m.warnDemoTokens(cfg)
	m.started = m.Now()
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()

	if m.store, err = store.Open(ctx, cfg.Postgres.DSN); err != nil {
		return err
	}
	if err := m.checkSchema(ctx); err != nil {
		return err
	}
	m.agents = agentstate.Open(cfg.Redis.Addr, cfg.Redis.DB, cfg.Redis.Password)
	// The instance's own registry: the engine and the switch pool report to it through plain
	// callbacks, the rest is read at scrape time.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mx := metrics.New(reg)
	// Switch events reach the engine through one ordered path: a call's events in wire order,
	// calls in parallel over the shards (ESL.md §1).
	m.monitor = startLiveMonitor(ctx, cfg, m.log, m.Now)
	m.engine = engine.New(engine.Options{Store: m.store, Agents: m.agents, Config: m.live.Current,
		Logger: m.log.With("component", "engine"), Now: m.Now, Instance: m.InstanceID, OnBridge: m.onBridge(mx),
		Events: m.monitor.publisher,
		Hooks: engine.Hooks{Originate: mx.Originate, Outcome: mx.Outcome, LiveAnswer: mx.LiveAnswer,
			Abandon: mx.Abandon, Decision: mx.Decision}})
	m.events = freeswitch.NewDispatcher(8, 1024, m.engine.HandleEvent)
	m.events.Start()
	m.pool = newPool(cfg, m.log.With("component", "freeswitch"), m.events.Dispatch)
	m.pool.OnCommand(mx.Command)
	m.engine.SetSwitch(m.pool)
	reg.MustRegister(metrics.NewCollector(m.metricSources()))
	m.pool.Start(context.WithoutCancel(ctx))
	// Serve with each node's first connection attempt done, so /readyz tells the truth at once.
	waitCtx, cancel := context.WithTimeout(ctx, cfg.FreeSWITCH.DialTimeout+time.Second)
	m.pool.WaitTried(waitCtx)
	cancel()

	m.engine.Start(context.WithoutCancel(ctx))
	m.sweeper = engine.NewRetentionSweeper(m.store, m.log.With("component", "retention"), m.Now, cfg.System.RetentionSweepInterval)
	m.sweeper.Start(context.WithoutCancel(ctx))

	api := httpapi.New(httpapi.Options{
		Logger:    m.log.With("component", "http"),
		Config:    &m.live,
		Batches:   m.store,
		Lists:     countedLists{ListStore: m.store, m: mx},
		Jobs:      m.store,
		Callbacks: m.store,
		Reports:   m.store,
		Desk:      m.agents,
		Now:       m.Now,
		Checks:    m.readinessChecks(cfg),
		Status:    m.status,
		// S-1: live events, the job monitor and supervision legs.
		Events: m.monitor.hub, Monitor: monitorData{m.agents, m.store}, Supervisor: supervisor{m.pool},
		Heartbeat: m.EventHeartbeat,
		Metrics:   metrics.Handler(reg),
	})
	if m.ln, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		return fmt.Errorf("listen %s: %w", cfg.HTTP.Listen, err)
	}
	// No overall read or write timeout: list uploads may be large and event streams stay open;
	// headers must come quickly and idle keep-alive connections are closed.
	m.srv = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	m.srv.RegisterOnShutdown(api.CloseStreams) // open event streams must not hold Shutdown
	m.serving.Add(1)
	go func() {
		defer m.serving.Done()
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.failed <- fmt.Errorf("http server: %w", err)
		}
	}()
	m.log.Info("kakeru serving", "version", version(), "instance", m.InstanceID, "listen", m.ln.Addr().String())
	return nil
}

// Addr is the address the HTTP server listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Failed delivers a fatal error of a background part.
func (m *Main) Failed() <-chan error { return m.failed }

// Reload re-reads the configuration file and applies its campaigns, dial groups, agents and
// users. An invalid file is refused and the configuration in force stays.
func (m *Main) Reload() error {
	next, err := config.Load(m.cfgPath)
	if err != nil {
		return err
	}
	if m.Adjust != nil {
		m.Adjust(next)
	}
	merged, ignored := m.live.Current().Reloaded(next)
	m.live.p.Store(merged)
	if len(ignored) > 0 {
		m.log.Warn("configuration sections changed that need a restart; they were not applied", "sections", ignored)
	}
	m.warnDemoTokens(merged)
	m.log.Info("configuration reloaded", "campaigns", len(merged.Campaigns), "dial_groups", len(merged.DialGroups),
		"agents", len(merged.Agents), "users", len(merged.Users))
	return nil
}

// Close stops accepting requests, lets those in flight finish within the shutdown timeout, then
// stops background work and releases connections.
func (m *Main) Close() error {
	var errs []error
	if m.srv != nil {
		timeout := 30 * time.Second
		if cfg := m.live.Current(); cfg != nil {
			timeout = cfg.System.ShutdownTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if err := m.srv.Shutdown(ctx); err != nil {
			// Requests still running after the timeout (or connections that never sent one) are
			// cut: shutting down on time matters more than a client that went quiet.
			m.log.Warn("http requests still open at the shutdown timeout were cut", "timeout", timeout, "err", err)
			_ = m.srv.Close()
		}
		cancel()
		m.serving.Wait()
		m.srv = nil
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.sweeper != nil {
		m.sweeper.Stop()
	}
	if m.monitor != nil {
		m.monitor.stopHub()
	}
	if m.engine != nil {
		timeout := 30 * time.Second
		if cfg := m.live.Current(); cfg != nil {
			timeout = cfg.System.ShutdownTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		m.engine.Drain(ctx) // calls in progress finish; new ones are not placed
		cancel()
		m.engine.Stop()
		m.engine = nil
	}
	if m.monitor != nil {
		errs = append(errs, m.monitor.stop()) // after the engine: its last events are written
		m.monitor = nil
	}
	if m.pool != nil {
		m.pool.Stop()
		m.pool = nil
	}
	if m.events != nil {
		m.events.Stop()
		m.events = nil
	}
	if m.agents != nil {
		errs = append(errs, m.agents.Close())
		m.agents = nil
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
		m.store = nil
	}
	return errors.Join(errs...)
}

func (m *Main) checkSchema(ctx context.Context) error {
	st, err := store.MigrationStatus(ctx, m.store.DB())
	if err != nil {
		return err
	}
	for _, mg := range st {
		if !mg.Applied {
			return fmt.Errorf("the database schema is behind (migration %d pending): run `kakeru migrate` first", mg.Version)
		}
	}
	return nil
}

func (m *Main) warnDemoTokens(cfg *config.Config) {
	if users := cfg.DemoTokenUsers(); len(users) > 0 {
		m.log.Warn("demo tokens are configured: anyone who read the README can use them; replace them before real use",
			"users", users)
	}
}

func (m *Main) readinessChecks(cfg *config.Config) []httpapi.Check {
	checks := []httpapi.Check{
		{Name: "postgres", Probe: m.store.Ping},
		{Name: "redis", Probe: m.agents.Ping},
	}
	for i, n := range cfg.FreeSWITCH.Nodes {
		checks = append(checks, httpapi.Check{Name: "freeswitch:" + n.Name, Group: "freeswitch",
			Probe: func(context.Context) error {
				st := m.pool.States()[i]
				if st.Connected {
					return nil
				}
				if st.LastError != "" {
					return errors.New(st.LastError)
				}
				return freeswitch.ErrNotConnected
			}})
	}
	return checks
}

// newPool supervises one connection per configured node, subscribed to the engine's events.
func newPool(cfg *config.Config, log *slog.Logger, events func(context.Context, *wire.Event) error) *freeswitch.Pool {
	clients := make([]*freeswitch.Client, len(cfg.FreeSWITCH.Nodes))
	for i, n := range cfg.FreeSWITCH.Nodes {
		clients[i] = freeswitch.NewClient(freeswitch.ClientOptions{Name: n.Name, Addr: n.Address, Password: n.Password,
			Events: freeswitch.EngineEvents(), DialTimeout: cfg.FreeSWITCH.DialTimeout, Logger: log, OnEvent: events})
	}
	p := freeswitch.NewPool(clients...)
	// Two control connections per node: a customer's bridge waits behind at most the command
	// the other one is running, not behind every hold-music and hangup command of the node.
	for _, n := range cfg.FreeSWITCH.Nodes {
		for i := range controlConns {
			p.AddControl(n.Name, freeswitch.NewClient(freeswitch.ClientOptions{Name: fmt.Sprintf("%s/control%d", n.Name, i+1),
				Addr: n.Address, Password: n.Password, DialTimeout: cfg.FreeSWITCH.DialTimeout, Logger: log}))
		}
	}
	return p
}

// controlConns is how many control connections (commands, no events) each node gets.
const controlConns = 2

// status fills /api/v1/status from the supervised switch connections and the engine.
func (m *Main) status(ctx context.Context) (httpapi.Status, error) {
	cfg := m.live.Current()
	st := httpapi.Status{Version: version(), InstanceID: m.InstanceID, StartedAt: m.started,
		FreeSWITCH: make([]httpapi.NodeStatus, len(cfg.FreeSWITCH.Nodes))}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if m.engine != nil {
		st.CallsInFlight = m.engine.CallsInFlight()
	}
	for i, ns := range m.pool.States() {
		st.FreeSWITCH[i] = httpapi.NodeStatus{Name: ns.Name, Address: ns.Address, Connected: ns.Connected}
		if !ns.LastEventAt.IsZero() {
			at := ns.LastEventAt
			st.FreeSWITCH[i].LastEventAt = &at
		}
		if !ns.Connected {
			st.FreeSWITCH[i].Error = ns.LastError
		}
	}
	var jobsErr, agentsErr error
	var counts map[domain.AgentState]int
	st.JobsRunning, jobsErr = m.store.CountRunningJobs(ctx)
	counts, agentsErr = m.agents.Counts(ctx)
	if jobsErr != nil {
		return st, httpapi.DependencyDown("postgres", jobsErr)
	}
	if agentsErr != nil {
		return st, httpapi.DependencyDown("redis", agentsErr)
	}
	st.Agents = httpapi.AgentCounts{Available: counts[domain.AgentAvailable], OnCall: counts[domain.AgentOnCall],
		WrapUp: counts[domain.AgentWrapUp], Break: counts[domain.AgentBreak], Away: counts[domain.AgentAway]}
	return st, nil
}

func newInstanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
