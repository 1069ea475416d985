package pacing

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestCompliance(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	e := NewEstimator(tokyo)
	// 2026-03-01 23:30 JST: live + abandon on the 1st; 00:30 JST on the 2nd: live.
	d1 := time.Date(2026, 3, 1, 23, 30, 0, 0, tokyo)
	e.ObserveDial(DialResult{Outcome: Live, At: d1})
	e.ObserveAbandon(d1)
	e.ObserveDial(DialResult{Outcome: Live, At: d1.Add(-40 * 24 * time.Hour)}) // outside 30 days
	e.ObserveDial(DialResult{Outcome: Live, At: d1.Add(-10 * 24 * time.Hour)}) // inside 30 days
	d2 := d1.Add(time.Hour)
	e.ObserveDial(DialResult{Outcome: Live, At: d2})
	e.ObserveDial(DialResult{Outcome: Machine, At: d2})
	c := e.Compliance(d2)
	want := Compliance{
		Day:        Window{Live: 1, Rate: 0},
		Rolling24h: Window{Live: 2, Abandoned: 1, Rate: 0.5},
		Rolling30d: Window{Live: 3, Abandoned: 1, Rate: 1.0 / 3},
	}
	if c != want {
		t.Errorf("Compliance = %+v, want %+v", c, want)
	}
	// 24.5 hours later the first abandon has left the rolling 24 h, the second live answer not.
	c = e.Compliance(d1.Add(24*time.Hour + 30*time.Minute))
	if c.Rolling24h != (Window{Live: 1}) || c.Day != (Window{}) {
		t.Errorf("a day later: %+v", c)
	}
}

func TestEstimatorSummaryAndWindow(t *testing.T) {
	e := NewEstimatorSized(time.UTC, 10, 4)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 20 {
		o := NoAnswer
		if i >= 10 && i%2 == 0 {
			o = Live
		}
		e.ObserveDial(DialResult{Outcome: o, At: t0.Add(time.Duration(i) * time.Minute), Ring: 10 * time.Second, Classify: time.Second})
	}
	// The last result waits for the dials placed before it to end.
	if s := e.Summary(); s.Dials != 10 || s.LiveRate != 0.5 {
		t.Errorf("before: %+v", s)
	}
	e.ObserveDial(DialResult{Outcome: NoAnswer, At: t0.Add(30 * time.Minute), Ring: 25 * time.Second})
	for _, d := range []int{100, 1, 1, 3, 5} {
		e.ObserveTalk(time.Duration(d) * time.Second)
	}
	s := e.Summary()
	if s.Dials != 10 || s.LiveRate != 0.5 || s.MeanRing != 10*time.Second || s.MeanClassify != time.Second {
		t.Errorf("summary %+v: the window holds the last 10 dials, half live", s)
	}
	if s.TalkSamples != 4 || s.MeanTalk != 2500*time.Millisecond {
		t.Errorf("talk %v over %d samples, want 2.5s over the last 4", s.MeanTalk, s.TalkSamples)
	}
	// Conditional remaining time: of samples 1,1,3,5 those over 2 s end within 2 s: 1 of 2.
	if p := e.talk.conditional(2, 2, 0, false); p < 0.3 || p > 0.7 {
		t.Errorf("P(T ≤ 4 | T > 2) = %v, want about 0.5", p)
	}
	// Every sample over 2 s ends by 2 s + 10 s; the day-budget guard's cautious count keeps a
	// chance that the next one outlasts them all: one more sample among the two (issue 18).
	if p := e.talk.conditional(2, 10, 0, false); p != 1 {
		t.Errorf("P(T ≤ 12 | T > 2) = %v, want 1 from the samples", p)
	}
	if p := e.talk.conditional(2, 10, 0, true); math.Abs(p-2.0/3) > 1e-9 {
		t.Errorf("cautious P(T ≤ 12 | T > 2) = %v, want 2/3", p)
	}
}

