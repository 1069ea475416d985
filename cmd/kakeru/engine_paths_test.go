package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// outcomes maps each contact's number to the outcomes of its attempts, oldest first.
func outcomes(t *testing.T, m *Main, job int64) map[string][]string {
	t.Helper()
	const admin = "demo-admin-token"
	j := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/call-jobs/%d", job), nil))
	contacts := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/contacts?batch_id=%d&limit=500", int64(j["batch_id"].(float64))), nil))
	out := map[string][]string{}
	for _, c := range contacts["items"].([]any) {
		c := c.(map[string]any)
		att := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/contacts/%d/attempts", int64(c["id"].(float64))), nil))
		items := att["items"].([]any)
		for i := len(items) - 1; i >= 0; i-- {
			out[c["tel"].(string)] = append(out[c["tel"].(string)], items[i].(map[string]any)["outcome"].(string))
		}
	}
	return out
}

func agentLegOf(t *testing.T, sw *fsim.Server, agent int) string {
	t.Helper()
	leg := ""
	for _, c := range commandsLike(sw, "bgapi originate") {
		if strings.Contains(c, fmt.Sprintf("loopback/agent-%d/agents", agent)) {
			leg = c[strings.Index(c, "origination_uuid=")+17:][:36]
		}
	}
	if leg == "" {
		t.Fatalf("agent %d's phone was never called", agent)
	}
	return leg
}

// Each outcome class of ESL.md §3 is recorded (P-3), retry waits are honoured (busy and no
// answer wait 30 minutes in campaign 1), and a live answer with no agent free within the
// connect deadline hears the abandon message (P-2).
func TestEngineOutcomesAndAbandon(t *testing.T) {
	script, tels := everyOutcome()
	// Ratio mode with seven calls per ready agent dials the whole list at once (P-1).
	m, sw, job := dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678", ratio: 7}, script, tels...)
	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	testOutcomesAndAbandon(t, m, sw, job, tels)
}

// everyOutcome scripts a number for each outcome class of ESL.md §3 and two live answers; every
// other dial (the agents' phones) answers.
func everyOutcome() (fsim.Script, []string) {
	fates := map[string]fsim.Fate{
		"09022220001": {Cause: "USER_BUSY", Ring: 20 * time.Millisecond},
		"09033330002": {Cause: "NO_ANSWER", Ring: 100 * time.Millisecond},
		"09044440003": {Cause: "UNALLOCATED_NUMBER", Ring: 20 * time.Millisecond},
		"09055550004": {Early: true, Cause: "GATEWAY_DOWN"},
		"09066660005": {Cause: "CALL_REJECTED", Ring: 20 * time.Millisecond},
		"09077770006": {Answer: true, Ring: 100 * time.Millisecond},
		"09077770007": {Answer: true, Ring: 100 * time.Millisecond},
	}
	script := func(dial string) fsim.Fate {
		for tel, f := range fates {
			if strings.Contains(dial, "/"+tel+"/") {
				return f
			}
		}
		return fsim.Fate{Answer: true} // agents
	}
	return script, []string{"09022220001", "09033330002", "09044440003", "09055550004", "09066660005", "09077770006", "09077770007"}
}

func testOutcomesAndAbandon(t *testing.T, m *Main, sw *fsim.Server, job int64, tels []string) {
	t.Helper()

	want := map[string]string{"09022220001": "busy", "09033330002": "no_answer", "09044440003": "invalid_number",
		"09055550004": "network_failure", "09066660005": "rejected"}
	var got map[string][]string
	waitFor(t, "every number dialed once with its outcome", func() bool {
		got = outcomes(t, m, job)
		for _, tel := range tels {
			if len(got[tel]) != 1 {
				return false
			}
		}
		return got["09077770006"][0] != "in_progress" || got["09077770007"][0] != "in_progress"
	})
	for tel, o := range want {
		if got[tel][0] != o {
			t.Errorf("%s: %v, want %s", tel, got[tel], o)
		}
	}
	a, b := got["09077770006"][0], got["09077770007"][0]
	if !(a == "in_progress" && b == "abandoned" || a == "abandoned" && b == "in_progress") {
		t.Fatalf("answered calls: %s and %s, want one bridged (in progress) and one abandoned", a, b)
	}
	var abandons []string
	for _, c := range commandsLike(sw, "api uuid_transfer ") {
		if !strings.Contains(c, "'m:^:conference:") { // the other customer moved into the agent's room
			abandons = append(abandons, c)
		}
	}
	if len(abandons) != 1 || !strings.HasSuffix(abandons[0], " 'm:^:playback:tone_stream://%(500,0,800)^hangup:NORMAL_CLEARING' inline") {
		t.Fatalf("abandon message: %q", abandons)
	}
	// The pacer sees the abandon at once (P-2): two live answers, one abandoned, in every window.
	if v, ok := m.engine.Pacing(job); !ok || v.Compliance.Rolling24h.Live != 2 || v.Compliance.Rolling24h.Abandoned != 1 ||
		v.Compliance.Day.Abandoned != 1 || v.Compliance.Rolling30d.Abandoned != 1 || v.Decision.Reason != "ratio" {
		t.Fatalf("pacing view %+v %v", v, ok)
	}
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/hangup-customer", nil))
	waitFor(t, "the bridged call recorded as connected", func() bool {
		got = outcomes(t, m, job)
		return got["09077770006"][0] == "connected" || got["09077770007"][0] == "connected"
	})
	for _, tel := range tels { // the retry waits have not passed: nobody is dialed twice
		if len(got[tel]) != 1 {
			t.Errorf("%s dialed %d times", tel, len(got[tel]))
		}
	}
}

