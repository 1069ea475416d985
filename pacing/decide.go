package pacing

import (
	"math"
	"slices"
	"time"
)

// Decide returns how many calls to place now (P-1). It never panics: zero values and a nil
// Stats are valid inputs (the predictive mode then dials progressively, "cold_start").
// Whatever the mode, the calls in flight after dialing never exceed Settings.MaxCallsPerAgent
// per agent that is not paused, and nothing is dialed when no agent is logged in or all are
// paused.
func Decide(s Snapshot) Decision {
	set := s.Settings.normalized()
	target := set.recordedTarget()
	ready, active := 0, 0
	for _, a := range s.Agents {
		switch a.State {
		case Ready:
			ready++
			active++
		case OnCall, WrapUp:
			active++
		}
	}
	var d Decision
	var comp Compliance
	if s.Stats != nil {
		comp = s.Stats.Compliance(s.Now)
		d.Budget = budget(comp, target)
	}
	if active == 0 {
		d.Reason = "no_agents"
		return d
	}
	inflight := len(s.Calls)
	capacity := int(math.Floor(set.MaxCallsPerAgent*float64(active) + 1e-9))
	room := capacity - inflight
	if room <= 0 {
		d.Reason = "at_cap"
		return d
	}
	prog := max(0, ready-inflight)
	n := prog
	switch set.Mode {
	case Ratio:
		d.Reason = "ratio"
		target := math.Floor(set.Ratio*float64(ready) + 0.5)
		n = int(min(target, float64(capacity))) - inflight
	case Predictive:
		// The budget is spent when a window is over its allowance by more than the slack plus
		// what the rest of the day can pay back (the guard's credit).
		credit := dayCredit(s, set, target, active)
		switch {
		case !s.Stats.warm(set.Tuning, s):
			d.Reason = "cold_start"
		case target <= 0 || d.Budget+credit < -spentSlack(comp, set, target):
			d.Reason = "abandon_budget_spent"
		default:
			d.Reason = "predictive"
			la := LookAhead{Threshold: threshold(comp, set, target)}
			var bf busyForecast // one forecast for the look-ahead and the guard
			if s.Stats.busyWarm(set.Tuning) {
				s.Stats.forecastBusy(s.Agents, &bf)
			}
			n = max(prog, la.dials(s, set, room, &bf))
			if m := guard(s, comp, set, target, credit, &bf, ready, active, prog, n); m < n {
				n, d.Reason = m, "abandon_budget_low"
			}
		}
	default:
		d.Reason = "progressive"
	}
	d.Dial = max(0, min(n, room))
	return d
}

// recordedTarget is the abandon rate the recorded abandons are steered to: the target less the
// estimated false positives of answer classification, persons hung up on as machines that the
// engine cannot count but the regulator does. With a share f of persons lost that way, a
// recorded rate of (target − f) ÷ (1 − f) over the persons taken for persons is the target over
// all of them. Zero or less: the false positives alone spend the target.
func (s Settings) recordedTarget() float64 {
	f := s.FalsePositiveRate
	return (s.TargetAbandonRate - f) / (1 - f)
}

// budget is the smallest allowance left over the compliance windows, in abandons.
func budget(c Compliance, target float64) float64 {
	b := math.Inf(1)
	for _, w := range [...]Window{c.Day, c.Rolling24h, c.Rolling30d} {
		b = min(b, target*float64(w.Live)-float64(w.Abandoned))
	}
	return b
}

// spentSlack is how far a window may run over its allowance, in abandons, before the mode
// falls back to progressive: Tuning.SpentSlack plus the feedback's square-root term, so a
// large campaign is not thrown back by noise.
func spentSlack(c Compliance, set Settings, target float64) float64 {
	live := float64(max(c.Day.Live, c.Rolling24h.Live, c.Rolling30d.Live))
	return set.Tuning.SpentSlack + set.Tuning.GainSqrt*math.Sqrt(target*live+set.unseen(live))
}

// unseen is the variance of the false positives among the persons of live answers taken for
// persons (Poisson): abandons the window holds but the engine cannot count.
func (s Settings) unseen(live float64) float64 {
	f := s.FalsePositiveRate
	return f / (1 - f) * live
}

