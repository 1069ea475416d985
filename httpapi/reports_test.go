package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// newReportEnv serves the API over the report fixture (storetest.AddReportFixture): campaign 1
// in Asia/Tokyo, campaign 2 switched to UTC; the clock is 2026-03-10 20:00 Tokyo (11:00 UTC), so
// "today" is 2026-03-10 in both zones.
func newReportEnv(t *testing.T) (*env, storetest.ReportFixture) {
	t.Helper()
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Campaigns[1].TimeZone, cfg.Campaigns[1].Location = "UTC", time.UTC
	e := &env{t: t, store: storetest.New(t), cfg: cfg, now: at("2026-03-10 20:00")}
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: e.store, Jobs: e.store,
		Reports: e.store, Now: func() time.Time { return e.now },
		Status: func(context.Context) (httpapi.Status, error) { return httpapi.Status{Version: "test"}, nil }})
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	return e, storetest.AddReportFixture(t, e.store)
}

func num(t *testing.T, m any, path ...string) float64 {
	t.Helper()
	for _, k := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			t.Fatalf("no %s in %v", k, m)
		}
		m = mm[k]
	}
	v, ok := m.(float64)
	if !ok {
		t.Fatalf("%v: %v is not a number", path, m)
	}
	return v
}

func TestReportSummaryAPI(t *testing.T) {
	e, fx := newReportEnv(t)
	r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/reports/summary?campaign_id=1&from=2026-03-10&to=2026-03-10", nil)
	for k, want := range map[string]float64{"dialed": 30, "answered": 10, "connected": 8, "abandoned": 2, "abandon_rate": 0.2,
		"machine": 3, "no_answer": 7, "busy": 4, "rejected": 2, "invalid_number": 1, "network_failure": 1, "cancelled": 1,
		"in_progress": 1, "no_disposition": 1} {
		if got := num(t, r.Body, "totals", k); got != want {
			t.Errorf("totals.%s = %v, want %v", k, got, want)
		}
	}
	camps := r.Body["campaigns"].([]any)
	c := camps[0].(map[string]any)
	if len(camps) != 1 || c["time_zone"] != "Asia/Tokyo" || c["from"] != "2026-03-10T00:00:00+09:00" ||
		c["to"] != "2026-03-11T00:00:00+09:00" || c["from_date"] != "2026-03-10" || c["to_date"] != "2026-03-10" {
		t.Errorf("campaigns: %v", camps)
	}
	// Configured codes in order, with zeros.
	var codes []string
	for _, rc := range r.Body["result_codes"].([]any) {
		m := rc.(map[string]any)
		codes = append(codes, fmt.Sprintf("%s/%s=%v", m["code"], m["label"], m["count"]))
	}
	want := []string{"interested/興味あり=3", "not_interested/興味なし=2", "call_back_later/後でかけ直し=1", "wrong_number/番号違い=0", "do_not_call/発信停止希望=1"}
	if !reflect.DeepEqual(codes, want) {
		t.Errorf("result codes %v, want %v", codes, want)
	}
	agents := r.Body["agents"].([]any)
	if len(agents) != 2 {
		t.Fatalf("agents: %v", agents)
	}
	a := agents[0].(map[string]any)
	for k, want := range map[string]any{"agent_id": 1001.0, "name": "Agent 1001", "calls": 5.0, "talk_seconds": 540.0,
		"avg_talk_seconds": 108.0, "wait_seconds": 695.0, "waits": 4.0, "avg_wait_seconds": 173.8, "wrap_up_seconds": 90.0,
		"wrap_ups": 3.0, "avg_wrap_up_seconds": 30.0} {
		if a[k] != want {
			t.Errorf("agent 1001 %s = %v, want %v", k, a[k], want)
		}
	}
	if b := agents[1].(map[string]any); b["avg_wrap_up_seconds"] != 21.7 || b["avg_wait_seconds"] != 40.0 {
		t.Errorf("agent 1002: %v", b)
	}
	if days := r.Body["by_day"].([]any); len(days) != 1 || days[0].(map[string]any)["date"] != "2026-03-10" {
		t.Errorf("by_day: %v", days)
	}
	// Issue 16: the desk (storetest's addDeskFixture); the skipped preview counts only there.
	desk, _ := r.Body["desk"].(map[string]any)
	if want := map[string]any{"manual_dials": 1.0, "preview_dials": 1.0, "preview_skips": map[string]any{"not_now": 1.0},
		"holds": 1.0, "transfers_completed": 1.0, "conferences": 1.0}; !reflect.DeepEqual(desk, want) {
		t.Errorf("desk %v, want %v", desk, want)
	}
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/reports/summary?campaign_id=2&from=2026-03-10&to=2026-03-10", nil)
	if want := map[string]any{"manual_dials": 0.0, "preview_dials": 0.0, "preview_skips": map[string]any{},
		"holds": 0.0, "transfers_completed": 0.0, "conferences": 0.0}; !reflect.DeepEqual(r.Body["desk"], want) {
		t.Errorf("campaign 2's desk %v, want %v", r.Body["desk"], want)
	}

	// No filter, no dates: every campaign on its own today (Tokyo 03-10 and UTC 03-10).
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/reports/summary", nil)
	if got := num(t, r.Body, "totals", "dialed"); got != 42 || len(r.Body["campaigns"].([]any)) != 2 {
		t.Errorf("all campaigns today: dialed %v, campaigns %v", got, r.Body["campaigns"])
	}
	if c := r.Body["campaigns"].([]any)[1].(map[string]any); c["time_zone"] != "UTC" || num(t, c, "totals", "dialed") != 12 {
		t.Errorf("campaign 2: %v", c)
	}
	// A batch of campaign 2 resolves the UTC zone; over three days it has all 16 attempts.
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/reports/summary?batch_id=%d&from=2026-03-09&to=2026-03-11", fx.Batch2), nil)
	if got := num(t, r.Body, "totals", "dialed"); got != 16 || len(r.Body["by_day"].([]any)) != 3 {
		t.Errorf("batch 2: %s", r.Raw)
	}
	// Instants: campaign 1 over the UTC day.
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/reports/summary?campaign_id=1&from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z", nil)
	if got := num(t, r.Body, "totals", "dialed"); got != 25 || r.Body["range_kind"] != "time" {
		t.Errorf("campaign 1 over the UTC day: %s", r.Raw)
	}
	// The job and the agent filters.
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/reports/summary?call_job_id=%d&agent_id=1002", fx.Job1), nil)
	if got := num(t, r.Body, "totals", "connected"); got != 3 {
		t.Errorf("agent 1002 in job 1: %s", r.Raw)
	}
	// Only from: through today; a from in the future is a bad range.
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/reports/summary?campaign_id=1&from=2026-03-09", nil)
	if got := num(t, r.Body, "totals", "dialed"); got != 33 {
		t.Errorf("from 03-09 through today: %v", got)
	}
}

