package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/store"
)

// runDemo starts an instance with the given configuration, walks through the API the way an
// operator would (readiness, status, campaigns, a batch created, assigned, changed, listed and
// deleted) and prints what the engine answered, then shuts the instance down.
func runDemo(ctx context.Context, cfgPath string, logger *slog.Logger, stdout, stderr io.Writer) int {
	m := NewMain(cfgPath, logger)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "kakeru demo:", err)
		return 1
	}
	err := demoWalkthrough(ctx, "http://"+m.Addr(), config.DemoAdminToken, m.Now, m.live.Current(), stdout)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "kakeru demo:", err)
		return 1
	}
	return 0
}

type demoClient struct {
	base, token string
	http        *http.Client
}

func (c *demoClient) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func (c *demoClient) must(ctx context.Context, want int, method, path string, body, out any) error {
	var raw json.RawMessage
	got, err := c.do(ctx, method, path, body, &raw)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s %s answered %d, want %d: %s", method, path, got, want, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func demoWalkthrough(ctx context.Context, base, token string, now func() time.Time, cfg *config.Config, w io.Writer) error {
	c := &demoClient{base: base, token: token, http: &http.Client{Timeout: 10 * time.Second}}
	fmt.Fprintf(w, "kakeru %s is serving on %s\n\n", version(), base)

	var ready struct {
		Status string   `json:"status"`
		Down   []string `json:"down"`
	}
	code, err := c.do(ctx, http.MethodGet, "/readyz", nil, &ready)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "GET /readyz → %d %s", code, ready.Status)
	if len(ready.Down) > 0 {
		fmt.Fprintf(w, "down: %v (no FreeSWITCH or simulated switch is listening yet; dialing arrives with the engine)", ready.Down)
	}
	fmt.Fprintln(w)

	var status struct {
		InstanceID  string `json:"instance_id"`
		JobsRunning int    `json:"jobs_running"`
		FreeSWITCH  []struct {
			Name      string `json:"name"`
			Connected bool   `json:"connected"`
		} `json:"freeswitch"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, "/api/v1/status", nil, &status); err != nil {
		return err
	}
	fmt.Fprintf(w, "GET /api/v1/status → instance %s, %d job(s) running, switch nodes %+v\n", status.InstanceID, status.JobsRunning, status.FreeSWITCH)

	var campaigns struct {
		Items []struct {
			ID            int    `json:"id"`
			Name          string `json:"name"`
			TimeZone      string `json:"time_zone"`
			BusinessHours struct{ Start, End string }
		} `json:"items"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, "/api/v1/campaigns", nil, &campaigns); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCampaigns (from config.example.yaml):")
	for _, cp := range campaigns.Items {
		fmt.Fprintf(w, "  %d  %-20s %s\n", cp.ID, cp.Name, cp.TimeZone)
	}

	campaign := cfg.Campaigns[0]
	today := store.DateOf(now(), campaign.Location)
	fmt.Fprintf(w, "\nB-2 with history retention R = %d days, start %s (today in %s):\n", cfg.System.HistoryRetentionDays, today, campaign.TimeZone)
	type batch struct {
		ID                int    `json:"id"`
		Name              string `json:"name"`
		StartDate         string `json:"start_date"`
		EndDate           string `json:"end_date"`
		DeleteDate        string `json:"delete_date"`
		HistoryDeleteDate string `json:"history_delete_date"`
		DialGroupIDs      []int  `json:"dial_group_ids"`
	}
	var b batch
	if err := c.must(ctx, http.StatusCreated, http.MethodPost, "/api/v1/batches", map[string]any{
		"name": "Demo " + now().Format("2006-01-02 15:04:05"), "campaign_id": campaign.ID,
		"start_date": today.String(), "memo": "created by kakeru demo",
	}, &b); err != nil {
		return err
	}
	fmt.Fprintf(w, "  POST /api/v1/batches → 201 batch %d: end %s, deletion %s, history deletion %s\n", b.ID, b.EndDate, b.DeleteDate, b.HistoryDeleteDate)

	tooLate := today.AddDays(cfg.System.HistoryRetentionDays - 90).String()
	var refusal struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	code, err = c.do(ctx, http.MethodPatch, fmt.Sprintf("/api/v1/batches/%d", b.ID), map[string]any{"end_date": tooLate}, &refusal)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  PATCH end_date %s → %d %s: %s\n", tooLate, code, refusal.Error.Code, refusal.Error.Message)

	if err := c.must(ctx, http.StatusOK, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", b.ID),
		map[string]any{"dial_group_ids": []int{cfg.DialGroups[0].ID}}, &b); err != nil {
		return err
	}
	fmt.Fprintf(w, "  PUT dial-groups → dial groups %v\n", b.DialGroupIDs)

	var list struct {
		Items []batch `json:"items"`
		Total int     `json:"total"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, fmt.Sprintf("/api/v1/batches?campaign_id=%d", campaign.ID), nil, &list); err != nil {
		return err
	}
	fmt.Fprintf(w, "  GET /api/v1/batches → %d batch(es) in campaign %d\n", list.Total, campaign.ID)

	if err := c.must(ctx, http.StatusNoContent, http.MethodDelete, fmt.Sprintf("/api/v1/batches/%d", b.ID), nil, nil); err != nil {
		return err
	}
	var deletions struct {
		Items []struct {
			BatchID   int64  `json:"batch_id"`
			DeletedBy string `json:"deleted_by"`
			Reason    string `json:"reason"`
		} `json:"items"`
	}
	if err := c.must(ctx, http.StatusOK, http.MethodGet, "/api/v1/batch-deletions", nil, &deletions); err != nil {
		return err
	}
	fmt.Fprintf(w, "  DELETE batch %d → 204; deletion record kept: %+v\n", b.ID, deletions.Items[0])
	fmt.Fprintln(w, "\nDemo finished: the engine answered every call above and shut down cleanly.")
	return nil
}
