package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// outcomeOf is the outcome of the latest attempt to tel, "" before any.
func outcomeOf(t *testing.T, m *Main, job int64, tel string) string {
	got := outcomes(t, m, job)[tel]
	if len(got) == 0 {
		return ""
	}
	return got[len(got)-1]
}

// customerLeg is the channel UUID of the customer call to tel.
func customerLeg(t *testing.T, sw *fsim.Server, tel string) string {
	t.Helper()
	for _, c := range commandsLike(sw, "bgapi originate") {
		if strings.Contains(c, "/"+tel+"/") {
			return c[strings.Index(c, "origination_uuid=")+17:][:36]
		}
	}
	t.Fatalf("%s was never dialed", tel)
	return ""
}

// An originate's BACKGROUND_JOB -ERR after its customer answered is not the end of the call: the
// switch answers -ERR ORIGINATOR_CANCEL for a customer moved into a room before its originate
// returned, and the customer goes on talking (capture 11). The engine moves a customer once its
// originate has returned, or after a grace when that answer is slow to come, as here; the
// attempt is connected, and its talk time is the customer's (G-2, P-3).
func TestEngineOriginateCancelledAfterAnswer(t *testing.T) {
	script := func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		return fsim.Fate{Answer: true, Ring: 50 * time.Millisecond, Talk: 1500 * time.Millisecond}
	}
	m, sw, job := dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678", originateReturn: 2 * time.Second},
		script, "09011113333")
	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "the call recorded", func() bool { return outcomeOf(t, m, job, "09011113333") == "connected" })
	var up, talk float64
	var cause string
	if err := m.store.DB().QueryRow(`SELECT EXTRACT(EPOCH FROM ended_at - answered_at), EXTRACT(EPOCH FROM ended_at - bridged_at),
		hangup_cause FROM attempts WHERE tel = '09011113333'`).Scan(&up, &talk, &cause); err != nil {
		t.Fatal(err)
	}
	// Up 1.5 s from its answer, with the agent from the move (after the 0.5 s grace) to its end.
	if up < 1.4 || talk < 0.8 || cause != "NORMAL_CLEARING" {
		t.Fatalf("up %.3f s, talk %.3f s, cause %s: want the customer's 1.5 s, about 1 s with the agent, its own hangup", up, talk, cause)
	}
	// The switch did answer the originate with ORIGINATOR_CANCEL (else this test proves nothing).
	if recs := sw.History(); !slices.ContainsFunc(recs, func(r fsim.ChannelRecord) bool { return r.JobResult == "-ERR ORIGINATOR_CANCEL" }) {
		t.Fatalf("no originate answered ORIGINATOR_CANCEL: %+v", recs)
	}
	if s := session(t, m, 1001); s["state"] != "wrap_up" {
		t.Fatalf("agent %v", s)
	}
}

// The switch's channel listing lags (the real switch reads it from an asynchronous database):
// the periodic check confirms an absence with uuid_exists before it ends a call or logs an agent
// off, so neither is lost while the listing has not caught up (G-3).
func TestEngineChannelListingLags(t *testing.T) {
	now := time.Now().In(tokyo)
	clock := &testClock{t: time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, tokyo)}
	script := func(dial string) fsim.Fate { return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond} }
	m, sw, job := dialFixtureWith(t, fixtureOptions{campaign: 1, group: 1, callerID: "0312345678", clock: clock,
		listingLag: time.Hour}, script, "09011117777")
	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "on call", func() bool { return session(t, m, 1001)["state"] == "on_call" })
	before := len(commandsLike(sw, "api uuid_exists"))
	clock.Advance(16 * time.Second) // past the check interval: both channels are asked about
	waitFor(t, "the channels checked", func() bool { return len(commandsLike(sw, "api uuid_exists")) >= before+2 })
	waitFor(t, "a pass after the check", func() bool { return session(t, m, 1001)["state"] != "" })
	if s := session(t, m, 1001); s["state"] != "on_call" {
		t.Fatalf("agent after the check: %v", s)
	}
	if got := outcomeOf(t, m, job, "09011117777"); got != "in_progress" {
		t.Fatalf("call after the check: %v", got)
	}
	if len(sw.Members(agentLegOf(t, sw, 1001))) != 2 {
		t.Fatal("the call was torn down")
	}
}

