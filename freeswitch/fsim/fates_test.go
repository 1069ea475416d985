package fsim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

func TestVirtualClockRunsTimersInOrder(t *testing.T) {
	c := fsim.NewVirtualClock(time.Unix(0, 0))
	var got []string
	c.AfterFunc(2*time.Second, func() { got = append(got, "b") })
	c.AfterFunc(time.Second, func() {
		got = append(got, "a")
		c.AfterFunc(500*time.Millisecond, func() { got = append(got, "a+0.5") }) // due inside the window
	})
	stop := c.AfterFunc(1500*time.Millisecond, func() { got = append(got, "stopped") })
	c.AfterFunc(2*time.Second, func() { got = append(got, "b2") }) // same deadline: order of setting
	if !stop() || stop() {
		t.Fatal("stop reports")
	}
	c.Advance(1999 * time.Millisecond)
	if !slices.Equal(got, []string{"a", "a+0.5"}) {
		t.Fatalf("after 1.999 s: %v", got)
	}
	c.Advance(time.Millisecond)
	if !slices.Equal(got, []string{"a", "a+0.5", "b", "b2"}) || c.Pending() != 0 {
		t.Fatalf("after 2 s: %v, %d pending", got, c.Pending())
	}
	if !c.Now().Equal(time.Unix(2, 0)) {
		t.Fatalf("now %s", c.Now())
	}
}

// The same seed gives the same fates in the same order; the mix follows its probabilities.
func TestMixIsSeededAndFollowsProbabilities(t *testing.T) {
	m := fsim.Mix{Seed: 7, Answer: 0.3, Machine: 0.1, Busy: 0.1, Invalid: 0.05,
		Ring: fsim.Dist{Kind: "lognormal", Mean: 8 * time.Second, CV: 0.5}, Talk: fsim.Dist{Kind: "exponential", Mean: time.Minute},
		FailureDelays: fsim.Dist{Kind: "uniform", Min: time.Second, Max: 4 * time.Second}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	a, b := m.Script(), m.Script()
	counts := map[string]int{}
	var ring time.Duration
	const n = 20000
	for range n {
		fa, fb := a("x"), b("x")
		if fa != fb {
			t.Fatalf("same seed, different fates: %+v %+v", fa, fb)
		}
		switch {
		case fa.Voice == fsim.Machine:
			counts["machine"]++
		case fa.Answer:
			counts["answer"]++
			ring += fa.Ring
		default:
			counts[fa.Cause]++
			if fa.Cause != "NO_ANSWER" && (fa.Ring < time.Second || fa.Ring > 4*time.Second) {
				t.Fatalf("failure delay %s outside 1–4 s", fa.Ring)
			}
		}
	}
	for k, p := range map[string]float64{"answer": 0.3, "machine": 0.1, "USER_BUSY": 0.1, "UNALLOCATED_NUMBER": 0.05, "NO_ANSWER": 0.45} {
		if got := float64(counts[k]) / n; got < p-0.02 || got > p+0.02 {
			t.Errorf("%s: %.3f, want %.2f", k, got, p)
		}
	}
	if mean := ring / time.Duration(counts["answer"]); mean < 7500*time.Millisecond || mean > 8500*time.Millisecond {
		t.Errorf("mean ring %s, want about 8 s", mean)
	}
}

func TestScenarioFiles(t *testing.T) {
	sc, err := fsim.LoadScenario("../../fsim-scenario.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	script, err := sc.Script()
	if err != nil {
		t.Fatal(err)
	}
	if f := script("loopback/agent-1001/agents"); !f.Answer || f.Ring != 0 || f.Talk != 0 {
		t.Errorf("agent fate %+v", f)
	}
	if f := script("sofia/gateway/main/09025550002"); f.Cause != "USER_BUSY" || f.Ring != 2*time.Second {
		t.Errorf("busy rule fate %+v", f)
	}
	if f := script("sofia/gateway/main/09115550003"); !f.Answer || f.Voice != fsim.Machine || !f.Beep || f.Talk != 25*time.Second {
		t.Errorf("machine rule fate %+v", f)
	}
	if sc.Heartbeat != 20*time.Second || sc.Seed != 1 {
		t.Errorf("scenario %+v", sc)
	}
	if sc, err := fsim.ParseScenario(nil); err != nil || sc == nil {
		t.Errorf("empty scenario: %v", err)
	}
	for name, c := range map[string]struct{ yaml, want string }{
		"unknown key":     {"default: {answr: 0.3}", "answr"},
		"probabilities":   {"default: {answer: 0.8, busy: 0.5}", "default: probabilities add up to 1.300"},
		"bad regexp":      {"rules: [{match: '(', answer: 1}]", "rules[0].match"},
		"no match":        {"rules: [{answer: 1}]", "rules[0].match: required"},
		"bad distributon": {"default: {answer: 1, ring: {dist: gamma}}", `default: ring: unknown distribution "gamma"`},
		"bad duration":    {"heartbeat: soon", "soon"},
		"bad no_beep":     {"default: {machine: 1, no_beep: 2}", "no_beep must be within 0 and 1"},
	} {
		if _, err := fsim.ParseScenario([]byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
	}
}

// Answer analysis fates (issue 15): who answers (a person, a machine that beeps or not,
// silence) is drawn with the mix's probabilities; fixed greetings and no NoBeep draw nothing,
// so a mix without them gives the fates it gave before.
func TestMixDrawsVoices(t *testing.T) {
	m := fsim.Mix{Seed: 3, Answer: 0.5, Machine: 0.3, Silence: 0.2, NoBeep: 0.25,
		MachineGreeting: fsim.Dist{Kind: "uniform", Min: 3 * time.Second, Max: 5 * time.Second}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	script := m.Script()
	counts := map[string]int{}
	const n = 20000
	for range n {
		f := script("x")
		switch {
		case !f.Answer:
			t.Fatalf("unanswered fate %+v", f)
		case f.Voice == fsim.Machine && (f.Greeting < 3*time.Second || f.Greeting > 5*time.Second):
			t.Fatalf("machine greeting %v outside 3-5 s", f.Greeting)
		case f.Voice == fsim.Machine && f.Beep:
			counts["beep"]++
		case f.Voice == fsim.Machine:
			counts["no beep"]++
		case f.Voice == fsim.Silence:
			counts["silence"]++
		default:
			counts["person"]++
			if f.Greeting != 0 {
				t.Fatalf("person greeting %v drawn from a fixed default", f.Greeting)
			}
		}
	}
	for k, p := range map[string]float64{"person": 0.5, "beep": 0.225, "no beep": 0.075, "silence": 0.2} {
		if got := float64(counts[k]) / n; got < p-0.02 || got > p+0.02 {
			t.Errorf("%s: %.3f, want %.3f", k, got, p)
		}
	}
	old := fsim.Mix{Seed: 7, Answer: 0.3, Machine: 0.1, Busy: 0.1, Ring: fsim.Dist{Kind: "uniform", Min: 0, Max: time.Second}}
	withVoices := old
	withVoices.Silence = 0.1 // takes from the tail that rang until originate_timeout
	a, b := old.Script(), withVoices.Script()
	for range 1000 {
		fa, fb := a("x"), b("x")
		if fa.Cause != "NO_ANSWER" && fa != fb {
			t.Fatalf("silence changed an earlier draw: %+v %+v", fa, fb)
		}
	}
}
