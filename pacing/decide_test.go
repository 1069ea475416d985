package pacing

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseMode(t *testing.T) {
	for _, s := range []string{"progressive", "ratio", "predictive"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "Predictive", "power"} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q) accepted", s)
		}
	}
}

// warmEstimator is an estimator that has seen a campaign like docs/pacing.md's S3 for a while.
func warmEstimator(r *rand.Rand, at time.Time) *Estimator {
	e := NewEstimator(time.UTC)
	for i := range 2000 {
		res := DialResult{At: at.Add(time.Duration(i) * time.Second), Classify: 1500 * time.Millisecond}
		switch u := r.Float64(); {
		case u < 0.3:
			res.Outcome, res.Ring = Live, time.Duration((5+10*r.Float64())*float64(time.Second))
		case u < 0.45:
			res.Outcome, res.Ring = Machine, time.Duration((12+10*r.Float64())*float64(time.Second))
		case u < 0.6:
			res.Outcome, res.Ring = Failed, 3*time.Second
		default:
			res.Outcome, res.Ring = NoAnswer, 25*time.Second
		}
		e.ObserveDial(res)
		if i%5 == 0 {
			e.ObserveTalk(time.Duration(r.ExpFloat64() * 180 * float64(time.Second)))
			e.ObserveWrap(time.Duration((5 + 10*r.Float64()) * float64(time.Second)))
		}
	}
	return e
}

func randomSnapshot(r *rand.Rand, stats *Estimator) Snapshot {
	modes := []Mode{Progressive, Ratio, Predictive, "", "bogus"}
	s := Snapshot{
		Now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Settings: Settings{
			Mode:              modes[r.IntN(len(modes))],
			Ratio:             []float64{0, 1, 1.7, 3, 50, math.NaN(), math.Inf(1)}[r.IntN(7)],
			MaxCallsPerAgent:  []float64{0, 1, 1.5, 2, 3, 10, -1, math.Inf(1), math.NaN()}[r.IntN(9)],
			TargetAbandonRate: []float64{0, 0.03, 0.01, 0.5, -2}[r.IntN(5)],
			ConnectDeadline:   time.Duration(r.IntN(4)) * time.Second,
		},
		Stats: stats,
	}
	for range r.IntN(40) {
		s.Agents = append(s.Agents, Agent{State: AgentState(r.IntN(5)), InState: time.Duration(r.IntN(600)) * time.Second})
	}
	for range r.IntN(60) {
		el := time.Duration(r.IntN(40000)) * time.Millisecond
		s.Calls = append(s.Calls, Call{Stage: CallStage(r.IntN(4)), Elapsed: el, InStage: el / 2})
	}
	return s
}

// Properties of Decide over random snapshots, with and without statistics.
func TestDecideProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	warm := warmEstimator(r, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	for i := range 20000 {
		var stats *Estimator
		switch i % 3 {
		case 1:
			stats = warm
		case 2:
			stats = NewEstimator(nil)
		}
		s := randomSnapshot(r, stats)
		d := Decide(s)
		if d.Reason == "" || d.Dial < 0 {
			t.Fatalf("snapshot %d: decision %+v", i, d)
		}
		active, ready := 0, 0
		for _, a := range s.Agents {
			if a.State == Ready || a.State == OnCall || a.State == WrapUp {
				active++
			}
			if a.State == Ready {
				ready++
			}
		}
		if active == 0 && d.Dial != 0 {
			t.Fatalf("snapshot %d: dials %d with no agent logged in and working", i, d.Dial)
		}
		maxPer := s.Settings.MaxCallsPerAgent
		if !(maxPer > 0) {
			maxPer = DefaultMaxCallsPerAgent
		}
		maxPer = min(maxPer, 1000)
		if float64(len(s.Calls)+d.Dial) > maxPer*float64(active)+1e-9 && d.Dial > 0 {
			t.Fatalf("snapshot %d: %d in flight + %d exceeds %v per agent × %d", i, len(s.Calls), d.Dial, maxPer, active)
		}
		if (s.Settings.Mode == Progressive || d.Reason == "progressive" || d.Reason == "cold_start") && len(s.Calls)+d.Dial > ready && d.Dial > 0 {
			t.Fatalf("snapshot %d: progressive over-dials: %d ready, %d in flight, dials %d", i, ready, len(s.Calls), d.Dial)
		}
		if d2 := Decide(s); d2 != d {
			t.Fatalf("snapshot %d: not deterministic: %+v then %+v", i, d, d2)
		}
	}
}

