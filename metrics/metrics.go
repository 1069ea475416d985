// Package metrics exposes kakeru's Prometheus metrics. The engine and the FreeSWITCH layer know
// nothing of Prometheus: they take plain callbacks, which the methods of Metrics satisfy, and
// the values that are state rather than events (calls in flight, agents, node connections,
// abandon rates and targets, jobs, dependencies) are read from their owners at scrape time by
// Collector. Everything is registered on the registry the caller builds; nothing here touches a
// global one.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/pacing"
)

// Import row results.
const (
	ImportAccepted = "accepted"
	ImportRefused  = "refused"
)

// Buckets of the latency histograms, in seconds. A command round trip on a healthy switch takes
// well under a millisecond to a few; the bridge follows the answer within milliseconds.
var (
	commandBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	bridgeBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
)

// Metrics counts what happens: its methods are the hooks given to the engine, the switch pool
// and the list import. They are safe for concurrent use and never block.
type Metrics struct {
	originates  *prometheus.CounterVec
	outcomes    *prometheus.CounterVec
	liveAnswers *prometheus.CounterVec
	abandons    *prometheus.CounterVec
	decisions   *prometheus.CounterVec
	commands    *prometheus.HistogramVec
	bridge      prometheus.Histogram
	importRows  *prometheus.CounterVec
	verdicts    *prometheus.CounterVec
	steps       *prometheus.CounterVec

	mu   sync.Mutex
	seen map[int]bool // campaigns whose counters have been started at zero
}

// New builds the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		originates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_originates_total",
			Help: "Customer originate commands sent to the switch."}, []string{"campaign"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_attempt_outcomes_total",
			Help: "Customer attempts ended, by outcome (P-3)."}, []string{"campaign", "outcome"}),
		liveAnswers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_live_answers_total",
			Help: "Customer calls answered by a person, as the abandon rate counts them (P-2)."}, []string{"campaign"}),
		abandons: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_abandons_total",
			Help: "Customer calls abandoned: answered with no agent free within the connect deadline (P-2)."}, []string{"campaign"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_pacing_decisions_total",
			Help: "Pacing decisions made for the running jobs, by reason."}, []string{"campaign", "reason"}),
		commands: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kakeru_freeswitch_command_duration_seconds",
			Help:    "Round trip of api and bgapi commands to the switch, by node, kind and command name.",
			Buckets: commandBuckets}, []string{"node", "kind", "command"}),
		bridge: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kakeru_answer_to_bridge_seconds",
			Help:    "Time from a customer's answer event to the bridge command to an agent.",
			Buckets: bridgeBuckets}),
		importRows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_import_rows_total",
			Help: "Customer list rows imported (accepted) or in files refused whole (refused)."}, []string{"result"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_answer_verdicts_total",
			Help: "Answers classified by the switch's answering-machine detector, by verdict (P-3)."}, []string{"campaign", "result"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kakeru_call_steps_total",
			Help: "Steps of calls on the agent's desk (holds, consults, transfers, conferences, preview skips), by kind."}, []string{"campaign", "kind"}),
		seen: map[int]bool{},
	}
	reg.MustRegister(m.originates, m.outcomes, m.liveAnswers, m.abandons, m.decisions, m.commands, m.bridge, m.importRows, m.verdicts, m.steps)
	m.importRows.WithLabelValues(ImportAccepted)
	m.importRows.WithLabelValues(ImportRefused)
	return m
}

func campaignLabel(id int) string { return strconv.Itoa(id) }

// start makes a campaign's counters exist at zero, so rates over them are defined from its
// first dial on.
func (m *Metrics) start(campaign int) string {
	c := campaignLabel(campaign)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[campaign] {
		return c
	}
	m.seen[campaign] = true
	m.originates.WithLabelValues(c)
	m.liveAnswers.WithLabelValues(c)
	m.abandons.WithLabelValues(c)
	for _, o := range domain.Outcomes() { // every outcome's counter starts at zero once the campaign dials
		if o == domain.OutcomeSkipped {
			continue // N-1: a skip is recorded by the claim, never dialed: no customer attempt ended
		}
		m.outcomes.WithLabelValues(c, string(o))
	}
	return c
}

// Originate counts a customer originate (engine.Hooks.Originate).
func (m *Metrics) Originate(campaign int) { m.originates.WithLabelValues(m.start(campaign)).Inc() }

// Outcome counts an attempt's outcome (engine.Hooks.Outcome).
func (m *Metrics) Outcome(campaign int, outcome domain.Outcome) {
	m.outcomes.WithLabelValues(m.start(campaign), string(outcome)).Inc()
}

// LiveAnswer counts a live answer (engine.Hooks.LiveAnswer).
func (m *Metrics) LiveAnswer(campaign int) { m.liveAnswers.WithLabelValues(m.start(campaign)).Inc() }

// Classified counts an answer's verdict: human, machine or unsure (engine.Hooks.Classified).
func (m *Metrics) Classified(campaign int, result string) {
	m.verdicts.WithLabelValues(m.start(campaign), result).Inc()
}

// Step counts a step of a call on the agent's desk (engine.Hooks.Step).
func (m *Metrics) Step(campaign int, kind domain.StepKind) {
	m.steps.WithLabelValues(m.start(campaign), string(kind)).Inc()
}

// Abandon counts an abandon (engine.Hooks.Abandon).
func (m *Metrics) Abandon(campaign int) { m.abandons.WithLabelValues(m.start(campaign)).Inc() }

// Decision counts a pacing decision by its reason (engine.Hooks.Decision).
func (m *Metrics) Decision(campaign int, d pacing.Decision) {
	m.decisions.WithLabelValues(campaignLabel(campaign), d.Reason).Inc()
}

// Command observes a switch command's round trip (freeswitch.Pool.OnCommand).
func (m *Metrics) Command(node, kind, command string, took time.Duration) {
	m.commands.WithLabelValues(node, kind, command).Observe(took.Seconds())
}

// Bridge observes an answer→bridge latency (engine.Options.OnBridge).
func (m *Metrics) Bridge(d time.Duration) { m.bridge.Observe(d.Seconds()) }

// ImportRows counts n rows of a list import with the result ImportAccepted or ImportRefused.
func (m *Metrics) ImportRows(result string, n int) {
	if n > 0 {
		m.importRows.WithLabelValues(result).Add(float64(n))
	}
}

// Handler serves the registry in the Prometheus exposition formats. A collector that fails
// leaves its metrics out rather than failing the whole scrape.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: reg})
}
