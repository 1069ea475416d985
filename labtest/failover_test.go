//go:build lab

package labtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Two lab switches and two engine instances (issue 17 item 5): the second switch is killed in
// the middle of a campaign, as a crash would end it (no hangup sent). Its calls are ended and
// recorded, its agents are logged off and told, and dialing goes on on the first switch; once
// the second switch is back, the next agent to join is put on it and takes calls there.

// labNode runs scripts/freeswitch-lab.sh for lab switch node n (KAKERU_LAB_NODE).
func labNode(t *testing.T, n int, action string) {
	t.Helper()
	src, err := SourceDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(src, "scripts", "freeswitch-lab.sh"), action)
	cmd.Env = append(os.Environ(), "KAKERU_LAB_NODE="+strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("freeswitch-lab.sh %s (node %d): %v\n%s", action, n, err, out)
	}
}

const node2Addr = "127.0.0.1:18022"

func TestLabTwoSwitchesFailover(t *testing.T) {
	labNode(t, 2, "start")
	t.Cleanup(func() { labNode(t, 2, "stop") })
	o1 := observe(t)
	o2, err := NewObserver(node2Addr, ESLPassword())
	if err != nil {
		t.Fatalf("lab switch 2: %v", err)
	}
	t.Cleanup(o2.Close)

	agents := []int{1001, 1002, 1003, 1004, 1005}
	opts := Options{Agents: agents, Pacing: "progressive", Edit: func(cfg map[string]any) {
		fs := cfg["freeswitch"].(map[string]any)
		fs["nodes"] = []any{map[string]any{"name": "lab", "address": ESLAddr(), "password": ESLPassword()},
			map[string]any{"name": "lab2", "address": node2Addr, "password": ESLPassword()}}
	}}
	in1 := StartInstance(t, opts)

	// Two jobs of two agents each: the first started while instance 1 runs alone (it owns it),
	// the second once instance 2 runs too (whichever leases it first owns it).
	var jobs []Job
	var sims []*AgentSim
	var in2 *Instance
	for k := range 2 {
		if k == 1 {
			opts.KeepData = true
			in2 = StartInstance(t, opts)
		}
		var tels []string
		for i := range 200 {
			tels = append(tels, Answering(1, 4, 7000+200*k+i))
		}
		j := in1.CreateJob(t, "failover-"+strconv.Itoa(k), tels)
		in1.StartJob(t, j.ID)
		jobs = append(jobs, j)
		sims = append(sims, &AgentSim{In: in1, Job: j.ID, Agents: agents[2*k : 2*k+2], Talk: 3 * time.Second, Wrap: 300 * time.Millisecond})
	}
	loggedOff := func(id int) []string {
		for _, s := range sims {
			if st, ok := s.Stats()[id]; ok {
				return st.LoggedOff
			}
		}
		return nil
	}
	callers := append(in1.CallerIDs(), in2.CallerIDs()...)
	o1.Only(callers...)
	o2.Only(callers...)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for _, s := range sims {
			wg.Go(func() { s.Run(ctx) })
		}
		wg.Wait()
		close(done)
	}()
	defer func() { stop(); <-done }()

	// Both switches take calls: agents spread over them.
	waitCtx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := o2.WaitFor(waitCtx, "customers on switch 2", func(o *Observer) bool { return countRole(o, "customer") >= 3 }); err != nil {
		t.Fatal(err)
	}
	if err := o1.WaitFor(waitCtx, "customers on switch 1", func(o *Observer) bool { return countRole(o, "customer") >= 3 }); err != nil {
		t.Fatal(err)
	}
	onNode2 := agentsOn(o2)
	if len(onNode2) == 0 {
		t.Fatal("no agent on switch 2")
	}

	// Switch 2 crashes.
	killed := time.Now()
	before1 := countRole(o1, "customer")
	labNode(t, 2, "kill")
	// Each instance tells the agents of its own jobs, each on its own detection of the loss:
	// wait for all of them.
	var told time.Duration
	for told == 0 {
		if time.Since(killed) > 60*time.Second {
			t.Fatalf("agents on switch 2 %v not all told within 60 s", onNode2)
		}
		all := true
		for _, id := range onNode2 {
			all = all && len(loggedOff(id)) > 0
		}
		if all {
			told = time.Since(killed)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Dialing goes on on switch 1, and the agents logged off join again (on switch 1).
	goOn, cancelGoOn := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelGoOn()
	if err := o1.WaitFor(goOn, "new calls on switch 1", func(o *Observer) bool { return countRole(o, "customer") >= before1+5 }); err != nil {
		t.Fatal(err)
	}
	var attempts []Attempt
	for _, j := range jobs {
		a, err := in1.Attempts(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		attempts = append(attempts, a...)
	}
	lost := 0
	for _, a := range attempts {
		if a.HangupCause == "SWITCH_NODE_LOST" {
			lost++
			if a.EndedAt.IsZero() {
				t.Errorf("lost call not ended: %s", a)
			}
		}
	}
	for _, id := range onNode2 {
		if msgs := loggedOff(id); len(msgs) == 0 || !strings.Contains(strings.Join(msgs, " "), "電話交換機") {
			t.Errorf("agent %d on switch 2 told %q", id, msgs)
		}
	}

	// Switch 2 back: the next agent to join is called there and takes calls there.
	restarted := time.Now()
	labNode(t, 2, "start")
	o2b, err := NewObserver(node2Addr, ESLPassword())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o2b.Close)
	o2b.Only(callers...)
	late := in1.Agent(1005)
	var joined time.Duration
	for joined == 0 {
		if time.Since(restarted) > 60*time.Second {
			t.Fatal("switch 2 not taken back into use within 60 s")
		}
		// The instances reconnect with backoff: a join before that goes to switch 1; then the
		// agent leaves and tries again.
		if err := late.Join(context.Background(), jobs[0].ID); err != nil {
			t.Fatal(err)
		}
		jctx, jcancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := late.WaitState(jctx, "available", "on_call")
		jcancel()
		if err == nil && len(agentsOn(o2b)) > 0 {
			joined = time.Since(restarted)
			break
		}
		if err := late.Leave(context.Background()); err != nil {
			t.Fatal(err)
		}
		lctx, lcancel := context.WithTimeout(context.Background(), 10*time.Second)
		late.WaitState(lctx, "logged_off")
		lcancel()
		time.Sleep(time.Second)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if _, err := late.WaitState(sctx, "on_call"); err != nil {
		t.Fatalf("the agent on switch 2 took no call: %v", err)
	}
	if err := o2b.WaitFor(sctx, "a customer on switch 2 again", func(o *Observer) bool { return countRole(o, "customer") >= 1 }); err != nil {
		t.Fatal(err)
	}
	t.Logf("switch 2 killed with %d agents on it: %d calls lost (ended %s), agents told after %v; "+
		"switch 2 restarted and an agent on it after %v", len(onNode2), lost, "SWITCH_NODE_LOST", told.Round(100*time.Millisecond),
		joined.Round(100*time.Millisecond))
	t.Logf("job owners: instance 1 took %d, instance 2 took %d", jobsTaken(t, in1), jobsTaken(t, in2))
	stop()
	<-done
	lctx, lcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer lcancel()
	for i, j := range jobs {
		in1.StopJob(t, j.ID)
		sims[i].FinishAndLeave(lctx)
	}
	late.Leave(lctx)
}

// countRole is how many legs of the role the observer has seen (a-legs only).
func countRole(o *Observer, role string) int {
	n := 0
	for _, l := range o.Legs() {
		if !l.BLeg && l.Role() == role {
			n++
		}
	}
	return n
}

// agentsOn are the agents whose phones are up on the observer's switch.
func agentsOn(o *Observer) []int {
	var out []int
	for _, l := range o.Legs() {
		if !l.BLeg && l.Role() == "agent" && l.Up() {
			out = append(out, l.AgentID())
		}
	}
	return out
}

// jobsTaken is how many call jobs the instance's log says it took.
func jobsTaken(t *testing.T, in *Instance) int {
	raw, err := os.ReadFile(in.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(raw), "call job taken")
}
