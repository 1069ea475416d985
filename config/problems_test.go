package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

func validationError(t *testing.T, err error) *config.ValidationError {
	t.Helper()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want a *config.ValidationError", err, err)
	}
	return ve
}

// assertPaths checks that the problems are exactly at want (in any order, each once).
func assertPaths(t *testing.T, ve *config.ValidationError, want ...string) {
	t.Helper()
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Path)
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problem paths = %q\nwant %q\nerror:\n%v", got, want, ve)
	}
}

func TestBrokenFiles(t *testing.T) {
	long := strings.Repeat("名", 101)
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"B-2 retention 90 is below the minimum of 91",
			edit(t, "history_retention_days: 180", "history_retention_days: 90"),
			[]string{"system.history_retention_days"}},
		{"issue 14: on_import is flag or refuse",
			edit(t, "history_retention_days: 180", "history_retention_days: 180\n  do_not_call:\n    on_import: skip"),
			[]string{"system.do_not_call.on_import"}},
		{"retention above 3650",
			edit(t, "history_retention_days: 180", "history_retention_days: 3651"),
			[]string{"system.history_retention_days"}},
		{"J-6 business end before start",
			edit(t, `end: "17:00"`, `end: "09:00"`),
			[]string{"campaigns[1].business_hours.end"}},
		{"business end equal to start",
			edit(t, `end: "17:00"`, `end: "10:00"`),
			[]string{"campaigns[1].business_hours.end"}},
		{"bad HH:MM is one problem, no follow-up about end",
			edit(t, `start: "09:00"`, `start: "9am"`),
			[]string{"campaigns[0].business_hours.start"}},
		{"G-1 a login prompt with a space would split the switch command",
			edit(t, "  customer_dial_string: loopback/{tel}/customers", "  customer_dial_string: loopback/{tel}/customers\n  login_prompt: ivr/you are in.wav"),
			[]string{"freeswitch.login_prompt"}},
		{"P-2 an abandon message with the inline separator",
			edit(t, "    name: First\n", "    name: First\n    abandon_message: a^b\n"),
			[]string{"campaigns[0].abandon_message"}},
		{"S-1 a supervisor endpoint with a space",
			edit(t, "    role: supervisor\n    campaign_ids: [1]\n", "    role: supervisor\n    campaign_ids: [1]\n    supervisor_endpoints: [\"user/2001 x\"]\n"),
			[]string{"users[1].supervisor_endpoints[0]"}},
		{"S-1 issue 13 row 13: supervisor endpoints that would dial several phones",
			edit(t, "    role: supervisor\n    campaign_ids: [1]\n", "    role: supervisor\n    campaign_ids: [1]\n    supervisor_endpoints: [\"user/2001,sofia/gateway/main/0901\", \"user/2001|user/2002\", \"user/2001:_:user/2002\", \"{x=1}user/2001\"]\n"),
			[]string{"users[1].supervisor_endpoints[0]", "users[1].supervisor_endpoints[1]", "users[1].supervisor_endpoints[2]", "users[1].supervisor_endpoints[3]"}},
		{"X-1 may_start_jobs is for supervisors only",
			edit(t, "    agent_id: 1001\n", "    agent_id: 1001\n    may_start_jobs: true\n",
				"    role: admin\n", "    role: admin\n    may_start_jobs: true\n"),
			[]string{"users[0].may_start_jobs", "users[2].may_start_jobs"}},
		{"issue 13 row 5: a customer dial string the originate would split",
			edit(t, "  customer_dial_string: loopback/{tel}/customers", "  customer_dial_string: loopback/{tel}/customers x"),
			[]string{"freeswitch.customer_dial_string"}},
		{"an agent's dial string with a space",
			edit(t, "    dial_string: loopback/agent-1001/agents", "    dial_string: loopback/agent-1001/agents x"),
			[]string{"agents[0].dial_string"}},
		{"hour 25",
			edit(t, `end: "18:00"`, `end: "25:00"`),
			[]string{"campaigns[0].business_hours.end"}},
		{"24:30 is past the end of day",
			edit(t, `end: "18:00"`, `end: "24:30"`),
			[]string{"campaigns[0].business_hours.end"}},
		{"business hours as a number",
			edit(t, `start: "09:00"`, `start: 900`),
			[]string{"campaigns[0].business_hours.start"}},
		{"missing business start",
			edit(t, "      start: \"10:00\"\n", ""),
			[]string{"campaigns[1].business_hours.start"}},
		{"missing business hours",
			edit(t, "    business_hours:\n      start: \"10:00\"\n      end: \"17:00\"\n", ""),
			[]string{"campaigns[1].business_hours.start", "campaigns[1].business_hours.end"}},
		{"unknown key typo at the top of a section",
			edit(t, "history_retention_days: 180", "history_retension_days: 180"),
			[]string{"system.history_retension_days"}},
		{"unknown top-level section",
			edit(t, "postgres:\n", "postgress:\n  dsn: x\npostgres:\n"),
			[]string{"postgress"}},
		{"typo in a list element also leaves the real key missing",
			edit(t, `caller_ids: ["0312345679"]`, `caller_id: ["0312345679"]`),
			[]string{"campaigns[1].caller_id", "campaigns[1].caller_ids"}},
		{"Location is not a file key",
			edit(t, "    name: Second\n", "    name: Second\n    location: Asia/Tokyo\n"),
			[]string{"campaigns[1].location"}},
		{"wrong type: string for an int",
			edit(t, "history_retention_days: 180", "history_retention_days: lots"),
			[]string{"system.history_retention_days"}},
		{"wrong type: boolean for an int",
			edit(t, "  - id: 2\n", "  - id: true\n"),
			[]string{"campaigns[1].id"}},
		{"wrong type: fraction for an int",
			edit(t, "max_attempts: 3", "max_attempts: 2.5"),
			[]string{"campaigns[0].retry[0].max_attempts"}},
		{"wrong type: unquoted caller ID loses its leading zero",
			edit(t, `caller_ids: ["0312345678"]`, `caller_ids: [312345678]`),
			[]string{"campaigns[0].caller_ids[0]"}},
		{"wrong type: scalar for a list",
			edit(t, "agent_ids: [1001, 1002]", "agent_ids: 1001"),
			[]string{"dial_groups[0].agent_ids"}},
		{"wrong type: scalar for a section",
			edit(t, "system:\n  history_retention_days: 180\n", "system:\n  limits: 5\n"),
			[]string{"system.limits"}},
		{"duration without unit",
			edit(t, "after: 30m", "after: 30"),
			[]string{"campaigns[0].retry[0].after"}},
		{"bad duration",
			edit(t, "history_retention_days: 180", "history_retention_days: 180\n  agent_idle_limit: 1 hour"),
			[]string{"system.agent_idle_limit"}},
		{"shutdown timeout above 10m and a zero limit",
			edit(t, "history_retention_days: 180", "history_retention_days: 180\n  shutdown_timeout: 11m\n  limits:\n    max_running_call_jobs: 0"),
			[]string{"system.shutdown_timeout", "system.limits.max_running_call_jobs"}},
		{"list upload limits: a row cap below the longest valid row, an upload smaller than two rows, an error CSV too small",
			edit(t, "history_retention_days: 180", "history_retention_days: 180\n  limits:\n    max_row_bytes: 4096\n    max_upload_bytes: 1000\n    max_error_csv_bytes: 100"),
			[]string{"system.limits.max_row_bytes", "system.limits.max_upload_bytes", "system.limits.max_error_csv_bytes"}},
		{"list upload limits above their maxima",
			edit(t, "history_retention_days: 180", "history_retention_days: 180\n  limits:\n    max_row_bytes: 2000000\n    max_upload_bytes: 4000000\n    max_error_csv_bytes: 100000000"),
			[]string{"system.limits.max_row_bytes", "system.limits.max_error_csv_bytes"}},
		{"relative upload directory",
			edit(t, "postgres:\n", "http:\n  upload_dir: uploads\npostgres:\n"),
			[]string{"http.upload_dir"}},
		{"duplicate campaign id",
			edit(t, "  - id: 2\n", "  - id: 1\n"),
			[]string{"campaigns[1].id"}},
		{"duplicate campaign name and too long name",
			edit(t, "name: Second", "name: First", "name: Floor", "name: "+long),
			[]string{"campaigns[1].name", "dial_groups[0].name"}},
		{"unknown agent in dial group",
			edit(t, "agent_ids: [1001, 1002]", "agent_ids: [1001, 1009]"),
			[]string{"dial_groups[0].agent_ids[1]"}},
		{"duplicate agent in dial group",
			edit(t, "agent_ids: [1001, 1002]", "agent_ids: [1001, 1001]"),
			[]string{"dial_groups[0].agent_ids[1]"}},
		{"X-1 supervisor with unknown campaign",
			edit(t, "campaign_ids: [1]", "campaign_ids: [7]"),
			[]string{"users[1].campaign_ids[0]"}},
		{"X-1 supervisor without campaigns and with an agent id",
			edit(t, "    campaign_ids: [1]\n", "    agent_id: 1001\n"),
			[]string{"users[1].campaign_ids", "users[1].agent_id"}},
		{"X-1 agent user of an unknown agent",
			edit(t, "agent_id: 1001", "agent_id: 999"),
			[]string{"users[2].agent_id"}},
		{"X-1 admin with campaigns and unknown role",
			edit(t, "    role: admin\n", "    role: admin\n    campaign_ids: [1]\n", "role: agent", "role: operator"),
			[]string{"users[0].campaign_ids", "users[2].role"}},
		{"X-1 bad token hash: upper case",
			edit(t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", strings.Repeat("A", 64)),
			[]string{"users[0].token_sha256"}},
		{"X-1 bad token hash: the token itself",
			edit(t, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "demo-supervisor-token"),
			[]string{"users[1].token_sha256"}},
		{"X-1 token placeholders of a packaged configuration",
			edit(t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", config.TokenPlaceholder,
				"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", config.TokenPlaceholder),
			[]string{"users[0].token_sha256", "users[2].token_sha256"}},
		{"X-1 shared token and duplicate user name",
			edit(t, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", strings.Repeat("a", 64), "name: boss", "name: admin"),
			[]string{"users[2].token_sha256", "users[1].name"}},
		{"bad time zone",
			edit(t, "    name: First\n", "    name: First\n    time_zone: Mars/Olympus\n"),
			[]string{"campaigns[0].time_zone"}},
		{"empty time zone is not UTC",
			edit(t, "    name: First\n", "    name: First\n    time_zone: \"\"\n"),
			[]string{"campaigns[0].time_zone"}},
		{"missing dsn",
			edit(t, "postgres:\n  dsn: postgres://localhost/kakeru\n", ""),
			[]string{"postgres.dsn"}},
		{"P-1 bad pacing mode",
			edit(t, `caller_ids: ["0312345679"]`, "caller_ids: [\"0312345679\"]\n    pacing:\n      mode: aggressive"),
			[]string{"campaigns[1].pacing.mode"}},
		{"P-1 explicit zero pacing values are not replaced by defaults",
			edit(t, `caller_ids: ["0312345679"]`, "caller_ids: [\"0312345679\"]\n    pacing:\n      target_abandon_rate: 0\n      max_ratio: 0\n      connect_deadline: 100ms"),
			[]string{"campaigns[1].pacing.target_abandon_rate", "campaigns[1].pacing.max_ratio", "campaigns[1].pacing.connect_deadline"}},
		{"P-3 answer analysis problems",
			edit(t, `caller_ids: ["0312345679"]`, "caller_ids: [\"0312345679\"]\n    pacing:\n      connect_deadline: 3s\n    answer_analysis:\n      detector: avmd\n      time_limit: 10s\n      machine_action: voicemail\n      false_positive_estimate: 0.05\n      human_silence: 20s"),
			[]string{"campaigns[1].answer_analysis.time_limit", "campaigns[1].answer_analysis.voicemail_message",
				"campaigns[1].answer_analysis.false_positive_estimate", "campaigns[1].answer_analysis.human_silence",
				"campaigns[1].pacing.connect_deadline"}},
		{"P-3 custom detector without its verdict",
			edit(t, `caller_ids: ["0312345679"]`, "caller_ids: [\"0312345679\"]\n    answer_analysis:\n      detector: custom\n      custom:\n        application: \"amd x\""),
			[]string{"campaigns[1].answer_analysis.custom.application", "campaigns[1].answer_analysis.custom.variable",
				"campaigns[1].answer_analysis.custom.human", "campaigns[1].answer_analysis.custom.machine"}},
		{"recording without a directory, a path without {attempt} or outside it",
			edit(t, `caller_ids: ["0312345679"]`, "caller_ids: [\"0312345679\"]\n    recording:\n      mode: all\n      path: \"../{date}.wav\"\n      format: ogg"),
			[]string{"freeswitch.recordings.directory", "campaigns[1].recording.format", "campaigns[1].recording.path"}},
		{"S-2 callback grace below 0 or above a day",
			edit(t, `caller_ids: ["0312345679"]`, "caller_ids: [\"0312345679\"]\n    callback_grace: 25h", "    name: First\n", "    name: First\n    callback_grace: -1s\n"),
			[]string{"campaigns[1].callback_grace", "campaigns[0].callback_grace"}},
		{"P-3 retry rule problems",
			edit(t, "outcomes: [no_answer]", "outcomes: [no_answer, hung_up, no_answer]", "max_attempts: 3", "max_attempts: 0"),
			[]string{"campaigns[0].retry[0].outcomes[1]", "campaigns[0].retry[0].outcomes[2]", "campaigns[0].retry[0].max_attempts"}},
		{"caller IDs: none, not digits, duplicate",
			edit(t, `caller_ids: ["0312345678"]`, `caller_ids: ["03-1234-5678", "0312345678", "0312345678"]`, `caller_ids: ["0312345679"]`, "caller_ids: []"),
			[]string{"campaigns[0].caller_ids[0]", "campaigns[0].caller_ids[2]", "campaigns[1].caller_ids"}},
		{"result code problems",
			edit(t, "      - code: ok\n        label: OK\n", "      - code: OK\n        label: OK\n      - code: fine\n        label: \"\"\n"),
			[]string{"campaigns[0].result_codes[0].code", "campaigns[0].result_codes[1].label"}},
		{"dial strings need {tel}",
			edit(t, "customer_dial_string: loopback/{tel}/customers", "customer_dial_string: loopback/customers",
				"    name: Second\n", "    name: Second\n    customer_dial_string: sofia/gateway/x/tel\n"),
			[]string{"freeswitch.customer_dial_string", "campaigns[1].customer_dial_string"}},
		{"node problems",
			edit(t, "    - name: fs1\n      address: 127.0.0.1:8021\n      password: ClueCon\n",
				"    - name: fs1\n      address: 127.0.0.1\n      password: \"\"\n    - name: fs1\n      address: fs2:8021\n      password: x\n"),
			[]string{"freeswitch.nodes[0].address", "freeswitch.nodes[0].password", "freeswitch.nodes[1].name"}},
		{"no nodes, supervisor with an empty campaign list",
			edit(t, "  nodes:\n    - name: fs1\n      address: 127.0.0.1:8021\n      password: ClueCon\n", "",
				"campaign_ids: [1]", "campaign_ids: []"),
			[]string{"freeswitch.nodes", "users[1].campaign_ids"}},
		{"service addresses",
			edit(t, "system:", "redis:\n  addr: localhost\n  db: 16\nhttp:\n  listen: \"8080\"\nsystem:"),
			[]string{"redis.addr", "redis.db", "http.listen"}},
		{"several problems at once are all reported",
			edit(t,
				"history_retention_days: 180", "history_retention_days: 90",
				"postgres:\n  dsn: postgres://localhost/kakeru\n", "",
				`end: "17:00"`, `end: "09:00"`,
				`start: "09:00"`, `start: "nine"`,
				"agent_ids: [1001, 1002]", "agent_ids: [1001, 1009]",
				"campaign_ids: [1]", "campaign_ids: [1, 3]",
				"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "bad",
				"    name: Agent 1002\n", "    name: Agent 1002\n    phone: 2\n",
			),
			[]string{
				"system.history_retention_days", "postgres.dsn",
				"campaigns[0].business_hours.start", "campaigns[1].business_hours.end",
				"dial_groups[0].agent_ids[1]", "users[1].campaign_ids[1]", "users[1].token_sha256",
				"agents[1].phone",
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, tc.yaml))
			ve := validationError(t, err)
			assertPaths(t, ve, tc.want...)
			if lines := strings.Split(ve.Error(), "\n"); len(lines) != len(ve.Problems) {
				t.Errorf("Error() has %d lines for %d problems", len(lines), len(ve.Problems))
			}
			for _, p := range ve.Problems {
				if p.Message == "" {
					t.Errorf("%s: empty message", p.Path)
				}
			}
		})
	}
}

