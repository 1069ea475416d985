package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Callback is a scheduled call back to a contact (S-2).
type Callback struct {
	ID        int64     `db:"id" json:"id"`
	BatchID   int64     `db:"batch_id" json:"batch_id"`
	ContactID int64     `db:"contact_id" json:"contact_id"`
	AttemptID *int64    `db:"attempt_id" json:"attempt_id"`
	AgentID   *int      `db:"agent_id" json:"agent_id"`
	Name      string    `db:"name" json:"name"`
	Tel       string    `db:"tel" json:"tel"`
	RedialTel *string   `db:"redial_tel" json:"redial_tel"` // the other number dialed instead of tel (D-1)
	DueAt     time.Time `db:"due_at" json:"due_at"`
	Status    string    `db:"status" json:"status"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
}

const callbackSelect = `SELECT cb.id, cb.batch_id, cb.contact_id, cb.attempt_id, cb.agent_id, c.name, c.tel, c.redial_tel, cb.due_at,
	cb.status, cb.created_at, cb.updated_at FROM callbacks cb JOIN contacts c ON c.id = cb.contact_id
	JOIN batches b ON b.id = cb.batch_id`

// CallbackFilter selects scheduled callbacks; CampaignIDs limits a supervisor (nil: all).
type CallbackFilter struct {
	BatchID     int64
	AgentID     *int
	DueBefore   *time.Time
	CampaignIDs []int
	Limit       int
	Offset      int
}

// ListCallbacks returns scheduled callbacks, soonest first, and how many match.
func (s *Store) ListCallbacks(ctx context.Context, f CallbackFilter) ([]Callback, int, error) {
	where := ` WHERE cb.status = 'scheduled' AND ($1::bigint = 0 OR cb.batch_id = $1) AND ($2::int IS NULL OR cb.agent_id = $2)
		AND ($3::timestamptz IS NULL OR cb.due_at < $3) AND ($4::bigint[] IS NULL OR b.campaign_id = ANY($4))`
	var campaigns any
	if f.CampaignIDs != nil {
		campaigns = int64Array(f.CampaignIDs)
	}
	args := []any{f.BatchID, f.AgentID, f.DueBefore, campaigns}
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM callbacks cb JOIN batches b ON b.id = cb.batch_id`+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count callbacks: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	out := []Callback{}
	if err := s.db.SelectContext(ctx, &out, callbackSelect+where+` ORDER BY cb.due_at, cb.id LIMIT $5 OFFSET $6`,
		append(args, limit, f.Offset)...); err != nil {
		return nil, 0, fmt.Errorf("list callbacks: %w", err)
	}
	return out, total, nil
}

// GetCallback reads one callback with its campaign.
func (s *Store) GetCallback(ctx context.Context, id int64) (Callback, int, error) {
	var cb struct {
		Callback
		CampaignID int `db:"campaign_id"`
	}
	err := s.db.GetContext(ctx, &cb, `SELECT cb.id, cb.batch_id, cb.contact_id, cb.attempt_id, cb.agent_id, c.name, c.tel,
		c.redial_tel, cb.due_at, cb.status, cb.created_at, cb.updated_at, b.campaign_id FROM callbacks cb JOIN contacts c ON c.id = cb.contact_id
		JOIN batches b ON b.id = cb.batch_id WHERE cb.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Callback{}, 0, ErrNotFound
	}
	if err != nil {
		return Callback{}, 0, fmt.Errorf("get callback %d: %w", id, err)
	}
	return cb.Callback, cb.CampaignID, nil
}

// RescheduleCallback moves a scheduled callback to a future time (S-2).
func (s *Store) RescheduleCallback(ctx context.Context, id int64, due, now time.Time) error {
	if !due.After(now) {
		return invalid("S-2", "callback_in_past", "due_at must be in the future")
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE callbacks SET due_at = $2, updated_at = $3 WHERE id = $1 AND status = 'scheduled'`, id, due, now)
		if err != nil {
			return fmt.Errorf("reschedule callback %d: %w", id, err)
		}
		return scheduledOrGone(ctx, tx, id, res)
	})
}

// CancelCallback cancels a scheduled callback; the contact becomes eligible again (S-2, D-2).
func (s *Store) CancelCallback(ctx context.Context, id int64, now time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE callbacks SET status = 'cancelled', updated_at = $2 WHERE id = $1 AND status = 'scheduled'`, id, now)
		if err != nil {
			return fmt.Errorf("cancel callback %d: %w", id, err)
		}
		if err := scheduledOrGone(ctx, tx, id, res); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE contacts SET status = 'eligible' WHERE id = (SELECT contact_id FROM callbacks WHERE id = $1)
			AND status = 'callback'`, id)
		if err != nil {
			return fmt.Errorf("release contact of callback %d: %w", id, err)
		}
		return nil
	})
}

func scheduledOrGone(ctx context.Context, tx *sqlx.Tx, id int64, res sql.Result) error {
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM callbacks WHERE id = $1)`, id); err != nil {
		return fmt.Errorf("check callback %d: %w", id, err)
	}
	if !exists {
		return ErrNotFound
	}
	return conflict("S-2", "callback_not_scheduled", "the callback was already dialed or cancelled")
}

// AttemptDial is what an agent's screen shows of a call beyond its contact: the number dialed
// (the list's, or the other number a disposition asked for, D-1) and, when the call is a
// callback, which one, when it was due and who promised it (S-2).
type AttemptDial struct {
	Tel             string     `db:"tel"`
	CallbackID      *int64     `db:"callback_id"`
	CallbackDueAt   *time.Time `db:"callback_due_at"`
	CallbackAgentID *int       `db:"callback_agent_id"` // nil: nobody promised it (an admin saved it)
}

// GetAttemptDial reads the number an attempt dialed and the callback it dialed, if any.
func (s *Store) GetAttemptDial(ctx context.Context, attemptID int64) (AttemptDial, error) {
	var d AttemptDial
	err := s.db.GetContext(ctx, &d, `SELECT a.tel, cb.id AS callback_id, cb.due_at AS callback_due_at,
		cb.agent_id AS callback_agent_id FROM attempts a
		LEFT JOIN callbacks cb ON cb.contact_id = a.contact_id AND cb.attempt_id = a.id AND cb.status = 'dialed'
		WHERE a.id = $1`, attemptID) // by the contact: callbacks_contact_idx
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("get the dial of attempt %d: %w", attemptID, err)
	}
	return d, nil
}
