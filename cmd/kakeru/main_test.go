package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/redis/go-redis/v9"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

func TestMain(m *testing.M) {
	// Re-executed as an engine instance by the multi-instance test, which kills it at will.
	if path := os.Getenv("KAKERU_TEST_SERVE"); path != "" {
		os.Exit(run(context.Background(), []string{"serve", "--config", path, "--log-level", "warn"}, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// fakeSwitch is a simulated switch for the instance's supervised connection.
func fakeSwitch(t *testing.T) string {
	t.Helper()
	s := fsim.New(fsim.Options{Script: fsim.Answering(time.Second, 10*time.Second)})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.Addr()
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testConfig writes config.example.yaml with the switch address replaced and points the
// instance at a fresh database, Redis database 12 and an ephemeral HTTP port.
func testConfig(t *testing.T, switchAddr string) string {
	t.Helper()
	raw, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kakeru.yaml")
	if err := os.WriteFile(path, bytes.ReplaceAll(raw, []byte("127.0.0.1:8021"), []byte(switchAddr)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KAKERU_POSTGRES_DSN", storetest.DSN(t))
	t.Setenv("KAKERU_REDIS_ADDR", "127.0.0.1:6379")
	t.Setenv("KAKERU_REDIS_DB", "12")
	t.Setenv("KAKERU_HTTP_LISTEN", "127.0.0.1:0")
	t.Setenv("KAKERU_SYSTEM_SHUTDOWN_TIMEOUT", "1s") // calls the simulator keeps up would hold Close for 30 s
	// Live agent state and request queues of an earlier test (same job ids) must not leak in.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: 12})
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis db 12: %v", err)
	}
	return path
}

func migrateFor(t *testing.T, path string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--config", path}, &out, &errOut); code != 0 {
		t.Fatalf("migrate exit %d: %s", code, errOut.String())
	}
}

func startMain(t *testing.T, path string) *Main {
	t.Helper()
	m := NewMain(path, slog.New(slog.DiscardHandler))
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

func get(t *testing.T, m *Main, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+m.Addr()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestMigrateCommand(t *testing.T) {
	path := testConfig(t, closedPort(t))
	var out, errOut bytes.Buffer
	// storetest's database is already migrated: --check reports it current, migrate applies nothing.
	if code := run(context.Background(), []string{"migrate", "--check", "--config", path}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("check: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	migrateFor(t, path)
	if code := run(context.Background(), []string{"bogus"}, &out, &errOut); code != exitUsage {
		t.Fatalf("unknown command exit %d", code)
	}
}

func TestReadyzAndStatus(t *testing.T) {
	path := testConfig(t, fakeSwitch(t))
	migrateFor(t, path)
	m := startMain(t, path)
	if code, body := get(t, m, "/readyz", ""); code != http.StatusOK {
		t.Fatalf("readyz %d %v", code, body)
	}
	code, body := get(t, m, "/api/v1/status", "demo-admin-token")
	if code != http.StatusOK || body["instance_id"] != m.InstanceID {
		t.Fatalf("status %d %v", code, body)
	}
	nodes := body["freeswitch"].([]any)
	if len(nodes) != 1 || nodes[0].(map[string]any)["connected"] != true {
		t.Fatalf("status nodes %v", nodes)
	}
}

// /readyz is 503 naming Redis when the configuration points Redis at a closed port.
func TestReadyzRedisDown(t *testing.T) {
	path := testConfig(t, fakeSwitch(t))
	t.Setenv("KAKERU_REDIS_ADDR", closedPort(t))
	m := startMain(t, path)
	code, body := get(t, m, "/readyz", "")
	down, _ := body["down"].([]any)
	if code != http.StatusServiceUnavailable || len(down) != 1 || down[0] != "redis" {
		t.Fatalf("readyz %d %v", code, body)
	}
	if !strings.Contains(body["error"].(map[string]any)["message"].(string), "redis") {
		t.Fatalf("message does not name redis: %v", body)
	}
}

func TestServeRefusesStaleSchema(t *testing.T) {
	path := testConfig(t, closedPort(t))
	t.Setenv("KAKERU_POSTGRES_DSN", storetest.EmptyDSN(t))
	m := NewMain(path, slog.New(slog.DiscardHandler))
	err := m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "kakeru migrate") {
		m.Close()
		t.Fatalf("got %v, want a pointer to kakeru migrate", err)
	}
}

// SIGHUP semantics: a valid file's users apply at once; an invalid file is refused and the
// configuration in force stays.
func TestReload(t *testing.T) {
	path := testConfig(t, closedPort(t))
	m := startMain(t, path)
	const newToken = "reload-test-token"
	if code, _ := get(t, m, "/api/v1/campaigns", newToken); code != http.StatusUnauthorized {
		t.Fatalf("unknown token accepted: %d", code)
	}
	raw, _ := os.ReadFile(path)
	// users is the last section of config.example.yaml: append one more.
	withUser := strings.TrimRight(string(raw), "\n") + "\n  - name: newcomer\n    role: admin\n    token_sha256: \"" + sha256Hex(newToken) + "\"\n"
	os.WriteFile(path, []byte(withUser), 0o600)
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, m, "/api/v1/campaigns", newToken); code != http.StatusOK {
		t.Fatalf("reloaded user refused: %d", code)
	}
	os.WriteFile(path, []byte(strings.Replace(withUser, "history_retention_days: 180", "history_retention_days: 10", 1)+"\ncampaigns: oops\n"), 0o600)
	err := m.Reload()
	if err == nil || !strings.Contains(err.Error(), "campaigns") {
		t.Fatalf("invalid file accepted: %v", err)
	}
	if code, _ := get(t, m, "/api/v1/campaigns", newToken); code != http.StatusOK {
		t.Fatalf("old configuration lost after a refused reload: %d", code)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func todayTokyo() string {
	loc, _ := time.LoadLocation("Asia/Tokyo")
	return time.Now().In(loc).Format("2006-01-02")
}

// kakeru fsim serves the event socket that the readiness probe checks, until its context ends.
func TestFsimCommand(t *testing.T) {
	addr := closedPort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"fsim", "--listen", addr}, pw, &errOut); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n') // printed once it listens
	if err != nil || !strings.Contains(line, addr) {
		t.Fatalf("fsim said %q, %v: %s", line, err, errOut.String())
	}
	go io.Copy(io.Discard, pr)
	perr := freeswitch.Probe(context.Background(), addr, "ClueCon", time.Second)
	cancel()
	if code := <-done; code != 0 || perr != nil {
		t.Fatalf("exit %d, probe %v: %s", code, perr, errOut.String())
	}
}
