package pacing_test

import (
	"math"
	"testing"

	"github.com/kakeru-dialer/kakeru/pacing"
)

// P-2: the budget is the recorded abandons each window can still take, the smallest over them.
func TestAbandonBudget(t *testing.T) {
	set := pacing.Settings{TargetAbandonRate: 0.03, FalsePositiveRate: 0.01}
	b := set.AbandonBudget(pacing.Compliance{
		Day:        pacing.Window{Live: 1000, Abandoned: 10},
		Rolling24h: pacing.Window{Live: 1200, Abandoned: 12},
		Rolling30d: pacing.Window{Live: 30000, Abandoned: 500},
	})
	rt := (0.03 - 0.01) / 0.99
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	if !near(b.RecordedTarget, rt) || b.Target != 0.03 {
		t.Fatalf("targets %v %v", b.Target, b.RecordedTarget)
	}
	if !near(b.Day.Remaining, rt*1000-10) || !near(b.Rolling24h.Remaining, rt*1200-12) ||
		!near(b.Rolling30d.Remaining, rt*30000-500) {
		t.Fatalf("allowances %+v", b)
	}
	if !near(b.Remaining, rt*1000-10) {
		t.Fatalf("remaining %v, want the day's", b.Remaining)
	}
	// An empty record has nothing to spend; defaults apply to zero settings.
	if z := (pacing.Settings{}).AbandonBudget(pacing.Compliance{}); z.Remaining != 0 || z.Target != pacing.DefaultTargetAbandonRate {
		t.Fatalf("empty: %+v", z)
	}
}
