package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Batch is a dated slice of a campaign that owns customer lists (B-1 … B-7).
type Batch struct {
	ID                int64     `db:"id"`
	CampaignID        int       `db:"campaign_id"`
	Name              string    `db:"name"`
	TimeZone          string    `db:"time_zone"`
	StartDate         Date      `db:"-"`
	EndDate           Date      `db:"-"`
	DeleteDate        Date      `db:"-"`
	HistoryDeleteDate Date      `db:"-"`
	Memo              string    `db:"memo"`
	DialGroupIDs      []int     `db:"-"`
	CreatedBy         string    `db:"created_by"`
	CreatedAt         time.Time `db:"created_at"`
	UpdatedAt         time.Time `db:"updated_at"`
}

// batchRow is how a batch comes out of PostgreSQL.
type batchRow struct {
	Batch
	Start        time.Time     `db:"start_date"`
	End          time.Time     `db:"end_date"`
	Delete       time.Time     `db:"delete_date"`
	HistDelete   time.Time     `db:"history_delete_date"`
	DialGroupIDs pq.Int64Array `db:"dial_group_ids"`
}

func (r batchRow) batch() Batch {
	b := r.Batch
	b.StartDate, b.EndDate = dateFromDB(r.Start), dateFromDB(r.End)
	b.DeleteDate, b.HistoryDeleteDate = dateFromDB(r.Delete), dateFromDB(r.HistDelete)
	b.DialGroupIDs = make([]int, len(r.DialGroupIDs))
	for i, v := range r.DialGroupIDs {
		b.DialGroupIDs[i] = int(v)
	}
	return b
}

const batchColumns = `b.id, b.campaign_id, b.name, b.time_zone, b.start_date, b.end_date, b.delete_date,
	b.history_delete_date, b.memo, b.created_by, b.created_at, b.updated_at,
	COALESCE((SELECT array_agg(g.dial_group_id ORDER BY g.dial_group_id) FROM batch_dial_groups g
	          WHERE g.batch_id = b.id), '{}') AS dial_group_ids`

// NewBatch is what creating a batch needs. Validation of lengths happens at the API edge; the
// database checks them again.
type NewBatch struct {
	CampaignID    int
	Name          string
	Location      *time.Location // the campaign's zone: dates and "today" are in it
	Start         Date
	End           *Date // nil: derived by B-2
	Memo          string
	CreatedBy     string
	RetentionDays int
	MaxBatches    int // B-7
}

// CreateBatch stores a new batch after the B-2 and B-7 checks. The start may not be in the past
// (in the campaign's zone), so a batch never begins life already started.
func (s *Store) CreateBatch(ctx context.Context, nb NewBatch, now time.Time) (Batch, error) {
	if nb.Start.Before(DateOf(now, nb.Location)) {
		return Batch{}, invalid("B-2", "batch_start_in_past", "start date %s is before today (%s)", nb.Start, DateOf(now, nb.Location))
	}
	if err := checkStartHorizon(nb.Start, DateOf(now, nb.Location)); err != nil {
		return Batch{}, err
	}
	dates, err := ComputeBatchDates(nb.Start, nb.End, nb.RetentionDays)
	if err != nil {
		return Batch{}, err
	}
	var id int64
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		// B-7: serialise creations so two callers cannot both take the last slot.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('kakeru.batches.create'))`); err != nil {
			return fmt.Errorf("lock batch creation: %w", err)
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM batches`); err != nil {
			return fmt.Errorf("count batches: %w", err)
		}
		if n >= nb.MaxBatches {
			return conflict("B-7", "batch_limit_reached", "the maximum of %d batches is reached; delete a batch first", nb.MaxBatches)
		}
		err := tx.GetContext(ctx, &id, `INSERT INTO batches (campaign_id, name, time_zone, start_date, end_date,
			delete_date, history_delete_date, memo, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
			nb.CampaignID, nb.Name, nb.Location.String(), dates.Start.String(), dates.End.String(),
			dates.Delete.String(), dates.HistoryDelete.String(), nb.Memo, nb.CreatedBy, now)
		if err != nil {
			return fmt.Errorf("insert batch: %w", err)
		}
		return nil
	})
	if err != nil {
		return Batch{}, err
	}
	return s.GetBatch(ctx, id)
}

