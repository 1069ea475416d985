package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `kakeru pacebench --quick` on S1 and S3: every policy stays at or under 5% abandon in its
// shift, progressive abandons no one but the persons the detector takes for machines (the
// scenarios' amd.false_positive, 1%, which the regulator counts as abandoned), kakeru keeps
// agents at least as busy as progressive (P-1, P-2, P-3), and its day's reported rate ends at
// or under the target (issue 18).
func TestPacebenchQuick(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"pacebench", "--quick", "--json", "S1", "S3"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	type row struct {
		Policy          string   `json:"policy"`
		Occupancy       float64  `json:"occupancy"`
		AbandonRate     float64  `json:"abandon_rate"`
		AbandonMaxShift float64  `json:"abandon_max_shift"`
		ReportedMax     float64  `json:"reported_max_shift"`
		Above           int      `json:"shifts_above_target"`
		TrueAbove       int      `json:"true_shifts_above_target"`
		OracleRatio     *float64 `json:"oracle_ratio"`
	}
	var seen []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var res struct {
			Scenario string `json:"scenario"`
			Seed     uint64 `json:"seed"`
			Policies []row  `json:"policies"`
		}
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		seen = append(seen, res.Scenario)
		byName := map[string]row{}
		for _, r := range res.Policies {
			byName[r.Policy] = r
			// One shift each (--quick): above the 3 % target exactly when its rate is, over
			// persons and as reported.
			if (r.AbandonMaxShift > 0.03) != (r.TrueAbove == 1) || (r.ReportedMax > 0.03) != (r.Above == 1) {
				t.Errorf("%s %s: shift abandon %.2f%% (reported %.2f%%), %d (%d) shifts above the target",
					res.Scenario, r.Policy, 100*r.AbandonMaxShift, 100*r.ReportedMax, r.TrueAbove, r.Above)
			}
			if r.AbandonMaxShift > 0.05 {
				t.Errorf("%s %s: shift abandon %.2f%% > 5%%", res.Scenario, r.Policy, 100*r.AbandonMaxShift)
			}
		}
		for _, p := range []string{"progressive", "ratio", "vicidial-adapt", "kakeru", "oracle"} {
			if _, ok := byName[p]; !ok {
				t.Errorf("%s: no %s row", res.Scenario, p)
			}
		}
		if p := byName["progressive"]; p.AbandonRate > 0.015 {
			t.Errorf("%s: progressive abandons %.2f%%", res.Scenario, 100*p.AbandonRate)
		}
		k := byName["kakeru"]
		if k.Occupancy < byName["progressive"].Occupancy {
			t.Errorf("%s: kakeru occupancy %.1f%% under progressive %.1f%%", res.Scenario, 100*k.Occupancy, 100*byName["progressive"].Occupancy)
		}
		if k.Above != 0 || k.ReportedMax > 0.03 || k.ReportedMax <= 0 {
			t.Errorf("%s: kakeru's day reported at %.2f%%", res.Scenario, 100*k.ReportedMax)
		}
		if k.OracleRatio == nil {
			t.Errorf("%s: kakeru has no oracle_ratio", res.Scenario)
		}
		t.Logf("%s: kakeru occupancy %.1f%% abandon %.2f%%; progressive %.1f%%", res.Scenario, 100*k.Occupancy, 100*k.AbandonRate, 100*byName["progressive"].Occupancy)
	}
	if len(seen) != 2 || seen[0] != "S1" || seen[1] != "S3" {
		t.Errorf("scenarios %v, want S1 S3", seen)
	}
}

func TestPacebenchUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"pacebench", "--quick", "S99"}, &out, &errOut); code != exitUsage {
		t.Errorf("unknown scenario: exit %d", code)
	}
	if code := run(context.Background(), []string{"pacebench", "--bogus"}, &out, &errOut); code != exitUsage {
		t.Errorf("unknown flag: exit %d", code)
	}
	if code := run(context.Background(), []string{"pacebench", "--policies", "kakeru,psychic", "S1"}, &out, &errOut); code != exitUsage {
		t.Errorf("unknown policy: exit %d", code)
	}
}

// A scenario file given by path: keys it leaves out keep docs/pacing.md's defaults.
func TestPacebenchScenarioFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.yaml")
	yaml := "name: tiny\nagents: 3\nshifts: 2\nshift_hours: 0.5\nseed: 7\ntalk: {dist: exponential, mean: 60}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"pacebench", path}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"scenario tiny  seed 7  shifts 2", "vicidial-adapt", "oracle"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := os.WriteFile(path, []byte("name: bad\nagents: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"pacebench", path}, &out, &errOut); code != exitUsage || !strings.Contains(errOut.String(), "agents") {
		t.Errorf("invalid file: exit %d, %s", code, errOut.String())
	}
}
