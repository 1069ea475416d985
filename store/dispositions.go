package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/listimport"
)

// NewDisposition is what an agent saves after a connected call (D-1); the caller has checked the
// result code against the campaign.
type NewDisposition struct {
	AttemptID  int64
	Party      string // self | other
	ResultCode string
	OtherTel   string
	NextAction domain.NextStep
	CallbackAt *time.Time
	Memo       string
	SavedBy    string
	AgentID    *int // the agent saving it; nil for an admin (anyone's attempt)
	// DoNotCall: the result code is marked do_not_call (N-1): the numbers go on the campaign's
	// list and the contact is complete, whatever the next action.
	DoNotCall bool
}

// dialableTel is a number the engine may dial: what a list's tel must be (9 to 30 digits, a
// leading 0), or empty for none. The other number is dialed on the contact's next attempts.
var dialableTel = regexp.MustCompile(`^(0[0-9]{8,29})?$`)

// Validate reports the first problem of a disposition against D-1.
func (d NewDisposition) Validate(now time.Time) error {
	switch {
	case d.Party != "self" && d.Party != "other":
		return invalid("D-1", "invalid_input", "party must be self or other")
	case d.ResultCode == "":
		return invalid("D-1", "invalid_input", "result_code is required")
	case !dialableTel.MatchString(d.OtherTel):
		return invalid("D-1", "invalid_input", "other_tel must be a phone number of 9 to 30 digits starting with 0")
	case !d.NextAction.Valid():
		return invalid("D-1", "invalid_input", "next_action must be continue, callback or complete")
	case d.NextAction == domain.NextCallback && d.CallbackAt == nil:
		return invalid("D-1", "invalid_input", "callback_at is required for a callback")
	case d.NextAction == domain.NextCallback && !d.CallbackAt.After(now):
		return invalid("D-1", "callback_in_past", "callback_at must be in the future")
	case d.NextAction != domain.NextCallback && d.CallbackAt != nil:
		return invalid("D-1", "invalid_input", "callback_at goes only with next_action callback")
	case utf8.RuneCountInString(d.Memo) > 5000:
		return invalid("D-1", "invalid_input", "memo must be at most 5000 characters")
	}
	return nil
}

// AttemptRef is the attempt a disposition is for, with its batch and agent.
type AttemptRef struct {
	ID         int64          `db:"id"`
	BatchID    int64          `db:"batch_id"`
	CampaignID int            `db:"campaign_id"`
	AgentID    *int           `db:"agent_id"`
	Outcome    domain.Outcome `db:"outcome"`
	ContactID  *int64         `db:"contact_id"`
}

// GetAttemptRef reads who an attempt belongs to.
func (s *Store) GetAttemptRef(ctx context.Context, id int64) (AttemptRef, error) {
	var a AttemptRef
	err := s.db.GetContext(ctx, &a, `SELECT id, batch_id, campaign_id, agent_id, outcome, contact_id FROM attempts WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("get attempt %d: %w", id, err)
	}
	return a, nil
}

// SaveDisposition stores the disposition of a connected attempt and applies its next action to
// the contact (D-2): continue leaves it eligible, callback schedules it (one scheduled callback
// per contact: a new one replaces the old), complete ends it for this batch.
func (s *Store) SaveDisposition(ctx context.Context, d NewDisposition, now time.Time) error {
	d.OtherTel, _ = listimport.NormalizeTel(d.OtherTel) // written by hand: 090-1234-5678, full-width digits
	if err := d.Validate(now); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var a AttemptRef
		err := tx.GetContext(ctx, &a, `SELECT id, batch_id, campaign_id, agent_id, outcome, contact_id FROM attempts
			WHERE id = $1 FOR UPDATE`, d.AttemptID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock attempt %d: %w", d.AttemptID, err)
		}
		if a.Outcome != domain.OutcomeConnected {
			return conflict("D-1", "attempt_not_connected", "only a connected call takes a disposition (this one: %s)", a.Outcome)
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM dispositions WHERE attempt_id = $1)`, d.AttemptID); err != nil {
			return fmt.Errorf("check disposition of attempt %d: %w", d.AttemptID, err)
		}
		if exists {
			return conflict("D-1", "disposition_exists", "this call's disposition is already saved")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO dispositions (attempt_id, party, result_code, other_tel, next_action,
			callback_at, memo, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			d.AttemptID, d.Party, d.ResultCode, d.OtherTel, d.NextAction, d.CallbackAt, d.Memo, d.SavedBy, now)
		if err != nil {
			return fmt.Errorf("save disposition of attempt %d: %w", d.AttemptID, err)
		}
		if d.DoNotCall {
			if err := dispositionDoNotCall(ctx, tx, d, a, now); err != nil {
				return err
			}
		}
		if a.ContactID == nil {
			return nil
		}
		contactID := *a.ContactID
		status := map[domain.NextStep]string{domain.NextContinue: "eligible", domain.NextCallback: "callback",
			domain.NextComplete: "complete"}[d.NextAction]
		if d.DoNotCall {
			status = "complete"
		}
		// The other number, when given, is what the next attempts dial; none: the list's (D-1).
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET status = $2, next_attempt_at = NULL, redial_tel = NULLIF($3, '')
			WHERE id = $1`, contactID, status, d.OtherTel); err != nil {
			return fmt.Errorf("apply next action to contact %d: %w", contactID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE callbacks SET status = 'cancelled', updated_at = $2
			WHERE contact_id = $1 AND status = 'scheduled'`, contactID, now); err != nil {
			return fmt.Errorf("replace callbacks of contact %d: %w", contactID, err)
		}
		if d.NextAction == domain.NextCallback && !d.DoNotCall {
			_, err := tx.ExecContext(ctx, `INSERT INTO callbacks (batch_id, contact_id, attempt_id, agent_id, due_at, created_at,
				updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`, a.BatchID, contactID, d.AttemptID, a.AgentID, *d.CallbackAt, now)
			if err != nil {
				return fmt.Errorf("schedule callback of contact %d: %w", contactID, err)
			}
		}
		return nil
	})
}

