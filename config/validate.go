package config

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kakeru-dialer/kakeru/freeswitch"
)

// Problem is one thing wrong with the configuration, at a key path such as
// "campaigns[1].business_hours.end" (list indices 0-based, in file order).
type Problem struct {
	Path    string
	Message string
}

// String is "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem found in a configuration, never just the first.
type ValidationError struct {
	Problems []Problem
}

// Error is the problems, one per line, as "path: message".
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Bounds checked by validation.
const (
	MinHistoryRetentionDays = 91 // B-2
	MaxHistoryRetentionDays = 3650
	MaxShutdownTimeout      = 10 * time.Minute
	MaxRetryAfter           = 30 * 24 * time.Hour
	MinConnectDeadline      = 500 * time.Millisecond
	MaxConnectDeadline      = 10 * time.Second
	MaxCallbackGrace        = 24 * time.Hour
	// The longest row L-2 accepts is about 6 KB in UTF-8 (255 + 255 + 1000 characters of 4
	// bytes, quotes doubled), so a smaller row limit could refuse a valid file; a larger one than
	// 1 MiB only lets one upload take more memory.
	MinRowBytesLimit      = 8 << 10
	MaxRowBytesLimit      = 1 << 20
	MinErrorCSVBytesLimit = 64 << 10
	MaxErrorCSVBytesLimit = 64 << 20
)

// Pacing modes (P-1).
const (
	PacingProgressive = "progressive"
	PacingRatio       = "ratio"
	PacingPredictive  = "predictive"
)

// Validate checks c against the rules of the product and resolves each campaign's Location.
// It returns a *ValidationError listing every problem, or nil. Load already calls it; defaults
// are Load's job, so a Config built in code must spell out every value.
func (c *Config) Validate() error {
	if problems := validate(c, nil); len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// validator collects problems. Paths that already failed to decode are not reported again: the
// value there is a zero value, and "required" on top of "must be an integer" is noise.
type validator struct {
	cfg      *Config
	failed   []string
	problems []Problem
}

func validate(c *Config, failed []string) []Problem {
	v := &validator{cfg: c, failed: failed}
	v.system(c.System)
	v.services(c)
	v.freeswitch(c.FreeSWITCH)
	v.recordings(c.FreeSWITCH.Recordings)
	campaigns := v.campaigns(c.Campaigns)
	agents := v.agents(c.Agents)
	v.dialGroups(c.DialGroups, agents)
	v.users(c.Users, campaigns, agents)
	return v.problems
}

// broken reports whether path or one of its parents failed to decode.
func (v *validator) broken(path string) bool {
	for _, f := range v.failed {
		if path == f || f == "" ||
			strings.HasPrefix(path, f+".") || strings.HasPrefix(path, f+"[") {
			return true
		}
	}
	return false
}

func (v *validator) add(path, format string, args ...any) {
	if v.broken(path) {
		return
	}
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) intRange(path string, val, lo, hi int) {
	if val < lo || val > hi {
		v.add(path, "must be between %d and %d, got %d", lo, hi, val)
	}
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.add(path, "must be a positive duration such as \"30s\", got %s", d)
	}
}

// name checks a required name of at most maxLen characters (runes).
func (v *validator) name(path, val string, maxLen int) bool {
	switch n := utf8.RuneCountInString(val); {
	case strings.TrimSpace(val) == "":
		v.add(path, "is required")
	case n > maxLen:
		v.add(path, "must be at most %d characters, got %d", maxLen, n)
	default:
		return true
	}
	return false
}

func (v *validator) required(path, val string) bool {
	if strings.TrimSpace(val) == "" {
		v.add(path, "is required")
		return false
	}
	return true
}

// hostPort checks "host:port" with a numeric port; the host may be empty and the port 0 (any
// free port) only for a listen address.
func (v *validator) hostPort(path, val string, listen bool) {
	if !v.required(path, val) {
		return
	}
	host, port, err := net.SplitHostPort(val)
	if err != nil {
		v.add(path, "must be host:port, got %q", val)
		return
	}
	if host == "" && !listen {
		v.add(path, "must be host:port with a host, got %q", val)
		return
	}
	lowest := 1
	if listen {
		lowest = 0
	}
	if p, err := strconv.Atoi(port); err != nil || p < lowest || p > 65535 {
		v.add(path, "must have a port between %d and 65535, got %q", lowest, port)
	}
}

