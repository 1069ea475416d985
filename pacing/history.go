package pacing

import "time"

// Count is live answers and abandons observed elsewhere (other engine instances, earlier runs),
// counted at At.
type Count struct {
	At              time.Time
	Live, Abandoned int
}

// ReplaceCounts makes counts the estimator's compliance record (P-2): the day, 24-hour and
// 30-day windows are emptied and refilled from counts; the answer-rate and duration estimates
// are kept. The engine calls it with the campaign's record as the database holds it, which
// every engine instance writes to, so a campaign dialed from several places is paced on its
// whole abandon record.
func (e *Estimator) ReplaceCounts(counts []Count) {
	if e == nil {
		return
	}
	m, h := len(e.minutes.key), len(e.hours.key)
	e.minutes, e.hours = buckets{}, buckets{}
	e.minutes.init(m, minuteSec)
	e.hours.init(h, hourSec)
	e.day, e.dayLive, e.dayAbandoned = 0, 0, 0
	for _, c := range counts {
		if c.Live < 0 || c.Abandoned < 0 {
			continue
		}
		e.count(c.At, c.Live, c.Abandoned)
	}
}

// Settle takes every held-back dial outcome into the estimates. ObserveDial holds an outcome
// back until the dials placed before it have had time to end; a record of past calls, all
// ended, needs no such wait: feed it oldest first, then Settle.
func (e *Estimator) Settle() {
	if e == nil {
		return
	}
	for len(e.pending.h) > 0 {
		e.dials.add(e.pending.pop().r)
	}
}