// UnsavedDisposition is a connected call whose disposition was never saved (D-3).
type UnsavedDisposition struct {
	AttemptID   int64      `db:"attempt_id" json:"attempt_id"`
	BatchID     int64      `db:"batch_id" json:"batch_id"`
	CallJobID   *int64     `db:"call_job_id" json:"call_job_id"`
	ContactID   *int64     `db:"contact_id" json:"contact_id"`
	Name        *string    `db:"name" json:"name"`
	Kana        *string    `db:"kana" json:"kana"`
	Tel         string     `db:"tel" json:"tel"`
	AgentID     *int       `db:"agent_id" json:"agent_id"`
	AnsweredAt  *time.Time `db:"answered_at" json:"answered_at"`
	EndedAt     *time.Time `db:"ended_at" json:"ended_at"`
	TalkSeconds *int       `db:"talk_seconds" json:"talk_seconds"`
	// Recording is the call's recording, to listen to before saving (nil: not recorded).
	Recording *AttemptRecording `db:"-" json:"-"`
}

type unsavedRow struct {
	UnsavedDisposition
	RecPath      sql.NullString `db:"recording_path"`
	RecStartedAt *time.Time     `db:"recording_started_at"`
	RecMs        *int           `db:"recording_ms"`
	RecBytes     *int64         `db:"recording_bytes"`
}

// UnsavedFilter: AgentID limits to one agent's calls; CampaignIDs to a supervisor's campaigns;
// Query is space-separated words that must all appear in the contact's name, kana or number or
// the tel dialed (AND).
type UnsavedFilter struct {
	AgentID     *int
	CampaignIDs []int
	Query       string
	Limit       int
	Offset      int
}

// UnsavedDispositions lists the unsaved dispositions visible to the caller, oldest first.
func (s *Store) UnsavedDispositions(ctx context.Context, f UnsavedFilter, now time.Time) ([]UnsavedDisposition, int, error) {
	where := ` FROM attempts a LEFT JOIN contacts c ON c.id = a.contact_id
		WHERE a.outcome = 'connected' AND a.disposition_due_at <= $1
		  AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.attempt_id = a.id)
		  AND ($2::int IS NULL OR a.agent_id = $2) AND ($3::bigint[] IS NULL OR a.campaign_id = ANY($3))`
	var campaigns any
	if f.CampaignIDs != nil {
		campaigns = int64Array(f.CampaignIDs)
	}
	args := []any{now, f.AgentID, campaigns}
	for _, w := range strings.Fields(f.Query) {
		args = append(args, "%"+escapeLike(w)+"%")
		n := len(args)
		where += fmt.Sprintf(` AND (c.name ILIKE $%d OR c.kana ILIKE $%d OR a.tel LIKE $%d)`, n, n, n)
	}
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*)`+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count unsaved dispositions: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	args = append(args, limit, f.Offset)
	var rows []unsavedRow
	err := s.db.SelectContext(ctx, &rows, `SELECT a.id AS attempt_id, a.batch_id, a.call_job_id, a.contact_id, c.name, c.kana,
		a.tel, a.agent_id, a.answered_at, a.ended_at, a.talk_seconds,
		a.recording_path, a.recording_started_at, a.recording_ms, a.recording_bytes`+where+
		fmt.Sprintf(` ORDER BY a.ended_at, a.id LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list unsaved dispositions: %w", err)
	}
	out := make([]UnsavedDisposition, len(rows))
	for i, r := range rows {
		out[i] = r.UnsavedDisposition
		if r.RecPath.Valid && r.RecStartedAt != nil {
			out[i].Recording = &AttemptRecording{Path: r.RecPath.String, StartedAt: *r.RecStartedAt, DurationMs: r.RecMs, Bytes: r.RecBytes}
		}
	}
	return out, total, nil
}
