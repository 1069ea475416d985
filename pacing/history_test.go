package pacing

import (
	"testing"
	"time"
)

// P-2: a record read back from the database replaces the windows; estimates stay learnt.
func TestReplaceCounts(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, tokyo)
	e := NewEstimator(tokyo)
	e.ObserveDial(DialResult{Outcome: Live, At: now.Add(-time.Minute), Ring: 5 * time.Second})
	e.ObserveAbandon(now.Add(-time.Minute))
	e.ObserveTalk(90 * time.Second)
	e.Settle()
	e.ReplaceCounts([]Count{
		{At: now.Add(-40 * 24 * time.Hour), Live: 100, Abandoned: 50}, // outside every window
		{At: now.Add(-48 * time.Hour), Live: 100, Abandoned: 1},       // 30 days only
		{At: now.Add(-11 * time.Hour), Live: 10, Abandoned: 1},        // yesterday in Tokyo, within 24 h
		{At: now.Add(-time.Hour), Live: 10, Abandoned: 0},
		{At: now, Live: -1}, // ignored
	})
	c := e.Compliance(now)
	if c.Day.Live != 10 || c.Day.Abandoned != 0 || c.Rolling24h.Live != 20 || c.Rolling24h.Abandoned != 1 ||
		c.Rolling30d.Live != 120 || c.Rolling30d.Abandoned != 2 {
		t.Fatalf("compliance %+v", c)
	}
	if s := e.Summary(); s.MeanTalk != 90*time.Second || s.Dials != 1 {
		t.Fatalf("estimates lost: %+v", s)
	}
	var nilEst *Estimator
	nilEst.ReplaceCounts([]Count{{At: now, Live: 1}})
}
