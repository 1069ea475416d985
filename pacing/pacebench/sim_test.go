package pacebench

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/kakeru-dialer/kakeru/pacing"
)

// Common random numbers: the k-th dial of a shift meets the same customer under every policy.
func TestCommonRandomNumbers(t *testing.T) {
	sc, err := Lookup("S1")
	if err != nil {
		t.Fatal(err)
	}
	sc.ShiftHours = 1
	record := func(p policy) []fate {
		var out []fate
		st := runShiftObserved(&sc, 0, p, func(kind string, c *simCall) {
			if kind == "dial" {
				out = append(out, *c.f)
			}
		})
		if st.Dials != len(out) {
			t.Fatalf("%d dials, %d observed", st.Dials, len(out))
		}
		return out
	}
	a := record(&decidePolicy{set: settings(&sc, pacing.Progressive)})
	b := record(&decidePolicy{set: settings(&sc, pacing.Predictive)})
	c := record(&vicidialPolicy{v: NewVicidial()})
	if len(a) < 50 || len(b) < 50 || len(c) < 50 {
		t.Fatalf("too few dials: %d %d %d", len(a), len(b), len(c))
	}
	for k := range min(len(a), len(b), len(c)) {
		if a[k] != b[k] || a[k] != c[k] {
			t.Fatalf("dial %d: fates differ: %+v %+v %+v", k, a[k], b[k], c[k])
		}
	}
	// Same seed and shift: the same totals; another shift: other customers.
	p1 := runShift(&sc, 0, &decidePolicy{set: settings(&sc, pacing.Predictive)})
	p2 := runShift(&sc, 0, &decidePolicy{set: settings(&sc, pacing.Predictive)})
	p3 := runShift(&sc, 1, &decidePolicy{set: settings(&sc, pacing.Predictive)})
	if p1 != p2 {
		t.Errorf("same seed, different shifts: %+v %+v", p1, p2)
	}
	if p1 == p3 {
		t.Errorf("shift 0 and 1 identical: %+v", p1)
	}
}

func TestScenarios(t *testing.T) {
	all, err := Standard()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]float64{ // agents, hit rate, mean talk
		"S1": {5, 0.30, 120}, "S2": {20, 0.10, 60}, "S3": {20, 0.30, 180}, "S4": {20, 0.60, 300},
		"S5": {100, 0.10, 60}, "S6": {100, 0.30, 300}, "S7": {20, 0.30, 180},
		"S8": {20, 0.30, 180}, "S9": {20, 0.30, 180}, "S10": {20, 0.30, 180}, "S11": {3, 0.30, 120},
		"S12": {20, 0.15, 180},
	}
	for i, sc := range all {
		if want := fmt.Sprintf("S%d", i+1); sc.Name != want {
			t.Errorf("scenario %d is %s, want %s", i, sc.Name, want)
		}
	}
	if len(all) != len(want) {
		t.Fatalf("%d standard scenarios", len(all))
	}
	for _, sc := range all {
		w := want[sc.Name]
		if float64(sc.Agents) != w[0] || sc.HitRate != w[1] || sc.Talk.Mean != w[2] || sc.Shifts != 8 || sc.Seed != 1 {
			t.Errorf("%s: %+v", sc.Name, sc)
		}
	}
	if s4, _ := Lookup("S4"); s4.MachineRate != 0.10 {
		t.Errorf("S4 machine rate %v", s4.MachineRate)
	}
	if s7, _ := Lookup("S7"); len(s7.HitRateSchedule) != 1 || s7.hitRate(5*3600) != 0.15 || s7.hitRate(3*3600) != 0.30 {
		t.Errorf("S7 schedule %+v", s7.HitRateSchedule)
	}
	if _, err := Parse([]byte("name: X\nagents: 3\nhit_rat: 0.2\n")); err == nil {
		t.Error("unknown key accepted")
	}
	if _, err := Parse([]byte("name: X\nring: {dist: gamma, mean: 3}\n")); err == nil {
		t.Error("unknown distribution accepted")
	}
	sc, err := Parse([]byte("name: X\nagents: 3\ntalk: {dist: empirical, samples: [10, 20]}\n"))
	if err != nil || sc.Agents != 3 || sc.HitRate != 0.30 || len(sc.Talk.Samples) != 2 {
		t.Errorf("Parse = %+v, %v", sc, err)
	}
}

