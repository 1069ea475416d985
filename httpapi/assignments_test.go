package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// and L-7 through the API.
func TestAssignmentsAndListDeletion(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	e.mustCall(http.StatusOK, adminToken, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{1}})
	r := e.upload(adminToken, batch, "A", toSJIS(t, "name,kana,tel\r\n山田,ヤマダ,09011112222\r\n佐藤,サトウ,09011112223\r\n"), "")
	if r.Status != http.StatusCreated {
		t.Fatalf("import: %s", r.Raw)
	}
	list := int64(r.Body["id"].(float64))
	path := fmt.Sprintf("/api/v1/batches/%d/assignments", batch)

	for _, tc := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"list_id": list, "dial_group_id": 1, "count": 1}, http.StatusUnprocessableEntity, "assignment_count_mismatch"},
		{map[string]any{"list_id": list, "dial_group_id": 2, "count": 2}, http.StatusUnprocessableEntity, "dial_group_not_in_batch"},
		{map[string]any{"list_id": list + 100, "dial_group_id": 1, "count": 2}, http.StatusUnprocessableEntity, "unknown_list"},
		{map[string]any{"list_id": list, "dial_group_id": 1, "count": 2}, http.StatusCreated, ""},
		{map[string]any{"list_id": list, "dial_group_id": 1, "count": 2}, http.StatusConflict, "list_already_assigned"},
	} {
		r := e.mustCall(tc.status, supervisorToken, http.MethodPost, path, tc.body)
		if r.errorCode() != tc.code {
			t.Fatalf("%v: got %s", tc.body, r.Raw)
		}
	}
	r = e.mustCall(http.StatusOK, supervisorToken, http.MethodGet, path, nil)
	assignment := int64(r.Body["items"].([]any)[0].(map[string]any)["id"].(float64))
	e.mustCall(http.StatusForbidden, supervisor2Token, http.MethodDelete, fmt.Sprintf("/api/v1/assignments/%d", assignment), nil)

	// A running job that has already dialed from the assignment blocks its deletion; a
	// running job blocks the list's deletion (L-7).
	job := storetest.AddCallJob(t, e.store, batch, list, "running")
	e.mustCall(http.StatusConflict, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/lists/%d", list), nil)
	storetest.AddJobAttempt(t, e.store, job, list, at("2022-08-02 10:00"))
	r = e.mustCall(http.StatusConflict, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/assignments/%d", assignment), nil)
	if r.errorCode() != "assignment_in_use" {
		t.Fatalf("got %s", r.Raw)
	}
	storetest.SetCallJobStatus(t, e.store, job, "stopped")
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/assignments/%d", assignment), nil)
	// a deleted assignment cannot be created again for the same list.
	r = e.mustCall(http.StatusConflict, adminToken, http.MethodPost, path, map[string]any{"list_id": list, "dial_group_id": 1, "count": 2})
	if r.errorCode() != "assignment_deleted" {
		t.Fatalf("got %s", r.Raw)
	}
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/lists/%d", list), nil)
	e.mustCall(http.StatusNotFound, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/lists/%d", list), nil)
	if n := storetest.Count(t, e.store, "contacts", "list_id = $1", list); n != 0 {
		t.Fatalf("%d contacts left after the list was deleted", n)
	}
}

// A running job that has not dialed yet does not hold its assignment (A-2 says "and has already
// dialed from it").
func TestAssignmentDeletableBeforeFirstDial(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	batch := e.createBatch("2022-08-01")
	e.mustCall(http.StatusOK, adminToken, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{1}})
	r := e.upload(adminToken, batch, "A", toSJIS(t, "name,kana,tel\r\n山田,ヤマダ,09011112222\r\n"), "")
	list := int64(r.Body["id"].(float64))
	r = e.mustCall(http.StatusCreated, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/assignments", batch),
		map[string]any{"list_id": list, "dial_group_id": 1, "count": 1})
	storetest.AddCallJob(t, e.store, batch, list, "running")
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, fmt.Sprintf("/api/v1/assignments/%d", int64(r.Body["id"].(float64))), nil)
}
