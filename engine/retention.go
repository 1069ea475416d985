// Package engine runs kakeru's background work: call jobs, agent sessions, the attempt
// lifecycle and housekeeping such as the B-6 retention sweep.
package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	recfiles "github.com/kakeru-dialer/kakeru/recording"
	"github.com/kakeru-dialer/kakeru/store"
)

// RetentionStore is what the sweeper needs from the data layer.
type RetentionStore interface {
	SweepRetention(ctx context.Context, now time.Time) (store.SweepResult, error)
}

// RetentionSweeper applies B-6 periodically. Several instances may run one each:
// the store makes every deletion happen exactly once.
type RetentionSweeper struct {
	store    RetentionStore
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration
	// recordings is the recordings directory: the files of deleted attempts go too (B-6).
	recordings string

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewRetentionSweeper builds a sweeper; it does nothing until Start. recordings is the
// recordings directory (freeswitch.recordings.directory), where the recordings of deleted
// attempts are removed.
func NewRetentionSweeper(s RetentionStore, log *slog.Logger, now func() time.Time, interval time.Duration, recordings string) *RetentionSweeper {
	return &RetentionSweeper{store: s, log: log, now: now, interval: interval, recordings: recordings}
}

// Start sweeps once at once, then every interval until Stop or ctx ends.
func (r *RetentionSweeper) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done != nil {
		return
	}
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go r.run(ctx, r.done)
}

// Stop ends the loop and waits for a sweep in progress to finish.
func (r *RetentionSweeper) Stop() {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.cancel, r.done = nil, nil
	r.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (r *RetentionSweeper) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		r.SweepOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce runs one sweep now and logs what it did.
func (r *RetentionSweeper) SweepOnce(ctx context.Context) store.SweepResult {
	res, err := r.store.SweepRetention(ctx, r.now())
	// The rows are gone for good once a batch's transaction committed, also when a later one
	// failed: their files go now, or they would stay for ever.
	if removed, err := recfiles.Remove(r.recordings, res.Recordings); err != nil {
		r.log.Warn("recordings of deleted attempts left on disk", "removed", removed, "left", len(res.Recordings)-removed, "err", err)
	}
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("retention sweep failed", "err", err)
		}
		return res
	}
	if len(res.Deleted) > 0 || res.PurgedRecords > 0 || len(res.Skipped) > 0 || res.PurgedFiles > 0 {
		r.log.Info("retention sweep", "deleted_batches", res.Deleted, "skipped_running", res.Skipped,
			"purged_deletion_records", res.PurgedRecords, "purged_error_files", res.PurgedFiles)
	}
	return res
}