// G-3: the agent's own phone drops during a call: the customer is not left alone, the call is
// recorded as connected with the agent dropped, and the agent is out of the job with a message.
func TestEngineAgentLegDrop(t *testing.T) {
	script := func(dial string) fsim.Fate { return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond} }
	m, sw, job := dialFixture(t, script, "09011112222")
	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "on call", func() bool { return session(t, m, 1001)["state"] == "on_call" })
	leg := agentLegOf(t, sw, 1001)
	sw.Hangup(leg, "NORMAL_CLEARING")
	waitFor(t, "the agent logged off", func() bool {
		s := session(t, m, 1001)
		return s["state"] == "logged_off" && s["message"] == engine.MessageLegDropped
	})
	waitFor(t, "the customer's leg ended and the call recorded", func() bool {
		return len(sw.Channels()) == 0 && outcomes(t, m, job)["09011112222"][0] == "connected"
	})
	waitFor(t, "the attempt marked agent_dropped", func() bool {
		var dropped bool
		err := m.store.DB().QueryRow(`SELECT agent_dropped FROM attempts WHERE tel = '09011112222'`).Scan(&dropped)
		return err == nil && dropped
	})
}

// J-6: at business end the job stops by itself and the call in progress goes on; D-3: after the
// grace period the call without disposition is an unsaved disposition that blocks the next start
// until saved; G-5: an idle agent is logged off with the manual's message.
func TestEngineBusinessEndUnsavedAndIdle(t *testing.T) {
	now := time.Now().In(tokyo)
	clock := &testClock{t: time.Date(now.Year(), now.Month(), now.Day(), 17, 59, 0, 0, tokyo)}
	script := func(dial string) fsim.Fate { return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond} }
	m, sw, job := dialFixtureWith(t, fixtureOptions{campaign: 2, group: 2, callerID: "0312345679", clock: clock}, script,
		"09011113333", "09011114444")
	const admin, agent = "demo-admin-token", "demo-agent-1003-token"
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1003/join", map[string]any{"call_job_id": job}))
	var first map[string]any
	waitFor(t, "on call", func() bool { first = session(t, m, 1003); return first["state"] == "on_call" })
	customers := func() int { return len(commandsLike(sw, "bgapi originate")) - 1 }
	placed := customers()

	clock.Advance(90 * time.Second) // 18:00:30
	waitFor(t, "the job stopped at business end", func() bool {
		j := must(t, 200)(call(t, m, admin, "GET", fmt.Sprintf("/api/v1/call-jobs/%d", job), nil))
		return j["status"] == "stopped" && j["stop_reason"] == "business_end"
	})
	customer := ""
	for _, c := range commandsLike(sw, "bgapi originate") {
		if strings.Contains(c, "/09011113333/") {
			customer = c[strings.Index(c, "origination_uuid=")+17:][:36]
		}
	}
	if _, up := sw.Var(customer, "origination_uuid"); !up || session(t, m, 1003)["state"] != "on_call" {
		t.Fatalf("the call in progress was cut at business end")
	}
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1003/hangup-customer", nil))
	waitFor(t, "the agent released after the call", func() bool {
		s := session(t, m, 1003)
		return s["state"] == "logged_off" && s["message"] == engine.MessageJobStopped
	})
	if customers() != placed {
		t.Fatalf("%d calls placed after business end", customers()-placed)
	}

	clock.Advance(15 * time.Hour) // 09:00:30 the next day, well past the 10-minute grace
	attempt := int64(first["call"].(map[string]any)["attempt_id"].(float64))
	var unsaved map[string]any
	waitFor(t, "the connected call recorded", func() bool { // the attempt's outcome is written asynchronously
		unsaved = must(t, 200)(call(t, m, agent, "GET", "/api/v1/unsaved-dispositions?q=顧客+0901111", nil))
		return unsaved["total"] != float64(0)
	})
	if unsaved["total"] != float64(1) || unsaved["items"].([]any)[0].(map[string]any)["attempt_id"] != float64(attempt) {
		t.Fatalf("unsaved dispositions %v", unsaved)
	}
	code, body := call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil)
	if code != 409 || body["error"].(map[string]any)["code"] != "batch_has_unsaved_dispositions" {
		t.Fatalf("start with an unsaved disposition: %d %v", code, body)
	}
	must(t, 204)(call(t, m, agent, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt),
		map[string]any{"party": "self", "result_code": "completed", "next_action": "complete", "after": "continue"}))
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))

	// The second contact is dialed; once it is done the agent sits idle until the limit.
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1003/join", map[string]any{"call_job_id": job}))
	waitFor(t, "on call again", func() bool { return session(t, m, 1003)["state"] == "on_call" })
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1003/hangup-customer", nil))
	waitFor(t, "wrap-up", func() bool { return session(t, m, 1003)["state"] == "wrap_up" })
	clock.Advance(61 * time.Minute)
	waitFor(t, "idle logoff", func() bool {
		s := session(t, m, 1003)
		return s["state"] == "logged_off" && s["message"] == "エージェントステータスがログオフの状態です"
	})
	// Ratio pacing (campaign 2) may have dialed the second number with the first (then, answered
	// with the agent busy, it was abandoned and dialed again in the next run): either way it
	// ends connected and nothing is left in progress.
	if got := outcomes(t, m, job)["09011114444"]; len(got) == 0 || got[len(got)-1] != "connected" ||
		len(got) == 2 && got[0] != "abandoned" || len(got) > 2 {
		t.Fatalf("second number: %v", got)
	}
}

