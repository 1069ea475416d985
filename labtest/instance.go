//go:build lab

package labtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"
)

// What the lab instance uses besides the switch. PostgreSQL's maintenance database and Redis
// may be moved with KAKERU_LAB_PG_ADMIN_DSN and KAKERU_LAB_REDIS_ADDR.
const (
	LabDatabase = "kakeru_lab"
	LabRedisDB  = 13
	// HoldMusic loops on agents' phones: the lab has no sound files.
	HoldMusic = "tone_stream://%(1000,4000,440);loops=-1"
	// ConferenceProfile is the lab switch's profile for agent rooms (scripts/freeswitch-lab-config.sh).
	ConferenceProfile = "kakeru"
	// AdminToken is the lab instance's administrator token; agent N's is AgentToken(N).
	AdminToken = "lab-admin-token"
)

// AgentToken is agent id's bearer token in the lab configuration.
func AgentToken(id int) string { return fmt.Sprintf("lab-agent-%d-token", id) }

func pgAdminDSN() string {
	if v := os.Getenv("KAKERU_LAB_PG_ADMIN_DSN"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func redisAddr() string {
	if v := os.Getenv("KAKERU_LAB_REDIS_ADDR"); v != "" {
		return v
	}
	return "127.0.0.1:6379"
}

// SourceDir is the kakeru source tree under test: KAKERU_LAB_SRC, or this repository.
func SourceDir() (string, error) {
	if v := os.Getenv("KAKERU_LAB_SRC"); v != "" {
		return filepath.Abs(v)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if raw, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(raw, []byte("module github.com/kakeru-dialer/kakeru\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kakeru's go.mod not found above the working directory; set KAKERU_LAB_SRC")
		}
		dir = parent
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// Binary is the kakeru executable under test: KAKERU_LAB_BIN, or ./cmd/kakeru of SourceDir
// built once per test process.
func Binary() (string, error) {
	buildOnce.Do(func() {
		if v := os.Getenv("KAKERU_LAB_BIN"); v != "" {
			builtBin, buildErr = filepath.Abs(v)
			return
		}
		src, err := SourceDir()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "kakeru-lab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "kakeru")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/kakeru")
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/kakeru in %s: %v\n%s", src, err, out)
		}
	})
	return builtBin, buildErr
}

// Options shape the lab instance's configuration (campaign 1, dial group 1).
type Options struct {
	// Agents are the agent ids of dial group 1 (default 1001); each dials loopback/agent-<id>/agents.
	Agents []int
	// Pacing is campaign 1's pacing mode (default progressive).
	Pacing string
	// MaxRatio, TargetAbandonRate, ConnectDeadline: campaign 1's pacing (0: the example's).
	MaxRatio          int
	TargetAbandonRate float64
	ConnectDeadline   time.Duration
	// LogLevel of the instance (default KAKERU_LAB_LOG_LEVEL, else info).
	LogLevel string
	// Edit changes the generated configuration last.
	Edit func(cfg map[string]any)
	// KeepData starts on the database and Redis as they are (an instance restarted after
	// another one) instead of recreating and flushing them.
	KeepData bool
}

// Instance is a kakeru engine (`kakeru serve`) run as a subprocess against the lab switch, with
// a PostgreSQL database (kakeru_lab, recreated) and a Redis database (13, flushed) of its own.
type Instance struct {
	t          testing.TB
	Bin        string
	Dir        string
	ConfigPath string
	LogPath    string
	Base       string // http://127.0.0.1:PORT
	DSN        string
	DB         *sql.DB
	Options    Options
	// CallerID (campaign 1's caller ID) and AgentCallerID (freeswitch.agent_caller_id) are
	// drawn for each instance: every leg it places carries one of them at creation, which tells
	// its legs from those of anyone else using the lab switch (Observer.Only).
	CallerID, AgentCallerID string

	exampleDeadline time.Duration

	cmd    *exec.Cmd
	exited chan struct{}
	waited error
	stop   sync.Once
}

// StartInstance configures, migrates and starts a lab instance, waits until its API answers and
// its switch node is connected, and stops it when the test ends.
func StartInstance(t testing.TB, o Options) *Instance {
	t.Helper()
	if len(o.Agents) == 0 {
		o.Agents = []int{1001}
	}
	if o.Pacing == "" {
		o.Pacing = "progressive"
	}
	if o.LogLevel == "" {
		o.LogLevel = os.Getenv("KAKERU_LAB_LOG_LEVEL")
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	src, err := SourceDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := logDir(t)
	in := &Instance{t: t, Bin: bin, Dir: dir, ConfigPath: filepath.Join(dir, "kakeru.yaml"), LogPath: filepath.Join(dir, "kakeru.log"),
		Options: o, exited: make(chan struct{})}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	in.Base = "http://" + port
	in.DSN = labDSN()
	in.CallerID, in.AgentCallerID = RandomDigits("03", 10), RandomDigits("00", 8)
	cfg, deadline, err := labConfig(filepath.Join(src, "config.example.yaml"), o, port, in.DSN, in.CallerID, in.AgentCallerID)
	in.exampleDeadline = deadline
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in.ConfigPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	if !o.KeepData {
		if err := resetDatabase(); err != nil {
			t.Fatal(err)
		}
		if err := flushRedis(); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(bin, "migrate", "--config", in.ConfigPath).CombinedOutput(); err != nil {
		t.Fatalf("kakeru migrate: %v\n%s", err, out)
	}
	in.DB, err = sql.Open("postgres", in.DSN)
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(in.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	in.cmd = exec.Command(bin, "serve", "--config", in.ConfigPath, "--log-level", o.LogLevel)
	in.cmd.Env = cleanEnv()
	in.cmd.Stdout, in.cmd.Stderr = logf, logf
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		in.waited = in.cmd.Wait()
		logf.Close()
		close(in.exited)
	}()
	t.Cleanup(func() {
		in.Stop()
		in.DB.Close()
		if t.Failed() {
			t.Logf("instance log %s, last lines:\n%s", in.LogPath, tail(in.LogPath, 40))
		}
	})
	t.Logf("kakeru %s serving on %s; config %s, log %s", bin, in.Base, in.ConfigPath, in.LogPath)
	if err := in.waitReady(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	return in
}

// logDir is where an instance keeps its configuration and log: KAKERU_LAB_LOGDIR or the system
// temporary directory, under kakeru-lab/<test>-<time>; kept after the test for inspection.
func logDir(t testing.TB) string {
	base := os.Getenv("KAKERU_LAB_LOGDIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "kakeru-lab")
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, name+"-"+time.Now().Format("20060102-150405"))
	// A test that starts a second instance (a restart) within the same second gets a directory
	// of its own.
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir
		}
		if !os.IsExist(err) {
			t.Fatal(err)
		}
		dir = filepath.Join(base, fmt.Sprintf("%s-%s-%d", name, time.Now().Format("20060102-150405"), i))
	}
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func labDSN() string {
	u := pgAdminDSN()
	i := strings.LastIndex(u, "/")
	j := strings.Index(u[i:], "?")
	if j < 0 {
		return u[:i+1] + LabDatabase
	}
	return u[:i+1] + LabDatabase + u[i+j:]
}

// cleanEnv is the environment without KAKERU_* overrides, so the generated file decides.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KAKERU_") {
			out = append(out, kv)
		}
	}
	return out
}

func resetDatabase() error {
	admin, err := sql.Open("postgres", pgAdminDSN())
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(LabDatabase)+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop %s: %w", LabDatabase, err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(LabDatabase)); err != nil {
		return fmt.Errorf("create %s: %w", LabDatabase, err)
	}
	return nil
}

