package pacebench

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/pacing"
)

// MaxCallsPerAgent is the cap on calls in flight per agent given to every policy; it is set
// high enough never to bind in the standard scenarios, so the policies are compared on their rules alone.
const MaxCallsPerAgent = 6

// settings are the campaign's pacing settings. With the engine's classification model the
// campaign's estimate of its detector's false positives is the scenario's true share.
func settings(sc *Scenario, mode pacing.Mode) pacing.Settings {
	set := pacing.Settings{
		Mode:              mode,
		MaxCallsPerAgent:  MaxCallsPerAgent,
		TargetAbandonRate: sc.TargetAbandonRate,
		ConnectDeadline:   dur(sc.ConnectDeadline),
		Tuning:            pacing.DefaultTuning(),
	}
	if sc.AMDDelay == nil {
		set.FalsePositiveRate = sc.AMD.FalsePositive
	}
	return set
}

// decidePolicy runs pacing.Decide every second and when an agent becomes ready: progressive,
// ratio and kakeru (predictive, learning from a cold start with the shift's own estimator).
type decidePolicy struct {
	set pacing.Settings
}

func (p *decidePolicy) period() float64 { return 1 }
func (p *decidePolicy) onReady() bool   { return true }
func (p *decidePolicy) decide(s *shift) int {
	snap := s.snapshot(p.set, s.est)
	snap.DayEnd = s.at(s.end) // the campaign's calling hours end with the shift
	return pacing.Decide(snap).Dial
}

// oraclePolicy is the look-ahead rule given each busy agent's exact free time and an estimator
// filled from the scenario's true distributions, with a fixed threshold.
type oraclePolicy struct {
	set   pacing.Settings
	theta float64
	truth func(t float64) *pacing.Estimator
}

func (p *oraclePolicy) period() float64 { return 1 }
func (p *oraclePolicy) onReady() bool   { return true }
func (p *oraclePolicy) decide(s *shift) int {
	snap := s.snapshot(p.set, p.truth(s.now))
	ready := s.ready()
	active := s.loggedIn()
	room := int(math.Floor(p.set.MaxCallsPerAgent*float64(active)+1e-9)) - len(s.calls)
	if room <= 0 {
		return 0
	}
	now := s.now
	la := pacing.LookAhead{Threshold: p.theta, AgentFree: func(i int, within time.Duration) float64 {
		a := &s.agents[s.snapIdx[i]]
		if a.state == pacing.Ready || (!a.leaving && a.freeAt <= now+within.Seconds()) {
			return 1
		}
		return 0
	}}
	n := max(ready-len(s.calls), la.Dials(snap, room))
	return max(0, min(n, room))
}

// truthSamples is how many draws of the scenario's distributions fill the oracle's estimator.
const truthSamples = 20000

// truth returns, per live-answer rate in the scenario's schedule, an estimator filled with
// draws of the scenario's true distributions (read-only afterwards, shared by the shifts).
func truth(sc *Scenario) func(t float64) *pacing.Estimator {
	type seg struct {
		from float64
		est  *pacing.Estimator
	}
	build := func(hit, machine float64) *pacing.Estimator {
		e := pacing.NewEstimatorSized(time.UTC, truthSamples, 1)
		r := rand.New(rand.NewPCG(sc.Seed, 0x7275746800))
		q, m := rand.New(rand.NewPCG(sc.Seed, 0x7275746801)), &sc.AMD
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range truthSamples + 1 {
			u, v := r.Float64(), r.Float64()
			ring, mach, fail := sc.Ring.Sample(r), sc.MachineAnswer.Sample(r), sc.FailTime.Sample(r)
			d := amdDraws{a: q.Float64(), h: q.Float64(), greeting: m.Greeting.Sample(q), beep: m.Beep.Sample(q)}
			// One dial a minute, so each is taken in by the next. Outcomes and classification
			// times are the engine's, as the estimator would learn them.
			res := pacing.DialResult{At: at.Add(time.Duration(i) * time.Minute)}
			answered := func(person bool, ring float64) {
				v, cls := sc.classify(&d, person)
				res.Outcome, res.Ring, res.Classify = v.outcome(), dur(ring), dur(cls)
			}
			switch {
			case u < hit && ring < sc.NoAnswerTimeout:
				answered(true, ring)
			case u >= hit && u < hit+machine && mach < sc.NoAnswerTimeout:
				answered(false, mach)
			case u >= hit+machine && v < sc.FailShare:
				res.Outcome, res.Ring = pacing.Failed, dur(min(fail, sc.NoAnswerTimeout))
			default:
				res.Outcome, res.Ring = pacing.NoAnswer, dur(sc.NoAnswerTimeout)
			}
			e.ObserveDial(res)
		}
		return e
	}
	steps := []float64{0}
	for _, st := range sc.HitRateSchedule {
		steps = append(steps, st.AtHour*3600)
	}
	for _, st := range sc.MachineRateSchedule {
		steps = append(steps, st.AtHour*3600)
	}
	slices.Sort(steps)
	var segs []seg
	for _, t := range slices.Compact(steps) {
		segs = append(segs, seg{t, build(sc.hitRate(t), sc.machineRate(t))})
	}
	return func(t float64) *pacing.Estimator {
		e := segs[0].est
		for _, s := range segs[1:] {
			if t >= s.from {
				e = s.est
			}
		}
		return e
	}
}
