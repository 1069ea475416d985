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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"

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
	// OnBridge, when set, hears each answer→bridge latency of the engine and its own part of
	// it (benchmarks; engine.Options.OnBridge).
	OnBridge func(answerToMove, own time.Duration)
	// EventHeartbeat is the interval of keep-alive comments on idle event streams (15 s when zero).
	EventHeartbeat time.Duration

	cfgPath string
	log     *slog.Logger
	live    liveConfig
	started time.Time

	store    *store.Store // the engine's and background work's pool
	apiStore *store.Store // the HTTP API's pool
	agents   *agentstate.Store
	pool     *freeswitch.Pool
	events   *freeswitch.Dispatcher
	engine   *engine.Engine
	sweeper  *engine.RetentionSweeper
	monitor  *liveMonitor
	srv      *http.Server
	ln       net.Listener
	failed   chan error
	life     lifetimes
}

// NewMain prepares an instance that reads its configuration from cfgPath.
func NewMain(cfgPath string, log *slog.Logger) *Main {
	return &Main{cfgPath: cfgPath, log: log, Now: time.Now, InstanceID: newInstanceID(), failed: make(chan error, 1)}
}

// liveConfig is the configuration in force; SIGHUP swaps it atomically.
type liveConfig struct{ p atomic.Pointer[config.Config] }

func (l *liveConfig) Current() *config.Config { return l.p.Load() }

// Run loads the configuration, connects the dependencies, checks the schema and starts the
// background work and the HTTP server. It returns once the server listens; Close stops what it
// started (also when Run fails half-way).
func (m *Main) Run(ctx context.Context) (err error) {
	cfg, err := config.Load(m.cfgPath)
	if err == nil && m.Adjust != nil {
		m.Adjust(cfg)
	}
	if err != nil {
		return fmt.Errorf("configuration %s: %w", m.cfgPath, err)
	}
	m.live.p.Store(cfg)
	m.warnConfig(cfg)
	m.started = m.Now()
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	// Parts run on a context of their own: ctx bounds starting only, Close ends them.
	bg := context.WithoutCancel(ctx)

	if m.store, err = store.OpenPool(ctx, cfg.Postgres.DSN, store.Pool{MaxConns: cfg.Postgres.MaxConns}); err != nil {
		return err
	}
	m.life.started("postgresql", func() error { s := m.store; m.store = nil; return s.Close() })
	// The HTTP API's own pool, its statements bounded: heavy requests wait for each other, never
	// for the engine's connections, and none runs for ever.
	if m.apiStore, err = store.OpenPool(ctx, cfg.Postgres.DSN, store.Pool{MaxConns: cfg.Postgres.APIMaxConns,
		StatementTimeout: cfg.Postgres.APIStatementTimeout}); err != nil {
		return err
	}
	m.life.started("postgresql (api)", func() error { s := m.apiStore; m.apiStore = nil; return s.Close() })
	if err := m.checkSchema(ctx); err != nil {
		return err
	}
	m.agents = agentstate.Open(cfg.Redis.Addr, cfg.Redis.DB, cfg.Redis.Password)
	m.life.started("redis agent state", func() error { a := m.agents; m.agents = nil; return a.Close() })
	// The instance's own registry: the engine and the switch pool report to it through plain
	// callbacks, the rest is read at scrape time.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mx := metrics.New(reg)
	m.monitor = newLiveMonitor(cfg, m.log, m.Now)
	m.life.started("redis live events", m.monitor.close)
	// The publisher outlives the engine: its last events are written.
	m.monitor.publisher.Start(bg)
	m.life.started("live event publisher", func() error { m.monitor.publisher.Stop(); return nil })
	m.engine = engine.New(engine.Options{Store: m.store, Agents: m.agents, Config: m.live.Current,
		Logger: m.log.With("component", "engine"), Now: m.Now, Instance: m.InstanceID, OnBridge: m.onBridge(mx),
		Events: m.monitor.publisher,
		Hooks: engine.Hooks{Originate: mx.Originate, Outcome: mx.Outcome, LiveAnswer: mx.LiveAnswer,
			Abandon: mx.Abandon, Decision: mx.Decision, Classified: mx.Classified, Step: mx.Step}})
	// Switch events reach the engine through one ordered path: a call's events in wire order,
	// calls in parallel over the shards (docs/architecture.md).
	m.events = freeswitch.NewDispatcher(8, 1024, m.engine.HandleEvent)
	m.events.Start()
	m.life.started("switch event dispatcher", func() error { m.events.Stop(); m.events = nil; return nil })
	m.pool = newPool(cfg, m.log.With("component", "freeswitch"), m.events.Dispatch)
	m.pool.OnCommand(mx.Command)
	m.engine.SetSwitch(m.pool)
	reg.MustRegister(metrics.NewCollector(m.metricSources()))
	m.pool.Start(bg)
	m.life.started("switch pool", func() error { m.pool.Stop(); m.pool = nil; return nil })
	// Serve with each node's first connection attempt done, so /readyz tells the truth at once.
	waitCtx, cancel := context.WithTimeout(ctx, cfg.FreeSWITCH.DialTimeout+time.Second)
	m.pool.WaitTried(waitCtx)
	cancel()

	m.engine.Start(bg)
	m.life.started("engine", m.stopEngine)
	m.sweeper = engine.NewRetentionSweeper(m.store, m.log.With("component", "retention"), m.Now, cfg.System.RetentionSweepInterval,
		cfg.FreeSWITCH.Recordings.Directory)
	m.sweeper.Start(bg)
	m.life.started("retention sweeper", func() error { m.sweeper.Stop(); return nil })
	// The event streams' reader stops once the HTTP server no longer serves them.
	m.monitor.hub.Start(bg)
	m.life.started("live event hub", func() error { m.monitor.hub.Stop(); return nil })

	api := httpapi.New(httpapi.Options{
		Logger:    m.log.With("component", "http"),
		Config:    &m.live,
		Batches:   m.apiStore,
		Lists:     countedLists{ListStore: m.apiStore, m: mx},
		Jobs:      m.apiStore,
		Callbacks: m.apiStore,
		Reports:   m.apiStore,
		DoNotCall: m.apiStore,
		Desk:      m.agents,
		Now:       m.Now,
		Checks:    m.readinessChecks(cfg),
		Status:    m.status,
		// S-1: live events, the job monitor and supervision legs.
		Events: m.monitor.hub, Monitor: monitorData{m.agents, m.apiStore}, Supervisor: supervisor{m.pool},
		Heartbeat:            m.EventHeartbeat,
		BodyTimeout:          cfg.HTTP.BodyTimeout,
		HeavyRequests:        cfg.HTTP.HeavyRequests,
		UploadBytesPerSecond: cfg.HTTP.UploadBytesPerSecond,
		Metrics:              metrics.Handler(reg),
	})
	api.CleanUploadDir() // spooled uploads a killed process left
	if m.ln, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		return fmt.Errorf("listen %s: %w", cfg.HTTP.Listen, err)
	}
	m.ln = netutil.LimitListener(m.ln, cfg.HTTP.MaxConnections)
	// No overall read or write timeout: list uploads may be large and event streams stay open;
	// headers must come quickly and idle keep-alive connections are closed.
	m.srv = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	m.srv.RegisterOnShutdown(api.CloseStreams) // open event streams must not hold Shutdown
	var serving errgroup.Group
	serving.Go(func() error {
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.failed <- fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	m.life.started("http server", func() error { m.shutdownHTTP(); return serving.Wait() })
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
	m.warnConfig(merged)
	m.log.Info("configuration reloaded", "campaigns", len(merged.Campaigns), "dial_groups", len(merged.DialGroups),
		"agents", len(merged.Agents), "users", len(merged.Users))
	return nil
}

// Close stops what Run started, in reverse order: requests in flight finish within the
// shutdown timeout, then calls in progress, then background work and connections.
func (m *Main) Close() error {
	return m.life.stopAll()
}

// shutdownTimeout bounds each draining step of Close.
func (m *Main) shutdownTimeout() time.Duration {
	if cfg := m.live.Current(); cfg != nil {
		return cfg.System.ShutdownTimeout
	}
	return 30 * time.Second
}

// shutdownHTTP stops accepting requests and lets those in flight finish within the shutdown
// timeout.
func (m *Main) shutdownHTTP() {
	timeout := m.shutdownTimeout()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := m.srv.Shutdown(ctx); err != nil {
		// Requests still running after the timeout (or connections that never sent one) are
		// cut: shutting down on time matters more than a client that went quiet.
		m.log.Warn("http requests still open at the shutdown timeout were cut", "timeout", timeout, "err", err)
		_ = m.srv.Close()
	}
}

// stopEngine lets the calls in progress finish (no new ones are placed), then stops the engine.
func (m *Main) stopEngine() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.shutdownTimeout())
	defer cancel()
	m.engine.Drain(ctx)
	m.engine.Stop()
	m.engine = nil
	return nil
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

