package main

import (
	"bytes"
	"context"
	"database/sql"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch/fsim"
)

// demoScenarioFile writes a quick scenario: agents' phones answer at once and stay up, customers
// answer after a second and hang up after ten.
func demoScenarioFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	err := os.WriteFile(path, []byte(`seed: 1
rules:
  - match: "^loopback/agent-"
    answer: 1
default:
  answer: 1
  ring: {dist: fixed, value: 1s}
  talk: {dist: fixed, value: 10s}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// staleAgent is agent state an earlier deployment left behind: agent 1001 available in job 1,
// run 1 (the demo's first job in a fresh database) on a node no longer configured.
func staleAgent(t *testing.T, db int) *agentstate.Store {
	t.Helper()
	s := agentstate.Open("127.0.0.1:6379", db, "")
	t.Cleanup(func() { s.Close() })
	if err := s.Set(context.Background(), agentstate.Agent{ID: 1001, State: domain.AgentAvailable, Since: time.Now(),
		CallJobID: 1, JobRun: 1, Leg: "5f0c3a1e-0000-4000-8000-000000000001", Node: "lab"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// The walkthrough and dialing of `make demo` against a real instance, with its own simulated
// switch and its own live state (issue 11 item 5): the switch on the configured node's address
// hears nothing, agent state of another deployment (in the configured Redis database, and left
// in the demo's own) is never taken, and no attempt fails for want of a switch node.
func TestDemo(t *testing.T) {
	other := fsim.New(fsim.Options{})
	if err := other.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Stop)
	path := testConfig(t, other.Addr()) // Redis database 12 is the configured one
	configured, own := staleAgent(t, 12), staleAgent(t, 14)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"demo", "--config", path, "--log-level", "error", "--dial-for", "5s",
		"--scenario", demoScenarioFile(t), "--switch", "127.0.0.1:0", "--redis-db", "14"}, &out, &errOut); code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"Simulated FreeSWITCH listening on 127.0.0.1:", "Redis database 14", "POST /api/v1/batches → 201",
		"batch_end_out_of_bounds", "Walkthrough finished", "call job", "dialed", "Summary of the call job", "connected"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), other.Addr()) {
		t.Errorf("the demo names the configured switch %s:\n%s", other.Addr(), out.String())
	}
	if cmds := other.Commands(); len(cmds) > 0 || len(other.History()) > 0 {
		t.Errorf("the demo talked to a switch it did not start: %q", cmds)
	}
	ctx := context.Background()
	if a, err := configured.Get(ctx, 1001); err != nil || a.Node != "lab" || a.CallJobID != 1 {
		t.Errorf("the configured database's agent state was touched: %+v %v", a, err)
	}
	agents, err := own.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if a.Node == "lab" {
			t.Errorf("stale agent state survived in the demo's database: %+v", a)
		}
	}
	db, err := sql.Open("postgres", os.Getenv("KAKERU_POSTGRES_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dialed, noNode int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE hangup_cause = 'NO_NODE_CONNECTED') FROM attempts`).Scan(&dialed, &noNode); err != nil {
		t.Fatal(err)
	}
	if dialed == 0 || noNode > 0 {
		t.Errorf("%d attempts, %d without a switch node", dialed, noNode)
	}
}

// The demo refuses loudly, before anything else, when its simulated switch cannot listen: it
// never falls back to whatever holds the address (issue 11 item 5). It also refuses to keep its
// live state in the configured Redis database.
func TestDemoRefusesTakenSwitchAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	path := testConfig(t, ln.Addr().String())
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"demo", "--config", path, "--log-level", "error", "--dial-for", "5s",
		"--scenario", "", "--switch", ln.Addr().String()}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "the simulated switch cannot listen on "+ln.Addr().String()) ||
		!strings.Contains(errOut.String(), "--switch") {
		t.Fatalf("exit %d, want 1 with the address named\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "Walkthrough") || strings.Contains(out.String(), "Dialing") {
		t.Errorf("the demo went on without its switch:\n%s", out.String())
	}
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(200 * time.Millisecond))
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Error("the demo connected to the switch address it could not take")
	}

	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"demo", "--config", path, "--scenario", "", "--redis-db", "12"}, &out, &errOut)
	if code != exitUsage || !strings.Contains(errOut.String(), "configured redis.db") {
		t.Fatalf("demo in the configured Redis database: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
