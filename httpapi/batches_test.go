package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// B-2: the manual's three examples through the API, with R set per case.
func TestCreateBatchManualDates(t *testing.T) {
	for _, tc := range []struct {
		r                 int
		end, del, history string
	}{
		{180, "2022-10-29", "2023-01-27", "2023-07-25"},
		{91, "2022-08-01", "2022-10-30", "2023-01-28"},
		{366, "2023-05-03", "2023-08-01", "2024-07-31"},
	} {
		t.Run(fmt.Sprint("R=", tc.r), func(t *testing.T) {
			e := newEnv(t, "2022-07-20 10:00", func(c *config.Config) { c.System.HistoryRetentionDays = tc.r })
			r := e.mustCall(http.StatusCreated, adminToken, http.MethodPost, "/api/v1/batches",
				map[string]any{"name": "August mailing", "campaign_id": 1, "start_date": "2022-08-01", "memo": "DM 8月分"})
			b := r.Body
			if b["start_date"] != "2022-08-01" || b["end_date"] != tc.end || b["delete_date"] != tc.del || b["history_delete_date"] != tc.history {
				t.Fatalf("got %s", r.Raw)
			}
			if b["memo"] != "DM 8月分" || b["campaign_id"] != float64(1) || b["created_at"] != "2022-07-20T10:00:00+09:00" {
				t.Fatalf("got %s", r.Raw)
			}
			// An explicit end beyond start + (R − 91) is 422.
			late := map[int]string{180: "2022-10-30", 91: "2022-08-02", 366: "2023-05-04"}[tc.r]
			r = e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, "/api/v1/batches",
				map[string]any{"name": "x", "campaign_id": 1, "start_date": "2022-08-01", "end_date": late})
			if r.errorCode() != "batch_end_out_of_bounds" {
				t.Fatalf("got %s", r.Raw)
			}
			e.mustCall(http.StatusCreated, adminToken, http.MethodPost, "/api/v1/batches",
				map[string]any{"name": "x", "campaign_id": 1, "start_date": "2022-08-01", "end_date": tc.end})
		})
	}
}