// X-1 on both report endpoints.
func TestReportRoles(t *testing.T) {
	e, fx := newReportEnv(t)
	queries := []struct {
		query    string
		campaign int // 0: none given, the caller's own campaigns
	}{
		{"campaign_id=1", 1},
		{fmt.Sprintf("batch_id=%d", fx.Batch1), 1},
		{fmt.Sprintf("call_job_id=%d", fx.Job1), 1},
		{fmt.Sprintf("batch_id=%d", fx.Batch2), 2},
		{fmt.Sprintf("call_job_id=%d&campaign_id=2", fx.Job2), 2},
		{"batch_id=987654", -1},    // missing
		{"call_job_id=987654", -1}, // missing
		{"campaign_id=99", -1},     // not configured
		{"", 0},
	}
	callers := []struct {
		name, token string
		campaigns   []int // nil: all
		refusal     int
	}{
		{"no token", "", []int{}, http.StatusUnauthorized},
		{"agent", agentToken, []int{}, http.StatusForbidden},
		{"supervisor 1", supervisorToken, []int{1}, http.StatusForbidden},
		{"supervisor 2", supervisor2Token, []int{2}, http.StatusForbidden},
		{"admin", adminToken, nil, 0},
	}
	for _, ep := range []string{"/api/v1/reports/summary", "/api/v1/reports/results.csv"} {
		for _, q := range queries {
			for _, c := range callers {
				t.Run(ep+"?"+q.query+" as "+c.name, func(t *testing.T) {
					allowed := c.campaigns == nil || q.campaign == 0 && len(c.campaigns) > 0
					for _, id := range c.campaigns {
						allowed = allowed || id == q.campaign
					}
					want := http.StatusOK
					switch {
					case c.refusal == http.StatusUnauthorized || c.token == agentToken:
						want = c.refusal
					case q.campaign == -1 && c.campaigns == nil:
						want = http.StatusNotFound
					case !allowed:
						want = c.refusal
					}
					r := e.mustCall(want, c.token, http.MethodGet, ep+"?"+q.query, nil)
					if want >= 400 && r.errorCode() == "" {
						t.Fatalf("refusal without an error code: %s", r.Raw)
					}
					if want != http.StatusOK || q.campaign != 0 || c.campaigns == nil || !strings.HasSuffix(ep, "summary") {
						return
					}
					camps := r.Body["campaigns"].([]any)
					if len(camps) != 1 || camps[0].(map[string]any)["campaign_id"] != float64(c.campaigns[0]) {
						t.Fatalf("supervisor of %v sees %v", c.campaigns, camps)
					}
				})
			}
		}
	}
	// The CSV of a supervisor without filters holds only its campaign's rows.
	r := e.mustCall(http.StatusOK, supervisor2Token, http.MethodGet, "/api/v1/reports/results.csv", nil)
	if rows := readCSV(t, r.Raw); len(rows) != 13 || rows[1][3] != "2" {
		t.Fatalf("supervisor 2's CSV: %d rows, first %v", len(rows), rows[1])
	}
}

