package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kakeru-dialer/kakeru/metrics"
	"github.com/kakeru-dialer/kakeru/pacing"
)

// The collector reports what its sources say at the time of the scrape, and a source that
// fails leaves only its own metrics out.
func TestCollectorReadsSourcesAtScrape(t *testing.T) {
	inFlight := 3
	agentsErr := error(nil)
	c := metrics.NewCollector(metrics.Sources{
		CallsInFlight: func() int { return inFlight },
		Nodes: func() []metrics.Node {
			return []metrics.Node{{Name: "fs1", Connected: true, Reconnects: 2}, {Name: "fs2"}}
		},
		Agents: func(ctx context.Context) (map[string]int, error) {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("agent states read without a deadline")
			}
			return map[string]int{"available": 2, "on_call": 1, "wrap_up": 0}, agentsErr
		},
		Campaigns: func() []metrics.Campaign {
			return []metrics.Campaign{{ID: 1, Dial: 4, AbandonRates: map[string]float64{"24h": 0.025, "30d": 0.01}}, {ID: 2}}
		},
	})
	want := `
# HELP kakeru_abandon_rate Abandons / live answers of the campaign over a compliance window (P-2), for campaigns with jobs running here.
# TYPE kakeru_abandon_rate gauge
kakeru_abandon_rate{campaign="1",window="24h"} 0.025
kakeru_abandon_rate{campaign="1",window="30d"} 0.01
# HELP kakeru_agents Agents by state, from the live agent state shared by every instance.
# TYPE kakeru_agents gauge
kakeru_agents{state="available"} 2
kakeru_agents{state="on_call"} 1
kakeru_agents{state="wrap_up"} 0
# HELP kakeru_calls_in_flight Customer calls this instance is running.
# TYPE kakeru_calls_in_flight gauge
kakeru_calls_in_flight 3
# HELP kakeru_freeswitch_connected 1 when the node's event-socket connection is up, else 0.
# TYPE kakeru_freeswitch_connected gauge
kakeru_freeswitch_connected{node="fs1"} 1
kakeru_freeswitch_connected{node="fs2"} 0
# HELP kakeru_freeswitch_reconnects_total Times the node's event-socket connection was made again after the first.
# TYPE kakeru_freeswitch_reconnects_total counter
kakeru_freeswitch_reconnects_total{node="fs1"} 2
kakeru_freeswitch_reconnects_total{node="fs2"} 0
# HELP kakeru_pacing_dial_count Calls the latest pacing decisions of the campaign's jobs here asked for.
# TYPE kakeru_pacing_dial_count gauge
kakeru_pacing_dial_count{campaign="1"} 4
kakeru_pacing_dial_count{campaign="2"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	inFlight = 0
	agentsErr = errors.New("redis down")
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP kakeru_calls_in_flight Customer calls this instance is running.
# TYPE kakeru_calls_in_flight gauge
kakeru_calls_in_flight 0
`), "kakeru_calls_in_flight"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "kakeru_agents"); n != 0 {
		t.Fatalf("%d agent series while Redis is down", n)
	}
	if n := testutil.CollectAndCount(c, "kakeru_freeswitch_connected"); n != 2 {
		t.Fatalf("%d node series while Redis is down", n)
	}
}