// A placeholder token is named as such, with how to make a real hash.
func TestTokenPlaceholderMessage(t *testing.T) {
	_, err := config.Load(writeFile(t, edit(t,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", config.TokenPlaceholder)))
	want := "users[0].token_sha256: is the placeholder " + config.TokenPlaceholder
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "| sha256sum") {
		t.Fatalf("error = %v, want %q and how to hash a token", err, want)
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := config.Load(writeFile(t, edit(t, `end: "17:00"`, `end: "09:00"`,
		"history_retention_days: 180", "history_retension_days: 180")))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"campaigns[1].business_hours.end: must be after start",
		`system.history_retension_days: unknown key (did you mean "history_retention_days"?)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// J-5 refuses to start a job of a campaign without result codes; the configuration allows it.
func TestEmptyResultCodesAllowed(t *testing.T) {
	cfg := mustLoad(t, baseYAML)
	if c, _ := cfg.Campaign(2); len(c.ResultCodes) != 0 {
		t.Fatalf("campaign 2 has result codes %v", c.ResultCodes)
	}
}

// Withheld caller ID needs no number (J-1).
func TestWithheldCallerIDNeedsNoNumbers(t *testing.T) {
	mustLoad(t, edit(t, `caller_ids: ["0312345679"]`, "withhold_caller_id: true"))
}

// Validate on a Config built in code never panics and reports zero values as problems.
func TestValidateZeroConfig(t *testing.T) {
	var cfg config.Config
	cfg.Campaigns = []config.Campaign{{}}
	cfg.Users = []config.User{{}}
	cfg.DialGroups = []config.DialGroup{{AgentIDs: []int{5}}}
	err := cfg.Validate()
	ve := validationError(t, err)
	if len(ve.Problems) < 10 {
		t.Errorf("only %d problems for an empty config:\n%v", len(ve.Problems), ve)
	}
}
