package fsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// A scenario file scripts a simulated switch for `kakeru fsim --scenario FILE`:
//
//	seed: 7                      # same seed, same fates in the same order of originates
//	heartbeat: 20s
//	rules:                       # first match on the dial string wins
//	  - match: "^loopback/agent-"
//	    answer: 1                # agents answer at once and stay
//	  - match: "0902[0-9]+"
//	    busy: 1
//	    failure_delay: {dist: fixed, value: 2s}
//	default:                     # every other number
//	  answer: 0.30               # probabilities; the rest ring until originate_timeout
//	  machine: 0.10
//	  busy: 0.10
//	  invalid: 0.05
//	  fail: 0.02                 # NORMAL_TEMPORARY_FAILURE
//	  silence: 0.02              # answered, nobody speaks (answer analysis: unsure)
//	  no_beep: 0.2               # share of machines without a beep after the greeting
//	  ring: {dist: lognormal, mean: 8s, cv: 0.5}
//	  talk: {dist: lognormal, mean: 60s, cv: 1.0}
//	  machine_talk: {dist: uniform, min: 12s, max: 22s}
//	  failure_delay: {dist: uniform, min: 1s, max: 4s}
//	  greeting: {dist: uniform, min: 400ms, max: 1200ms}       # a person's hello (default 600ms)
//	  machine_greeting: {dist: uniform, min: 3s, max: 8s}      # a machine's (default 4s)
//
// Durations are Go durations ("1.5s", "2m"). A fixed talk of 0 keeps answered calls up until
// the engine ends them.
type Scenario struct {
	Seed      uint64        `yaml:"seed"`
	Heartbeat time.Duration `yaml:"heartbeat"`
	Rules     []ScenarioMix `yaml:"rules"`
	Default   ScenarioMix   `yaml:"default"`
}

// ScenarioMix is one rule's fates.
type ScenarioMix struct {
	Match        string   `yaml:"match"`
	Answer       float64  `yaml:"answer"`
	Machine      float64  `yaml:"machine"`
	Busy         float64  `yaml:"busy"`
	Invalid      float64  `yaml:"invalid"`
	Fail         float64  `yaml:"fail"`
	Silence      float64  `yaml:"silence"`
	NoBeep       float64  `yaml:"no_beep"`
	Ring         yamlDist `yaml:"ring"`
	Talk         yamlDist `yaml:"talk"`
	MachineTalk  yamlDist `yaml:"machine_talk"`
	FailureDelay yamlDist `yaml:"failure_delay"`
	Greeting     yamlDist `yaml:"greeting"`
	MachineGreet yamlDist `yaml:"machine_greeting"`
}

type yamlDist struct {
	Dist  string        `yaml:"dist"`
	Value time.Duration `yaml:"value"`
	Min   time.Duration `yaml:"min"`
	Max   time.Duration `yaml:"max"`
	Mean  time.Duration `yaml:"mean"`
	CV    float64       `yaml:"cv"`
}

func (d yamlDist) dist() Dist {
	return Dist{Kind: d.Dist, Value: d.Value, Min: d.Min, Max: d.Max, Mean: d.Mean, CV: d.CV}
}

// LoadScenario reads and checks a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	sc, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return sc, nil
}

// ParseScenario decodes a scenario strictly: unknown keys are errors.
func ParseScenario(data []byte) (*Scenario, error) {
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil && !errors.Is(err, io.EOF) { // empty: the default scenario
		return nil, err
	}
	if _, err := sc.Script(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// Script builds the scenario's fates: each rule draws from its own stream seeded from Seed and
// its position, so adding a rule does not change the draws of the others.
func (sc *Scenario) Script() (Script, error) {
	mix := func(m ScenarioMix, i int, where string) (Script, error) {
		mx := Mix{Seed: sc.Seed*1_000_003 + uint64(i), Answer: m.Answer, Machine: m.Machine, Busy: m.Busy,
			Invalid: m.Invalid, Fail: m.Fail, Silence: m.Silence, NoBeep: m.NoBeep, Ring: m.Ring.dist(), Talk: m.Talk.dist(),
			MachineTalk: m.MachineTalk.dist(), FailureDelays: m.FailureDelay.dist(), Greeting: m.Greeting.dist(),
			MachineGreeting: m.MachineGreet.dist()}
		if err := mx.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return mx.Script(), nil
	}
	def := sc.Default
	if def == (ScenarioMix{}) {
		def = ScenarioMix{Answer: 1, Ring: yamlDist{Value: time.Second}, Talk: yamlDist{Value: 10 * time.Second}}
	}
	fallback, err := mix(def, 0, "default")
	if err != nil {
		return nil, err
	}
	rules := make([]Rule, 0, len(sc.Rules))
	for i, r := range sc.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		if r.Match == "" {
			return nil, fmt.Errorf("%s.match: required", where)
		}
		re, err := regexp.Compile(r.Match)
		if err != nil {
			return nil, fmt.Errorf("%s.match: %w", where, err)
		}
		s, err := mix(r, i+1, where)
		if err != nil {
			return nil, err
		}
		rules = append(rules, Rule{Match: re, Fates: s})
	}
	return Rules(fallback, rules...), nil
}
