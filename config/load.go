package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"github.com/kakeru-dialer/kakeru/calendar"
)

// EnvPrefix starts every environment override: KAKERU_ + the upper-cased key path with "." → "_",
// e.g. KAKERU_SYSTEM_HISTORY_RETENTION_DAYS or KAKERU_POSTGRES_DSN.
const EnvPrefix = "KAKERU_"

// Defaults of the list elements, applied after decoding to keys absent from the file.
const (
	DefaultTimeZone          = "Asia/Tokyo"
	DefaultPacingMode        = "predictive"
	DefaultTargetAbandonRate = 0.03
	DefaultMaxRatio          = 3.0
	DefaultConnectDeadline   = 2 * time.Second
	DefaultCallbackGrace     = 5 * time.Minute
)

// DefaultUploadDir is where list uploads are spooled unless http.upload_dir says otherwise:
// kakeru-uploads in the system's temporary directory.
func DefaultUploadDir() string {
	return filepath.Join(os.TempDir(), "kakeru-uploads")
}

// setting is one scalar key of a non-list section: it can be overridden from the environment and
// may have a default.
type setting struct {
	key string
	def any // nil: no default
}

// settings lists every environment-overridable key. Lists (campaigns, nodes, users …) are not
// overridable: a list in an environment variable would be unreadable and easy to get wrong.
func settings() []setting {
	return []setting{
		{"system.history_retention_days", 180},
		{"system.limits.max_batches", 1000},
		{"system.limits.max_lists_per_batch", 100},
		{"system.limits.max_rows_per_list", 3000},
		{"system.limits.max_call_jobs", 1000},
		{"system.limits.max_running_call_jobs", 5},
		{"system.limits.max_upload_bytes", 32 << 20},
		{"system.limits.max_row_bytes", 8 << 10},
		{"system.limits.max_error_csv_bytes", 8 << 20},
		{"system.do_not_call.on_import", DoNotCallFlag},
		{"system.agent_idle_limit", 60 * time.Minute},
		{"system.unsaved_disposition_grace", 10 * time.Minute},
		{"system.retention_sweep_interval", 10 * time.Minute},
		{"system.shutdown_timeout", 30 * time.Second},
		{"postgres.dsn", nil},
		{"postgres.max_conns", 20},
		{"postgres.api_max_conns", 10},
		{"postgres.api_statement_timeout", 30 * time.Second},
		{"redis.addr", "127.0.0.1:6379"},
		{"redis.db", 0},
		{"redis.password", nil},
		{"http.listen", "127.0.0.1:8080"},
		{"http.max_connections", 1024},
		{"http.body_timeout", 5 * time.Minute},
		{"http.heavy_requests", 0},
		{"http.upload_bytes_per_second", 32 << 20},
		{"http.upload_dir", DefaultUploadDir()},
		{"freeswitch.customer_dial_string", nil},
		{"freeswitch.agent_caller_id", "0011"},
		{"freeswitch.login_prompt", "ivr/ivr-you_are_now_logged_in.wav"},
		{"freeswitch.hold_music", "local_stream://moh"},
		{"freeswitch.conference_profile", "default"},
		{"freeswitch.dial_timeout", 5 * time.Second},
		{"freeswitch.recordings.directory", nil},
		{"freeswitch.recordings.switch_directory", nil},
	}
}

// EnvName is the environment variable that overrides key, e.g. "redis.addr" → "KAKERU_REDIS_ADDR".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads exactly one YAML file, applies KAKERU_* environment overrides and defaults, and
// validates the result. A file that cannot be read is a plain error naming the path; anything
// wrong inside it is a *ValidationError listing every problem with its key path.
func Load(path string) (*Config, error) {
	if path == "" {
		return nil, errors.New("config: no configuration file given")
	}
	info, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("config %s: is a directory, want a YAML file", path)
	}

	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("yaml")
	for _, s := range settings() {
		// Explicit bindings rather than AutomaticEnv: AutomaticEnv would also let KAKERU_CAMPAIGNS
		// replace a whole list, and Unmarshal ignores it for keys viper does not otherwise know.
		if err := v.BindEnv(s.key, EnvName(s.key)); err != nil {
			return nil, fmt.Errorf("config: bind %s: %w", s.key, err)
		}
		if s.def != nil {
			v.SetDefault(s.key, s.def)
		}
	}
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}

	var cfg Config
	md := &mapstructure.Metadata{}
	var problems []Problem
	err = v.UnmarshalExact(&cfg,
		viper.DecodeHook(decodeHook),
		func(dc *mapstructure.DecoderConfig) {
			// Strict types: the hook converts strings (environment values) to numbers, and
			// nothing else is coerced (no true → 1, no 0011 → "9", no 3.7 → 3).
			dc.WeaklyTypedInput = false
			dc.Metadata = md
		})
	if err != nil {
		problems = decodeProblems(err)
	}

	present := make(map[string]bool, len(md.Keys))
	for _, k := range md.Keys {
		present[k] = true
	}
	applyListDefaults(&cfg, present)

	failed := make([]string, 0, len(problems))
	for _, p := range problems {
		failed = append(failed, p.Path)
	}
	problems = append(problems, validate(&cfg, failed)...)
	problems = append(problems, environmentProblems(os.Environ())...)
	if len(problems) > 0 {
		annotateEnv(problems)
		return nil, &ValidationError{Problems: problems}
	}
	return &cfg, nil
}

// applyListDefaults fills defaults inside list elements, which viper defaults cannot reach. Only
// keys absent from the file are filled: an explicit 0 stays 0 and is reported by validation.
func applyListDefaults(cfg *Config, present map[string]bool) {
	for i := range cfg.Campaigns {
		cp := &cfg.Campaigns[i]
		p := fmt.Sprintf("campaigns[%d].", i)
		if !present[p+"time_zone"] {
			cp.TimeZone = DefaultTimeZone
		}
		if !present[p+"pacing.mode"] {
			cp.Pacing.Mode = DefaultPacingMode
		}
		if !present[p+"pacing.target_abandon_rate"] {
			cp.Pacing.TargetAbandonRate = DefaultTargetAbandonRate
		}
		if !present[p+"pacing.max_ratio"] {
			cp.Pacing.MaxRatio = DefaultMaxRatio
		}
		if !present[p+"pacing.connect_deadline"] {
			cp.Pacing.ConnectDeadline = DefaultConnectDeadline
		}
		if !present[p+"calendar.closed_on_public_holidays"] {
			cp.Calendar.ClosedOnPublicHolidays = string(calendar.HolidaysNone)
		}
		applyAnalysisDefaults(cp, present, p)
		applyDeskDefaults(cp, present, p)
		if !present[p+"callback_grace"] {
			cp.CallbackGrace = DefaultCallbackGrace
		}
		// Business hours have no default: validation reports them as required.
		if !present[p+"business_hours.start"] {
			cp.BusinessHours.Start = ClockTime{Minutes: -1}
		}
		if !present[p+"business_hours.end"] {
			cp.BusinessHours.End = ClockTime{Minutes: -1}
		}
	}
}

// annotateEnv tells which problems come from an environment variable rather than the file.
func annotateEnv(problems []Problem) {
	for i, p := range problems {
		for _, s := range settings() {
			if p.Path != s.key {
				continue
			}
			if val, ok := os.LookupEnv(EnvName(s.key)); ok && val != "" {
				problems[i].Message += " (set by " + EnvName(s.key) + ")"
			}
		}
	}
}
