package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Node is one switch node's connection as the scrape sees it.
type Node struct {
	Name       string
	Connected  bool
	Reconnects int // since start; only ever grows
}

// Campaign is what pacing knows of one campaign whose jobs run on this instance.
type Campaign struct {
	ID int
	// Dial is what the latest pacing decisions of the campaign's jobs asked for, summed.
	Dial int
	// AbandonRates is the abandon rate (abandons / live answers) per compliance window ("day",
	// "24h", "30d"); nil while the campaign's record is not known yet.
	AbandonRates map[string]float64
	// AbandonTarget is the campaign's highest allowed abandon rate (P-2), reported with its
	// rates (not while AbandonRates is nil); zero leaves it out.
	AbandonTarget float64
	// AbandonBudget is the abandon budget's remaining per compliance window ("day", "24h",
	// "30d", P-2): the recorded abandons the window takes before it goes over the target; nil
	// while the campaign's record is not known yet.
	AbandonBudget map[string]float64
}

// Dependency is a service the instance needs, probed at every scrape.
type Dependency struct {
	Name string // the dependency label: "postgres", "redis"
	// Ping reports whether the dependency answers; an error (or the scrape's deadline) is down.
	Ping func(ctx context.Context) error
}

// Sources are where Collector reads the state it reports, at scrape time. A nil source
// leaves its metrics out. The reads that take a context may be network reads: they run
// concurrently, all bounded by one ScrapeTimeout (they must return once their context is done),
// so a dependency that hangs delays the scrape by at most that much.
type Sources struct {
	CallsInFlight func() int
	Nodes         func() []Node
	// Agents counts agents by state.
	Agents    func(ctx context.Context) (map[string]int, error)
	Campaigns func() []Campaign
	// JobsRunning counts the call jobs running across all instances (PostgreSQL).
	JobsRunning func(ctx context.Context) (int, error)
	// JobsOwned counts the running jobs whose lease this instance holds.
	JobsOwned func(ctx context.Context) (int, error)
	// Dependencies are pinged for kakeru_dependency_up; a dependency is always reported (0 when
	// its ping fails), never left out.
	Dependencies []Dependency
	// ScrapeTimeout bounds the reads that take a context (2 s when zero).
	ScrapeTimeout time.Duration
	// Logger hears a source that failed (its metrics are then left out of the scrape).
	Logger *slog.Logger
}

// Collector reports state read from its sources at scrape time, so the values are never stale
// and series of jobs or nodes that are gone disappear with them.
type Collector struct {
	s Sources

	callsInFlight, agents, connected, reconnects, abandonRate, abandonTarget, abandonBudget, dial *prometheus.Desc
	jobsRunning, jobsOwned, dependencyUp                                                          *prometheus.Desc
}

// NewCollector builds a collector over the sources; register it on the registry.
func NewCollector(s Sources) *Collector {
	if s.ScrapeTimeout <= 0 {
		s.ScrapeTimeout = 2 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return &Collector{s: s,
		callsInFlight: prometheus.NewDesc("kakeru_calls_in_flight",
			"Customer calls this instance is running.", nil, nil),
		agents: prometheus.NewDesc("kakeru_agents",
			"Agents by state, from the live agent state shared by every instance.", []string{"state"}, nil),
		connected: prometheus.NewDesc("kakeru_freeswitch_connected",
			"1 when the node's event-socket connection is up, else 0.", []string{"node"}, nil),
		reconnects: prometheus.NewDesc("kakeru_freeswitch_reconnects_total",
			"Times the node's event-socket connection was made again after the first.", []string{"node"}, nil),
		abandonRate: prometheus.NewDesc("kakeru_abandon_rate",
			"Abandons / live answers of the campaign over a compliance window (P-2), for campaigns with jobs running here.",
			[]string{"campaign", "window"}, nil),
		abandonTarget: prometheus.NewDesc("kakeru_abandon_target",
			"The campaign's highest allowed abandon rate in any compliance window (P-2), for the campaigns of kakeru_abandon_rate.",
			[]string{"campaign"}, nil),
		abandonBudget: prometheus.NewDesc("kakeru_abandon_budget_remaining",
			"Recorded abandons the campaign's compliance window can still take before its rate, with the estimated false positives of answer classification counted as abandoned, goes over the target (P-2); negative when over. For the campaigns of kakeru_abandon_rate.",
			[]string{"campaign", "window"}, nil),
		dial: prometheus.NewDesc("kakeru_pacing_dial_count",
			"Calls the latest pacing decisions of the campaign's jobs here asked for.", []string{"campaign"}, nil),
		jobsRunning: prometheus.NewDesc("kakeru_jobs_running",
			"Call jobs running across all instances, from PostgreSQL (the same on every instance).", nil, nil),
		jobsOwned: prometheus.NewDesc("kakeru_jobs_owned",
			"Running call jobs whose lease this instance holds.", nil, nil),
		dependencyUp: prometheus.NewDesc("kakeru_dependency_up",
			"1 when the dependency answered a ping at this scrape, else 0.", []string{"dependency"}, nil),
	}
}

// Describe sends every metric the collector may report.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.callsInFlight, c.agents, c.connected, c.reconnects, c.abandonRate,
		c.abandonTarget, c.abandonBudget, c.dial, c.jobsRunning, c.jobsOwned, c.dependencyUp} {
		ch <- d
	}
}