// threshold is the feedback loop. In each window the allowance is the target rate (of the
// recorded abandons, recordedTarget) times the live answers less Margin standard deviations of
// the abandon count (√(target·live), Poisson, plus the unseen false positives' variance), and
// never under Setpoint times the target's allowance: a window with few live answers keeps a
// wide margin, a large one runs close to the target. The starting threshold is divided by e for
// every Gain abandons over the allowance in the hottest window (multiplied when under it),
// within [MinThreshold, MaxThreshold].
func threshold(c Compliance, set Settings, target float64) float64 {
	t := set.Tuning
	drive := math.Inf(-1)
	for _, w := range [...]Window{c.Day, c.Rolling24h, c.Rolling30d} {
		full := target * float64(w.Live)
		fp := set.unseen(float64(w.Live))
		allow := max(t.Setpoint*full, full-t.Margin*math.Sqrt(full+fp))
		gain := t.GainBase + t.GainSqrt*math.Sqrt(allow+fp)
		drive = max(drive, (float64(w.Abandoned)-allow)/gain)
	}
	th := t.Threshold * math.Exp(-drive)
	if !(th >= t.MinThreshold) {
		th = t.MinThreshold
	}
	return min(th, t.MaxThreshold)
}

// warm tells whether the answer-rate estimates can be trusted: MinDials outcomes and MinLive
// live answers, and right after a start (when the outcomes observed first are the ones that
// end fast) at least as many outcomes as calls in flight, or a full window.
func (e *Estimator) warm(t Tuning, s Snapshot) bool {
	return e != nil && e.dials.n >= max(t.MinDials, min(len(s.Calls), e.dials.size)) &&
		e.dials.count[Live] >= t.MinLive
}

// busyWarm tells whether the talk and wrap-up estimates can forecast busy agents becoming
// free: MinSamples of each. The first talk times a day sees end are the short ones; the talks
// under way make up for them (busyForecast). Until then only the ready agents count as supply.
func (e *Estimator) busyWarm(t Tuning) bool {
	return e.talk.n >= t.MinSamples && e.wrap.n >= t.MinSamples
}

// LookAhead is the predictive mode's core rule. A new call is placed while the probability
// that its live answer finds no free agent stays at or under Threshold. That probability is
// assessed at Points quantiles of the time a live answer takes (ring time, plus the mean
// classification time of the answers taken for persons): the live answers arriving before it
// (waiting calls; calls being classified, each a person with the probability that an answer
// classified for that long is one; ringing calls given their ring time so far; and the other
// new calls) against the agents free by then plus the connect deadline, both as sums of
// independent Bernoulli variables in a normal approximation.
type LookAhead struct {
	Threshold float64
	// AgentFree, when set, gives the probability that Snapshot.Agents[i] is free within the
	// given time; nil means: ready agents are free, busy ones from the estimated talk and
	// wrap-up distributions given their time in state, paused ones never.
	AgentFree func(i int, within time.Duration) float64
}

// Dials returns how many new calls the rule places for s, at most limit (before the caps of
// Decide). Without statistics it returns 0.
func (la LookAhead) Dials(s Snapshot, limit int) int {
	set := s.Settings.normalized()
	var bf busyForecast
	if s.Stats != nil && s.Stats.busyWarm(set.Tuning) && la.AgentFree == nil {
		s.Stats.forecastBusy(s.Agents, &bf)
	}
	return la.dials(s, set, limit, &bf)
}