func TestDecideZeroValues(t *testing.T) {
	if d := Decide(Snapshot{}); d.Dial != 0 || d.Reason != "no_agents" {
		t.Errorf("Decide(zero) = %+v", d)
	}
	s := Snapshot{Settings: Settings{Mode: Predictive}, Agents: []Agent{{State: Ready}, {State: Ready}}}
	if d := Decide(s); d.Dial != 2 || d.Reason != "cold_start" {
		t.Errorf("predictive without statistics = %+v, want 2 cold_start", d)
	}
	s.Agents = []Agent{{State: Paused}, {State: Paused}}
	if d := Decide(s); d.Dial != 0 || d.Reason != "no_agents" {
		t.Errorf("all paused = %+v", d)
	}
	// Empty distributions, NaN and huge durations must not panic.
	e := NewEstimator(nil)
	e.ObserveDial(DialResult{Outcome: Live, Ring: -time.Second})
	e.ObserveDial(DialResult{Outcome: Outcome(9)})
	e.ObserveTalk(math.MaxInt64)
	e.ObserveWrap(-1)
	s = Snapshot{Settings: Settings{Mode: Predictive, Tuning: Tuning{MinDials: 1, MinLive: 1, Points: 1000}},
		Agents: []Agent{{State: OnCall, InState: math.MaxInt64}, {State: WrapUp, InState: -5}},
		Calls:  []Call{{Elapsed: math.MaxInt64}, {Stage: Waiting}}, Stats: e}
	_ = Decide(s)
	_ = e.Summary()
	var nilEst *Estimator
	nilEst.ObserveDial(DialResult{})
	nilEst.ObserveAbandon(time.Time{})
	_ = nilEst.Compliance(time.Time{})
}

func TestProgressiveAndRatio(t *testing.T) {
	agents := []Agent{{State: Ready}, {State: Ready}, {State: Ready}, {State: OnCall}, {State: WrapUp}}
	s := Snapshot{Settings: Settings{Mode: Progressive}, Agents: agents, Calls: []Call{{Stage: Ringing}}}
	if d := Decide(s); d.Dial != 2 || d.Reason != "progressive" {
		t.Errorf("progressive = %+v, want 2", d)
	}
	s.Settings = Settings{Mode: Ratio, Ratio: 2}
	if d := Decide(s); d.Dial != 5 || d.Reason != "ratio" {
		t.Errorf("ratio 2 = %+v, want 6 − 1 = 5", d)
	}
	s.Settings.MaxCallsPerAgent = 1
	if d := Decide(s); d.Dial != 4 {
		t.Errorf("ratio 2 capped at 1 per agent = %+v, want 5 − 1 = 4", d)
	}
	s.Calls = make([]Call, 5)
	if d := Decide(s); d.Dial != 0 || d.Reason != "at_cap" {
		t.Errorf("at cap = %+v", d)
	}
}

// A warm predictive campaign over-dials when agents are ready, and goes back to progressive
// when a compliance window is over its target.
func TestPredictive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := warmEstimator(r, now.Add(-time.Hour))
	agents := make([]Agent, 20)
	for i := range agents {
		agents[i] = Agent{State: OnCall, InState: time.Duration(i*20) * time.Second}
	}
	agents[0].State = Ready
	s := Snapshot{Now: now, Settings: Settings{Mode: Predictive}, Agents: agents, Stats: e}
	d := Decide(s)
	if d.Reason != "predictive" || d.Dial < 2 {
		t.Errorf("warm predictive = %+v, want over-dialing", d)
	}
	for range 30 {
		e.ObserveAbandon(now.Add(-time.Minute))
	}
	d = Decide(s)
	if d.Reason != "abandon_budget_spent" || d.Dial != 1 || d.Budget >= 0 {
		t.Errorf("over target = %+v, want progressive with a negative budget", d)
	}
	// Issue 18: a day whose rest can pay the excess back is not spent; the day-budget guard
	// holds the over-dial to what the budget and that credit cover. A day ending now is.
	long := s
	long.DayEnd = now.Add(8 * time.Hour)
	if d := Decide(long); d.Reason == "abandon_budget_spent" || d.Dial < 1 {
		t.Errorf("over target with 8 hours left (credit %.1f) = %+v, want no fallback", dayCredit(long, long.Settings.normalized(), long.Settings.normalized().recordedTarget(), 20), d)
	}
	ending := s
	ending.DayEnd = now.Add(time.Minute)
	if d := Decide(ending); d.Reason != "abandon_budget_spent" || d.Dial != 1 {
		t.Errorf("over target with a minute left = %+v, want progressive", d)
	}
}

// The feedback tightens as a window's abandons grow and relaxes below the allowance; the
// hottest window rules.
func TestThresholdFeedback(t *testing.T) {
	set := Settings{}.normalized()
	prev := math.Inf(1)
	for a := 0; a <= 60; a += 5 {
		c := Compliance{Day: window(1000, a), Rolling24h: window(1000, a), Rolling30d: window(20000, 300)}
		th := threshold(c, set, set.TargetAbandonRate)
		if th > prev || th < set.Tuning.MinThreshold || th > set.Tuning.MaxThreshold {
			t.Fatalf("%d abandons: threshold %v after %v", a, th, prev)
		}
		prev = th
	}
	cool := Compliance{Day: window(1000, 10), Rolling24h: window(1000, 10), Rolling30d: window(20000, 300)}
	hot := cool
	hot.Rolling30d = window(20000, 700)
	if threshold(hot, set, set.TargetAbandonRate) >= threshold(cool, set, set.TargetAbandonRate) {
		t.Error("a hot 30-day window does not tighten")
	}
}

