package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// J-8: a campaign shows its calendar, whether it is open now and its next open window; a job
// shows whether it is paused outside calling hours; J-5 refuses a start on a closed day.
func TestCalendarInTheAPI(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Campaign 1 (the demo, open all day) gets campaign 2's calendar of the example: weekdays
	// 09:00-12:00 and 13:00-18:00, closed 2026-12-30/31 and on public holidays.
	cfg.Campaigns[0].CallingCalendar = cfg.Campaigns[1].CallingCalendar
	e := &env{t: t, store: storetest.New(t), cfg: cfg, now: at("2026-12-07 12:30")} // a Monday, at lunch
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: e.store, Jobs: e.store,
		Now: func() time.Time { return e.now }})
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)

	r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/campaigns/2", nil)
	cal := r.Body["calendar"].(map[string]any)
	if fmt.Sprint(cal["hours"].(map[string]any)["mon"]) != "[09:00-12:00 13:00-18:00]" ||
		fmt.Sprint(cal["hours"].(map[string]any)["sat"]) != "[]" || cal["closed_on_public_holidays"] != "jp" ||
		fmt.Sprint(cal["closed_dates"]) != "[2026-12-30 2026-12-31]" {
		t.Fatalf("calendar %s", r.Raw)
	}
	next := r.Body["next_open_window"].(map[string]any)
	if r.Body["open_now"] != false || next["start"] != "2026-12-07T13:00:00+09:00" || next["end"] != "2026-12-07T18:00:00+09:00" {
		t.Fatalf("at lunch: %s", r.Raw)
	}
	e.now = at("2026-12-07 10:00")
	r = e.mustCall(http.StatusOK, supervisor2Token, http.MethodGet, "/api/v1/campaigns/2", nil)
	if next := r.Body["next_open_window"].(map[string]any); r.Body["open_now"] != true || next["start"] != "2026-12-07T09:00:00+09:00" {
		t.Fatalf("open: %s", r.Raw)
	}
	e.now = at("2026-12-29 18:00") // next: the 30th and 31st closed, 1st a holiday, 2nd-3rd a weekend
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/campaigns/2", nil)
	if next := r.Body["next_open_window"].(map[string]any); next["start"] != "2027-01-04T09:00:00+09:00" {
		t.Fatalf("year end: %s", r.Raw)
	}
	// Without calendar hours, every day is business_hours.
	r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, "/api/v1/campaigns", nil)
	if r.Body["total"] != float64(2) {
		t.Fatalf("campaigns %s", r.Raw)
	}

	// A job of campaign 1 started at lunch runs, paused until 13:00.
	e.now = at("2026-12-07 12:30")
	batch := e.createBatch("2026-12-07")
	e.mustCall(http.StatusOK, adminToken, http.MethodPut, fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{1}})
	list := e.upload(adminToken, batch, "Dec", []byte("name,kana,tel\r\n山田,ヤマダ,09011112222\r\n"), "utf-8")
	listID := int64(list.Body["id"].(float64))
	e.mustCall(http.StatusCreated, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/assignments", batch),
		map[string]any{"list_id": listID, "dial_group_id": 1, "count": 1})
	r = e.mustCall(http.StatusCreated, adminToken, http.MethodPost, fmt.Sprintf("/api/v1/batches/%d/call-jobs", batch),
		map[string]any{"name": "Dec", "list_id": listID, "dial_group_id": 1, "caller_id": "0312345678"})
	job := fmt.Sprintf("/api/v1/call-jobs/%d", int64(r.Body["id"].(float64)))
	if r.Body["paused_outside_hours"] != false || r.Body["next_open_window"] == nil {
		t.Fatalf("stopped job: %s", r.Raw)
	}
	r = e.mustCall(http.StatusOK, adminToken, http.MethodPost, job+"/start", nil)
	if next := r.Body["next_open_window"].(map[string]any); r.Body["status"] != "running" || r.Body["paused_outside_hours"] != true ||
		next["start"] != "2026-12-07T13:00:00+09:00" {
		t.Fatalf("job started at lunch: %s", r.Raw)
	}
	e.now = at("2026-12-07 13:00")
	if r = e.mustCall(http.StatusOK, adminToken, http.MethodGet, job, nil); r.Body["paused_outside_hours"] != false {
		t.Fatalf("job after lunch: %s", r.Raw)
	}
	e.mustCall(http.StatusOK, adminToken, http.MethodPost, job+"/stop", nil)
	for _, now := range []string{"2026-12-30 10:00", "2026-12-12 10:00", "2027-01-11 10:00"} { // closed date, Saturday, Coming of Age Day
		e.now = at(now)
		if r := e.mustCall(http.StatusConflict, adminToken, http.MethodPost, job+"/start", nil); r.errorCode() != "closed_day" {
			t.Fatalf("%s: %s", now, r.Raw)
		}
	}
	e.now = at("2027-01-12 07:59")
	if r := e.mustCall(http.StatusConflict, adminToken, http.MethodPost, job+"/start", nil); r.errorCode() != "outside_business_hours" {
		t.Fatalf("07:59: %s", r.Raw)
	}
	if calendar.IsJapaneseHoliday(calendar.Date{Year: 2027, Month: time.January, Day: 12}) {
		t.Fatal("fixture: 2027-01-12 is a holiday")
	}
}
