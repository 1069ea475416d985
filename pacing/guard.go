package pacing

import (
	"math"
	"time"
)

// guard is the day-budget guard: the most calls, between prog and n, that leave the abandon
// budget covering what the calls in flight can cost.
//
// A call is abandoned only when its live answer finds no agent, so however the agents fare,
// the calls in flight can cost at most their live answers less the ready agents, and each
// abandon takes one live answer and one abandon of budget. The live answers to come are a sum
// of independent chances, one per call (a waiting call is one; a call being classified is a
// person with the share of persons among answers classified for longer; a ringing call is
// answered by a person with the share of persons among the dials still open at its ring time;
// a new call with the live-answer share), bounded by the number of calls. The guard keeps the
// count that chance exceeds only with probability Tuning.GuardRisk (a Poisson bound, whose
// tail is wider than such a sum's), less the ready agents, within the cover: the smallest
// window's budget plus the credit of the rest of the day (dayCredit), less the campaign's
// Exposure elsewhere. Then no run of abandons takes a window over its target whenever dialing
// stops, but by that chance: the guarantee the feedback loop alone does not give. As the
// budget runs low the guard tightens, fewer calls per agent first, down to progressive.
func guard(s Snapshot, comp Compliance, set Settings, target float64, ready, active, prog, n int) int {
	cover := budget(comp, target) + dayCredit(s, set, target, active) - float64(s.Exposure)
	e := s.Stats
	w := &e.dials
	p := 0.0
	if w.n > 0 {
		p = float64(w.count[Live]) / float64(w.n)
	}
	mu := 0.0
	for _, c := range s.Calls {
		switch c.Stage {
		case Waiting:
			mu++
		case Classifying:
			mu += w.liveWhileClassifying(clampSeconds(c.InStage))
		default:
			el := clampSeconds(c.Elapsed)
			var left float64
			for o := range numOutcomes {
				left += float64(w.count[o]) - w.upTo(o, el)
			}
			if left >= 0.5 {
				mu += min(max((float64(w.count[Live])-w.upTo(Live, el))/left, 0), 1)
			}
		}
	}
	calls := len(s.Calls)
	ok := func(m int) bool {
		lives := min(poissonQuantile(mu+float64(m)*p, set.Tuning.GuardRisk), calls+m)
		return float64(lives-ready) <= cover+1e-9
	}
	if ok(n) {
		return n
	}
	return lastOK(prog, n, ok) // prog when even that fails: progressive is never cut
}

// poissonQuantile is the smallest k with P(Poisson(mu) > k) ≤ risk (a normal bound past 500).
func poissonQuantile(mu, risk float64) int {
	if !(mu > 0) {
		return 0
	}
	if mu > 500 {
		return int(math.Ceil(mu + 4*math.Sqrt(mu)))
	}
	pmf := math.Exp(-mu)
	cdf, k := pmf, 0
	for 1-cdf > risk && k < 10000 {
		k++
		pmf *= mu / float64(k)
		cdf += pmf
	}
	return k
}

// creditHorizon is kept out of the day's credit: the calls placed in the day's last minute
// end after it.
const creditHorizon = 60 * time.Second

// dayCredit is the guard's credit: Credit × target × the live answers the active agents take
// before DayEnd less creditHorizon, at one per talk, wrap-up and progressive wait (the mean
// time to a dial's outcome over the live-answer share). Whatever the guard borrows is paid
// back by those answers. Zero without DayEnd, or before as many talk times as agents.
func dayCredit(s Snapshot, set Settings, target float64, active int) float64 {
	e := s.Stats
	// The first talk times a day sees are the short ones, which would count the day's answers
	// to come many times over: no credit before as many talk times as agents.
	if s.DayEnd.IsZero() || e == nil || e.dials.count[Live] == 0 || !e.busyWarm(set.Tuning, (active+1)/2) {
		return 0
	}
	left := (s.DayEnd.Sub(s.Now) - creditHorizon).Seconds()
	if left <= 0 {
		return 0
	}
	w := &e.dials
	wait := w.durSum / float64(w.count[Live])
	cycle := e.talk.mean() + e.wrap.mean() + wait
	if !(cycle > 0) {
		return 0
	}
	return set.Tuning.Credit * target * float64(active) * left / cycle
}