// An engine restarted mid-call adopts the call from the switch: it is neither cut nor dialed
// again, and its outcome is recorded when it ends.
func TestEngineRestartAdoptsCall(t *testing.T) {
	script := func(dial string) fsim.Fate { return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond} }
	m, sw, job := dialFixture(t, script, "09012340001")
	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "on call", func() bool { return session(t, m, 1001)["state"] == "on_call" })
	if err := m.Close(); err != nil { // drains for the 1 s shutdown timeout, then leaves the call up
		t.Fatal(err)
	}
	if len(sw.Channels()) != 2 {
		t.Fatalf("shutdown cut the call: %d channels", len(sw.Channels()))
	}
	m2 := NewMain(m.cfgPath, slog.New(slog.DiscardHandler))
	if err := m2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	waitFor(t, "the call adopted", func() bool {
		st := must(t, 200)(call(t, m2, "demo-admin-token", "GET", "/api/v1/status", nil))
		return st["calls_in_flight"] == float64(1)
	})
	must(t, 202)(call(t, m2, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/hangup-customer", nil))
	waitFor(t, "the adopted call recorded", func() bool {
		return outcomes(t, m2, job)["09012340001"][0] == "connected"
	})
	if n := len(commandsLike(sw, "bgapi originate")); n != 2 { // the agent's phone and the customer, once each
		t.Fatalf("%d originates, want 2: %v", n, commandsLike(sw, "bgapi originate"))
	}
}

// J-6 with P-2: a job stopped while a customer's phone rings keeps its free agent until that
// customer is done: the customer who answers is bridged, not abandoned, and only then is the
// agent let go.
func TestEngineStopWhileRinging(t *testing.T) {
	script := customersRing(1500 * time.Millisecond)
	m, sw, job := dialFixture(t, script, "09011117777")
	const admin, agent = "demo-admin-token", "demo-agent-1001-token"
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "the customer's phone ringing", func() bool {
		for _, c := range commandsLike(sw, "bgapi originate") {
			if strings.Contains(c, "/09011117777/") {
				return true
			}
		}
		return false
	})
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/stop", job), nil))
	waitFor(t, "the customer bridged to the agent after the stop", func() bool { return session(t, m, 1001)["state"] == "on_call" })
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1001/hangup-customer", nil))
	waitFor(t, "the agent let go once the customer is done", func() bool {
		s := session(t, m, 1001)
		return s["state"] == "logged_off" && s["message"] == engine.MessageJobStopped
	})
	if got := outcomes(t, m, job)["09011117777"]; len(got) != 1 || got[0] != "connected" {
		t.Fatalf("the customer's attempt: %v", got)
	}
}

