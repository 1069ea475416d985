package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
)

// Attempt is one originate towards a contact, with its disposition when saved.
type Attempt struct {
	ID          int64          `db:"id"`
	ContactID   *int64         `db:"contact_id"`
	CallJobID   *int64         `db:"call_job_id"`
	Tel         string         `db:"tel"`
	StartedAt   time.Time      `db:"started_at"`
	AnsweredAt  *time.Time     `db:"answered_at"`
	EndedAt     *time.Time     `db:"ended_at"`
	Outcome     domain.Outcome `db:"outcome"`
	HangupCause string         `db:"hangup_cause"`
	AgentID     *int           `db:"agent_id"`
	TalkSeconds *int           `db:"talk_seconds"`
	SkipReason  string         `db:"skip_reason"` // a skipped attempt's (N-1), e.g. do_not_call:global, or preview:<code>
	// DialKind is how the attempt came to be dialed (issue 16): paced, preview or manual.
	DialKind    domain.DialKind `db:"dial_kind"`
	Disposition *Disposition    `db:"-"`
	// Analysis is the answering-machine detector's verdict (P-3); nil when none was taken.
	Analysis *AttemptAnalysis `db:"-"`
	// Recording is the call's recording; nil when the call was not recorded.
	Recording *AttemptRecording `db:"-"`
	// Steps are the hold, transfer, conference and preview steps of the attempt, oldest first
	// (issue 16); empty when none.
	Steps []AttemptStep `db:"-"`
}

// AttemptAnalysis is how an answer was classified (P-3).
type AttemptAnalysis struct {
	Result string // human, machine or unsure (treated as a person)
	Detail string // why: beep, long_greeting, silence, hangup, time_limit, a detector's cause
	Ms     int    // from the answer to the verdict
	// MachineAction is what was done with a machine (hangup, voicemail, agent); empty otherwise.
	MachineAction string
	VoicemailAt   *time.Time // when the voicemail message started to play
}

// AttemptRecording is a call's recording.
type AttemptRecording struct {
	Path      string // relative to the recordings directory
	StartedAt time.Time
	// DurationMs and Bytes are nil until the recording's end is stored; Bytes may stay nil.
	DurationMs *int
	Bytes      *int64
}

// Disposition is what the agent recorded after a connected call (D-1).
type Disposition struct {
	Party      string          `db:"party"`
	ResultCode string          `db:"result_code"`
	OtherTel   string          `db:"other_tel"`
	NextAction domain.NextStep `db:"next_action"`
	CallbackAt *time.Time      `db:"callback_at"`
	Memo       string          `db:"memo"`
	SavedBy    string          `db:"saved_by"`
	SavedAt    time.Time       `db:"saved_at"`
}

type attemptRow struct {
	Attempt
	DParty      sql.NullString `db:"d_party"`
	DResultCode sql.NullString `db:"d_result_code"`
	DOtherTel   sql.NullString `db:"d_other_tel"`
	DNextAction sql.NullString `db:"d_next_action"`
	DCallbackAt *time.Time     `db:"d_callback_at"`
	DMemo       sql.NullString `db:"d_memo"`
	DSavedBy    sql.NullString `db:"d_saved_by"`
	DSavedAt    *time.Time     `db:"d_saved_at"`

	AMDResult     sql.NullString `db:"amd_result"`
	AMDDetail     string         `db:"amd_detail"`
	AMDMs         sql.NullInt32  `db:"amd_ms"`
	MachineAction sql.NullString `db:"machine_action"`
	VoicemailAt   *time.Time     `db:"voicemail_at"`
	RecPath       sql.NullString `db:"recording_path"`
	RecStartedAt  *time.Time     `db:"recording_started_at"`
	RecMs         *int           `db:"recording_ms"`
	RecBytes      *int64         `db:"recording_bytes"`
}

// attemptColumns are the columns of attemptRow, for a query over attempts a left-joined to
// dispositions d.
const attemptColumns = `a.id, a.contact_id, a.call_job_id, a.tel, a.started_at,
	a.answered_at, a.ended_at, a.outcome, a.hangup_cause, a.agent_id, a.talk_seconds, a.skip_reason, a.dial_kind,
	d.party AS d_party, d.result_code AS d_result_code, d.other_tel AS d_other_tel,
	d.next_action AS d_next_action, d.callback_at AS d_callback_at, d.memo AS d_memo,
	d.saved_by AS d_saved_by, d.saved_at AS d_saved_at,
	a.amd_result, a.amd_detail, a.amd_ms, a.machine_action, a.voicemail_at,
	a.recording_path, a.recording_started_at, a.recording_ms, a.recording_bytes`

// attempt is the row as the read model shows it.
func (r attemptRow) attempt() Attempt {
	a := r.Attempt
	if r.DParty.Valid {
		a.Disposition = &Disposition{Party: r.DParty.String, ResultCode: r.DResultCode.String,
			OtherTel: r.DOtherTel.String, NextAction: domain.NextStep(r.DNextAction.String), CallbackAt: r.DCallbackAt,
			Memo: r.DMemo.String, SavedBy: r.DSavedBy.String, SavedAt: *r.DSavedAt}
	}
	if r.AMDResult.Valid {
		a.Analysis = &AttemptAnalysis{Result: r.AMDResult.String, Detail: r.AMDDetail, Ms: int(r.AMDMs.Int32),
			MachineAction: r.MachineAction.String, VoicemailAt: r.VoicemailAt}
	}
	if r.RecPath.Valid && r.RecStartedAt != nil {
		a.Recording = &AttemptRecording{Path: r.RecPath.String, StartedAt: *r.RecStartedAt, DurationMs: r.RecMs, Bytes: r.RecBytes}
	}
	return a
}

// ContactAttempts is a contact's attempt history, newest first (S-3), each attempt with its
// steps (read by one more query for them all).
func (s *Store) ContactAttempts(ctx context.Context, contactID int64) ([]Attempt, error) {
	var rows []attemptRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+attemptColumns+`
		FROM attempts a LEFT JOIN dispositions d ON d.attempt_id = a.id
		WHERE a.contact_id = $1 ORDER BY a.started_at DESC, a.id DESC`, contactID)
	if err != nil {
		return nil, fmt.Errorf("attempts of contact %d: %w", contactID, err)
	}
	out := make([]Attempt, len(rows))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		out[i], ids[i] = r.attempt(), r.ID
	}
	steps, err := s.AttemptSteps(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("attempts of contact %d: %w", contactID, err)
	}
	for i := range out {
		out[i].Steps = steps[out[i].ID]
	}
	return out, nil
}
