package httpapi

import (
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
)

// Issue 16 item 4: the session lists the requests the API accepts for the agent's state, with
// their paths, so a screen needs no rules of its own (G-1..G-4, D-1, the desk). Each action is
// written "name path" for POST and "name DELETE path" for DELETE.
func TestSessionActionsFollowTheState(t *testing.T) {
	onCall := func(call *agentstate.CallStatus) agentstate.Agent {
		return agentstate.Agent{ID: 7, State: domain.AgentOnCall, CallJobID: 3, AttemptID: 9, Call: call}
	}
	withParty := func(mode, state string, held bool) agentstate.Agent {
		return onCall(&agentstate.CallStatus{Held: held, Party: &agentstate.Party{Mode: mode, State: state,
			Target: agentstate.Target{Kind: domain.TargetNumber, Number: "0312345678"}}})
	}
	const (
		leave  = "leave /api/v1/agents/7/leave"
		hangup = "hangup_customer /api/v1/agents/7/hangup-customer"
		free   = "hold /api/v1/agents/7/hold, transfer /api/v1/agents/7/transfer, conference /api/v1/agents/7/conference"
	)
	manual := deskCampaign{ManualDial: true}
	for _, c := range []struct {
		name string
		st   agentstate.Agent
		camp deskCampaign
		want string
	}{
		{"in no job", agentstate.Agent{ID: 7, State: domain.AgentLoggedOff}, manual, "join /api/v1/agents/7/join"},
		{"its phone being called", agentstate.Agent{ID: 7, State: domain.AgentLoggedOff, CallJobID: 3}, manual, ""},
		{"available", agentstate.Agent{ID: 7, State: domain.AgentAvailable, CallJobID: 3}, deskCampaign{Recording: config.RecordingAll},
			"set_state /api/v1/agents/7/state, " + leave},
		{"available, manual dial open", agentstate.Agent{ID: 7, State: domain.AgentAvailable, CallJobID: 3}, manual,
			"set_state /api/v1/agents/7/state, dial /api/v1/agents/7/dial, " + leave},
		{"on break, manual dial open", agentstate.Agent{ID: 7, State: domain.AgentBreak, CallJobID: 3}, manual,
			"set_state /api/v1/agents/7/state, dial /api/v1/agents/7/dial, " + leave},
		{"away, manual dial closed", agentstate.Agent{ID: 7, State: domain.AgentAway, CallJobID: 3}, deskCampaign{},
			"set_state /api/v1/agents/7/state, " + leave},
		{"preview", agentstate.Agent{ID: 7, State: domain.AgentPreview, CallJobID: 3, Preview: &agentstate.Preview{AttemptID: 12}}, manual,
			"preview_dial /api/v1/agents/7/preview/dial, preview_skip /api/v1/agents/7/preview/skip, set_state /api/v1/agents/7/state, " + leave},
		{"on a call, no recording", onCall(nil), deskCampaign{Recording: config.RecordingOff, ManualDial: true},
			hangup + ", " + free + ", " + leave},
		{"on a call, recording on request", onCall(nil), deskCampaign{Recording: config.RecordingOnRequest},
			hangup + ", " + free + ", record /api/v1/agents/7/record, stop_recording DELETE /api/v1/agents/7/record, " + leave},
		{"on a call, nothing going on", onCall(&agentstate.CallStatus{}), deskCampaign{}, hangup + ", " + free + ", " + leave},
		{"on hold", onCall(&agentstate.CallStatus{Held: true}), deskCampaign{},
			hangup + ", unhold DELETE /api/v1/agents/7/hold, transfer /api/v1/agents/7/transfer, " + leave},
		{"consult ringing", withParty("consult", "ringing", true), deskCampaign{},
			hangup + ", transfer_swap /api/v1/agents/7/transfer/swap, transfer_complete /api/v1/agents/7/transfer/complete, transfer_cancel DELETE /api/v1/agents/7/transfer, " + leave},
		{"consult swapped", withParty("consult", "held", true), deskCampaign{},
			hangup + ", transfer_swap /api/v1/agents/7/transfer/swap, transfer_complete /api/v1/agents/7/transfer/complete, transfer_cancel DELETE /api/v1/agents/7/transfer, " + leave},
		{"conference", withParty("conference", "talking", false), deskCampaign{},
			hangup + ", conference_end DELETE /api/v1/agents/7/conference, " + leave},
		{"blind transfer ringing", withParty("blind", "ringing", true), deskCampaign{},
			hangup + ", transfer_cancel DELETE /api/v1/agents/7/transfer, " + leave},
		{"dialing its own call", agentstate.Agent{ID: 7, State: domain.AgentOnCall, CallJobID: 3, AttemptID: 9,
			Call: &agentstate.CallStatus{Dialing: true}}, deskCampaign{}, hangup + ", " + leave},
		{"target of a consult", withParty("incoming", "talking", false), deskCampaign{}, leave},
		{"wrap-up", agentstate.Agent{ID: 7, State: domain.AgentWrapUp, CallJobID: 3, AttemptID: 9}, manual,
			"save_disposition /api/v1/attempts/9/disposition, set_state /api/v1/agents/7/state, " + leave},
	} {
		var got []string
		for _, a := range sessionActions(c.st, c.camp) {
			switch a.Method {
			case "POST":
				got = append(got, a.Action+" "+a.Path)
			case "DELETE":
				got = append(got, a.Action+" DELETE "+a.Path)
			default:
				t.Errorf("%s: %s by %s", c.name, a.Action, a.Method)
			}
		}
		if strings.Join(got, ", ") != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, strings.Join(got, ", "), c.want)
		}
	}
}
