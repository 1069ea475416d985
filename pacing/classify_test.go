package pacing

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// classifyingEstimator is warmEstimator's campaign with answer classification as the engine
// runs it: persons called human after cls(Live), machines after cls(Machine). Its pending
// results are flushed by later ring-outs, so estimators fed the same draws hold the same dials.
func classifyingEstimator(seed uint64, at time.Time, cls func(Outcome) time.Duration) *Estimator {
	r := rand.New(rand.NewPCG(seed, 1))
	e := NewEstimator(time.UTC)
	for i := range 2000 {
		res := DialResult{At: at.Add(time.Duration(i) * time.Second)}
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
		if res.Outcome == Live || res.Outcome == Machine {
			res.Classify = cls(res.Outcome)
		}
		e.ObserveDial(res)
		if i%5 == 0 {
			e.ObserveTalk(time.Duration(r.ExpFloat64() * 180 * float64(time.Second)))
			e.ObserveWrap(time.Duration((5 + 10*r.Float64()) * float64(time.Second)))
		}
	}
	for i := range 50 {
		e.ObserveDial(DialResult{Outcome: NoAnswer, Ring: 25 * time.Second, At: at.Add(time.Hour + time.Duration(i)*time.Minute)})
	}
	return e
}

// perVerdict classifies persons after 1.5 s and machines at a 3 s time limit.
func perVerdict(o Outcome) time.Duration {
	if o == Live {
		return 1500 * time.Millisecond
	}
	return 3 * time.Second
}

// The estimator learns the classification time of each verdict, and how likely an answer
// still being classified is a person, in a window that forgets the oldest answers.
func TestClassificationByVerdict(t *testing.T) {
	e := NewEstimatorSized(time.UTC, 100, 10)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 400 {
		res := DialResult{Outcome: NoAnswer, At: t0.Add(time.Duration(i) * time.Minute), Ring: 20 * time.Second}
		switch {
		case i < 200 && i%2 == 0: // forgotten: persons that took 5 s
			res.Outcome, res.Classify = Live, 5*time.Second
		case i%4 == 0:
			res.Outcome, res.Classify = Live, perVerdict(Live)
		case i%4 == 1:
			res.Outcome, res.Classify = Machine, perVerdict(Machine)
		}
		e.ObserveDial(res)
	}
	s := e.Summary()
	if s.MeanClassifyLive != 1500*time.Millisecond || s.MeanClassifyMachine != 3*time.Second ||
		s.MeanClassify != 2250*time.Millisecond || s.MachineRate != 0.25 {
		t.Errorf("summary %+v: want persons 1.5 s, machines 3 s, both 2.25 s", s)
	}
	w := &e.dials
	for o := Live; o <= Machine; o++ {
		if c := w.clsCum[o]; int(c[len(c)-1]) != w.count[o] {
			t.Errorf("outcome %d: %d classification times for %d answers", o, c[len(c)-1], w.count[o])
		}
	}
	// 25 persons, 25 machines: before 1.5 s half are persons; after it, only machines remain.
	if p := w.liveWhileClassifying(0.5); math.Abs(p-0.5) > 1e-9 {
		t.Errorf("P(person | classifying 0.5 s) = %v, want 0.5", p)
	}
	if p := w.liveWhileClassifying(2); p > 0.03 {
		t.Errorf("P(person | classifying 2 s) = %v, want about 0 (machines only)", p)
	}
	if p := w.liveWhileClassifying(10); math.Abs(p-0.5) > 1e-9 {
		t.Errorf("P(person | classifying 10 s) = %v, want the prior 0.5 (nothing seen that long)", p)
	}
}

// A call that has been classified for longer than persons take is most likely a machine: it
// counts for less demand than one just answered, so more calls are placed beside it.
func TestLookAheadClassifyingCalls(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := classifyingEstimator(5, now.Add(-2*time.Hour), perVerdict)
	agents := make([]Agent, 10)
	for i := range agents {
		agents[i] = Agent{State: OnCall, InState: time.Duration(30+i*40) * time.Second}
	}
	agents[0].State, agents[1].State = Ready, Ready
	dials := func(inStage time.Duration) int {
		calls := make([]Call, 8)
		for i := range calls {
			calls[i] = Call{Stage: Classifying, Elapsed: 15*time.Second + inStage, InStage: inStage}
		}
		s := Snapshot{Now: now, Settings: Settings{Mode: Predictive}, Agents: agents, Calls: calls, Stats: e}
		return LookAhead{Threshold: 0.05}.Dials(s, 100)
	}
	fresh, late := dials(200*time.Millisecond), dials(2500*time.Millisecond)
	if late <= fresh {
		t.Errorf("8 answers classified for 2.5 s: %d calls, for 0.2 s: %d; want more beside the likely machines", late, fresh)
	}
}

