// Package config turns one YAML file plus KAKERU_* environment overrides into typed, validated
// settings. It is the only package that imports viper: everything else receives these structs.
package config

import (
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/domain"
)

// Config is the whole configuration of one kakeru process.
type Config struct {
	System     System      `mapstructure:"system"`
	Postgres   Postgres    `mapstructure:"postgres"`
	Redis      Redis       `mapstructure:"redis"`
	FreeSWITCH FreeSWITCH  `mapstructure:"freeswitch"`
	HTTP       HTTP        `mapstructure:"http"`
	Campaigns  []Campaign  `mapstructure:"campaigns"`
	DialGroups []DialGroup `mapstructure:"dial_groups"`
	Agents     []Agent     `mapstructure:"agents"`
	Users      []User      `mapstructure:"users"`
}

// System holds process-wide rules of the product.
type System struct {
	// HistoryRetentionDays is R of B-2 (minimum 91, default 180).
	HistoryRetentionDays int    `mapstructure:"history_retention_days"`
	Limits               Limits `mapstructure:"limits"`
	// DoNotCall is how do-not-call lists apply (issue 14 item 1).
	DoNotCall DoNotCall `mapstructure:"do_not_call"`
	// AgentIdleLimit logs an idle agent off (G-5, default 60m).
	AgentIdleLimit time.Duration `mapstructure:"agent_idle_limit"`
	// UnsavedDispositionGrace turns a connected call without disposition into an unsaved
	// disposition (D-3, default 10m).
	UnsavedDispositionGrace time.Duration `mapstructure:"unsaved_disposition_grace"`
	// RetentionSweepInterval is how often the B-6 sweeper runs (default 10m).
	RetentionSweepInterval time.Duration `mapstructure:"retention_sweep_interval"`
	// ShutdownTimeout bounds the graceful drain on SIGTERM (default 30s).
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
}

// Limits are the configurable maxima of B-7, L-5, J-5 and J-7, and the bounds of a list upload.
type Limits struct {
	MaxBatches         int `mapstructure:"max_batches"`           // default 1000
	MaxListsPerBatch   int `mapstructure:"max_lists_per_batch"`   // default 100
	MaxRowsPerList     int `mapstructure:"max_rows_per_list"`     // default 3000
	MaxCallJobs        int `mapstructure:"max_call_jobs"`         // default 1000
	MaxRunningCallJobs int `mapstructure:"max_running_call_jobs"` // default 5
	// A list upload is refused with 413 past MaxUploadBytes, the whole request (default 32 MiB:
	// max_rows_per_list rows of max_row_bytes). It is spooled to disk, never held in memory.
	MaxUploadBytes int `mapstructure:"max_upload_bytes"`
	// MaxRowBytes bounds one record of an import file, quoted line breaks and line ends included
	// (default 8 KiB, at least MinRowBytesLimit: any row L-2 accepts fits); a longer one refuses
	// the file as soon as it is read, so that reading it takes the same memory whatever its size.
	MaxRowBytes int `mapstructure:"max_row_bytes"`
	// MaxErrorCSVBytes bounds the error CSV of a refused import (L-4), kept in PostgreSQL
	// (default 8 MiB): rows past it are left out and its last row says so.
	MaxErrorCSVBytes int `mapstructure:"max_error_csv_bytes"`
}

// DoNotCall settings of the do-not-call lists.
type DoNotCall struct {
	// OnImport is what a list import does with rows whose number is on the global list or the
	// batch's campaign's: DoNotCallFlag (default) imports and counts them (the claim skips
	// them), DoNotCallRefuse makes each one a problem of the file, which is then refused (L-4).
	OnImport string `mapstructure:"on_import"`
}

// Values of system.do_not_call.on_import.
const (
	DoNotCallFlag   = "flag"
	DoNotCallRefuse = "refuse"
)

// Postgres locates the database.
type Postgres struct {
	DSN string `mapstructure:"dsn"`
	// MaxConns bounds the engine's pool (default 20). The HTTP API has a pool of its own, so a
	// burst of heavy requests never keeps the engine from recording calls.
	MaxConns int `mapstructure:"max_conns"`
	// APIMaxConns bounds the HTTP API's pool (default 10).
	APIMaxConns int `mapstructure:"api_max_conns"`
	// APIStatementTimeout ends any statement of the HTTP API that runs longer (default 30s).
	APIStatementTimeout time.Duration `mapstructure:"api_statement_timeout"`
}

// Redis locates live agent state.
type Redis struct {
	Addr     string `mapstructure:"addr"`
	DB       int    `mapstructure:"db"`
	Password string `mapstructure:"password"`
}

