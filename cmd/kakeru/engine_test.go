package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim/fsimtest"
)

// call is one API request with a token; it returns the status and the decoded body.
func call(t *testing.T, m *Main, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+m.Addr()+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func must(t *testing.T, want int) func(int, map[string]any) map[string]any {
	return func(code int, body map[string]any) map[string]any {
		t.Helper()
		if code != want {
			t.Fatalf("status %d, want %d: %v", code, want, body)
		}
		return body
	}
}

// waitFor polls an observable condition through the public API until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fixtureOptions: campaign 1 (open all day, dial group 1) unless told otherwise.
type fixtureOptions struct {
	campaign, group int
	callerID        string
	// ratio, when set, runs campaign 1 in ratio mode with this many calls per ready agent.
	ratio     int
	heartbeat time.Duration // keep-alive interval of event streams
}

// dialFixture: a running instance on a simulated switch, a batch of campaign 1 with dial group 1,
// a list of the given numbers assigned to it, and a stopped call job over it.
func dialFixture(t *testing.T, script fsim.Script, tels ...string) (*Main, *fsim.Server, int64) {
	t.Helper()
	return dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678"}, script, tels...)
}

// listForm is the multipart body of a UTF-8 list upload named "list".
func listForm(csv string) ([]byte, string) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("name", "list")
	mw.WriteField("encoding", "utf-8")
	fw, _ := mw.CreateFormFile("file", "list.csv")
	fw.Write([]byte(csv))
	mw.Close()
	return form.Bytes(), mw.FormDataContentType()
}

// editFile replaces the one occurrence of old in the file at path.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), old); n != 1 {
		t.Fatalf("%q occurs %d times in %s, want 1", old, n, path)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func dialFixtureWith(t *testing.T, o fixtureOptions, script fsim.Script, tels ...string) (*Main, *fsim.Server, int64) {
	t.Helper()
	sw := fsimtest.Start(t, fsim.Options{Script: script})
	path := testConfig(t, sw.Addr())
	if o.ratio > 0 {
		editFile(t, path, "      mode: predictive\n", "      mode: ratio\n")
		editFile(t, path, "      max_ratio: 3\n", fmt.Sprintf("      max_ratio: %d\n", o.ratio))
	}
	migrateFor(t, path)
	m := NewMain(path, slog.New(slog.DiscardHandler))
	m.EventHeartbeat = o.heartbeat
	today := todayTokyo()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	const admin = "demo-admin-token"
	b := must(t, 201)(call(t, m, admin, "POST", "/api/v1/batches", map[string]any{"name": "engine", "campaign_id": o.campaign, "start_date": today}))
	batch := int64(b["id"].(float64))
	must(t, 200)(call(t, m, admin, "PUT", fmt.Sprintf("/api/v1/batches/%d/dial-groups", batch), map[string]any{"dial_group_ids": []int{o.group}}))
	var csv strings.Builder
	csv.WriteString("name,kana,tel,remarks\n")
	for i, tel := range tels {
		fmt.Fprintf(&csv, "顧客%d,コキャク,%s,メモ%d\n", i, tel, i)
	}
	form, contentType := listForm(csv.String())
	code, raw := apiDo(t, m, "POST", fmt.Sprintf("/api/v1/batches/%d/lists", batch), contentType, bytes.NewReader(form))
	if code != 201 {
		t.Fatalf("import %d %s", code, raw)
	}
	var list struct{ ID int64 }
	json.Unmarshal(raw, &list)
	must(t, 201)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/batches/%d/assignments", batch),
		map[string]any{"list_id": list.ID, "dial_group_id": o.group, "count": len(tels)}))
	j := must(t, 201)(call(t, m, admin, "POST", fmt.Sprintf("/api/v1/batches/%d/call-jobs", batch),
		map[string]any{"name": "job", "list_id": list.ID, "dial_group_id": o.group, "caller_id": o.callerID}))
	return m, sw, int64(j["id"].(float64))
}

