package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RunCounts counts a call job run's attempts (S-1): dialed is every attempt but the skipped (N-1), in progress those
// not ended yet; answered are live answers (connected or abandoned).
type RunCounts struct {
	Dialed     int `db:"dialed" json:"dialed"`
	InProgress int `db:"in_progress" json:"in_progress"`
	Answered   int `db:"answered" json:"answered"`
	Connected  int `db:"connected" json:"connected"`
	Abandoned  int `db:"abandoned" json:"abandoned"`
	Remaining  int `db:"remaining" json:"remaining"`
}

// JobRunCounts counts the attempts of a job's current run, and the target it has left (J-3).
func (s *Store) JobRunCounts(ctx context.Context, jobID int64) (RunCounts, error) {
	var c RunCounts
	err := s.db.GetContext(ctx, &c, `SELECT count(a.id) AS dialed,
		count(a.id) FILTER (WHERE a.outcome = 'in_progress') AS in_progress,
		count(a.id) FILTER (WHERE a.outcome IN ('connected', 'abandoned')) AS answered,
		count(a.id) FILTER (WHERE a.outcome = 'connected') AS connected,
		count(a.id) FILTER (WHERE a.outcome = 'abandoned') AS abandoned,
		GREATEST(j.target_count - count(DISTINCT a.contact_id), 0) AS remaining
		FROM call_jobs j LEFT JOIN attempts a ON a.call_job_id = j.id AND a.job_run = j.run AND j.run > 0 AND a.outcome <> 'skipped'
		WHERE j.id = $1 GROUP BY j.id, j.target_count`, jobID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("count attempts of call job %d: %w", jobID, err)
	}
	return c, nil
}

// LiveCall is what a monitor shows of an agent's current call.
type LiveCall struct {
	AttemptID  int64      `db:"id" json:"attempt_id"`
	ContactID  *int64     `db:"contact_id" json:"contact_id"`
	Tel        string     `db:"tel" json:"tel"`
	AnsweredAt *time.Time `db:"answered_at" json:"answered_at"`
}

// LiveCalls reads the attempts of the given ids.
func (s *Store) LiveCalls(ctx context.Context, ids []int64) (map[int64]LiveCall, error) {
	out := map[int64]LiveCall{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []LiveCall
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, contact_id, tel, answered_at FROM attempts WHERE id = ANY($1)`,
		int64Array64(ids)); err != nil {
		return nil, fmt.Errorf("read live calls: %w", err)
	}
	for _, r := range rows {
		out[r.AttemptID] = r
	}
	return out, nil
}