// dialString checks a customer dial string: {tel} where the number goes, and with a number in
// its place one originate target as the engine will send it.
func (v *validator) dialString(path, val string) {
	if !v.required(path, val) {
		return
	}
	if !strings.Contains(val, "{tel}") {
		v.add(path, "must contain {tel}, where the customer's number goes")
	} else if err := freeswitch.CheckOriginateTarget(strings.ReplaceAll(val, "{tel}", "0312345678")); err != nil {
		v.add(path, "must be one dial string without spaces, quotes or '^', got %q", val)
	}
}

// playback checks a sound target the switch will play: one word (the switch splits its
// commands on spaces) with no control characters or "^" (the inline dialplan's separator).
func (v *validator) playback(path, val string) {
	if v.required(path, val) && strings.ContainsFunc(val, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '^' }) {
		v.add(path, "must be one sound path or playback target without spaces, control characters or '^', got %q", val)
	}
}

var confProfilePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func isDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (v *validator) system(s System) {
	v.intRange("system.history_retention_days", s.HistoryRetentionDays,
		MinHistoryRetentionDays, MaxHistoryRetentionDays)
	limits := []struct {
		key string
		val int
	}{
		{"max_batches", s.Limits.MaxBatches},
		{"max_lists_per_batch", s.Limits.MaxListsPerBatch},
		{"max_rows_per_list", s.Limits.MaxRowsPerList},
		{"max_call_jobs", s.Limits.MaxCallJobs},
		{"max_running_call_jobs", s.Limits.MaxRunningCallJobs},
	}
	for _, l := range limits {
		if l.val < 1 {
			v.add("system.limits."+l.key, "must be at least 1, got %d", l.val)
		}
	}
	v.intRange("system.limits.max_row_bytes", s.Limits.MaxRowBytes, MinRowBytesLimit, MaxRowBytesLimit)
	if s.Limits.MaxUploadBytes < 2*s.Limits.MaxRowBytes {
		v.add("system.limits.max_upload_bytes", "must hold a header and a row of max_row_bytes (at least %d), got %d",
			2*s.Limits.MaxRowBytes, s.Limits.MaxUploadBytes)
	}
	v.intRange("system.limits.max_error_csv_bytes", s.Limits.MaxErrorCSVBytes, MinErrorCSVBytesLimit, MaxErrorCSVBytesLimit)
	if m := s.DoNotCall.OnImport; m != DoNotCallFlag && m != DoNotCallRefuse {
		v.add("system.do_not_call.on_import", "must be %s or %s, got %q", DoNotCallFlag, DoNotCallRefuse, m)
	}
	v.positive("system.agent_idle_limit", s.AgentIdleLimit)
	v.positive("system.unsaved_disposition_grace", s.UnsavedDispositionGrace)
	v.positive("system.retention_sweep_interval", s.RetentionSweepInterval)
	v.positive("system.shutdown_timeout", s.ShutdownTimeout)
	if s.ShutdownTimeout > MaxShutdownTimeout {
		v.add("system.shutdown_timeout", "must be at most %s, got %s", MaxShutdownTimeout, s.ShutdownTimeout)
	}
}

func (v *validator) services(c *Config) {
	v.required("postgres.dsn", c.Postgres.DSN)
	if c.HTTP.MaxConnections < 16 || c.HTTP.MaxConnections > 1_000_000 {
		v.add("http.max_connections", "must be from 16 to 1000000, got %d", c.HTTP.MaxConnections)
	}
	if c.HTTP.HeavyRequests < 0 || c.HTTP.HeavyRequests > 1024 {
		v.add("http.heavy_requests", "must be from 0 (half the CPUs) to 1024, got %d", c.HTTP.HeavyRequests)
	}
	if c.HTTP.UploadBytesPerSecond != 0 && c.HTTP.UploadBytesPerSecond < 1<<20 {
		v.add("http.upload_bytes_per_second", "must be 0 (unlimited) or at least 1048576, got %d", c.HTTP.UploadBytesPerSecond)
	}
	if c.HTTP.BodyTimeout < time.Second {
		v.add("http.body_timeout", "must be at least 1s, got %s", c.HTTP.BodyTimeout)
	}
	if c.Postgres.MaxConns < 1 || c.Postgres.MaxConns > 1000 {
		v.add("postgres.max_conns", "must be from 1 to 1000, got %d", c.Postgres.MaxConns)
	}
	if c.Postgres.APIMaxConns < 1 || c.Postgres.APIMaxConns > 1000 {
		v.add("postgres.api_max_conns", "must be from 1 to 1000, got %d", c.Postgres.APIMaxConns)
	}
	if c.Postgres.APIStatementTimeout < 100*time.Millisecond {
		v.add("postgres.api_statement_timeout", "must be at least 100ms, got %s", c.Postgres.APIStatementTimeout)
	}
	v.hostPort("redis.addr", c.Redis.Addr, false)
	v.intRange("redis.db", c.Redis.DB, 0, 15)
	v.hostPort("http.listen", c.HTTP.Listen, true)
	if v.required("http.upload_dir", c.HTTP.UploadDir) && !filepath.IsAbs(c.HTTP.UploadDir) {
		v.add("http.upload_dir", "must be an absolute path, got %q", c.HTTP.UploadDir)
	}
}

