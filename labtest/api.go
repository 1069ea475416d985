//go:build lab

package labtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

var httpClient = &http.Client{Timeout: 15 * time.Second}

func decode(body []byte, v any) error { return json.Unmarshal(body, v) }

// Do sends one API request with a bearer token; body is JSON-encoded unless it is an io.Reader
// (then contentType must be given with Upload).
func (in *Instance) Do(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	ct := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd, ct = bytes.NewReader(b), "application/json"
	}
	return in.send(ctx, method, path, token, ct, rd)
}

func (in *Instance) send(ctx context.Context, method, path, token, contentType string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, in.Base+path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// Must sends a request as the administrator and fails the test unless the status is want; it
// returns the decoded JSON body (nil when empty).
func (in *Instance) Must(t testing.TB, want int, method, path string, body any) map[string]any {
	t.Helper()
	return in.MustAs(t, AdminToken, want, method, path, body)
}

// MustAs is Must with another token.
func (in *Instance) MustAs(t testing.TB, token string, want int, method, path string, body any) map[string]any {
	t.Helper()
	code, raw, err := in.Do(context.Background(), method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, raw)
	}
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return out
}

func idOf(t testing.TB, m map[string]any) int64 {
	t.Helper()
	v, ok := m["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", m)
	}
	return int64(v)
}

// Job is a call job of campaign 1 over one uploaded list.
type Job struct {
	ID, Batch, List int64
	Tels            []string
}

// CreateJob creates a batch of campaign 1 for dial group 1, uploads the numbers as one UTF-8
// list, assigns them all to dial group 1 and creates a stopped call job over the list.
func (in *Instance) CreateJob(t testing.TB, name string, tels []string) Job {
	t.Helper()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(tokyo).Format("2006-01-02")
	j := Job{Tels: tels}
	j.Batch = idOf(t, in.Must(t, 201, "POST", "/api/v1/batches", map[string]any{"name": name, "campaign_id": 1, "start_date": today}))
	in.Must(t, 200, "PUT", fmt.Sprintf("/api/v1/batches/%d/dial-groups", j.Batch), map[string]any{"dial_group_ids": []int{1}})
	j.List = in.UploadList(t, j.Batch, tels)
	in.Must(t, 201, "POST", fmt.Sprintf("/api/v1/batches/%d/assignments", j.Batch),
		map[string]any{"list_id": j.List, "dial_group_id": 1, "count": len(tels)})
	j.ID = idOf(t, in.Must(t, 201, "POST", fmt.Sprintf("/api/v1/batches/%d/call-jobs", j.Batch),
		map[string]any{"name": name, "list_id": j.List, "dial_group_id": 1, "caller_id": in.CallerID}))
	return j
}