func flushRedis() error {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr(), DB: LabRedisDB})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush redis db %d: %w", LabRedisDB, err)
	}
	return nil
}

// RandomDigits is prefix followed by random digits, n digits in all.
func RandomDigits(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for b.Len() < n {
		b.WriteByte(byte('0' + mrand.IntN(10)))
	}
	return b.String()
}

// ConnectDeadline is campaign 1's connect_deadline as configured (Options, else the example's).
func (in *Instance) ConnectDeadline() time.Duration {
	if in.Options.ConnectDeadline > 0 {
		return in.Options.ConnectDeadline
	}
	return in.exampleDeadline
}

// CallerIDs are the caller IDs of the instance's legs (Observer.Only).
func (in *Instance) CallerIDs() []string { return []string{in.CallerID, in.AgentCallerID} }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// labConfig is config.example.yaml pointed at the lab: one switch node (the lab's event
// socket), loopback dial strings, tone hold music, the kakeru conference profile, database
// kakeru_lab, Redis database 13, one campaign open all day, one dial group of the lab agents,
// an admin and the agents as users.
func labConfig(example string, o Options, listen, dsn, callerID, agentCallerID string) ([]byte, time.Duration, error) {
	raw, err := os.ReadFile(example)
	if err != nil {
		return nil, 0, err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", example, err)
	}
	sub := func(m map[string]any, key string) map[string]any {
		v, _ := m[key].(map[string]any)
		if v == nil {
			v = map[string]any{}
			m[key] = v
		}
		return v
	}
	sys := sub(cfg, "system")
	sys["shutdown_timeout"] = "10s"
	sub(cfg, "postgres")["dsn"] = dsn
	rd := sub(cfg, "redis")
	rd["addr"], rd["db"] = redisAddr(), LabRedisDB
	sub(cfg, "http")["listen"] = listen
	fs := sub(cfg, "freeswitch")
	fs["nodes"] = []any{map[string]any{"name": "lab", "address": ESLAddr(), "password": ESLPassword()}}
	fs["customer_dial_string"] = "loopback/{tel}/customers"
	fs["agent_caller_id"] = agentCallerID
	fs["login_prompt"] = "none"
	fs["hold_music"] = HoldMusic
	if _, ok := fs["conference_profile"]; ok {
		fs["conference_profile"] = ConferenceProfile
	}

	camps, _ := cfg["campaigns"].([]any)
	if len(camps) == 0 {
		return nil, 0, fmt.Errorf("%s has no campaign to start from", example)
	}
	c, _ := camps[0].(map[string]any)
	c["id"], c["name"] = 1, "Lab"
	c["business_hours"] = map[string]any{"start": "00:00", "end": "24:00"}
	c["caller_ids"] = []any{callerID}
	c["withhold_caller_id"] = false
	c["retry"] = []any{} // every contact is dialed once: the comparison is call by call
	c["customer_dial_string"] = ""
	p := sub(c, "pacing")
	p["mode"] = o.Pacing
	if o.MaxRatio > 0 {
		p["max_ratio"] = o.MaxRatio
	}
	if o.TargetAbandonRate > 0 {
		p["target_abandon_rate"] = o.TargetAbandonRate
	}
	if o.ConnectDeadline > 0 {
		p["connect_deadline"] = o.ConnectDeadline.String()
	}
	deadline := 2 * time.Second // the engine's default
	if v, ok := p["connect_deadline"].(string); ok {
		if d, err := time.ParseDuration(v); err == nil {
			deadline = d
		}
	}
	cfg["campaigns"] = []any{c}

	var agents, ids []any
	users := []any{map[string]any{"name": "admin", "role": "admin", "token_sha256": sha256Hex(AdminToken)}}
	for _, id := range o.Agents {
		agents = append(agents, map[string]any{"id": id, "name": fmt.Sprintf("Lab agent %d", id),
			"dial_string": fmt.Sprintf("loopback/agent-%d/agents", id)})
		ids = append(ids, id)
		users = append(users, map[string]any{"name": fmt.Sprintf("agent-%d", id), "role": "agent", "agent_id": id,
			"token_sha256": sha256Hex(AgentToken(id))})
	}
	cfg["agents"] = agents
	cfg["dial_groups"] = []any{map[string]any{"id": 1, "name": "Lab floor", "agent_ids": ids}}
	cfg["users"] = users
	if o.Edit != nil {
		o.Edit(cfg)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, 0, err
	}
	return append([]byte("# Generated by labtest for the lab switch from "+example+".\n"), out...), deadline, nil
}