func TestJSONKeys(t *testing.T) {
	sc, _ := Lookup("S1")
	sc.ShiftHours = 0.5
	res := Run(sc, Options{Shifts: 1, Bisections: 2})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"scenario":"S1"`, `"seed":1`, `"policy":"progressive"`, `"policy":"vicidial-adapt"`,
		`"occupancy_with_wrap":`, `"abandon_p95_shift":`, `"abandon_max_shift":`, `"wait_mean":`,
		`"connects_per_agent_hour":`, `"dials_per_connect":`, `"oracle_ratio":`} {
		if !bytes.Contains(buf.Bytes(), []byte(k)) {
			t.Errorf("JSON lacks %s: %s", k, buf.String())
		}
	}
	if bytes.Count(buf.Bytes(), []byte(`"oracle_ratio"`)) != 1 {
		t.Errorf("oracle_ratio on other rows than kakeru: %s", buf.String())
	}
}

// The oracle's estimator holds the scenario's true rates.
func TestTruth(t *testing.T) {
	sc, _ := Lookup("S7")
	tr := truth(&sc)
	for _, c := range []struct{ at, live float64 }{{0, 0.30}, {5 * 3600, 0.15}} {
		s := tr(c.at).Summary()
		if s.Dials != truthSamples || s.LiveRate < c.live-0.02 || s.LiveRate > c.live+0.01 {
			t.Errorf("at %vs: %+v, want %d dials, live rate about %v", c.at, s, truthSamples, c.live)
		}
	}
}

// The classification model: the amd block with its defaults, the old fixed amd_delay, never
// both.
func TestAMDKeys(t *testing.T) {
	s3, _ := Lookup("S3")
	if s3.AMDDelay != nil || !reflect.DeepEqual(s3.AMD, DefaultAMD()) {
		t.Errorf("S3 classifies with %+v / %v, want the engine's model", s3.AMD, s3.AMDDelay)
	}
	sc, err := Parse([]byte("name: X\namd: {false_positive: 0.02, greeting: {dist: fixed, value: 1}}\n"))
	want := DefaultAMD()
	want.FalsePositive, want.Greeting.Dist, want.Greeting.Value = 0.02, "fixed", 1
	if err != nil || !reflect.DeepEqual(sc.AMD, want) || sc.AMDDelay != nil {
		t.Errorf("a partial amd block: %+v, %v; want the rest from the defaults", sc.AMD, err)
	}
	sc, err = Parse([]byte("name: X\namd_delay: 2\n"))
	if err != nil || sc.AMDDelay == nil || *sc.AMDDelay != 2 {
		t.Errorf("amd_delay: %+v, %v", sc, err)
	}
	for _, bad := range []string{
		"amd_delay: 2\namd: {unsure: 0.1}",
		"amd_delay: -1",
		"amd: {unsure: 1.5}",
		"amd: {time_limit: 0}",
		"amd: {false_positive: 0.6, unsure: 0.5}",
		"amd: {beep: {dist: lognormal, mean: 0}}",
		"amd: {machine_delay: 3}",
	} {
		if _, err := Parse([]byte("name: X\n" + bad + "\n")); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The verdicts' shares and times follow the amd block; amd_delay classifies every answer
// right after the delay.
func TestClassify(t *testing.T) {
	sc, _ := Lookup("S3")
	fs := newFateStream(&sc, 0)
	const n = 200000
	var count [5]int
	var humanSum float64
	for k := range n {
		f := fs.get(k)
		v, at := sc.classify(&f.amd, true)
		count[v]++
		switch v {
		case vHuman:
			if at < sc.AMD.TimeLimit {
				humanSum += at
			}
		case vFalsePositive:
			if at != sc.AMD.TimeLimit {
				t.Fatalf("false positive at %v", at)
			}
		}
		v, at = sc.classify(&f.amd, false)
		count[v]++
		if v == vMachine && at != min(f.amd.beep, sc.AMD.TimeLimit) {
			t.Fatalf("machine verdict at %v, beep %v", at, f.amd.beep)
		}
	}
	share := func(v verdict) float64 { return float64(count[v]) / n }
	if s := share(vFalsePositive); s < 0.009 || s > 0.011 {
		t.Errorf("false positives %v of persons, want 1%%", s)
	}
	if s := share(vFalseNegative); s < 0.045 || s > 0.055 {
		t.Errorf("false negatives %v of machines, want 5%%", s)
	}
	if count[vHangup] != 0 {
		t.Errorf("%d hang-ups without the key", count[vHangup])
	}
	if m := humanSum / float64(count[vHuman]-int(0.05*n)); m < 1.45 || m > 1.55 {
		t.Errorf("human verdicts after %v s on average, want 1.5", m)
	}
	d := 2.5
	sc.AMDDelay = &d
	for k := range 1000 {
		f := fs.get(k)
		if v, at := sc.classify(&f.amd, true); v != vHuman || at != d {
			t.Fatalf("amd_delay, person: %v at %v", v, at)
		}
		if v, at := sc.classify(&f.amd, false); v != vMachine || at != d {
			t.Fatalf("amd_delay, machine: %v at %v", v, at)
		}
	}
}

// A shift counts what the regulator counts (persons; false positives and hang-ups abandoned)
// apart from what the dialer records; with amd_delay they are the same.
func TestShiftAccounting(t *testing.T) {
	sc, _ := Lookup("S3")
	sc.ShiftHours = 2
	sc.AMD.Hangup = 0.02
	prog := func() policy { return &decidePolicy{set: settings(&sc, pacing.Progressive)} }
	drops := 0
	st := runShiftObserved(&sc, 0, prog(), func(kind string, c *simCall) {
		if kind == "drop" && c.verdict == vHuman {
			drops++
		}
	})
	lost := st.Abandoned - drops // false positives and hang-ups
	if lost < st.Live/100 || st.FalsePositives == 0 || lost <= st.FalsePositives || st.Connects == 0 || st.RecLive == 0 {
		t.Errorf("%+v: %d abandons besides %d drops, want about 3%% of persons", st, lost, drops)
	}
	if st.RecAbandoned < drops || st.RecAbandoned > st.Abandoned {
		t.Errorf("%+v: recorded abandons outside [%d drops, abandons]", st, drops)
	}
	d := 1.5
	sc.AMDDelay = &d
	st = runShift(&sc, 0, prog())
	if st.RecLive != st.Live || st.RecAbandoned != st.Abandoned || st.Live == 0 {
		t.Errorf("amd_delay: %+v, want the records equal to the truth", st)
	}
}

// Issue 18's adversarial scenarios: the schedules of the live-answer rate, the machine rate and
// the agents logged in.
func TestAdversarialScenarios(t *testing.T) {
	s8, _ := Lookup("S8")
	s9, _ := Lookup("S9")
	s10, _ := Lookup("S10")
	s12, _ := Lookup("S12")
	if s8.hitRate(6.9*3600) != 0.30 || s8.hitRate(7*3600) != 0.45 {
		t.Errorf("S8: no surge in the last hour: %+v", s8.HitRateSchedule)
	}
	if s9.agentsAt(3.9*3600) != 20 || s9.agentsAt(4*3600) != 10 || s9.maxAgents() != 20 {
		t.Errorf("S9: %+v", s9.AgentSchedule)
	}
	if s10.ShiftHours != 2 {
		t.Errorf("S10: %v hours", s10.ShiftHours)
	}
	if s12.machineRate(0) != 0.5 || s12.machineRate(3600) != 0.15 || s12.hitRate(0) != 0.15 || s12.hitRate(3600) != 0.30 {
		t.Errorf("S12: %+v %+v", s12.MachineRateSchedule, s12.HitRateSchedule)
	}
	// Every rate pair of a schedule is checked, not only the first.
	if _, err := Parse([]byte("name: X\nhit_rate: 0.3\nmachine_rate_schedule: [{at_hour: 1, machine_rate: 0.8}]\n")); err == nil {
		t.Error("hit 0.3 + machine 0.8 accepted")
	}
	if _, err := Parse([]byte("name: X\nagents_schedule: [{at_hour: 2, agents: 4}, {at_hour: 1, agents: 8}]\n")); err == nil {
		t.Error("agent steps out of order accepted")
	}
	// The oracle's truth follows the machine rate too.
	tr := truth(&s12)
	if m := tr(0).Summary().MachineRate; m < 0.4 {
		t.Errorf("truth at the start: machine rate %v, want about 0.5 (less the ring-outs)", m)
	}
	if m := tr(3600).Summary().MachineRate; m > 0.2 {
		t.Errorf("truth after the burst: machine rate %v", m)
	}
}

// Agents logging out mid-shift: the ready ones at once, the busy ones after their wrap-up; the
// capacity counts the logged-in time only, and pacing sees only the agents logged in.
func TestAgentsLogOut(t *testing.T) {
	sc, _ := Lookup("S9")
	sc.ShiftHours = 2
	sc.AgentSchedule = []AgentStep{{AtHour: 1, Agents: 10}, {AtHour: 1.5, Agents: 14}}
	before, after, back := 0, 100, 0 // most agents seen before the logout, fewest after, most later
	p := &probePolicy{inner: &decidePolicy{set: settings(&sc, pacing.Predictive)}}
	p.probe = func(s *shift) {
		n := len(s.snapshot(p.inner.set, s.est).Agents)
		switch {
		case s.now < 3600:
			before = max(before, n)
		case s.now < 1.5*3600:
			after = min(after, n)
			staying := 0
			for _, a := range s.agents {
				if a.in && !a.leaving {
					staying++
				}
			}
			if staying != 10 || n < 10 {
				t.Errorf("%d agents staying, %d in the snapshot after the logout: the busy ones leave after their wrap-up", staying, n)
			}
		default:
			back = max(back, n)
		}
	}
	st := runShift(&sc, 0, p)
	if before != 20 || after > 11 || back != 14 { // one of them may still be on a long call
		t.Errorf("agents in the snapshots: %d before, %d after the logout, %d back, want 20, 10, 14", before, after, back)
	}
	want := (20*1 + 10*0.5 + 14*0.5) * 3600.0
	if st.Capacity > want+20*600 || st.Capacity < want {
		t.Errorf("capacity %.0f agent-seconds, want about %.0f", st.Capacity, want)
	}
	if st.Talk+st.Wrap+st.Ready > st.Capacity+60 {
		t.Errorf("talk %.0f + wrap %.0f + ready %.0f over the capacity %.0f", st.Talk, st.Wrap, st.Ready, st.Capacity)
	}
}

// probePolicy lets a test look at the shift at each decision.
type probePolicy struct {
	inner *decidePolicy
	probe func(*shift)
}

func (p *probePolicy) period() float64 { return p.inner.period() }
func (p *probePolicy) onReady() bool   { return p.inner.onReady() }
func (p *probePolicy) decide(s *shift) int {
	p.probe(s)
	return p.inner.decide(s)
}

// The reported rate is Ofcom's: recorded abandons plus the false positives' estimate over the
// recorded live answers plus that estimate; Policies and TuneShifts narrow a run.
func TestReportedRateAndOptions(t *testing.T) {
	sc, _ := Lookup("S1")
	f := sc.AMD.FalsePositive
	st := shiftStats{RecLive: 990, RecAbandoned: 10}
	fp := f / (1 - f) * 990
	if got, want := reportedAbandon(st, &sc), (10+fp)/(990+fp); got != want {
		t.Errorf("reported %v, want %v", got, want)
	}
	sc.ShiftHours = 0.5
	res := Run(sc, Options{Shifts: 3, TuneShifts: 1, Bisections: 2, Policies: []string{PolicyKakeru, PolicyOracle}})
	if len(res.Policies) != 2 || res.Policies[0].Policy != PolicyKakeru || res.Policies[1].Policy != PolicyOracle ||
		res.Policies[0].OracleRatio == nil {
		t.Fatalf("rows %+v", res.Policies)
	}
	for _, r := range res.Policies {
		if r.ShiftsAboveTarget > 3 || r.ReportedMaxShift <= 0 {
			t.Errorf("%+v", r)
		}
	}
}