// UploadList imports the numbers as a UTF-8 CSV list of the batch and returns the list's id.
func (in *Instance) UploadList(t testing.TB, batch int64, tels []string) int64 {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("name,kana,tel,remarks\n")
	for i, tel := range tels {
		fmt.Fprintf(&csv, "顧客%d,コキャク,%s,lab %d\n", i, tel, i)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("name", "lab list")
	mw.WriteField("encoding", "utf-8")
	fw, _ := mw.CreateFormFile("file", "list.csv")
	fw.Write([]byte(csv.String()))
	mw.Close()
	code, raw, err := in.send(context.Background(), "POST", fmt.Sprintf("/api/v1/batches/%d/lists", batch), AdminToken, mw.FormDataContentType(), &form)
	if err != nil || code != 201 {
		t.Fatalf("list upload: %d %v %s", code, err, raw)
	}
	var list struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(raw, &list); err != nil || list.ID == 0 {
		t.Fatalf("list upload answer %s: %v", raw, err)
	}
	return list.ID
}

// StartJob and StopJob start and stop a call job as the administrator.
func (in *Instance) StartJob(t testing.TB, job int64) {
	t.Helper()
	in.Must(t, 200, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil)
}

func (in *Instance) StopJob(t testing.TB, job int64) map[string]any {
	t.Helper()
	code, raw, err := in.Do(context.Background(), "POST", fmt.Sprintf("/api/v1/call-jobs/%d/stop", job), AdminToken, nil)
	if err != nil || (code != 200 && code != 409) { // 409: already stopped (completed)
		t.Fatalf("stop job %d: %d %v %s", job, code, err, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// GetJob is the call job's JSON.
func (in *Instance) GetJob(t testing.TB, job int64) map[string]any {
	t.Helper()
	return in.Must(t, 200, "GET", fmt.Sprintf("/api/v1/call-jobs/%d", job), nil)
}

// Session is an agent's session as the agent's own screen reads it.
type Session struct {
	State     string `json:"state"`
	CallJobID *int64 `json:"call_job_id"`
	Message   string `json:"message"`
	Call      *struct {
		AttemptID int64 `json:"attempt_id"`
		Contact   *struct {
			ID  int64  `json:"id"`
			Tel string `json:"tel"`
		} `json:"contact"`
	} `json:"call"`
}

// AttemptID is the attempt on the agent's screen, or 0.
func (s Session) AttemptID() int64 {
	if s.Call == nil {
		return 0
	}
	return s.Call.AttemptID
}

// Agent is one agent acting through the API with its own token, as its screen would.
type Agent struct {
	ID int
	in *Instance
}

// Agent is the agent id of the lab configuration.
func (in *Instance) Agent(id int) Agent { return Agent{ID: id, in: in} }

func (a Agent) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	return a.in.Do(ctx, method, path, AgentToken(a.ID), body)
}

func (a Agent) expect(ctx context.Context, want int, method, path string, body any) error {
	code, raw, err := a.do(ctx, method, path, body)
	if err != nil {
		return fmt.Errorf("agent %d %s %s: %w", a.ID, method, path, err)
	}
	if code != want {
		return fmt.Errorf("agent %d %s %s: status %d, want %d: %s", a.ID, method, path, code, want, raw)
	}
	return nil
}

// Join, Leave, SetState, HangupCustomer and Disposition are the agent's buttons.
func (a Agent) Join(ctx context.Context, job int64) error {
	return a.expect(ctx, 202, "POST", fmt.Sprintf("/api/v1/agents/%d/join", a.ID), map[string]any{"call_job_id": job})
}

func (a Agent) Leave(ctx context.Context) error {
	return a.expect(ctx, 202, "POST", fmt.Sprintf("/api/v1/agents/%d/leave", a.ID), nil)
}

// LeaveIfIn is Leave for an agent that may have left already: a stopped job lets its free agents
// go by itself, so between a read of the session and the request the engine may answer 409
// agent_not_in_job, which is the state asked for.
func (a Agent) LeaveIfIn(ctx context.Context) error {
	path := fmt.Sprintf("/api/v1/agents/%d/leave", a.ID)
	code, raw, err := a.do(ctx, "POST", path, nil)
	switch {
	case err != nil:
		return fmt.Errorf("agent %d POST %s: %w", a.ID, path, err)
	case code == 202, code == 409 && strings.Contains(string(raw), `"agent_not_in_job"`):
		return nil
	}
	return fmt.Errorf("agent %d POST %s: status %d, want 202: %s", a.ID, path, code, raw)
}

func (a Agent) SetState(ctx context.Context, state string) error {
	return a.expect(ctx, 202, "POST", fmt.Sprintf("/api/v1/agents/%d/state", a.ID), map[string]any{"state": state})
}

func (a Agent) HangupCustomer(ctx context.Context) error {
	return a.expect(ctx, 202, "POST", fmt.Sprintf("/api/v1/agents/%d/hangup-customer", a.ID), nil)
}

// Disposition saves a result for the attempt and moves on ("continue").
func (a Agent) Disposition(ctx context.Context, attempt int64, code string) error {
	return a.expect(ctx, 204, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt), map[string]any{
		"party": "self", "result_code": code, "next_action": "complete", "memo": "lab", "after": "continue"})
}

// Session reads the agent's screen.
func (a Agent) Session(ctx context.Context) (Session, error) {
	code, raw, err := a.do(ctx, "GET", fmt.Sprintf("/api/v1/agents/%d/session", a.ID), nil)
	if err != nil {
		return Session{}, err
	}
	if code != 200 {
		return Session{}, fmt.Errorf("agent %d session: %d %s", a.ID, code, raw)
	}
	var s Session
	err = json.Unmarshal(raw, &s)
	return s, err
}

// WaitState polls the agent's session until its state is one of states.
func (a Agent) WaitState(ctx context.Context, states ...string) (Session, error) {
	var last Session
	for {
		s, err := a.Session(ctx)
		if err == nil {
			last = s
			for _, st := range states {
				if s.State == st {
					return s, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("agent %d: state %q, waited for %v: %w", a.ID, last.State, states, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
