package pacing

import (
	"math"
	"time"
)

// guard is the day-budget guard: the most calls, between prog and n, that leave the abandon
// budget covering what the calls in flight can cost.
//
// A call is abandoned only when its live answer finds no agent, so the calls in flight can
// cost at most their live answers less the agents free to take them, and each abandon takes
// one live answer and one abandon of budget. The live answers to come are a sum of independent
// chances, one per call (a waiting call is one; a call being classified is a person with the
// share of persons among answers classified for longer; a ringing call is answered by a person
// with the share of persons among the dials still open at its ring time; a new call with the
// live-answer share), bounded by the number of calls. The guard keeps the count that chance
// exceeds only with probability Tuning.GuardRisk (a Poisson bound, whose tail is wider than
// such a sum's), less the agents free in time (the ready ones; once talk and wrap-up times can
// be forecast, also the busy ones freeing before the answers arrive: refinedGuard), within the
// cover: the smallest window's budget plus the credit of the rest of the day (dayCredit), less
// the campaign's Exposure elsewhere. Then no run of abandons takes a window over its target
// whenever dialing stops, but by that chance: the guarantee the feedback loop alone does not
// give. As the budget runs low the guard tightens, fewer calls per agent first, down to
// progressive.
//
// The risk is taken at every decision, and at the day's end the guard holds the calls in
// flight at the edge of the budget for minutes on end; hence a risk far smaller than the one
// day in a thousand it is meant to allow.
func guard(s Snapshot, comp Compliance, set Settings, target, credit float64, ready, active, prog, n int) int {
	cover := budget(comp, target) + credit - float64(s.Exposure)
	e := s.Stats
	w := &e.dials
	p := 0.0
	if w.n > 0 {
		p = float64(w.count[Live]) / float64(w.n)
	}
	mu := 0.0
	for _, c := range s.Calls {
		mu += w.liveAtAll(c)
	}
	calls := len(s.Calls)
	ok := func(m int) bool {
		lives := min(poissonQuantile(mu+float64(m)*p, set.Tuning.GuardRisk), calls+m)
		return float64(lives-ready) <= cover+1e-9
	}
	if ok(n) {
		return n
	}
	// Counting only the ready agents is the bound that needs no forecast. Once busy agents
	// can be forecast, those freeing before the live answers arrive count too.
	if r, fine := refinedGuard(s, set, cover, p, mu, ready, active, prog, n); fine {
		return r
	}
	return lastOK(prog, n, ok) // prog when even that fails: progressive is never cut
}

// guardAgents and guardMaxMu bound refinedGuard's work: it counts up to guardAgents busy agents
// exactly (more are lumped at that count, which only undercounts them) and leaves Poisson means
// over guardMaxMu to the plain bound.
const (
	guardAgents = 64
	guardMaxMu  = 500
)

// refinedGuard is the guard counting the busy agents that free up before the live answers come.
// An answer is abandoned only if no agent frees up between its arrival and the connect
// deadline, so the abandons among the calls in flight are at most, over the time t from now,
// the live answers arrived by t less the agents free by t plus the classification and
// connect time. On the look-ahead's points x₀ < … < x_{k−1} (quantiles of a live answer's
// ring time) that is at most the largest of: the answers by x_c less the agents free by
// x_{c−1} (now for c = 0), and all the answers less the agents free by x_{k−1}. Each is a
// Poisson bound on the answers less an exact count of independent agents; the guard takes m
// new calls while each exceeds the cover with probability at most Tuning.GuardRisk. false
// when the forecasts cannot be trusted yet (then only the ready agents count).
func refinedGuard(s Snapshot, set Settings, cover, p, mu float64, ready, active, prog, n int) (int, bool) {
	e := s.Stats
	w := &e.dials
	k := set.Tuning.Points
	c := math.Floor(cover + 1e-9)
	if !e.busyWarm(set.Tuning, active) || mu+float64(n)*p > guardMaxMu {
		return 0, false
	}
	amd := w.meanClassify(Live)
	dl := set.ConnectDeadline.Seconds()
	var rq, lMean [maxPoints + 1]float64
	var free [maxPoints + 1][guardAgents + 1]float64 // pmf of the busy agents free by each point
	for j := range k {
		rq[j] = w.quantile(Live, (float64(j)+0.5)/float64(k))
	}
	var q [maxPoints]float64
	for _, cl := range s.Calls {
		if w.liveBy(cl, rq[:k], q[:k]) {
			for j := range k {
				lMean[j] += q[j]
			}
		}
	}
	lMean[k] = mu
	wq := e.wrapQuantiles()
	for j := range k + 1 {
		free[j][0] = 1
		x := amd + dl
		if j > 0 {
			x += rq[j-1]
		}
		for _, a := range s.Agents {
			f := e.freeWithin(a, x, &wq, true)
			if a.State == Ready || f <= 0 {
				continue
			}
			pmfAdd(&free[j], f)
		}
	}
	calls := len(s.Calls)
	risk := set.Tuning.GuardRisk
	ok := func(m int) bool {
		if float64(calls+m-ready) <= c {
			return true // every call a live answer is still covered
		}
		for j := range k + 1 {
			u := 1.0
			if j < k {
				u = (float64(j) + 0.5) / float64(k)
			}
			if poissonDiffTail(lMean[j]+float64(m)*p*u, &free[j], c+float64(ready)) > risk {
				return false
			}
		}
		return true
	}
	if ok(n) {
		return n, true
	}
	return lastOK(prog, n, ok), true
}

