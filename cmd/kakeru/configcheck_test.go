package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

// These tests read files and never connect to PostgreSQL or Redis.

// checkConfig runs `kakeru config check` with args and returns its exit code and output.
func checkConfig(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"config", "check"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// writeConfig writes raw with each old → new replacement done (each must match) to a
// temporary kakeru.yaml.
func writeConfig(t *testing.T, raw string, oldNew ...string) string {
	t.Helper()
	for i := 0; i < len(oldNew); i += 2 {
		if !strings.Contains(raw, oldNew[i]) {
			t.Fatalf("configuration lacks %q", oldNew[i])
		}
		raw = strings.ReplaceAll(raw, oldNew[i], oldNew[i+1])
	}
	path := filepath.Join(t.TempDir(), "kakeru.yaml")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readExample(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// packagedConfig is the Debian package's /etc/kakeru/kakeru.yaml, derived as `make package` does.
func packagedConfig(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("sed", "-f", "../../packaging/kakeru.yaml.sed", "../../config.example.yaml").Output()
	if err != nil {
		t.Fatalf("sed: %v", err)
	}
	return string(out)
}

func TestConfigCheckOK(t *testing.T) {
	code, out, errOut := checkConfig(t, "--config", "../../config.example.yaml")
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if ok, _ := regexp.MatchString(`^ok: \.\./\.\./config\.example\.yaml: \d+ campaign\(s\), \d+ dial group\(s\), \d+ agent\(s\), \d+ user\(s\), \d+ switch node\(s\); API on \S+$`, last); !ok {
		t.Errorf("last line %q is not the summary", last)
	}
	// The example's tokens are the published demo ones: said, but not refused.
	if !strings.Contains(out, "warning: users with a published demo token") {
		t.Errorf("no demo token warning in:\n%s", out)
	}
}

// Every problem is printed with its key path, those of the environment overrides included.
func TestConfigCheckReportsEveryProblem(t *testing.T) {
	path := writeConfig(t, readExample(t),
		"history_retention_days: 180", "history_retention_days: 90",
		"91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37", config.TokenPlaceholder,
		"max_ratio: 2\n", "max_ratio: 20\n")
	t.Setenv("KAKERU_REDIS_DB", "99")
	t.Setenv("KAKERU_REDIS_ADR", "127.0.0.1:6380")
	code, out, _ := checkConfig(t, "--config", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		path + ": 5 problem(s):",
		"  system.history_retention_days: ",
		"  users[0].token_sha256: is the placeholder " + config.TokenPlaceholder,
		"  campaigns[1].pacing.max_ratio: ",
		"  redis.db: ",
		"(set by KAKERU_REDIS_DB)",
		"  environment KAKERU_REDIS_ADR: unknown environment override",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\nok: ") {
		t.Errorf("a refused file printed ok:\n%s", out)
	}
}

func TestConfigCheckUsage(t *testing.T) {
	if code, out, _ := checkConfig(t, "--config", filepath.Join(t.TempDir(), "absent.yaml")); code != 1 ||
		!strings.Contains(out, "no such file") {
		t.Errorf("absent file: exit %d, %q; want 1 naming the cause", code, out)
	}
	if code, _, _ := checkConfig(t, "--config", "../../config.example.yaml", "extra"); code != exitUsage {
		t.Errorf("extra argument: exit %d, want %d", code, exitUsage)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"config"}, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "the subcommand is check") {
		t.Errorf("kakeru config: exit %d, %q", code, stderr.String())
	}
	if code, _, _ := checkConfig(t, "--nope"); code != exitUsage {
		t.Errorf("unknown flag: exit %d, want %d", code, exitUsage)
	}
}

var placeholderPath = regexp.MustCompile(`users\[(\d+)\]\.token_sha256: is the placeholder`)

// The packaged configuration differs from the example only in what packaging/kakeru.yaml.sed
// says: no token of any kind is left, and the placeholders are all that stands in the way.
func TestPackageConfig(t *testing.T) {
	raw := packagedConfig(t)
	if m := regexp.MustCompile(`[0-9a-f]{64}|demo-[a-z0-9-]*token`).FindString(raw); m != "" {
		t.Errorf("packaged configuration still holds %q", m)
	}
	users := strings.Count(raw, "token_sha256: "+config.TokenPlaceholder+"\n")
	if users == 0 {
		t.Fatal("no placeholder in the packaged configuration")
	}
	path := writeConfig(t, raw)
	code, out, _ := checkConfig(t, "--config", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	found := placeholderPath.FindAllStringSubmatch(out, -1)
	if len(found) != users || !strings.HasPrefix(out, fmt.Sprintf("%s: %d problem(s):\n", path, users)) {
		t.Fatalf("want the %d users' placeholders as the only problems:\n%s", users, out)
	}
	for i, m := range found {
		if m[1] != fmt.Sprint(i) {
			t.Errorf("placeholder %d reported at users[%s]", i, m[1])
		}
	}

	// With a token of its own for each user, the same file passes.
	n := 0
	withTokens := regexp.MustCompile(config.TokenPlaceholder).ReplaceAllStringFunc(raw, func(string) string {
		n++
		sum := sha256.Sum256(fmt.Appendf(nil, "a long random token %d", n))
		return hex.EncodeToString(sum[:])
	})
	code, out, _ = checkConfig(t, "--config", writeConfig(t, withTokens))
	if code != 0 || strings.Contains(out, "warning") || !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("with real tokens: exit %d, want 0, no warning and the ok line\n%s", code, out)
	}
}

// serve and migrate refuse the packaged configuration before connecting to anything, naming
// every placeholder and how to make a hash.
func TestServeRefusesPlaceholderTokens(t *testing.T) {
	raw := packagedConfig(t)
	users := strings.Count(raw, "token_sha256: "+config.TokenPlaceholder+"\n")
	path := writeConfig(t, raw)
	for _, cmd := range []string{"serve", "migrate"} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{cmd, "--config", path, "--log-format", "json"}, &stdout, &stderr)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d\n%s", cmd, code, exitUsage, stderr.String())
		}
		msg := stderr.String()
		if n := len(placeholderPath.FindAllString(msg, -1)); n != users || users == 0 || !strings.Contains(msg, "| sha256sum") {
			t.Errorf("%s: %d placeholders named, want %d and how to hash a token:\n%s", cmd, n, users, msg)
		}
	}
}
