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

// Issue 18: the guard counts the live answers the calls in flight can bring, not the calls:
// with one dial in ten answered by a person, forty ringing calls need far less budget than
// forty abandons.
func TestGuardCountsLiveAnswers(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
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
	e.Settle()
	s := Snapshot{Now: now, Stats: e}
	for range 40 {
		s.Calls = append(s.Calls, Call{Stage: Ringing, Elapsed: time.Second})
	}
	set := Settings{}.normalized()
	// 100 live answers, 3 abandons: no budget; one waiting call and 40 ringing ones.
	comp := Compliance{Day: window(100, 3), Rolling24h: window(100, 3), Rolling30d: window(100, 3)}
	if n := guard(s, comp, set, 0.03, 0, 10, 0, 20); n != 0 {
		t.Errorf("no budget, no ready agent: %d calls, want none", n)
	}
	// 1000 live answers, 15 abandons: a budget of 15, less than the 40 calls in flight.
	comp = Compliance{Day: window(1000, 15), Rolling24h: window(1000, 15), Rolling30d: window(1000, 15)}
	n := guard(s, comp, set, 0.03, 0, 10, 0, 100)
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
	if n := guard(s, comp, set, 0.03, 0, 10, 0, 100); n != 0 {
		t.Errorf("14 waiting calls and 40 ringing ones on a budget of 15: %d more, want none", n)
	}
}
