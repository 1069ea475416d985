package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// every batch endpoint × every kind of caller. Refused callers get 401/403 and nothing
// changes; the supervisor of the batch's campaign and the admin succeed.
func TestBatchEndpointsRoleMatrix(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	callers := []struct {
		name, token string
		allowed     bool
		refusal     int
	}{
		{"no token", "", false, http.StatusUnauthorized},
		{"wrong token", "not-a-token", false, http.StatusUnauthorized},
		{"agent", agentToken, false, http.StatusForbidden},
		{"supervisor of another campaign", supervisor2Token, false, http.StatusForbidden},
		{"supervisor of this campaign", supervisorToken, true, 0},
		{"admin", adminToken, true, 0},
	}
	endpoints := []struct {
		method, path string // {id} is a fresh batch of campaign 1
		body         any
		success      int
		// listing endpoints answer a supervisor of another campaign with its own (empty) view
		filtered bool
	}{
		{http.MethodPost, "/api/v1/batches", map[string]any{"name": "n", "campaign_id": 1, "start_date": "2022-08-01"}, http.StatusCreated, false},
		{http.MethodGet, "/api/v1/batches?campaign_id=1", nil, http.StatusOK, false},
		{http.MethodGet, "/api/v1/batches", nil, http.StatusOK, true},
		{http.MethodGet, "/api/v1/batches/{id}", nil, http.StatusOK, false},
		{http.MethodPatch, "/api/v1/batches/{id}", map[string]any{"memo": "changed"}, http.StatusOK, false},
		{http.MethodDelete, "/api/v1/batches/{id}", nil, http.StatusNoContent, false},
		{http.MethodPut, "/api/v1/batches/{id}/dial-groups", map[string]any{"dial_group_ids": []int{1}}, http.StatusOK, false},
		{http.MethodGet, "/api/v1/batch-deletions", nil, http.StatusOK, true},
	}
	for _, ep := range endpoints {
		for _, c := range callers {
			t.Run(ep.method+" "+ep.path+" as "+c.name, func(t *testing.T) {
				id := e.createBatch("2022-08-01")
				path := strings.ReplaceAll(ep.path, "{id}", fmt.Sprint(id))
				before := e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/batches/%d", id), nil)
				countBefore := e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/batches", nil).Body["total"]

				want := ep.success
				switch {
				case c.allowed:
				case ep.filtered && c.token == supervisor2Token: // its own, empty view
				default:
					want = c.refusal
				}
				r := e.mustCall(want, c.token, ep.method, path, ep.body)
				if want >= 400 {
					if r.errorCode() == "" {
						t.Fatalf("refusal without an error code: %s", r.Raw)
					}
					after := e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/batches/%d", id), nil)
					if string(after.Raw) != string(before.Raw) {
						t.Fatalf("refused call changed the batch:\n%s\n%s", before.Raw, after.Raw)
					}
					if n := e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/batches", nil).Body["total"]; n != countBefore {
						t.Fatalf("refused call changed the number of batches: %v → %v", countBefore, n)
					}
				}
				if ep.filtered && c.token == supervisor2Token {
					if items := r.Body["items"].([]any); len(items) != 0 {
						t.Fatalf("supervisor of campaign 2 sees campaign 1's data: %s", r.Raw)
					}
				}
			})
		}
	}
}

// X-1 on the configuration views.
func TestCatalogRoles(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	r := e.mustCall(http.StatusOK, supervisor2Token, http.MethodGet, "/api/v1/campaigns", nil)
	if r.Body["total"] != float64(1) {
		t.Fatalf("supervisor of campaign 2 sees %s", r.Raw)
	}
	e.mustCall(http.StatusForbidden, supervisor2Token, http.MethodGet, "/api/v1/campaigns/1", nil)
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/campaigns/1", nil)
	bh := r.Body["business_hours"].(map[string]any)
	if bh["start"] == nil || r.Body["pacing"].(map[string]any)["mode"] == nil {
		t.Fatalf("campaign: %s", r.Raw)
	}
	e.mustCall(http.StatusNotFound, adminToken, http.MethodGet, "/api/v1/campaigns/99", nil)
	e.mustCall(http.StatusForbidden, agentToken, http.MethodGet, "/api/v1/campaigns", nil)
	e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, "/api/v1/dial-groups", nil)
	e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, "/api/v1/agents", nil)
	e.mustCall(http.StatusForbidden, agentToken, http.MethodGet, "/api/v1/agents", nil)
	e.mustCall(http.StatusUnauthorized, "", http.MethodGet, "/api/v1/status", nil)
	// Issue 13 row 14: the status names switch addresses and the instance: staff only.
	e.mustCall(http.StatusForbidden, agentToken, http.MethodGet, "/api/v1/status", nil)
	e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, "/api/v1/status", nil)
	e.mustCall(http.StatusOK, "", http.MethodGet, "/healthz", nil)
	r = e.mustCall(http.StatusNotFound, adminToken, http.MethodGet, "/api/v1/nowhere", nil)
	if r.errorCode() != "not_found" {
		t.Fatalf("got %s", r.Raw)
	}
	r = e.mustCall(http.StatusMethodNotAllowed, adminToken, http.MethodPost, "/api/v1/batches/1", nil)
	if r.errorCode() != "method_not_allowed" {
		t.Fatalf("got %s", r.Raw)
	}
}
