// Package deploy_test checks the monitoring files of deploy/ against what kakeru exports: the
// Grafana dashboard's model (grafana/kakeru.json) and the Prometheus alerting rules
// (prometheus/kakeru-alerts.yml, with promtool when it is on PATH). Run with
// `make monitoring-test` or `go test ./deploy/`.
package deploy_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kakeru-dialer/kakeru/metrics"
	"github.com/kakeru-dialer/kakeru/pacing"
)

// targetLabels are attached by Prometheus to every scraped series.
var targetLabels = []string{"job", "instance"}

// exported is kakeru's metric names, each with its label names, as a scrape of a registry
// built like the server's shows them (histograms as their _bucket, _sum and _count series).
type exported map[string][]string

// describing counts the descriptors of what is registered, so the test knows when its scrape
// left a metric out.
type describing struct {
	*prometheus.Registry
	t     *testing.T
	descs int
}

func (d *describing) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for range ch {
		d.descs++
	}
	return d.Registry.Register(c)
}

func (d *describing) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			d.t.Fatalf("register: %v", err)
		}
	}
}

// kakeruMetrics scrapes a registry holding metrics.New and metrics.NewCollector with every
// hook called once and every source set, and fails when a described metric did not show up.
func kakeruMetrics(t *testing.T) exported {
	t.Helper()
	reg := &describing{Registry: prometheus.NewPedanticRegistry(), t: t}
	m := metrics.New(reg)
	ok := func(context.Context) error { return nil }
	reg.MustRegister(metrics.NewCollector(metrics.Sources{
		CallsInFlight: func() int { return 1 },
		Nodes:         func() []metrics.Node { return []metrics.Node{{Name: "fs1", Connected: true}} },
		Agents:        func(context.Context) (map[string]int, error) { return map[string]int{"available": 1}, nil },
		Campaigns: func() []metrics.Campaign {
			return []metrics.Campaign{{ID: 1, Dial: 1, AbandonRates: map[string]float64{"day": 0.01}, AbandonTarget: 0.03,
				AbandonBudget: map[string]float64{"day": 2}}}
		},
		JobsRunning:  func(context.Context) (int, error) { return 1, nil },
		JobsOwned:    func(context.Context) (int, error) { return 1, nil },
		Dependencies: []metrics.Dependency{{Name: "postgres", Ping: ok}, {Name: "redis", Ping: ok}},
	}))
	m.Originate(1)
	m.Outcome(1, "busy")
	m.LiveAnswer(1)
	m.Abandon(1)
	m.Classified(1, "human")
	m.Step(1, "hold")
	m.Decision(1, pacing.Decision{Reason: "predictive"})
	m.Command("fs1", "api", "uuid_bridge", time.Millisecond)
	m.Bridge(time.Millisecond)
	m.ImportRows(metrics.ImportAccepted, 1)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != reg.descs {
		t.Fatalf("the test scrape shows %d metrics of the %d registered: call the new metric's hook or set its source here", len(mfs), reg.descs)
	}
	out := exported{}
	for _, mf := range mfs {
		var labels []string
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if !slices.Contains(labels, lp.GetName()) {
					labels = append(labels, lp.GetName())
				}
			}
		}
		labels = append(labels, targetLabels...)
		name := mf.GetName()
		if mf.GetType().String() == "HISTOGRAM" { // by name: no direct dependency on client_model
			out[name+"_bucket"] = append(slices.Clone(labels), "le")
			out[name+"_sum"] = labels
			out[name+"_count"] = labels
			continue
		}
		out[name] = labels
	}
	return out
}

