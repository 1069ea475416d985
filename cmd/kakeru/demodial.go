package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// demoDialing runs a call job for d: a generated Shift_JIS list of n numbers, a predictive job
// started by the admin, simulated agents working it through the API, a progress line every two
// seconds and a summary at the end.
func demoDialing(ctx context.Context, c *demoClient, m *Main, cfg *config.Config, n int, d time.Duration, w io.Writer) error {
	campaign, group := cfg.Campaigns[0], cfg.DialGroups[0]
	today := store.DateOf(m.Now(), campaign.Location)
	var b struct {
		ID int64 `json:"id"`
	}
	if err := c.must(ctx, http.StatusCreated, http.MethodPost, "/api/v1/batches", map[string]any{
		"name": "Demo dialing " + m.Now().Format("15:04:05"), "campaign_id": campaign.ID, "start_date": today.String()}, &b); err != nil {
		return err
	}
	if err := c.must(ctx, http.StatusOK, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", b.ID),
		map[string]any{"dial_group_ids": []int{group.ID}}, nil); err != nil {
		return err
	}
	var text strings.Builder
	text.WriteString("name,kana,tel,remarks\r\n")
	names := []string{"山田 太郎", "佐藤 花子", "鈴木 一郎", "髙橋 美咲", "渡辺 健"}
	for i := range n {
		fmt.Fprintf(&text, "%s,カナ,0%d0%08d,更新案内 第%d便\r\n", names[i%len(names)], 7+i%3, 50_000_000+i, 1+i%3)
	}
	var list struct {
		ID       int64 `json:"id"`
		RowCount int   `json:"row_count"`
	}
	if err := c.upload(ctx, http.StatusCreated, b.ID, "Dialing list", text.String(), &list); err != nil {
		return err
	}
	if err := c.must(ctx, http.StatusCreated, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/assignments", b.ID),
		map[string]any{"list_id": list.ID, "dial_group_id": group.ID, "count": list.RowCount}, nil); err != nil {
		return err
	}
	var job struct {
		ID          int64 `json:"id"`
		TargetCount int   `json:"target_count"`
	}
	if err := c.must(ctx, http.StatusCreated, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/call-jobs", b.ID), map[string]any{
		"name": "Demo predictive job", "list_id": list.ID, "dial_group_id": group.ID, "caller_id": campaign.CallerIDs[0]}, &job); err != nil {
		return err
	}
	if err := c.must(ctx, http.StatusOK, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", job.ID), nil, &job); err != nil {
		return err
	}
	stopPath := fmt.Sprintf("/api/v1/call-jobs/%d/stop", job.ID)
	stopped := false
	defer func() {
		if !stopped { // interrupted: the job must not be left running for the next instance to take
			_, _ = c.do(context.WithoutCancel(ctx), http.MethodPost, stopPath, nil, nil)
		}
	}()
	fmt.Fprintf(w, "\nDialing: batch %d, list of %d numbers (Shift_JIS), call job %d started (%s pacing, target %d); agents %v join through the API\n",
		b.ID, list.RowCount, job.ID, campaign.Pacing.Mode, job.TargetCount, group.AgentIDs)

	var codes []string
	for _, rc := range campaign.ResultCodes {
		codes = append(codes, rc.Code)
	}
	sim := &agentSim{base: c.base, job: job.ID, agents: group.AgentIDs, talk: 4 * time.Second, wrap: time.Second, codes: codes,
		token: func(id int) string { return fmt.Sprintf("demo-agent-%d-token", id) }}
	simCtx, stopSim := context.WithCancel(ctx)
	simDone := make(chan struct{})
	go func() { defer close(simDone); sim.run(simCtx) }()
	defer func() { stopSim(); <-simDone }()

	db := m.store.DB()
	start := time.Now()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for time.Since(start) < d {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		p := demoProgress(ctx, db, job.ID)
		pacing := "-"
		if v, ok := m.engine.Pacing(job.ID); ok && v.Decision.Reason != "" {
			pacing = v.Decision.Reason
		}
		fmt.Fprintf(w, "  %3ds  dialed %4d  in flight %3d  connected %4d  abandoned %3d (%.1f%% of live answers)  agents on call %d  pacing %s\n",
			int(time.Since(start).Seconds()), p.dialed, m.engine.CallsInFlight(), p.connected, p.abandoned, p.abandonRate()*100,
			demoOnCall(ctx, c, group.AgentIDs), pacing)
	}
	if err := c.must(ctx, http.StatusOK, http.MethodPost, stopPath, nil, nil); err != nil {
		return err
	}
	stopped = true
	fmt.Fprintf(w, "  job stopped; calls in progress finish (up to 30 s)…\n")
	for deadline := time.Now().Add(30 * time.Second); m.engine.CallsInFlight() > 0 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	stopSim()
	<-simDone
	return demoSummary(ctx, db, job.ID, sim.handled.Load(), w)
}

type progress struct{ dialed, connected, abandoned int }

func (p progress) abandonRate() float64 {
	if p.connected+p.abandoned == 0 {
		return 0
	}
	return float64(p.abandoned) / float64(p.connected+p.abandoned)
}

func demoProgress(ctx context.Context, db *sql.DB, job int64) progress {
	var p progress
	_ = db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE outcome = 'connected'),
		count(*) FILTER (WHERE outcome = 'abandoned') FROM attempts WHERE call_job_id = $1`, job).Scan(&p.dialed, &p.connected, &p.abandoned)
	return p
}

func demoOnCall(ctx context.Context, c *demoClient, agents []int) int {
	n := 0
	for _, id := range agents {
		var s struct {
			State domain.AgentState `json:"state"`
		}
		if code, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/agents/%d/session", id), nil, &s); err == nil && code == 200 && s.State == domain.AgentOnCall {
			n++
		}
	}
	return n
}

func demoSummary(ctx context.Context, db *sql.DB, job int64, saved int64, w io.Writer) error {
	rows, err := db.QueryContext(ctx, `SELECT outcome, count(*) FROM attempts WHERE call_job_id = $1 GROUP BY outcome ORDER BY count(*) DESC`, job)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintln(w, "\nSummary of the call job (every attempt recorded in PostgreSQL):")
	for rows.Next() {
		var outcome string
		var n int
		if err := rows.Scan(&outcome, &n); err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-16s %5d\n", outcome, n)
	}
	p := demoProgress(ctx, db, job)
	fmt.Fprintf(w, "  dispositions saved by the simulated agents: %d; abandon rate %.1f%% of live answers\n", saved, p.abandonRate()*100)
	return rows.Err()
}
