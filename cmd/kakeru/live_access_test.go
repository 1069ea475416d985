package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Issue 13 row 4: an open event stream is re-authorised when the configuration is reloaded: a
// supervisor moved to another campaign has its stream ended (reconnecting authorises it anew),
// while a stream whose user did not change stays open.
func TestEventStreamEndsWhenAccessChanges(t *testing.T) {
	path := testConfig(t, fakeSwitch(t))
	migrateFor(t, path)
	m := startMain(t, path)
	moved, code := openEvents(t, m, "demo-supervisor2-token", "", "")
	if code != 200 {
		t.Fatalf("open as supervisor2: %d", code)
	}
	kept, code := openEvents(t, m, "demo-admin-token", "", "")
	if code != 200 {
		t.Fatalf("open as admin: %d", code)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const before = "  - name: supervisor2\n    role: supervisor\n    campaign_ids: [2]\n"
	if !strings.Contains(string(raw), before) {
		t.Fatalf("the example configuration no longer has %q", before)
	}
	edited := strings.Replace(string(raw), before, "  - name: supervisor2\n    role: supervisor\n    campaign_ids: [1]\n", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-moved.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the moved supervisor's stream stays open after the reload")
	}
	select {
	case <-kept.done:
		t.Fatal("the admin's stream ended though its access did not change")
	default:
	}
}
