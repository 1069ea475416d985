package pacebench

import (
	"os"
	"strconv"
	"testing"

	"github.com/kakeru-dialer/kakeru/pacing"
)

func TestExpProfile(t *testing.T) {
	name := os.Getenv("EXP_SC")
	if name == "" {
		t.Skip()
	}
	sc, _ := Lookup(name)
	hours, _ := strconv.ParseFloat(os.Getenv("EXP_H"), 64)
	if hours > 0 {
		sc.ShiftHours = hours
	}
	st := runShift(&sc, 0, &decidePolicy{set: settings(&sc, pacing.Predictive)})
	t.Logf("kakeru %+v", st)
	tr := truth(&sc)
	st = runShift(&sc, 0, &oraclePolicy{set: settings(&sc, pacing.Predictive), theta: 0.015, truth: tr})
	t.Logf("oracle %+v", st)
}

func TestExpFixed(t *testing.T) {
	name := os.Getenv("EXP_FIX")
	if name == "" {
		t.Skip()
	}
	sc, _ := Lookup(name)
	sc.Shifts = 2
	for _, th := range []float64{0.005, 0.01, 0.02, 0.04, 0.08} {
		set := settings(&sc, pacing.Predictive)
		set.Tuning.Threshold = th
		set.Tuning.GainBase = 1e9
		set.Tuning.SpentSlack = 1e9
		var st []shiftStats
		for i := range sc.Shifts {
			st = append(st, runShift(&sc, i, &decidePolicy{set: set}))
		}
		r := row("k", &sc, st)
		t.Logf("theta %.3f occ %.1f ab %.2f", th, 100*r.Occupancy, 100*r.AbandonRate)
	}
}

type tracePolicy struct {
	set     pacing.Settings
	t       *testing.T
	reasons map[string]int
	last    float64
	dials   int
}

func (p *tracePolicy) period() float64 { return 1 }
func (p *tracePolicy) onReady() bool   { return true }
func (p *tracePolicy) decide(s *shift, _ bool) int {
	d := pacing.Decide(s.snapshot(p.set, s.est))
	if p.reasons == nil {
		p.reasons = map[string]int{}
	}
	p.reasons[d.Reason]++
	p.dials += d.Dial
	if d.Dial > 20 || (s.now > 1300 && s.now < 1500 && d.Dial > 0) {
		p.t.Logf("  t=%.1f ready=%d oncall=%d inflight=%d queue=%d dial=%d reason=%s ab=%d live=%d p=%.3f ring=%v talk=%v n=%d", s.now, s.ready(), s.onCall, len(s.calls), len(s.queue), d.Dial, d.Reason, s.st.Abandoned, s.st.Live, s.est.Summary().LiveRate, s.est.Summary().MeanRing, s.est.Summary().MeanTalk, s.est.Summary().Dials)
	}
	if s.now-p.last >= 300 {
		c := s.est.Compliance(s.at(s.now))
		p.t.Logf("t=%5.0f ready=%d inflight=%d dials=%d reasons=%v live=%d ab=%d budget=%.1f sum=%+v", s.now, s.ready(), len(s.calls), p.dials, p.reasons, c.Day.Live, c.Day.Abandoned, d.Budget, s.est.Summary())
		p.reasons = map[string]int{}
		p.dials = 0
		p.last = s.now
	}
	return d.Dial
}

func TestExpTrace(t *testing.T) {
	name := os.Getenv("EXP_TR")
	if name == "" {
		t.Skip()
	}
	sc, _ := Lookup(name)
	hours, _ := strconv.ParseFloat(os.Getenv("EXP_H"), 64)
	if hours > 0 {
		sc.ShiftHours = hours
	}
	runShift(&sc, 0, &tracePolicy{set: settings(&sc, pacing.Predictive), t: t})
}
