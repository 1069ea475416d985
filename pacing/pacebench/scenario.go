package pacebench

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kakeru-dialer/kakeru/pacing/scenarios"
)

// Dist is a duration distribution of a scenario file, in seconds.
type Dist struct {
	Dist    string    `yaml:"dist"` // fixed | uniform | exponential | lognormal | empirical
	Value   float64   `yaml:"value"`
	Min     float64   `yaml:"min"`
	Max     float64   `yaml:"max"`
	Mean    float64   `yaml:"mean"`
	CV      float64   `yaml:"cv"`
	Samples []float64 `yaml:"samples"`
}

// Sample draws one value (never negative).
func (d Dist) Sample(r *rand.Rand) float64 {
	var x float64
	switch d.Dist {
	case "fixed":
		x = d.Value
	case "uniform":
		x = d.Min + r.Float64()*(d.Max-d.Min)
	case "exponential":
		x = r.ExpFloat64() * d.Mean
	case "lognormal":
		s2 := math.Log1p(d.CV * d.CV)
		mu := math.Log(d.Mean) - s2/2
		x = math.Exp(mu + math.Sqrt(s2)*r.NormFloat64())
	case "empirical":
		x = d.Samples[r.IntN(len(d.Samples))]
	}
	return max(x, 0)
}

func (d Dist) validate(key string) error {
	bad := func(msg string) error { return fmt.Errorf("%s: %s", key, msg) }
	switch d.Dist {
	case "fixed":
		if !(d.Value >= 0) {
			return bad("value must be ≥ 0")
		}
	case "uniform":
		if !(d.Min >= 0 && d.Max >= d.Min) {
			return bad("need 0 ≤ min ≤ max")
		}
	case "exponential":
		if !(d.Mean > 0) {
			return bad("mean must be > 0")
		}
	case "lognormal":
		if !(d.Mean > 0 && d.CV > 0) {
			return bad("mean and cv must be > 0")
		}
	case "empirical":
		if len(d.Samples) == 0 || slices.ContainsFunc(d.Samples, func(x float64) bool { return !(x >= 0) }) {
			return bad("samples must be a non-empty list of values ≥ 0")
		}
	default:
		return bad("dist must be fixed, uniform, exponential, lognormal or empirical")
	}
	return nil
}

// Step is a change of the live-answer rate during each shift.
type Step struct {
	AtHour  float64 `yaml:"at_hour"`
	HitRate float64 `yaml:"hit_rate"`
}

// MachineStep is a change of the machine-answer rate during each shift.
type MachineStep struct {
	AtHour      float64 `yaml:"at_hour"`
	MachineRate float64 `yaml:"machine_rate"`
}

// AgentStep is a change of the number of agents logged in during each shift: agents above the
// new number log out (the ready ones at once, the busy ones once their wrap-up ends); agents
// below it log in, ready.
type AgentStep struct {
	AtHour float64 `yaml:"at_hour"`
	Agents int     `yaml:"agents"`
}

// Scenario is one scenario file (docs/pacing.md). Durations are in seconds.
type Scenario struct {
	Name            string  `yaml:"name"`
	Agents          int     `yaml:"agents"`
	Shifts          int     `yaml:"shifts"`
	ShiftHours      float64 `yaml:"shift_hours"`
	Seed            uint64  `yaml:"seed"`
	HitRate         float64 `yaml:"hit_rate"`
	HitRateSchedule []Step  `yaml:"hit_rate_schedule"`
	MachineRate     float64 `yaml:"machine_rate"`
	// MachineRateSchedule and AgentSchedule change the machine-answer rate and the agents
	// logged in during each shift, as HitRateSchedule does the live-answer rate.
	MachineRateSchedule []MachineStep `yaml:"machine_rate_schedule"`
	AgentSchedule       []AgentStep   `yaml:"agents_schedule"`
	MachineAnswer       Dist          `yaml:"machine_answer"`
	// AMDDelay, when the file sets it, is the old fixed model: every answer is classified
	// correctly after AMDDelay seconds. Otherwise AMD holds the engine's model.
	AMDDelay          *float64 `yaml:"amd_delay"`
	AMD               AMD      `yaml:"amd"`
	FailShare         float64  `yaml:"fail_share"`
	FailTime          Dist     `yaml:"fail_time"`
	NoAnswerTimeout   float64  `yaml:"no_answer_timeout"`
	Ring              Dist     `yaml:"ring"`
	Talk              Dist     `yaml:"talk"`
	Wrap              Dist     `yaml:"wrap"`
	ConnectDeadline   float64  `yaml:"connect_deadline"`
	TargetAbandonRate float64  `yaml:"target_abandon_rate"`
}