// check reports the selectors of expr that name a metric kakeru does not export (or others
// does not allow), or a label the metric does not have.
func (e exported) check(t *testing.T, where, expr string, others ...string) {
	t.Helper()
	sels, err := selectors(expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if len(sels) == 0 {
		t.Errorf("%s: no metric in %q", where, expr)
	}
	for _, s := range sels {
		labels, ok := e[s.metric]
		if !ok {
			if !slices.Contains(others, s.metric) {
				t.Errorf("%s: %s is not a metric kakeru exports (%q)", where, s.metric, expr)
			}
			continue
		}
		for _, l := range s.labels {
			if !slices.Contains(labels, l) {
				t.Errorf("%s: %s has no label %s (it has %v)", where, s.metric, l, labels)
			}
		}
	}
}

// Every metric kakeru exports is in the metrics tables of docs/operations.md and the README.
func TestExportedMetricsAreDocumented(t *testing.T) {
	for _, doc := range []string{"../docs/operations.md", "../README.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		known := kakeruMetrics(t)
		for name := range known {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(name, suffix); ok && known[base+"_bucket"] != nil {
					name = base // a histogram's series: the table lists the histogram
				}
			}
			if !strings.Contains(string(b), "`"+name+"`") {
				t.Errorf("%s does not list %s", doc, name)
			}
		}
	}
}

