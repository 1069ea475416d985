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
// chances, one per call: a waiting call is one; a call being classified is a person with the
// share of persons among answers classified for longer; a ringing call is answered by a person
// with the share of persons among the dials still open at its ring time, counting one dial
// more of the live-answer share (a call ringing past every one the window saw is not sure to
// bring nothing); a new call with the live-answer share. When the last dials reach persons more
// often than the window's share, the chances of the calls not yet answered are scaled up to
// theirs (surge). The guard keeps the count that chance exceeds only with probability
// Tuning.GuardRisk, less the agents free in time (the ready ones; once talk and wrap-up times
// can be forecast, also the busy ones freeing before the answers arrive, never for certain),
// within the cover: the smallest window's budget plus the credit of the rest of the day
// (dayCredit), less the campaign's Exposure elsewhere. Then no run of abandons takes a window
// over its target whenever dialing stops, but by that chance: the guarantee the feedback loop
// alone does not give. As the budget runs low the guard tightens, fewer calls per agent first,
// down to progressive.
//
// The risk is taken at every decision, and at the day's end the guard holds the calls in
// flight at the edge of the budget for minutes on end; hence a risk far smaller than the one
// day in a thousand it is meant to allow.
//
// bf is the busy agents' forecast, built (forecastBusy) when busyWarm.
func guard(s Snapshot, comp Compliance, set Settings, target, credit float64, bf *busyForecast, ready, active, prog, n int) int {
	cover := budget(comp, target) + credit - float64(s.Exposure)
	e := s.Stats
	w := &e.dials
	p := 0.0
	if w.n > 0 {
		p = float64(w.count[Live]) / float64(w.n)
	}
	sc := w.surge(p)
	mu := 0.0
	for _, c := range s.Calls {
		mu += sc.chance(c, w.liveAtAll(c, p))
	}
	calls := len(s.Calls)
	ok := func(m int) bool {
		lives := min(poissonQuantile(mu+float64(m)*sc.p, set.Tuning.GuardRisk), calls+m)
		return float64(lives-ready) <= cover+1e-9
	}
	if ok(n) {
		return n
	}
	// A Poisson bound of the same mean has a wider tail than the answers' count and needs no
	// pmf: when it passes, so does the exact count. Otherwise count (exactGuard).
	if r, fine := exactGuard(s, set, cover, p, sc, bf, ready, active, prog, n); fine {
		return r
	}
	return lastOK(prog, n, ok) // prog when even that fails: progressive is never cut
}

// guardAgents and guardLives bound exactGuard's work: it counts up to guardAgents busy agents
// exactly (more are lumped at that count, which only undercounts them) and live answers up to
// guardLives (more are lumped there, past any count the cover can take); a cover needing more
// is left to the plain bound.
const (
	guardAgents = 64
	guardLives  = 256
)

// exactGuard is the guard with the live answers counted exactly, as the sum of one independent
// chance per call they are (the Poisson bound of the plain guard is wide when the calls are few:
// five calls never bring six answers), and, once talk and wrap-up times can be forecast, the busy
// agents that free up before the live answers come.
//
// An answer is abandoned only if no agent frees up between its arrival and the connect
// deadline, so the abandons among the calls in flight are at most, over the time t from now,
// the live answers arrived by t less the agents free by t plus the classification and
// connect time. On the look-ahead's points x₀ < … < x_{k−1} (quantiles of a live answer's
// ring time) that is at most the largest of: the answers by x_c less the agents free by
// x_{c−1} (now for c = 0), and all the answers less the agents free by x_{k−1}. Each is a
// count of independent answers less an independent count of agents; the guard takes m new
// calls while each exceeds the cover with probability at most Tuning.GuardRisk. Without
// forecasts only the ready agents count, and only the last check binds. false when the cover
// is too large to count (the plain bound then holds it anyway).
func exactGuard(s Snapshot, set Settings, cover, p float64, sc surge, bf *busyForecast, ready, active, prog, n int) (int, bool) {
	e := s.Stats
	w := &e.dials
	thr := int(math.Floor(cover+1e-9)) + ready // the lives the cover and the ready agents take
	size := thr + guardAgents + 2
	if size > guardLives+1 {
		return 0, false
	}
	size = max(size, 2)
	calls := len(s.Calls)
	lo := max(prog, min(n, thr-calls)) // every call a live answer is still covered up to there
	if lo >= n {
		return n, true
	}
	k := set.Tuning.Points
	first := 0
	warm := e.busyWarm(set.Tuning)
	if !warm {
		first = k // only the ready agents: the last check, all the answers, is the binding one
	}
	amd := w.meanClassify(Live)
	dl := set.ConnectDeadline.Seconds()
	var rq [maxPoints]float64
	for j := range k {
		rq[j] = w.quantile(Live, (float64(j)+0.5)/float64(k))
	}
	var q [maxPoints]float64
	var lives [guardLives + 1]float64
	var free [guardAgents + 1]float64 // pmf of the busy agents free in time
	risk := set.Tuning.GuardRisk
	hi := n
	for j := first; j <= k; j++ {
		clear(free[:])
		free[0] = 1
		if warm {
			x := amd + dl
			if j > 0 {
				x += rq[j-1]
			}
			for _, a := range s.Agents {
				if f := e.freeWithin(a, x, bf, true); a.State != Ready && f > 0 {
					pmfAdd(free[:], f)
				}
			}
		}
		clear(lives[:size])
		lives[0] = 1
		u := 1.0 // a new call's chance of a live answer by this point, over p
		if j < k {
			u = (float64(j) + 0.5) / float64(k)
		}
		for _, cl := range s.Calls {
			if j == k {
				pmfAdd(lives[:size], sc.chance(cl, w.liveAtAll(cl, p)))
			} else if w.liveBy(cl, rq[j:j+1], q[:1], true, p) {
				pmfAdd(lives[:size], sc.chance(cl, q[0]))
			}
		}
		for range lo {
			pmfAdd(lives[:size], sc.p*u)
		}
		if diffTail(lives[:size], free[:], thr) > risk {
			return lo, true // progressive (or what every call live leaves covered) is never cut
		}
		m := lo
		for m < hi {
			pmfAdd(lives[:size], sc.p*u)
			if diffTail(lives[:size], free[:], thr) > risk {
				break
			}
			m++
		}
		hi = m
	}
	return hi, true
}