// The rolling windows' running totals agree with counting every observation.
func TestRollingWindowsAgainstBruteForce(t *testing.T) {
	type obs struct {
		at        time.Time
		live, abd int
	}
	r := rand.New(rand.NewPCG(5, 6))
	e := NewEstimator(time.UTC)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var all []obs
	now := t0
	for i := range 5000 {
		now = now.Add(time.Duration(r.IntN(1800)) * time.Second)
		at := now.Add(-time.Duration(r.IntN(120)) * time.Second) // a little out of order
		if r.IntN(4) == 0 {
			e.ObserveAbandon(at)
			all = append(all, obs{at, 0, 1})
		} else {
			e.ObserveDial(DialResult{Outcome: Live, At: at})
			all = append(all, obs{at, 1, 0})
		}
		if i%50 != 0 {
			continue
		}
		c := e.Compliance(now)
		for _, w := range []struct {
			got    Window
			span   time.Duration
			bucket time.Duration
		}{{c.Rolling24h, 24 * time.Hour, time.Minute}, {c.Rolling30d, 30 * 24 * time.Hour, time.Hour}} {
			from := now.Truncate(w.bucket).Add(-w.span + w.bucket)
			var live, abd int
			for _, o := range all {
				if !o.at.Before(from) && !o.at.After(now) {
					live += o.live
					abd += o.abd
				}
			}
			if w.got.Live != live || w.got.Abandoned != abd {
				t.Fatalf("obs %d, window %v: got %+v, want %d live %d abandoned", i, w.span, w.got, live, abd)
			}
		}
	}
}

// Memory stays bounded however long a campaign runs: fixed windows, buckets and held-back
// results.
func TestEstimatorBounded(t *testing.T) {
	e := NewEstimator(time.UTC)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	size := func() int {
		return cap(e.dials.outcome) + cap(e.talk.vals) + cap(e.wrap.vals) + cap(e.minutes.key) + cap(e.hours.key) + cap(e.pending.h)
	}
	var after int
	for i := range 200000 {
		at := t0.Add(time.Duration(i) * 14 * time.Second) // about 32 days
		e.ObserveDial(DialResult{Outcome: Outcome(i % 4), At: at, Ring: time.Duration(i%30) * time.Second})
		if i%10 == 0 {
			e.ObserveTalk(time.Duration(i%600) * time.Second)
			e.ObserveWrap(time.Duration(i%20) * time.Second)
			e.ObserveAbandon(at)
		}
		if i == 50000 {
			after = size()
		}
	}
	if s := size(); s != after || len(e.pending.h) > maxPending {
		t.Errorf("sizes grew from %d to %d (pending %d)", after, s, len(e.pending.h))
	}
}

// A campaign few of whose dials reach a person keeps older dials, up to four times the window,
// until it holds a quarter of the window in live answers: enough to learn their ring times.
func TestDialWindowKeepsLiveAnswers(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		every, dials, live int // one dial in every is live; the dials and live answers held
	}{
		{2, 100, 50},   // 50 live answers in the last 100 dials: the window's size
		{10, 241, 25},  // back to the 25th live answer from the end
		{100, 400, 4},  // four times the window
		{1000, 400, 1}, // four times the window
	} {
		e := NewEstimatorSized(time.UTC, 100, 4)
		for i := range 2000 {
			o := NoAnswer
			if i%c.every == c.every-1 {
				o = Live
			}
			e.ObserveDial(DialResult{Outcome: o, At: t0.Add(time.Duration(i) * time.Second), Ring: 10 * time.Second})
		}
		e.Settle()
		s := e.Summary()
		if s.Dials != c.dials {
			t.Errorf("one dial in %d live: the window holds %d dials, want %d", c.every, s.Dials, c.dials)
		}
		if want := float64(c.live) / float64(c.dials); math.Abs(s.LiveRate-want) > 1e-9 {
			t.Errorf("one dial in %d live: live rate %v, want %v", c.every, s.LiveRate, want)
		}
	}
}
