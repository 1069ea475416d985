package fsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"
)

// Fate is what happens to one originate.
type Fate struct {
	// Answer: the far end answers after Ring (unless the originate's originate_timeout ends
	// the ringing first: NO_ANSWER, as FreeSWITCH does).
	Answer bool
	// Voice is who answers, as answer analysis hears it (analysis.go): a Person says hello
	// for Greeting (default 600 ms) and is then silent; a Machine plays its greeting for
	// Greeting (default 4 s), then, with Beep, a 500 ms beep BeepAfter later, then records in
	// silence; Silence: nobody speaks. wait_for_silence, detect_audio / detect_silence, mod_avmd
	// (avmd::beep) and an amd application give what they would give for that sound.
	Voice     Voice
	Greeting  time.Duration
	Beep      bool
	BeepAfter time.Duration
	Ring      time.Duration // until the answer or the failure
	Talk      time.Duration // an answered far end hangs up by itself after this; 0 stays up
	// HangupAtAnswer: the far end hangs up at the instant it answers (zero talk time):
	// CHANNEL_ANSWER, the hangup events, then the originate's -ERR NORMAL_CLEARING, as the
	// lab switch's loopback customers do (capture 11); a command that comes after finds no
	// channel.
	HangupAtAnswer bool
	// HangupOnBridge: the far end hangs up at the instant a uuid_bridge naming its channel is
	// accepted, so the bridge is set up with a leg that is no longer ready and the switch hangs
	// up the other leg with DESTINATION_OUT_OF_ORDER (Options.BridgeSetup).
	HangupOnBridge bool
	// Cause ends an unanswered call (default NO_ANSWER, which rings until originate_timeout
	// when Ring is 0). USER_BUSY, UNALLOCATED_NUMBER, CALL_REJECTED, … end it after Ring.
	Cause string
	// Early: the call fails before a channel exists (no route, gateway down): the only trace
	// is the BACKGROUND_JOB -ERR Cause, as with a real switch.
	Early bool
}

// Voice is who or what answers a call.
type Voice int

// The voices of an answer.
const (
	Person  Voice = iota // says hello, then listens
	Machine              // a greeting, maybe a beep, then silence
	Silence              // nobody speaks
)

// Default greetings: a person's "hello?" and an answering machine's message.
const (
	DefaultPersonGreeting  = 600 * time.Millisecond
	DefaultMachineGreeting = 4 * time.Second
	beepLength             = 500 * time.Millisecond // the lab machine's 1000 Hz beep
)

// speech is the fate's sound after the answer: loud from 0 to greeting, and during the beep.
func (f Fate) speech() (greeting, beepAt time.Duration) {
	switch f.Voice {
	case Silence:
		return 0, -1
	case Machine:
		greeting = cmpDur(f.Greeting, DefaultMachineGreeting)
		if f.Beep {
			return greeting, greeting + f.BeepAfter
		}
		return greeting, -1
	}
	return cmpDur(f.Greeting, DefaultPersonGreeting), -1
}

// loud tells whether the far end makes sound at d after the answer.
func (f Fate) loud(d time.Duration) bool {
	greeting, beepAt := f.speech()
	return d >= 0 && d < greeting || beepAt >= 0 && d >= beepAt && d < beepAt+beepLength
}