// The hooks count by campaign with bounded labels; a campaign's counters start at zero for
// every outcome once it dials; commands are labelled by name only.
func TestMetricsHooks(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.Originate(1)
	m.Originate(1)
	m.Outcome(1, "busy")
	m.LiveAnswer(1)
	m.Abandon(1)
	m.Decision(1, pacing.Decision{Dial: 2, Reason: "predictive"})
	m.Decision(1, pacing.Decision{Reason: "no_agents"})
	m.Command("fs1", "api", "uuid_bridge", 3*time.Millisecond)
	m.Bridge(20 * time.Millisecond)
	m.ImportRows(metrics.ImportAccepted, 5)
	m.ImportRows(metrics.ImportRefused, 0)

	want := `
# HELP kakeru_originates_total Customer originate commands sent to the switch.
# TYPE kakeru_originates_total counter
kakeru_originates_total{campaign="1"} 2
# HELP kakeru_pacing_decisions_total Pacing decisions made for the running jobs, by reason.
# TYPE kakeru_pacing_decisions_total counter
kakeru_pacing_decisions_total{campaign="1",reason="no_agents"} 1
kakeru_pacing_decisions_total{campaign="1",reason="predictive"} 1
# HELP kakeru_import_rows_total Customer list rows imported (accepted) or in files refused whole (refused).
# TYPE kakeru_import_rows_total counter
kakeru_import_rows_total{result="accepted"} 5
kakeru_import_rows_total{result="refused"} 0
# HELP kakeru_live_answers_total Customer calls answered by a person, as the abandon rate counts them (P-2).
# TYPE kakeru_live_answers_total counter
kakeru_live_answers_total{campaign="1"} 1
# HELP kakeru_attempt_outcomes_total Customer attempts ended, by outcome (P-3).
# TYPE kakeru_attempt_outcomes_total counter
kakeru_attempt_outcomes_total{campaign="1",outcome="abandoned"} 0
kakeru_attempt_outcomes_total{campaign="1",outcome="busy"} 1
kakeru_attempt_outcomes_total{campaign="1",outcome="cancelled"} 0
kakeru_attempt_outcomes_total{campaign="1",outcome="connected"} 0
kakeru_attempt_outcomes_total{campaign="1",outcome="invalid_number"} 0
kakeru_attempt_outcomes_total{campaign="1",outcome="machine"} 0
kakeru_attempt_outcomes_total{campaign="1",outcome="network_failure"} 0
kakeru_attempt_outcomes_total{campaign="1",outcome="no_answer"} 0
kakeru_attempt_outcomes_total{campaign="1",outcome="rejected"} 0
# HELP kakeru_abandons_total Customer calls abandoned: answered with no agent free within the connect deadline (P-2).
# TYPE kakeru_abandons_total counter
kakeru_abandons_total{campaign="1"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kakeru_originates_total", "kakeru_pacing_decisions_total",
		"kakeru_import_rows_total", "kakeru_live_answers_total", "kakeru_abandons_total", "kakeru_attempt_outcomes_total"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	metrics.Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range []string{
		`kakeru_freeswitch_command_duration_seconds_count{command="uuid_bridge",kind="api",node="fs1"} 1`,
		`kakeru_freeswitch_command_duration_seconds_bucket{command="uuid_bridge",kind="api",node="fs1",le="0.005"} 1`,
		`kakeru_answer_to_bridge_seconds_count 1`,
		`kakeru_answer_to_bridge_seconds_bucket{le="0.025"} 1`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("no %s in\n%s", line, body)
		}
	}
}

// The operations metrics (issue 17): a campaign's target goes with its abandon rates, the job
// counts are left out when unreadable, and a dependency is always reported, down (0) when its
// ping fails or outlasts the scrape's deadline.
func TestCollectorJobsTargetsAndDependencies(t *testing.T) {
	runningErr := error(nil)
	c := metrics.NewCollector(metrics.Sources{
		ScrapeTimeout: 50 * time.Millisecond,
		Campaigns: func() []metrics.Campaign {
			return []metrics.Campaign{
				{ID: 1, AbandonRates: map[string]float64{"day": 0.02}, AbandonTarget: 0.03,
					AbandonBudget: map[string]float64{"day": 1.5, "24h": -0.25, "30d": 12}}, // P-2, issue 18
				{ID: 2, AbandonTarget: 0.05}, // no record yet: no rates, no target
			}
		},
		JobsRunning: func(ctx context.Context) (int, error) { return 3, runningErr },
		JobsOwned:   func(ctx context.Context) (int, error) { return 2, nil },
		Dependencies: []metrics.Dependency{
			{Name: "postgres", Ping: func(ctx context.Context) error { return nil }},
			{Name: "redis", Ping: func(ctx context.Context) error {
				<-ctx.Done() // a hung dependency: the scrape's deadline ends the ping
				return ctx.Err()
			}},
		},
	})
	want := `
# HELP kakeru_abandon_budget_remaining Recorded abandons the campaign's compliance window can still take before its rate, with the estimated false positives of answer classification counted as abandoned, goes over the target (P-2); negative when over. For the campaigns of kakeru_abandon_rate.
# TYPE kakeru_abandon_budget_remaining gauge
kakeru_abandon_budget_remaining{campaign="1",window="24h"} -0.25
kakeru_abandon_budget_remaining{campaign="1",window="30d"} 12
kakeru_abandon_budget_remaining{campaign="1",window="day"} 1.5
# HELP kakeru_abandon_target The campaign's highest allowed abandon rate in any compliance window (P-2), for the campaigns of kakeru_abandon_rate.
# TYPE kakeru_abandon_target gauge
kakeru_abandon_target{campaign="1"} 0.03
# HELP kakeru_dependency_up 1 when the dependency answered a ping at this scrape, else 0.
# TYPE kakeru_dependency_up gauge
kakeru_dependency_up{dependency="postgres"} 1
kakeru_dependency_up{dependency="redis"} 0
# HELP kakeru_jobs_owned Running call jobs whose lease this instance holds.
# TYPE kakeru_jobs_owned gauge
kakeru_jobs_owned 2
# HELP kakeru_jobs_running Call jobs running across all instances, from PostgreSQL (the same on every instance).
# TYPE kakeru_jobs_running gauge
kakeru_jobs_running 3
`
	names := []string{"kakeru_abandon_budget_remaining", "kakeru_abandon_target", "kakeru_dependency_up", "kakeru_jobs_owned", "kakeru_jobs_running"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	runningErr = errors.New("postgres down")
	if n := testutil.CollectAndCount(c, "kakeru_jobs_running"); n != 0 {
		t.Fatalf("%d running-job series while PostgreSQL is down", n)
	}
	if n := testutil.CollectAndCount(c, "kakeru_jobs_owned"); n != 1 {
		t.Fatalf("%d owned-job series; want 1", n)
	}
}

// Every descriptor the collector describes is one it can report: a registry checks the
// metrics it gathers against them.
func TestCollectorDescribesWhatItReports(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector(metrics.Sources{
		CallsInFlight: func() int { return 1 },
		Nodes:         func() []metrics.Node { return []metrics.Node{{Name: "fs1", Connected: true}} },
		Agents:        func(context.Context) (map[string]int, error) { return map[string]int{"available": 1}, nil },
		Campaigns: func() []metrics.Campaign {
			return []metrics.Campaign{{ID: 1, Dial: 1, AbandonRates: map[string]float64{"day": 0}, AbandonTarget: 0.03,
				AbandonBudget: map[string]float64{"day": 0}}}
		},
		JobsRunning:  func(context.Context) (int, error) { return 1, nil },
		JobsOwned:    func(context.Context) (int, error) { return 1, nil },
		Dependencies: []metrics.Dependency{{Name: "postgres", Ping: func(context.Context) error { return nil }}},
	}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 11 {
		t.Fatalf("%d metric families; want the 11 the collector describes", len(mfs))
	}
}