// A customer's hangup whose events were lost (the connection was down) is found by asking the
// switch: the call is recorded and the agent moves on to wrap-up instead of staying on a call
// that no longer exists; an agent's phone lost the same way logs the agent off (G-3).
func TestEngineReconcilesLostHangups(t *testing.T) {
	now := time.Now().In(tokyo)
	clock := &testClock{t: time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, tokyo)}
	script := func(dial string) fsim.Fate { return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond} }
	m, sw, job := dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678", clock: clock}, script,
		"09011118888")
	const admin, agent = "demo-admin-token", "demo-agent-1001-token"
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "on call", func() bool { return session(t, m, 1001)["state"] == "on_call" })
	customer := ""
	for _, c := range commandsLike(sw, "bgapi originate") {
		if strings.Contains(c, "/09011118888/") {
			customer = c[strings.Index(c, "origination_uuid=")+17:][:36]
		}
	}
	if !sw.Vanish(customer, "NORMAL_CLEARING") {
		t.Fatal("no customer channel to lose")
	}
	clock.Advance(16 * time.Second) // past the check interval
	waitFor(t, "the lost call found and the agent in wrap-up", func() bool {
		return session(t, m, 1001)["state"] == "wrap_up" && outcomes(t, m, job)["09011118888"][0] == "connected"
	})
	if !sw.Vanish(agentLegOf(t, sw, 1001), "NORMAL_CLEARING") {
		t.Fatal("no agent channel to lose")
	}
	clock.Advance(16 * time.Second)
	waitFor(t, "the agent logged off", func() bool {
		s := session(t, m, 1001)
		return s["state"] == "logged_off" && s["message"] == engine.MessageLegDropped
	})
}

// P-2 with a stalled database: while the engine's loop waits on PostgreSQL (here a lock on
// call_jobs), customers who answer with no agent free still hear the abandon message at the
// connect deadline instead of silence.
func TestEngineAbandonsWhileDatabaseStalls(t *testing.T) {
	script := customersRing(1500 * time.Millisecond)
	m, sw, job := dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678", ratio: 2}, script,
		"09011119991", "09011119992")
	const admin, agent = "demo-admin-token", "demo-agent-1001-token"
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "both customers ringing", func() bool { return len(commandsLike(sw, "bgapi originate")) == 3 })
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1001/state", map[string]any{"state": "break"}))
	waitFor(t, "the agent on break", func() bool { return session(t, m, 1001)["state"] == "break" })
	tx, err := m.store.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE call_jobs IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both abandoned with the message while the database is held", func() bool {
		return len(commandsLike(sw, "api uuid_transfer ")) == 2
	})
}

// G-2 with the agent's phone gone and its events lost: the customer moved into the agent's room
// finds it empty (the switch makes the room anew); the call is not recorded as connected, the
// agent is logged off once the switch says its phone is gone, and the customer, with no other
// agent free by the deadline, hears the abandon message (P-2).
func TestEngineBridgeRefused(t *testing.T) {
	script := customersRing(1500 * time.Millisecond)
	m, sw, job := dialFixture(t, script, "09011115555")
	const admin, agent = "demo-admin-token", "demo-agent-1001-token"
	must(t, 200)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agent, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "the customer ringing", func() bool { return len(commandsLike(sw, "bgapi originate")) == 2 })
	if !sw.Vanish(agentLegOf(t, sw, 1001), "NORMAL_CLEARING") {
		t.Fatal("no agent leg")
	}
	waitFor(t, "the customer abandoned with the message", func() bool {
		return len(commandsLike(sw, "api uuid_transfer ")) == 2 && strings.Contains(commandsLike(sw, "api uuid_transfer ")[1], "playback:")
	})
	if s := session(t, m, 1001); s["state"] != "logged_off" || s["message"] != engine.MessageLegDropped {
		t.Fatalf("agent session %v", s)
	}
	waitFor(t, "the attempt recorded as abandoned", func() bool {
		got := outcomes(t, m, job)["09011115555"]
		return len(got) == 1 && got[0] == "abandoned"
	})
}

// customersRing: customers answer after ring and stay until hung up; agents' phones answer.
func customersRing(ring time.Duration) fsim.Script {
	return func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		return fsim.Fate{Answer: true, Ring: ring}
	}
}
