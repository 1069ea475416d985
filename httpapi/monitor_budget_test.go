package httpapi_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// P-2, issue 18: the job monitor carries the campaign's abandon budget per compliance window,
// computed from the answers and abandons written to PostgreSQL with the campaign's target and
// its answer classification's false-positive estimate: a window takes (target − f) ÷ (1 − f)
// recorded abandons per live answer. The calendar day is taken in the campaign's zone (Tokyo).
func TestMonitorAbandonBudget(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const target, fp = 0.05, 0.01
	camp := &cfg.Campaigns[0] // campaign 1, Asia/Tokyo
	camp.Pacing.TargetAbandonRate = target
	camp.AnswerAnalysis.Detector, camp.AnswerAnalysis.FalsePositiveEstimate = config.DetectorAVMD, fp
	now := at("2026-03-10 20:00")
	st := storetest.New(t)
	fx := storetest.AddReportFixture(t, st)
	desk := &memDesk{agents: map[int]agentstate.Agent{}}
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: st, Lists: st, Jobs: st, Desk: desk,
		Monitor: monitorSource{desk, st}, Now: func() time.Time { return now }})
	plain := httptest.NewServer(api.Handler())
	defer plain.Close()
	srv := httptest.NewServer(newValidator(t, loadOpenAPI(t, plain.URL)).wrap(api.Handler()))
	defer srv.Close()
	e := &env{t: t, srv: srv, store: st, cfg: cfg, now: now}
	path := fmt.Sprintf("/api/v1/call-jobs/%d/monitor", fx.Job1)

	empty := e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, path, nil).Body["abandon_budget"].(map[string]any)
	recorded := (target - fp) / (1 - fp)
	if empty["target_rate"] != target || !near(empty["recorded_target_rate"], recorded) || empty["remaining"] != 0.0 {
		t.Fatalf("budget of an empty record: %v", empty)
	}

	// Answers as the engine writes them when the calls end: today (Tokyo) 3 live, 1 abandoned;
	// yesterday evening 10 live; ten days ago 30 live; 40 days ago, outside every window, 2
	// abandons. A machine put through to an agent is no live answer.
	ctx := context.Background()
	answer := func(answered time.Time, outcome domain.Outcome, verdict string) {
		t.Helper()
		id := storetest.AddAttempt(t, st, fx.Batch1, answered.Add(-5*time.Second), "in_progress")
		var uuid string
		if err := st.DB().QueryRowContext(ctx, `SELECT channel_uuid FROM attempts WHERE id = $1`, id).Scan(&uuid); err != nil {
			t.Fatal(err)
		}
		end := store.AttemptEnd{ChannelUUID: uuid, Outcome: outcome, AnsweredAt: &answered, EndedAt: answered.Add(time.Minute)}
		if verdict != "" {
			end.Analysis = &store.AnswerVerdict{Result: verdict, Took: time.Second, MachineAction: "agent"}
		}
		if ok, err := st.FinishAttempt(ctx, end); err != nil || !ok {
			t.Fatalf("finish attempt %d: %v %v", id, ok, err)
		}
	}
	for i, n := range []struct {
		ago             time.Duration
		live, abandoned int
	}{{time.Hour, 3, 1}, {22 * time.Hour, 10, 0}, {10 * 24 * time.Hour, 30, 0}, {40 * 24 * time.Hour, 2, 2}} {
		for k := range n.live {
			outcome := domain.OutcomeConnected
			if k < n.abandoned {
				outcome = domain.OutcomeAbandoned
			}
			answer(now.Add(-n.ago).Add(time.Duration(k)*time.Second), outcome, "")
		}
		if i == 0 {
			answer(now.Add(-n.ago), domain.OutcomeConnected, "machine")
		}
	}

	got := e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, path, nil).Body["abandon_budget"].(map[string]any)
	for name, want := range map[string][3]float64{ // live, abandoned, remaining
		"day":         {3, 1, 3*recorded - 1},
		"rolling_24h": {13, 1, 13*recorded - 1},
		"rolling_30d": {43, 1, 43*recorded - 1},
	} {
		w := got[name].(map[string]any)
		if w["live"] != want[0] || w["abandoned"] != want[1] || !near(w["remaining"], want[2]) {
			t.Errorf("%s: %v, want live %v, abandoned %v, remaining %.4f", name, w, want[0], want[1], want[2])
		}
	}
	if !near(got["remaining"], 3*recorded-1) || got["target_rate"] != target {
		t.Errorf("budget %v: want remaining %.4f, the day's (the smallest)", got, 3*recorded-1)
	}
}

func near(v any, want float64) bool {
	f, ok := v.(float64)
	return ok && math.Abs(f-want) < 1e-9
}