// LookAhead with exact agent free times: nobody free soon means no over-dial; more agents
// freeing soon means more calls; the cap is respected.
func TestLookAhead(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := warmEstimator(r, now.Add(-time.Hour))
	agents := make([]Agent, 10)
	for i := range agents {
		agents[i] = Agent{State: OnCall, InState: time.Minute}
	}
	s := Snapshot{Now: now, Settings: Settings{Mode: Predictive}, Agents: agents, Stats: e}
	never := LookAhead{Threshold: 0.05, AgentFree: func(int, time.Duration) float64 { return 0 }}
	if n := never.Dials(s, 100); n != 0 {
		t.Errorf("no agent ever free: %d calls", n)
	}
	var prev int
	for free := 1; free <= 10; free += 3 {
		la := LookAhead{Threshold: 0.05, AgentFree: func(i int, within time.Duration) float64 {
			if i < free && within >= 3*time.Second {
				return 1
			}
			return 0
		}}
		n := la.Dials(s, 1000)
		if n < prev || n < free {
			t.Errorf("%d agents free soon: %d calls (before: %d)", free, n, prev)
		}
		prev = n
		if c := la.Dials(s, 2); c > 2 {
			t.Errorf("limit 2: %d calls", c)
		}
	}
	if n := (LookAhead{Threshold: 0.05}).Dials(Snapshot{Agents: agents}, 10); n != 0 {
		t.Errorf("without statistics: %d calls", n)
	}
}

// Issue 18, P-2: the day-budget guard. Calls in flight not covered by a ready agent never
// outnumber the abandon budget plus the credit of the rest of the day, less the exposure
// elsewhere; a low budget means fewer calls per agent, down to progressive.
func TestDayBudgetCover(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := warmEstimator(r, now.Add(-time.Hour))
	agents := make([]Agent, 20)
	for i := range agents {
		agents[i] = Agent{State: OnCall, InState: time.Duration(100+i*15) * time.Second}
	}
	agents[0].State, agents[1].State = Ready, Ready
	// A fixed threshold keeps the feedback loop out of it: only the guard reacts to the budget.
	tun := DefaultTuning()
	tun.Threshold, tun.MinThreshold, tun.MaxThreshold = 0.3, 0.3, 0.3
	base := Snapshot{Now: now, Settings: Settings{Mode: Predictive, Tuning: tun}, Agents: agents, Stats: e}
	free := Decide(base)
	if free.Reason != "predictive" || free.Dial < 6 {
		t.Fatalf("budget of %.1f: %+v, want over-dialing unhindered", free.Budget, free)
	}
	// Spend the day down to 2.x abandons of budget.
	for Decide(base).Budget > 3 {
		e.ObserveAbandon(now.Add(-time.Minute))
	}
	low := Decide(base)
	if low.Reason != "abandon_budget_low" || low.Dial != 2+int(math.Floor(low.Budget)) {
		t.Errorf("budget %.2f, no day end: %+v, want 2 ready + %d uncovered", low.Budget, low, int(low.Budget))
	}
	// The calls in flight count against it, and so does the exposure elsewhere.
	withCalls := base
	withCalls.Calls = []Call{{Stage: Ringing, Elapsed: 3 * time.Second}, {Stage: Ringing, Elapsed: 5 * time.Second}}
	if d := Decide(withCalls); d.Dial != int(math.Floor(low.Budget)) || d.Reason != "abandon_budget_low" {
		t.Errorf("2 calls in flight: %+v, want %d", d, int(math.Floor(low.Budget)))
	}
	exposed := base
	exposed.Exposure = 10
	if d := Decide(exposed); d.Dial != 2 || d.Reason != "abandon_budget_low" {
		t.Errorf("exposure 10: %+v, want progressive (2)", d)
	}
	// Hours of calling left lend a credit of the answers to come; it shrinks as the day ends.
	long := base
	long.DayEnd = now.Add(6 * time.Hour)
	if d := Decide(long); d.Dial != free.Dial || d.Reason != "predictive" {
		t.Errorf("6 hours left: %+v, want %d as without the guard", d, free.Dial)
	}
	late := base
	late.DayEnd = now.Add(time.Minute)
	if d := Decide(late); d.Dial != low.Dial {
		t.Errorf("a minute left: %+v, want %d (no credit)", d, low.Dial)
	}
	prev := free.Dial
	for left := 6 * time.Hour; left > 0; left -= 15 * time.Minute {
		s := base
		s.DayEnd = now.Add(left)
		d := Decide(s)
		if d.Dial > prev || d.Dial < low.Dial {
			t.Fatalf("%v left: %d calls after %d", left, d.Dial, prev)
		}
		prev = d.Dial
	}
	// Over the target: progressive.
	for Decide(base).Budget > -0.5 {
		e.ObserveAbandon(now.Add(-time.Minute))
	}
	if d := Decide(base); d.Dial != 2 {
		t.Errorf("over budget: %+v, want progressive", d)
	}
}
