package httpapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

// Issue 16: a contact's attempts show how each was dialed (dial_kind) and its steps, oldest
// first, each with when, what, whose call, who asked and whom it reached; an attempt without
// steps has an empty list (storetest's addDeskFixture: X1 held and transferred, Y1 in a
// conference, P1 a skipped preview of Y1's contact).
func TestContactAttemptsDeskAPI(t *testing.T) {
	e, fx := newReportEnv(t)
	var x1Contact, p1Contact int64
	if err := e.store.DB().QueryRow(`SELECT (SELECT contact_id FROM attempts WHERE id = $1), (SELECT contact_id FROM attempts WHERE id = $2)`,
		fx.Attempts["X1"], fx.Attempts["P1"]).Scan(&x1Contact, &p1Contact); err != nil {
		t.Fatal(err)
	}
	byID := func(contact int64) map[float64]map[string]any {
		t.Helper()
		r := e.mustCall(http.StatusOK, adminToken, http.MethodGet, fmt.Sprintf("/api/v1/contacts/%d/attempts", contact), nil)
		out := map[float64]map[string]any{}
		for _, it := range r.Body["items"].([]any) {
			a := it.(map[string]any)
			out[a["id"].(float64)] = a
		}
		return out
	}
	x1 := byID(x1Contact)[float64(fx.Attempts["X1"])]
	if x1["dial_kind"] != "paced" {
		t.Fatalf("X1: %v", x1)
	}
	steps := x1["steps"].([]any)
	if len(steps) != 4 {
		t.Fatalf("X1 steps: %v", steps)
	}
	want := map[string]any{"at": "2026-03-09T15:01:20Z", "kind": "transferred", "agent_id": 1001.0, "by": "agent-1001",
		"target_kind": "agent", "target": "1002", "detail": ""}
	if got := steps[3].(map[string]any); !reflect.DeepEqual(got, want) {
		t.Errorf("X1's last step %v, want %v", got, want)
	}
	if steps[0].(map[string]any)["kind"] != "hold" || steps[1].(map[string]any)["kind"] != "unhold" {
		t.Errorf("X1 steps out of order: %v", steps)
	}
	p1 := byID(p1Contact)
	for id, a := range p1 {
		if s, ok := a["steps"].([]any); !ok || id != float64(fx.Attempts["Y1"]) && len(s) != 0 {
			t.Errorf("attempt %v steps %v", id, a["steps"])
		}
	}
	if a := p1[float64(fx.Attempts["P1"])]; a["dial_kind"] != "preview" || a["outcome"] != "skipped" || a["skip_reason"] != "preview:not_now" {
		t.Errorf("P1: %v", a)
	}
}