// pmfAdd adds an independent chance f to the count whose pmf is pmf, lumping the mass past
// its end at its end (which only undercounts the agents).
func pmfAdd(pmf *[guardAgents + 1]float64, f float64) {
	last := len(pmf) - 1
	pmf[last] += pmf[last-1] * f
	for i := last - 1; i > 0; i-- {
		pmf[i] = pmf[i]*(1-f) + pmf[i-1]*f
	}
	pmf[0] *= 1 - f
}

// poissonDiffTail is P(L − F > c) for L Poisson with mean mu and F independent with pmf.
func poissonDiffTail(mu float64, pmf *[guardAgents + 1]float64, c float64) float64 {
	if !(mu > 0) { // L is 0: P(F < −c)
		tail := 0.0
		for f := 0; f < len(pmf) && float64(f) < -c; f++ {
			tail += pmf[f]
		}
		return tail
	}
	// P(L > c + f) for f = 0 … len(pmf)−1, from the Poisson cdf.
	top := int(c) + len(pmf)
	pl, cdf := math.Exp(-mu), 0.0
	tail := 0.0
	for x := 0; x <= top; x++ {
		if x > 0 {
			pl *= mu / float64(x)
		}
		cdf += pl
		if f := x - int(c); f >= 0 && f < len(pmf) {
			tail += pmf[f] * max(0, 1-cdf)
		}
	}
	// Those f with c + f < 0 (a negative cover met by ready agents) count P(L > negative) = 1.
	for f := 0; f < len(pmf) && f+int(c) < 0; f++ {
		tail += pmf[f]
	}
	return tail
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
// back by those answers. Zero without DayEnd, or before Tuning.MinSamples talk and wrap-up
// times.
func dayCredit(s Snapshot, set Settings, target float64, active int) float64 {
	e := s.Stats
	if s.DayEnd.IsZero() || e == nil || e.dials.count[Live] == 0 || e.talk.n < set.Tuning.MinSamples || e.wrap.n < set.Tuning.MinSamples {
		return 0
	}
	talk := e.talk.mean()
	if !e.busyWarm(set.Tuning, (active+1)/2) {
		// The first talk times a day sees are the short ones, which would count the day's
		// answers to come many times over: until there are as many as agents, the talks under
		// way count too, each as long as it has lasted (the time on test over the talks ended).
		sum := talk * float64(e.talk.n)
		for _, a := range s.Agents {
			if a.State == OnCall {
				sum += clampSeconds(a.InState)
			}
		}
		talk = sum / float64(e.talk.n)
	}
	left := (s.DayEnd.Sub(s.Now) - creditHorizon).Seconds()
	if left <= 0 {
		return 0
	}
	w := &e.dials
	wait := w.durSum / float64(w.count[Live])
	cycle := talk + e.wrap.mean() + wait
	if !(cycle > 0) {
		return 0
	}
	return set.Tuning.Credit * target * float64(active) * left / cycle
}
