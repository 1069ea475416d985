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
// ringing, the others unanswered after 25 s; one dial placed a second.
func oneInTen(now time.Time) *Estimator {
	e := NewEstimator(time.UTC)
	for i := range 2000 {
		res := DialResult{Outcome: Live, Ring: 8 * time.Second}
		if i%10 != 0 {
			res.Outcome, res.Ring = NoAnswer, 25*time.Second
		}
		res.At = now.Add(-time.Hour + time.Duration(i)*time.Second + res.Ring)
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
	if n := guardFor(s, comp, set, 0.03, 0, 0, 10, 0, 20); n != 0 {
		t.Errorf("no budget, no ready agent: %d calls, want none", n)
	}
	// 1000 live answers, 15 abandons: a budget of 15, less than the 40 calls in flight.
	comp = Compliance{Day: window(1000, 15), Rolling24h: window(1000, 15), Rolling30d: window(1000, 15)}
	n := guardFor(s, comp, set, 0.03, 0, 0, 10, 0, 100)
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
	if n := guardFor(s, comp, set, 0.03, 0, 0, 10, 0, 100); n != 0 {
		t.Errorf("14 waiting calls and 40 ringing ones on a budget of 15: %d more, want none", n)
	}
}

// Issue 18: the guard counts on the live-answer share of the last dials when it is above the
// window's. The window learns a rise in the hit rate over thousands of dials while the budget
// is spent at the new rate; a campaign whose hit rate rose from 0.1 to 0.3 is guarded at 0.3,
// not at the window's 0.12. A fall leaves the guard at the window's share.
func TestGuardFollowsARisingHitRate(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	set := Settings{}.normalized()
	set.Tuning.GuardRisk = 1e-4
	comp := Compliance{Day: window(1000, 10), Rolling24h: window(1000, 10), Rolling30d: window(1000, 10)}
	withLast := func(every int) (n int, window, recent float64) {
		e := oneInTen(now)
		for i := range guardRecentDials { // placed after oneInTen's, one a second
			res := DialResult{Outcome: NoAnswer, Ring: 25 * time.Second}
			if every > 0 && i%every == 0 {
				res.Outcome, res.Ring = Live, 8*time.Second
			}
			res.At = now.Add(-time.Hour + time.Duration(2000+i)*time.Second + res.Ring)
			e.ObserveDial(res)
		}
		e.Settle()
		s := Snapshot{Now: now, Stats: e}
		for range 20 {
			s.Calls = append(s.Calls, Call{Stage: Ringing, Elapsed: time.Second})
		}
		w := &e.dials
		window = float64(w.count[Live]) / float64(w.n)
		return guardFor(s, comp, set, 0.03, 0, 0, 10, 0, 100), window, w.recentShare(guardRecentDials, window)
	}
	// One dial in three of the last 250 reached a person. A call ringing for a second has the
	// window's share of a person (every dial is still open then); scaled up, the recent share.
	n, p, pr := withLast(3)
	if pr < 0.3 || p > 0.13 {
		t.Fatalf("shares %v (window) and %v (last dials), want about 0.12 and 0.33", p, pr)
	}
	if binomialTail(20+n, pr, 20) > set.Tuning.GuardRisk || binomialTail(21+n, pr, 20) <= set.Tuning.GuardRisk {
		t.Errorf("%d more calls: %v and %v over the budget at the last dials' share %v with one call less and one more",
			n, binomialTail(20+n, pr, 20), binomialTail(21+n, pr, 20), pr)
	}
	// None of the last 250 did: the window's share, which has fallen a little, holds.
	n, p, _ = withLast(0)
	if binomialTail(20+n, p, 20) > set.Tuning.GuardRisk || binomialTail(21+n, p, 20) <= set.Tuning.GuardRisk {
		t.Errorf("%d more calls after a fall: %v and %v over the budget at the window's share %v with one call less and one more",
			n, binomialTail(20+n, p, 20), binomialTail(21+n, p, 20), p)
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
	late := guardFor(snap(time.Second), comp, set, 0.03, 0, 0, 10, 0, 200)
	plain := Settings{}.normalized()
	// Agents half a second from the end of their talks (and as long from the end of their
	// wrap-ups) are free before the first answer comes.
	soon := guardFor(snap(59500*time.Millisecond), comp, set, 0.03, 0, 0, 10, 0, 200)
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

// Issue 18: early in the day only the short talks and wrap-ups have ended. The day's credit
// counts those under way as at least their time so far (the time on test), so it comes from the
// first talk and wrap-up without counting the day's answers many times over.
func TestDayCreditCountsTalksUnderWay(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	set := Settings{}.normalized()
	e := oneInTen(now)
	s := Snapshot{Now: now, DayEnd: now.Add(2 * time.Hour), Stats: e}
	for range 18 {
		s.Agents = append(s.Agents, Agent{State: OnCall, InState: 120 * time.Second})
	}
	for range 2 {
		s.Agents = append(s.Agents, Agent{State: WrapUp, InState: 40 * time.Second})
	}
	observe := func(n int) {
		for range n {
			e.ObserveTalk(30 * time.Second)
			e.ObserveWrap(10 * time.Second)
		}
		e.Settle()
	}
	if c := dayCredit(s, set, 0.03, 20); c != 0 {
		t.Fatalf("credit %v before any talk time, want none", c)
	}
	// The progressive wait: ten dials a live answer (8 s, then nine of 25 s).
	wait := 8.0 + 9*25
	left := 2*3600.0 - 60
	for _, c := range []struct {
		ended      int
		talk, wrap float64 // the means on test
	}{
		{1, 30 + 18*120, 10 + 2*40}, // one talk of 30 s ended, 18 under way for 120 s
		{5, (5*30 + 18*120) / 5.0, (5*10 + 2*40) / 5.0},
		{20, 30, 10}, // as many as agents: the samples' means
	} {
		observe(c.ended - e.talk.n)
		want := set.Tuning.Credit * 0.03 * 20 * left / (c.talk + c.wrap + wait)
		if got := dayCredit(s, set, 0.03, 20); math.Abs(got-want) > 0.01*want {
			t.Errorf("%d talks ended: credit %v, want %v", c.ended, got, want)
		}
	}
}

// Issue 18: a call ringing longer than any dial in the window is not sure to bring nothing;
// the guard counts it a person with the live share (one dial more, of that share, among those
// still open at its ring time).
func TestGuardCountsCallsRingingPastTheWindow(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := oneInTen(now) // persons answer at 8 s, the others give up at 25 s
	e.Settle()
	if q := e.dials.liveAtAll(Call{Stage: Ringing, Elapsed: 30 * time.Second}, 0.1); math.Abs(q-0.1) > 1e-9 {
		t.Errorf("a call ringing 30 s: live with chance %v, want the live share 0.1", q)
	}
	var q [1]float64
	if e.dials.liveBy(Call{Stage: Ringing, Elapsed: 30 * time.Second}, []float64{5}, q[:], false, 0.1) {
		t.Errorf("the look-ahead's count: a call ringing past every dial seen cannot be told")
	}
	// At 10 s the window holds 1800 dials still open, none a person: one in 18 010.
	if q := e.dials.liveAtAll(Call{Stage: Ringing, Elapsed: 10 * time.Second}, 0.1); math.Abs(q-0.1/1801) > 1e-9 {
		t.Errorf("a call ringing 10 s: live with chance %v, want %v", q, 0.1/1801)
	}
	// Twenty such calls on one ready agent and no budget: more than one person among them is
	// likely, so no new call goes out (counted as nothing, they would let calls out).
	s := Snapshot{Now: now, Stats: e, Agents: []Agent{{State: Ready}}}
	for range 20 {
		s.Calls = append(s.Calls, Call{Stage: Ringing, Elapsed: 30 * time.Second})
	}
	comp := Compliance{Day: window(100, 3), Rolling24h: window(100, 3), Rolling30d: window(100, 3)}
	if n := guardFor(s, comp, Settings{}.normalized(), 0.03, 0, 1, 1, 0, 10); n != 0 {
		t.Errorf("twenty calls ringing past the window, one ready agent, no budget: %d more calls, want none", n)
	}
}

// Issue 18: the talks under way count among those outlasting a busy agent's time so far (as
// censored samples): early in a day only the short talks have ended, and forecasting from them
// alone frees agents too soon.
func TestBusyForecastCountsTalksUnderWay(t *testing.T) {
	e := NewEstimator(time.UTC)
	for _, d := range []int{10, 20, 30, 40, 50} {
		e.ObserveTalk(time.Duration(d) * time.Second)
		e.ObserveWrap(0)
	}
	me := Agent{State: OnCall, InState: 25 * time.Second}
	var bf busyForecast
	free := func(agents []Agent) float64 {
		e.forecastBusy(agents, &bf)
		return e.freeWithin(me, 10, &bf, false)
	}
	// Of the talks ended, three outlasted 25 s and one of them ended within 10 s more.
	if f := free([]Agent{me}); math.Abs(f-1.0/3) > 1e-9 {
		t.Errorf("free within 10 s: %v, want 1/3", f)
	}
	// Three talks under way for two minutes outlast 25 s too: one in six. A talk under way for
	// less than 25 s, a ready agent and a wrap-up say nothing of it.
	agents := []Agent{me, {State: Ready}, {State: WrapUp, InState: time.Minute}, {State: OnCall, InState: 10 * time.Second}}
	for range 3 {
		agents = append(agents, Agent{State: OnCall, InState: 2 * time.Minute})
	}
	if f := free(agents); math.Abs(f-1.0/6) > 1e-9 {
		t.Errorf("free within 10 s with three talks under way for longer: %v, want 1/6", f)
	}
}

// guardFor is guard with the busy agents forecast as Decide forecasts them.
func guardFor(s Snapshot, comp Compliance, set Settings, target, credit float64, ready, active, prog, n int) int {
	var bf busyForecast
	if s.Stats.busyWarm(set.Tuning) {
		s.Stats.forecastBusy(s.Agents, &bf)
	}
	return guard(s, comp, set, target, credit, &bf, ready, active, prog, n)
}
