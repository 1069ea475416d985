package pacing

import (
	"errors"
	"time"
)

// Mode is a campaign's pacing mode (P-1).
type Mode string

// The pacing modes.
const (
	Progressive Mode = "progressive"
	Ratio       Mode = "ratio"
	Predictive  Mode = "predictive"
)

// ErrMode is returned by ParseMode for an unknown mode.
var ErrMode = errors.New("pacing mode must be progressive, ratio or predictive")

// ParseMode accepts "progressive", "ratio" and "predictive".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Progressive, Ratio, Predictive:
		return m, nil
	}
	return "", ErrMode
}

// Defaults used when a Settings field is zero or out of range.
const (
	DefaultTargetAbandonRate = 0.03
	DefaultMaxCallsPerAgent  = 3.0
	DefaultConnectDeadline   = 2 * time.Second
)

// maxPerAgent bounds Ratio and MaxCallsPerAgent.
const maxPerAgent = 1000

// Settings are a campaign's pacing settings.
type Settings struct {
	Mode Mode
	// Ratio is the ratio mode's number of calls per ready agent (1 to 1000).
	Ratio float64
	// MaxCallsPerAgent is the hard cap on calls in flight (ringing, classifying or waiting) per
	// logged-in agent that is not paused (at most 1000). Zero means DefaultMaxCallsPerAgent.
	MaxCallsPerAgent float64
	// TargetAbandonRate is the highest abandon rate allowed in any compliance window (P-2),
	// e.g. 0.03. Zero means DefaultTargetAbandonRate.
	TargetAbandonRate float64
	// ConnectDeadline: an answered live call not bridged within this is abandoned (G-2, P-2).
	// Zero means DefaultConnectDeadline.
	ConnectDeadline time.Duration
	// FalsePositiveRate is an estimate of the share of person answers that answer
	// classification takes for machines and hangs up on; 0 without classification. The
	// regulator counts them as abandoned (Ofcom) but the engine cannot see them, so the
	// predictive mode steers the recorded abandon rate to (target − f) ÷ (1 − f), which keeps
	// the rate over all persons at the target. Values outside [0, 1) count as 0.
	FalsePositiveRate float64
	// Tuning is the predictive mode's setting set; the zero value means DefaultTuning().
	Tuning Tuning
}

// Tuning is the predictive mode's setting set. One set is shared by every campaign; the zero
// value stands for DefaultTuning().
type Tuning struct {
	// Points is how many points of a new call's live-answer time distribution are assessed.
	Points int
	// Threshold is the starting highest accepted probability that a new call's live answer finds
	// no free agent; the feedback loop scales it within [MinThreshold, MaxThreshold].
	Threshold, MinThreshold, MaxThreshold float64
	// The feedback loop steers each window's abandons to an allowance: the target rate times
	// its live answers, less Margin standard deviations of the abandon count
	// (√(target·live answers)), and at least Setpoint times the target's allowance.
	Margin, Setpoint float64
	// Gain is the feedback's scale in abandons: the threshold is divided by e for every Gain
	// abandons over the allowance in the hottest window, where Gain = GainBase +
	// GainSqrt·√allowance.
	GainBase, GainSqrt float64
	// SpentSlack: when some window holds more than SpentSlack (plus GainSqrt·sqrt(target·live
	// answers + the unseen false positives' variance)) abandons above its target allowance the
	// mode dials progressively ("abandon_budget_spent").
	SpentSlack float64
	// Credit is the share of the live answers the rest of the day will bring (Snapshot.DayEnd),
	// at the rate the agents would take them dialing progressively, whose target allowance the
	// predictive mode may lend itself against the abandon budget (Decide: the budget's cover).
	Credit float64
	// GuardRisk is the chance the day-budget guard accepts that the calls in flight bring more
	// live answers than it counted on.
	GuardRisk float64
	// The cold start (progressive) lasts until MinDials dial outcomes and MinLive live answers
	// have been observed; busy agents are forecast to become free once MinSamples talk and
	// wrap-up times have been observed (counting those under way, which have lasted at least
	// their time so far, among the durations outlasting an agent's).
	MinDials, MinLive, MinSamples int
}

// DefaultTuning is the one setting set of the predictive mode, shared by every campaign.
func DefaultTuning() Tuning {
	return Tuning{
		Points:       5,
		Threshold:    0.02,
		MinThreshold: 0.002,
		MaxThreshold: 0.5,
		Margin:       1.5,
		Setpoint:     0.8,
		GainBase:     2,
		GainSqrt:     1.5,
		SpentSlack:   2,
		Credit:       0.7,
		GuardRisk:    1e-6,
		MinDials:     20,
		MinLive:      5,
		MinSamples:   5,
	}
}

