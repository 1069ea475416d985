package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The alerts of issue 17, in the order of the file: names are fixed (runbooks cite them), so
// are severities and durations. KakeruAbandonRateOverCap's minute rides over a single scrape.
var fixedAlerts = []struct{ name, severity, dur string }{
	{"KakeruAbandonRateNearCap", "warning", "5m"},
	{"KakeruAbandonRateOverCap", "critical", "1m"},
	{"KakeruSwitchNodeDown", "warning", "1m"},
	{"KakeruAllSwitchNodesDown", "critical", "1m"},
	{"KakeruNoAgentsWhileJobRuns", "warning", "10m"},
	{"KakeruJobWithoutOwner", "critical", "2m"},
	{"KakeruPostgresDown", "critical", "1m"},
	{"KakeruRedisDown", "critical", "1m"},
	{"KakeruInstanceDown", "critical", "2m"},
}

const runbookBase = "https://github.com/kakeru-dialer/kakeru/blob/main/docs/runbooks/alerts.md#"

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type ruleTests struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	Tests              []struct {
		Interval    string `yaml:"interval"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// decodeStrict reads a YAML file refusing fields it does not know, as Prometheus does.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The rule file parses and holds exactly the fixed alerts in group kakeru, each with its
// severity, duration, summary, description and runbook, over metrics kakeru exports (and
// Prometheus's own up for the instance). This runs without promtool; TestAlertRulesPromtool
// evaluates the rules.
func TestAlertRules(t *testing.T) {
	var rf ruleFile
	decodeStrict(t, "prometheus/kakeru-alerts.yml", &rf)
	if len(rf.Groups) != 1 || rf.Groups[0].Name != "kakeru" {
		t.Fatalf("groups %+v; want the one group kakeru", rf.Groups)
	}
	known := kakeruMetrics(t)
	rules := rf.Groups[0].Rules
	if len(rules) != len(fixedAlerts) {
		t.Errorf("%d rules; want the %d alerts of issue 17", len(rules), len(fixedAlerts))
	}
	for i, want := range fixedAlerts {
		if i >= len(rules) {
			t.Errorf("no rule %s", want.name)
			continue
		}
		r := rules[i]
		if r.Alert != want.name || r.Record != "" {
			t.Errorf("rule %d: alert %q (record %q); want alert %s", i, r.Alert, r.Record, want.name)
			continue
		}
		if r.For != want.dur {
			t.Errorf("%s: for %q; want %s", r.Alert, r.For, want.dur)
		}
		if len(r.Labels) != 1 || r.Labels["severity"] != want.severity {
			t.Errorf("%s: labels %v; want severity %s only", r.Alert, r.Labels, want.severity)
		}
		if len(r.Annotations) != 3 || strings.TrimSpace(r.Annotations["summary"]) == "" || strings.TrimSpace(r.Annotations["description"]) == "" {
			t.Errorf("%s: annotations %v; want summary, description and runbook_url", r.Alert, r.Annotations)
		}
		if got, wantURL := r.Annotations["runbook_url"], runbookBase+strings.ToLower(r.Alert); got != wantURL {
			t.Errorf("%s: runbook_url %q; want %s", r.Alert, got, wantURL)
		}
		var others []string
		if r.Alert == "KakeruInstanceDown" {
			others = []string{"up"}
		}
		known.check(t, r.Alert, r.Expr, others...)
	}
}

// Every alert has a unit test in which it fires and one in which it stays quiet, with its
// annotations rendered; the tests read the rule file next to them.
func TestAlertRulesAreUnitTested(t *testing.T) {
	var rt ruleTests
	decodeStrict(t, "prometheus/kakeru-alerts_test.yml", &rt)
	if len(rt.RuleFiles) != 1 || rt.RuleFiles[0] != "kakeru-alerts.yml" {
		t.Errorf("rule_files %v; want kakeru-alerts.yml", rt.RuleFiles)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range rt.Tests {
		for _, at := range tc.AlertRuleTest {
			if len(at.ExpAlerts) == 0 {
				quiet[at.Alertname] = true
			}
			for _, a := range at.ExpAlerts {
				fires[at.Alertname] = true
				if a.ExpAnnotations["runbook_url"] != runbookBase+strings.ToLower(at.Alertname) {
					t.Errorf("%s at %s: expected annotations %v lack its runbook", at.Alertname, at.EvalTime, a.ExpAnnotations)
				}
			}
		}
	}
	for _, a := range fixedAlerts {
		if !fires[a.name] || !quiet[a.name] {
			t.Errorf("%s: a firing case %v, a quiet case %v; want both", a.name, fires[a.name], quiet[a.name])
		}
	}
}

// Once docs/runbooks/alerts.md exists, each alert's runbook_url anchor is one of its headings.
func TestAlertRunbooksExist(t *testing.T) {
	b, err := os.ReadFile("../docs/runbooks/alerts.md")
	if os.IsNotExist(err) {
		t.Skip("docs/runbooks/alerts.md not written yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	heading := regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)
	explicit := regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		anchors[slug(m[1])] = true
	}
	for _, m := range explicit.FindAllStringSubmatch(string(b), -1) {
		anchors[m[1]] = true
	}
	for _, a := range fixedAlerts {
		if !anchors[strings.ToLower(a.name)] {
			t.Errorf("docs/runbooks/alerts.md has no section anchored %s", strings.ToLower(a.name))
		}
	}
}

// slug is the anchor GitHub gives a Markdown heading.
func slug(h string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			sb.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// promtool checks the rule file and runs its unit tests. CI installs it (the Debian package
// prometheus, .ci/run); elsewhere the test is skipped when promtool is not on PATH.
func TestAlertRulesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (apt-get install prometheus); TestAlertRules checked the file without it")
	}
	for _, args := range [][]string{
		{"check", "rules", "kakeru-alerts.yml"},
		{"test", "rules", "kakeru-alerts_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