// Defaults is the scenario a file's keys override: docs/pacing.md's example.
func Defaults() Scenario {
	return Scenario{
		Agents: 20, Shifts: 8, ShiftHours: 8, Seed: 1,
		HitRate: 0.30, MachineRate: 0.15,
		MachineAnswer:   Dist{Dist: "uniform", Min: 12, Max: 22},
		AMD:             DefaultAMD(),
		FailShare:       0.30,
		FailTime:        Dist{Dist: "uniform", Min: 2, Max: 6},
		NoAnswerTimeout: 25,
		Ring:            Dist{Dist: "lognormal", Mean: 10, CV: 0.5},
		Talk:            Dist{Dist: "lognormal", Mean: 180, CV: 1.0},
		Wrap:            Dist{Dist: "lognormal", Mean: 10, CV: 0.5},
		ConnectDeadline: 2, TargetAbandonRate: 0.03,
	}
}

// Parse reads a scenario file; keys it does not set keep Defaults() (in the amd block too).
func Parse(data []byte) (Scenario, error) {
	sc := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return sc, err
	}
	var keys map[string]any
	if err := yaml.Unmarshal(data, &keys); err != nil {
		return sc, err
	}
	if _, ok := keys["amd"]; ok && sc.AMDDelay != nil {
		return sc, errors.New("amd_delay: the fixed delay and the amd block exclude each other")
	}
	return sc, sc.Validate()
}

