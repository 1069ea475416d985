package pacing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkDecide is the predictive decision the engine makes every pass of a running job
// (100 ms) for each switch node: agents mostly busy, calls in flight in every stage, a day's
// record under way and the calling day's end set, so the look-ahead and the day-budget guard
// both run.
func BenchmarkDecide(b *testing.B) {
	for _, agents := range []int{20, 100} {
		b.Run(fmt.Sprintf("agents=%d", agents), func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 8))
			now := time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)
			e := warmEstimator(r, now.Add(-time.Hour))
			s := Snapshot{Now: now, DayEnd: now.Add(2 * time.Hour), Settings: Settings{Mode: Predictive}, Stats: e}
			for i := range agents {
				st := OnCall
				switch i % 10 {
				case 0:
					st = Ready
				case 1:
					st = WrapUp
				}
				s.Agents = append(s.Agents, Agent{State: st, InState: time.Duration(r.IntN(300)) * time.Second})
			}
			for i := range agents / 2 {
				el := time.Duration(r.IntN(20000)) * time.Millisecond
				s.Calls = append(s.Calls, Call{Stage: CallStage(i % 3), Elapsed: el, InStage: el / 3})
			}
			b.ReportAllocs()
			for b.Loop() {
				Decide(s)
			}
		})
	}
}
