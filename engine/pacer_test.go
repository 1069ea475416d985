package engine

import (
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// P-4: an engine that starts learns the campaign's latest ended dials as if it had seen them:
// answers with their ring times, talk and wrap-up times; calls it cancelled teach nothing.
func TestLearnFromRecentDials(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	at := func(s int) *time.Time { v := t0.Add(time.Duration(s) * time.Second); return &v }
	wrap := 20 * time.Second
	dials := []store.EndedDial{
		{Outcome: "connected", StartedAt: t0, AnsweredAt: at(6), BridgedAt: at(7), EndedAt: *at(67), WrapUp: &wrap},
		{Outcome: "abandoned", StartedAt: t0, AnsweredAt: at(10), EndedAt: *at(13)},
		{Outcome: "no_answer", StartedAt: t0, EndedAt: *at(25)},
		{Outcome: "busy", StartedAt: t0, EndedAt: *at(2)},
		{Outcome: "cancelled", StartedAt: t0, EndedAt: *at(3)},
	}
	est := pacing.NewEstimator(time.UTC)
	learn(est, dials)
	s := est.Summary()
	if s.Dials != 4 || s.LiveRate != 0.5 || s.MeanRing != 8*time.Second || s.MeanTalk != 60*time.Second ||
		s.MeanWrap != 20*time.Second {
		t.Fatalf("summary %+v", s)
	}
}