// Validate checks the scenario's keys.
func (sc Scenario) Validate() error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("%s: %s", key, msg)) }
	if sc.Name == "" {
		bad("name", "required")
	}
	if sc.Agents < 1 || sc.Agents > 10000 {
		bad("agents", "must be in [1, 10000]")
	}
	if sc.Shifts < 1 || sc.Shifts > 1000 {
		bad("shifts", "must be in [1, 1000]")
	}
	if !(sc.ShiftHours > 0 && sc.ShiftHours <= 24) {
		bad("shift_hours", "must be in (0, 24]")
	}
	rate := func(key string, x float64) {
		if !(x >= 0 && x <= 1) {
			bad(key, "must be in [0, 1]")
		}
	}
	rate("hit_rate", sc.HitRate)
	rate("machine_rate", sc.MachineRate)
	rate("fail_share", sc.FailShare)
	steps := []float64{0}
	order := func(k string, i int, at, prev float64) {
		if !(at >= 0) || (i > 0 && at < prev) {
			bad(k+".at_hour", "must be ≥ 0 and not before the previous step")
		}
		steps = append(steps, at*3600)
	}
	for i, st := range sc.HitRateSchedule {
		k := fmt.Sprintf("hit_rate_schedule[%d]", i)
		rate(k+".hit_rate", st.HitRate)
		order(k, i, st.AtHour, sc.HitRateSchedule[max(i-1, 0)].AtHour)
	}
	for i, st := range sc.MachineRateSchedule {
		k := fmt.Sprintf("machine_rate_schedule[%d]", i)
		rate(k+".machine_rate", st.MachineRate)
		order(k, i, st.AtHour, sc.MachineRateSchedule[max(i-1, 0)].AtHour)
	}
	for i, st := range sc.AgentSchedule {
		k := fmt.Sprintf("agents_schedule[%d]", i)
		if st.Agents < 0 || st.Agents > 10000 {
			bad(k+".agents", "must be in [0, 10000]")
		}
		order(k, i, st.AtHour, sc.AgentSchedule[max(i-1, 0)].AtHour)
	}
	for _, t := range steps {
		if sc.hitRate(t)+sc.machineRate(t) > 1 {
			bad("machine_rate", fmt.Sprintf("hit_rate + machine_rate must be ≤ 1 (at hour %g)", t/3600))
			break
		}
	}
	for _, d := range []struct {
		k string
		d Dist
	}{{"machine_answer", sc.MachineAnswer}, {"fail_time", sc.FailTime}, {"ring", sc.Ring}, {"talk", sc.Talk}, {"wrap", sc.Wrap}} {
		if err := d.d.validate(d.k); err != nil {
			errs = append(errs, err)
		}
	}
	if sc.AMDDelay != nil {
		if !(*sc.AMDDelay >= 0) {
			bad("amd_delay", "must be ≥ 0")
		}
	} else {
		errs = append(errs, sc.AMD.validate())
	}
	if !(sc.NoAnswerTimeout > 0) {
		bad("no_answer_timeout", "must be > 0")
	}
	if !(sc.ConnectDeadline >= 0) {
		bad("connect_deadline", "must be ≥ 0")
	}
	if !(sc.TargetAbandonRate > 0 && sc.TargetAbandonRate < 1) {
		bad("target_abandon_rate", "must be in (0, 1)")
	}
	return errors.Join(errs...)
}

// stepped is the value at t seconds into a shift of a scheduled key: initial, then that of
// each step whose hour has come.
func stepped[S any, V any](t float64, initial V, steps []S, step func(S) (float64, V)) V {
	v := initial
	for _, st := range steps {
		if at, x := step(st); t >= at*3600 {
			v = x
		}
	}
	return v
}

// hitRate is the live-answer rate at t seconds into a shift.
func (sc *Scenario) hitRate(t float64) float64 {
	return stepped(t, sc.HitRate, sc.HitRateSchedule, func(s Step) (float64, float64) { return s.AtHour, s.HitRate })
}

// machineRate is the machine-answer rate at t seconds into a shift.
func (sc *Scenario) machineRate(t float64) float64 {
	return stepped(t, sc.MachineRate, sc.MachineRateSchedule, func(s MachineStep) (float64, float64) { return s.AtHour, s.MachineRate })
}

// agentsAt is the number of agents logged in from t seconds into a shift.
func (sc *Scenario) agentsAt(t float64) int {
	return stepped(t, sc.Agents, sc.AgentSchedule, func(s AgentStep) (float64, int) { return s.AtHour, s.Agents })
}

// maxAgents is the most agents logged in at once.
func (sc *Scenario) maxAgents() int {
	n := sc.Agents
	for _, st := range sc.AgentSchedule {
		n = max(n, st.Agents)
	}
	return n
}

// Standard returns the embedded scenarios (S1 … S12), in order.
func Standard() ([]Scenario, error) {
	names, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(names, func(a, b string) int { // S2 before S10
		return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
	})
	var out []Scenario
	for _, n := range names {
		sc, err := Lookup(strings.TrimSuffix(n, ".yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// Lookup returns the embedded scenario of that name (S1 … S12).
func Lookup(name string) (Scenario, error) {
	data, err := scenarios.FS.ReadFile(path.Clean(name) + ".yaml")
	if err != nil {
		return Scenario{}, fmt.Errorf("no standard scenario %q", name)
	}
	sc, err := Parse(data)
	if err != nil {
		return sc, fmt.Errorf("scenario %s: %w", name, err)
	}
	return sc, nil
}
