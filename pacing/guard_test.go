package pacing

import (
	"math"
	"testing"
	"time"
)

// The Poisson bound: the smallest count chance exceeds with at most the given risk.
func TestPoissonQuantile(t *testing.T) {
	tail := func(mu float64, k int) float64 { // P(X > k)
		pmf, cdf := math.Exp(-mu), math.Exp(-mu)
		for i := 1; i <= k; i++ {
			pmf *= mu / float64(i)
			cdf += pmf
		}
		return 1 - cdf
	}
	for _, mu := range []float64{0.01, 0.3, 1, 4.8, 20, 150, 499} {
		k := poissonQuantile(mu, 1e-4)
		if tail(mu, k) > 1e-4 || (k > 0 && tail(mu, k-1) <= 1e-4) {
			t.Errorf("mu %v: %d, tails %v and %v", mu, k, tail(mu, k-1), tail(mu, k))
		}
	}
	if poissonQuantile(0, 1e-4) != 0 || poissonQuantile(math.NaN(), 1e-4) != 0 || poissonQuantile(1e6, 1e-4) < 1e6+3000 {
		t.Error("edges")
	}
}

// oneInTen is an estimator of the hour before now: one dial in ten a live answer after 8 s of
// ringing, the others unanswered after 25 s.
func oneInTen(now time.Time) *Estimator {
	e := NewEstimator(time.UTC)
	for i := range 2000 {
		res := DialResult{At: now.Add(-time.Hour + time.Duration(i)*time.Second), Ring: 8 * time.Second}
		if i%10 == 0 {
			res.Outcome = Live
		} else {
			res.Outcome, res.Ring = NoAnswer, 25*time.Second
		}
		e.ObserveDial(res)
	}
	return e
}

// Issue 18: the guard counts the live answers the calls in flight can bring, not the calls:
// with one dial in ten answered by a person, forty ringing calls need far less budget than
// forty abandons.
func TestGuardCountsLiveAnswers(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := oneInTen(now)
	e.Settle()
	s := Snapshot{Now: now, Stats: e}
	for range 40 {
		s.Calls = append(s.Calls, Call{Stage: Ringing, Elapsed: time.Second})
	}
	set := Settings{}.normalized()
	set.Tuning.GuardRisk = 1e-4 // the figures below are worked at this risk
	// 100 live answers, 3 abandons: no budget; one waiting call and 40 ringing ones.
	comp := Compliance{Day: window(100, 3), Rolling24h: window(100, 3), Rolling30d: window(100, 3)}
	if n := guard(s, comp, set, 0.03, 0, 0, 10, 0, 20); n != 0 {
		t.Errorf("no budget, no ready agent: %d calls, want none", n)
	}
	// 1000 live answers, 15 abandons: a budget of 15, less than the 40 calls in flight.
	comp = Compliance{Day: window(1000, 15), Rolling24h: window(1000, 15), Rolling30d: window(1000, 15)}
	n := guard(s, comp, set, 0.03, 0, 0, 10, 0, 100)
	if n < 5 || n == 100 {
		t.Errorf("a budget of 15 for 40 calls at 1 in 10: %d more calls, want some, not all", n)
	}
	// Each call ringing for a second is a person with the live share, one in ten, as is each
	// new call: the most calls whose live answers exceed 15 at most at the guard's risk.
	if binomialTail(40+n, 0.1, 15) > set.Tuning.GuardRisk || binomialTail(41+n, 0.1, 15) <= set.Tuning.GuardRisk {
		t.Errorf("%d more calls: %v and %v over the budget of 15 with one call less and one more", n, binomialTail(40+n, 0.1, 15), binomialTail(41+n, 0.1, 15))
	}
	// Waiting calls are live answers already: each takes one of the budget.
	for range 14 {
		s.Calls = append(s.Calls, Call{Stage: Waiting})
	}
	if n := guard(s, comp, set, 0.03, 0, 0, 10, 0, 100); n != 0 {
		t.Errorf("14 waiting calls and 40 ringing ones on a budget of 15: %d more, want none", n)
	}
}

