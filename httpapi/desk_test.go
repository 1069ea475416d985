package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

const agent2Token = "demo-agent-1002-token"

// The store answers the manual dial's do-not-call check (the server looks for it on its
// DoNotCall store).
var _ httpapi.DoNotCallLookup = (*store.Store)(nil)

// deskEnv serves the API with a desk over a running job of campaign 1 (dial group 1, caller id
// 0312345678, two contacts), every answer checked against the OpenAPI document.
type deskEnv struct {
	*env
	desk     *memDesk
	job      store.CallJob
	contacts []store.Contact
}

func newDeskEnv(t *testing.T) *deskEnv {
	t.Helper()
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := &deskEnv{env: &env{t: t, store: storetest.New(t), cfg: cfg, now: at("2026-03-10 10:00")},
		desk: &memDesk{agents: map[int]agentstate.Agent{}}}
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: e.store, Jobs: e.store,
		DoNotCall: e.store, Desk: e.desk, Now: func() time.Time { return e.now }})
	plain := httptest.NewServer(api.Handler())
	t.Cleanup(plain.Close)
	v := newValidator(t, loadOpenAPI(t, plain.URL))
	e.srv = httptest.NewServer(v.wrap(api.Handler()))
	t.Cleanup(e.srv.Close)

	id := e.jobFixture("2026-03-10", "Desk")
	e.mustCall(http.StatusOK, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", id), nil)
	ctx := context.Background()
	if e.job, err = e.store.GetCallJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	if e.contacts, _, err = e.store.SearchContacts(ctx, store.ContactFilter{BatchID: e.job.BatchID, Limit: 10}); err != nil || len(e.contacts) != 2 {
		t.Fatalf("contacts: %v %v", e.contacts, err)
	}
	return e
}

func (e *deskEnv) campaign() *config.Campaign { return &e.cfg.Campaigns[0] }