func (v *validator) freeswitch(fs FreeSWITCH) {
	if len(fs.Nodes) == 0 {
		v.add("freeswitch.nodes", "at least one node is required")
	}
	names := map[string]int{}
	for i, n := range fs.Nodes {
		p := fmt.Sprintf("freeswitch.nodes[%d]", i)
		if v.required(p+".name", n.Name) {
			if j, dup := names[n.Name]; dup {
				v.add(p+".name", "duplicate node name %q (also freeswitch.nodes[%d])", n.Name, j)
			} else {
				names[n.Name] = i
			}
		}
		v.hostPort(p+".address", n.Address, false)
		v.required(p+".password", n.Password)
	}
	v.dialString("freeswitch.customer_dial_string", fs.CustomerDialString)
	if !isDigits(fs.AgentCallerID, 1, 20) {
		v.add("freeswitch.agent_caller_id", "must be 1 to 20 half-width digits, got %q", fs.AgentCallerID)
	}
	v.playback("freeswitch.login_prompt", fs.LoginPrompt)
	v.playback("freeswitch.hold_music", fs.HoldMusic)
	if v.required("freeswitch.conference_profile", fs.ConferenceProfile) && !confProfilePattern.MatchString(fs.ConferenceProfile) {
		v.add("freeswitch.conference_profile", "must be a conference profile name (letters, digits, '_', '-', '.'), got %q", fs.ConferenceProfile)
	}
	v.positive("freeswitch.dial_timeout", fs.DialTimeout)
}

func (v *validator) agents(list []Agent) ids {
	out := ids{known: map[int]bool{}, complete: !v.broken("agents")}
	seen := map[int]int{}
	for i, a := range list {
		p := fmt.Sprintf("agents[%d]", i)
		if v.broken(p + ".id") {
			out.complete = false
		} else if a.ID < 1 {
			v.add(p+".id", "must be at least 1, got %d", a.ID)
		} else if j, dup := seen[a.ID]; dup {
			v.add(p+".id", "duplicate agent id %d (also agents[%d])", a.ID, j)
		} else {
			seen[a.ID] = i
			out.known[a.ID] = true
		}
		v.name(p+".name", a.Name, 100)
		if v.required(p+".dial_string", a.DialString) && freeswitch.CheckOriginateTarget(a.DialString) != nil {
			v.add(p+".dial_string", "must be one dial string without spaces, quotes or '^', got %q", a.DialString)
		}
	}
	return out
}

func (v *validator) dialGroups(list []DialGroup, agents ids) {
	seenID := map[int]int{}
	seenName := map[string]int{}
	for i, g := range list {
		p := fmt.Sprintf("dial_groups[%d]", i)
		switch j, dup := seenID[g.ID]; {
		case g.ID < 1:
			v.add(p+".id", "must be at least 1, got %d", g.ID)
		case dup:
			v.add(p+".id", "duplicate dial group id %d (also dial_groups[%d])", g.ID, j)
		default:
			seenID[g.ID] = i
		}
		if v.name(p+".name", g.Name, 100) {
			if j, dup := seenName[g.Name]; dup {
				v.add(p+".name", "duplicate dial group name %q (also dial_groups[%d])", g.Name, j)
			} else {
				seenName[g.Name] = i
			}
		}
		members := map[int]int{}
		for k, id := range g.AgentIDs {
			ap := fmt.Sprintf("%s.agent_ids[%d]", p, k)
			if j, dup := members[id]; dup {
				v.add(ap, "duplicate agent %d (also agent_ids[%d])", id, j)
				continue
			}
			members[id] = k
			agents.check(v, ap, id, "agent")
		}
	}
}

