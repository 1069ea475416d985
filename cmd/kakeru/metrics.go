package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/metrics"
	"github.com/kakeru-dialer/kakeru/store"
)

// onBridge feeds the answer→bridge latency to the metrics and to Main.OnBridge when set.
func (m *Main) onBridge(mx *metrics.Metrics) func(time.Duration, time.Duration) {
	return func(d, own time.Duration) {
		mx.Bridge(d)
		if m.OnBridge != nil {
			m.OnBridge(d, own)
		}
	}
}

// metricSources are the scrape-time readings of the instance: the engine's calls, jobs and
// pacing, the switch connections, the agent states in Redis, the running jobs in PostgreSQL and
// pings of both. Call once they are built.
func (m *Main) metricSources() metrics.Sources {
	eng, pool, agents, st := m.engine, m.pool, m.agents, m.store
	return metrics.Sources{
		Logger:        m.log.With("component", "metrics"),
		CallsInFlight: eng.CallsInFlight,
		Nodes: func() []metrics.Node {
			states := pool.States()
			out := make([]metrics.Node, len(states))
			for i, st := range states {
				out[i] = metrics.Node{Name: st.Name, Connected: st.Connected, Reconnects: st.Reconnects}
			}
			return out
		},
		Agents: func(ctx context.Context) (map[string]int, error) {
			counts, err := agents.Counts(ctx)
			if err != nil {
				return nil, err
			}
			out := make(map[string]int, len(domain.AgentStates()))
			for _, s := range domain.AgentStates() {
				out[string(s)] = counts[s]
			}
			return out, nil
		},
		Campaigns: func() []metrics.Campaign {
			cfg := m.live.Current()
			var out []metrics.Campaign
			for _, cp := range eng.PacingByCampaign() {
				c := metrics.Campaign{ID: cp.Campaign, Dial: cp.Dial}
				if cp.HasCompliance {
					c.AbandonRates = map[string]float64{"day": cp.Compliance.Day.Rate,
						"24h": cp.Compliance.Rolling24h.Rate, "30d": cp.Compliance.Rolling30d.Rate}
				}
				if camp, ok := cfg.Campaign(cp.Campaign); ok {
					c.AbandonTarget = camp.Pacing.TargetAbandonRate // the one pacing holds the campaign to
					if cp.HasCompliance {
						b := cp.Budget
						c.AbandonBudget = map[string]float64{"day": b.Day.Remaining, "24h": b.Rolling24h.Remaining,
							"30d": b.Rolling30d.Remaining}
					}
				}
				out = append(out, c)
			}
			return out
		},
		JobsRunning: st.CountRunningJobs,
		JobsOwned: func(ctx context.Context) (int, error) {
			// The running jobs the engine holds: a job still winding down after it stopped keeps
			// its lease but is not counted, so the owned jobs of all instances match the running
			// ones exactly when every running job has an owner.
			running, _, err := st.ListCallJobs(ctx, store.CallJobFilter{Running: true})
			if err != nil {
				return 0, err
			}
			n := 0
			for _, j := range running {
				if _, ok := eng.Pacing(j.ID); ok {
					n++
				}
			}
			return n, nil
		},
		Dependencies: []metrics.Dependency{{Name: "postgres", Ping: st.Ping}, {Name: "redis", Ping: agents.Ping}},
	}
}

// countedLists counts the rows of list imports for kakeru_import_rows_total.
type countedLists struct {
	httpapi.ListStore
	m *metrics.Metrics
}

func (c countedLists) ImportCSV(ctx context.Context, in store.ImportInput, file io.ReadSeeker, errCSV io.Writer, now time.Time) (store.CustomerList, error) {
	list, err := c.ListStore.ImportCSV(ctx, in, file, errCSV, now)
	var refusal *store.ImportRefusal
	switch {
	case err == nil:
		c.m.ImportRows(metrics.ImportAccepted, list.RowCount)
	case errors.As(err, &refusal):
		c.m.ImportRows(metrics.ImportRefused, refusal.Rows)
	}
	return list, err
}