func session(t *testing.T, m *Main, agent int) map[string]any {
	t.Helper()
	return must(t, 200)(call(t, m, fmt.Sprintf("demo-agent-%d-token", agent), "GET", fmt.Sprintf("/api/v1/agents/%d/session", agent), nil))
}

func commandsLike(sw *fsim.Server, prefix string) []string {
	var out []string
	for _, c := range sw.Commands() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// The happy path of J-1 … D-3 end to end, through the API, PostgreSQL and Redis
// against the simulated switch (the engine's flows on their own are tested in engine): job start → agent join
// (its phone called into its room, hold music) → customer answers → moved into the room with a
// beep → the agent hangs the customer up → wrap-up → disposition → the next contact (G-1..G-4,
// J-6, D-1, D-2).
func TestEngineHappyPath(t *testing.T) {
	script := func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true} // the agent's phone answers and stays
		}
		return fsim.Fate{Answer: true, Ring: 50 * time.Millisecond} // customers stay until hung up
	}
	m, sw, job := dialFixture(t, script, "09011110001", "09011110002")
	const agentTok = "demo-agent-1001-token"
	code, body := call(t, m, agentTok, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job})
	if code != http.StatusConflict || body["error"].(map[string]any)["code"] != "call_job_not_running" {
		t.Fatalf("join of a stopped job: %d %v", code, body)
	}
	must(t, 403)(call(t, m, "demo-agent-1002-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, agentTok, "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))

	var first map[string]any
	waitFor(t, "the first customer bridged to agent 1001", func() bool {
		s := session(t, m, 1001)
		if s["state"] == "on_call" && s["call"] != nil {
			first = s
			return true
		}
		return false
	})
	contact := first["call"].(map[string]any)["contact"].(map[string]any)
	if !strings.HasPrefix(contact["tel"].(string), "0901111000") || contact["remarks"] == "" {
		t.Fatalf("screen data %v", first)
	}
	agentLeg, customer := "", ""
	for _, c := range commandsLike(sw, "bgapi originate") {
		id := c[strings.Index(c, "origination_uuid=")+17:][:36]
		switch {
		case strings.Contains(c, "loopback/agent-1001/agents"):
			agentLeg = id
			// G-1: the phone plays the logged-in prompt, then waits in a room of its own, where
			// the room's hold music plays while the agent is alone.
			if !strings.Contains(c, "origination_caller_id_number=0011") || !strings.Contains(c, "conference_moh_sound=local_stream://moh") ||
				!strings.Contains(c, " 'm:^:playback:ivr/ivr-you_are_now_logged_in.wav^conference:"+id+"@default' inline\n") {
				t.Fatalf("agent leg %q", c)
			}
		case strings.Contains(c, "/"+contact["tel"].(string)+"/"):
			customer = id
			// G-2: the customer's entry into the room is the agent's beep.
			if !strings.Contains(c, `conference_enter_sound=tone_stream://%(200\,0\,1000)`) {
				t.Fatalf("customer leg %q", c)
			}
		}
	}
	// G-2: the customer is moved into the agent's room, where both talk.
	if got := commandsLike(sw, "api uuid_transfer "+customer); len(got) != 1 || got[0] != "api uuid_transfer "+customer+" 'm:^:conference:"+agentLeg+"@default' inline" {
		t.Fatalf("customer moves %v in %v", got, sw.Commands())
	}
	if members := sw.Members(agentLeg); !slices.Equal(members, []string{agentLeg, customer}) {
		t.Fatalf("room members %v: the agent is shown on a call once the customer is in its room", members)
	}
	// Moved once its originate had returned: a move that lands earlier is overridden by the
	// originate's own &park() or cancels it (labtest/doc.go).
	for _, r := range sw.History() {
		if r.UUID == customer && !strings.HasPrefix(r.JobResult, "+OK") {
			t.Fatalf("customer's originate answered %q", r.JobResult)
		}
	}
	if len(commandsLike(sw, "api uuid_broadcast")) != 0 || len(commandsLike(sw, "api uuid_bridge")) != 0 {
		t.Fatalf("broadcast or bridge sent: %v", sw.Commands())
	}

	// G-3: the agent ends the customer's call; the agent stays on the line, alone in its room
	// (the room's hold music is back), in wrap-up.
	must(t, 202)(call(t, m, agentTok, "POST", "/api/v1/agents/1001/hangup-customer", nil))
	waitFor(t, "wrap-up", func() bool { return session(t, m, 1001)["state"] == "wrap_up" })
	waitFor(t, "the agent alone in its room", func() bool { return slices.Equal(sw.Members(agentLeg), []string{agentLeg}) })
	attempt := int64(first["call"].(map[string]any)["attempt_id"].(float64))
	code, body = call(t, m, agentTok, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt),
		map[string]any{"party": "self", "result_code": "no_such_code", "next_action": "complete", "after": "continue"})
	if code != 422 {
		t.Fatalf("unknown result code: %d %v", code, body)
	}
	must(t, 204)(call(t, m, agentTok, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt),
		map[string]any{"party": "self", "result_code": "interested", "next_action": "complete", "memo": "ok", "after": "continue"}))

	var second map[string]any
	waitFor(t, "the next contact", func() bool {
		s := session(t, m, 1001)
		second = s
		return s["state"] == "on_call" && s["call"] != nil &&
			s["call"].(map[string]any)["contact"].(map[string]any)["tel"] != contact["tel"]
	})

	// S-2: a callback from the second call's disposition, seen, rescheduled and cancelled.
	must(t, 202)(call(t, m, agentTok, "POST", "/api/v1/agents/1001/hangup-customer", nil))
	waitFor(t, "wrap-up", func() bool { return session(t, m, 1001)["state"] == "wrap_up" })
	second2 := int64(second["call"].(map[string]any)["attempt_id"].(float64))
	due := time.Now().Add(time.Hour).Truncate(time.Second)
	must(t, 204)(call(t, m, agentTok, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", second2),
		map[string]any{"party": "self", "result_code": "call_back_later", "next_action": "callback", "callback_at": due, "after": "break"}))
	waitFor(t, "break", func() bool { return session(t, m, 1001)["state"] == "break" })
	cbs := must(t, 200)(call(t, m, agentTok, "GET", "/api/v1/callbacks", nil))
	if cbs["total"] != float64(1) {
		t.Fatalf("callbacks %v", cbs)
	}
	cbID := int64(cbs["items"].([]any)[0].(map[string]any)["id"].(float64))
	must(t, 403)(call(t, m, "demo-agent-1002-token", "PATCH", fmt.Sprintf("/api/v1/callbacks/%d", cbID), map[string]any{"due_at": due.Add(time.Hour)}))
	must(t, 200)(call(t, m, agentTok, "PATCH", fmt.Sprintf("/api/v1/callbacks/%d", cbID), map[string]any{"due_at": due.Add(time.Hour)}))
	must(t, 204)(call(t, m, agentTok, "DELETE", fmt.Sprintf("/api/v1/callbacks/%d", cbID), nil))
	if cbs := must(t, 200)(call(t, m, agentTok, "GET", "/api/v1/callbacks", nil)); cbs["total"] != float64(0) {
		t.Fatalf("callbacks after cancel %v", cbs)
	}
	attempts := must(t, 200)(call(t, m, "demo-admin-token", "GET", fmt.Sprintf("/api/v1/contacts/%d/attempts", int64(contact["id"].(float64))), nil))
	items := attempts["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("attempts %v", attempts)
	}
	a := items[0].(map[string]any)
	if a["outcome"] != "connected" || a["agent_id"] != float64(1001) || a["disposition"] == nil {
		t.Fatalf("attempt %v", a)
	}
}

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

// An engine restarted mid-call adopts the call from the switch: it is neither cut nor dialed
// again, and its outcome is recorded when it ends. The engine's side of it is tested in engine
// (TestRestartAdoptsCall, on in-memory fakes); this one stays end to end for what only the real
// dependencies show: Main.Close drains for the shutdown timeout and leaves the call up, the job's
// PostgreSQL advisory lease is given up so a new instance takes the job, and the unfinished
// attempt and the agent's state are read back from PostgreSQL and Redis.
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
