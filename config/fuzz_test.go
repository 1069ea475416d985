package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kakeru-dialer/kakeru/config"
)

// FuzzLoad feeds arbitrary files to Load: it never panics, and it either returns a configuration
// or a *ValidationError / read error; a configuration it accepts reloads onto itself with nothing
// ignored (issue 13). `make fuzz` runs it for minutes; `make test` runs its seeds.
func FuzzLoad(f *testing.F) {
	example, err := os.ReadFile(examplePath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(baseYAML))
	f.Add([]byte("system:\n  history_retention_days: [1\n"))
	f.Add([]byte("campaigns:\n  - id: 1\n    business_hours: {start: \"25:00\"}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(dir, "kakeru.yaml")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		if err != nil {
			var ve *config.ValidationError
			if errors.As(err, &ve) && len(ve.Problems) == 0 {
				t.Fatalf("a validation error without problems: %v", err)
			}
			return
		}
		merged, ignored := cfg.Reloaded(cfg)
		if len(ignored) != 0 || merged == nil {
			t.Fatalf("reloading onto itself ignored %v", ignored)
		}
	})
}
