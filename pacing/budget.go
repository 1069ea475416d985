package pacing

// Allowance is what one compliance window can still absorb (P-2).
type Allowance struct {
	Live, Abandoned int
	// Remaining is RecordedTarget × Live − Abandoned: how many more recorded abandons the window
	// takes before its rate, with the estimated false positives counted as abandoned, goes over
	// the target. Negative when it is over already. Every live answer adds RecordedTarget.
	Remaining float64
}

// AbandonBudget is a campaign's abandon budget per compliance window (P-2).
type AbandonBudget struct {
	// Target is the campaign's target abandon rate; RecordedTarget the rate the recorded
	// abandons are held to: the target less the estimated false positives of answer
	// classification, (target − f) ÷ (1 − f).
	Target, RecordedTarget      float64
	Day, Rolling24h, Rolling30d Allowance
	// Remaining is the smallest of the three windows' Remaining.
	Remaining float64
}

// AbandonBudget returns the budget the compliance record c leaves under s's target.
func (s Settings) AbandonBudget(c Compliance) AbandonBudget {
	set := s.normalized()
	t := set.recordedTarget()
	allow := func(w Window) Allowance {
		return Allowance{Live: w.Live, Abandoned: w.Abandoned, Remaining: t*float64(w.Live) - float64(w.Abandoned)}
	}
	b := AbandonBudget{Target: set.TargetAbandonRate, RecordedTarget: t,
		Day: allow(c.Day), Rolling24h: allow(c.Rolling24h), Rolling30d: allow(c.Rolling30d)}
	b.Remaining = min(b.Day.Remaining, b.Rolling24h.Remaining, b.Rolling30d.Remaining)
	return b
}
