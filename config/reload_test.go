package config_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

// The example file's tokens are all published demo tokens: `kakeru serve` must warn.
func TestDemoTokenUsersOnExample(t *testing.T) {
	cfg, err := config.Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"admin", "supervisor", "supervisor2", "agent-1001", "agent-1002", "agent-1003", "agent-1004"}
	if got := cfg.DemoTokenUsers(); !reflect.DeepEqual(got, want) {
		t.Errorf("DemoTokenUsers() = %q, want %q", got, want)
	}
}

func TestDemoTokenUsersNone(t *testing.T) {
	if got := mustLoad(t, baseYAML).DemoTokenUsers(); len(got) != 0 {
		t.Errorf("DemoTokenUsers() = %q, want none", got)
	}
}

// A demo agent token is caught whatever the user is called.
func TestDemoTokenUsersAgentToken(t *testing.T) {
	// printf %s demo-agent-1002-token | sha256sum
	cfg := mustLoad(t, edit(t, strings.Repeat("c", 64), "1466c4079a58a2497d8e92ef52695bad4ffa0dd1164a3294f584a28ebfdfbe58"))
	if got := cfg.DemoTokenUsers(); !reflect.DeepEqual(got, []string{"agent-1001"}) {
		t.Errorf("DemoTokenUsers() = %q", got)
	}
}

func TestReloaded(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	old, err := config.Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, r := range [][2]string{
		{"kakeru?sslmode=disable", "kakeru2?sslmode=disable"},
		{"listen: 127.0.0.1:8080", "listen: 127.0.0.1:8081"},
		{"name: Demo renewals", "name: Demo renewals (reloaded)"},
		{"agent_ids: [1003, 1004]", "agent_ids: [1004]"},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("example lacks %q", r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	next := mustLoad(t, text)

	merged, ignored := old.Reloaded(next)
	if merged.Postgres != old.Postgres || merged.HTTP != old.HTTP {
		t.Errorf("restart-only sections changed: postgres %+v, http %+v", merged.Postgres, merged.HTTP)
	}
	if c, _ := merged.Campaign(1); c.Name != "Demo renewals (reloaded)" {
		t.Errorf("campaign 1 name = %q, want the reloaded one", c.Name)
	}
	if g, _ := merged.DialGroup(2); !reflect.DeepEqual(g.AgentIDs, []int{1004}) {
		t.Errorf("dial group 2 = %v", g.AgentIDs)
	}
	if !reflect.DeepEqual(ignored, []string{"postgres", "http"}) {
		t.Errorf("ignored = %q, want [postgres http]", ignored)
	}
	if c, _ := old.Campaign(1); c.Name != "Demo renewals" {
		t.Errorf("Reloaded changed the old config: %q", c.Name)
	}

	same, ignored := old.Reloaded(mustLoad(t, string(raw)))
	if len(ignored) != 0 || !reflect.DeepEqual(same, old) {
		t.Errorf("reload of the same file: ignored %q, equal %v", ignored, reflect.DeepEqual(same, old))
	}
}
