//go:build lab

package labtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// The agent's desk on the real switch (issue 16): each step asserted on what the switch did
// (which legs exist, who is in which room, who hears whom) and on what PostgreSQL recorded.

// Lab numbers of the desk tests' third parties (labtest/fates.go): an outside number that
// answers and stays, one that is busy, and the supervisor's desk phone.
var (
	deskOutside    = StaysUp(900)
	deskBusy       = Busy(901)
	deskSupervisor = StaysUp(902)
)

// deskOptions: campaign 1 with the desk's allow-list and a supervisor user reached at a lab
// number; pacing as given.
func deskOptions(agents []int, pacing string) Options {
	return Options{Agents: agents, Pacing: pacing, Edit: func(cfg map[string]any) {
		camp := cfg["campaigns"].([]any)[0].(map[string]any)
		camp["transfer"] = map[string]any{"allowed_numbers": []any{deskOutside, deskBusy}}
		camp["preview"] = map[string]any{"time_limit": "5m"}
		cfg["users"] = append(cfg["users"].([]any), map[string]any{"name": "sv", "role": "supervisor", "campaign_ids": []any{1},
			"supervisor_endpoints": []any{"loopback/" + deskSupervisor + "/customers"}, "token_sha256": sha256Hex("lab-sv-token")})
	}}
}

type desk struct {
	t   *testing.T
	ctx context.Context
	in  *Instance
	sw  *Switch
	o   *Observer
	job int64
}

func newDesk(t *testing.T, agents []int, pacing string, tels []string, jobMode string) *desk {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	o := observe(t)
	in := StartInstance(t, deskOptions(agents, pacing))
	o.Only(in.CallerIDs()...)
	sw, err := DialSwitch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	job := in.CreateJob(t, "desk", tels)
	if jobMode != "" {
		in.Must(t, 200, "PATCH", fmt.Sprintf("/api/v1/call-jobs/%d", job.ID), map[string]any{"pacing_mode": jobMode})
	}
	in.StartJob(t, job.ID)
	return &desk{t: t, ctx: ctx, in: in, sw: sw, o: o, job: job.ID}
}