func (s Settings) normalized() Settings {
	if s.MaxCallsPerAgent <= 0 || s.MaxCallsPerAgent != s.MaxCallsPerAgent {
		s.MaxCallsPerAgent = DefaultMaxCallsPerAgent
	}
	s.MaxCallsPerAgent = min(s.MaxCallsPerAgent, maxPerAgent)
	if s.TargetAbandonRate <= 0 || s.TargetAbandonRate >= 1 || s.TargetAbandonRate != s.TargetAbandonRate {
		s.TargetAbandonRate = DefaultTargetAbandonRate
	}
	if !(s.FalsePositiveRate >= 0 && s.FalsePositiveRate < 1) {
		s.FalsePositiveRate = 0
	}
	if s.ConnectDeadline <= 0 {
		s.ConnectDeadline = DefaultConnectDeadline
	}
	if !(s.Ratio >= 1) {
		s.Ratio = 1
	}
	s.Ratio = min(s.Ratio, maxPerAgent)
	if s.Tuning == (Tuning{}) {
		s.Tuning = DefaultTuning()
	}
	d := DefaultTuning()
	t := &s.Tuning
	if t.Points <= 0 || t.Points > 50 {
		t.Points = d.Points
	}
	if !(t.MinThreshold > 0) {
		t.MinThreshold = d.MinThreshold
	}
	if !(t.MaxThreshold >= t.MinThreshold) || t.MaxThreshold > 1 {
		t.MaxThreshold = d.MaxThreshold
	}
	if !(t.Threshold > 0) {
		t.Threshold = d.Threshold
	}
	if !(t.Setpoint > 0) || t.Setpoint > 1 {
		t.Setpoint = d.Setpoint
	}
	if !(t.Margin >= 0) {
		t.Margin = d.Margin
	}
	if !(t.GainBase > 0) {
		t.GainBase = d.GainBase
	}
	if !(t.GainSqrt >= 0) {
		t.GainSqrt = 0
	}
	if !(t.SpentSlack >= 0) {
		t.SpentSlack = d.SpentSlack
	}
	if !(t.Credit >= 0) || t.Credit > 1 {
		t.Credit = d.Credit
	}
	if !(t.GuardRisk > 0) || t.GuardRisk >= 1 {
		t.GuardRisk = d.GuardRisk
	}
	return s
}

// AgentState is a logged-in agent's state as pacing sees it (G-4: break and away are Paused).
type AgentState int

// Agent states.
const (
	Ready AgentState = iota
	OnCall
	WrapUp
	Paused
)

// Agent is one logged-in agent.
type Agent struct {
	State   AgentState
	InState time.Duration
}

// CallStage is the stage of a call in flight.
type CallStage int

// Call stages.
const (
	Ringing     CallStage = iota
	Classifying           // answered, answering-machine detection running
	Waiting               // live, waiting for an agent
)

// Call is one call in flight: placed and not yet bridged, abandoned or ended.
type Call struct {
	Stage   CallStage
	Elapsed time.Duration // since originate
	InStage time.Duration
}

// Snapshot is what the engine knows about a campaign at one instant.
type Snapshot struct {
	Now      time.Time
	Settings Settings
	Agents   []Agent
	Calls    []Call
	Stats    *Estimator // nil: cold start
	// DayEnd is when the campaign stops dialing today (the end of its calling hours); zero when
	// unknown. The predictive mode lends itself, against the abandon budget, a share of the live
	// answers the rest of the day will bring; without DayEnd it lends nothing.
	DayEnd time.Time
	// Exposure is the campaign's calls in flight elsewhere (other switch nodes, other jobs) that
	// no ready agent there covers: they draw on the same abandon budget.
	Exposure int
}

// Decision is how many calls to place now and why.
type Decision struct {
	Dial int
	// Reason is short and machine-readable: "no_agents", "at_cap", "progressive", "ratio",
	// "cold_start", "abandon_budget_spent", "abandon_budget_low" (predictive, held to what the
	// day's abandon budget covers) or "predictive".
	Reason string
	// Budget is the abandon allowance left, in calls: the smallest, over the compliance windows
	// (calendar day, rolling 24 h, rolling 30 days), of target rate × live answers − abandons,
	// where the target is that of the recorded abandons, less Settings.FalsePositiveRate.
	// Negative means some window is over its target. Zero without statistics.
	Budget float64
}