func TestReportBadParameters(t *testing.T) {
	e, fx := newReportEnv(t)
	cases := []struct {
		query  string
		status int
		code   string
	}{
		{"campaign_id=abc", http.StatusBadRequest, "bad_query"},
		{"batch_id=-1", http.StatusBadRequest, "bad_query"},
		{"agent_id=0", http.StatusBadRequest, "bad_query"},
		{"from=2026-13-01", http.StatusUnprocessableEntity, "invalid_date"},
		{"to=yesterday", http.StatusUnprocessableEntity, "invalid_date"},
		{"from=2026-03-10T25:00:00Z", http.StatusUnprocessableEntity, "invalid_date"},
		{"from=2026-03-11&to=2026-03-10", http.StatusUnprocessableEntity, "invalid_range"},
		{"from=2026-03-11", http.StatusUnprocessableEntity, "invalid_range"}, // after today
		{"from=2026-03-10&to=2026-03-11T00:00:00Z", http.StatusUnprocessableEntity, "invalid_range"},
		{"from=2026-03-10T10:00:00Z&to=2026-03-10T10:00:00Z", http.StatusUnprocessableEntity, "invalid_range"},
		{fmt.Sprintf("batch_id=%d&call_job_id=%d", fx.Batch1, fx.Job2), http.StatusUnprocessableEntity, "inconsistent_filter"},
		{fmt.Sprintf("campaign_id=2&batch_id=%d", fx.Batch1), http.StatusUnprocessableEntity, "inconsistent_filter"},
	}
	for _, ep := range []string{"/api/v1/reports/summary", "/api/v1/reports/results.csv"} {
		for _, c := range cases {
			r := e.mustCall(c.status, adminToken, http.MethodGet, ep+"?"+c.query, nil)
			if r.errorCode() != c.code {
				t.Errorf("%s?%s: %s, want %s", ep, c.query, r.Raw, c.code)
			}
		}
	}
	r := e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodGet, "/api/v1/reports/results.csv?encoding=latin1", nil)
	if r.errorCode() != "invalid_input" {
		t.Errorf("bad encoding: %s", r.Raw)
	}
	e.mustCall(http.StatusMethodNotAllowed, adminToken, http.MethodPost, "/api/v1/reports/summary", nil)
}

// readCSV parses results.csv in UTF-8 after checking its BOM and CRLF record ends.
func readCSV(t *testing.T, raw []byte) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(raw, []byte("\uFEFF"))
	if !ok {
		t.Fatalf("no byte order mark: %q", raw[:min(len(raw), 20)])
	}
	rd := csv.NewReader(bytes.NewReader(body))
	rows, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	if n := bytes.Count(body, []byte("\r\n")); n != len(rows) {
		t.Fatalf("%d CRLF for %d records", n, len(rows))
	}
	return rows
}