func TestCreateBatchValidation(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	long := make([]rune, 101)
	for i := range long {
		long[i] = 'あ'
	}
	r := e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": string(long), "campaign_id": 99, "start_date": "2022/08/01"})
	details, _ := r.Body["error"].(map[string]any)["details"].([]any)
	if r.errorCode() != "invalid_input" || len(details) != 3 {
		t.Fatalf("want three field problems (name, campaign_id, start_date): %s", r.Raw)
	}
	// 100 multibyte characters are fine: length counts characters, not bytes.
	e.mustCall(http.StatusCreated, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": string(long[:100]), "campaign_id": 1, "start_date": "2022-08-01"})
	r = e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": "x", "campaign_id": 1, "start_date": "2022-07-19"})
	if r.errorCode() != "batch_start_in_past" {
		t.Fatalf("got %s", r.Raw)
	}
	r = e.mustCall(http.StatusBadRequest, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": "x", "campaign_id": 1, "start_date": "2022-08-01", "colour": "red"})
	if r.errorCode() != "malformed_json" {
		t.Fatalf("got %s", r.Raw)
	}
	if n := storetest.Count(t, e.store, "batches", "TRUE"); n != 1 {
		t.Fatalf("%d batches stored, want only the valid one", n)
	}
}

// B-7 through the API: 409 naming the rule at the limit.
func TestCreateBatchLimitReached(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", func(c *config.Config) { c.System.Limits.MaxBatches = 1 })
	e.createBatch("2022-08-01")
	r := e.mustCall(http.StatusConflict, adminToken, http.MethodPost, "/api/v1/batches",
		map[string]any{"name": "x", "campaign_id": 1, "start_date": "2022-08-01"})
	if r.errorCode() != "batch_limit_reached" || r.Body["error"].(map[string]any)["rule"] != "B-7" {
		t.Fatalf("got %s", r.Raw)
	}
}

// B-3 through the API: attempt on 08-15, clock 08-20.
func TestPatchBatchAfterStart(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	id := e.createBatch("2022-08-01")
	storetest.AddAttempt(t, e.store, id, at("2022-08-15 00:30"), "busy") // 08-14 in UTC: the campaign's day counts
	e.now = at("2022-08-20 09:00")
	path := fmt.Sprintf("/api/v1/batches/%d", id)
	for _, tc := range []struct {
		field, value string
		status       int
		code         string
	}{
		{"start_date", "2022-08-16", http.StatusConflict, "batch_start_after_first_attempt"},
		{"start_date", "2022-08-15", http.StatusOK, ""},
		{"end_date", "2022-08-14", http.StatusConflict, "batch_end_before_last_attempt"},
		{"end_date", "2022-08-15", http.StatusOK, ""},
	} {
		r := e.mustCall(tc.status, supervisorToken, http.MethodPatch, path, map[string]any{tc.field: tc.value})
		if r.errorCode() != tc.code {
			t.Errorf("%s=%s: got %s", tc.field, tc.value, r.Raw)
		}
	}
	r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, path, nil)
	if r.Body["start_date"] != "2022-08-15" || r.Body["end_date"] != "2022-08-15" || r.Body["delete_date"] != "2022-11-13" {
		t.Fatalf("got %s", r.Raw)
	}
	r = e.mustCall(http.StatusUnprocessableEntity, adminToken, http.MethodPatch, path, map[string]any{"campaign_id": 2})
	if r.errorCode() != "invalid_input" {
		t.Fatalf("got %s", r.Raw)
	}
}

// B-5 through the API: each refusal is 409 with its code, then deletion works.
func TestDeleteBatchRefusals(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	id := e.createBatch("2022-08-01")
	list := storetest.AddList(t, e.store, id, "09011112222")
	job := storetest.AddCallJob(t, e.store, id, list, "running")
	attempt := storetest.AddAttempt(t, e.store, id, at("2022-08-15 11:00"), "connected")
	path := fmt.Sprintf("/api/v1/batches/%d", id)
	steps := []struct {
		code string
		fix  func()
	}{
		{"batch_job_running", func() { storetest.SetCallJobStatus(t, e.store, job, "stopped") }},
		{"batch_has_unsaved_dispositions", func() { storetest.AddDisposition(t, e.store, attempt) }},
		{"batch_has_attempts", func() { storetest.DeleteList(t, e.store, list) }},
	}
	for _, s := range steps {
		r := e.mustCall(http.StatusConflict, adminToken, http.MethodDelete, path, nil)
		if r.errorCode() != s.code {
			t.Fatalf("got %s, want %s", r.Raw, s.code)
		}
		s.fix()
	}
	e.mustCall(http.StatusNoContent, adminToken, http.MethodDelete, path, nil)
	e.mustCall(http.StatusNotFound, adminToken, http.MethodGet, path, nil)
	r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/batch-deletions", nil)
	if r.Body["total"] != float64(1) {
		t.Fatalf("deletion record: %s", r.Raw)
	}
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/batch-deletions?offset=1&limit=10", nil)
	if r.Body["total"] != float64(1) || len(r.Body["items"].([]any)) != 0 {
		t.Fatalf("deletion records past the end: %s", r.Raw)
	}
	e.mustCall(http.StatusBadRequest, adminToken, http.MethodGet, "/api/v1/batch-deletions?limit=0", nil)
}

func TestSetBatchDialGroups(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	path := fmt.Sprintf("/api/v1/batches/%d/dial-groups", e.createBatch("2022-08-01"))
	r := e.mustCall(http.StatusOK, supervisorToken, http.MethodPut, path, map[string]any{"dial_group_ids": []int{2, 1, 2}})
	if fmt.Sprint(r.Body["dial_group_ids"]) != "[1 2]" {
		t.Fatalf("got %s", r.Raw)
	}
	r = e.mustCall(http.StatusUnprocessableEntity, supervisorToken, http.MethodPut, path, map[string]any{"dial_group_ids": []int{1, 42}})
	if r.errorCode() != "invalid_input" {
		t.Fatalf("got %s", r.Raw)
	}
	r = e.mustCall(http.StatusOK, supervisorToken, http.MethodPut, path, map[string]any{"dial_group_ids": []int{}})
	if fmt.Sprint(r.Body["dial_group_ids"]) != "[]" {
		t.Fatalf("got %s", r.Raw)
	}
}

func TestListBatchesPaging(t *testing.T) {
	e := newEnv(t, "2022-07-20 10:00", nil)
	for range 3 {
		e.createBatch("2022-08-01")
	}
	r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/batches?limit=2&offset=1", nil)
	if r.Body["total"] != float64(3) || len(r.Body["items"].([]any)) != 2 {
		t.Fatalf("got %s", r.Raw)
	}
	e.mustCall(http.StatusBadRequest, adminToken, http.MethodGet, "/api/v1/batches?limit=0", nil)
}
