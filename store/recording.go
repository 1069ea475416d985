package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
)

// MaxRecordingPath is the longest recording path the attempts table holds.
const MaxRecordingPath = 500

// ValidRecordingPath reports whether p may name a recording: relative to the recordings
// directory, clean, without "..", and no longer than MaxRecordingPath. The file server opens it
// under that directory only (os.Root) all the same.
func ValidRecordingPath(p string) bool {
	return p != "" && len(p) <= MaxRecordingPath && !path.IsAbs(p) && path.Clean(p) == p &&
		!strings.Contains(p, "..") && !strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' })
}

// StartRecording notes that the attempt's call is being recorded to path (relative to the
// recordings directory) since at. Only the first start counts: a second call, e.g. an agent
// asking again, changes nothing. ErrNotFound: no such attempt.
func (s *Store) StartRecording(ctx context.Context, attemptID int64, path string, at time.Time) error {
	if !ValidRecordingPath(path) {
		return fmt.Errorf("start recording of attempt %d: invalid path %q", attemptID, path)
	}
	var id int64
	err := s.db.GetContext(ctx, &id, `WITH upd AS (
			UPDATE attempts SET recording_path = $2, recording_started_at = $3
			WHERE id = $1 AND recording_path IS NULL RETURNING id)
		SELECT id FROM upd UNION ALL SELECT id FROM attempts WHERE id = $1 LIMIT 1`, attemptID, path, at)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("start recording of attempt %d: %w", attemptID, err)
	}
	return nil
}

// FinishRecording stores the recording's length d and size in bytes once it ended; bytes < 0
// means unknown (stored as NULL). A later call overwrites an earlier one. ErrNotFound: no such
// attempt, or the attempt has no recording started.
func (s *Store) FinishRecording(ctx context.Context, attemptID int64, d time.Duration, bytes int64) error {
	ms := max(d.Milliseconds(), 0)
	var size *int64
	if bytes >= 0 {
		size = &bytes
	}
	r, err := s.db.ExecContext(ctx, `UPDATE attempts SET recording_ms = $2, recording_bytes = $3
		WHERE id = $1 AND recording_path IS NOT NULL`, attemptID, ms, size)
	if err != nil {
		return fmt.Errorf("finish recording of attempt %d: %w", attemptID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("attempt %d has no recording: %w", attemptID, ErrNotFound)
	}
	return nil
}

// AttemptRecordingInfo is what serving an attempt's recording needs: whose the attempt is (the
// role check) and where its file is.
type AttemptRecordingInfo struct {
	AttemptID  int64          `db:"id"`
	BatchID    int64          `db:"batch_id"`
	CampaignID int            `db:"campaign_id"`
	AgentID    *int           `db:"agent_id"`
	Outcome    domain.Outcome `db:"outcome"`
	EndedAt    *time.Time     `db:"ended_at"`
	// Path is relative to the recordings directory; empty: the call was not recorded.
	Path      string     `db:"recording_path"`
	StartedAt *time.Time `db:"recording_started_at"`
	// DurationMs and Bytes are nil until the recording's end is stored (FinishRecording);
	// Bytes may stay nil when the switch did not tell the size.
	DurationMs *int   `db:"recording_ms"`
	Bytes      *int64 `db:"recording_bytes"`
}

// Finished reports whether the recording is complete at now: its end is stored, or its attempt
// ended more than settle ago (a recording whose stop was never reported is taken as it is).
func (i AttemptRecordingInfo) Finished(now time.Time, settle time.Duration) bool {
	if i.Outcome == domain.OutcomeInProgress {
		return false
	}
	return i.DurationMs != nil || i.EndedAt == nil || !now.Before(i.EndedAt.Add(settle))
}

// AttemptRecording reads an attempt's recording and owner. ErrNotFound: no such attempt; an
// attempt without a recording has an empty Path.
func (s *Store) AttemptRecording(ctx context.Context, attemptID int64) (AttemptRecordingInfo, error) {
	var i AttemptRecordingInfo
	err := s.db.GetContext(ctx, &i, `SELECT id, batch_id, campaign_id, agent_id, outcome, ended_at,
		COALESCE(recording_path, '') AS recording_path, recording_started_at, recording_ms, recording_bytes
		FROM attempts WHERE id = $1`, attemptID)
	if errors.Is(err, sql.ErrNoRows) {
		return i, ErrNotFound
	}
	if err != nil {
		return i, fmt.Errorf("get recording of attempt %d: %w", attemptID, err)
	}
	return i, nil
}
