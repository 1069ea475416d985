package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// DeleteBatch deletes a batch on request, refusing under B-5: lists together with attempts, a
// running call job, or unsaved dispositions. A connected attempt whose disposition is not saved
// yet counts as unsaved here even inside its grace period: deleting it would lose the call. The
// batch's contacts and history go with it and a deletion record is kept (B-6). It returns the
// recording paths of the deleted attempts: the caller removes those files once this returned
// (recording.Remove), the rows being gone for good.
func (s *Store) DeleteBatch(ctx context.Context, id int64, by string, now time.Time) (recordings []string, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		b, err := getBatch(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var st struct {
			Lists    int `db:"lists"`
			Attempts int `db:"attempts"`
			Running  int `db:"running"`
			Unsaved  int `db:"unsaved"`
		}
		err = tx.GetContext(ctx, &st, `SELECT
			(SELECT count(*) FROM customer_lists WHERE batch_id = $1) AS lists,
			(SELECT count(*) FROM attempts WHERE batch_id = $1) AS attempts,
			(SELECT count(*) FROM call_jobs WHERE batch_id = $1 AND status = 'running') AS running,
			(SELECT count(*) FROM attempts a WHERE a.batch_id = $1 AND a.outcome = 'connected'
			   AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.attempt_id = a.id)) AS unsaved`, id)
		if err != nil {
			return fmt.Errorf("check batch %d before deletion: %w", id, err)
		}
		switch {
		case st.Running > 0:
			return conflict("B-5", "batch_job_running", "a call job of this batch is running; stop it first")
		case st.Unsaved > 0:
			return conflict("B-5", "batch_has_unsaved_dispositions",
				"the batch has %d connected call(s) without a saved disposition; save them first", st.Unsaved)
		case st.Lists > 0 && st.Attempts > 0:
			return conflict("B-5", "batch_has_attempts",
				"the batch holds %d customer list(s) and has dial history; delete its lists first", st.Lists)
		}
		recordings, err = deleteBatchTx(ctx, tx, b, by, "manual", now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return recordings, nil
}

// deleteBatchTx records the deletion (B-6) and deletes the batch with everything it owns,
// returning the recording paths of its attempts. The caller holds the batch's row lock, so no
// attempt can be added meanwhile (its foreign key check waits for the lock).
func deleteBatchTx(ctx context.Context, tx *sqlx.Tx, b Batch, by, reason string, now time.Time) ([]string, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO batch_deletions (batch_id, campaign_id, batch_name, time_zone,
		start_date, end_date, delete_date, history_delete_date, deleted_by, reason, deleted_at,
		list_count, contact_count, attempt_count)
		SELECT b.id, b.campaign_id, b.name, b.time_zone, b.start_date, b.end_date, b.delete_date,
			b.history_delete_date, $2, $3, $4,
			(SELECT count(*) FROM customer_lists WHERE batch_id = b.id),
			(SELECT count(*) FROM contacts WHERE batch_id = b.id),
			(SELECT count(*) FROM attempts WHERE batch_id = b.id)
		FROM batches b WHERE b.id = $1`, b.ID, by, reason, now)
	if err != nil {
		return nil, fmt.Errorf("record deletion of batch %d: %w", b.ID, err)
	}
	var recordings []string
	err = tx.SelectContext(ctx, &recordings, `SELECT recording_path FROM attempts
		WHERE batch_id = $1 AND recording_path IS NOT NULL ORDER BY id`, b.ID)
	if err != nil {
		return nil, fmt.Errorf("list recordings of batch %d: %w", b.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM batches WHERE id = $1`, b.ID); err != nil {
		return nil, fmt.Errorf("delete batch %d: %w", b.ID, err)
	}
	return recordings, nil
}

// BatchDeletion is the record kept after a batch is deleted (B-6).
type BatchDeletion struct {
	BatchID           int64     `db:"batch_id" json:"batch_id"`
	CampaignID        int       `db:"campaign_id" json:"campaign_id"`
	BatchName         string    `db:"batch_name" json:"batch_name"`
	HistoryDeleteDate Date      `db:"history_delete_date" json:"history_delete_date"`
	DeletedBy         string    `db:"deleted_by" json:"deleted_by"`
	Reason            string    `db:"reason" json:"reason"`
	DeletedAt         time.Time `db:"deleted_at" json:"deleted_at"`
	ListCount         int       `db:"list_count" json:"list_count"`
	ContactCount      int       `db:"contact_count" json:"contact_count"`
	AttemptCount      int       `db:"attempt_count" json:"attempt_count"`
}

// BatchDeletions lists the deletion records still kept, newest first.
func (s *Store) BatchDeletions(ctx context.Context, campaignIDs []int) ([]BatchDeletion, error) {
	var out []BatchDeletion
	q := `SELECT batch_id, campaign_id, batch_name, history_delete_date, deleted_by, reason, deleted_at,
		list_count, contact_count, attempt_count FROM batch_deletions`
	args := []any{}
	if campaignIDs != nil {
		q += ` WHERE campaign_id = ANY($1)`
		args = append(args, int64Array(campaignIDs))
	}
	if err := s.db.SelectContext(ctx, &out, q+` ORDER BY deleted_at DESC, id DESC`, args...); err != nil {
		return nil, fmt.Errorf("list batch deletions: %w", err)
	}
	return out, nil
}

// SweepResult tells what one retention sweep did.
type SweepResult struct {
	Deleted       []int64 // batches deleted
	Skipped       []int64 // due but held back because a call job still runs
	PurgedRecords int     // deletion records past their history-deletion date
	PurgedFiles   int     // expired error CSVs of refused imports (L-4)
	// Recordings are the recording paths of the deleted batches' attempts, relative to the
	// recordings directory: the caller removes the files (recording.Remove).
	Recordings []string
}

// SweepRetention applies B-6 at the instant now: every batch whose deletion date has come (in its
// zone) is deleted with a record, and records whose history-deletion date has come are purged.
// Expired error CSVs of refused imports (L-4) go too.
// Each batch is deleted in its own transaction under a row lock taken with SKIP LOCKED, so
// several instances sweeping at once delete each batch exactly once; the unique batch_id of
// batch_deletions is the last line of defence.
func (s *Store) SweepRetention(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	for {
		var done bool
		err := s.inTx(ctx, func(tx *sqlx.Tx) error {
			var id int64
			err := tx.GetContext(ctx, &id, `SELECT b.id FROM batches b
				WHERE b.delete_date <= ($1::timestamptz AT TIME ZONE b.time_zone)::date
				  AND NOT (b.id = ANY($2))
				ORDER BY b.delete_date, b.id LIMIT 1 FOR UPDATE SKIP LOCKED`, now, int64Array64(res.Skipped))
			if err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					done = true
					return nil
				}
				return fmt.Errorf("find expired batch: %w", err)
			}
			var running int
			if err := tx.GetContext(ctx, &running, `SELECT count(*) FROM call_jobs WHERE batch_id = $1 AND status = 'running'`, id); err != nil {
				return fmt.Errorf("check running jobs of batch %d: %w", id, err)
			}
			if running > 0 {
				res.Skipped = append(res.Skipped, id)
				return nil
			}
			b, err := getBatch(ctx, tx, id, false)
			if err != nil {
				return err
			}
			recs, err := deleteBatchTx(ctx, tx, b, "retention", "retention", now)
			if err != nil {
				return err
			}
			res.Deleted = append(res.Deleted, id)
			res.Recordings = append(res.Recordings, recs...)
			return nil
		})
		if err != nil {
			return res, err
		}
		if done {
			break
		}
	}
	r, err := s.db.ExecContext(ctx, `DELETE FROM batch_deletions
		WHERE history_delete_date <= ($1::timestamptz AT TIME ZONE time_zone)::date`, now)
	if err != nil {
		return res, fmt.Errorf("purge deletion records: %w", err)
	}
	n, _ := r.RowsAffected()
	res.PurgedRecords = int(n)
	if res.PurgedFiles, err = s.PurgeErrorFiles(ctx, now); err != nil {
		return res, err
	}
	return res, nil
}
