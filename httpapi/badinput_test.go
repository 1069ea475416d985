package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// Issue 13 row 7: out-of-range numbers, invalid UTF-8 and absurd dates in query parameters get a
// 4xx naming the field, never a 500 from PostgreSQL, on every route that reads them.
func TestQueryParametersOutOfRange(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: storetest.New(t), cfg: cfg, now: at("2026-03-10 20:00")}
	api := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: e.store, Lists: e.store, Jobs: e.store,
		Callbacks: e.store, Reports: e.store, Now: func() time.Time { return e.now }})
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	fx := storetest.AddReportFixture(t, e.store)
	routes := []string{"/api/v1/batches", "/api/v1/batch-deletions", "/api/v1/contacts", "/api/v1/call-jobs",
		"/api/v1/unsaved-dispositions", "/api/v1/callbacks", "/api/v1/reports/summary", "/api/v1/reports/results.csv"}
	params := map[string][]string{
		"agent_id":    {"2147483648", "-1", "99999999999999999999"},
		"batch_id":    {"3000000000", "9223372036854775808", "0"},
		"campaign_id": {"99999999999", "2147483648"},
		"call_job_id": {"9223372036854775807", "9223372036854775808"},
		"q":           {"\xff\xfe", "a\x00b", strings.Repeat("word ", 1000), strings.Repeat("長", 101)},
		"from":        {"0001-01-01", "9999-12-31T20:00:00Z"},
		"to":          {"9999-12-31", "9999-12-31T20:00:00Z"},
		"due_before":  {"0001-01-01T00:00:00Z", "99999-01-01"},
		"limit":       {"2147483648"},
		"offset":      {"9223372036854775807", "2147483648"},
	}
	for _, route := range routes {
		for name, values := range params {
			for _, v := range values {
				q := url.Values{name: {v}}
				if name != "batch_id" {
					q.Set("batch_id", fmt.Sprint(fx.Batch1)) // routes that need one get a good one
				}
				r := e.call(adminToken, http.MethodGet, route+"?"+q.Encode(), nil)
				// A well-formed id that names nothing is a 404; a refused value names its field.
				refused := r.Status == http.StatusBadRequest || r.Status == http.StatusUnprocessableEntity
				if r.Status >= 500 || refused && !strings.Contains(string(r.Raw), name) {
					t.Errorf("%s?%s=%q: %d %s", route, name, v, r.Status, r.Raw)
				}
			}
		}
	}
}

// Issue 13 rows 1 and 9: a search is at most 5 words and 100 characters (each word is a pattern
// match, the cost grows with them), and a report range far in the past or future is a 422
// invalid_range naming the bound instead of an empty answer.
func TestSearchAndRangeBounds(t *testing.T) {
	e, fx := newReportEnv(t)
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/api/v1/contacts?batch_id=%d&q=" + url.QueryEscape(strings.Repeat("a ", 6)), http.StatusBadRequest, "bad_query"},
		{"/api/v1/contacts?batch_id=%d&q=" + url.QueryEscape("a b c d e"), http.StatusOK, ""},
		{"/api/v1/reports/summary?batch_id=%d&from=2026-01-01T00:00:00Z&to=9999-12-31T20:00:00Z", http.StatusUnprocessableEntity, "invalid_range"},
		{"/api/v1/reports/summary?batch_id=%d&from=1999-12-31", http.StatusUnprocessableEntity, "invalid_range"},
		{"/api/v1/reports/results.csv?batch_id=%d&to=2100-01-01", http.StatusUnprocessableEntity, "invalid_range"},
	} {
		r := e.call(adminToken, http.MethodGet, fmt.Sprintf(c.path, fx.Batch1), nil)
		if r.Status != c.status || c.code != "" && r.errorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.path, r.Status, r.Raw, c.status, c.code)
		}
	}
}
