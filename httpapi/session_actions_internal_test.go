package httpapi

import (
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
)

// Issue 16 item 4: the session lists the requests the API accepts for the agent's state, with
// their paths, so a screen needs no rules of its own (G-1..G-4, D-1).
func TestSessionActionsFollowTheState(t *testing.T) {
	for _, c := range []struct {
		name      string
		st        agentstate.Agent
		recording string
		want      string
	}{
		{"in no job", agentstate.Agent{ID: 7, State: domain.AgentLoggedOff}, "", "join /api/v1/agents/7/join"},
		{"its phone being called", agentstate.Agent{ID: 7, State: domain.AgentLoggedOff, CallJobID: 3}, "", ""},
		{"available", agentstate.Agent{ID: 7, State: domain.AgentAvailable, CallJobID: 3}, config.RecordingAll,
			"set_state /api/v1/agents/7/state, leave /api/v1/agents/7/leave"},
		{"on break", agentstate.Agent{ID: 7, State: domain.AgentBreak, CallJobID: 3}, "",
			"set_state /api/v1/agents/7/state, leave /api/v1/agents/7/leave"},
		{"on a call, no recording", agentstate.Agent{ID: 7, State: domain.AgentOnCall, CallJobID: 3, AttemptID: 9}, config.RecordingOff,
			"hangup_customer /api/v1/agents/7/hangup-customer, leave /api/v1/agents/7/leave"},
		{"on a call, recording on request", agentstate.Agent{ID: 7, State: domain.AgentOnCall, CallJobID: 3, AttemptID: 9}, config.RecordingOnRequest,
			"hangup_customer /api/v1/agents/7/hangup-customer, record /api/v1/agents/7/record, stop_recording /api/v1/agents/7/record, leave /api/v1/agents/7/leave"},
		{"wrap-up", agentstate.Agent{ID: 7, State: domain.AgentWrapUp, CallJobID: 3, AttemptID: 9}, "",
			"save_disposition /api/v1/attempts/9/disposition, set_state /api/v1/agents/7/state, leave /api/v1/agents/7/leave"},
	} {
		var got []string
		for _, a := range sessionActions(c.st, deskCampaign{Recording: c.recording}) {
			if a.Method != "POST" && !(a.Action == "stop_recording" && a.Method == "DELETE") {
				t.Errorf("%s: %s by %s", c.name, a.Action, a.Method)
			}
			got = append(got, a.Action+" "+a.Path)
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("%s: %q, want %q", c.name, strings.Join(got, ", "), c.want)
		}
	}
}