// dashboard is the part of Grafana's dashboard model the test holds the file to.
type dashboard struct {
	SchemaVersion int     `json:"schemaVersion"`
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Datasource *datasource     `json:"datasource"`
			Multi      bool            `json:"multi"`
			IncludeAll bool            `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	GridPos    *gridPos    `json:"gridPos"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Repeat string  `json:"repeat"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type gridPos struct {
	H, W, X, Y int
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// The panels' queries go to the data source chosen in the dashboard's variable.
const templatedUID = "${datasource}"

// loadDashboard reads grafana/kakeru.json, refusing fields of the wrong type.
func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana/kakeru.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/kakeru.json: %v", err)
	}
	return d
}

// The dashboard loads, its structure is one Grafana imports (schema version, unique ids, a
// grid place for every panel, no two panels on the same cells), its data source and campaign
// are variables, and every query of every panel names only metrics and labels kakeru exports.
func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	known := kakeruMetrics(t)
	if d.SchemaVersion < 36 { // 36: data sources referenced by {type, uid}
		t.Errorf("schemaVersion %d; want 36 or later", d.SchemaVersion)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed for a stable import", d.UID, d.Title)
	}

	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch v.Name {
		case "datasource":
			var q string
			if v.Type != "datasource" || json.Unmarshal(v.Query, &q) != nil || q != "prometheus" {
				t.Errorf("variable datasource: type %q, query %s; want a prometheus datasource variable", v.Type, v.Query)
			}
		default:
			if v.Type != "query" {
				continue
			}
			if v.Datasource == nil || v.Datasource.UID != templatedUID {
				t.Errorf("variable %s: data source %+v; want uid %s", v.Name, v.Datasource, templatedUID)
			}
			metric, label, ok := labelValues(v.Definition)
			if !ok {
				t.Errorf("variable %s: definition %q is not label_values(metric, label)", v.Name, v.Definition)
				continue
			}
			if labels, ok := known[metric]; !ok || !slices.Contains(labels, label) {
				t.Errorf("variable %s: %s is not an exported metric with label %s", v.Name, metric, label)
			}
			// Grafana's variable editor rebuilds the query from metric and label: all must agree.
			var q struct {
				QryType int    `json:"qryType"`
				Metric  string `json:"metric"`
				Label   string `json:"label"`
				Query   string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil || q.QryType != 1 || q.Metric != metric || q.Label != label || q.Query != v.Definition {
				t.Errorf("variable %s: query %s does not match its definition %q (%v)", v.Name, v.Query, v.Definition, err)
			}
		}
	}
	for _, want := range []string{"datasource", "campaign"} {
		if !vars[want] {
			t.Errorf("no %s variable", want)
		}
	}

	var all []panel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	if len(all) < 10 {
		t.Fatalf("%d panels", len(all))
	}
	ids := map[int]string{}
	for i, p := range all {
		where := p.Title
		if p.ID <= 0 {
			t.Errorf("panel %q: id %d", where, p.ID)
		}
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, where, p.ID)
		}
		ids[p.ID] = where
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		g := p.GridPos
		if g == nil {
			t.Errorf("panel %q has no gridPos", where)
			continue
		}
		if g.W < 1 || g.H < 1 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", where, *g)
		}
		for _, q := range all[:i] {
			if h := q.GridPos; h != nil && g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("panels %q and %q overlap", q.Title, where)
			}
		}
		if p.Repeat != "" && !vars[p.Repeat] {
			t.Errorf("panel %q repeats over %s, which is no variable", where, p.Repeat)
		}
		if p.Type == "row" {
			if len(p.Targets) != 0 {
				t.Errorf("row %q has queries", where)
			}
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != templatedUID {
			t.Errorf("panel %q: data source %+v; want uid %s", where, p.Datasource, templatedUID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", where)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("panel %q: refId %q missing or repeated", where, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource != nil && tg.Datasource.UID != templatedUID {
				t.Errorf("panel %q: query %s goes to data source %+v", where, tg.RefID, *tg.Datasource)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q: query %s has no expr", where, tg.RefID)
				continue
			}
			known.check(t, "panel "+where, tg.Expr)
		}
	}
}

// The metrics issue 17 asks the dashboard to show are on it, and the abandon budget (issue 18).
func TestDashboardShowsTheOperationsMetrics(t *testing.T) {
	d := loadDashboard(t)
	used := map[string]bool{}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			sels, _ := selectors(tg.Expr)
			for _, s := range sels {
				used[s.metric] = true
			}
		}
	}
	for _, m := range []string{"kakeru_originates_total", "kakeru_attempt_outcomes_total", "kakeru_abandon_rate",
		"kakeru_abandon_target", "kakeru_agents", "kakeru_freeswitch_connected",
		"kakeru_freeswitch_command_duration_seconds_bucket", "kakeru_answer_to_bridge_seconds_bucket",
		"kakeru_call_steps_total", "kakeru_answer_verdicts_total", "kakeru_jobs_running", "kakeru_jobs_owned",
		"kakeru_dependency_up",
		"kakeru_abandon_budget_remaining"} { // P-2, issue 18
		if !used[m] {
			t.Errorf("no panel shows %s", m)
		}
	}
}

// labelValues splits a variable's label_values(metric, label).
func labelValues(def string) (metric, label string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(def), "label_values(")
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutSuffix(rest, ")")
	if !ok {
		return "", "", false
	}
	metric, label, ok = strings.Cut(rest, ",")
	return strings.TrimSpace(metric), strings.TrimSpace(label), ok
}

// The lexer behind the metric checks finds the metrics of the forms the files use, and only them.
func TestSelectors(t *testing.T) {
	for expr, want := range map[string]string{
		`sum by (le, command) (rate(kakeru_x_bucket{instance=~"$instance"}[$__rate_interval]))`: "kakeru_x_bucket{instance}",
		`max by (campaign) (a{window="day"}) > on (campaign) 0.8 * max by (campaign) (b)`:       "a{window} b",
		`max(a) > 0 and on () sum(max by (state) (b{state=~"x|y"})) == 0`:                       "a b{state}",
		`histogram_quantile(0.99, sum by (le) (rate(c_bucket[5m] offset 1h)))`:                  "c_bucket",
		`up{job="kakeru", instance='a\'b'} == 0`:                                                "up{job,instance}",
	} {
		sels, err := selectors(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		var got []string
		for _, s := range sels {
			g := s.metric
			if len(s.labels) > 0 {
				g += "{" + strings.Join(s.labels, ",") + "}"
			}
			got = append(got, g)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%s: got %v, want %s", expr, got, want)
		}
	}
	for _, bad := range []string{`{__name__="x"}`, `x{a="b"`, `x{a=b}`, `rate(x[5m)`} {
		if _, err := selectors(bad); err == nil {
			t.Errorf("%s: read without an error", bad)
		}
	}
}