func (in *Instance) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-in.exited:
			return fmt.Errorf("kakeru serve exited: %v\n%s", in.waited, tail(in.LogPath, 30))
		default:
		}
		code, body, err := in.Do(context.Background(), http.MethodGet, "/api/v1/status", AdminToken, nil)
		if err == nil && code == http.StatusOK {
			var st struct {
				FreeSWITCH []struct {
					Connected bool `json:"connected"`
				} `json:"freeswitch"`
			}
			if jsonErr := decode(body, &st); jsonErr == nil && len(st.FreeSWITCH) > 0 && st.FreeSWITCH[0].Connected {
				return nil
			}
			last = string(body)
		} else if err != nil {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kakeru serve not ready with its switch node connected within %v: %s\n%s", timeout, last, tail(in.LogPath, 30))
}

// Stop ends the instance with SIGTERM (SIGKILL after 40 s) and reports a non-zero exit.
func (in *Instance) Stop() {
	in.stop.Do(func() {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
		case <-time.After(40 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.exited
			in.t.Errorf("kakeru serve did not stop within 40 s of SIGTERM")
		}
		if in.waited != nil {
			in.t.Errorf("kakeru serve: %v", in.waited)
		}
	})
}

// LogLines are the instance log's lines that match re.
func (in *Instance) LogLines(re string) []string {
	f, err := os.Open(in.LogPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	rx := regexp.MustCompile(re)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rx.MatchString(sc.Text()) {
			out = append(out, sc.Text())
		}
	}
	return out
}

func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