// dials is Dials with the busy agents' forecast bf, built (forecastBusy) when busyWarm.
func (la LookAhead) dials(s Snapshot, set Settings, limit int, bf *busyForecast) int {
	e := s.Stats
	if e == nil || limit <= 0 || e.dials.n == 0 {
		return 0
	}
	w := &e.dials
	nLive := float64(w.count[Live])
	if nLive == 0 {
		return 0
	}
	p := nLive / float64(w.n)
	// A person's answer is put through after its own classification time, shorter than a
	// machine's (which mostly runs to the time limit): the mean over all answers would
	// stretch the horizon.
	amd := w.meanClassify(Live)
	dl := set.ConnectDeadline.Seconds()
	k := set.Tuning.Points
	var rq, dMean, dVar, sMean, sVar [maxPoints]float64
	for j := range k {
		u := (float64(j) + 0.5) / float64(k)
		rq[j] = w.quantile(Live, u)
	}
	// Demand: live answers classified before each point.
	var q [maxPoints]float64
	for _, c := range s.Calls {
		if !w.liveBy(c, rq[:k], q[:k], false, 0) {
			continue
		}
		for j := range k {
			dMean[j] += q[j]
			dVar[j] += q[j] * (1 - q[j])
		}
	}
	// Supply: agents free by each point plus the connect deadline.
	agents := 0
	for _, a := range s.Agents {
		if a.State != Paused {
			agents++
		}
	}
	busyOK := e.busyWarm(set.Tuning)
	for i, a := range s.Agents {
		if la.AgentFree != nil {
			for j := range k {
				x := rq[j] + amd + dl
				f := la.AgentFree(i, seconds(x))
				f = min(max(f, 0), 1)
				sMean[j] += f
				sVar[j] += f * (1 - f)
			}
			continue
		}
		switch {
		case a.State == Ready:
			for j := range k {
				sMean[j]++
			}
		case busyOK:
			for j := range k {
				f := e.freeWithin(a, rq[j]+amd+dl, bf, false)
				sMean[j] += f
				sVar[j] += f * (1 - f)
			}
		}
	}
	// risk is the probability that the n-th new call's live answer finds no free agent; it
	// grows with n, so the answer is found by doubling then bisection.
	risk := func(n int) float64 {
		others := float64(n - 1)
		r := 0.0
		for j := range k {
			u := (float64(j) + 0.5) / float64(k)
			pu := p * u
			mu := dMean[j] + others*pu - sMean[j]
			v := dVar[j] + others*pu*(1-pu) + sVar[j]
			r += exceed(mu, v)
		}
		return r / float64(k)
	}
	ok := func(n int) bool { return risk(n) <= la.Threshold }
	if !ok(1) {
		return 0
	}
	lo, hi := 1, 2 // ok(lo); hi unknown
	for hi <= limit && ok(hi) {
		lo, hi = hi, 2*hi
	}
	if hi > limit {
		if ok(limit) {
			return limit
		}
		hi = limit
	}
	return lastOK(lo, hi, ok)
}

// openAt is, for a call ringing for el seconds, how many of the window's dials were still
// open at that ring time (left) and how many live answers came before it (base): the call's
// chance of a live answer within h more seconds is (upTo(Live, el+h) − base) ÷ left. Below
// half a dial left, the window cannot tell.
func (w *dialWindow) openAt(el float64) (left, base float64) {
	for o := range numOutcomes {
		left += float64(w.count[o]) - w.upTo(o, el)
	}
	return left, w.upTo(Live, el)
}

// liveBy sets q[j] to the chance that call c brings a live answer (classified as a person)
// within rq[j] seconds from now: 1 for a waiting call; for a call being classified, the share of
// persons among the answers classified for longer; for a ringing call, the share of live answers
// by then among the dials still open at its ring time. false when the window cannot tell.
//
// cautious (the day-budget guard's count) adds one dial of the overall live share p among those
// open, a person at once: a call ringing longer than the window's live answers is then not taken
// as sure to bring none, and the window can always tell.
func (w *dialWindow) liveBy(c Call, rq, q []float64, cautious bool, p float64) bool {
	switch c.Stage {
	case Waiting:
		for j := range q {
			q[j] = 1
		}
	case Classifying:
		pc := w.liveWhileClassifying(clampSeconds(c.InStage))
		for j := range q {
			q[j] = pc
		}
	default:
		el := clampSeconds(c.Elapsed)
		left, base := w.openAt(el)
		prior := 0.0
		if cautious {
			left, prior = left+1, p
		} else if left < 0.5 {
			return false
		}
		for j := range q {
			q[j] = min(max((w.upTo(Live, el+rq[j])-base+prior)/left, 0), 1)
		}
	}
	return true
}