// set puts an agent in the job in state, changed further by edit.
func (e *deskEnv) set(id int, state domain.AgentState, edit func(*agentstate.Agent)) {
	a := agentstate.Agent{ID: id, State: state, Since: e.now.Add(-time.Minute), CallJobID: e.job.ID, JobRun: e.job.Run}
	if state == domain.AgentOnCall {
		a.AttemptID = 900
	}
	if edit != nil {
		edit(&a)
	}
	if err := e.desk.Set(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
}

// queued returns the requests queued since the last call.
func (e *deskEnv) queued() []agentstate.Request {
	e.desk.mu.Lock()
	defer e.desk.mu.Unlock()
	out := e.desk.queued
	e.desk.queued = nil
	return out
}

// expect calls and checks the status and error code ("" for a success, whose one queued
// request is returned); a refusal queues nothing.
func (e *deskEnv) expect(status int, code, token, method, path string, body any) agentstate.Request {
	e.t.Helper()
	r := e.mustCall(status, token, method, path, body)
	q := e.queued()
	if status >= 300 {
		if r.errorCode() != code {
			e.t.Fatalf("%s %s: code %q, want %q: %s", method, path, r.errorCode(), code, r.Raw)
		}
		if len(q) != 0 {
			e.t.Fatalf("%s %s refused, but queued %+v", method, path, q)
		}
		return agentstate.Request{}
	}
	if len(q) != 1 {
		e.t.Fatalf("%s %s: queued %+v, want one request", method, path, q)
	}
	return q[0]
}

const desk = "/api/v1/agents/1001/"

func (e *deskEnv) actions() map[string]string {
	e.t.Helper()
	r := e.mustCall(http.StatusOK, agentToken, http.MethodGet, desk+"session", nil)
	out := map[string]string{}
	for _, a := range r.Body["actions"].([]any) {
		m := a.(map[string]any)
		out[m["action"].(string)] = m["method"].(string) + " " + m["path"].(string)
	}
	return out
}

// Issue 16 item 1: the agent dials or skips the contact its preview shows, naming the preview
// it saw; the session shows the contact, its history and the campaign's skip reasons.
func TestDeskPreview(t *testing.T) {
	e := newDeskEnv(t)
	c := e.contacts[0]
	dialAt := e.now.Add(30 * time.Second)
	e.set(1001, domain.AgentPreview, func(a *agentstate.Agent) {
		a.Preview = &agentstate.Preview{AttemptID: 500, ContactID: c.ID, Tel: c.Tel, DialAt: dialAt}
	})
	r := e.mustCall(http.StatusOK, agentToken, http.MethodGet, desk+"session", nil)
	p, _ := r.Body["preview"].(map[string]any)
	if p == nil || p["attempt_id"] != float64(500) || p["tel"] != c.Tel || p["contact"].(map[string]any)["name"] != c.Name ||
		len(p["skip_reasons"].([]any)) != 3 || p["history"] == nil || r.Body["call"] != nil {
		t.Fatalf("session in preview: %s", r.Raw)
	}
	if got, _ := time.Parse(time.RFC3339, p["dial_at"].(string)); !got.Equal(dialAt) {
		t.Fatalf("dial_at %v, want %v", p["dial_at"], dialAt)
	}
	if a := e.actions(); a["preview_dial"] != "POST "+desk+"preview/dial" || a["preview_skip"] != "POST "+desk+"preview/skip" || a["dial"] != "" {
		t.Fatalf("actions in preview: %v", a)
	}

	e.expect(422, "invalid_input", agentToken, "POST", desk+"preview/dial", map[string]any{})
	e.expect(409, "preview_changed", agentToken, "POST", desk+"preview/dial", map[string]any{"attempt_id": 499})
	req := e.expect(202, "", agentToken, "POST", desk+"preview/dial", map[string]any{"attempt_id": 500})
	if req.Kind != domain.RequestPreviewDial || req.AttemptID != 500 || req.AgentID != 1001 || req.By != "agent-1001" {
		t.Fatalf("preview dial: %+v", req)
	}
	e.expect(422, "invalid_input", agentToken, "POST", desk+"preview/skip", map[string]any{"attempt_id": 500, "reason": "bored"})
	e.expect(409, "preview_changed", agentToken, "POST", desk+"preview/skip", map[string]any{"attempt_id": 7, "reason": "not_now"})
	req = e.expect(202, "", supervisorToken, "POST", desk+"preview/skip", map[string]any{"attempt_id": 500, "reason": "wrong_data"})
	if req.Kind != domain.RequestPreviewSkip || req.AttemptID != 500 || req.Reason != "wrong_data" || req.By != "supervisor" {
		t.Fatalf("preview skip: %+v", req)
	}
	e.expect(400, "malformed_json", agentToken, "POST", desk+"preview/dial", map[string]any{"attempt_id": 500, "reason": "not_now"})

	e.set(1001, domain.AgentAvailable, nil)
	e.expect(409, "no_preview", agentToken, "POST", desk+"preview/dial", map[string]any{"attempt_id": 500})
	e.expect(409, "no_preview", agentToken, "POST", desk+"preview/skip", map[string]any{"attempt_id": 500, "reason": "not_now"})
	if r := e.mustCall(http.StatusOK, agentToken, http.MethodGet, desk+"session", nil); r.Body["preview"] != nil {
		t.Fatalf("preview outside state preview: %s", r.Raw)
	}
}

// Issue 16 item 2: a manual dial is checked at once: the campaign allows it, the agent is
// between calls, the number and caller id are valid, the calendar is open (J-8), the number is
// on no do-not-call list (N-1).
func TestDeskManualDial(t *testing.T) {
	e := newDeskEnv(t)
	e.set(1001, domain.AgentAvailable, nil)
	if a := e.actions(); a["dial"] != "POST "+desk+"dial" {
		t.Fatalf("actions when available: %v", a)
	}
	req := e.expect(202, "", agentToken, "POST", desk+"dial", map[string]any{"tel": "(03) 9876-5432"})
	if req.Kind != domain.RequestManualDial || req.Tel != "0398765432" || req.CallerID != "0312345678" || req.By != "agent-1001" {
		t.Fatalf("manual dial: %+v", req)
	}
	e.campaign().CallerIDs = []string{"0312345678", "0312340000"}
	req = e.expect(202, "", adminToken, "POST", desk+"dial", map[string]any{"tel": "117", "caller_id": "0312340000"})
	if req.Tel != "117" || req.CallerID != "0312340000" || req.By != "admin" {
		t.Fatalf("manual dial with a caller id: %+v", req)
	}
	e.expect(422, "invalid_input", agentToken, "POST", desk+"dial", map[string]any{"tel": "0398765432", "caller_id": "0999999999"})
	for _, tel := range []string{"12", "", "0398-76x5432", "012345678901234567890"} {
		e.expect(422, "invalid_input", agentToken, "POST", desk+"dial", map[string]any{"tel": tel})
	}
	// A campaign that withholds its caller id ignores the one asked for.
	e.campaign().WithholdCallerID = true
	if req := e.expect(202, "", agentToken, "POST", desk+"dial", map[string]any{"tel": "0398765432", "caller_id": "0999999999"}); req.CallerID != "0312345678" {
		t.Fatalf("withheld campaign: %+v", req)
	}
	e.campaign().WithholdCallerID = false

	// Do-not-call lists: the global one, then the campaign's.
	e.mustCall(http.StatusCreated, adminToken, "POST", "/api/v1/do-not-call/global/numbers", map[string]any{"tel": "0311112222"})
	e.mustCall(http.StatusCreated, adminToken, "POST", "/api/v1/do-not-call/1/numbers", map[string]any{"tel": "0311113333"})
	for tel, list := range map[string]string{"03-1111-2222": "global", "0311113333": "1"} {
		r := e.mustCall(409, agentToken, "POST", desk+"dial", map[string]any{"tel": tel})
		d, _ := r.Body["error"].(map[string]any)["details"].([]any)
		if r.errorCode() != "do_not_call" || len(d) != 1 || d[0].(map[string]any)["list"] != list {
			t.Fatalf("dial %s: %s", tel, r.Raw)
		}
	}
	if q := e.queued(); len(q) != 0 {
		t.Fatalf("refused dials queued %+v", q)
	}

	// The calling calendar closed now (J-8): refused, and not offered.
	e.campaign().CallingCalendar = calendar.Daily(13*60, 18*60)
	e.expect(409, "outside_calling_hours", agentToken, "POST", desk+"dial", map[string]any{"tel": "0398765432"})
	if a := e.actions(); a["dial"] != "" {
		t.Fatalf("dial offered outside calling hours: %v", a)
	}
	e.campaign().CallingCalendar = nil

	for _, st := range []domain.AgentState{domain.AgentBreak, domain.AgentAway} {
		e.set(1001, st, nil)
		e.expect(202, "", agentToken, "POST", desk+"dial", map[string]any{"tel": "0398765432"})
	}
	for _, st := range []domain.AgentState{domain.AgentOnCall, domain.AgentWrapUp, domain.AgentPreview} {
		e.set(1001, st, nil)
		e.expect(409, "agent_busy", agentToken, "POST", desk+"dial", map[string]any{"tel": "0398765432"})
	}
	e.set(1001, domain.AgentAvailable, nil)
	e.campaign().ManualDial.Disabled = true
	e.expect(409, "manual_dial_disabled", agentToken, "POST", desk+"dial", map[string]any{"tel": "0398765432"})
	if a := e.actions(); a["dial"] != "" {
		t.Fatalf("dial offered when disabled: %v", a)
	}
	e.campaign().ManualDial.Disabled = false
	e.set(1001, domain.AgentLoggedOff, func(a *agentstate.Agent) { a.CallJobID = 0 })
	e.expect(409, "agent_not_in_job", agentToken, "POST", desk+"dial", map[string]any{"tel": "0398765432"})
}

// Issue 16 item 3: hold and unhold follow the call's hold and third party.
func TestDeskHold(t *testing.T) {
	e := newDeskEnv(t)
	e.set(1001, domain.AgentOnCall, nil)
	if req := e.expect(202, "", agentToken, "POST", desk+"hold", nil); req.Kind != domain.RequestHold || req.By != "agent-1001" {
		t.Fatalf("hold: %+v", req)
	}
	e.expect(409, "call_not_held", agentToken, "DELETE", desk+"hold", nil)

	e.set(1001, domain.AgentOnCall, func(a *agentstate.Agent) { a.Call = &agentstate.CallStatus{Held: true} })
	e.expect(409, "call_held", agentToken, "POST", desk+"hold", nil)
	if req := e.expect(202, "", agentToken, "DELETE", desk+"hold", nil); req.Kind != domain.RequestUnhold {
		t.Fatalf("unhold: %+v", req)
	}
	e.set(1001, domain.AgentOnCall, consult("talking"))
	e.expect(409, "consult_in_progress", agentToken, "DELETE", desk+"hold", nil)
	e.expect(409, "call_held", agentToken, "POST", desk+"hold", nil)
	e.set(1001, domain.AgentOnCall, func(a *agentstate.Agent) {
		a.Call = &agentstate.CallStatus{Party: &agentstate.Party{Mode: "conference", State: "ringing", Target: agentstate.Target{Kind: domain.TargetSupervisor, Supervisor: "supervisor"}}}
	})
	e.expect(409, "party_present", agentToken, "POST", desk+"hold", nil)
	e.set(1001, domain.AgentWrapUp, nil)
	e.expect(409, "agent_not_on_call", agentToken, "POST", desk+"hold", nil)
	e.expect(409, "agent_not_on_call", agentToken, "DELETE", desk+"hold", nil)
}

// consult puts a consult with number 0399990000 on the agent's call, the customer held.
func consult(state string) func(*agentstate.Agent) {
	return func(a *agentstate.Agent) {
		a.Call = &agentstate.CallStatus{Held: true, Party: &agentstate.Party{Mode: "consult", State: state,
			Target: agentstate.Target{Kind: domain.TargetNumber, Number: "0399990000"}, Since: time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)}}
	}
}