func (v *validator) users(list []User, campaigns, agents ids) {
	seenName := map[string]int{}
	seenToken := map[string]int{}
	agentOwner := map[int]int{}
	for i, u := range list {
		p := fmt.Sprintf("users[%d]", i)
		if v.name(p+".name", u.Name, 100) {
			if j, dup := seenName[u.Name]; dup {
				v.add(p+".name", "duplicate user name %q (also users[%d])", u.Name, j)
			} else {
				seenName[u.Name] = i
			}
		}
		for k, ep := range u.SupervisorEndpoints {
			// One endpoint, by the rule the listen/whisper request is checked with (S-1).
			if err := freeswitch.CheckDialString(ep); err != nil {
				v.add(fmt.Sprintf("%s.supervisor_endpoints[%d]", p, k), "must be one endpoint without spaces, quotes, variables or separators (',', '|', ':_:'), got %q", ep)
			}
		}
		switch u.Role {
		case RoleAdmin:
			if len(u.CampaignIDs) > 0 {
				v.add(p+".campaign_ids", "must be empty for an admin, who sees every campaign")
			}
			if u.AgentID != 0 {
				v.add(p+".agent_id", "must not be set for an admin")
			}
			if u.MayStartJobs {
				v.add(p+".may_start_jobs", "is for supervisors: an admin starts call jobs anyway")
			}
		case RoleSupervisor:
			if len(u.CampaignIDs) == 0 {
				v.add(p+".campaign_ids", "a supervisor needs at least one campaign")
			}
			seen := map[int]int{}
			for k, id := range u.CampaignIDs {
				cp := fmt.Sprintf("%s.campaign_ids[%d]", p, k)
				if j, dup := seen[id]; dup {
					v.add(cp, "duplicate campaign %d (also campaign_ids[%d])", id, j)
					continue
				}
				seen[id] = k
				campaigns.check(v, cp, id, "campaign")
			}
			if u.AgentID != 0 {
				v.add(p+".agent_id", "must not be set for a supervisor")
			}
		case RoleAgent:
			if u.AgentID == 0 {
				v.add(p+".agent_id", "an agent user needs the id of its agent")
			} else if j, dup := agentOwner[u.AgentID]; dup {
				v.add(p+".agent_id", "agent %d already belongs to users[%d]", u.AgentID, j)
			} else {
				agentOwner[u.AgentID] = i
				agents.check(v, p+".agent_id", u.AgentID, "agent")
			}
			if len(u.CampaignIDs) > 0 {
				v.add(p+".campaign_ids", "must be empty for an agent user")
			}
			if u.MayStartJobs {
				v.add(p+".may_start_jobs", "is for supervisors: agents do not start call jobs")
			}
		default:
			v.add(p+".role", "must be one of admin, supervisor, agent, got %q", u.Role)
		}
		if u.TokenSHA256 == TokenPlaceholder {
			v.add(p+".token_sha256", "is the placeholder %s: set the SHA-256 of user %q's own token, "+
				"e.g. TOKEN=$(openssl rand -hex 32); printf %%s \"$TOKEN\" | sha256sum", TokenPlaceholder, u.Name)
		} else if !isLowerHex64(u.TokenSHA256) {
			v.add(p+".token_sha256", "must be 64 lower-case hex characters (printf %%s TOKEN | sha256sum)")
		} else if j, dup := seenToken[u.TokenSHA256]; dup {
			v.add(p+".token_sha256", "same token as users[%d]: every user needs its own token", j)
		} else {
			seenToken[u.TokenSHA256] = i
		}
	}
}

// TokenPlaceholder stands for a user's token hash in a configuration shipped without tokens (the
// Debian package's /etc/kakeru/kakeru.yaml): validation refuses it with a message saying how
// to make a real one, so nothing starts until every user has a token of its own.
const TokenPlaceholder = "REPLACE_WITH_SHA256_OF_TOKEN"

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}