// warnConfig logs what the configuration allows but is probably a mistake.
func (m *Main) warnConfig(cfg *config.Config) {
	if users := cfg.DemoTokenUsers(); len(users) > 0 {
		m.log.Warn("demo tokens are configured: anyone who read the README can use them; replace them before real use",
			"users", users)
	}
	for _, w := range cfg.Warnings() {
		m.log.Warn("configuration: " + w)
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

// verdictEvents are the CUSTOM event subclasses the campaigns' custom answering-machine
// detectors report their verdicts with. They are subscribed to when the connections open: a
// detector added by a reload is heard after the next restart (its variable form needs none).
func verdictEvents(cfg *config.Config) []string {
	var out []string
	for _, c := range cfg.Campaigns {
		if aa := c.AnswerAnalysis; aa.Detector == config.DetectorCustom && aa.Custom.Event != "" {
			out = append(out, aa.Custom.Event)
		}
	}
	return out
}

// newPool supervises one connection per configured node, subscribed to the engine's events.
func newPool(cfg *config.Config, log *slog.Logger, events func(context.Context, *wire.Event) error) *freeswitch.Pool {
	clients := make([]*freeswitch.Client, len(cfg.FreeSWITCH.Nodes))
	for i, n := range cfg.FreeSWITCH.Nodes {
		clients[i] = freeswitch.NewClient(freeswitch.ClientOptions{Name: n.Name, Addr: n.Address, Password: n.Password,
			Events: freeswitch.EngineEvents(verdictEvents(cfg)...), DialTimeout: cfg.FreeSWITCH.DialTimeout, Logger: log, OnEvent: events})
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
	st.Agents = httpapi.AgentCounts{Available: counts[domain.AgentAvailable], Preview: counts[domain.AgentPreview], OnCall: counts[domain.AgentOnCall],
		WrapUp: counts[domain.AgentWrapUp], Break: counts[domain.AgentBreak], Away: counts[domain.AgentAway]}
	return st, nil
}

func newInstanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
