package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/kakeru-dialer/kakeru/domain"
)

// JobFilter selects a call job's contacts (J-2); never on remarks.
type JobFilter struct {
	PhoneType       string `json:"phone_type"`                  // any | mobile | landline
	AttemptsMin     *int   `json:"attempts_min,omitempty"`      // inclusive
	AttemptsMax     *int   `json:"attempts_max,omitempty"`      // inclusive; 0 = never dialed
	LastAttemptFrom string `json:"last_attempt_from,omitempty"` // HH:MM, campaign's zone
	LastAttemptTo   string `json:"last_attempt_to,omitempty"`   // HH:MM; before From wraps midnight
}

// MaxFilterAttempts bounds a filter's attempt counts; no contact is dialed that often.
const MaxFilterAttempts = 10000

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Validate reports the first problem of a filter.
func (f *JobFilter) Validate() error {
	if f.PhoneType == "" {
		f.PhoneType = "any"
	}
	switch f.PhoneType {
	case "any", "mobile", "landline":
	default:
		return invalid("J-2", "invalid_input", "filter.phone_type must be any, mobile or landline")
	}
	// Bounded as the claim query's integer parameters are: a larger count passed creation and
	// then failed every start.
	for _, n := range []*int{f.AttemptsMin, f.AttemptsMax} {
		if n != nil && (*n < 0 || *n > MaxFilterAttempts) {
			return invalid("J-2", "invalid_input", "filter attempt counts are from 0 to %d", MaxFilterAttempts)
		}
	}
	if f.AttemptsMin != nil && f.AttemptsMax != nil && *f.AttemptsMin > *f.AttemptsMax {
		return invalid("J-2", "invalid_input", "filter.attempts_min must not exceed attempts_max")
	}
	if (f.LastAttemptFrom == "") != (f.LastAttemptTo == "") {
		return invalid("J-2", "invalid_input", "filter.last_attempt_from and last_attempt_to go together")
	}
	for _, v := range []string{f.LastAttemptFrom, f.LastAttemptTo} {
		if v != "" && !hhmm.MatchString(v) {
			return invalid("J-2", "invalid_input", "filter times are HH:MM (00:00 to 23:59), got %q", v)
		}
	}
	return nil
}

// Scan and Value store the filter as jsonb.
func (f *JobFilter) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("job filter: unexpected %T", src)
	}
	return json.Unmarshal(b, f)
}

