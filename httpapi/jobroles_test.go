package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

// jobFixture makes a batch of campaign 1 with a two-contact list handed to dial group 1 and a
// stopped call job on it, at the env's clock (inside campaign 1's business hours).
func (e *env) jobFixture(start, name string) int64 {
	e.t.Helper()
	batch := e.createBatch(start)
	e.mustCall(http.StatusOK, adminToken, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{1, 2}})
	r := e.upload(adminToken, batch, "list", []byte("name,kana,tel\r\n山田,ヤマダ,09011112222\r\n佐藤,サトウ,09011112223\r\n"), "utf-8")
	if r.Status != http.StatusCreated {
		e.t.Fatalf("import: %d %s", r.Status, r.Raw)
	}
	list := int64(r.Body["id"].(float64))
	e.mustCall(http.StatusCreated, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/assignments", batch),
		map[string]any{"list_id": list, "dial_group_id": 1, "count": 2})
	r = e.mustCall(http.StatusCreated, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/call-jobs", batch),
		map[string]any{"name": name, "list_id": list, "dial_group_id": 1, "caller_id": "0312345678", "memo": "memo of " + name})
	return int64(r.Body["id"].(float64))
}

// Manual §6 (J-5, J-6, X-1): the supervisors of a campaign stop its jobs, and start them only
// when their user may (may_start_jobs); the job keeps who started and who stopped it.
func TestSupervisorStartsAndStopsJobs(t *testing.T) {
	e := newEnv(t, "2026-03-10 10:00", func(c *config.Config) {
		for i := range c.Users {
			if c.Users[i].Name == "supervisor2" {
				c.Users[i].MayStartJobs = true
				c.Users[i].CampaignIDs = []int{1, 2}
			}
		}
	})
	job := e.jobFixture("2026-03-10", "Morning")
	start := fmt.Sprintf("/api/v1/call-jobs/%d/start", job)
	stop := fmt.Sprintf("/api/v1/call-jobs/%d/stop", job)
	get := fmt.Sprintf("/api/v1/call-jobs/%d", job)

	if r := e.mustCall(http.StatusForbidden, supervisorToken, http.MethodPost, start, nil); r.errorCode() != "forbidden" {
		t.Fatalf("start by a supervisor without may_start_jobs: %s", r.Raw)
	}
	e.mustCall(http.StatusForbidden, agentToken, http.MethodPost, start, nil)
	if r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, get, nil); r.Body["status"] != "stopped" || r.Body["started_by"] != nil {
		t.Fatalf("a refused start changed the job: %s", r.Raw)
	}
	r := e.mustCall(http.StatusOK, supervisor2Token, http.MethodPost, start, nil)
	if r.Body["status"] != "running" || r.Body["started_by"] != "supervisor2" || r.Body["stopped_by"] != nil {
		t.Fatalf("start by a supervisor with may_start_jobs: %s", r.Raw)
	}
	e.mustCall(http.StatusForbidden, agentToken, http.MethodPost, stop, nil)
	r = e.mustCall(http.StatusOK, supervisorToken, http.MethodPost, stop, nil)
	if r.Body["status"] != "stopped" || r.Body["stop_reason"] != "supervisor" || r.Body["stopped_by"] != "supervisor" {
		t.Fatalf("stop by the campaign's supervisor: %s", r.Raw)
	}
	r = e.mustCall(http.StatusOK, adminToken, http.MethodPost, start, nil)
	if r.Body["started_by"] != "admin" || r.Body["stopped_by"] != nil || r.Body["stop_reason"] != nil {
		t.Fatalf("a new run forgets the last stop: %s", r.Raw)
	}
	r = e.mustCall(http.StatusOK, adminToken, http.MethodPost, stop, nil)
	if r.Body["stop_reason"] != "admin" || r.Body["stopped_by"] != "admin" {
		t.Fatalf("stop by the admin: %s", r.Raw)
	}
}

// A supervisor of another campaign neither starts nor stops the job, even with may_start_jobs.
func TestSupervisorOfAnotherCampaignCannotStopJobs(t *testing.T) {
	e := newEnv(t, "2026-03-10 10:00", func(c *config.Config) {
		for i := range c.Users {
			if c.Users[i].Name == "supervisor2" {
				c.Users[i].MayStartJobs = true
			}
		}
	})
	job := e.jobFixture("2026-03-10", "Morning")
	e.mustCall(http.StatusForbidden, supervisor2Token, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil)
	e.mustCall(http.StatusOK, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil)
	e.mustCall(http.StatusForbidden, supervisor2Token, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/stop", job), nil)
	if r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/call-jobs/%d", job), nil); r.Body["status"] != "running" {
		t.Fatalf("a refused stop changed the job: %s", r.Raw)
	}
}

// G-1: an agent lists the running jobs it may join (those of its dial groups), with their memo
// and remaining count; stopped jobs and other groups' jobs are not listed.
func TestAgentListsJoinableJobs(t *testing.T) {
	e := newEnv(t, "2026-03-10 10:00", nil)
	running := e.jobFixture("2026-03-10", "Morning")
	e.jobFixture("2026-03-10", "Idle") // stays stopped
	e.mustCall(http.StatusOK, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/call-jobs/%d/start", running), nil)

	r := e.mustCall(http.StatusOK, agentToken, http.MethodGet, "/api/v1/agents/1001/call-jobs", nil)
	items := r.Body["items"].([]any)
	if r.Body["total"] != float64(1) || len(items) != 1 {
		t.Fatalf("joinable jobs of agent 1001: %s", r.Raw)
	}
	j := items[0].(map[string]any)
	if j["id"] != float64(running) || j["memo"] != "memo of Morning" || j["remaining_count"] != float64(2) ||
		j["campaign_name"] == "" || j["dial_group_id"] != float64(1) {
		t.Fatalf("joinable job: %s", r.Raw)
	}
	e.mustCall(http.StatusForbidden, agentToken, http.MethodGet, "/api/v1/agents/1002/call-jobs", nil)
	// The supervisor of campaign 2 sees no job of campaign 1 for the agent.
	if r := e.mustCall(http.StatusOK, supervisor2Token, http.MethodGet, "/api/v1/agents/1001/call-jobs", nil); r.Body["total"] != float64(0) {
		t.Fatalf("supervisor of another campaign: %s", r.Raw)
	}
	// An agent outside dial group 1 has nothing to join.
	e.cfg.DialGroups[0].AgentIDs = []int{1002}
	if r := e.mustCall(http.StatusOK, agentToken, http.MethodGet, "/api/v1/agents/1001/call-jobs", nil); r.Body["total"] != float64(0) {
		t.Fatalf("agent outside the job's dial group: %s", r.Raw)
	}
}
