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
	// Each call ringing for a second is a person with the live share: 4 answers counted on, and
	// one in ten of the new calls.
	if q := poissonQuantile(4+float64(n)*0.1, set.Tuning.GuardRisk); q > 15 || poissonQuantile(4+float64(n+1)*0.1, set.Tuning.GuardRisk) <= 15 {
		t.Errorf("%d calls count on %d live answers, over the budget of 15", n, q)
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
	q := func(n int) int { return poissonQuantile(4+float64(n)*0.1, plain.Tuning.GuardRisk) }
	if q(soon) > 15+10 {
		t.Errorf("%d more calls count on %d live answers, over the budget of 15 and the 10 agents", soon, q(soon))
	}
}

// The tail of a Poisson count less an independent count, against the convolution summed out.
func TestPoissonDiffTail(t *testing.T) {
	var pmf [guardAgents + 1]float64
	pmf[0] = 1
	fs := []float64{0.3, 0.6, 0.9, 0.05}
	for _, f := range fs {
		pmfAdd(&pmf, f)
	}
	sum := 0.0
	for _, x := range pmf {
		sum += x
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Fatalf("pmf sums to %v", sum)
	}
	pois := func(mu float64, k int) float64 {
		if k < 0 {
			return 0
		}
		p := math.Exp(-mu)
		for i := 1; i <= k; i++ {
			p *= mu / float64(i)
		}
		return p
	}
	for _, mu := range []float64{0, 0.5, 3, 12} {
		for _, c := range []float64{-3, -1, 0, 2, 7} {
			want := 0.0 // P(L − F > c) = Σ_f P(F = f) (1 − P(L ≤ c + f))
			for f, pf := range pmf {
				cdf := 0.0
				for k := 0; k <= int(c)+f; k++ {
					cdf += pois(mu, k)
				}
				want += pf * (1 - cdf)
			}
			if got := poissonDiffTail(mu, &pmf, c); math.Abs(got-want) > 1e-9 {
				t.Errorf("mu %v c %v: %v, want %v", mu, c, got, want)
			}
		}
	}
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
