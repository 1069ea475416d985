package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
)

const examplePath = "../config.example.yaml"

// baseYAML is a small valid configuration that leaves every defaulted key out, so edits of it
// exercise one rule at a time.
const baseYAML = `# test configuration
system:
  history_retention_days: 180
postgres:
  dsn: postgres://localhost/kakeru
freeswitch:
  nodes:
    - name: fs1
      address: 127.0.0.1:8021
      password: ClueCon
  customer_dial_string: loopback/{tel}/customers
campaigns:
  - id: 1
    name: First
    business_hours:
      start: "09:00"
      end: "18:00"
    caller_ids: ["0312345678"]
    result_codes:
      - code: ok
        label: OK
    retry:
      - outcomes: [no_answer]
        after: 30m
        max_attempts: 3
  - id: 2
    name: Second
    business_hours:
      start: "10:00"
      end: "17:00"
    caller_ids: ["0312345679"]
agents:
  - id: 1001
    name: Agent 1001
    dial_string: loopback/agent-1001/agents
  - id: 1002
    name: Agent 1002
    dial_string: loopback/agent-1002/agents
dial_groups:
  - id: 1
    name: Floor
    agent_ids: [1001, 1002]
users:
  - name: admin
    role: admin
    token_sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
  - name: boss
    role: supervisor
    campaign_ids: [1]
    token_sha256: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
  - name: agent-1001
    role: agent
    agent_id: 1001
    token_sha256: cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
`

// edit returns baseYAML with each old → new replacement applied exactly once.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	if len(pairs)%2 != 0 {
		t.Fatal("edit needs old/new pairs")
	}
	s := baseYAML
	for i := 0; i < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("edit: %q occurs %d times in baseYAML, want 1", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kakeru.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, content string) *config.Config {
	t.Helper()
	cfg, err := config.Load(writeFile(t, content))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func TestExampleLoadsAndValidates(t *testing.T) {
	cfg, err := config.Load(examplePath)
	if err != nil {
		t.Fatalf("Load(%s): %v", examplePath, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate after Load: %v", err)
	}
	if got := cfg.System.HistoryRetentionDays; got != 180 {
		t.Errorf("history_retention_days = %d, want 180", got)
	}
	if got := cfg.Postgres.DSN; got != "postgres://postgres@127.0.0.1:5432/kakeru?sslmode=disable" {
		t.Errorf("dsn = %q", got)
	}
	if got := cfg.FreeSWITCH.Nodes; len(got) != 1 || got[0] != (config.Node{Name: "fs1", Address: "127.0.0.1:8021", Password: "ClueCon"}) {
		t.Errorf("nodes = %+v", got)
	}
	if cfg.FreeSWITCH.AgentCallerID != "0011" {
		t.Errorf("agent_caller_id = %q, want the quoted \"0011\"", cfg.FreeSWITCH.AgentCallerID)
	}
	if len(cfg.Campaigns) != 2 {
		t.Fatalf("campaigns = %d, want 2", len(cfg.Campaigns))
	}
	c1, ok := cfg.Campaign(1)
	if !ok {
		t.Fatal("campaign 1 missing")
	}
	if c1.Name != "Demo renewals" || c1.Location == nil || c1.Location.String() != "Asia/Tokyo" {
		t.Errorf("campaign 1 = %q in %v", c1.Name, c1.Location)
	}
	if c1.BusinessHours.Start.String() != "00:00" || c1.BusinessHours.End.String() != "24:00" {
		t.Errorf("campaign 1 business hours = %s–%s, want 00:00–24:00", c1.BusinessHours.Start, c1.BusinessHours.End)
	}
	if !reflect.DeepEqual(c1.CallerIDs, []string{"0312345678"}) {
		t.Errorf("caller_ids = %q", c1.CallerIDs)
	}
	if c1.Pacing.Mode != config.PacingPredictive || c1.AbandonMessage != "tone_stream://%(500,0,800)" {
		t.Errorf("campaign 1 pacing %q, abandon message %q", c1.Pacing.Mode, c1.AbandonMessage)
	}
	wantRetry := []config.RetryRule{
		{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer, domain.OutcomeBusy}, After: 30 * time.Minute, MaxAttempts: 3},
		{Outcomes: []domain.Outcome{domain.OutcomeNetworkFailure}, After: 5 * time.Minute, MaxAttempts: 5},
	}
	if !reflect.DeepEqual(c1.Retry, wantRetry) {
		t.Errorf("retry = %+v, want %+v", c1.Retry, wantRetry)
	}
	var codes []string
	for _, rc := range c1.ResultCodes {
		codes = append(codes, rc.Code)
	}
	if !reflect.DeepEqual(codes, []string{"interested", "not_interested", "call_back_later", "wrong_number", "do_not_call"}) {
		t.Errorf("result codes = %q", codes)
	}
	c2, _ := cfg.Campaign(2)
	if c2.Name != "Weekday surveys" || c2.Pacing.Mode != config.PacingRatio ||
		c2.BusinessHours.Start.String() != "09:00" || c2.BusinessHours.End.String() != "18:00" {
		t.Errorf("campaign 2 = %+v", c2)
	}
	g1, _ := cfg.DialGroup(1)
	g2, _ := cfg.DialGroup(2)
	if !reflect.DeepEqual(g1.AgentIDs, []int{1001, 1002, 1003, 1004}) || !reflect.DeepEqual(g2.AgentIDs, []int{1003, 1004}) {
		t.Errorf("dial groups = %+v / %+v", g1, g2)
	}
	if a, ok := cfg.Agent(1004); !ok || a.DialString != "loopback/agent-1004/agents" {
		t.Errorf("agent 1004 = %+v", a)
	}
	if len(cfg.Users) != 7 {
		t.Errorf("users = %d, want admin, 2 supervisors, 4 agents", len(cfg.Users))
	}
}

func TestDefaultsApplied(t *testing.T) {
	cfg := mustLoad(t, edit(t, "system:\n  history_retention_days: 180\n", ""))
	want := config.System{
		HistoryRetentionDays: 180, // B-2 default R
		Limits: config.Limits{
			MaxBatches: 1000, MaxListsPerBatch: 100, MaxRowsPerList: 3000,
			MaxCallJobs: 1000, MaxRunningCallJobs: 5,
			// List uploads (issue 13 row 2): 3000 rows of 8 KiB fit in 32 MiB.
			MaxUploadBytes: 32 << 20, MaxRowBytes: 8 << 10, MaxErrorCSVBytes: 8 << 20,
		},
		DoNotCall:               config.DoNotCall{OnImport: config.DoNotCallFlag}, // issue 14 item 1
		AgentIdleLimit:          60 * time.Minute,
		UnsavedDispositionGrace: 10 * time.Minute,
		RetentionSweepInterval:  10 * time.Minute,
		ShutdownTimeout:         30 * time.Second,
	}
	if cfg.System != want {
		t.Errorf("system = %+v\nwant %+v", cfg.System, want)
	}
	if cfg.Redis != (config.Redis{Addr: "127.0.0.1:6379", DB: 0}) {
		t.Errorf("redis = %+v", cfg.Redis)
	}
	if cfg.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("http.listen = %q", cfg.HTTP.Listen)
	}
	if want := filepath.Join(os.TempDir(), "kakeru-uploads"); cfg.HTTP.UploadDir != want || config.DefaultUploadDir() != want {
		t.Errorf("http.upload_dir = %q, want %q", cfg.HTTP.UploadDir, want)
	}
	if cfg.FreeSWITCH.AgentCallerID != "0011" || cfg.FreeSWITCH.DialTimeout != 5*time.Second {
		t.Errorf("freeswitch = %+v", cfg.FreeSWITCH)
	}
	wantPacing := config.Pacing{Mode: "predictive", TargetAbandonRate: 0.03, MaxRatio: 3, ConnectDeadline: 2 * time.Second}
	for i, cp := range cfg.Campaigns {
		if cp.TimeZone != "Asia/Tokyo" || cp.Location == nil || cp.Location.String() != "Asia/Tokyo" {
			t.Errorf("campaigns[%d] time zone %q / %v", i, cp.TimeZone, cp.Location)
		}
		if cp.Pacing != wantPacing {
			t.Errorf("campaigns[%d].pacing = %+v, want %+v", i, cp.Pacing, wantPacing)
		}
	}
}