// GetBatch reads one batch.
func (s *Store) GetBatch(ctx context.Context, id int64) (Batch, error) {
	return getBatch(ctx, s.db, id, false)
}

func getBatch(ctx context.Context, q sqlx.QueryerContext, id int64, forUpdate bool) (Batch, error) {
	query := `SELECT ` + batchColumns + ` FROM batches b WHERE b.id = $1`
	if forUpdate {
		query += ` FOR UPDATE OF b`
	}
	var r batchRow
	if err := sqlx.GetContext(ctx, q, &r, query, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Batch{}, ErrNotFound
		}
		return Batch{}, fmt.Errorf("get batch %d: %w", id, err)
	}
	return r.batch(), nil
}

// BatchFilter selects batches. CampaignIDs nil means every campaign; empty means none.
type BatchFilter struct {
	CampaignIDs []int
	Limit       int
	Offset      int
}

// ListBatches returns one page of batches, newest start first, and the total matching.
func (s *Store) ListBatches(ctx context.Context, f BatchFilter) ([]Batch, int, error) {
	where, args := `TRUE`, []any{}
	if f.CampaignIDs != nil {
		where, args = `b.campaign_id = ANY($1)`, append(args, int64Array(f.CampaignIDs))
	}
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM batches b WHERE `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count batches: %w", err)
	}
	args = append(args, f.Limit, f.Offset)
	var rows []batchRow
	err := s.db.SelectContext(ctx, &rows, fmt.Sprintf(`SELECT %s FROM batches b WHERE %s
		ORDER BY b.start_date DESC, b.id DESC LIMIT $%d OFFSET $%d`, batchColumns, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list batches: %w", err)
	}
	out := make([]Batch, len(rows))
	for i, r := range rows {
		out[i] = r.batch()
	}
	return out, total, nil
}

// BatchPatch holds the fields a PATCH may change; nil leaves a field as it is.
type BatchPatch struct {
	Name          *string
	Start         *Date
	End           *Date
	Memo          *string
	RetentionDays int
}

// UpdateBatch changes a batch under B-3: before the start date (in the batch's zone) dates move
// freely within B-2; once started, the start may only move to a day on or before the first
// attempt and the end only to a day on or after the last one. Derived dates are recomputed.
func (s *Store) UpdateBatch(ctx context.Context, id int64, p BatchPatch, now time.Time) (Batch, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		b, err := getBatch(ctx, tx, id, true)
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(b.TimeZone)
		if err != nil {
			return fmt.Errorf("batch %d time zone: %w", id, err)
		}
		today := DateOf(now, loc)
		started := !today.Before(b.StartDate)
		start, end := b.StartDate, b.EndDate
		if p.Start != nil {
			start = *p.Start
		}
		if p.End != nil {
			end = *p.End
		}
		if p.Start != nil && !started && start != b.StartDate && start.Before(today) {
			return invalid("B-3", "batch_start_in_past", "start date %s is before today (%s)", start, today)
		}
		if started && (start != b.StartDate || end != b.EndDate) {
			first, last, ok, err := attemptDateRange(ctx, tx, id, b.TimeZone)
			if err != nil {
				return err
			}
			if ok && start.After(first) {
				return conflict("B-3", "batch_start_after_first_attempt",
					"the batch has started: the start date can only move to %s (the first attempt) or earlier", first)
			}
			if ok && end.Before(last) {
				return conflict("B-3", "batch_end_before_last_attempt",
					"the batch has started: the end date can only move to %s (the last attempt) or later", last)
			}
		}
		// Dates are re-derived only when the patch moves one: a change of R in the configuration
		// must not silently move the deletion dates of a batch whose name or memo is edited.
		dates := BatchDates{Start: b.StartDate, End: b.EndDate, Delete: b.DeleteDate, HistoryDelete: b.HistoryDeleteDate}
		if p.Start != nil || p.End != nil {
			if err := checkStartHorizon(start, today); err != nil {
				return err
			}
			if dates, err = ComputeBatchDates(start, &end, p.RetentionDays); err != nil {
				return err
			}
		}
		name, memo := b.Name, b.Memo
		if p.Name != nil {
			name = *p.Name
		}
		if p.Memo != nil {
			memo = *p.Memo
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET name = $2, memo = $3, start_date = $4, end_date = $5,
			delete_date = $6, history_delete_date = $7, updated_at = $8 WHERE id = $1`,
			id, name, memo, dates.Start.String(), dates.End.String(), dates.Delete.String(), dates.HistoryDelete.String(), now)
		if err != nil {
			return fmt.Errorf("update batch %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Batch{}, err
	}
	return s.GetBatch(ctx, id)
}