// CallJob is an extraction filter + list + dial group + caller ID, started and stopped to dial
// (J-1). Counts follow J-3: assigned is the list's rows, target is fixed at start, remaining
// is the target not yet dialed in this run.
type CallJob struct {
	ID             int64            `db:"id" json:"id"`
	BatchID        int64            `db:"batch_id" json:"batch_id"`
	CampaignID     int              `db:"campaign_id" json:"-"`
	TimeZone       string           `db:"time_zone" json:"-"`
	Name           string           `db:"name" json:"name"`
	ListID         int64            `db:"list_id" json:"list_id"`
	ListName       string           `db:"list_name" json:"list_name"`
	DialGroupID    int              `db:"dial_group_id" json:"dial_group_id"`
	CallerID       string           `db:"caller_id" json:"caller_id"`
	Filter         JobFilter        `db:"filter" json:"filter"`
	Memo           string           `db:"memo" json:"memo"`
	Status         domain.JobStatus `db:"status" json:"status"`
	AssignedCount  int              `db:"assigned_count" json:"assigned_count"`
	TargetCount    int              `db:"target_count" json:"target_count"`
	RemainingCount int              `db:"remaining_count" json:"remaining_count"`
	Run            int              `db:"run" json:"run"`
	StartedAt      *time.Time       `db:"started_at" json:"started_at"`
	StoppedAt      *time.Time       `db:"stopped_at" json:"stopped_at"`
	StopReason     *string          `db:"stop_reason" json:"stop_reason"`
	// Who started the job's current or last run, and who stopped it (null when it stopped by
	// itself or was never stopped).
	StartedBy *string   `db:"started_by" json:"started_by"`
	StoppedBy *string   `db:"stopped_by" json:"stopped_by"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
	// PacingMode is the job's own pacing mode (issue 16: progressive, ratio, predictive or
	// preview), overriding its campaign's; nil: the campaign's.
	PacingMode *string `db:"pacing_mode" json:"pacing_mode"`
	// EffectivePacingMode is the mode the job dials in: PacingMode, else its campaign's. The
	// store never fills it (the campaigns are configuration): the API does, for its answers.
	EffectivePacingMode *string `db:"-" json:"effective_pacing_mode"`
}

// PacingModes are the pacing modes a job may name (P-1, issue 16), as the configuration's
// campaigns[].pacing.mode spells them.
func PacingModes() []string { return []string{"progressive", "ratio", "predictive", "preview"} }

// checkPacingMode refuses a mode that is not one of PacingModes (nil is the campaign's).
func checkPacingMode(m *string) error {
	if m != nil && !slices.Contains(PacingModes(), *m) {
		return invalid("P-1", "invalid_input", "pacing_mode must be null or one of progressive, ratio, predictive, preview, got %q", *m)
	}
	return nil
}

// callJobRowColumns are a job's own columns; callJobColumns add its remaining count, the target
// minus the contacts dialed in this run, never below zero (a contact skipped because of a
// do-not-call list, N-1, was not dialed). The count reads every attempt of the run: the claim,
// which runs many times a second, reads the row without it.
const callJobRowColumns = `j.id, j.batch_id, b.campaign_id, b.time_zone, j.name, j.list_id, l.name AS list_name,
	j.dial_group_id, j.caller_id, j.filter, j.memo, j.status, l.row_count AS assigned_count, j.target_count,
	j.run, j.started_at, j.stopped_at, j.stop_reason, j.started_by, j.stopped_by, j.created_at, j.updated_at, j.pacing_mode`

const callJobColumns = callJobRowColumns + `,
	GREATEST(j.target_count - (SELECT count(DISTINCT a.contact_id) FROM attempts a
	         WHERE a.call_job_id = j.id AND a.job_run = j.run AND j.run > 0 AND a.outcome <> 'skipped'), 0) AS remaining_count`

const callJobFrom = ` FROM call_jobs j JOIN batches b ON b.id = j.batch_id JOIN customer_lists l ON l.id = j.list_id`

// NewCallJob is what creating a call job needs; the caller has checked the caller ID against
// the campaign (configuration).
type NewCallJob struct {
	BatchID     int64
	Name        string
	ListID      int64
	DialGroupID int
	CallerID    string
	Filter      JobFilter
	Memo        string
	CreatedBy   string
	MaxCallJobs int // J-7
	// PacingMode is the job's own pacing mode (one of PacingModes), nil for its campaign's.
	PacingMode *string
}

func checkJobText(name, memo string) error {
	if n := utf8.RuneCountInString(name); n < 1 || n > 60 {
		return invalid("J-1", "invalid_input", "name must be 1 to 60 characters")
	}
	if utf8.RuneCountInString(memo) > 500 {
		return invalid("J-1", "invalid_input", "memo must be at most 500 characters")
	}
	return nil
}

// CreateCallJob stores a stopped job after J-1, J-2 and J-7: the list is the batch's and is
// assigned to the job's dial group.
func (s *Store) CreateCallJob(ctx context.Context, nj NewCallJob, now time.Time) (CallJob, error) {
	if err := checkJobText(nj.Name, nj.Memo); err != nil {
		return CallJob{}, err
	}
	if err := nj.Filter.Validate(); err != nil {
		return CallJob{}, err
	}
	if err := checkPacingMode(nj.PacingMode); err != nil {
		return CallJob{}, err
	}
	var id int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// J-7 under a lock, so two creations cannot both take the last place.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7007)`); err != nil {
			return fmt.Errorf("lock call jobs: %w", err)
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM call_jobs`); err != nil {
			return fmt.Errorf("count call jobs: %w", err)
		}
		if n >= nj.MaxCallJobs {
			return conflict("J-7", "call_job_limit_reached", "at most %d call jobs may exist; delete one first", nj.MaxCallJobs)
		}
		if _, err := getBatch(ctx, tx, nj.BatchID, true); err != nil {
			return err
		}
		if err := checkJobList(ctx, tx, nj.BatchID, nj.ListID, nj.DialGroupID); err != nil {
			return err
		}
		f, _ := json.Marshal(nj.Filter)
		return tx.GetContext(ctx, &id, `INSERT INTO call_jobs (batch_id, name, list_id, dial_group_id, caller_id, filter, memo,
			created_by, created_at, updated_at, pacing_mode) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id`,
			nj.BatchID, nj.Name, nj.ListID, nj.DialGroupID, nj.CallerID, f, nj.Memo, nj.CreatedBy, now, nj.PacingMode)
	})
	if err != nil {
		return CallJob{}, err
	}
	return s.GetCallJob(ctx, id)
}

// checkJobList: the list belongs to the batch and is assigned (not deleted) to the dial group.
func checkJobList(ctx context.Context, q sqlx.QueryerContext, batchID, listID int64, group int) error {
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM customer_lists WHERE id = $1 AND batch_id = $2)`, listID, batchID)
	if err != nil {
		return fmt.Errorf("check list %d: %w", listID, err)
	}
	if !ok {
		return invalid("J-1", "unknown_list", "list %d is not a list of batch %d", listID, batchID)
	}
	err = sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM assignments WHERE list_id = $1 AND dial_group_id = $2
		AND deleted_at IS NULL)`, listID, group)
	if err != nil {
		return fmt.Errorf("check assignment of list %d: %w", listID, err)
	}
	if !ok {
		return invalid("A-1", "list_not_assigned", "list %d is not assigned to dial group %d", listID, group)
	}
	return nil
}

// GetCallJob reads one call job.
func (s *Store) GetCallJob(ctx context.Context, id int64) (CallJob, error) {
	return getCallJob(ctx, s.db, id)
}

func getCallJob(ctx context.Context, q sqlx.QueryerContext, id int64) (CallJob, error) {
	var j CallJob
	if err := sqlx.GetContext(ctx, q, &j, `SELECT `+callJobColumns+callJobFrom+` WHERE j.id = $1`, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return CallJob{}, ErrNotFound
		}
		return CallJob{}, fmt.Errorf("get call job %d: %w", id, err)
	}
	return j, nil
}

// CallJobFilter selects call jobs; CampaignIDs limits a supervisor to its campaigns (nil: all).
type CallJobFilter struct {
	BatchID     int64
	CampaignIDs []int
	Running     bool
	// DialGroupIDs, when not nil, keeps only jobs of these dial groups.
	DialGroupIDs []int
	Limit        int
	Offset       int
}

// ListCallJobs returns call jobs, oldest first, and how many match in all.
func (s *Store) ListCallJobs(ctx context.Context, f CallJobFilter) ([]CallJob, int, error) {
	where := ` WHERE ($1::bigint = 0 OR j.batch_id = $1) AND ($2::bigint[] IS NULL OR b.campaign_id = ANY($2)) AND (NOT $3 OR j.status = 'running')
		AND ($4::bigint[] IS NULL OR j.dial_group_id = ANY($4))`
	var campaigns, groups any
	if f.CampaignIDs != nil {
		campaigns = int64Array(f.CampaignIDs)
	}
	if f.DialGroupIDs != nil {
		groups = int64Array(f.DialGroupIDs)
	}
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*)`+callJobFrom+where, f.BatchID, campaigns, f.Running, groups); err != nil {
		return nil, 0, fmt.Errorf("count call jobs: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	out := []CallJob{}
	err := s.db.SelectContext(ctx, &out, `SELECT `+callJobColumns+callJobFrom+where+` ORDER BY j.id LIMIT $5 OFFSET $6`,
		f.BatchID, campaigns, f.Running, groups, limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list call jobs: %w", err)
	}
	return out, total, nil
}

// CallJobPatch changes a stopped job; nil fields stay.
type CallJobPatch struct {
	Name        *string
	ListID      *int64
	DialGroupID *int
	CallerID    *string
	Filter      *JobFilter
	Memo        *string
	// PacingMode: nil leaves the job's mode; "" sets it back to its campaign's (NULL); any
	// other value must be one of PacingModes.
	PacingMode *string
}

// UpdateCallJob edits a stopped job (a running one would change under the dialer's feet).
func (s *Store) UpdateCallJob(ctx context.Context, id int64, p CallJobPatch, now time.Time) (CallJob, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		j, err := lockCallJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if j.Status == domain.JobRunning {
			return conflict("J-6", "call_job_running", "stop the call job before changing it")
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&j.Name, p.Name)
		set(&j.CallerID, p.CallerID)
		set(&j.Memo, p.Memo)
		if p.ListID != nil {
			j.ListID = *p.ListID
		}
		if p.DialGroupID != nil {
			j.DialGroupID = *p.DialGroupID
		}
		if p.Filter != nil {
			if err := p.Filter.Validate(); err != nil {
				return err
			}
			j.Filter = *p.Filter
		}
		if p.PacingMode != nil {
			j.PacingMode = p.PacingMode
			if *p.PacingMode == "" {
				j.PacingMode = nil
			}
			if err := checkPacingMode(j.PacingMode); err != nil {
				return err
			}
		}
		if err := checkJobText(j.Name, j.Memo); err != nil {
			return err
		}
		if p.ListID != nil || p.DialGroupID != nil {
			if err := checkJobList(ctx, tx, j.BatchID, j.ListID, j.DialGroupID); err != nil {
				return err
			}
		}
		f, _ := json.Marshal(j.Filter)
		_, err = tx.ExecContext(ctx, `UPDATE call_jobs SET name = $2, list_id = $3, dial_group_id = $4, caller_id = $5,
			filter = $6, memo = $7, updated_at = $8, pacing_mode = $9 WHERE id = $1`,
			id, j.Name, j.ListID, j.DialGroupID, j.CallerID, f, j.Memo, now, j.PacingMode)
		if err != nil {
			return fmt.Errorf("update call job %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return CallJob{}, err
	}
	return s.GetCallJob(ctx, id)
}

func lockCallJob(ctx context.Context, tx *sqlx.Tx, id int64) (CallJob, error) {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM call_jobs WHERE id = $1 FOR UPDATE`, id); err != nil {
		return CallJob{}, fmt.Errorf("lock call job %d: %w", id, err)
	}
	return getCallJob(ctx, tx, id)
}

// DeleteCallJob deletes a stopped job; its attempts stay in the batch's history.
func (s *Store) DeleteCallJob(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		j, err := lockCallJob(ctx, tx, id)
		if err != nil {
			return err
		}
		if j.Status == domain.JobRunning {
			return conflict("J-6", "call_job_running", "stop the call job before deleting it")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM call_jobs WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete call job %d: %w", id, err)
		}
		return nil
	})
}
