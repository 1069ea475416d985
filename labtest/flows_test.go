//go:build lab

package labtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// customerLeg waits for the customer a-leg that dialed tel and satisfies cond.
func customerLeg(t *testing.T, o *Observer, ctx context.Context, tel string, cond func(Leg) bool) Leg {
	t.Helper()
	var found Leg
	err := o.WaitFor(ctx, "customer "+tel, func(o *Observer) bool {
		for _, l := range o.ALegs("customer") {
			if l.Dest == tel && cond(l) {
				found = l
				return true
			}
		}
		return false
	})
	if err != nil {
		for _, l := range o.ALegs("customer") {
			if l.Dest == tel {
				t.Logf("customer leg: %s", l)
			}
		}
		t.Fatal(err)
	}
	return found
}

// onCall waits until the agent's screen shows a call with tel.
func onCall(t *testing.T, ctx context.Context, a Agent, tel string) Session {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		s, err := a.WaitState(wctx, "on_call")
		if err != nil {
			t.Fatal(err)
		}
		if s.Call != nil && s.Call.Contact != nil && s.Call.Contact.Tel == tel {
			return s
		}
		if wctx.Err() != nil {
			t.Fatalf("agent %d on call with %+v, want %s", a.ID, s.Call, tel)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// finishCall has the agent hang its customer up (when on a call) and dispose of the attempt
// in wrap-up, so the agent is free again.
func finishCall(t *testing.T, ctx context.Context, a Agent) {
	t.Helper()
	s, err := a.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.State == "on_call" {
		if err := a.HangupCustomer(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err = a.WaitState(wctx, "wrap_up", "logged_off")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.State == "wrap_up" && s.AttemptID() != 0 {
		if err := a.Disposition(ctx, s.AttemptID(), "interested"); err != nil {
			t.Fatal(err)
		}
	}
}

// leaveAndClean stops the job, has the agents leave and checks nothing is left up.
func leaveAndClean(t *testing.T, ctx context.Context, o *Observer, in *Instance, job int64, agents ...Agent) {
	t.Helper()
	in.StopJob(t, job)
	for _, a := range agents {
		if s, err := a.Session(ctx); err == nil && s.State != "logged_off" {
			if err := a.Leave(ctx); err != nil {
				t.Error(err)
			}
		}
		if _, err := a.WaitState(ctx, "logged_off"); err != nil {
			t.Error(err)
		}
	}
	noLegsLeft(t, o, 15*time.Second)
}

// One agent talking with a customer who stays up, a second customer answering meanwhile: no
// agent is free, so at the connect deadline the second customer hears the abandon message and
// is hung up by us, never having joined a room, and is recorded abandoned; the first customer
// stays with the agent throughout.
func TestLabAbandonMessage(t *testing.T) {
	o := observe(t)
	in := StartInstance(t, Options{Agents: []int{1001}, Pacing: "ratio", MaxRatio: 2, ConnectDeadline: 2 * time.Second})
	o.Only(in.CallerIDs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	first, second := StaysUp(1), Answering(2, 60, 2) // the second answers 2 s in and would talk 60 s
	job := in.CreateJob(t, "abandon", []string{first, second})
	in.StartJob(t, job.ID)
	a := in.Agent(1001)
	if err := a.Join(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	onCall(t, ctx, a, first)
	c1 := customerLeg(t, o, ctx, first, func(l Leg) bool { return l.Joined() })
	c2 := customerLeg(t, o, ctx, second, func(l Leg) bool { return !l.Up() })
	t.Logf("second customer: %s", c2)
	if c2.Answered.IsZero() {
		t.Fatalf("the second customer never answered: %s", c2)
	}
	if len(c2.Joins) > 0 {
		t.Errorf("the second customer joined a room or a leg: %s", c2)
	}
	waited := c2.Hangup.Sub(c2.Answered)
	// Deadline (2 s), then the 0.5 s message, then our hangup; far from its own 60 s.
	if waited < in.ConnectDeadline() || waited > in.ConnectDeadline()+4*time.Second {
		t.Errorf("second customer hung up %v after answer, want the connect deadline %v plus the message", waited, in.ConnectDeadline())
	}
	if c2.Cause != "NORMAL_CLEARING" {
		t.Errorf("second customer's cause %s, want NORMAL_CLEARING", c2.Cause)
	}
	if l, _ := o.Leg(c1.UUID); !l.Up() || len(l.Joins) != 1 || !l.Joins[0].Left.IsZero() {
		t.Errorf("the first customer did not stay with the agent: %s", l)
	}
	s, err := a.Session(ctx)
	if err != nil || s.State != "on_call" || s.Call == nil || s.Call.Contact == nil || s.Call.Contact.Tel != first {
		t.Errorf("agent after the abandon: %+v %v, want on_call with %s", s, err, first)
	}
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	var abandoned Attempt
	for wctx.Err() == nil {
		as, _ := in.Attempts(wctx, job.ID)
		for _, at := range as {
			if at.Tel == second && at.Outcome != "in_progress" {
				abandoned = at
			}
		}
		if abandoned.ID != 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	wcancel()
	if abandoned.Outcome != "abandoned" || abandoned.AgentID != 0 || abandoned.ChannelUUID != c2.UUID {
		t.Errorf("second customer recorded as %s, want abandoned on channel %s without agent", abandoned, c2.UUID)
	}
	finishCall(t, ctx, a)
	leaveAndClean(t, ctx, o, in, job.ID, a)
	as, err := in.WaitAttempts(ctx, job.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range as {
		if at.Tel == first && (at.Outcome != "connected" || at.AgentID != 1001) {
			t.Errorf("first customer recorded as %s, want connected to 1001", at)
		}
	}
}

// The agent's phone hung up on the switch during a call: the customer is not left alone in
// the room (we hang it up), the attempt is recorded connected with agent_dropped, and the agent
// is logged off with a message.
func TestLabAgentPhoneHangsUp(t *testing.T) {
	o := observe(t)
	in := StartInstance(t, Options{Agents: []int{1001}})
	o.Only(in.CallerIDs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	job, a, cust, leg := oneAgentOnCall(t, ctx, o, in, "agent-drop")
	if r, err := o.API(ctx, "uuid_kill "+leg.UUID); err != nil || !strings.HasPrefix(r, "+OK") {
		t.Fatalf("uuid_kill of the agent's leg: %q %v", r, err)
	}
	killed := time.Now()
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	waitLeg(t, o, wctx, cust.UUID, "the customer hung up after the agent's phone", func(l Leg) bool { return !l.Up() })
	t.Logf("customer hung up %v after the agent's leg was killed", time.Since(killed).Round(time.Millisecond))
	s, err := a.WaitState(wctx, "logged_off")
	if err != nil {
		t.Fatal(err)
	}
	if s.Message == "" {
		t.Error("the agent was logged off without a message")
	}
	t.Logf("agent's message: %q", s.Message)
	as, err := in.WaitAttempts(wctx, job.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	at := as[0]
	if len(as) != 1 || at.Outcome != "connected" || !at.AgentDropped || at.AgentID != 1001 || at.ChannelUUID != cust.UUID {
		t.Errorf("attempts %v, want one connected with agent_dropped, agent 1001, channel %s", as, cust.UUID)
	}
	in.StopJob(t, job.ID)
	noLegsLeft(t, o, 15*time.Second)
}

// Two agents on calls in a job stopped through the API: once their calls are over, every
// agent's phone leg ends on the switch and the agents are logged off without leaving
// themselves; nothing of the instance is left up.
func TestLabStopReleasesAgents(t *testing.T) {
	o := observe(t)
	agents := []int{1001, 1002}
	in := StartInstance(t, Options{Agents: agents})
	o.Only(in.CallerIDs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tels := []string{StaysUp(1), StaysUp(2)}
	job := in.CreateJob(t, "stop", tels)
	in.StartJob(t, job.ID)
	var as []Agent
	legs := map[int]Leg{}
	for _, id := range agents {
		a := in.Agent(id)
		as = append(as, a)
		if err := a.Join(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range as {
		if _, err := a.WaitState(ctx, "on_call"); err != nil {
			t.Fatal(err)
		}
		legs[a.ID] = agentLeg(t, o, ctx, a.ID, func(l Leg) bool { return l.Up() && !l.Answered.IsZero() })
	}
	in.StopJob(t, job.ID)
	for _, a := range as {
		finishCall(t, ctx, a)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	for _, a := range as {
		s, err := a.WaitState(wctx, "logged_off")
		if err != nil {
			t.Error(err)
			continue
		}
		t.Logf("agent %d logged off: %q", a.ID, s.Message)
		waitLeg(t, o, wctx, legs[a.ID].UUID, fmt.Sprintf("agent %d's leg ended", a.ID), func(l Leg) bool { return !l.Up() })
	}
	noLegsLeft(t, o, 15*time.Second)
	if j := in.GetJob(t, job.ID); j["status"] == "running" {
		t.Errorf("job still running after stop: %v", j)
	}
}

// A job with an agent waiting in its room is stopped through the API and the instance stopped
// right after, as a deploy would; a new instance on the same database and Redis releases the
// agent within 20 s (logged off, phone gone from the switch) and the agent can join another job.
func TestLabStopThenRestart(t *testing.T) {
	o := observe(t)
	in := StartInstance(t, Options{Agents: []int{1001}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o.Only(in.CallerIDs()...)
	// The customer rings without answer (30 s) while the agent waits in its room.
	job := in.CreateJob(t, "before", []string{NoAnswer(1)})
	in.StartJob(t, job.ID)
	a := in.Agent(1001)
	if err := a.Join(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	leg := agentLeg(t, o, ctx, 1001, func(l Leg) bool {
		return l.Up() && len(l.Joins) > 0 && l.Joins[0].Room == l.UUID
	})
	if _, err := a.WaitState(ctx, "available"); err != nil {
		t.Fatal(err)
	}
	jobStopped := time.Now()
	in.StopJob(t, job.ID)
	in.Stop()
	stopped := time.Now()
	t.Logf("first instance stopped %v after the job's stop", stopped.Sub(jobStopped).Round(time.Millisecond))

	in2 := StartInstance(t, Options{Agents: []int{1001}, KeepData: true})
	o.Only(append(in.CallerIDs(), in2.CallerIDs()...)...)
	a2 := in2.Agent(1001)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	s, err := a2.WaitState(wctx, "logged_off")
	if err != nil {
		t.Fatalf("agent still in the stopped job 20 s after the restart: %v", err)
	}
	t.Logf("agent logged off %v after the first instance stopped: %q", time.Since(stopped).Round(time.Millisecond), s.Message)
	waitLeg(t, o, wctx, leg.UUID, "the agent's phone ended", func(l Leg) bool { return !l.Up() })
	if ok, err := o.Exists(ctx, leg.UUID); err != nil || ok {
		t.Errorf("uuid_exists of the agent's leg: %v %v", ok, err)
	}
	t.Logf("agent's phone gone %v after the first instance stopped", time.Since(stopped).Round(time.Millisecond))

	job2 := in2.CreateJob(t, "after", []string{NoAnswer(2)})
	in2.StartJob(t, job2.ID)
	if err := a2.Join(ctx, job2.ID); err != nil {
		t.Fatalf("joining another job after the restart: %v", err)
	}
	agentLeg(t, o, ctx, 1001, func(l Leg) bool { return l.UUID != leg.UUID && l.Up() && len(l.Joins) > 0 })
	leaveAndClean(t, ctx, o, in2, job2.ID, a2)
}

// A supervisor listens to an agent on a call: the supervisor's leg comes up on the switch
// running eavesdrop on the agent's leg, and the call goes on; the supervisor's leg is hung up
// at the end and the call still goes on.
func TestLabListenWhisper(t *testing.T) {
	const supervisorToken, supervisorEndpoint = "lab-supervisor-token", "loopback/supervisor-1/agents"
	o := observe(t)
	in := StartInstance(t, Options{Agents: []int{1001}, Edit: func(cfg map[string]any) {
		users, _ := cfg["users"].([]any)
		cfg["users"] = append(users, map[string]any{"name": "supervisor-1", "role": "supervisor", "campaign_ids": []any{1},
			"supervisor_endpoints": []any{supervisorEndpoint}, "token_sha256": sha256Hex(supervisorToken)})
	}})
	o.Only(in.CallerIDs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	job, a, cust, leg := oneAgentOnCall(t, ctx, o, in, "listen")

	// The supervisor may call only its configured endpoints.
	in.MustAs(t, supervisorToken, 403, "POST", "/api/v1/agents/1001/listen", map[string]any{"supervisor_endpoint": "loopback/supervisor-2/agents"})
	resp := in.MustAs(t, supervisorToken, 202, "POST", "/api/v1/agents/1001/listen", map[string]any{"supervisor_endpoint": supervisorEndpoint})
	t.Logf("listen: %v", resp)
	sup, _ := resp["uuid"].(string)
	if sup == "" {
		t.Fatalf("no uuid in %v", resp)
	}
	if al, _ := resp["agent_leg"].(string); al != leg.UUID {
		t.Errorf("listen answered agent_leg %q, want the agent's phone %s", al, leg.UUID)
	}
	waitLeg(t, o, ctx, sup, "the supervisor's leg answered", func(l Leg) bool { return !l.Answered.IsZero() })
	var app, data string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		app, _ = o.API(ctx, "uuid_getvar "+sup+" current_application")
		data, _ = o.API(ctx, "uuid_getvar "+sup+" current_application_data")
		if strings.TrimSpace(app) == "eavesdrop" {
			break
		}
	}
	if strings.TrimSpace(app) != "eavesdrop" || strings.TrimSpace(data) != leg.UUID {
		t.Errorf("the supervisor's leg runs %q %q, want eavesdrop %s", app, data, leg.UUID)
	}
	if l, _ := o.Leg(sup); l.Role() != "supervisor" || !l.Up() {
		t.Errorf("supervisor leg: %s", l)
	}
	time.Sleep(2 * time.Second)
	checkCall := func(when string) {
		t.Helper()
		if l, _ := o.Leg(cust.UUID); !l.Up() || len(l.Joins) != 1 || !l.Joins[0].Left.IsZero() {
			t.Errorf("%s: the customer is no longer with the agent: %s", when, l)
		}
		if l, _ := o.Leg(leg.UUID); !l.Up() {
			t.Errorf("%s: the agent's leg ended: %s", when, l)
		}
		if s, err := a.Session(ctx); err != nil || s.State != "on_call" {
			t.Errorf("%s: agent %+v %v, want on_call", when, s, err)
		}
	}
	checkCall("while listening")
	if r, err := o.API(ctx, "uuid_kill "+sup); err != nil || !strings.HasPrefix(r, "+OK") {
		t.Fatalf("uuid_kill of the supervisor's leg: %q %v", r, err)
	}
	waitLeg(t, o, ctx, sup, "the supervisor's leg ended", func(l Leg) bool { return !l.Up() })
	time.Sleep(500 * time.Millisecond)
	checkCall("after the supervisor left")
	finishCall(t, ctx, a)
	leaveAndClean(t, ctx, o, in, job.ID, a)
	as, err := in.WaitAttempts(ctx, job.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if as[0].Outcome != "connected" || as[0].AgentDropped {
		t.Errorf("attempt %s, want connected without agent_dropped", as[0])
	}
}

// oneAgentOnCall starts a job over one customer who answers and stays up, joins agent 1001 and
// waits until the customer is in the agent's room; it returns the job, the agent, the customer's
// leg and the agent's.
func oneAgentOnCall(t *testing.T, ctx context.Context, o *Observer, in *Instance, name string) (Job, Agent, Leg, Leg) {
	t.Helper()
	tel := StaysUp(1)
	job := in.CreateJob(t, name, []string{tel})
	in.StartJob(t, job.ID)
	a := in.Agent(1001)
	if err := a.Join(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	onCall(t, ctx, a, tel)
	cust := customerLeg(t, o, ctx, tel, func(l Leg) bool { return l.Joined() })
	leg := agentLeg(t, o, ctx, 1001, func(l Leg) bool { return l.Up() && !l.Answered.IsZero() })
	return job, a, cust, leg
}
