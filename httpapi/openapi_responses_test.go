package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// memDesk is live agent state in memory: the HTTP side of the desk, without Redis.
type memDesk struct {
	mu     sync.Mutex
	agents map[int]agentstate.Agent
	queued []agentstate.Request
}

func (d *memDesk) Get(_ context.Context, id int) (agentstate.Agent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.agents[id]
	if !ok {
		return agentstate.Agent{}, agentstate.ErrUnknownAgent
	}
	return a, nil
}

func (d *memDesk) Set(_ context.Context, a agentstate.Agent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.agents[a.ID] = a
	return nil
}

func (d *memDesk) All(_ context.Context) ([]agentstate.Agent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]agentstate.Agent, 0, len(d.agents))
	for _, a := range d.agents {
		out = append(out, a)
	}
	return out, nil
}

// monitorSource joins the in-memory desk to PostgreSQL for the job monitor.
type monitorSource struct {
	*memDesk
	*store.Store
}

func (m monitorSource) All(ctx context.Context) ([]agentstate.Agent, error) {
	return m.memDesk.All(ctx)
}

// AbandonBudget is computed as the server's wiring computes it (cmd/kakeru).
func (m monitorSource) AbandonBudget(ctx context.Context, camp *config.Campaign, now time.Time) (pacing.AbandonBudget, error) {
	return engine.AbandonBudget(ctx, m.Store, camp, now)
}

// nodeSupervisor accepts every supervision leg: the switch is not what this test is about.
type nodeSupervisor struct{}

func (nodeSupervisor) Originate(context.Context, string, string) error { return nil }

func (d *memDesk) Push(_ context.Context, _ int64, r agentstate.Request) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.queued = append(d.queued, r)
	return nil
}

