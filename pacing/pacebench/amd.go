package pacebench

import (
	"errors"
	"fmt"

	"github.com/kakeru-dialer/kakeru/pacing"
)

// AMD is the scenario's answer classification, as the engine runs it (issue 15): a detector on
// the switch gives a verdict on every answer and the engine acts on it. Times are seconds from
// the answer; shares are fractions. The shares are model assumptions, not measurements.
type AMD struct {
	// Greeting is a person's greeting; the detector calls an answer human once HumanSilence of
	// silence follows it (campaign setting answer_analysis.human_silence).
	Greeting     Dist    `yaml:"greeting"`
	HumanSilence float64 `yaml:"human_silence"`
	// TimeLimit bounds classification (answer_analysis.time_limit): a machine whose beep has not
	// come by then is called a machine at the limit (its greeting is still going), an answer
	// with no verdict by then is unsure and treated as a person.
	TimeLimit float64 `yaml:"time_limit"`
	// Beep is when a machine's beep comes; the machine verdict comes at min(Beep, TimeLimit).
	Beep Dist `yaml:"beep"`
	// Unsure is the share of person answers with no verdict (silence, a person who does not
	// speak): classified at the time limit, then put through like a person.
	Unsure float64 `yaml:"unsure"`
	// FalsePositive is the share of person answers taken for a machine (at the time limit): the
	// engine hangs up on them, and the regulator counts them as abandoned.
	FalsePositive float64 `yaml:"false_positive"`
	// Hangup is the share of person answers who hang up during classification, at a uniform
	// point of it: the engine counts them as live answers abandoned.
	Hangup float64 `yaml:"hangup"`
	// FalseNegative is the share of machine answers taken for a person (after a person's
	// classification time): put through to an agent like a person, they hold the agent for
	// MachineHold (the agent hears the greeting and hangs up), then wrap up.
	FalseNegative float64 `yaml:"false_negative"`
	MachineHold   Dist    `yaml:"machine_hold"`
}

// DefaultAMD is the engine's model with the avmd detector's defaults: a greeting of 0.7 s on
// average plus 0.8 s of silence (a human verdict after about 1.5 s, as the old amd_delay), a 3 s
// time limit, beeps from 4 to 20 s after the answer, 5% of persons unsure, 1% taken for
// machines, none hanging up, 5% of machines taken for persons and holding an agent 15 s.
func DefaultAMD() AMD {
	return AMD{
		Greeting:      Dist{Dist: "lognormal", Mean: 0.7, CV: 0.4},
		HumanSilence:  0.8,
		TimeLimit:     3,
		Beep:          Dist{Dist: "uniform", Min: 4, Max: 20},
		Unsure:        0.05,
		FalsePositive: 0.01,
		FalseNegative: 0.05,
		MachineHold:   Dist{Dist: "lognormal", Mean: 15, CV: 0.5},
	}
}

func (a AMD) validate() error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("amd.%s: %s", key, msg)) }
	for _, d := range []struct {
		k string
		d Dist
	}{{"greeting", a.Greeting}, {"beep", a.Beep}, {"machine_hold", a.MachineHold}} {
		if err := d.d.validate("amd." + d.k); err != nil {
			errs = append(errs, err)
		}
	}
	if !(a.HumanSilence >= 0) {
		bad("human_silence", "must be ≥ 0")
	}
	if !(a.TimeLimit > 0) {
		bad("time_limit", "must be > 0")
	}
	for _, r := range []struct {
		k string
		x float64
	}{{"unsure", a.Unsure}, {"false_positive", a.FalsePositive}, {"hangup", a.Hangup}, {"false_negative", a.FalseNegative}} {
		if !(r.x >= 0 && r.x <= 1) {
			bad(r.k, "must be in [0, 1]")
		}
	}
	if a.Unsure+a.FalsePositive+a.Hangup > 1 {
		bad("unsure", "unsure + false_positive + hangup must be ≤ 1")
	}
	return errors.Join(errs...)
}

// verdict is what classification makes of an answer.
type verdict uint8

const (
	vHuman         verdict = iota // a person called human, or unsure: put through
	vMachine                      // a machine called machine: hung up
	vFalsePositive                // a person called machine: hung up, an abandon
	vFalseNegative                // a machine called human: put through like a person
	vHangup                       // a person who hung up before the verdict: an abandon
)

// person tells whether the answer was a person's.
func (v verdict) person() bool { return v == vHuman || v == vFalsePositive || v == vHangup }

// outcome is the dial's outcome as the engine records it.
func (v verdict) outcome() pacing.Outcome {
	if v == vMachine || v == vFalsePositive {
		return pacing.Machine
	}
	return pacing.Live
}

// amdDraws are one dial's classification draws, from their own stream so that the other draws
// of a fate are those of the fixed-delay model.
type amdDraws struct {
	a, h, greeting, beep, hold float64
}

// classify returns the verdict on an answer (by a person or a machine) and its time after the
// answer, in seconds.
func (sc *Scenario) classify(d *amdDraws, person bool) (verdict, float64) {
	if sc.AMDDelay != nil {
		if person {
			return vHuman, *sc.AMDDelay
		}
		return vMachine, *sc.AMDDelay
	}
	m := &sc.AMD
	human := min(d.greeting+m.HumanSilence, m.TimeLimit)
	if !person {
		if d.a < m.FalseNegative {
			return vFalseNegative, human
		}
		return vMachine, min(d.beep, m.TimeLimit)
	}
	switch {
	case d.a < m.FalsePositive:
		return vFalsePositive, m.TimeLimit
	case d.a < m.FalsePositive+m.Hangup:
		return vHangup, d.h * human
	case d.a < m.FalsePositive+m.Hangup+m.Unsure:
		return vHuman, m.TimeLimit
	}
	return vHuman, human
}
