package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
)

// X-1 on the agent's desk (issue 16): every desk route × every kind of caller. The agent
// itself, the supervisor of the job's campaign and an admin are accepted; another agent and a
// supervisor of another campaign are refused with 403, and nothing is queued.
func TestDeskRoleMatrix(t *testing.T) {
	e := newDeskEnv(t)
	e.campaign().Transfer.AllowedNumbers = []string{"0399990000"}
	callers := []struct {
		name, token string
		allowed     bool
		refusal     int
	}{
		{"no token", "", false, http.StatusUnauthorized},
		{"the agent", agentToken, true, 0},
		{"another agent", agent2Token, false, http.StatusForbidden},
		{"supervisor of the campaign", supervisorToken, true, 0},
		{"supervisor of another campaign", supervisor2Token, false, http.StatusForbidden},
		{"admin", adminToken, true, 0},
	}
	preview := func(a *agentstate.Agent) { a.Preview = &agentstate.Preview{AttemptID: 500, Tel: "0311112222"} }
	conference := func(a *agentstate.Agent) {
		a.Call = &agentstate.CallStatus{Party: &agentstate.Party{Mode: "conference", State: "talking", Target: agentstate.Target{Kind: domain.TargetNumber, Number: "0399990000"}}}
	}
	held := func(a *agentstate.Agent) { a.Call = &agentstate.CallStatus{Held: true} }
	routes := []struct {
		method, path string
		body         any
		state        domain.AgentState
		edit         func(*agentstate.Agent)
		kind         domain.RequestKind
	}{
		{"POST", "preview/dial", map[string]any{"attempt_id": 500}, domain.AgentPreview, preview, domain.RequestPreviewDial},
		{"POST", "preview/skip", map[string]any{"attempt_id": 500, "reason": "not_now"}, domain.AgentPreview, preview, domain.RequestPreviewSkip},
		{"POST", "dial", map[string]any{"tel": "0398765432"}, domain.AgentAvailable, nil, domain.RequestManualDial},
		{"POST", "hold", nil, domain.AgentOnCall, nil, domain.RequestHold},
		{"DELETE", "hold", nil, domain.AgentOnCall, held, domain.RequestUnhold},
		{"POST", "transfer", map[string]any{"mode": "blind", "target": map[string]any{"number": "0399990000"}}, domain.AgentOnCall, nil, domain.RequestTransfer},
		{"POST", "transfer/swap", nil, domain.AgentOnCall, consult("talking"), domain.RequestConsultSwap},
		{"POST", "transfer/complete", nil, domain.AgentOnCall, consult("held"), domain.RequestConsultFinish},
		{"DELETE", "transfer", nil, domain.AgentOnCall, consult("ringing"), domain.RequestConsultCancel},
		{"POST", "conference", map[string]any{"target": map[string]any{"supervisor": "supervisor"}}, domain.AgentOnCall, nil, domain.RequestConference},
		{"DELETE", "conference", nil, domain.AgentOnCall, conference, domain.RequestConferenceEnd},
	}
	for _, rt := range routes {
		for _, c := range callers {
			t.Run(rt.method+" "+rt.path+" as "+c.name, func(t *testing.T) {
				e.t = t
				e.set(1001, rt.state, rt.edit)
				if !c.allowed {
					e.expect(c.refusal, map[int]string{401: "unauthorized", 403: "forbidden"}[c.refusal], c.token, rt.method, desk+rt.path, rt.body)
					return
				}
				req := e.expect(http.StatusAccepted, "", c.token, rt.method, desk+rt.path, rt.body)
				if req.Kind != rt.kind || req.AgentID != 1001 || req.By == "" {
					t.Fatalf("queued %+v, want %s for agent 1001 by the caller", req, rt.kind)
				}
			})
		}
	}
	e.t = t
	// An agent that is not configured: 404 to an admin, 403 to the others (as the other agent
	// routes answer).
	e.expect(http.StatusNotFound, "not_found", adminToken, "POST", "/api/v1/agents/9999/hold", nil)
	e.expect(http.StatusForbidden, "forbidden", supervisorToken, "POST", "/api/v1/agents/9999/hold", nil)
	// The session offers each route in the state the matrix accepted it in.
	for _, rt := range routes {
		e.set(1001, rt.state, rt.edit)
		found := false
		for _, path := range e.actions() {
			found = found || path == rt.method+" "+desk+rt.path
		}
		if !found {
			t.Errorf("%s %s accepted, but the session does not offer it", rt.method, rt.path)
		}
	}
}
