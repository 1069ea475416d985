package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// FuzzJSONRoutes sends arbitrary bodies to every route family that reads JSON, as the admin, over
// the report fixture in PostgreSQL: whatever the bytes, the answer is never a 5xx nor a panic
// (issue 13). `make fuzz` runs it for minutes; `make test` runs its seeds.
func FuzzJSONRoutes(f *testing.F) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	st := storetest.New(f)
	fx := storetest.AddReportFixture(f, st)
	now := at("2026-03-10 20:00")
	// The desk's routes read their bodies once the agent is in a state for them (issue 16).
	desk := &memDesk{agents: map[int]agentstate.Agent{
		1001: {ID: 1001, State: domain.AgentOnCall, CallJobID: fx.Job1, AttemptID: fx.Attempts["X3"]},
		1002: {ID: 1002, State: domain.AgentPreview, CallJobID: fx.Job1, AttemptID: 7, Preview: &agentstate.Preview{AttemptID: 7}},
		1003: {ID: 1003, State: domain.AgentAvailable, CallJobID: fx.Job1},
	}}
	h := httpapi.New(httpapi.Options{Config: staticConfig{cfg}, Batches: st, Lists: st, Jobs: st, Callbacks: st,
		Reports: st, Desk: desk, Monitor: monitorSource{desk, st}, Supervisor: nodeSupervisor{},
		Now: func() time.Time { return now }}).Handler()
	routes := []struct{ method, path, seed string }{
		{"POST", "/api/v1/batches", `{"name":"f","campaign_id":1,"start_date":"2026-03-11"}`},
		{"PATCH", fmt.Sprintf("/api/v1/batches/%d", fx.Batch1), `{"name":"g","memo":"m\nn"}`},
		{"PUT", fmt.Sprintf("/api/v1/batches/%d/dial-groups", fx.Batch1), `{"dial_group_ids":[1]}`},
		{"POST", fmt.Sprintf("/api/v1/batches/%d/assignments", fx.Batch1), `{"list_id":1,"dial_group_id":1}`},
		{"POST", fmt.Sprintf("/api/v1/batches/%d/call-jobs", fx.Batch1), `{"name":"j","list_id":1,"dial_group_id":1,"caller_id":"0312345678","filter":{"phone_type":"mobile","attempts_max":2}}`},
		{"PATCH", fmt.Sprintf("/api/v1/call-jobs/%d", fx.Job1), `{"memo":"x"}`},
		{"POST", "/api/v1/agents/1001/join", `{"call_job_id":1}`},
		{"POST", "/api/v1/agents/1001/state", `{"state":"break"}`},
		{"POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", fx.Attempts["X3"]), `{"result_code":"interested","next_action":"complete","memo":"ok"}`},
		{"PATCH", "/api/v1/callbacks/1", `{"due_at":"2026-03-11T10:00:00+09:00"}`},
		{"POST", "/api/v1/agents/1001/listen", `{"supervisor_endpoint":"user/2001"}`},
		{"POST", "/api/v1/agents/1001/transfer", `{"mode":"attended","target":{"number":"0399990000"}}`},
		{"POST", "/api/v1/agents/1001/conference", `{"target":{"supervisor":"supervisor"}}`},
		{"POST", "/api/v1/agents/1002/preview/skip", `{"attempt_id":7,"reason":"not_now"}`},
		{"POST", "/api/v1/agents/1002/preview/dial", `{"attempt_id":7}`},
		{"POST", "/api/v1/agents/1003/dial", `{"tel":"03-1234-5678","caller_id":"0312345678"}`},
	}
	for i, r := range routes {
		f.Add(uint8(i), []byte(r.seed))
		f.Add(uint8(i), []byte(`{"name":"a\ud800b"}`))
		f.Add(uint8(i), []byte("{\"memo\":\"\u202e\"}"))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, rec.Code, rec.Body.String())
		}
	})
}