// Issue 16 item 3: transfer and conference targets are checked at once; the consult's steps
// need a consult, the conference's end a conference; the session shows the party.
func TestDeskTransferAndConference(t *testing.T) {
	e := newDeskEnv(t)
	e.set(1001, domain.AgentOnCall, nil)
	e.set(1002, domain.AgentAvailable, nil)
	transfer := func(mode string, target map[string]any) map[string]any {
		return map[string]any{"mode": mode, "target": target}
	}
	req := e.expect(202, "", agentToken, "POST", desk+"transfer", transfer("blind", map[string]any{"agent_id": 1002}))
	if req.Kind != domain.RequestTransfer || !req.Blind || req.Target == nil || *req.Target != (agentstate.Target{Kind: domain.TargetAgent, AgentID: 1002}) {
		t.Fatalf("blind transfer to an agent: %+v", req)
	}
	req = e.expect(202, "", supervisorToken, "POST", desk+"transfer", transfer("attended", map[string]any{"supervisor": "supervisor"}))
	if req.Blind || *req.Target != (agentstate.Target{Kind: domain.TargetSupervisor, Supervisor: "supervisor"}) || req.By != "supervisor" {
		t.Fatalf("consult with a supervisor: %+v", req)
	}
	e.expect(409, "number_not_allowed", agentToken, "POST", desk+"transfer", transfer("blind", map[string]any{"number": "03-9999-0000"}))
	e.campaign().Transfer.AllowedNumbers = []string{"0399990000"}
	req = e.expect(202, "", agentToken, "POST", desk+"transfer", transfer("attended", map[string]any{"number": "03-9999-0000"}))
	if *req.Target != (agentstate.Target{Kind: domain.TargetNumber, Number: "0399990000"}) {
		t.Fatalf("consult with a number: %+v", req)
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no target", map[string]any{"mode": "blind"}, 422, "invalid_input"},
		{"empty target", transfer("blind", map[string]any{}), 422, "invalid_input"},
		{"two targets", transfer("blind", map[string]any{"agent_id": 1002, "number": "0399990000"}), 422, "invalid_input"},
		{"bad mode", transfer("warm", map[string]any{"agent_id": 1002}), 422, "invalid_input"},
		{"itself", transfer("blind", map[string]any{"agent_id": 1001}), 422, "invalid_input"},
		{"no such agent", transfer("blind", map[string]any{"agent_id": 4242}), 422, "invalid_input"},
		{"agent not in the desk", transfer("blind", map[string]any{"agent_id": 1004}), 409, "target_unavailable"},
		{"supervisor of another campaign", transfer("blind", map[string]any{"supervisor": "supervisor2"}), 422, "invalid_input"},
		{"an agent as supervisor", transfer("blind", map[string]any{"supervisor": "agent-1002"}), 422, "invalid_input"},
		{"admin without endpoints", transfer("blind", map[string]any{"supervisor": "admin"}), 422, "no_endpoint"},
		{"bad number", transfer("blind", map[string]any{"number": "03-99x"}), 422, "invalid_input"},
		{"unknown field", transfer("blind", map[string]any{"queue": 3}), 400, "malformed_json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.expect(c.status, c.code, agentToken, "POST", desk+"transfer", c.body)
		})
	}
	e.t = t
	for _, st := range []domain.AgentState{domain.AgentBreak, domain.AgentOnCall} {
		e.set(1002, st, nil)
		e.expect(409, "target_unavailable", agentToken, "POST", desk+"transfer", transfer("blind", map[string]any{"agent_id": 1002}))
	}
	e.set(1002, domain.AgentAvailable, func(a *agentstate.Agent) { a.CallJobID = e.job.ID + 1000 })
	e.expect(409, "target_unavailable", agentToken, "POST", desk+"conference", map[string]any{"target": map[string]any{"agent_id": 1002}})
	e.set(1002, domain.AgentAvailable, func(a *agentstate.Agent) { a.JobRun = e.job.Run - 1 })
	e.expect(409, "target_unavailable", agentToken, "POST", desk+"conference", map[string]any{"target": map[string]any{"agent_id": 1002}})
	e.set(1002, domain.AgentAvailable, nil)
	req = e.expect(202, "", agentToken, "POST", desk+"conference", map[string]any{"target": map[string]any{"agent_id": 1002}})
	if req.Kind != domain.RequestConference || *req.Target != (agentstate.Target{Kind: domain.TargetAgent, AgentID: 1002}) {
		t.Fatalf("conference: %+v", req)
	}
	for _, p := range []string{"transfer/swap", "transfer/complete"} {
		e.expect(409, "no_consult", agentToken, "POST", desk+p, nil)
	}
	e.expect(409, "no_consult", agentToken, "DELETE", desk+"transfer", nil)
	e.expect(409, "no_conference", agentToken, "DELETE", desk+"conference", nil)

	// On hold: a transfer may start, a conference may not.
	e.set(1001, domain.AgentOnCall, func(a *agentstate.Agent) { a.Call = &agentstate.CallStatus{Held: true} })
	e.expect(409, "call_held", agentToken, "POST", desk+"conference", map[string]any{"target": map[string]any{"agent_id": 1002}})
	e.expect(202, "", agentToken, "POST", desk+"transfer", transfer("attended", map[string]any{"agent_id": 1002}))

	// A consult: its steps, and nothing else with a third party.
	e.set(1001, domain.AgentOnCall, consult("talking"))
	r := e.mustCall(http.StatusOK, agentToken, http.MethodGet, desk+"session", nil)
	call := r.Body["call"].(map[string]any)
	party, _ := call["party"].(map[string]any)
	if call["held"] != true || party == nil || party["mode"] != "consult" || party["state"] != "talking" ||
		party["target"].(map[string]any)["number"] != "0399990000" || party["since"] != "2026-03-10T01:00:00Z" {
		t.Fatalf("session during a consult: %s", r.Raw)
	}
	if a := e.actions(); a["transfer_swap"] == "" || a["transfer_complete"] == "" || a["transfer_cancel"] != "DELETE "+desk+"transfer" || a["hold"] != "" || a["transfer"] != "" {
		t.Fatalf("actions during a consult: %v", a)
	}
	for p, kind := range map[string]domain.RequestKind{"transfer/swap": domain.RequestConsultSwap, "transfer/complete": domain.RequestConsultFinish} {
		if req := e.expect(202, "", agentToken, "POST", desk+p, nil); req.Kind != kind {
			t.Fatalf("%s: %+v", p, req)
		}
	}
	if req := e.expect(202, "", agentToken, "DELETE", desk+"transfer", nil); req.Kind != domain.RequestConsultCancel {
		t.Fatalf("cancel: %+v", req)
	}
	e.expect(409, "party_present", agentToken, "POST", desk+"transfer", transfer("blind", map[string]any{"agent_id": 1002}))
	e.expect(409, "party_present", agentToken, "POST", desk+"conference", map[string]any{"target": map[string]any{"agent_id": 1002}})
	e.expect(409, "no_conference", agentToken, "DELETE", desk+"conference", nil)

	// A conference: its end, and no consult step.
	e.set(1001, domain.AgentOnCall, func(a *agentstate.Agent) {
		a.Call = &agentstate.CallStatus{Party: &agentstate.Party{Mode: "conference", State: "talking", Target: agentstate.Target{Kind: domain.TargetAgent, AgentID: 1002}}}
	})
	if req := e.expect(202, "", agentToken, "DELETE", desk+"conference", nil); req.Kind != domain.RequestConferenceEnd {
		t.Fatalf("conference end: %+v", req)
	}
	e.expect(409, "no_consult", agentToken, "POST", desk+"transfer/complete", nil)

	// Nothing on the line: no transfer.
	e.set(1001, domain.AgentAvailable, nil)
	e.expect(409, "agent_not_on_call", agentToken, "POST", desk+"transfer", transfer("blind", map[string]any{"agent_id": 1002}))
	e.expect(409, "no_consult", agentToken, "POST", desk+"transfer/swap", nil)
	if r := e.mustCall(http.StatusOK, agentToken, http.MethodGet, desk+"session", nil); r.Body["call"] != nil {
		t.Fatalf("call while available: %s", r.Raw)
	}
}
