package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/domain"
)

// StartRules are what J-5 checks that live in configuration.
type StartRules struct {
	Location        *time.Location // the campaign's zone
	BusinessStart   int            // minutes after local midnight
	BusinessEnd     int            // minutes after local midnight; 1440 = end of day
	HasResultCodes  bool
	MaxRunningJobs  int
	StartedBy       string
	EarlyStartAhead time.Duration // how long before business start a job may be started (1 h)
	// Calendar is the campaign's calling calendar (J-8); nil: BusinessStart to BusinessEnd
	// every day. Business start and end of a day are its first window's start and last's end.
	Calendar *calendar.Calendar
}

// StartCallJob starts a stopped job after every J-5 check, opening a new run with its target
// fixed now (J-3). Each refusal is a 409 naming its reason.
func (s *Store) StartCallJob(ctx context.Context, id int64, r StartRules, now time.Time) (CallJob, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// One start at a time, so the running-jobs limit cannot be overrun by two starts at once.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7005)`); err != nil {
			return fmt.Errorf("lock job starts: %w", err)
		}
		j, err := lockCallJob(ctx, tx, id)
		if err != nil {
			return err
		}
		b, err := getBatch(ctx, tx, j.BatchID, true)
		if err != nil {
			return err
		}
		if j.Status == domain.JobRunning {
			return conflict("J-5", "call_job_running", "the call job is already running")
		}
		var running int
		if err := tx.GetContext(ctx, &running, `SELECT count(*) FROM call_jobs WHERE status = 'running'`); err != nil {
			return fmt.Errorf("count running jobs: %w", err)
		}
		if running >= r.MaxRunningJobs {
			return conflict("J-5", "running_job_limit_reached", "at most %d call jobs may run at once", r.MaxRunningJobs)
		}
		if err := r.checkHours(now); err != nil {
			return err
		}
		today := DateOf(now, r.Location)
		if today.Before(b.StartDate) || today.After(b.EndDate) {
			return conflict("B-4", "outside_batch_period", "today (%s) is outside the batch period %s to %s", today, b.StartDate, b.EndDate)
		}
		if !r.HasResultCodes {
			return conflict("J-5", "campaign_has_no_result_codes", "the campaign has no result codes for agents to pick")
		}
		unsaved, err := countUnsaved(ctx, tx, j.BatchID, now)
		if err != nil {
			return err
		}
		if unsaved > 0 {
			return conflict("D-3", "batch_has_unsaved_dispositions", "the batch has %d unsaved dispositions; save them first", unsaved)
		}
		if err := checkJobList(ctx, tx, j.BatchID, j.ListID, j.DialGroupID); err != nil {
			return err
		}
		q, args := eligibleQuery(j, j.Run+1, now)
		var target int
		if err := tx.GetContext(ctx, &target, `SELECT count(*) FROM (`+q+`) t`, args...); err != nil {
			return fmt.Errorf("count target of job %d: %w", id, err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE call_jobs SET status = 'running', run = run + 1, target_count = $2,
			started_at = $3, started_by = $4, stopped_at = NULL, stop_reason = NULL, stopped_by = NULL, updated_at = $3 WHERE id = $1`,
			id, target, now, r.StartedBy)
		if err != nil {
			return fmt.Errorf("start call job %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return CallJob{}, err
	}
	return s.GetCallJob(ctx, id)
}

// checkHours is J-5's check of the calendar: a closed day refuses with its own code; an open
// day from EarlyStartAhead before its first window until the end of its last.
func (r StartRules) checkHours(now time.Time) error {
	cal := r.Calendar
	if cal == nil {
		cal = calendar.Daily(r.BusinessStart, r.BusinessEnd)
	}
	start, end, closed := cal.DayBounds(now, r.Location)
	if closed != "" {
		d := calendar.DateOf(now, r.Location)
		why := map[string]string{calendar.ClosedDate: "one of the campaign's closed dates",
			calendar.PublicHoliday: "a public holiday", calendar.NoHours: "a day without calling hours"}[closed]
		return conflict("J-5", "closed_day", "today (%s, %s) is %s in the campaign's calendar (%s): no job starts",
			d, d.Weekday(), why, r.Location)
	}
	if now.Before(start.Add(-r.EarlyStartAhead)) || !now.Before(end) {
		return conflict("J-5", "outside_business_hours",
			"a job can be started from %s before business start until business end (%s–%s, %s)",
			r.EarlyStartAhead, start.Format("15:04"), clockOf(end, start), r.Location)
	}
	return nil
}

// clockOf formats a day's end as "HH:MM", midnight after start as "24:00".
func clockOf(end, start time.Time) string {
	if end.Hour() == 0 && end.Minute() == 0 && end.After(start) {
		return "24:00"
	}
	return end.Format("15:04")
}

// StopCallJob stops a running job (J-6). Calls in progress are not touched: they finish and
// their outcomes are recorded. reason: "admin", "supervisor", "business_end",
// "campaign_removed", or a failure of ours the engine stopped it for ("switch_unavailable",
// "dial_string_refused").
func (s *Store) StopCallJob(ctx context.Context, id int64, reason string, now time.Time) (CallJob, error) {
	return s.StopCallJobBy(ctx, id, reason, "", now)
}

// StopCallJobBy is StopCallJob by a user, whose name the job keeps (stopped_by); by is empty
// when the job stops by itself.
func (s *Store) StopCallJobBy(ctx context.Context, id int64, reason, by string, now time.Time) (CallJob, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		j, err := lockCallJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if j.Status != domain.JobRunning {
			return conflict("J-6", "call_job_not_running", "the call job is not running")
		}
		_, err = tx.ExecContext(ctx, `UPDATE call_jobs SET status = 'stopped', stopped_at = $2, stop_reason = $3,
			stopped_by = NULLIF($4, ''), updated_at = $2 WHERE id = $1`, id, now, reason, by)
		if err != nil {
			return fmt.Errorf("stop call job %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return CallJob{}, err
	}
	return s.GetCallJob(ctx, id)
}

// countUnsaved counts the batch's unsaved dispositions (D-3): connected attempts without a
// disposition whose grace period has ended.
func countUnsaved(ctx context.Context, q sqlx.QueryerContext, batchID int64, now time.Time) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM attempts a WHERE a.batch_id = $1 AND a.outcome = 'connected'
		AND a.disposition_due_at <= $2 AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.attempt_id = a.id)`, batchID, now)
	if err != nil {
		return 0, fmt.Errorf("count unsaved dispositions of batch %d: %w", batchID, err)
	}
	return n, nil
}