// TestOpenAPIResponses drives every group of routes through a success and an error over the
// report fixture and checks each request the server accepted and each answer against the
// document, with every documented object closed to fields it does not list.
func TestOpenAPIResponses(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.FreeSWITCH.Recordings.Directory = t.TempDir()
	e := &env{t: t, store: storetest.New(t), cfg: cfg, now: at("2026-03-10 20:00")}
	fx := storetest.AddReportFixture(t, e.store)
	desk := &memDesk{agents: map[int]agentstate.Agent{}}
	var redisDown atomic.Bool
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: e.store, Jobs: e.store,
		Callbacks: e.store, Reports: e.store, DoNotCall: e.store, Desk: desk, Monitor: monitorSource{desk, e.store}, Supervisor: nodeSupervisor{}, Now: func() time.Time { return e.now },
		Checks: []httpapi.Check{{Name: "redis", Probe: func(context.Context) error {
			if redisDown.Load() {
				return errors.New("connection refused")
			}
			return nil
		}}},
		Status: func(context.Context) (httpapi.Status, error) {
			if redisDown.Load() {
				return httpapi.Status{}, httpapi.DependencyDown("redis", errors.New("connection refused"))
			}
			last := e.now.Add(-time.Second)
			return httpapi.Status{Version: "test", InstanceID: "i-1", StartedAt: e.now.Add(-time.Hour), JobsRunning: 1,
				FreeSWITCH: []httpapi.NodeStatus{{Name: "fs1", Address: "127.0.0.1:8021", Connected: true, LastEventAt: &last},
					{Name: "fs2", Address: "127.0.0.1:8022", Error: "dial tcp: connection refused"}}}, nil
		}})
	plain := httptest.NewServer(api.Handler())
	defer plain.Close()
	doc := loadOpenAPI(t, plain.URL)
	v := newValidator(t, doc)
	e.srv = httptest.NewServer(v.wrap(api.Handler()))
	defer e.srv.Close()

	get := func(want int, token, path string) response {
		t.Helper()
		return e.mustCall(want, token, http.MethodGet, path, nil)
	}
	id := func(r response) int64 {
		t.Helper()
		f, ok := r.Body["id"].(float64)
		if !ok {
			t.Fatalf("no id in %s", r.Raw)
		}
		return int64(f)
	}

	// Health, status and the document itself.
	get(http.StatusOK, "", "/healthz")
	get(http.StatusOK, "", "/readyz")
	get(http.StatusOK, "", "/api/v1/openapi.json")
	get(http.StatusOK, adminToken, "/api/v1/status")
	get(http.StatusUnauthorized, "", "/api/v1/status")
	redisDown.Store(true)
	get(http.StatusServiceUnavailable, "", "/readyz")
	get(http.StatusServiceUnavailable, adminToken, "/api/v1/status")
	redisDown.Store(false)

	// Configuration.
	get(http.StatusOK, adminToken, "/api/v1/campaigns")
	get(http.StatusOK, supervisorToken, "/api/v1/campaigns/1")
	get(http.StatusNotFound, adminToken, "/api/v1/campaigns/99")
	get(http.StatusForbidden, agentToken, "/api/v1/campaigns")
	get(http.StatusOK, adminToken, "/api/v1/dial-groups")
	get(http.StatusOK, adminToken, "/api/v1/agents")

	// Batches.
	batch := id(e.mustCall(http.StatusCreated, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": "March calls", "campaign_id": 1, "start_date": "2026-03-10", "memo": "spring"}))
	spare := id(e.mustCall(http.StatusCreated, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": "Spare", "campaign_id": 1, "start_date": "2026-04-01", "end_date": "2026-04-30"}))
	e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, "/api/v1/batches", map[string]any{"name": "", "campaign_id": 1})
	e.mustCall(http.StatusBadRequest, adminToken, http.MethodPost, "/api/v1/batches", map[string]any{"nom": "x"})
	get(http.StatusOK, adminToken, "/api/v1/batches?campaign_id=1&limit=10&offset=0")
	get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/batches/%d", batch))
	get(http.StatusForbidden, supervisor2Token, fmt.Sprintf("/api/v1/batches/%d", batch))
	get(http.StatusNotFound, adminToken, "/api/v1/batches/999999")
	e.mustCall(http.StatusOK, adminToken, http.MethodPatch, fmt.Sprintf("/api/v1/batches/%d", batch), map[string]any{"memo": "spring list"})
	e.mustCall(http.StatusOK, adminToken, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{1}})
	e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{99}})
	e.mustCall(http.StatusConflict, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/batches/%d", fx.Batch1), nil)
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/batches/%d", spare), nil)
	get(http.StatusOK, adminToken, "/api/v1/batch-deletions")
	get(http.StatusBadRequest, adminToken, "/api/v1/batch-deletions?limit=0")

	// Customer lists.
	r := e.upload(adminToken, batch, "March", []byte("name,kana,tel\r\n山田,ヤマダ,09011112222\r\n佐藤,サトウ,09011112223\r\n"), "utf-8")
	if r.Status != http.StatusCreated {
		t.Fatalf("import: %d %s", r.Status, r.Raw)
	}
	list := id(r)
	r = e.upload(adminToken, batch, "Extra", toSJIS(t, "name,kana,tel\r\n鈴木,スズキ,09011113333\r\n"), "")
	extra := id(r)
	r = e.upload(adminToken, batch, "Broken", []byte("name,kana,tel\r\n山田,ヤマダ,12\r\n"), "utf-8")
	if r.Status != http.StatusUnprocessableEntity || r.Body["error_csv_url"] == nil {
		t.Fatalf("import of a bad file: %d %s", r.Status, r.Raw)
	}
	get(http.StatusOK, adminToken, r.Body["error_csv_url"].(string))
	cfg.System.Limits.MaxUploadBytes = 1 << 10
	if r := e.upload(adminToken, batch, "Huge", bytes.Repeat([]byte("name,kana,tel\r\n"), 100), "utf-8"); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("upload past the limit: %d %s", r.Status, r.Raw)
	}
	cfg.System.Limits.MaxUploadBytes = 32 << 20
	cfg.System.Limits.MaxErrorCSVBytes = 64 << 10
	long := append([]byte("name,kana,tel,remarks\r\n"), bytes.Repeat([]byte("山田,ヤマダ,12,"+strings.Repeat("x", 2000)+"\r\n"), 100)...)
	if r := e.upload(adminToken, batch, "Long", long, "utf-8"); r.Body["error_csv_omitted_from_line"] == nil {
		t.Fatalf("error CSV past its limit: %d %s", r.Status, r.Raw)
	}
	cfg.System.Limits.MaxErrorCSVBytes = 8 << 20
	get(http.StatusNotFound, adminToken, "/api/v1/import-errors/no-such-file")
	get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/batches/%d/lists", batch))
	get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/lists/%d", list))
	get(http.StatusNotFound, adminToken, "/api/v1/lists/999999")
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/lists/%d", extra), nil)

	// Assignments.
	assignments := fmt.Sprintf("/api/v1/batches/%d/assignments", batch)
	e.mustCall(http.StatusCreated, adminToken, http.MethodPost, assignments, map[string]any{"list_id": list, "dial_group_id": 1, "count": 2})
	e.mustCall(http.StatusConflict, adminToken, http.MethodPost, assignments, map[string]any{"list_id": list, "dial_group_id": 1, "count": 2})
	get(http.StatusOK, adminToken, assignments)
	e.mustCall(http.StatusNotFound, adminToken, http.MethodDelete, "/api/v1/assignments/999999", nil)

	// Contacts.
	r = get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/contacts?batch_id=%d&q=%s&limit=5", fx.Batch1, "山田"))
	contact := int64(r.Body["items"].([]any)[0].(map[string]any)["id"].(float64))
	get(http.StatusBadRequest, adminToken, "/api/v1/contacts")
	get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/contacts/%d/attempts", contact))
	get(http.StatusNotFound, adminToken, "/api/v1/contacts/999999/attempts")

	// Call jobs.
	job := id(e.mustCall(http.StatusCreated, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/call-jobs", batch),
		map[string]any{"name": "Morning", "list_id": list, "dial_group_id": 1, "caller_id": "0312345678",
			"filter": map[string]any{"phone_type": "mobile", "attempts_max": 2, "last_attempt_from": "09:00", "last_attempt_to": "12:00"}}))
	e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/call-jobs", batch),
		map[string]any{"name": "No caller", "list_id": list, "dial_group_id": 1, "caller_id": "0999"})
	get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/call-jobs?batch_id=%d", batch))
	get(http.StatusOK, supervisorToken, fmt.Sprintf("/api/v1/call-jobs/%d", job))
	e.mustCall(http.StatusOK, adminToken, http.MethodPatch, fmt.Sprintf("/api/v1/call-jobs/%d", job), map[string]any{"memo": "first run"})
	e.mustCall(http.StatusConflict, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", fx.Job1), nil) // unsaved dispositions
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil)
	e.mustCall(http.StatusOK, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil)
	e.mustCall(http.StatusConflict, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/call-jobs/%d", job), nil)

	// Agents at work.
	agent := "/api/v1/agents/1001"
	e.mustCall(http.StatusAccepted, agentToken, http.MethodPost, agent+"/join", map[string]any{"call_job_id": job})
	e.mustCall(http.StatusConflict, agentToken, http.MethodPost, agent+"/join", map[string]any{"call_job_id": fx.Job1}) // stopped
	e.mustCall(http.StatusAccepted, agentToken, http.MethodPost, agent+"/state", map[string]any{"state": "break"})
	e.mustCall(http.StatusUnprocessableEntity, agentToken, http.MethodPost, agent+"/state", map[string]any{"state": "on_call"})
	e.mustCall(http.StatusConflict, agentToken, http.MethodPost, agent+"/hangup-customer", nil)
	get(http.StatusOK, agentToken, agent+"/session")
	if r := get(http.StatusOK, agentToken, agent+"/call-jobs"); r.Body["total"] != float64(1) {
		t.Fatalf("the agent's joinable jobs: %s", r.Raw)
	}
	get(http.StatusForbidden, agentToken, "/api/v1/agents/1002/call-jobs")
	get(http.StatusNotFound, adminToken, "/api/v1/agents/9999/call-jobs")
	get(http.StatusBadRequest, adminToken, agent+"/call-jobs?limit=0")
	get(http.StatusForbidden, agentToken, "/api/v1/agents/1002/session")
	get(http.StatusNotFound, adminToken, "/api/v1/agents/9999/session")
	x3 := fx.Attempts["X3"]
	_ = desk.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentOnCall, Since: e.now, CallJobID: job, AttemptID: x3})
	r = get(http.StatusOK, agentToken, agent+"/session")
	if call, _ := r.Body["call"].(map[string]any); call == nil || call["contact"] == nil || len(call["history"].([]any)) == 0 ||
		call["callback"] != nil || call["dialed_tel"] != call["contact"].(map[string]any)["tel"] {
		t.Errorf("session on a call: %s", r.Raw)
	}
	// D-1, S-2: a callback the agent promised, dialed at the other number: the screen shows both
	// numbers and whose callback it is.
	if _, err := e.store.DB().Exec(`WITH a AS (UPDATE attempts SET tel = '08012345678' WHERE id = $1 RETURNING *)
		INSERT INTO callbacks (batch_id, contact_id, attempt_id, agent_id, due_at, status, created_at, updated_at)
		SELECT batch_id, contact_id, id, 1001, started_at, 'dialed', started_at, started_at FROM a`, x3); err != nil {
		t.Fatal(err)
	}
	r = get(http.StatusOK, agentToken, agent+"/session")
	if call, _ := r.Body["call"].(map[string]any); call == nil || call["dialed_tel"] != "08012345678" ||
		call["contact"].(map[string]any)["tel"] == "08012345678" || call["callback"] == nil ||
		call["callback"].(map[string]any)["promised_by"] != 1001.0 || call["callback"].(map[string]any)["promised_by_you"] != true {
		t.Errorf("session on a callback to the other number: %s", r.Raw)
	}
	// Monitoring (S-1): the job monitor and supervision of the call in progress. The event stream
	// stays open, so it is checked by the live tests, not through this recorder.
	get(http.StatusOK, supervisorToken, fmt.Sprintf("/api/v1/call-jobs/%d/monitor", job))
	get(http.StatusForbidden, agentToken, fmt.Sprintf("/api/v1/call-jobs/%d/monitor", job))
	_ = desk.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentOnCall, Since: e.now, CallJobID: job, AttemptID: x3,
		Leg: "6f1c1a6e-3d1b-4c55-9d8e-2b0c6d7f9a01", Node: "fs1"})
	e.mustCall(http.StatusAccepted, supervisorToken, http.MethodPost, agent+"/listen", map[string]any{"supervisor_endpoint": "user/2001"})
	e.mustCall(http.StatusAccepted, adminToken, http.MethodPost, agent+"/whisper", map[string]any{"supervisor_endpoint": "user/2001"})
	e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, agent+"/whisper", map[string]any{"supervisor_endpoint": "user/2001 x"})
	// Issue 13 row 13: one endpoint only, never forked, failover or enterprise dialing.
	for _, ep := range []string{"user/2001,sofia/gateway/main/0901234567", "user/2001|user/2002", "user/2001:_:user/2002"} {
		e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, agent+"/listen", map[string]any{"supervisor_endpoint": ep})
	}
	e.mustCall(http.StatusForbidden, agentToken, http.MethodPost, agent+"/listen", map[string]any{"supervisor_endpoint": "user/2001"})
	// Issue 15: the agent asks for its call to be recorded.
	e.mustCall(http.StatusConflict, agentToken, http.MethodPost, agent+"/record", nil) // campaign 1 records nothing
	cfg.Campaigns[slices.IndexFunc(cfg.Campaigns, func(c config.Campaign) bool { return c.ID == 1 })].Recording.Mode = config.RecordingOnRequest
	e.mustCall(http.StatusAccepted, agentToken, http.MethodPost, agent+"/record", nil)
	e.mustCall(http.StatusAccepted, agentToken, http.MethodDelete, agent+"/record", nil)
	e.mustCall(http.StatusAccepted, agentToken, http.MethodPost, agent+"/hangup-customer", nil)
	_ = desk.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentWrapUp, Since: e.now, CallJobID: job, AttemptID: x3})
	e.mustCall(http.StatusAccepted, agentToken, http.MethodPost, agent+"/leave", nil)

	// Recordings (issue 15).
	x1 := fx.Attempts["X1"]
	if err := e.store.StartRecording(context.Background(), x1, "1/2026-03-09/x1.wav", e.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.FreeSWITCH.Recordings.Directory, "1/2026-03-09"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.FreeSWITCH.Recordings.Directory, "1/2026-03-09/x1.wav"), []byte("RIFF....WAVE"), 0o644); err != nil {
		t.Fatal(err)
	}
	get(http.StatusOK, agentToken, fmt.Sprintf("/api/v1/attempts/%d/recording", x1))
	get(http.StatusNotFound, adminToken, fmt.Sprintf("/api/v1/attempts/%d/recording", x3))
	get(http.StatusForbidden, supervisor2Token, fmt.Sprintf("/api/v1/attempts/%d/recording", x1))

	// Dispositions and callbacks.
	get(http.StatusOK, agentToken, "/api/v1/unsaved-dispositions?q=山田")
	get(http.StatusBadRequest, adminToken, "/api/v1/unsaved-dispositions?offset=-1")
	disposition := fmt.Sprintf("/api/v1/attempts/%d/disposition", x3)
	e.mustCall(http.StatusUnprocessableEntity, agentToken, http.MethodPost, disposition,
		map[string]any{"party": "self", "result_code": "no_such_code", "next_action": "complete", "after": "continue"})
	e.mustCall(http.StatusNoContent, agentToken, http.MethodPost, disposition, map[string]any{"party": "self",
		"result_code": "call_back_later", "next_action": "callback", "callback_at": e.now.Add(24 * time.Hour).Format(time.RFC3339),
		"memo": "after lunch", "after": "break"})
	e.mustCall(http.StatusConflict, agentToken, http.MethodPost, disposition,
		map[string]any{"party": "self", "result_code": "interested", "next_action": "complete"})
	r = get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/callbacks?batch_id=%d&agent_id=1001&due_before=%s", fx.Batch1,
		strings.ReplaceAll(e.now.Add(48*time.Hour).Format(time.RFC3339), "+", "%2B")))
	items := r.Body["items"].([]any)
	if len(items) == 0 {
		t.Fatalf("no callback after the disposition: %s", r.Raw)
	}
	callback := fmt.Sprintf("/api/v1/callbacks/%d", int64(items[0].(map[string]any)["id"].(float64)))
	get(http.StatusBadRequest, adminToken, "/api/v1/callbacks?due_before=tomorrow")
	// Issue 13 row 16: an agent's callbacks are its own; asking for another agent's is a 403.
	get(http.StatusOK, agentToken, "/api/v1/callbacks?agent_id=1001")
	get(http.StatusForbidden, agentToken, "/api/v1/callbacks?agent_id=1002")
	e.mustCall(http.StatusOK, agentToken, http.MethodPatch, callback, map[string]any{"due_at": e.now.Add(3 * time.Hour).Format(time.RFC3339)})
	e.mustCall(http.StatusUnprocessableEntity, agentToken, http.MethodPatch, callback, map[string]any{"due_at": e.now.Add(-time.Hour).Format(time.RFC3339)})
	e.mustCall(http.StatusNoContent, agentToken, http.MethodDelete, callback, nil)
	e.mustCall(http.StatusConflict, agentToken, http.MethodDelete, callback, nil)

	// Call jobs again: stopped, deleted.
	e.mustCall(http.StatusOK, supervisorToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/stop", job), nil)
	e.mustCall(http.StatusConflict, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/stop", job), nil)
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/call-jobs/%d", job), nil)
	get(http.StatusNotFound, adminToken, fmt.Sprintf("/api/v1/call-jobs/%d", job))

	// Reports.
	get(http.StatusOK, adminToken, "/api/v1/reports/summary?campaign_id=1&from=2026-03-10&to=2026-03-10")
	get(http.StatusOK, supervisorToken, "/api/v1/reports/summary?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z")
	get(http.StatusUnprocessableEntity, adminToken, "/api/v1/reports/summary?from=2026-03-10&to=2026-03-11T00:00:00Z")
	get(http.StatusForbidden, agentToken, "/api/v1/reports/summary")
	get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/reports/results.csv?batch_id=%d", fx.Batch1))
	get(http.StatusOK, adminToken, fmt.Sprintf("/api/v1/reports/results.csv?batch_id=%d&encoding=sjis", fx.Batch1))
	get(http.StatusUnprocessableEntity, adminToken, "/api/v1/reports/results.csv?encoding=latin1")

	// Do-not-call lists (N-1).
	numbers := "/api/v1/do-not-call/1/numbers"
	e.mustCall(http.StatusCreated, supervisorToken, http.MethodPost, numbers, map[string]any{"tel": "03-1234-5678", "reason": "苦情"})
	e.mustCall(http.StatusOK, supervisorToken, http.MethodPost, numbers, map[string]any{"tel": "0312345678"})
	e.mustCall(http.StatusUnprocessableEntity, supervisorToken, http.MethodPost, numbers, map[string]any{"tel": "1"})
	e.mustCall(http.StatusForbidden, supervisorToken, http.MethodPost, "/api/v1/do-not-call/global/numbers", map[string]any{"tel": "0312345678"})
	get(http.StatusOK, supervisorToken, numbers+"?q=031")
	get(http.StatusOK, supervisorToken, "/api/v1/do-not-call/global/numbers")
	get(http.StatusBadRequest, supervisorToken, numbers+"?q=abc")
	get(http.StatusOK, supervisorToken, "/api/v1/do-not-call/1/numbers.csv?encoding=sjis")
	get(http.StatusUnprocessableEntity, supervisorToken, "/api/v1/do-not-call/1/numbers.csv?encoding=latin1")
	if r := e.uploadDNC(adminToken, "global", []byte("tel,reason\n0311112222,x\n"), "utf-8"); r.Status != http.StatusCreated {
		t.Errorf("do-not-call import: %d %s", r.Status, r.Raw)
	}
	if r := e.uploadDNC(adminToken, "global", []byte("tel,reason\n1,x\n"), "utf-8"); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("refused do-not-call import: %d %s", r.Status, r.Raw)
	}
	e.mustCall(http.StatusNoContent, supervisorToken, http.MethodDelete, numbers+"/0312345678?reason=mistake", nil)
	e.mustCall(http.StatusNotFound, supervisorToken, http.MethodDelete, numbers+"/0312345678", nil)
	get(http.StatusOK, supervisorToken, "/api/v1/do-not-call/1/removals")
	get(http.StatusForbidden, agentToken, "/api/v1/do-not-call/1/removals")

	v.coverage(doc)
}