func cmpDur(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// Script decides the fate of a dial string. It is called once per originate, in the order the
// switch receives them.
type Script func(dialString string) Fate

// Answering is the default script: every call answers after ring and hangs up after talk.
func Answering(ring, talk time.Duration) Script {
	return func(string) Fate { return Fate{Answer: true, Ring: ring, Talk: talk} }
}

// Rule gives the fates of the dial strings its pattern matches.
type Rule struct {
	Match *regexp.Regexp
	Fates Script
}

// Rules is a script that takes the first matching rule, else fallback.
func Rules(fallback Script, rules ...Rule) Script {
	return func(dial string) Fate {
		for _, r := range rules {
			if r.Match.MatchString(dial) {
				return r.Fates(dial)
			}
		}
		return fallback(dial)
	}
}

// Dist is a duration distribution.
type Dist struct {
	Kind     string        // fixed, uniform, exponential, lognormal
	Value    time.Duration // fixed
	Min, Max time.Duration // uniform
	Mean     time.Duration // exponential, lognormal
	CV       float64       // lognormal: standard deviation ÷ mean
}

// Validate reports a distribution that cannot be sampled.
func (d Dist) Validate() error {
	switch d.Kind {
	case "", "fixed":
		if d.Value < 0 {
			return fmt.Errorf("fixed value %s is negative", d.Value)
		}
	case "uniform":
		if d.Min < 0 || d.Max < d.Min {
			return fmt.Errorf("uniform needs 0 ≤ min ≤ max (min %s, max %s)", d.Min, d.Max)
		}
	case "exponential":
		if d.Mean <= 0 {
			return fmt.Errorf("exponential needs a positive mean")
		}
	case "lognormal":
		if d.Mean <= 0 || d.CV < 0 {
			return fmt.Errorf("lognormal needs a positive mean and cv ≥ 0")
		}
	default:
		return fmt.Errorf("unknown distribution %q (fixed, uniform, exponential, lognormal)", d.Kind)
	}
	return nil
}

func (d Dist) sample(r *rand.Rand) time.Duration {
	switch d.Kind {
	case "uniform":
		return d.Min + time.Duration(r.Float64()*float64(d.Max-d.Min))
	case "exponential":
		return time.Duration(r.ExpFloat64() * float64(d.Mean))
	case "lognormal":
		s2 := math.Log(1 + d.CV*d.CV)
		mu := math.Log(float64(d.Mean)) - s2/2
		return time.Duration(math.Exp(mu + math.Sqrt(s2)*r.NormFloat64()))
	}
	return d.Value
}

// Mix draws fates from probabilities: a dial is answered by a person with probability Answer,
// by a machine with Machine, is busy with Busy, an invalid number with Invalid, fails in the
// network with Fail, is answered by nobody who speaks with Silence; the rest ring until
// originate_timeout. Machines beep after their greeting, but for the share NoBeep of them. The
// same seed gives the same fates in the same order of originates (fixed greetings and NoBeep 0
// draw nothing, so they leave the draws of older scenarios alone).
type Mix struct {
	Seed                                          uint64
	Answer, Machine, Busy, Invalid, Fail, Silence float64
	NoBeep                                        float64
	Ring, Talk, MachineTalk, FailureDelays        Dist
	Greeting, MachineGreeting                     Dist // default 600 ms and 4 s
}

// Validate reports probabilities outside [0,1], a sum above 1, or a bad distribution.
func (m Mix) Validate() error {
	sum := 0.0
	if m.NoBeep < 0 || m.NoBeep > 1 {
		return fmt.Errorf("no_beep must be within 0 and 1")
	}
	for _, p := range []float64{m.Answer, m.Machine, m.Busy, m.Invalid, m.Fail, m.Silence} {
		if p < 0 || p > 1 {
			return fmt.Errorf("probabilities must be within 0 and 1")
		}
		sum += p
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("probabilities add up to %.3f, more than 1", sum)
	}
	for name, d := range map[string]Dist{"ring": m.Ring, "talk": m.Talk, "machine_talk": m.MachineTalk,
		"failure_delay": m.FailureDelays, "greeting": m.Greeting, "machine_greeting": m.MachineGreeting} {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// Script returns the seeded script of the mix; it is safe for concurrent use.
func (m Mix) Script() Script {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(m.Seed, m.Seed^0x9e3779b97f4a7c15))
	return func(string) Fate {
		mu.Lock()
		defer mu.Unlock()
		u := r.Float64()
		ring, talk, fail := m.Ring.sample(r), m.Talk.sample(r), m.FailureDelays.sample(r)
		switch {
		case u < m.Answer:
			return Fate{Answer: true, Ring: ring, Talk: talk, Greeting: m.Greeting.sample(r)}
		case u < m.Answer+m.Machine:
			f := Fate{Answer: true, Voice: Machine, Ring: ring, Talk: m.MachineTalk.sample(r),
				Greeting: m.MachineGreeting.sample(r), Beep: true}
			if m.NoBeep > 0 {
				f.Beep = r.Float64() >= m.NoBeep
			}
			return f
		case u < m.Answer+m.Machine+m.Busy:
			return Fate{Cause: "USER_BUSY", Ring: fail}
		case u < m.Answer+m.Machine+m.Busy+m.Invalid:
			return Fate{Cause: "UNALLOCATED_NUMBER", Ring: fail}
		case u < m.Answer+m.Machine+m.Busy+m.Invalid+m.Fail:
			return Fate{Cause: "NORMAL_TEMPORARY_FAILURE", Ring: fail}
		case u < m.Answer+m.Machine+m.Busy+m.Invalid+m.Fail+m.Silence:
			return Fate{Answer: true, Voice: Silence, Ring: ring, Talk: talk}
		}
		return Fate{Cause: "NO_ANSWER"}
	}
}
