package metrics

import (
	"context"
	"log/slog"
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
}

// Sources are where Collector reads the state it reports, at scrape time. A nil source
// leaves its metrics out.
type Sources struct {
	CallsInFlight func() int
	Nodes         func() []Node
	// Agents counts agents by state; it may be a network read, bounded by ScrapeTimeout.
	Agents    func(ctx context.Context) (map[string]int, error)
	Campaigns func() []Campaign
	// ScrapeTimeout bounds the reads that take a context (2 s when zero).
	ScrapeTimeout time.Duration
	// Logger hears a source that failed (its metrics are then left out of the scrape).
	Logger *slog.Logger
}

// Collector reports state read from its sources at scrape time, so the values are never stale
// and series of jobs or nodes that are gone disappear with them.
type Collector struct {
	s Sources

	callsInFlight, agents, connected, reconnects, abandonRate, dial *prometheus.Desc
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
		dial: prometheus.NewDesc("kakeru_pacing_dial_count",
			"Calls the latest pacing decisions of the campaign's jobs here asked for.", []string{"campaign"}, nil),
	}
}

// Describe sends every metric the collector may report.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.callsInFlight, c.agents, c.connected, c.reconnects, c.abandonRate, c.dial} {
		ch <- d
	}
}

// Collect reads the sources and sends their values.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
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
	if f := c.s.Agents; f != nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.s.ScrapeTimeout)
		counts, err := f(ctx)
		cancel()
		if err != nil {
			c.s.Logger.Warn("metrics: agent states unreadable; left out of the scrape", "err", err)
			counts = nil
		}
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(n), state)
		}
	}
	if f := c.s.Campaigns; f != nil {
		for _, cp := range f() {
			id := campaignLabel(cp.ID)
			ch <- prometheus.MustNewConstMetric(c.dial, prometheus.GaugeValue, float64(cp.Dial), id)
			for window, rate := range cp.AbandonRates {
				ch <- prometheus.MustNewConstMetric(c.abandonRate, prometheus.GaugeValue, rate, id, window)
			}
		}
	}
}
