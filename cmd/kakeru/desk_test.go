package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// The agent's desk end to end (issue 16): the API, Redis, PostgreSQL and the engine on the
// simulated switch, as a UI drives them: a job switched to preview, a skip and a dial, hold, a
// consult with an allowed number completed, a manual dial, and what the attempts and the
// report then show.
func TestDeskEndToEnd(t *testing.T) {
	script := func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		return fsim.Fate{Answer: true, Ring: 50 * time.Millisecond}
	}
	m, sw, job := dialFixture(t, script, "09011110001", "09011110002")
	const admin, agentTok = "demo-admin-token", "demo-agent-1001-token"
	agent := "/api/v1/agents/1001/"
	j := must(t, 200)(call(t, m, admin, "PATCH", fmt.Sprintf("/api/v1/call-jobs/%d", job), map[string]any{"pacing_mode": "preview"}))
	if j["pacing_mode"] != "preview" || j["effective_pacing_mode"] != "preview" {
		t.Fatalf("job %v", j)
	}
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agentTok, "POST", agent+"join", map[string]any{"call_job_id": job}))

	preview := func() map[string]any {
		var p map[string]any
		waitFor(t, "a preview", func() bool {
			s := session(t, m, 1001)
			p, _ = s["preview"].(map[string]any)
			return s["state"] == "preview" && p != nil
		})
		return p
	}
	first := preview()
	if n := len(commandsLike(sw, "bgapi originate")); n != 1 { // the agent's phone only
		t.Fatalf("%d originates before the agent chose", n)
	}
	firstID := first["attempt_id"]
	must(t, 202)(call(t, m, agentTok, "POST", agent+"preview/skip", map[string]any{"attempt_id": firstID, "reason": "not_now"}))
	second := preview()
	if second["attempt_id"] == firstID {
		waitFor(t, "the next preview", func() bool { second = preview(); return second["attempt_id"] != firstID })
	}
	must(t, 202)(call(t, m, agentTok, "POST", agent+"preview/dial", map[string]any{"attempt_id": second["attempt_id"]}))
	waitFor(t, "on the call", func() bool {
		s := session(t, m, 1001)
		c, _ := s["call"].(map[string]any)
		return s["state"] == "on_call" && c != nil && c["dialing"] == false && hasAction(s, "hold")
	})

	must(t, 202)(call(t, m, agentTok, "POST", agent+"hold", nil))
	waitFor(t, "held", func() bool {
		c, _ := session(t, m, 1001)["call"].(map[string]any)
		return c != nil && c["held"] == true
	})
	must(t, 202)(call(t, m, agentTok, "DELETE", agent+"hold", nil))
	waitFor(t, "resumed", func() bool {
		c, _ := session(t, m, 1001)["call"].(map[string]any)
		return c != nil && c["held"] == false
	})

	code, body := call(t, m, agentTok, "POST", agent+"transfer", map[string]any{"mode": "attended", "target": map[string]any{"number": "0399999999"}})
	if code != 409 || body["error"].(map[string]any)["code"] != "number_not_allowed" {
		t.Fatalf("a number off the allow-list: %d %v", code, body)
	}
	must(t, 202)(call(t, m, agentTok, "POST", agent+"transfer", map[string]any{"mode": "attended", "target": map[string]any{"number": "0355550000"}}))
	waitFor(t, "talking to the number", func() bool {
		c, _ := session(t, m, 1001)["call"].(map[string]any)
		p, _ := c["party"].(map[string]any)
		return p != nil && p["state"] == "talking" && c["held"] == true
	})
	must(t, 202)(call(t, m, agentTok, "POST", agent+"transfer/complete", nil))
	waitFor(t, "wrap-up after the transfer", func() bool { return session(t, m, 1001)["state"] == "wrap_up" })

	// A manual dial from a break (a preview job offers contacts to available agents only).
	must(t, 202)(call(t, m, agentTok, "POST", agent+"state", map[string]any{"state": "break"}))
	waitFor(t, "break", func() bool { return session(t, m, 1001)["state"] == "break" })
	must(t, 202)(call(t, m, agentTok, "POST", agent+"dial", map[string]any{"tel": "03-7777-0001"}))
	waitFor(t, "the manual call connected", func() bool {
		s := session(t, m, 1001)
		c, _ := s["call"].(map[string]any)
		return s["state"] == "on_call" && c != nil && c["dialed_tel"] == "0377770001" && c["dialing"] == false
	})
	must(t, 202)(call(t, m, agentTok, "POST", agent+"hangup-customer", nil))
	waitFor(t, "wrap-up", func() bool { return session(t, m, 1001)["state"] == "wrap_up" })

	out := outcomesWithSteps(t, m, job)
	want := map[string]int{"skipped": 1, "in_progress": 1, // the transferred customer still talks to the number
		"step:preview_skipped": 1, "step:hold": 1, "step:unhold": 1, "step:consult": 1, "step:consult_answered": 1, "step:transferred": 1}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("%s: %d, want %d (all: %v)", k, out[k], v, out)
		}
	}
	rep := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/reports/summary?call_job_id=%d", job), nil))
	desk, _ := rep["desk"].(map[string]any)
	if desk["holds"] != float64(1) || desk["manual_dials"] != float64(1) || desk["preview_dials"] != float64(1) ||
		desk["transfers_completed"] != float64(1) || desk["preview_skips"].(map[string]any)["not_now"] != float64(1) {
		t.Errorf("report's desk counts %v", desk)
	}
}

func hasAction(s map[string]any, name string) bool {
	acts, _ := s["actions"].([]any)
	return slices.ContainsFunc(acts, func(a any) bool { return a.(map[string]any)["action"] == name })
}

// outcomesWithSteps counts the job's attempts by outcome and their steps by kind.
func outcomesWithSteps(t *testing.T, m *Main, job int64) map[string]int {
	t.Helper()
	const admin = "demo-admin-token"
	j := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/call-jobs/%d", job), nil))
	contacts := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/contacts?batch_id=%d&limit=500", int64(j["batch_id"].(float64))), nil))
	out := map[string]int{}
	for _, c := range contacts["items"].([]any) {
		att := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/contacts/%d/attempts", int64(c.(map[string]any)["id"].(float64))), nil))
		for _, a := range att["items"].([]any) {
			a := a.(map[string]any)
			out[a["outcome"].(string)]++
			for _, s := range a["steps"].([]any) {
				out["step:"+s.(map[string]any)["kind"].(string)]++
			}
		}
	}
	return out
}