// S-2: a campaign's callback grace defaults to 5 minutes; an explicit 0 (anyone at once) stays.
func TestCallbackGrace(t *testing.T) {
	cfg := mustLoad(t, edit(t, `    caller_ids: ["0312345679"]`, `    caller_ids: ["0312345679"]
    callback_grace: 0s`))
	if got := cfg.Campaigns[0].CallbackGrace; got != 5*time.Minute {
		t.Errorf("campaigns[0].callback_grace = %s, want the default 5m", got)
	}
	if got := cfg.Campaigns[1].CallbackGrace; got != 0 {
		t.Errorf("campaigns[1].callback_grace = %s, want 0", got)
	}
}

// A partly written pacing section keeps what it says and defaults the rest.
func TestPartialPacingKeepsExplicitValues(t *testing.T) {
	cfg := mustLoad(t, edit(t, `    caller_ids: ["0312345679"]`, `    caller_ids: ["0312345679"]
    pacing:
      mode: progressive
      max_ratio: 1.5`))
	want := config.Pacing{Mode: "progressive", TargetAbandonRate: 0.03, MaxRatio: 1.5, ConnectDeadline: 2 * time.Second}
	if got := cfg.Campaigns[1].Pacing; got != want {
		t.Errorf("pacing = %+v, want %+v", got, want)
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("KAKERU_SYSTEM_HISTORY_RETENTION_DAYS", "200")
	t.Setenv("KAKERU_REDIS_ADDR", "redis.internal:6380")
	t.Setenv("KAKERU_REDIS_DB", "3")
	t.Setenv("KAKERU_SYSTEM_LIMITS_MAX_BATCHES", "50")
	t.Setenv("KAKERU_SYSTEM_SHUTDOWN_TIMEOUT", "1m")
	t.Setenv("KAKERU_HTTP_LISTEN", ":9090")
	t.Setenv("KAKERU_FREESWITCH_DIAL_TIMEOUT", "750ms")
	// postgres.dsn is absent from the file and has no default: BindEnv must still reach it.
	t.Setenv("KAKERU_POSTGRES_DSN", "postgres://env/kakeru")
	// Other tools' variables are none of the configuration's business.
	t.Setenv("KAKERU_LAB_PREFIX", "/opt/lab")

	cfg := mustLoad(t, edit(t, "postgres:\n  dsn: postgres://localhost/kakeru\n", ""))
	if cfg.System.HistoryRetentionDays != 200 {
		t.Errorf("history_retention_days = %d, want 200 from the environment", cfg.System.HistoryRetentionDays)
	}
	if cfg.Redis.Addr != "redis.internal:6380" || cfg.Redis.DB != 3 {
		t.Errorf("redis = %+v", cfg.Redis)
	}
	if cfg.System.Limits.MaxBatches != 50 || cfg.System.ShutdownTimeout != time.Minute {
		t.Errorf("system = %+v", cfg.System)
	}
	if cfg.HTTP.Listen != ":9090" || cfg.FreeSWITCH.DialTimeout != 750*time.Millisecond {
		t.Errorf("http.listen %q, dial_timeout %s", cfg.HTTP.Listen, cfg.FreeSWITCH.DialTimeout)
	}
	if cfg.Postgres.DSN != "postgres://env/kakeru" {
		t.Errorf("dsn = %q", cfg.Postgres.DSN)
	}
	if len(cfg.Campaigns) != 2 {
		t.Errorf("campaigns = %d, want the file's 2", len(cfg.Campaigns))
	}
}

// A bad environment value is a problem at the key path, and says where it came from (B-2).
func TestEnvOverrideValidated(t *testing.T) {
	t.Setenv("KAKERU_SYSTEM_HISTORY_RETENTION_DAYS", "90")
	t.Setenv("KAKERU_REDIS_DB", "three")
	_, err := config.Load(writeFile(t, baseYAML))
	ve := validationError(t, err)
	assertPaths(t, ve, "redis.db", "system.history_retention_days")
	for _, p := range ve.Problems {
		if !strings.Contains(p.Message, "(set by "+config.EnvName(p.Path)+")") {
			t.Errorf("%s: message %q does not name the environment variable", p.Path, p.Message)
		}
	}
}

// Issue 13 row 17: an environment variable that names a section but no overridable key is
// refused like an unknown key in the file (a misspelt override would leave the default in force
// in silence); lists are set in the file only.
func TestUnknownEnvOverridesRefused(t *testing.T) {
	t.Setenv("KAKERU_REDIS_ADR", "redis.internal:6380")
	t.Setenv("KAKERU_CAMPAIGNS", "nonsense")
	t.Setenv("KAKERU_HTTP", "x")
	t.Setenv("KAKERU_TEST_SERVE", "1") // not a section: another tool's
	_, err := config.Load(writeFile(t, baseYAML))
	ve := validationError(t, err)
	assertPaths(t, ve, "environment KAKERU_CAMPAIGNS", "environment KAKERU_HTTP", "environment KAKERU_REDIS_ADR")
	for _, p := range ve.Problems {
		if p.Path == "environment KAKERU_REDIS_ADR" && !strings.Contains(p.Message, "KAKERU_REDIS_ADDR") {
			t.Errorf("%s: %q does not name the known overrides", p.Path, p.Message)
		}
	}
}

// Issue 13 row 17: no users is allowed (a switch-only trial) but warned about.
func TestWarningsNoUsers(t *testing.T) {
	cfg := mustLoad(t, baseYAML)
	if w := cfg.Warnings(); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
	cfg.Users = nil
	if w := cfg.Warnings(); len(w) != 1 || !strings.Contains(w[0], "no users") {
		t.Errorf("warnings %q", w)
	}
}

func TestMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := config.Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an fs.ErrNotExist naming %s", err, path)
	}
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		t.Error("a missing file is not a validation error")
	}
}

func TestUnparsableYAML(t *testing.T) {
	path := writeFile(t, "system:\n  history_retention_days: [1\n")
	_, err := config.Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load(bad yaml) = %v, want an error naming %s", err, path)
	}
}

func TestEmptyFileReportsWhatIsRequired(t *testing.T) {
	_, err := config.Load(writeFile(t, ""))
	assertPaths(t, validationError(t, err),
		"campaigns", "freeswitch.customer_dial_string", "freeswitch.nodes", "postgres.dsn")
}

// Issue 14 item 1: the import refuses numbers on a do-not-call list when configured so.
func TestDoNotCallOnImportRefuse(t *testing.T) {
	cfg := mustLoad(t, edit(t, "history_retention_days: 180", "history_retention_days: 180\n  do_not_call:\n    on_import: refuse"))
	if cfg.System.DoNotCall.OnImport != config.DoNotCallRefuse {
		t.Errorf("on_import = %q", cfg.System.DoNotCall.OnImport)
	}
}