// act is one request of agent id's screen; it fails the test unless the status is want.
func (d *desk) act(agent int, want int, method, path string, body any) map[string]any {
	d.t.Helper()
	code, raw, err := d.in.Do(d.ctx, method, fmt.Sprintf("/api/v1/agents/%d/%s", agent, path), AgentToken(agent), body)
	if err != nil || code != want {
		d.t.Fatalf("agent %d %s %s: %d %v %s", agent, method, path, code, err, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func (d *desk) session(agent int) map[string]any { return d.act(agent, 200, "GET", "session", nil) }

// until polls cond every 50 ms until it holds; the test fails at its deadline.
func (d *desk) until(what string, cond func() bool) {
	d.t.Helper()
	for !cond() {
		select {
		case <-d.ctx.Done():
			d.t.Fatalf("%s: not in time", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitState waits for the agent's session state and returns the session.
func (d *desk) waitState(agent int, state string, extra func(s map[string]any) bool) map[string]any {
	d.t.Helper()
	var s map[string]any
	d.until(fmt.Sprintf("agent %d %s", agent, state), func() bool {
		s = d.session(agent)
		return s["state"] == state && (extra == nil || extra(s))
	})
	return s
}

func callOf(s map[string]any) map[string]any { c, _ := s["call"].(map[string]any); return c }

func partyOf(s map[string]any) map[string]any {
	p, _ := callOf(s)["party"].(map[string]any)
	return p
}

// leg is the latest leg the observer saw dialing dest (an agent-N phone, a number, a loopback
// pair's conference:ROOM@PROFILE), not its far b half.
func (d *desk) leg(dest string) string {
	d.t.Helper()
	var id string
	d.until("a leg to "+dest, func() bool {
		for _, l := range d.o.Legs() {
			if (l.Dest == dest || l.ChannelName == "loopback/"+dest+"-a") && !l.BLeg {
				id = l.UUID
			}
		}
		return id != ""
	})
	return id
}

// hears: the two legs are in one room, or in rooms joined by a loopback pair (rooms.go).
func (d *desk) hears(a, b string) bool {
	d.t.Helper()
	ok, err := d.sw.HearEachOther(d.ctx, a, b)
	if err != nil {
		d.t.Fatalf("who hears whom: %v", err)
	}
	return ok
}

func (d *desk) room(name string) []string {
	d.t.Helper()
	in, err := d.sw.InRoom(d.ctx, name)
	if err != nil {
		d.t.Fatal(err)
	}
	slices.Sort(in)
	return in
}

func sorted(s ...string) []string { slices.Sort(s); return s }

func (d *desk) alive(leg string) bool {
	d.t.Helper()
	ok, err := d.sw.LegAlive(d.ctx, leg)
	if err != nil {
		d.t.Fatal(err)
	}
	return ok
}

// steps are the kinds of an attempt's steps as PostgreSQL holds them, in order, with their
// targets ("kind" or "kind:target").
func (d *desk) steps(attempt int64) []string {
	d.t.Helper()
	rows, err := d.in.DB.QueryContext(d.ctx, `SELECT kind, target FROM attempt_steps WHERE attempt_id = $1 ORDER BY at, id`, attempt)
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, target string
		if err := rows.Scan(&kind, &target); err != nil {
			d.t.Fatal(err)
		}
		if target != "" {
			kind += ":" + target
		}
		out = append(out, kind)
	}
	return out
}

func (d *desk) waitSteps(attempt int64, want ...string) {
	d.t.Helper()
	var got []string
	d.until("steps "+strings.Join(want, ","), func() bool { got = d.steps(attempt); return slices.Equal(got, want) })
}

// attempt is the job's attempt row by id.
func (d *desk) attempt(id int64) Attempt {
	d.t.Helper()
	all, err := d.in.Attempts(d.ctx, d.job)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, a := range all {
		if a.ID == id {
			return a
		}
	}
	d.t.Fatalf("no attempt %d", id)
	return Attempt{}
}

func attemptOf(s map[string]any) int64 {
	if c := callOf(s); c != nil {
		return int64(c["attempt_id"].(float64))
	}
	return 0
}

// Preview (skip, then dial), hold, a conference with the supervisor, and a consult with an
// outside number swapped and completed, on the real switch.
func TestLabDeskPreviewHoldConsult(t *testing.T) {
	tels := []string{StaysUp(910), StaysUp(911), StaysUp(912)}
	d := newDesk(t, []int{1001}, "progressive", tels, "preview")
	d.act(1001, 202, "POST", "join", map[string]any{"call_job_id": d.job})
	phone := d.leg("agent-1001")

	// Preview: shown, nothing dialed; skipped with a reason; the next one dialed by the agent.
	s := d.waitState(1001, "preview", nil)
	first := s["preview"].(map[string]any)
	for _, l := range d.o.Legs() {
		if l.Role() == "customer" {
			t.Fatalf("a customer dialed before the agent chose: %s", l)
		}
	}
	d.act(1001, 202, "POST", "preview/skip", map[string]any{"attempt_id": first["attempt_id"], "reason": "not_now"})
	s = d.waitState(1001, "preview", func(s map[string]any) bool {
		p, _ := s["preview"].(map[string]any)
		return p != nil && p["attempt_id"] != first["attempt_id"]
	})
	second := s["preview"].(map[string]any)
	d.act(1001, 202, "POST", "preview/dial", map[string]any{"attempt_id": second["attempt_id"]})
	s = d.waitState(1001, "on_call", func(s map[string]any) bool { c := callOf(s); return c != nil && c["dialing"] == false })
	attempt := attemptOf(s)
	customer := d.attempt(attempt).ChannelUUID
	d.until("agent and customer talking", func() bool { return d.hears(phone, customer) })
	if skipped := d.attempt(int64(first["attempt_id"].(float64))); skipped.Outcome != "skipped" {
		t.Fatalf("skipped preview: %s", skipped)
	}
	if d.attempt(attempt).Tel != second["tel"] {
		t.Fatalf("dialed %s, previewed %v", d.attempt(attempt).Tel, second["tel"])
	}

	// Hold: the customer alone in its hold room, the agent alone in its room; and back.
	d.act(1001, 202, "POST", "hold", nil)
	d.until("the customer on hold", func() bool {
		return slices.Equal(d.room(customer+"-hold"), []string{customer}) && slices.Equal(d.room(phone), []string{phone})
	})
	if d.hears(phone, customer) {
		t.Fatal("agent and customer hear each other on hold")
	}
	d.act(1001, 202, "DELETE", "hold", nil)
	d.until("the customer back", func() bool { return d.hears(phone, customer) })

	// Conference with the supervisor: three in the agent's room; ended by the agent.
	d.act(1001, 202, "POST", "conference", map[string]any{"target": map[string]any{"supervisor": "sv"}})
	sv := d.leg(deskSupervisor)
	d.until("three in the room", func() bool { return slices.Equal(d.room(phone), sorted(phone, customer, sv)) })
	d.act(1001, 202, "DELETE", "conference", nil)
	d.until("the supervisor gone", func() bool { return !d.alive(sv) && slices.Equal(d.room(phone), sorted(phone, customer)) })

	// Consult with an outside number: the customer held while agent and number talk; swap;
	// complete: customer and number together, the agent alone and in wrap-up.
	d.act(1001, 202, "POST", "transfer", map[string]any{"mode": "attended", "target": map[string]any{"number": deskOutside}})
	party := d.leg(deskOutside)
	d.until("agent and number talking, the customer held", func() bool {
		return d.hears(phone, party) && !d.hears(phone, customer) && slices.Equal(d.room(customer+"-hold"), []string{customer})
	})
	d.act(1001, 202, "POST", "transfer/swap", nil)
	d.until("agent and customer again, the number held", func() bool {
		return d.hears(phone, customer) && !d.hears(phone, party) && slices.Equal(d.room(party+"-hold"), []string{party})
	})
	d.act(1001, 202, "POST", "transfer/complete", nil)
	d.until("customer and number together", func() bool {
		return d.hears(customer, party) && slices.Equal(d.room(customer+"-xfer"), sorted(customer, party)) &&
			slices.Equal(d.room(phone), []string{phone})
	})
	s = d.waitState(1001, "wrap_up", nil)
	if callOf(s) != nil {
		t.Fatalf("the agent keeps the transferred call: %v", s)
	}
	// The number hangs up: nobody of ours is left, the customer is hung up, the call connected.
	if _, err := d.sw.API(d.ctx, "uuid_kill "+party); err != nil {
		t.Fatal(err)
	}
	d.until("the customer hung up", func() bool { return !d.alive(customer) })
	d.until("the attempt ended", func() bool { return d.attempt(attempt).Outcome == "connected" })
	a := d.attempt(attempt)
	if a.AgentID != 1001 || a.TalkSeconds < 0 {
		t.Fatalf("attempt %s", a)
	}
	d.waitSteps(attempt, "hold", "unhold", "conference:sv", "conference_joined:sv", "conference_ended:sv",
		"consult:"+deskOutside, "consult_answered:"+deskOutside, "swap:"+deskOutside, "transferred:"+deskOutside)
	d.waitSteps(int64(first["attempt_id"].(float64)), "preview_skipped")

	d.act(1001, 202, "POST", "state", map[string]any{"state": "break"})
	d.in.StopJob(t, d.job)
	d.act(1001, 202, "POST", "leave", nil)
	noLegsLeft(t, d.o, 30*time.Second)
}

// A consult with another agent of the job (two rooms joined by a loopback pair) completed, a
// blind transfer back, a blind transfer to a busy number that brings the customer back, a
// manual dial (a do-not-call number refused first), and that call's blind transfer to an
// outside number, on the real switch.
func TestLabDeskAgentsAndManualDial(t *testing.T) {
	d := newDesk(t, []int{1001, 1002}, "progressive", []string{StaysUp(920)}, "")
	d.act(1001, 202, "POST", "join", map[string]any{"call_job_id": d.job})
	d.waitState(1001, "on_call", func(s map[string]any) bool { c := callOf(s); return c != nil && c["dialing"] == false })
	d.act(1002, 202, "POST", "join", map[string]any{"call_job_id": d.job})
	d.waitState(1002, "available", nil)
	phone1, phone2 := d.leg("agent-1001"), d.leg("agent-1002")
	attempt := attemptOf(d.session(1001))
	customer := d.attempt(attempt).ChannelUUID
	d.until("agent 1001 and the customer talking", func() bool { return d.hears(phone1, customer) })

	// Consult agent 1002: the rooms joined through a pair, the customer held; complete.
	d.act(1001, 202, "POST", "transfer", map[string]any{"mode": "attended", "target": map[string]any{"agent_id": 1002}})
	pair := d.leg("conference:" + phone2 + "@" + ConferenceProfile)
	d.until("the two agents hearing each other", func() bool {
		return d.hears(phone1, phone2) && !d.hears(phone1, customer) && slices.Equal(d.room(customer+"-hold"), []string{customer})
	})
	if p := partyOf(d.waitState(1002, "on_call", nil)); p == nil || p["mode"] != "incoming" {
		t.Fatalf("the consulted agent's session: %v", d.session(1002))
	}
	d.act(1001, 202, "POST", "transfer/complete", nil)
	d.until("the customer with agent 1002, the pair gone", func() bool {
		return d.hears(phone2, customer) && !d.hears(phone1, phone2) && !d.alive(pair)
	})
	d.waitState(1001, "wrap_up", nil)
	d.waitState(1002, "on_call", func(s map[string]any) bool { return attemptOf(s) == attempt && partyOf(s) == nil })

	// Blind back to agent 1001, once it is available again.
	d.act(1001, 202, "POST", "state", map[string]any{"state": "available"})
	d.waitState(1001, "available", nil)
	d.act(1002, 202, "POST", "transfer", map[string]any{"mode": "blind", "target": map[string]any{"agent_id": 1001}})
	d.until("the customer with agent 1001 again", func() bool { return d.hears(phone1, customer) && !d.hears(phone2, customer) })
	d.waitState(1002, "wrap_up", nil)

	// Blind to a busy number: the customer comes back to agent 1001, still on the call.
	d.act(1001, 202, "POST", "transfer", map[string]any{"mode": "blind", "target": map[string]any{"number": deskBusy}})
	busy := d.leg(deskBusy)
	d.until("the busy number gone, the customer back", func() bool { return !d.alive(busy) && d.hears(phone1, customer) })
	d.waitState(1001, "on_call", func(s map[string]any) bool { return partyOf(s) == nil && callOf(s)["held"] == false })
	d.act(1001, 202, "POST", "hangup-customer", nil)
	d.until("the attempt ended", func() bool { return d.attempt(attempt).Outcome == "connected" })
	if a := d.attempt(attempt); a.AgentID != 1001 {
		t.Fatalf("attempt's last agent %d, want 1001: %s", a.AgentID, a)
	}
	d.waitSteps(attempt, "consult:1002", "consult_answered:1002", "transferred:1002", "transferred:1001", "transfer_failed:"+deskBusy)
	d.waitState(1001, "wrap_up", nil)
	if code, raw, err := d.in.Do(d.ctx, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt), AgentToken(1001), map[string]any{
		"party": "self", "result_code": "interested", "next_action": "complete", "memo": "lab", "after": "break"}); err != nil || code != 204 {
		t.Fatalf("disposition: %d %v %s", code, err, raw)
	}
	d.act(1002, 202, "POST", "state", map[string]any{"state": "break"})

	// Manual dial: a do-not-call number refused at once, then an allowed one placed as an
	// attempt of the job with no contact, connected to the agent.
	dnc := StaysUp(921)
	d.in.Must(t, 201, "POST", "/api/v1/do-not-call/global/numbers", map[string]any{"tel": dnc, "reason": "lab"})
	d.waitState(1001, "break", nil)
	code, raw, err := d.in.Do(d.ctx, "POST", "/api/v1/agents/1001/dial", AgentToken(1001), map[string]any{"tel": dnc})
	if err != nil || code != 409 || !strings.Contains(string(raw), "do_not_call") {
		t.Fatalf("manual dial of a do-not-call number: %d %v %s", code, err, raw)
	}
	manual := StaysUp(922)
	d.act(1001, 202, "POST", "dial", map[string]any{"tel": manual})
	s := d.waitState(1001, "on_call", func(s map[string]any) bool { c := callOf(s); return c != nil && c["dialing"] == false })
	m := d.attempt(attemptOf(s))
	d.until("agent and the manual call talking", func() bool { return d.hears(phone1, m.ChannelUUID) })
	var kind string
	var by *string
	if err := d.in.DB.QueryRowContext(d.ctx, `SELECT dial_kind, requested_by FROM attempts WHERE id = $1`, m.ID).Scan(&kind, &by); err != nil {
		t.Fatal(err)
	}
	if m.Tel != manual || kind != "manual" || by == nil || *by != "agent-1001" {
		t.Fatalf("manual attempt %s kind %s by %v", m, kind, by)
	}
	// Blind to the outside number: once it answers, the customer and the number talk in a
	// room of their own and the agent goes to wrap-up; the customer's hangup ends the number.
	d.act(1001, 202, "POST", "transfer", map[string]any{"mode": "blind", "target": map[string]any{"number": deskOutside}})
	out := d.leg(deskOutside)
	d.until("customer and number together", func() bool {
		return d.hears(m.ChannelUUID, out) && slices.Equal(d.room(m.ChannelUUID+"-xfer"), sorted(m.ChannelUUID, out)) &&
			slices.Equal(d.room(phone1), []string{phone1})
	})
	d.waitState(1001, "wrap_up", nil)
	if _, err := d.sw.API(d.ctx, "uuid_kill "+m.ChannelUUID); err != nil {
		t.Fatal(err)
	}
	d.until("the number hung up after the customer", func() bool { return !d.alive(out) })
	d.until("the manual attempt ended", func() bool { return d.attempt(m.ID).Outcome == "connected" })
	d.waitSteps(m.ID, "consult_answered:"+deskOutside, "transferred:"+deskOutside)

	d.in.StopJob(t, d.job)
	d.act(1001, 202, "POST", "leave", nil)
	d.act(1002, 202, "POST", "leave", nil)
	noLegsLeft(t, d.o, 30*time.Second)
}

// A preview nobody decides on is dialed at the campaign's time limit (5 s here), on the real
// switch: the customer reaches the agent who was shown it.
func TestLabDeskPreviewTimeLimit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := observe(t)
	opts := deskOptions([]int{1001}, "preview")
	edit := opts.Edit
	opts.Edit = func(cfg map[string]any) {
		edit(cfg)
		cfg["campaigns"].([]any)[0].(map[string]any)["preview"] = map[string]any{"time_limit": "5s"}
	}
	in := StartInstance(t, opts)
	o.Only(in.CallerIDs()...)
	sw, err := DialSwitch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	job := in.CreateJob(t, "desk-limit", []string{StaysUp(930)})
	in.StartJob(t, job.ID)
	d := &desk{t: t, ctx: ctx, in: in, sw: sw, o: o, job: job.ID}
	d.act(1001, 202, "POST", "join", map[string]any{"call_job_id": d.job})
	shown := d.waitState(1001, "preview", nil)
	at := time.Now()
	s := d.waitState(1001, "on_call", func(s map[string]any) bool { c := callOf(s); return c != nil && c["dialing"] == false })
	if waited := time.Since(at); waited < 3*time.Second {
		t.Fatalf("dialed %v after the preview showed, before its 5 s limit", waited)
	}
	attempt := attemptOf(s)
	if want := int64(shown["preview"].(map[string]any)["attempt_id"].(float64)); attempt != want {
		t.Fatalf("on attempt %d, the preview was %d", attempt, want)
	}
	d.until("agent and customer talking", func() bool { return d.hears(d.leg("agent-1001"), d.attempt(attempt).ChannelUUID) })
	d.waitSteps(attempt, "preview_auto_dialed")
	d.act(1001, 202, "POST", "hangup-customer", nil)
	d.until("the attempt ended", func() bool { return d.attempt(attempt).Outcome == "connected" })
	in.StopJob(t, d.job)
	d.act(1001, 202, "POST", "leave", nil)
	noLegsLeft(t, o, 30*time.Second)
}
