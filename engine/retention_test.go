package engine_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sweepStore answers SweepRetention as the store does, deleting batch 7 once; the SQL itself is
// tested in store (TestSweepRetention…).
type sweepStore struct {
	mu    sync.Mutex
	calls []time.Time
	swept chan struct{}
}

func (s *sweepStore) SweepRetention(_ context.Context, now time.Time) (store.SweepResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, now)
	if len(s.calls) == 2 {
		close(s.swept)
	}
	if len(s.calls) == 1 {
		return store.SweepResult{Deleted: []int64{7}, Recordings: []string{"1/2022-08-01/70.wav", "1/2022-08-01/71.wav"}}, nil
	}
	return store.SweepResult{}, nil
}

// B-6 through the sweeper as serve runs it: SweepOnce reports what the store deleted, Start
// sweeps at once with the injected clock, a second Start is a no-op, and Stop waits for the
// loop (goleak checks nothing is left running).
func TestRetentionSweeperDeletesDueBatch(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Date(2022, 10, 30, 0, 0, 0, 0, tokyo)
	s := &sweepStore{swept: make(chan struct{})}
	dir := t.TempDir()
	for _, name := range []string{"1/2022-08-01/70.wav", "1/2022-08-01/72.wav"} { // 71 is gone already
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("RIFF"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sw := engine.NewRetentionSweeper(s, slog.New(slog.DiscardHandler), func() time.Time { return now }, time.Hour, dir)
	res := sw.SweepOnce(context.Background())
	if len(res.Deleted) != 1 || res.Deleted[0] != 7 {
		t.Fatalf("sweep %+v", res)
	}
	// B-6: the deleted attempts' recordings went with them; another attempt's stays.
	if _, err := os.Stat(filepath.Join(dir, "1/2022-08-01/70.wav")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("recording of a deleted attempt: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "1/2022-08-01/72.wav")); err != nil {
		t.Fatalf("recording of a kept attempt: %v", err)
	}
	sw.Start(context.Background())
	sw.Start(context.Background()) // a second Start is a no-op
	select {
	case <-s.swept:
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not sweep at once")
	}
	sw.Stop()
	sw.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) != 2 || !s.calls[1].Equal(now) {
		t.Fatalf("sweeps at %v, want two, the second at %v", s.calls, now)
	}
}