// A customer who hangs up at the instant it answers, or as it is moved into the agent's room,
// never takes the agent's phone with it: the agent stays in its room, available, and the calls
// are abandoned (P-2). With uuid_bridge, the switch hangs up the agent's leg in this race.
func TestEngineCustomersLeavingAtAnswerKeepTheAgent(t *testing.T) {
	script := func(dial string) fsim.Fate {
		if strings.Contains(dial, "/agent-") {
			return fsim.Fate{Answer: true}
		}
		return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond, HangupAtAnswer: true}
	}
	tels := []string{"09011110011", "09011110012", "09011110013", "09011110014"}
	m, sw, job := dialFixture(t, script, tels...)
	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "every customer's call recorded", func() bool {
		got := outcomes(t, m, job)
		for _, tel := range tels {
			if len(got[tel]) == 0 || got[tel][0] == "in_progress" {
				return false
			}
		}
		return true
	})
	for tel, got := range outcomes(t, m, job) {
		if got[0] != "abandoned" {
			t.Errorf("%s: %v, want abandoned", tel, got)
		}
	}
	leg := agentLegOf(t, sw, 1001)
	if !slices.Equal(sw.Members(leg), []string{leg}) {
		t.Fatalf("agent's room %v", sw.Members(leg))
	}
	if s := session(t, m, 1001); s["state"] != "available" {
		t.Fatalf("agent %v", s)
	}
}

// Live agent state left in a job nobody runs (its owner stopped right after the job did) or of
// an earlier run of a running job is released by the instance that finds it: the phone hung up,
// the agent logged off with a message, and free to join again (J-6, G-3).
func TestEngineReleasesStaleAgents(t *testing.T) {
	script := func(dial string) fsim.Fate { return fsim.Fate{Answer: true, Ring: 30 * time.Millisecond} }
	m, sw, job := dialFixture(t, script, "09011116666")
	// Two phones up on the switch that no instance looks after.
	conn, err := freeswitch.Dial(ctxTimeout(t, 5*time.Second), sw.Addr(), "ClueCon", []string{"BACKGROUND_JOB"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	legs := map[int]string{}
	for _, id := range []int{1001, 1002} {
		legs[id] = freeswitch.NewUUID()
		cmd, _ := freeswitch.OriginateCmd(freeswitch.Originate{UUID: legs[id], DialString: fmt.Sprintf("loopback/agent-%d/agents", id),
			App: "&conference(" + legs[id] + "@default)"})
		_, res, err := conn.BgAPI(ctxTimeout(t, 5*time.Second), cmd)
		if err != nil {
			t.Fatal(err)
		}
		if r := <-res; r.Err != nil || !strings.HasPrefix(string(r.Body), "+OK") {
			t.Fatalf("phone %d: %+v", id, r)
		}
	}
	ctx := context.Background()
	// 1001: in the job, which is stopped (never started here). 1002: in a run of the job that is
	// not the current one, once the job runs.
	if err := m.agents.Set(ctx, agentstate.Agent{ID: 1001, State: domain.AgentAvailable, Since: time.Now(), CallJobID: job,
		JobRun: 1, Leg: legs[1001], Node: "fs1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "agent 1001 released", func() bool {
		s := session(t, m, 1001)
		return s["state"] == "logged_off" && s["message"] == engine.MessageJobStopped && s["call_job_id"] == nil
	})
	waitFor(t, "its phone hung up", func() bool { _, up := sw.Room(legs[1001]); return !up })

	must(t, 200)(call(t, m, "demo-admin-token", "POST", fmt.Sprintf("/api/v1/call-jobs/%d/start", job), nil))
	row := must(t, 200)(call(t, m, "demo-admin-token", "GET", fmt.Sprintf("/api/v1/call-jobs/%d", job), nil))
	run := int(row["run"].(float64))
	if err := m.agents.Set(ctx, agentstate.Agent{ID: 1002, State: domain.AgentAvailable, Since: time.Now(), CallJobID: job,
		JobRun: run - 1, Leg: legs[1002], Node: "fs1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "agent 1002 of an earlier run released, not adopted", func() bool {
		s := session(t, m, 1002)
		return s["state"] == "logged_off" && s["message"] == engine.MessageJobStopped
	})
	waitFor(t, "its phone hung up", func() bool { _, up := sw.Room(legs[1002]); return !up })
	// Both may join again.
	must(t, 202)(call(t, m, "demo-agent-1001-token", "POST", "/api/v1/agents/1001/join", map[string]any{"call_job_id": job}))
	waitFor(t, "agent 1001 back at work", func() bool { return session(t, m, 1001)["state"] != "logged_off" })
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
