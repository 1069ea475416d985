package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
)

// Issue 16: a call job's pacing_mode is null (its campaign's) or one of progressive, ratio,
// predictive, preview; anything else is 422 invalid_input naming the field. The job shows its
// own mode and the one it dials in (effective_pacing_mode). A patch without the field keeps the
// mode, null sets it back to the campaign's.
func TestCallJobPacingModeAPI(t *testing.T) {
	e := newEnv(t, "2026-12-07 10:00", nil)
	batch := e.createBatch("2026-12-07")
	e.mustCall(http.StatusOK, adminToken, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{1}})
	list := e.upload(adminToken, batch, "Dec", []byte("name,kana,tel\r\n山田,ヤマダ,09011112222\r\n"), "utf-8")
	listID := int64(list.Body["id"].(float64))
	e.mustCall(http.StatusCreated, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/assignments", batch),
		map[string]any{"list_id": listID, "dial_group_id": 1, "count": 1})
	create := func(want int, mode any) response {
		t.Helper()
		body := map[string]any{"name": "Dec", "list_id": listID, "dial_group_id": 1, "caller_id": "0312345678"}
		if mode != "absent" {
			body["pacing_mode"] = mode
		}
		return e.mustCall(want, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/call-jobs", batch), body)
	}
	invalid := func(r response) {
		t.Helper()
		details, _ := r.Body["error"].(map[string]any)["details"].([]any)
		if r.errorCode() != "invalid_input" || len(details) != 1 || details[0].(map[string]any)["field"] != "pacing_mode" {
			t.Fatalf("refusal: %s", r.Raw)
		}
	}
	for _, bad := range []any{"sideways", "", "PREVIEW", 3, true, []string{"preview"}} {
		invalid(create(http.StatusUnprocessableEntity, bad))
	}
	// Campaign 1 paces predictively (config.example.yaml).
	r := create(http.StatusCreated, "absent")
	if r.Body["pacing_mode"] != nil || r.Body["effective_pacing_mode"] != "predictive" {
		t.Fatalf("job without a mode: %s", r.Raw)
	}
	if r = create(http.StatusCreated, nil); r.Body["pacing_mode"] != nil || r.Body["effective_pacing_mode"] != "predictive" {
		t.Fatalf("job with a null mode: %s", r.Raw)
	}
	r = create(http.StatusCreated, "preview")
	if r.Body["pacing_mode"] != "preview" || r.Body["effective_pacing_mode"] != "preview" {
		t.Fatalf("preview job: %s", r.Raw)
	}
	job := fmt.Sprintf("/api/v1/call-jobs/%d", int64(r.Body["id"].(float64)))
	invalid(e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPatch, job, map[string]any{"pacing_mode": "fast"}))
	if r = e.mustCall(http.StatusOK, adminToken, http.MethodPatch, job, map[string]any{"memo": "m"}); r.Body["pacing_mode"] != "preview" {
		t.Fatalf("patch without the mode: %s", r.Raw)
	}
	if r = e.mustCall(http.StatusOK, adminToken, http.MethodPatch, job, map[string]any{"pacing_mode": "ratio"}); r.Body["pacing_mode"] != "ratio" ||
		r.Body["effective_pacing_mode"] != "ratio" {
		t.Fatalf("patch to ratio: %s", r.Raw)
	}
	if r = e.mustCall(http.StatusOK, adminToken, http.MethodPatch, job, map[string]any{"pacing_mode": nil}); r.Body["pacing_mode"] != nil ||
		r.Body["effective_pacing_mode"] != "predictive" {
		t.Fatalf("patch back to the campaign's: %s", r.Raw)
	}
	if r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, job, nil); r.Body["effective_pacing_mode"] != "predictive" {
		t.Fatalf("get: %s", r.Raw)
	}
}