func TestReportResultsCSV(t *testing.T) {
	e, fx := newReportEnv(t)
	// Issue 15: X1 was recorded (61.5 s) after the detector heard a person.
	if _, err := e.store.DB().Exec(`UPDATE attempts SET amd_result = 'human', amd_detail = 'silence', amd_ms = 900,
		recording_path = '1/x1.wav', recording_started_at = started_at, recording_ms = 61500 WHERE id = $1`, fx.Attempts["X1"]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.DB().Exec(`UPDATE attempts SET amd_result = 'machine', amd_detail = 'beep', amd_ms = 2100,
		machine_action = 'agent' WHERE id = $1`, fx.Attempts["X2"]); err != nil {
		t.Fatal(err)
	}
	get := func(query string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/reports/results.csv?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+supervisorToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		return resp, b
	}
	resp, utf := get("campaign_id=1&from=2026-03-10&to=2026-03-10")
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=UTF-8" {
		t.Errorf("content type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "results_20260310_20260310.csv") {
		t.Errorf("content disposition %q", cd)
	}
	rows := readCSV(t, utf)
	if len(rows) != 31 {
		t.Fatalf("%d rows, want the header and 30", len(rows))
	}
	if rows[0][0] != "発信ID" || rows[0][20] != "メモ" || rows[0][23] != "録音秒数" || rows[0][len(rows[0])-1] != "操作履歴" || len(rows[0]) != 26 {
		t.Fatalf("header %v", rows[0])
	}
	byID := map[string][]string{}
	for _, row := range rows[1:] {
		if len(row) != 26 {
			t.Fatalf("row of %d cells: %v", len(row), row)
		}
		byID[row[0]] = row
	}
	x1 := byID[fmt.Sprint(fx.Attempts["X1"])]
	wantX1 := []string{fmt.Sprint(fx.Attempts["X1"]), "2026-03-10 00:00:00", "Asia/Tokyo", "1", fmt.Sprint(fx.Batch1),
		"March Asia/Tokyo", fmt.Sprint(fx.Job1), "job Asia/Tokyo", "09000010001", "'=cmd|' /C calc'!A0", "connected",
		"NORMAL_CLEARING", "1001", "Agent 1001", "120", "self", "interested", "興味あり", "complete", "", "'=1+2", "human", "", "62",
		"paced", "hold@00:00:40;unhold@00:00:50;consult:agent:1002@00:01:00;transferred:agent:1002@00:01:20"}
	if !reflect.DeepEqual(x1, wantX1) {
		t.Errorf("X1 row:\n got %q\nwant %q", x1, wantX1)
	}
	if x2 := byID[fmt.Sprint(fx.Attempts["X2"])]; x2[21] != "machine" || x2[22] != "agent" || x2[23] != "" {
		t.Errorf("X2 analysis and recording cells %q", x2[21:])
	}
	// Issue 16: the dial kind, and no steps but an empty cell; the skipped preview P1 has no row.
	if x2, y1 := byID[fmt.Sprint(fx.Attempts["X2"])], byID[fmt.Sprint(fx.Attempts["Y1"])]; x2[24] != "manual" || x2[25] != "" ||
		y1[24] != "preview" || y1[25] != "conference:number:0312340000@12:00:10;conference_joined:number:0312340000@12:00:15" {
		t.Errorf("desk cells: X2 %q, Y1 %q", x2[24:], y1[24:])
	}
	if _, ok := byID[fmt.Sprint(fx.Attempts["P1"])]; ok {
		t.Error("the skipped preview has a row")
	}
	if m := byID[fmt.Sprint(fx.Attempts["X2"])][20]; m != "'+81 へ転送" {
		t.Errorf("X2 memo %q", m)
	}
	if m := byID[fmt.Sprint(fx.Attempts["Y1"])][20]; m != "'@SUM(A1)" {
		t.Errorf("Y1 memo %q", m)
	}
	y2 := byID[fmt.Sprint(fx.Attempts["Y2"])]
	if y2[9] != "髙橋花子" || y2[20] != "'-5 は「髙橋」様\n二行目, \"引用\"" {
		t.Errorf("Y2 name %q memo %q", y2[9], y2[20])
	}
	if x4 := byID[fmt.Sprint(fx.Attempts["X4"])]; x4[18] != "callback" || x4[19] != "2026-03-11 11:00:00" {
		t.Errorf("X4 next action %q callback at %q", x4[18], x4[19])
	}
	if x3 := byID[fmt.Sprint(fx.Attempts["X3"])]; x3[15] != "" || x3[16] != "" {
		t.Errorf("X3 without disposition: %q", x3)
	}

	// Shift_JIS: the same text, no BOM, 髙 as Excel writes it (FB FC).
	resp, sj := get("campaign_id=1&from=2026-03-10&to=2026-03-10&encoding=sjis")
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=Shift_JIS" {
		t.Errorf("content type %q", ct)
	}
	if !bytes.Contains(sj, []byte{0xfb, 0xfc}) {
		t.Error("髙 is not written as the IBM extension code FB FC")
	}
	decoded, err := japanese.ShiftJIS.NewDecoder().Bytes(sj)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.TrimPrefix(utf, []byte("\uFEFF")); !bytes.Equal(decoded, want) {
		t.Errorf("Shift_JIS decodes to\n%s\nwant\n%s", decoded, want)
	}

	// An empty range is the header alone.
	_, empty := get("campaign_id=1&from=2026-01-01&to=2026-01-02")
	if rows := readCSV(t, empty); len(rows) != 1 {
		t.Errorf("empty range: %v", rows)
	}
}