// guardRecentDials is how many of the last dials the guard checks the live-answer share on.
// The window's share lags a rise in the hit rate by as many dials as it holds (thousands: an
// hour and more of a small team's dials) while the cover is spent at the new rate; 250 dials
// tell a rise by half (0.3 to 0.45) from noise at about two standard deviations, within
// minutes.
const guardRecentDials = 250

// surge is the guard's correction for a hit rate rising faster than the dial window follows:
// when the live-answer share of the last guardRecentDials dials is above the window's, the
// chance of every call not yet answered is scaled up by their ratio. Never down: a falling
// rate only leaves the guard cautious for a while.
type surge struct {
	p     float64 // a new call's chance of a live answer
	scale float64 // p over the window's share, at least 1
}

func (w *dialWindow) surge(p float64) surge {
	if pr := w.recentShare(guardRecentDials, p); pr > p*(1+1e-9) && p > 0 {
		return surge{p: pr, scale: pr / p}
	}
	return surge{p: p, scale: 1}
}

// chance is the chance q of a live answer from call c, scaled up for a ringing call.
func (sc surge) chance(c Call, q float64) float64 {
	if c.Stage != Ringing {
		return q
	}
	return min(q*sc.scale, 1)
}

// pmfAdd adds an independent chance f to the count whose pmf is pmf, lumping the mass past
// its end at its end.
func pmfAdd(pmf []float64, f float64) {
	last := len(pmf) - 1
	pmf[last] += pmf[last-1] * f
	for i := last - 1; i > 0; i-- {
		pmf[i] = pmf[i]*(1-f) + pmf[i-1]*f
	}
	pmf[0] *= 1 - f
}

// diffTail is P(L − F > thr) for independent counts L and F with pmfs lives and free.
func diffTail(lives, free []float64, thr int) float64 {
	// P(L > x) for x = thr + f, summed from the top of lives down.
	tail, above := 0.0, 0.0 // above: P(L > x) for the x at hand
	x := len(lives) - 1
	for f := len(free) - 1; f >= 0; f-- {
		t := thr + f
		if t < 0 {
			tail += free[f] // a negative cover met by ready agents: any count exceeds it
			continue
		}
		for ; x > t; x-- {
			above += lives[x]
		}
		tail += free[f] * above
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
// back by those answers. Zero without DayEnd, or before a talk and a wrap-up have ended.
func dayCredit(s Snapshot, set Settings, target float64, active int) float64 {
	e := s.Stats
	if s.DayEnd.IsZero() || e == nil || e.dials.count[Live] == 0 || e.talk.n == 0 || e.wrap.n == 0 {
		return 0
	}
	left := (s.DayEnd.Sub(s.Now) - creditHorizon).Seconds()
	if left <= 0 {
		return 0
	}
	w := &e.dials
	wait := w.durSum / float64(w.count[Live])
	cycle := meanOnTest(&e.talk, s.Agents, OnCall, active) + meanOnTest(&e.wrap, s.Agents, WrapUp, active) + wait
	if !(cycle > 0) {
		return 0
	}
	return set.Tuning.Credit * target * float64(active) * left / cycle
}

// meanOnTest is the window's mean; until it holds as many samples as there are active agents,
// the mean over the time on test instead: the durations under way (the agents in state) count
// too, each as long as it has lasted, over the samples ended. The first durations a day sees
// end are the short ones, which would count the day's answers to come many times over; the
// time on test is long while few have ended, and comes down to the mean as they do.
func meanOnTest(w *sampleWindow, agents []Agent, state AgentState, active int) float64 {
	m := w.mean()
	if w.n >= min(active, len(w.vals)) {
		return m
	}
	sum := m * float64(w.n)
	for _, a := range agents {
		if a.State == state {
			sum += clampSeconds(a.InState)
		}
	}
	return sum / float64(w.n)
}
