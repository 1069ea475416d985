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

// metricSources are the scrape-time readings of the instance: the engine's calls and pacing,
// the switch connections and the agent states in Redis. Call once they are built.
func (m *Main) metricSources() metrics.Sources {
	eng, pool, agents := m.engine, m.pool, m.agents
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
			var out []metrics.Campaign
			for _, cp := range eng.PacingByCampaign() {
				c := metrics.Campaign{ID: cp.Campaign, Dial: cp.Dial}
				if cp.HasCompliance {
					c.AbandonRates = map[string]float64{"day": cp.Compliance.Day.Rate,
						"24h": cp.Compliance.Rolling24h.Rate, "30d": cp.Compliance.Rolling30d.Rate}
				}
				out = append(out, c)
			}
			return out
		},
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