// Issue 18: once talk and wrap-up times can be forecast, the guard counts the busy agents
// that free up before the live answers arrive, and only those.
func TestGuardCountsAgentsFreeingInTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := oneInTen(now)
	for range 50 {
		e.ObserveTalk(60 * time.Second)
		e.ObserveWrap(500 * time.Millisecond)
	}
	e.Settle()
	set := Settings{}.normalized()
	comp := Compliance{Day: window(1000, 15), Rolling24h: window(1000, 15), Rolling30d: window(1000, 15)}
	snap := func(inState time.Duration) Snapshot {
		s := Snapshot{Now: now, Stats: e}
		for range 40 {
			s.Calls = append(s.Calls, Call{Stage: Ringing, Elapsed: time.Second})
		}
		for range 10 {
			s.Agents = append(s.Agents, Agent{State: OnCall, InState: inState})
		}
		return s
	}
	// Agents a minute from the end of their talks free up after the answers: only the ready
	// ones (none) count, as without forecasts.
	late := guard(snap(time.Second), comp, set, 0.03, 0, 0, 10, 0, 200)
	plain := Settings{}.normalized()
	// Agents half a second from the end of their talks (and as long from the end of their
	// wrap-ups) are free before the first answer comes.
	soon := guard(snap(59500*time.Millisecond), comp, set, 0.03, 0, 0, 10, 0, 200)
	if soon <= late {
		t.Errorf("agents freeing in a second: %d more calls, agents freeing in a minute: %d; want more for the first", soon, late)
	}
	// Ten agents free in time cover ten more live answers at most, so at the same risk the
	// count of live answers grows by no more than ten.
	if tail := binomialTail(40+soon, 0.1, 15+10); tail > plain.Tuning.GuardRisk {
		t.Errorf("%d more calls exceed the budget of 15 and the 10 agents with chance %v", soon, tail)
	}
}

// The tail of a count less an independent count, against the joint pmf summed out.
func TestDiffTail(t *testing.T) {
	build := func(size int, fs ...float64) []float64 {
		pmf := make([]float64, size)
		pmf[0] = 1
		for _, f := range fs {
			pmfAdd(pmf, f)
		}
		return pmf
	}
	free := build(guardAgents+1, 0.3, 0.6, 0.9, 0.05)
	sum := 0.0
	for _, x := range free {
		sum += x
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Fatalf("pmf sums to %v", sum)
	}
	// Ten chances in a pmf long enough to hold them all, and the same lumped at 6.
	fs := []float64{0.1, 0.5, 0.2, 0.9, 0.3, 0.3, 0.7, 0.05, 1, 0}
	lives, lumped := build(11, fs...), build(7, fs...)
	for thr := -3; thr <= 2; thr++ {
		want := 0.0 // Σ over l, f with l − f > thr of P(L = l) P(F = f)
		for l, pl := range lives {
			for f, pf := range free {
				if l-f > thr {
					want += pl * pf
				}
			}
		}
		if got := diffTail(lives, free, thr); math.Abs(got-want) > 1e-12 {
			t.Errorf("thr %d: %v, want %v", thr, got, want)
		}
		// Lumping the counts past 6 at 6 keeps every tail up to 5.
		if got := diffTail(lumped, free[:min(len(free), 6-thr)], thr); math.Abs(got-diffTail(lives, free[:min(len(free), 6-thr)], thr)) > 1e-12 {
			t.Errorf("thr %d lumped: %v", thr, got)
		}
	}
}

// binomialTail is P(Binomial(n, p) > k).
func binomialTail(n int, p float64, k int) float64 {
	pmf := make([]float64, n+1)
	pmf[0] = 1
	for range n {
		pmfAdd(pmf, p)
	}
	tail := 0.0
	for x := k + 1; x <= n; x++ {
		tail += pmf[x]
	}
	return tail
}

// Issue 18: early in the day only the short talks have ended. The day's credit counts the
// talks under way as at least their time so far, so it comes early without counting the day's
// answers many times over, and none comes before MinSamples talk and wrap-up times.
func TestDayCreditCountsTalksUnderWay(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	set := Settings{}.normalized()
	e := oneInTen(now)
	s := Snapshot{Now: now, DayEnd: now.Add(2 * time.Hour), Stats: e}
	for range 20 {
		s.Agents = append(s.Agents, Agent{State: OnCall, InState: 120 * time.Second})
	}
	observe := func(n int) {
		for range n {
			e.ObserveTalk(30 * time.Second)
			e.ObserveWrap(10 * time.Second)
		}
		e.Settle()
	}
	observe(set.Tuning.MinSamples - 1)
	if c := dayCredit(s, set, 0.03, 20); c != 0 {
		t.Fatalf("credit %v before %d talk times, want none", c, set.Tuning.MinSamples)
	}
	observe(1)
	// Five talks of 30 s ended, twenty under way for 120 s: 510 s a talk on test, with 10 s of
	// wrap-up and the progressive wait of ten dials a live answer (8 s, then nine of 25 s).
	wait := 8.0 + 9*25
	left := 2*3600.0 - 60
	want := set.Tuning.Credit * 0.03 * 20 * left / (510 + 10 + wait)
	if c := dayCredit(s, set, 0.03, 20); math.Abs(c-want) > 0.01*want {
		t.Errorf("credit %v, want %v", c, want)
	}
	// Once there are as many talk times as agents, their mean is the talk.
	observe(15)
	want = set.Tuning.Credit * 0.03 * 20 * left / (30 + 10 + wait)
	if c := dayCredit(s, set, 0.03, 20); math.Abs(c-want) > 0.01*want {
		t.Errorf("credit with ten talk times %v, want %v", c, want)
	}
}
