package pacebench

import "math"

// Vicidial is VICIdial's ADAPT_HARD_LIMIT dial-level rule as docs/pacing.md restates it, with the
// defaults: dial-level difference target 0, intensity 0, maximum level 3.0, drop limit 3%.
type Vicidial struct {
	Level float64
	// Hold is set while today's drop rate was over the limit at the last minute check: the level
	// stays 1.0 and the 15 s adaptation does not raise it.
	Hold bool

	sumReady, sumWaiting, sumTotal float64
	samples                        int
}

// Vicidial's defaults.
const (
	VicidialMaxLevel   = 3.0
	VicidialDropLimit  = 0.03
	VicidialDiffTarget = 0.0
)

// NewVicidial starts at level 1.0.
func NewVicidial() *Vicidial { return &Vicidial{Level: 1} }

// Sample is the once-a-second sample of ready agents, live calls waiting for an agent and
// logged-in agents.
func (v *Vicidial) Sample(ready, waiting, total int) {
	v.sumReady += float64(ready)
	v.sumWaiting += float64(waiting)
	v.sumTotal += float64(total)
	v.samples++
}

// Adapt is the 15 s update: m = (mean ready − mean waiting + diff target) / mean total,
// level = clamp(level × (1 + m), 1, 3); the samples start again.
func (v *Vicidial) Adapt() {
	if v.samples > 0 && v.sumTotal > 0 && !v.Hold {
		n := float64(v.samples)
		m := (v.sumReady/n - v.sumWaiting/n + VicidialDiffTarget) / (v.sumTotal / n)
		v.Level = min(max(v.Level*(1+m), 1), VicidialMaxLevel)
	}
	v.sumReady, v.sumWaiting, v.sumTotal, v.samples = 0, 0, 0, 0
}

// Check is the 60 s check: more than 20 calls in the last minute with over half dropped halves
// the level; today's calls over 50 with a drop rate (drops ÷ live answers) over 3% set it to
// 1.0 and hold it there until a later check finds the rate back under the limit.
func (v *Vicidial) Check(callsMinute, dropsMinute, callsToday, dropsToday, answersToday int) {
	if callsMinute > 20 && 2*dropsMinute > callsMinute {
		v.Level = max(1, v.Level/2)
	}
	v.Hold = false
	if callsToday > 50 && answersToday > 0 && float64(dropsToday)/float64(answersToday) > VicidialDropLimit {
		v.Level, v.Hold = 1, true
	}
}

// Dials is the 2.5 s dial step: round(level × (ready + in call)) − calls in progress, where
// calls in progress are those ringing, being classified, waiting, or talking to an agent.
func (v *Vicidial) Dials(ready, inCall, inProgress int) int {
	return max(0, int(math.Round(v.Level*float64(ready+inCall)))-inProgress)
}

// vicidialPolicy drives Vicidial in the simulation on a 0.5 s clock.
type vicidialPolicy struct {
	v                    *Vicidial
	ticks                int
	lastDials, lastDrops int
}

func (p *vicidialPolicy) period() float64 { return 0.5 }
func (p *vicidialPolicy) onReady() bool   { return false }
func (p *vicidialPolicy) decide(s *shift) int {
	p.ticks++
	ready := s.ready()
	if p.ticks%2 == 0 {
		p.v.Sample(ready, len(s.queue), s.loggedIn())
	}
	if p.ticks%30 == 0 {
		p.v.Adapt()
	}
	if p.ticks%120 == 0 {
		p.v.Check(s.st.Dials-p.lastDials, s.st.RecAbandoned-p.lastDrops, s.st.Dials, s.st.RecAbandoned, s.st.RecLive)
		p.lastDials, p.lastDrops = s.st.Dials, s.st.RecAbandoned
	}
	if p.ticks%5 == 0 {
		return p.v.Dials(ready, s.onCall, len(s.calls)+s.onCall)
	}
	return 0
}
