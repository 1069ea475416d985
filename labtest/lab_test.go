//go:build lab

package labtest

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// observe connects an Observer to the lab switch; the test fails when the switch does not answer.
func observe(t *testing.T) *Observer {
	t.Helper()
	o, err := NewObserver(ESLAddr(), ESLPassword())
	if err != nil {
		t.Fatalf("lab switch: %v", err)
	}
	t.Cleanup(func() {
		// Whatever this test started and left up (a failed test, a stuck engine) would otherwise
		// stay on the switch for the next test to trip over: 0905 customers talk for 600 s and
		// agents' phones park for ever.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var killed []string
		for _, l := range o.Legs() {
			if l.Up() && !l.BLeg {
				if ok, _ := o.Exists(ctx, l.UUID); ok {
					t.Logf("killing a leg left up: %s", l)
					o.API(ctx, "uuid_kill "+l.UUID)
					killed = append(killed, l.UUID)
				}
			}
		}
		// Gone before the next test's observer subscribes.
		for _, id := range killed {
			for ctx.Err() == nil {
				if ok, err := o.Exists(ctx, id); err != nil || !ok {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		o.Close()
	})
	return o
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// noLegsLeft waits until nothing the test started is up on the switch.
func noLegsLeft(t *testing.T, o *Observer, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var up []UpLeg
	var lastErr error
	for {
		u, err := o.StillUp(ctx)
		if err == nil {
			if len(u) == 0 {
				return
			}
			up = u
		} else {
			lastErr = err
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if up == nil && lastErr != nil {
		t.Errorf("channels up: %v", lastErr)
	}
	for _, u := range up {
		t.Errorf("left up on the switch: %s %s (listed %v, seen %v) %s", u.UUID, u.Name, u.Listed, u.Seen, u.Leg)
	}
}

// The lab switch itself, without kakeru: authentication, status, an agent in its own room, a
// customer answering after 1 s moved in with uuid_transfer and hanging up after 3 s while the
// agent stays, the error numbers' causes, and how show channels lags uuid_exists.
func TestLabSwitch(t *testing.T) {
	o := observe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	status, err := o.API(ctx, "status")
	if err != nil || !strings.HasPrefix(status, "UP ") {
		t.Fatalf("status: %q %v", status, err)
	}
	cid := RandomDigits("05", 10) // this test's legs, apart from anyone else's on the switch
	o.Only(cid)
	bg := func(vars, dial, app string) {
		t.Helper()
		r, err := o.Command(ctx, fmt.Sprintf("bgapi originate {origination_caller_id_number=%s,%s}%s %s", cid, vars, dial, app))
		if err != nil || !strings.HasPrefix(r, "+OK") {
			t.Fatalf("bgapi originate %s: %q %v", dial, r, err)
		}
	}

	agent := newUUID()
	bg("origination_uuid="+agent+",ignore_early_media=true,conference_moh_sound="+strings.ReplaceAll(HoldMusic, ",", `\,`),
		"loopback/agent-1001/agents", "&conference("+agent+"@"+ConferenceProfile+")")
	waitLeg(t, o, ctx, agent, "in its own room", func(l Leg) bool { return len(l.Joins) > 0 && l.Joins[0].Room == agent })
	if ok, _ := o.Exists(ctx, agent); !ok {
		t.Fatal("uuid_exists of the agent's leg is not true")
	}

	cust := newUUID()
	tel := Answering(1, 3, 1)
	bg("origination_uuid="+cust+",ignore_early_media=true,originate_timeout=10", "loopback/"+tel+"/customers", "&park()")
	// uuid_exists is true as soon as the channel exists; show channels catches up later.
	waitLeg(t, o, ctx, cust, "created", func(l Leg) bool { return !l.Created.IsZero() })
	seen := time.Now()
	if ok, _ := o.Exists(ctx, cust); !ok {
		t.Error("uuid_exists is not true right after CHANNEL_CREATE")
	}
	lag := time.Duration(-1)
	for time.Since(seen) < 3*time.Second {
		rows, err := o.ShowChannels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := rows[cust]; ok {
			lag = time.Since(seen)
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("show channels listed the customer %v after its CHANNEL_CREATE was read", lag.Round(time.Millisecond))
	if lag < 0 {
		t.Error("show channels never listed the customer")
	}
	waitLeg(t, o, ctx, cust, "answered", func(l Leg) bool { return !l.Answered.IsZero() })
	l, _ := o.Leg(cust)
	if ring := l.Answered.Sub(l.Created); ring < 900*time.Millisecond || ring > 1500*time.Millisecond {
		t.Errorf("%s answered after %v, want about 1 s", tel, ring)
	}
	if r, err := o.API(ctx, fmt.Sprintf("uuid_transfer %s conference:%s@%s inline", cust, agent, ConferenceProfile)); err != nil || !strings.HasPrefix(r, "+OK") {
		t.Fatalf("uuid_transfer: %q %v", r, err)
	}
	waitLeg(t, o, ctx, cust, "in the agent's room", func(l Leg) bool { return l.Joined() })
	waitLeg(t, o, ctx, cust, "hung up", func(l Leg) bool { return !l.Up() })
	l, _ = o.Leg(cust)
	if l.Cause != "NORMAL_CLEARING" || l.Talk() < 2500*time.Millisecond || l.Talk() > 3500*time.Millisecond {
		t.Errorf("customer: want NORMAL_CLEARING after about 3 s in the room: %s", l)
	}
	time.Sleep(300 * time.Millisecond)
	if a, _ := o.Leg(agent); !a.Up() {
		t.Fatalf("the agent's leg ended with the customer: %s", a)
	}
	if ok, _ := o.Exists(ctx, agent); !ok {
		t.Fatal("uuid_exists of the agent's leg is not true after the customer left")
	}
	// A finished channel is false at once for uuid_exists; show channels may list it a while.
	if ok, _ := o.Exists(ctx, cust); ok {
		t.Error("uuid_exists is true after CHANNEL_HANGUP_COMPLETE")
	}

	fates := []struct{ tel, cause, id string }{
		{Busy(1), "USER_BUSY", ""}, {Unallocated(1), "UNALLOCATED_NUMBER", ""}, {Rejected(1), "CALL_REJECTED", ""},
		{TemporaryFailure(1), "NORMAL_TEMPORARY_FAILURE", ""}, {NoAnswer(1), "NO_ANSWER", ""}, {Answering(0, 0, 2), "NORMAL_CLEARING", ""},
	}
	for i := range fates {
		fates[i].id = newUUID()
		bg("origination_uuid="+fates[i].id+",ignore_early_media=true,originate_timeout=3", "loopback/"+fates[i].tel+"/customers", "&park()")
	}
	for _, f := range fates {
		waitLeg(t, o, ctx, f.id, f.tel+" hung up", func(l Leg) bool { return !l.Up() })
		if l, _ := o.Leg(f.id); l.Cause != f.cause {
			t.Errorf("%s: cause %s, want %s: %s", f.tel, l.Cause, f.cause, l)
		}
	}
	t.Cleanup(func() {
		o.API(context.Background(), "uuid_kill "+agent)
		noLegsLeft(t, o, 10*time.Second)
	})
}

func waitLeg(t *testing.T, o *Observer, ctx context.Context, id, what string, cond func(Leg) bool) {
	t.Helper()
	err := o.WaitFor(ctx, what, func(o *Observer) bool {
		l, ok := o.Leg(id)
		return ok && cond(l)
	})
	if err != nil {
		l, _ := o.Leg(id)
		t.Fatalf("leg %s: %v (%s)", id, err, l)
	}
}

// agentLeg waits for the agent's a-leg on the switch.
func agentLeg(t *testing.T, o *Observer, ctx context.Context, agent int, cond func(Leg) bool) Leg {
	t.Helper()
	var found Leg
	err := o.WaitFor(ctx, fmt.Sprintf("agent %d's leg", agent), func(o *Observer) bool {
		for _, l := range o.ALegs("agent") {
			if l.AgentID() == agent && cond(l) {
				found = l
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// One agent, one customer who answers after 1 s and talks 3 s: the agent hears hold music, the
// customer joins the agent, the agent's phone stays up through wrap-up, hold music comes back,
// and the attempt is recorded connected with the switch's talk time.
func TestLabHappyPath(t *testing.T) {
	o := observe(t)
	in := StartInstance(t, Options{Agents: []int{1001}})
	o.Only(in.CallerIDs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tel := Answering(1, 3, 1)
	job := in.CreateJob(t, "happy", []string{tel})
	in.StartJob(t, job.ID)
	a := in.Agent(1001)
	if err := a.Join(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	leg := agentLeg(t, o, ctx, 1001, func(l Leg) bool { return !l.Answered.IsZero() })
	// What the agent hears until the customer joins: hold music (a 440 Hz tone in the lab).
	samples, rate, err := o.Record(ctx, leg.UUID, filepath.Join(in.Dir, "agent-hold.wav"), 900*time.Millisecond)
	if err != nil {
		t.Fatalf("recording the agent's leg: %v", err)
	}
	f := ToneFraction(samples, rate, 440)
	t.Logf("before the customer: 440 Hz in %.0f%% of %d ms on the agent's leg", f*100, len(samples)*1000/max(rate, 1))
	if f < 0.3 {
		t.Error("the agent heard no hold music before the customer")
	}

	// The agent's screen, watched from here on; the switch decides when the call is over.
	watch := WatchAgent(ctx, a)
	var cust Leg
	if err := o.WaitFor(ctx, "the customer ended", func(o *Observer) bool {
		for _, l := range o.ALegs("customer") {
			if l.Dest == tel && !l.Up() {
				cust = l
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	if !cust.Joined() {
		t.Errorf("the customer never joined the agent on the switch: %s", cust)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	sess, err := a.WaitState(wctx, "wrap_up")
	wcancel()
	if err != nil {
		t.Error(err)
	}
	states := watch.Stop()
	t.Logf("agent's screen: %v", states)
	if !slices.ContainsFunc(states, func(s SeenState) bool { return s.State == "on_call" && s.Tel == tel }) {
		t.Errorf("the agent's screen never showed the call with %s on_call", tel)
	}
	if l, _ := o.Leg(leg.UUID); !l.Up() {
		t.Fatalf("the agent's leg ended with the customer: %s", l)
	}
	if ok, err := o.Exists(ctx, leg.UUID); err != nil || !ok {
		t.Fatalf("uuid_exists of the agent's leg after the call: %v %v", ok, err)
	}
	// G-3: hold music again once the customer is gone.
	time.Sleep(300 * time.Millisecond)
	samples, rate, err = o.Record(ctx, leg.UUID, filepath.Join(in.Dir, "agent-wrap.wav"), 1500*time.Millisecond)
	if err != nil {
		t.Fatalf("recording the agent's leg: %v", err)
	}
	f = ToneFraction(samples, rate, 440)
	t.Logf("after the call: 440 Hz in %.0f%% of %d ms on the agent's leg", f*100, len(samples)*1000/max(rate, 1))
	if f < 0.2 {
		t.Error("no hold music after the call")
	}
	if sess.State == "wrap_up" && sess.AttemptID() != 0 {
		if err := a.Disposition(ctx, sess.AttemptID(), "interested"); err != nil {
			t.Error(err)
		}
	}
	released := time.Now() // before the stop: nothing of ours can end the agent's leg earlier
	in.StopJob(t, job.ID)
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitState(ctx, "logged_off"); err != nil {
		t.Fatal(err)
	}
	waitLeg(t, o, ctx, leg.UUID, "the agent's leg ended", func(l Leg) bool { return !l.Up() })
	noLegsLeft(t, o, 10*time.Second)

	attempts, err := in.WaitAttempts(ctx, job.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := Compare(o.Legs(), attempts, Expect{Released: released, ConnectDeadline: in.ConnectDeadline()})
	t.Logf("switch vs PostgreSQL:\n%s", c.Summary())
	for _, p := range c.Problems {
		t.Error(p.String())
	}
	for _, d := range c.AgentDrops {
		t.Error("agent leg dropped: " + d)
	}
	at := attempts[0]
	if len(attempts) != 1 || at.Outcome != "connected" || at.AgentID != 1001 || at.ChannelUUID != cust.UUID {
		t.Fatalf("attempts %v, want one connected to agent 1001 on channel %s", attempts, cust.UUID)
	}
	if len(cust.Joins) == 0 {
		return
	}
	if d := at.Talk() - 3*time.Second; d < -time.Second || d > time.Second {
		t.Errorf("recorded talk %v, want about 3 s (switch: %v)", at.Talk(), cust.Talk())
	}
	t.Logf("answer→join on the switch %v; talk recorded %v, switch %v", cust.Joins[0].At.Sub(cust.Answered).Round(time.Millisecond),
		at.Talk().Round(time.Millisecond), cust.Talk().Round(time.Millisecond))
}

// One number of each class gives its outcome: busy, no answer, invalid number, rejected, network
// failure, and a customer who hangs up at the instant of answer (abandoned).
func TestLabOutcomes(t *testing.T) {
	o := observe(t)
	in := StartInstance(t, Options{Agents: []int{1001}, Pacing: "ratio", MaxRatio: 10})
	o.Only(in.CallerIDs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	want := map[string]string{
		Busy(11):             "busy",
		NoAnswer(12):         "no_answer",
		Unallocated(13):      "invalid_number",
		Rejected(14):         "rejected",
		TemporaryFailure(15): "network_failure",
		Answering(0, 0, 16):  "abandoned",
	}
	var tels []string
	for tel := range want {
		tels = append(tels, tel)
	}
	slices.Sort(tels)
	job := in.CreateJob(t, "outcomes", tels)
	in.StartJob(t, job.ID)
	a := in.Agent(1001)
	if err := a.Join(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	attempts, err := in.WaitAttempts(ctx, job.ID, len(tels))
	if err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	in.StopJob(t, job.ID)
	if s, _ := a.Session(ctx); s.State == "wrap_up" && s.AttemptID() != 0 {
		a.Disposition(ctx, s.AttemptID(), "interested")
	}
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitState(ctx, "logged_off"); err != nil {
		t.Fatal(err)
	}
	noLegsLeft(t, o, 15*time.Second)
	for _, at := range attempts {
		if want[at.Tel] != at.Outcome {
			t.Errorf("%s: outcome %s, want %s", at, at.Outcome, want[at.Tel])
		}
	}
	if len(attempts) != len(tels) {
		t.Errorf("%d attempts for %d numbers", len(attempts), len(tels))
	}
	c := Compare(o.Legs(), attempts, Expect{Released: released, ConnectDeadline: in.ConnectDeadline()})
	t.Logf("switch vs PostgreSQL:\n%s", c.Summary())
	for _, p := range c.Problems {
		t.Error(p.String())
	}
	for _, d := range c.AgentDrops {
		t.Error("agent leg dropped: " + d)
	}
}

// predictiveList is n numbers with mixed fates, short rings (0-2 s) and talks (1-5 s): 55%
// talk, 5% hang up at the instant of answer, 4% stay up until the agent ends the call, 10%
// busy, 6% no answer, 6% unallocated, 4% rejected, 10% temporary failure.
func predictiveList(n int, seed uint64) []string {
	r := mrand.New(mrand.NewPCG(seed, 11))
	tels := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		switch p := r.IntN(100); {
		case p < 55:
			tels = append(tels, Answering(r.IntN(3), 1+r.IntN(5), i))
		case p < 60:
			tels = append(tels, Answering(r.IntN(3), 0, i)) // hangs up at the instant of answer
		case p < 64:
			tels = append(tels, StaysUp(i)) // the agent ends it
		case p < 74:
			tels = append(tels, Busy(i))
		case p < 80:
			tels = append(tels, NoAnswer(i))
		case p < 86:
			tels = append(tels, Unallocated(i))
		case p < 90:
			tels = append(tels, Rejected(i))
		default:
			tels = append(tels, TemporaryFailure(i))
		}
	}
	return tels
}

// Predictive pacing on the real switch: six agents simulated through the API (they hang a
// customer up after about 5 s, wrap up for about 0.5 s), 300 customers with mixed fates; then the
// switch's story (Observer) and PostgreSQL's are compared call by call: no agent leg hung up by
// the switch, nothing left up once the job is stopped and the agents have left, every connected
// attempt's talk time within 1 s of the switch's, abandons recorded = customers the switch
// answered who never joined an agent, no number dialed twice at once; answer→join on the switch
// logged. About 4 minutes.
func TestLabPredictive(t *testing.T) {
	const contacts = 300
	agents := []int{1001, 1002, 1003, 1004, 1005, 1006}
	o := observe(t)
	in := StartInstance(t, Options{Agents: agents, Pacing: "predictive", ConnectDeadline: 2 * time.Second})
	o.Only(in.CallerIDs()...)
	tels := predictiveList(contacts, 1)
	job := in.CreateJob(t, "predictive", tels)
	in.StartJob(t, job.ID)
	sim := &AgentSim{In: in, Job: job.ID, Agents: agents, Talk: 5 * time.Second, Wrap: 500 * time.Millisecond,
		Codes: []string{"interested", "not_interested", "call_back_later"}}
	start := time.Now()
	// Every contact dialed and ended, or nothing moving for a minute (calls stuck in progress).
	attempts, released := workJob(t, sim, o, contacts, 6*time.Minute, time.Minute)
	legs := o.Legs()
	c := Compare(legs, attempts, Expect{Released: released, ConnectDeadline: in.ConnectDeadline()})
	t.Logf("switch vs PostgreSQL after %v:\n%s", time.Since(start).Round(time.Second), c.Summary())
	report := filepath.Join(in.Dir, "comparison.txt")
	if err := c.WriteReport(report, legs); err != nil {
		t.Error(err)
	}
	t.Logf("call by call: %s", report)
	for id, st := range sim.Stats() {
		t.Logf("agent %d: joins %d, calls %d, hung up %d, dispositions %d, logged off while working %v",
			id, st.Joins, len(st.Calls), st.Hangups, st.Dispositions, st.LoggedOff)
	}
	for _, p := range sim.Problems() {
		t.Log("agent API: " + p)
	}
	for _, a := range o.Anomalies() {
		t.Log("observer: " + a)
	}
	show := func(what string, list []string) {
		if len(list) == 0 {
			return
		}
		t.Errorf("%d %s", len(list), what)
		for i, s := range list {
			if i == 40 {
				t.Logf("… %d more", len(list)-40)
				break
			}
			t.Log("  " + s)
		}
	}
	var problems []string
	for _, p := range c.Problems {
		problems = append(problems, p.String())
	}
	show("agent legs hung up by the switch or left up", c.AgentDrops)
	show("mismatches between the switch and PostgreSQL", problems)
	show("numbers dialed twice at once", c.Overlaps)
	if len(attempts) < contacts {
		t.Errorf("%d attempts for %d contacts", len(attempts), contacts)
	}
}