// liveAtAll is the chance that call c brings a live answer at all: liveBy with no time limit,
// cautious (the guard's count).
func (w *dialWindow) liveAtAll(c Call, p float64) float64 {
	switch c.Stage {
	case Waiting:
		return 1
	case Classifying:
		return w.liveWhileClassifying(clampSeconds(c.InStage))
	}
	left, base := w.openAt(clampSeconds(c.Elapsed))
	return min(max((float64(w.count[Live])-base+p)/(left+1), 0), 1)
}

// maxPoints bounds Tuning.Points.
const maxPoints = 50

// maxUnderWay bounds the talks and wrap-ups under way a busy forecast counts: past it the
// others are left out, which only matters before the samples outnumber them.
const maxUnderWay = 512

// underWay holds how long each of the talks (or wrap-ups) under way has lasted, sorted.
type underWay struct {
	v [maxUnderWay]float32
	n int
}

func (u *underWay) add(x float64) {
	if u.n < len(u.v) {
		u.v[u.n] = float32(x)
		u.n++
	}
}

// atLeast is how many of them have lasted x seconds or more.
func (u *underWay) atLeast(x float64) float64 {
	i, _ := slices.BinarySearch(u.v[:u.n], float32(x))
	return float64(u.n - i)
}

// busyForecast is what a decision forecasts busy agents freeing from: the points of the
// wrap-up time over which a talk's end is spread, and the talks and wrap-ups under way. Those
// count among the durations outlasting a busy agent's time so far, as censored samples do in a
// survival estimate: the first talks a day sees end are the short ones, and without the long
// ones under way the forecast would free agents too soon.
type busyForecast struct {
	wq           [3]float64
	talks, wraps underWay
}

// forecastBusy fills f for the agents.
func (e *Estimator) forecastBusy(agents []Agent, f *busyForecast) {
	for i := range f.wq {
		f.wq[i] = e.wrap.quantile((float64(i) + 0.5) / float64(len(f.wq)))
	}
	f.talks.n, f.wraps.n = 0, 0
	for _, a := range agents {
		switch a.State {
		case OnCall:
			f.talks.add(clampSeconds(a.InState))
		case WrapUp:
			f.wraps.add(clampSeconds(a.InState))
		}
	}
	slices.Sort(f.talks.v[:f.talks.n])
	slices.Sort(f.wraps.v[:f.wraps.n])
}

// freeWithin is the probability that agent a is free within x seconds, from the talk and
// wrap-up estimates (busyWarm) given its time in state and the others under way (f): 1 for a
// ready agent, 0 for a paused one. cautious keeps a chance that the talk or wrap-up outlasts
// every one seen (the day-budget guard's count, which must not take a busy agent's freeing for
// certain).
func (e *Estimator) freeWithin(a Agent, x float64, f *busyForecast, cautious bool) float64 {
	el := clampSeconds(a.InState)
	switch a.State {
	case Ready:
		return 1
	case OnCall:
		others := max(f.talks.atLeast(el)-1, 0) // a's own talk is among them
		p := 0.0
		for _, wv := range f.wq {
			p += e.talk.conditional(el, x-wv, others, cautious)
		}
		return p / float64(len(f.wq))
	case WrapUp:
		return e.wrap.conditional(el, x, max(f.wraps.atLeast(el)-1, 0), cautious)
	}
	return 0
}

// lastOK bisects [lo, hi] for the largest m with ok(m), given !ok(hi) and ok monotone
// (true, then false); lo when none above it is.
func lastOK(lo, hi int, ok func(int) bool) int {
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if ok(m) {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// exceed is P(X ≥ 0) for an integer-valued X of mean mu and variance v (normal approximation
// with continuity correction).
func exceed(mu, v float64) float64 {
	if v < 1e-9 {
		if mu > -0.5 {
			return 1
		}
		return 0
	}
	return 0.5 * math.Erfc(-(mu+0.5)/math.Sqrt(2*v))
}