// FreeSWITCH lists the switch nodes and how customers are dialed.
type FreeSWITCH struct {
	Nodes []Node `mapstructure:"nodes"`
	// CustomerDialString is a template with {tel}, e.g. "sofia/gateway/main/{tel}".
	CustomerDialString string `mapstructure:"customer_dial_string"`
	// AgentCallerID is shown on the agent's phone when the engine calls it (G-1, default "0011").
	AgentCallerID string `mapstructure:"agent_caller_id"`
	// LoginPrompt is what an agent hears once its phone answers (G-1), a playback target;
	// default the stock FreeSWITCH sound "ivr/ivr-you_are_now_logged_in.wav"; "none" plays nothing.
	LoginPrompt string `mapstructure:"login_prompt"`
	// HoldMusic loops on an available agent's phone between calls (G-1, G-3); default
	// "local_stream://moh", the music on hold every stock FreeSWITCH configures.
	HoldMusic string `mapstructure:"hold_music"`
	// ConferenceProfile is the mod_conference profile of the agents' rooms (default "default",
	// which every stock FreeSWITCH has): each agent's phone sits in a room of its own for the
	// whole session and customers are moved in. The engine sets the room's hold music
	// (conference_moh_sound) and the beep a joining customer makes (conference_enter_sound)
	// itself; a profile that sets moh-sound replaces the hold music (the beep is the customer's
	// own and wins over the profile's enter-sound).
	ConferenceProfile string `mapstructure:"conference_profile"`
	// DialTimeout bounds connecting and authenticating to a node (default 5s).
	DialTimeout time.Duration `mapstructure:"dial_timeout"`
	// Recordings is where calls are recorded (needed when a campaign records).
	Recordings Recordings `mapstructure:"recordings"`
}

// Node is one FreeSWITCH event socket.
type Node struct {
	Name     string `mapstructure:"name"`
	Address  string `mapstructure:"address"`
	Password string `mapstructure:"password"`
}

// HTTP configures the API server.
type HTTP struct {
	Listen string `mapstructure:"listen"` // default "127.0.0.1:8080"
	// MaxConnections caps the open client connections (default 1024): beyond it new ones wait
	// in the kernel's backlog instead of taking memory and file descriptors.
	MaxConnections int `mapstructure:"max_connections"`
	// HeavyRequests is how many list imports, report exports and searches run at once
	// (default 0: half the CPUs, at least one); more wait their turn, then get 503 busy.
	HeavyRequests int `mapstructure:"heavy_requests"`
	// UploadBytesPerSecond bounds how fast all list uploads together are read off the network
	// (default 32 MiB/s; 0: unlimited), so uploads cannot take the CPUs the engine needs.
	UploadBytesPerSecond int64 `mapstructure:"upload_bytes_per_second"`
	// BodyTimeout bounds the reading of one request's body (default 5m).
	BodyTimeout time.Duration `mapstructure:"body_timeout"`
	// UploadDir holds list uploads while they are imported, an absolute path (default
	// DefaultUploadDir()). The server creates it, removes each upload's file when done, and at
	// start removes the upload files a killed process left there (only its own, kakeru-upload-*).
	UploadDir string `mapstructure:"upload_dir"`
}

// Campaign is one outbound business line (docs/rules.md, terms).
type Campaign struct {
	ID       int    `mapstructure:"id"`
	Name     string `mapstructure:"name"`
	TimeZone string `mapstructure:"time_zone"` // IANA name, default Asia/Tokyo
	// Location is TimeZone resolved by validation; never nil after Load.
	Location         *time.Location `mapstructure:"-"`
	BusinessHours    BusinessHours  `mapstructure:"business_hours"`
	CallerIDs        []string       `mapstructure:"caller_ids"`
	WithholdCallerID bool           `mapstructure:"withhold_caller_id"`
	ResultCodes      []ResultCode   `mapstructure:"result_codes"`
	Pacing           Pacing         `mapstructure:"pacing"`
	Retry            []RetryRule    `mapstructure:"retry"`
	// CallbackGrace is how long after its due time a callback waits for the agent who promised
	// it before any agent of the job may take it (S-2); 0: anyone at once. Default 5m.
	CallbackGrace time.Duration `mapstructure:"callback_grace"`
	// AbandonMessage is what an abandoned customer hears (a playback target); empty hangs up.
	AbandonMessage string `mapstructure:"abandon_message"`
	// CustomerDialString overrides freeswitch.customer_dial_string for this campaign.
	CustomerDialString string `mapstructure:"customer_dial_string"`
	// Calendar refines business_hours: windows per weekday, closed dates, public holidays (J-8).
	Calendar CalendarSettings `mapstructure:"calendar"`
	// CallingCalendar is Calendar (or business_hours every day) resolved by validation; read it
	// through Campaign.CallCalendar().
	CallingCalendar *calendar.Calendar `mapstructure:"-"`
	// AnswerAnalysis is answering-machine detection on the switch (P-3); off by default.
	AnswerAnalysis AnswerAnalysis `mapstructure:"answer_analysis"`
	// Recording records connected calls (off by default).
	Recording Recording `mapstructure:"recording"`
	// Preview is the preview mode's time limit and skip reasons (pacing.mode preview, or a
	// job's pacing_mode).
	Preview Preview `mapstructure:"preview"`
	// ManualDial lets agents dial numbers by hand in the campaign's jobs (on by default).
	ManualDial ManualDial `mapstructure:"manual_dial"`
	// Transfer is the allow-list of outside numbers for transfers and conferences.
	Transfer Transfer `mapstructure:"transfer"`
}

