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
