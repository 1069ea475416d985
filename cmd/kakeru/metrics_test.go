package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// scrape reads GET /metrics, without a token, into series (name{labels} as exposed) → value.
func scrape(t *testing.T, m *Main) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + m.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// series lists the scraped series of one metric name.
func series(s map[string]float64, name string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			out[k] = v
		}
	}
	return out
}

// issue 7 item 5: the engine dials a list against the simulated switch, and /metrics tells what
// happened: originates, each outcome (P-3), live answers and abandons (P-2), calls in flight,
// agents by state, the node's connection, command round trips, the answer→bridge latency,
// pacing decisions and imported rows.
func TestMetricsEndToEnd(t *testing.T) {
	script, tels := everyOutcome()
	m, sw, job := dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678", ratio: 7}, script, tels...)

	s := scrape(t, m)
	for k, want := range map[string]float64{
		`kakeru_import_rows_total{result="accepted"}`:    7,
		`kakeru_import_rows_total{result="refused"}`:     0,
		`kakeru_freeswitch_connected{node="fs1"}`:        1,
		`kakeru_freeswitch_reconnects_total{node="fs1"}`: 0,
		`kakeru_calls_in_flight`:                         0,
		`kakeru_dependency_up{dependency="postgres"}`:    1,
		`kakeru_dependency_up{dependency="redis"}`:       1,
		`kakeru_jobs_running`:                            0,
		`kakeru_jobs_owned`:                              0,
	} {
		if got, ok := s[k]; !ok || got != want {
			t.Errorf("before dialing: %s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	if _, ok := s["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	if len(series(s, "kakeru_originates_total")) != 0 || len(series(s, "kakeru_pacing_decisions_total")) != 0 {
		t.Errorf("dial metrics before any job ran: %v", s)
	}

	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))

	// Ratio mode with seven calls per ready agent dials the whole list at once (P-1): five fail,
	// one answer is bridged to the agent, the other is abandoned.
	outcome := func(o string) string { return fmt.Sprintf(`kakeru_attempt_outcomes_total{campaign="1",outcome=%q}`, o) }
	defer func() {
		if t.Failed() {
			for k, v := range s {
				if strings.HasPrefix(k, "kakeru_") {
					t.Log(k, v)
				}
			}
		}
	}()
	waitFor(t, "six outcomes and one call up", func() bool {
		s = scrape(t, m)
		return s[outcome("abandoned")] == 1 && s[outcome("rejected")] == 1 && s[outcome("network_failure")] == 1 &&
			s[outcome("busy")] == 1 && s[outcome("no_answer")] == 1 && s[outcome("invalid_number")] == 1 &&
			s["kakeru_calls_in_flight"] == 1
	})
	customers := 0
	for _, c := range commandsLike(sw, "bgapi originate") {
		if !strings.Contains(c, "loopback/agent-") {
			customers++
		}
	}
	for k, want := range map[string]float64{
		`kakeru_originates_total{campaign="1"}`:          7,
		outcome("connected"):                             0,
		outcome("machine"):                               0,
		outcome("cancelled"):                             0,
		`kakeru_live_answers_total{campaign="1"}`:        2,
		`kakeru_abandons_total{campaign="1"}`:            1,
		`kakeru_abandon_rate{campaign="1",window="24h"}`: 0.5,
		`kakeru_abandon_rate{campaign="1",window="30d"}`: 0.5,
		`kakeru_agents{state="on_call"}`:                 1,
		`kakeru_answer_to_bridge_seconds_count`:          1,
		`kakeru_jobs_running`:                            1,
		`kakeru_jobs_owned`:                              1,
		`kakeru_abandon_target{campaign="1"}`:            0.03,
		// the seven customers and the agent's phone
		`kakeru_freeswitch_command_duration_seconds_count{command="originate",kind="bgapi",node="fs1"}`: 8,
		// one customer moved into the agent's room, one to the abandon message
		`kakeru_freeswitch_command_duration_seconds_count{command="uuid_transfer",kind="api",node="fs1"}`: 2,
	} {
		if got, ok := s[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	if customers != 7 {
		t.Errorf("%d customer originates on the switch, want 7", customers)
	}
	// P-2, issue 18: each window's abandon budget, campaign 1's target (0.03, no answer
	// classification) × 2 live answers − 1 abandon. (The day is left unchecked: it may begin
	// between the two answers.)
	budget := series(s, "kakeru_abandon_budget_remaining")
	target := 0.03
	for _, w := range []string{"24h", "30d"} {
		k := fmt.Sprintf(`kakeru_abandon_budget_remaining{campaign="1",window=%q}`, w)
		if got, ok := budget[k]; !ok || math.Abs(got-(target*2-1)) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, target*2-1)
		}
	}
	if _, ok := budget[`kakeru_abandon_budget_remaining{campaign="1",window="day"}`]; !ok || len(budget) != 3 {
		t.Errorf("abandon budget series %v; want the three windows of campaign 1", budget)
	}
	if got := s[`kakeru_freeswitch_command_duration_seconds_bucket{command="originate",kind="bgapi",node="fs1",le="+Inf"}`]; got != 8 {
		t.Errorf("originate histogram +Inf bucket %v", got)
	}
	if _, ok := s[`kakeru_freeswitch_command_duration_seconds_sum{command="originate",kind="bgapi",node="fs1"}`]; !ok {
		t.Error("no originate round-trip sum")
	}
	for k := range series(s, "kakeru_freeswitch_command_duration_seconds_count") {
		if strings.Contains(k, "-") || strings.Contains(k, "090") {
			t.Errorf("a command label carries arguments: %s", k)
		}
	}
	if s[`kakeru_pacing_decisions_total{campaign="1",reason="ratio"}`] < 1 {
		t.Errorf("pacing decisions %v", series(s, "kakeru_pacing_decisions_total"))
	}
	for k := range series(s, "kakeru_pacing_decisions_total") {
		if !strings.HasPrefix(k, `kakeru_pacing_decisions_total{campaign="1",reason=`) {
			t.Errorf("decision series %s", k)
		}
	}
	if _, ok := s[`kakeru_pacing_dial_count{campaign="1"}`]; !ok {
		t.Error("no pacing dial count for campaign 1")
	}

	// The agent ends the bridged call: connected, nothing left in flight, the agent in wrap-up.
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/hangup-customer", nil))
	waitFor(t, "the bridged call counted as connected", func() bool {
		s = scrape(t, m)
		return s[outcome("connected")] == 1 && s["kakeru_calls_in_flight"] == 0 && s[`kakeru_agents{state="wrap_up"}`] == 1
	})
	if got := s[`kakeru_originates_total{campaign="1"}`]; got != 7 {
		t.Errorf("originates after the calls: %v", got)
	}

	// A refused list counts every row of its file as refused, and nothing as accepted (L-4).
	j := must(t, 200)(call(t, m, "demo-admin-token", "GET", fmt.Sprintf("/api/v1/call-jobs/%d", job), nil))
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("name", "bad")
	mw.WriteField("encoding", "utf-8")
	fw, _ := mw.CreateFormFile("file", "bad.csv")
	fw.Write([]byte("name,kana,tel,remarks\n甲,コウ,09088880001,\n乙,オツ,not-a-number,\n丙,ヘイ,09088880001,\n"))
	mw.Close()
	if code, raw := apiDo(t, m, "POST", fmt.Sprintf("/api/v1/batches/%d/lists", int64(j["batch_id"].(float64))), mw.FormDataContentType(), &form); code != 422 {
		t.Fatalf("bad list: %d %s", code, raw)
	}
	s = scrape(t, m)
	if a, r := s[`kakeru_import_rows_total{result="accepted"}`], s[`kakeru_import_rows_total{result="refused"}`]; a != 7 || r != 3 {
		t.Errorf("import rows accepted %v refused %v, want 7 and 3", a, r)
	}
}

// everyOutcome scripts a number for each outcome class of docs/event-socket.md §3 and two live answers; every
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