// BusinessHours are wall-clock times in the campaign's zone, "HH:MM".
type BusinessHours struct {
	Start ClockTime `mapstructure:"start"`
	End   ClockTime `mapstructure:"end"`
}

// ClockTime is a time of day in minutes after midnight, written "HH:MM".
type ClockTime struct {
	Minutes int
}

// ResultCode is one call result an agent can pick (対話結果).
type ResultCode struct {
	Code  string `mapstructure:"code"`
	Label string `mapstructure:"label"`
	// DoNotCall: saving a disposition with this code puts the number dialed (and the contact's
	// own, if different) on the campaign's do-not-call list and completes the contact (N-1).
	DoNotCall bool `mapstructure:"do_not_call"`
}

// Pacing is the campaign's dialing policy (P-1).
type Pacing struct {
	Mode              string        `mapstructure:"mode"`                // progressive | ratio | predictive | preview; default predictive
	TargetAbandonRate float64       `mapstructure:"target_abandon_rate"` // default 0.03, in (0, 0.1]
	MaxRatio          float64       `mapstructure:"max_ratio"`           // calls per available agent; default 3, in [1, 10]
	ConnectDeadline   time.Duration `mapstructure:"connect_deadline"`    // default 2s
	// MaxCallsPerSecond caps the campaign's originates per second on each engine instance (the
	// carrier's calls-per-second limit); 0: no cap.
	MaxCallsPerSecond float64 `mapstructure:"max_calls_per_second"`
}

// RetryRule says which outcomes are dialed again, after how long, up to how many attempts (P-3).
type RetryRule struct {
	Outcomes    []domain.Outcome `mapstructure:"outcomes"`
	After       time.Duration    `mapstructure:"after"`
	MaxAttempts int              `mapstructure:"max_attempts"`
}

// DialGroup is a set of agents that works a batch (発信グループ).
type DialGroup struct {
	ID       int    `mapstructure:"id"`
	Name     string `mapstructure:"name"`
	AgentIDs []int  `mapstructure:"agent_ids"`
}

// Agent is one person with a phone the engine calls.
type Agent struct {
	ID         int    `mapstructure:"id"`
	Name       string `mapstructure:"name"`
	DialString string `mapstructure:"dial_string"`
}

// Role is what a user may do.
type Role string

// The three roles of X-1.
const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAgent      Role = "agent"
)

// User is an API caller; the token itself is never stored, only its SHA-256 in hex.
type User struct {
	Name        string `mapstructure:"name"`
	Role        Role   `mapstructure:"role"`
	CampaignIDs []int  `mapstructure:"campaign_ids"` // supervisors only
	AgentID     int    `mapstructure:"agent_id"`     // agents only
	TokenSHA256 string `mapstructure:"token_sha256"`
	// SupervisorEndpoints are the dial strings this user may have listen/whisper call (S-1),
	// e.g. its own desk phone; empty: any dial string. Set it: a supervisor could otherwise
	// send a customer's conversation to any number.
	SupervisorEndpoints []string `mapstructure:"supervisor_endpoints"`
	// MayStartJobs lets a supervisor start the call jobs of its campaigns as an administrator
	// does (J-5); supervisors stop them either way (J-6). Supervisors only.
	MayStartJobs bool `mapstructure:"may_start_jobs"`
}

// Campaign returns the campaign with the id, or false.
func (c *Config) Campaign(id int) (Campaign, bool) {
	for _, cp := range c.Campaigns {
		if cp.ID == id {
			return cp, true
		}
	}
	return Campaign{}, false
}

// DialGroup returns the dial group with the id, or false.
func (c *Config) DialGroup(id int) (DialGroup, bool) {
	for _, g := range c.DialGroups {
		if g.ID == id {
			return g, true
		}
	}
	return DialGroup{}, false
}

// Agent returns the agent with the id, or false.
func (c *Config) Agent(id int) (Agent, bool) {
	for _, a := range c.Agents {
		if a.ID == id {
			return a, true
		}
	}
	return Agent{}, false
}