// attemptDateRange is the first and last attempt day of a batch, in its zone.
func attemptDateRange(ctx context.Context, q sqlx.QueryerContext, batchID int64, tz string) (first, last Date, ok bool, err error) {
	var r struct {
		First sql.NullTime `db:"first"`
		Last  sql.NullTime `db:"last"`
	}
	err = sqlx.GetContext(ctx, q, &r, `SELECT min((started_at AT TIME ZONE $2)::date) AS first,
		max((started_at AT TIME ZONE $2)::date) AS last FROM attempts WHERE batch_id = $1`, batchID, tz)
	if err != nil {
		return Date{}, Date{}, false, fmt.Errorf("attempt dates of batch %d: %w", batchID, err)
	}
	if !r.First.Valid {
		return Date{}, Date{}, false, nil
	}
	return dateFromDB(r.First.Time), dateFromDB(r.Last.Time), true, nil
}

// SetBatchDialGroups replaces the dial groups allowed to work the batch (B-1). The ids must
// already be known to exist in the configuration.
func (s *Store) SetBatchDialGroups(ctx context.Context, id int64, groupIDs []int, now time.Time) (Batch, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := getBatch(ctx, tx, id, true); err != nil {
			return err
		}
		ids := int64Array(groupIDs)
		var running int
		err := tx.GetContext(ctx, &running, `SELECT count(*) FROM call_jobs WHERE batch_id = $1
			AND status = 'running' AND NOT (dial_group_id = ANY($2))`, id, ids)
		if err != nil {
			return fmt.Errorf("check running jobs of batch %d: %w", id, err)
		}
		if running > 0 {
			return conflict("B-1", "dial_group_in_use", "a running call job of this batch uses a dial group being removed; stop it first")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM batch_dial_groups WHERE batch_id = $1`, id); err != nil {
			return fmt.Errorf("clear dial groups of batch %d: %w", id, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO batch_dial_groups (batch_id, dial_group_id)
			SELECT $1, g FROM unnest($2::bigint[]) AS g ON CONFLICT DO NOTHING`, id, ids)
		if err != nil {
			return fmt.Errorf("set dial groups of batch %d: %w", id, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET updated_at = $2 WHERE id = $1`, id, now)
		return err
	})
	if err != nil {
		return Batch{}, err
	}
	return s.GetBatch(ctx, id)
}

// CountRunningJobs is the number of call jobs running across all instances.
func (s *Store) CountRunningJobs(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM call_jobs WHERE status = 'running'`); err != nil {
		return 0, fmt.Errorf("count running jobs: %w", err)
	}
	return n, nil
}

// maxStartAheadDays bounds how far ahead a batch may start: derived dates must stay four-digit
// years, and a batch years away is a typing mistake.
const maxStartAheadDays = 3 * 366

func checkStartHorizon(start, today Date) error {
	if start.After(today.AddDays(maxStartAheadDays)) {
		return invalid("B-2", "batch_start_too_far", "start date %s is more than three years ahead", start)
	}
	return nil
}