// eligibleQuery selects the ids of a job's contacts that may be dialed now: in its list, not
// complete, not held by another job nor called by another running job in its current run (J-4:
// a number stays with the job that called it while that job runs, retries included), matching
// the filter (J-2), and either not yet dialed in run or due for a retry (P-3).
func eligibleQuery(j CallJob, run int, now time.Time) (string, []any) {
	q := `SELECT c.id, c.tel FROM contacts c WHERE c.list_id = $1 AND c.status = 'eligible' AND c.claimed_by_job IS NULL
		AND (c.next_attempt_at IS NULL AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.contact_id = c.id
		         AND a.call_job_id = $2 AND a.job_run = $3)
		     OR c.next_attempt_at <= $4)
		AND (c.called_by_job IS NULL OR c.called_by_job = $2 OR NOT EXISTS (SELECT 1 FROM call_jobs oj
		         WHERE oj.id = c.called_by_job AND oj.status = 'running' AND oj.run = c.called_run))
		AND ($5 = 'any' OR c.phone_type = $5)
		AND ($6::int IS NULL OR c.attempt_count >= $6) AND ($7::int IS NULL OR c.attempt_count <= $7)`
	args := []any{j.ListID, j.ID, run, now, j.Filter.PhoneType, j.Filter.AttemptsMin, j.Filter.AttemptsMax}
	if j.Filter.LastAttemptFrom != "" {
		q += ` AND c.last_attempt_at IS NOT NULL AND (CASE WHEN $8::time <= $9::time
			THEN (c.last_attempt_at AT TIME ZONE $10)::time BETWEEN $8::time AND $9::time
			ELSE (c.last_attempt_at AT TIME ZONE $10)::time >= $8::time OR (c.last_attempt_at AT TIME ZONE $10)::time <= $9::time END)`
		args = append(args, j.Filter.LastAttemptFrom, j.Filter.LastAttemptTo, j.TimeZone)
	}
	return q, args
}
