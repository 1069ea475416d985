package httpapi

import (
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// X-1 on live events: admins everything, supervisors their campaigns, agents their own agent's
// events and the job state of the job they are in (followed through their own agent_state).
func TestEventFilterRoles(t *testing.T) {
	agentIn := func(job int64, state string) liveevents.Event {
		return liveevents.Event{Type: liveevents.AgentState, CampaignID: 1, CallJobID: job, AgentID: 1001, Data: map[string]any{"state": state}}
	}
	jobState := func(job int64, campaign int) liveevents.Event {
		return liveevents.Event{Type: liveevents.JobState, CampaignID: campaign, CallJobID: job}
	}
	other := liveevents.Event{Type: liveevents.CallConnected, CampaignID: 2, CallJobID: 9, AgentID: 1002}

	admin := &eventFilter{p: Principal{Role: config.RoleAdmin}}
	sup := &eventFilter{p: Principal{Role: config.RoleSupervisor, CampaignIDs: []int{1}}}
	for _, e := range []liveevents.Event{agentIn(5, "available"), jobState(9, 2), other} {
		if !admin.allows(e) {
			t.Errorf("admin refused %+v", e)
		}
		if got, want := sup.allows(e), e.CampaignID == 1; got != want {
			t.Errorf("supervisor of campaign 1: %+v allowed=%v", e, got)
		}
	}

	ag := &eventFilter{p: Principal{Role: config.RoleAgent, AgentID: 1001}}
	steps := []struct {
		e    liveevents.Event
		want bool
	}{
		{jobState(5, 1), false}, // not in job 5 yet
		{agentIn(5, "logged_off"), true},
		{agentIn(5, "available"), true},
		{jobState(5, 1), true},
		{jobState(6, 1), false},
		{other, false},
		{agentIn(5, "logged_off"), true}, // left the job
		{jobState(5, 1), false},
	}
	for i, s := range steps {
		if got := ag.allows(s.e); got != s.want {
			t.Errorf("agent step %d %+v: allowed=%v, want %v", i, s.e, got, s.want)
		}
	}

	byJob := &eventFilter{p: Principal{Role: config.RoleAdmin}, jobID: 5, agentID: 1001}
	if !byJob.allows(agentIn(5, "available")) || byJob.allows(jobState(5, 1)) || byJob.allows(agentIn(6, "available")) {
		t.Error("call_job_id and agent_id filters")
	}
}

// Issue 16: the desk's events reach the agent whose call they are about, the agent a consult,
// transfer or conference reaches (data.target.agent_id), the campaign's supervisors and admins;
// an agent_id filter follows the same rule.
func TestEventFilterDeskEvents(t *testing.T) {
	toAgent := func(typ string, target int) liveevents.Event {
		return liveevents.Event{Type: typ, CampaignID: 1, CallJobID: 5, AgentID: 1001,
			Data: map[string]any{"attempt_id": float64(77), "mode": "consult", "target": map[string]any{"kind": "agent", "agent_id": float64(target)}}}
	}
	held := liveevents.Event{Type: liveevents.CallHeld, CampaignID: 1, CallJobID: 5, AgentID: 1001, Data: map[string]any{"attempt_id": float64(77)}}
	types := []string{liveevents.PartyRinging, liveevents.PartyJoined, liveevents.PartyLeft, liveevents.ConsultSwapped,
		liveevents.TransferCompleted, liveevents.TransferFailed}
	for _, typ := range types {
		e := toAgent(typ, 1002)
		for _, c := range []struct {
			name string
			f    *eventFilter
			want bool
		}{
			{"the agent", &eventFilter{p: Principal{Role: config.RoleAgent, AgentID: 1001}}, true},
			{"the target agent", &eventFilter{p: Principal{Role: config.RoleAgent, AgentID: 1002}}, true},
			{"another agent", &eventFilter{p: Principal{Role: config.RoleAgent, AgentID: 1003}}, false},
			{"the campaign's supervisor", &eventFilter{p: Principal{Role: config.RoleSupervisor, CampaignIDs: []int{1}}}, true},
			{"another supervisor", &eventFilter{p: Principal{Role: config.RoleSupervisor, CampaignIDs: []int{2}}}, false},
			{"admin", &eventFilter{p: Principal{Role: config.RoleAdmin}}, true},
			{"admin, agent_id of the target", &eventFilter{p: Principal{Role: config.RoleAdmin}, agentID: 1002}, true},
			{"admin, agent_id of another", &eventFilter{p: Principal{Role: config.RoleAdmin}, agentID: 1003}, false},
		} {
			if got := c.f.allows(e); got != c.want {
				t.Errorf("%s to %s: allowed=%v, want %v", typ, c.name, got, c.want)
			}
		}
	}
	for _, typ := range []string{liveevents.PreviewOffered, liveevents.PreviewSkipped, liveevents.CallHeld, liveevents.CallResumed} {
		e := held
		e.Type = typ
		if !(&eventFilter{p: Principal{Role: config.RoleAgent, AgentID: 1001}}).allows(e) ||
			(&eventFilter{p: Principal{Role: config.RoleAgent, AgentID: 1002}}).allows(e) {
			t.Errorf("%s: only the agent of the call sees it", typ)
		}
	}
	// A target that is no agent concerns nobody else.
	num := toAgent(liveevents.PartyRinging, 0)
	num.Data["target"] = map[string]any{"kind": "number", "number": "0312345678"}
	if (&eventFilter{p: Principal{Role: config.RoleAgent, AgentID: 1002}}).allows(num) {
		t.Error("a number target reached another agent")
	}
}