// Collect reads the sources and sends their values.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.collectRemote(ch)
	if f := c.s.CallsInFlight; f != nil {
		ch <- prometheus.MustNewConstMetric(c.callsInFlight, prometheus.GaugeValue, float64(f()))
	}
	if f := c.s.Nodes; f != nil {
		for _, n := range f() {
			up := 0.0
			if n.Connected {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, up, n.Name)
			ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(n.Reconnects), n.Name)
		}
	}
	if f := c.s.Campaigns; f != nil {
		for _, cp := range f() {
			id := campaignLabel(cp.ID)
			ch <- prometheus.MustNewConstMetric(c.dial, prometheus.GaugeValue, float64(cp.Dial), id)
			for window, rate := range cp.AbandonRates {
				ch <- prometheus.MustNewConstMetric(c.abandonRate, prometheus.GaugeValue, rate, id, window)
			}
			if cp.AbandonRates != nil && cp.AbandonTarget > 0 {
				ch <- prometheus.MustNewConstMetric(c.abandonTarget, prometheus.GaugeValue, cp.AbandonTarget, id)
			}
			for window, left := range cp.AbandonBudget {
				ch <- prometheus.MustNewConstMetric(c.abandonBudget, prometheus.GaugeValue, left, id, window)
			}
		}
	}
}

// collectRemote runs the reads that take a context at once, under one deadline.
func (c *Collector) collectRemote(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.s.ScrapeTimeout)
	defer cancel()
	var wg sync.WaitGroup // ch takes concurrent sends
	report := func(m prometheus.Metric) { ch <- m }
	count := func(f func(context.Context) (int, error), d *prometheus.Desc, what string) {
		if f == nil {
			return
		}
		wg.Go(func() {
			n, err := f(ctx)
			if err != nil {
				c.s.Logger.Warn("metrics: "+what+" unreadable; left out of the scrape", "err", err)
				return
			}
			report(prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n)))
		})
	}
	count(c.s.JobsRunning, c.jobsRunning, "running jobs")
	count(c.s.JobsOwned, c.jobsOwned, "owned jobs")
	if f := c.s.Agents; f != nil {
		wg.Go(func() {
			counts, err := f(ctx)
			if err != nil {
				c.s.Logger.Warn("metrics: agent states unreadable; left out of the scrape", "err", err)
				return
			}
			for state, n := range counts {
				report(prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(n), state))
			}
		})
	}
	for _, dep := range c.s.Dependencies {
		if dep.Ping == nil {
			continue
		}
		wg.Go(func() {
			up := 1.0
			if err := dep.Ping(ctx); err != nil {
				up = 0 // the metric is the report: no log line at every scrape while it is down
			}
			report(prometheus.MustNewConstMetric(c.dependencyUp, prometheus.GaugeValue, up, dep.Name))
		})
	}
	wg.Wait()
}