// The horizon of a new call is its ring time plus a person's classification time: how long
// machines take to classify does not change the decision.
func TestLookAheadMachineClassifyUnbiased(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	quick := func(Outcome) time.Duration { return 1500 * time.Millisecond }
	a := classifyingEstimator(9, now.Add(-2*time.Hour), perVerdict)
	b := classifyingEstimator(9, now.Add(-2*time.Hour), quick)
	if sa, sb := a.Summary(), b.Summary(); sa.MeanClassify <= sb.MeanClassify || sa.MeanClassifyLive != sb.MeanClassifyLive {
		t.Fatalf("estimators: %+v / %+v", sa, sb)
	}
	// Agent i is free (exactly) 4 + i/2 seconds from now.
	agents := make([]Agent, 40)
	for i := range agents {
		agents[i] = Agent{State: OnCall, InState: time.Minute}
	}
	free := func(i int, within time.Duration) float64 {
		if within >= 4*time.Second+time.Duration(i)*500*time.Millisecond {
			return 1
		}
		return 0
	}
	calls := []Call{{Stage: Ringing, Elapsed: 4 * time.Second, InStage: 4 * time.Second}, {Stage: Waiting}}
	for _, th := range []float64{0.01, 0.05, 0.2} {
		s := Snapshot{Now: now, Settings: Settings{Mode: Predictive}, Agents: agents, Calls: calls}
		s.Stats = a
		na := LookAhead{Threshold: th, AgentFree: free}.Dials(s, 200)
		s.Stats = b
		nb := LookAhead{Threshold: th, AgentFree: free}.Dials(s, 200)
		if na != nb || nb == 0 {
			t.Errorf("threshold %v: %d calls with machines classified in 3 s, %d in 1.5 s", th, na, nb)
		}
	}
}

// With answer classification, the persons hung up on as machines count as abandoned for the
// regulator: the recorded abandons are steered to (target − f) ÷ (1 − f).
func TestFalsePositiveRate(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := classifyingEstimator(11, now.Add(-2*time.Hour), perVerdict)
	for range 6 {
		e.ObserveAbandon(now.Add(-time.Minute))
	}
	comp := e.Compliance(now)
	agents := make([]Agent, 20)
	for i := range agents {
		agents[i] = Agent{State: OnCall, InState: time.Duration(i*20) * time.Second}
	}
	for i := range 4 {
		agents[i].State = Ready
	}
	decide := func(f float64) Decision {
		return Decide(Snapshot{Now: now, Settings: Settings{Mode: Predictive, FalsePositiveRate: f}, Agents: agents, Stats: e})
	}
	live := float64(min(comp.Day.Live, comp.Rolling24h.Live, comp.Rolling30d.Live))
	prev := math.MaxInt
	for _, f := range []float64{0, 0.005, 0.01} {
		d := decide(f)
		want := (0.03-f)/(1-f)*live - 6
		if d.Reason != "predictive" || math.Abs(d.Budget-want) > 1e-9 || d.Dial > prev {
			t.Errorf("f = %v: %+v, want predictive, budget %v, no more calls than %d", f, d, want, prev)
		}
		prev = d.Dial
	}
	if d := decide(0.01); d.Dial >= decide(0).Dial {
		t.Errorf("1%% false positives: %d calls, as many as without", d.Dial)
	}
	for _, f := range []float64{0.03, 0.2} {
		if d := decide(f); d.Reason != "abandon_budget_spent" || d.Dial != 4 {
			t.Errorf("f = %v spends the target: %+v, want progressive", f, d)
		}
	}
	// The false positives the engine cannot count widen the feedback's margin.
	c := Compliance{Day: window(3000, 40), Rolling24h: window(3000, 40), Rolling30d: window(3000, 40)}
	with := Settings{FalsePositiveRate: 0.01}.normalized()
	without := Settings{}.normalized()
	if target := with.recordedTarget(); threshold(c, with, target) >= threshold(c, without, target) {
		t.Error("the unseen false positives leave the threshold as it is")
	}
	for _, f := range []float64{-0.1, 1, math.NaN(), math.Inf(1)} {
		if d, d0 := decide(f), decide(0); d != d0 {
			t.Errorf("f = %v: %+v, want as 0: %+v", f, d, d0)
		}
	}
}
