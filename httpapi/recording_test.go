package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// recEnv serves the API over the report fixture with a recordings directory and a desk.
type recEnv struct {
	*env
	fx   storetest.ReportFixture
	dir  string
	desk *memDesk
}

func newRecEnv(t *testing.T) *recEnv {
	t.Helper()
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "recordings")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.FreeSWITCH.Recordings.Directory = dir
	e := &recEnv{env: &env{t: t, store: storetest.New(t), cfg: cfg, now: at("2026-03-10 20:00")}, dir: dir,
		desk: &memDesk{agents: map[int]agentstate.Agent{}}}
	e.fx = storetest.AddReportFixture(t, e.store)
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: e.store, Jobs: e.store,
		Desk: e.desk, Now: func() time.Time { return e.now }})
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// record stores a recording of the attempt at path and writes its file (unless content is nil).
func (e *recEnv) record(attempt int64, path string, content []byte) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.store.StartRecording(ctx, attempt, path, e.now.Add(-time.Hour)); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.FinishRecording(ctx, attempt, 90*time.Second, int64(len(content))); err != nil {
		e.t.Fatal(err)
	}
	if content == nil {
		return
	}
	name := filepath.Join(e.dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(name, content, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// get fetches a recording with extra headers and returns the answer and its body.
func (e *recEnv) get(method, token string, attempt int64, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, fmt.Sprintf("%s/api/v1/attempts/%d/recording", e.srv.URL, attempt), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *recEnv) campaign(id int) *config.Campaign {
	for i := range e.cfg.Campaigns {
		if e.cfg.Campaigns[i].ID == id {
			return &e.cfg.Campaigns[i]
		}
	}
	e.t.Fatalf("no campaign %d", id)
	return nil
}

var wav = []byte("RIFF\x24\x00\x00\x00WAVEfmt recorded call audio")

// Issue 15: a recording is read by whoever may read its attempt (X-1, as for the disposition):
// admins any, supervisors their campaigns', agents the calls they took; a missing attempt is a
// 404 to an admin and a 403 to the others.
func TestRecordingRoleMatrix(t *testing.T) {
	e := newRecEnv(t)
	x1, y1, z1 := e.fx.Attempts["X1"], e.fx.Attempts["Y1"], e.fx.Attempts["Z1"] // agents 1001, 1002 (campaign 1); 1003 (campaign 2)
	e.record(x1, "1/2026-03-09/x1.wav", wav)
	e.record(y1, "1/2026-03-10/y1.wav", wav)
	e.record(z1, "2/2026-03-10/z1.wav", wav)
	const agent2 = "demo-agent-1002-token"
	cases := []struct {
		token   string
		attempt int64
		want    int
	}{
		{adminToken, x1, 200}, {adminToken, z1, 200}, {adminToken, 999999, 404},
		{supervisorToken, x1, 200}, {supervisorToken, y1, 200}, {supervisorToken, z1, 403}, {supervisorToken, 999999, 403},
		{supervisor2Token, x1, 403}, {supervisor2Token, z1, 200},
		{agentToken, x1, 200}, {agentToken, y1, 403}, {agentToken, z1, 403}, {agentToken, 999999, 403},
		{agent2, y1, 200}, {agent2, x1, 403},
	}
	for _, c := range cases {
		resp, body := e.get(http.MethodGet, c.token, c.attempt, nil)
		if resp.StatusCode != c.want {
			t.Errorf("%s reading attempt %d's recording: %d, want %d: %s", c.token, c.attempt, resp.StatusCode, c.want, body)
		}
		if c.want == 200 && string(body) != string(wav) {
			t.Errorf("%s reading attempt %d's recording: body %q", c.token, c.attempt, body)
		}
	}
	if resp, _ := e.get(http.MethodGet, "", x1, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d", resp.StatusCode)
	}
	if r := e.call(adminToken, http.MethodGet, "/api/v1/attempts/999999/recording", nil); r.errorCode() != "not_found" {
		t.Errorf("no such attempt: %s", r.Raw)
	}
}

// Players seek with Range requests and revalidate with If-Modified-Since; HEAD answers the
// headers; the type follows the file's format and the file is shown inline under its name.
func TestRecordingServesRangesAndTypes(t *testing.T) {
	e := newRecEnv(t)
	x1, x2 := e.fx.Attempts["X1"], e.fx.Attempts["X2"]
	e.record(x1, "1/2026-03-09/x1.wav", wav)
	mp3 := []byte("ID3\x04\x00\x00\x00\x00\x00\x00mp3 frames")
	e.record(x2, "1/2026-03-09/x2.mp3", mp3)

	resp, body := e.get(http.MethodGet, adminToken, x1, nil)
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("Content-Type") != "audio/wav" || h.Get("Accept-Ranges") != "bytes" ||
		h.Get("Content-Disposition") != fmt.Sprintf(`inline; filename=attempt-%d.wav`, x1) || h.Get("Last-Modified") == "" ||
		h.Get("Content-Length") != fmt.Sprint(len(wav)) || string(body) != string(wav) {
		t.Fatalf("GET: %d %v %q", resp.StatusCode, h, body)
	}
	resp, body = e.get(http.MethodGet, adminToken, x1, map[string]string{"Range": "bytes=4-7"})
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(wav[4:8]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 4-7/%d", len(wav)) {
		t.Fatalf("range: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, _ = e.get(http.MethodGet, adminToken, x1, map[string]string{"Range": "bytes=9999-"})
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("range past the end: %d", resp.StatusCode)
	}
	resp, _ = e.get(http.MethodGet, adminToken, x1, map[string]string{"If-Modified-Since": h.Get("Last-Modified")})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-Modified-Since: %d", resp.StatusCode)
	}
	resp, body = e.get(http.MethodHead, adminToken, x1, nil)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Length") != fmt.Sprint(len(wav)) {
		t.Fatalf("HEAD: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = e.get(http.MethodGet, agentToken, x2, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/mpeg" || string(body) != string(mp3) ||
		!strings.HasSuffix(resp.Header.Get("Content-Disposition"), ".mp3") {
		t.Fatalf("mp3: %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

// The answers when there is nothing to play: never a 500.
func TestRecordingUnavailable(t *testing.T) {
	e := newRecEnv(t)
	ctx := context.Background()
	y1, x2, x4 := e.fx.Attempts["Y1"], e.fx.Attempts["X2"], e.fx.Attempts["X4"]
	code := func(attempt int64, want int, wantCode string) {
		t.Helper()
		r := e.call(adminToken, http.MethodGet, fmt.Sprintf("/api/v1/attempts/%d/recording", attempt), nil)
		if r.Status != want || r.errorCode() != wantCode {
			t.Fatalf("attempt %d: %d %s, want %d %s", attempt, r.Status, r.Raw, want, wantCode)
		}
	}
	code(y1, http.StatusNotFound, "no_recording")
	// Recorded, but the file is gone (deleted by hand, storage replaced).
	e.record(x2, "1/2026-03-09/x2.wav", nil)
	code(x2, http.StatusNotFound, "recording_missing")
	// A stored path that leads outside the directory is never followed.
	if err := os.WriteFile(filepath.Join(filepath.Dir(e.dir), "secret.wav"), wav, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.DB().ExecContext(ctx, `UPDATE attempts SET recording_path = '../secret.wav' WHERE id = $1`, x2); err != nil {
		t.Fatal(err)
	}
	code(x2, http.StatusNotFound, "recording_missing")

	// The call is going on: 409, and after it ended without the recording's end reported, 409
	// for the settling time, then served.
	live := storetest.AddAttempt(t, e.store, e.fx.Batch1, e.now.Add(-time.Minute), "in_progress")
	if err := e.store.StartRecording(ctx, live, "1/2026-03-10/live.wav", e.now.Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(e.dir, "1/2026-03-10"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "1/2026-03-10/live.wav"), wav, 0o644); err != nil {
		t.Fatal(err)
	}
	code(live, http.StatusConflict, "recording_in_progress")
	if _, err := e.store.DB().ExecContext(ctx, `UPDATE attempts SET outcome = 'connected', ended_at = $2 WHERE id = $1`, live, e.now); err != nil {
		t.Fatal(err)
	}
	code(live, http.StatusConflict, "recording_in_progress")
	e.now = e.now.Add(30 * time.Second)
	if r := e.call(adminToken, http.MethodGet, fmt.Sprintf("/api/v1/attempts/%d/recording", live), nil); r.Status != 200 {
		t.Fatalf("settled recording: %d %s", r.Status, r.Raw)
	}

	// The directory itself is gone (storage not mounted): the dependency is down.
	e.record(x4, "1/2026-03-10/x4.wav", wav)
	if err := os.RemoveAll(e.dir); err != nil {
		t.Fatal(err)
	}
	code(x4, http.StatusServiceUnavailable, "dependency_down")
}

// The attempt's JSON carries the verdict and the recording's link (issue 15).
func TestAttemptJSONAnalysisAndRecording(t *testing.T) {
	e := newRecEnv(t)
	ctx := context.Background()
	x1 := e.fx.Attempts["X1"]
	e.record(x1, "1/2026-03-09/x1.mp3", wav)
	if _, err := e.store.DB().ExecContext(ctx, `UPDATE attempts SET amd_result = 'human', amd_detail = 'silence', amd_ms = 1240
		WHERE id = $1`, x1); err != nil {
		t.Fatal(err)
	}
	var contact int64
	if err := e.store.DB().QueryRowContext(ctx, `SELECT contact_id FROM attempts WHERE id = $1`, x1).Scan(&contact); err != nil {
		t.Fatal(err)
	}
	r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/contacts/%d/attempts", contact), nil)
	var got, other map[string]any
	for _, it := range r.Body["items"].([]any) {
		a := it.(map[string]any)
		if int64(a["id"].(float64)) == x1 {
			got = a
		} else {
			other = a
		}
	}
	an, _ := got["answer_analysis"].(map[string]any)
	rec, _ := got["recording"].(map[string]any)
	if an == nil || an["result"] != "human" || an["detail"] != "silence" || an["took_ms"] != 1240.0 || an["machine_action"] != nil ||
		an["voicemail_at"] != nil {
		t.Errorf("answer_analysis: %v", got["answer_analysis"])
	}
	if rec == nil || rec["url"] != fmt.Sprintf("/api/v1/attempts/%d/recording", x1) || rec["format"] != "mp3" ||
		rec["duration_ms"] != 90000.0 || rec["bytes"] != float64(len(wav)) || rec["started_at"] == nil {
		t.Errorf("recording: %v", got["recording"])
	}
	if other != nil {
		if v, ok := other["recording"]; !ok || v != nil {
			t.Errorf("attempt without a recording: %v", other)
		}
	}

	// An unsaved disposition offers its call's recording, to listen to before saving.
	x3 := e.fx.Attempts["X3"]
	e.record(x3, "1/2026-03-10/x3.wav", wav)
	r = e.mustCall(http.StatusOK, agentToken, http.MethodGet, "/api/v1/unsaved-dispositions", nil)
	found := false
	for _, it := range r.Body["items"].([]any) {
		u := it.(map[string]any)
		rec, _ := u["recording"].(map[string]any)
		if int64(u["attempt_id"].(float64)) == x3 {
			found = rec != nil && rec["url"] == fmt.Sprintf("/api/v1/attempts/%d/recording", x3)
		} else if v, ok := u["recording"]; !ok || v != nil {
			t.Errorf("unsaved disposition without a recording: %v", u)
		}
	}
	if !found {
		t.Errorf("unsaved disposition of attempt %d without its recording: %s", x3, r.Raw)
	}
}

// An agent on a call asks for it to be recorded; the campaign must record (issue 15).
func TestRecordCallRequest(t *testing.T) {
	e := newRecEnv(t)
	const path = "/api/v1/agents/1001/record"
	want := func(token string, status int, code string) {
		t.Helper()
		r := e.call(token, http.MethodPost, path, nil)
		if r.Status != status || code != "" && r.errorCode() != code {
			t.Fatalf("POST %s: %d %s, want %d %s", path, r.Status, r.Raw, status, code)
		}
	}
	_ = e.desk.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentAvailable, Since: e.now, CallJobID: e.fx.Job1})
	want(agentToken, http.StatusConflict, "agent_not_on_call")
	_ = e.desk.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentOnCall, Since: e.now, CallJobID: e.fx.Job1,
		AttemptID: e.fx.Attempts["X3"]})
	want(agentToken, http.StatusConflict, "recording_not_available") // campaign 1 records nothing
	e.campaign(1).Recording.Mode = config.RecordingOnRequest
	want("demo-agent-1002-token", http.StatusForbidden, "forbidden")
	want(supervisor2Token, http.StatusForbidden, "forbidden")
	want(agentToken, http.StatusAccepted, "")
	e.campaign(1).Recording.Mode = config.RecordingAll // records already: accepted all the same
	want(supervisorToken, http.StatusAccepted, "")
	e.desk.mu.Lock()
	defer e.desk.mu.Unlock()
	if len(e.desk.queued) != 2 || e.desk.queued[0].Kind != domain.RequestRecordCall || e.desk.queued[0].AgentID != 1001 {
		t.Fatalf("queued %+v", e.desk.queued)
	}
}

// The agent stops its call's recording (a card number read out): the same callers and answers
// as asking for it, queued as stop_recording.
func TestStopRecordingRequest(t *testing.T) {
	e := newRecEnv(t)
	const path = "/api/v1/agents/1001/record"
	want := func(token string, status int, code string) {
		t.Helper()
		r := e.call(token, http.MethodDelete, path, nil)
		if r.Status != status || code != "" && r.errorCode() != code {
			t.Fatalf("DELETE %s: %d %s, want %d %s", path, r.Status, r.Raw, status, code)
		}
	}
	_ = e.desk.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentWrapUp, Since: e.now, CallJobID: e.fx.Job1,
		AttemptID: e.fx.Attempts["X3"]})
	want(agentToken, http.StatusConflict, "agent_not_on_call")
	_ = e.desk.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentOnCall, Since: e.now, CallJobID: e.fx.Job1,
		AttemptID: e.fx.Attempts["X3"]})
	want(agentToken, http.StatusConflict, "recording_not_available")
	e.campaign(1).Recording.Mode = config.RecordingOnRequest
	want("demo-agent-1002-token", http.StatusForbidden, "forbidden")
	want(agentToken, http.StatusAccepted, "")
	e.desk.mu.Lock()
	defer e.desk.mu.Unlock()
	if len(e.desk.queued) != 1 || e.desk.queued[0].Kind != domain.RequestStopRecording || e.desk.queued[0].AgentID != 1001 {
		t.Fatalf("queued %+v", e.desk.queued)
	}
}

// B-6: deleting a batch deletes its recordings; other files stay.
func TestDeleteBatchRemovesRecordings(t *testing.T) {
	e := newRecEnv(t)
	ctx := context.Background()
	b, err := e.store.CreateBatch(ctx, store.NewBatch{CampaignID: 1, Name: "Short", Location: tokyo, Start: store.MustDate("2026-03-10"),
		CreatedBy: "admin", RetentionDays: 180, MaxBatches: 100}, e.now)
	if err != nil {
		t.Fatal(err)
	}
	a := storetest.AddAttempt(t, e.store, b.ID, e.now.Add(-2*time.Hour), "no_answer")
	e.record(a, "1/2026-03-10/gone.wav", wav)
	e.record(e.fx.Attempts["X1"], "1/2026-03-10/kept.wav", wav)
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/batches/%d", b.ID), nil)
	if _, err := os.Stat(filepath.Join(e.dir, "1/2026-03-10/gone.wav")); !os.IsNotExist(err) {
		t.Fatalf("the deleted batch's recording: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "1/2026-03-10/kept.wav")); err != nil {
		t.Fatalf("another batch's recording: %v", err)
	}
}
