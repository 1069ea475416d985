package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/listimport"
)

// The agent's desk (issue 16): preview dials and skips, manual dials, and the steps of a
// connected call recorded on its attempt.

// Refusals of a manual dial (CreateManualAttempt); callers test them with errors.Is.
var (
	// ErrJobNotRunning: the job is not running, or runs another run than the caller's.
	ErrJobNotRunning = errors.New("call job not running in this run")
	// ErrDoNotCall: the number is on the global or the campaign's do-not-call list (N-1); the
	// error's text names the list.
	ErrDoNotCall = errors.New("number on a do-not-call list")
	// ErrContactBusy: the number is a contact another claim holds (P-5), or a complete one.
	ErrContactBusy = errors.New("contact busy")
)

// MarkDialed records that a preview attempt is dialed now, at at: dialed_at and started_at
// become at, since the preview was shown from the claim and its ring time counts from the dial.
// Only a preview attempt still in progress and not dialed yet is marked; for any other it
// returns an error wrapping ErrNotFound and changes nothing.
func (s *Store) MarkDialed(ctx context.Context, attemptID int64, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE attempts SET dialed_at = $2, started_at = $2
		WHERE id = $1 AND dial_kind = 'preview' AND outcome = 'in_progress' AND dialed_at IS NULL`, attemptID, at)
	if err != nil {
		return fmt.Errorf("mark attempt %d dialed: %w", attemptID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("mark attempt %d dialed: no preview waits to be dialed: %w", attemptID, ErrNotFound)
	}
	return nil
}

// PreviewSkip is an agent's skip of the contact it was shown (issue 16).
type PreviewSkip struct {
	AttemptID int64
	Reason    string // the campaign's skip reason code (preview.skip_reasons), checked by the caller
	AgentID   int
	By        string // the user who asked: the agent, or a supervisor acting for it
	At        time.Time
}

// skipReasonCode is the form of a skip reason (the configuration's codes).
var skipReasonCode = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// SkipPreview ends a preview attempt the agent chose not to dial, in one transaction. Only an
// attempt in progress whose dial kind is preview and that was not dialed is skipped; for any
// other (unknown, dialed, already ended) it changes nothing and reports false.
//
// The attempt ends with outcome skipped, skip_reason "preview:<Reason>", ended_at At and the
// agent; a step preview_skipped is recorded. As for every skipped attempt, no report, pacing
// statistic, retry rule or remaining count sees it. The contact, when this run still holds it,
// is released as after an outcome no retry rule covers: eligible, with no next attempt time, so
// not dialed again in this run (the skipped attempt is of this run) and dialable in the next.
// The skip was no dial: the contact's attempt count and last attempt time go back to what they
// were before the claim (the J-2 filter and the retry limits count dials). A due callback the
// claim took stays scheduled (back to the attempt it named before; cancelled if another was
// scheduled meanwhile: one per contact), its contact waiting for it again; the claim does not
// take it again in this run (ClaimContacts), so the agent is not shown it over and over.
func (s *Store) SkipPreview(ctx context.Context, p PreviewSkip) (bool, error) {
	if !skipReasonCode.MatchString(p.Reason) {
		return false, invalid("P-1", "invalid_input", "a skip reason is 1 to 40 of a-z, 0-9 and _, got %q", p.Reason)
	}
	skipped := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var a struct {
			ContactID         sql.NullInt64 `db:"contact_id"`
			JobID             sql.NullInt64 `db:"call_job_id"`
			Run               int           `db:"job_run"`
			Last              sql.NullTime  `db:"prior_last_attempt_at"`
			CallbackAttemptID sql.NullInt64 `db:"prior_callback_attempt_id"`
		}
		err := tx.GetContext(ctx, &a, `UPDATE attempts SET outcome = 'skipped', skip_reason = $2, ended_at = $3, agent_id = $4
			WHERE id = $1 AND outcome = 'in_progress' AND dial_kind = 'preview' AND dialed_at IS NULL
			RETURNING contact_id, call_job_id, job_run, prior_last_attempt_at, prior_callback_attempt_id`,
			p.AttemptID, "preview:"+p.Reason, p.At, p.AgentID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("skip preview %d: %w", p.AttemptID, err)
		}
		skipped = true
		agent := p.AgentID
		if err := addAttemptStep(ctx, tx, AttemptStep{AttemptID: p.AttemptID, At: p.At, Kind: domain.StepPreviewSkipped,
			AgentID: &agent, By: p.By, Detail: p.Reason}); err != nil {
			return err
		}
		if !a.ContactID.Valid {
			return nil // the list was deleted meanwhile
		}
		var held bool
		err = tx.GetContext(ctx, &held, `SELECT COALESCE(claimed_by_job = $2 AND claim_token = $3, false) FROM contacts
			WHERE id = $1 FOR UPDATE`, a.ContactID.Int64, a.JobID, a.Run)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read contact %d: %w", a.ContactID.Int64, err)
		}
		if !held {
			return nil // no longer this run's claim: not ours to release
		}
		_, err = tx.ExecContext(ctx, `UPDATE callbacks cb SET attempt_id = $2, updated_at = $3,
			status = CASE WHEN EXISTS (SELECT 1 FROM callbacks o WHERE o.contact_id = cb.contact_id AND o.status = 'scheduled')
			              THEN 'cancelled' ELSE 'scheduled' END
			WHERE cb.attempt_id = $1 AND cb.status = 'dialed'`, p.AttemptID, a.CallbackAttemptID, p.At)
		if err != nil {
			return fmt.Errorf("schedule the callback of attempt %d again: %w", p.AttemptID, err)
		}
		// A contact with a scheduled callback waits for it; any other is eligible, with no next
		// attempt time (not again in this run).
		_, err = tx.ExecContext(ctx, `UPDATE contacts c SET next_attempt_at = NULL, last_attempt_at = $2,
			attempt_count = GREATEST(attempt_count - 1, 0), claimed_by_job = NULL, claim_token = NULL, claimed_at = NULL,
			status = CASE WHEN EXISTS (SELECT 1 FROM callbacks cb WHERE cb.contact_id = c.id AND cb.status = 'scheduled')
			              THEN 'callback' ELSE 'eligible' END
			WHERE id = $1`, a.ContactID.Int64, a.Last)
		if err != nil {
			return fmt.Errorf("release contact %d: %w", a.ContactID.Int64, err)
		}
		return nil
	})
	return skipped, err
}

// ManualDial is a number an agent asked to dial by hand in a job (issue 16).
type ManualDial struct {
	JobID int64
	Run   int // the run the agent works in: a stopped or restarted job refuses
	// AgentID is the agent the call is tied to; By the user who asked.
	AgentID int
	// Tel is the number as the agent typed it (separators, full-width digits and +81 are
	// accepted); CallerID the caller ID to present ("": the job's).
	Tel, CallerID, By string
	Instance, Node    string
	NewUUID           func() string
}

// manualTel is the form of a manually dialed number once normalised: digits only.
var manualTel = regexp.MustCompile(`^[0-9]{3,30}$`)

// CreateManualAttempt records a manual dial's attempt, with the channel UUID its originate will
// use, in one transaction, refusing:
//   - with ErrJobNotRunning when the job is not running in m.Run;
//   - with an error wrapping ErrDoNotCall, naming the list, when the number is on the global or
//     the campaign's do-not-call list (N-1; checked under the lists' shared locks, as a claim is);
//   - with ErrContactBusy when the number is a contact of the job's batch that a claim holds
//     (any job's, a preview's included: P-5), or, in the job's list, a complete contact (it is
//     done with: reopening it would undo D-2; a number found on a do-not-call list is complete).
//
// When the job's list has a contact with that number (its list number; numbers are unique in a
// batch; the number typed is dialed even if a disposition gave the contact another), the
// attempt is that contact's and the contact is claimed exactly as ClaimContacts
// claims it (held by the run, attempt count and last attempt moved on, the prior state kept for
// GiveBackAttempt); a scheduled callback of the contact is served by this dial, due or not
// (marked dialed by the attempt, as a claimed callback is). Otherwise (a number of no contact,
// or of a free contact of another list of the batch) the attempt has no contact. The attempt's
// dial kind is manual, with the agent, the requesting user, the caller ID, node and instance.
// The target's Card is the contact's card as a claim fills it, or the number alone; its Agent
// is m.AgentID. The attempt ends through FinishAttempt like any other.
func (s *Store) CreateManualAttempt(ctx context.Context, m ManualDial, now time.Time) (DialTarget, error) {
	tel, _ := listimport.NormalizeTel(m.Tel)
	if !manualTel.MatchString(tel) {
		return DialTarget{}, invalid("N-1", "invalid_tel", "a manual dial's number is 3 to 30 digits, got %q", m.Tel)
	}
	if m.NewUUID == nil {
		return DialTarget{}, fmt.Errorf("manual dial for job %d: no channel UUID source", m.JobID)
	}
	var out DialTarget
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var j CallJob
		err := tx.GetContext(ctx, &j, `SELECT `+callJobRowColumns+callJobFrom+` WHERE j.id = $1 FOR SHARE OF j`, m.JobID)
		if errors.Is(err, sql.ErrNoRows) || err == nil && (j.Status != domain.JobRunning || j.Run != m.Run) {
			return fmt.Errorf("manual dial for job %d run %d: %w", m.JobID, m.Run, ErrJobNotRunning)
		}
		if err != nil {
			return fmt.Errorf("read call job %d: %w", m.JobID, err)
		}
		// N-1 under the lists' shared locks, as the claim's check (dnclock.go).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1, 0), pg_advisory_xact_lock_shared($1, $2)`,
			dncLockClass, j.CampaignID); err != nil {
			return fmt.Errorf("lock do-not-call lists of campaign %d: %w", j.CampaignID, err)
		}
		list, listed, err := doNotCallNumber(ctx, tx, j.CampaignID, tel)
		if err != nil {
			return fmt.Errorf("check %s on the do-not-call lists: %w", tel, err)
		}
		if listed {
			name := "the global do-not-call list"
			if list != "global" {
				name = "the do-not-call list of campaign " + list
			}
			return fmt.Errorf("manual dial of %s: on %s: %w", tel, name, ErrDoNotCall)
		}
		origin := attemptOrigin{Kind: domain.DialManual, AgentID: &m.AgentID, RequestedBy: &m.By, CallerID: m.CallerID,
			UUID: m.NewUUID(), Node: m.Node, Instance: m.Instance, Tel: tel}
		if origin.CallerID == "" {
			origin.CallerID = j.CallerID
		}
		// The row lock waits for a claim in flight on the contact, then reads its claim.
		var c struct {
			ID         int64         `db:"id"`
			ListID     int64         `db:"list_id"`
			Status     string        `db:"status"`
			ClaimedBy  sql.NullInt64 `db:"claimed_by_job"`
			CallbackID sql.NullInt64 `db:"callback_id"`
			CbAttempt  sql.NullInt64 `db:"callback_attempt_id"`
		}
		err = tx.GetContext(ctx, &c, `SELECT c.id, c.list_id, c.status, c.claimed_by_job,
			cb.id AS callback_id, cb.attempt_id AS callback_attempt_id
			FROM contacts c LEFT JOIN callbacks cb ON cb.contact_id = c.id AND cb.status = 'scheduled'
			WHERE c.batch_id = $1 AND c.tel = $2 FOR UPDATE OF c`, j.BatchID, tel)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find contact %s of batch %d: %w", tel, j.BatchID, err)
		}
		switch {
		case found && c.ClaimedBy.Valid:
			return fmt.Errorf("manual dial of %s: contact %d is held by call job %d: %w", tel, c.ID, c.ClaimedBy.Int64, ErrContactBusy)
		case found && c.ListID == j.ListID && c.Status == "complete":
			return fmt.Errorf("manual dial of %s: contact %d is complete: %w", tel, c.ID, ErrContactBusy)
		case found && c.ListID == j.ListID:
			out, err = claimContact(ctx, tx, j, claimedContact{ID: c.ID, CallbackID: c.CallbackID, CallbackAttemptID: c.CbAttempt},
				origin, now)
			out.Agent = m.AgentID
			return err
		}
		out = DialTarget{Tel: tel, ChannelUUID: origin.UUID, Agent: m.AgentID, Card: ContactCard{Tel: tel}}
		err = tx.GetContext(ctx, &out.AttemptID, `INSERT INTO attempts (batch_id, campaign_id, call_job_id, job_run, tel,
			caller_id, channel_uuid, node, instance_id, created_at, started_at, dial_kind, agent_id, requested_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 'manual', $11, $12) RETURNING id`,
			j.BatchID, j.CampaignID, j.ID, j.Run, tel, origin.CallerID, origin.UUID, m.Node, m.Instance, now, m.AgentID, m.By)
		if err != nil {
			return fmt.Errorf("record manual attempt of %s: %w", tel, err)
		}
		return nil
	})
	if err != nil {
		return DialTarget{}, err
	}
	return out, nil
}

// AttemptStep is one step of a connected call besides talking (hold, transfer, conference) or
// of a preview (skipped, dialed by its time limit), recorded on its attempt (issue 16).
type AttemptStep struct {
	ID        int64           `db:"id" json:"id"`
	AttemptID int64           `db:"attempt_id" json:"attempt_id"`
	At        time.Time       `db:"at" json:"at"`
	Kind      domain.StepKind `db:"kind" json:"kind"`
	AgentID   *int            `db:"agent_id" json:"agent_id"` // the agent whose call it is
	By        string          `db:"by_user" json:"by"`        // the user who asked ("" for the engine)
	// TargetKind and Target are whom a transfer or conference reaches: a domain.TargetKind and
	// the agent id as text, the supervisor's name or the number ("" when no one).
	TargetKind string `db:"target_kind" json:"target_kind"`
	Target     string `db:"target" json:"target"`
	Detail     string `db:"detail" json:"detail"`
}

// AddAttemptStep records a step of an attempt. The kind must be one of domain.StepKinds, the
// target kind "" or one of domain.TargetKinds; By and Target are at most 200 characters,
// Detail at most 500.
func (s *Store) AddAttemptStep(ctx context.Context, st AttemptStep) error {
	return addAttemptStep(ctx, s.db, st)
}

func addAttemptStep(ctx context.Context, q sqlx.ExecerContext, st AttemptStep) error {
	switch {
	case !validStepKind(st.Kind):
		return invalid("S-3", "invalid_input", "unknown step kind %q", st.Kind)
	case st.TargetKind != "" && !domain.TargetKind(st.TargetKind).Valid():
		return invalid("S-3", "invalid_input", "unknown target kind %q", st.TargetKind)
	case utf8.RuneCountInString(st.By) > 200 || utf8.RuneCountInString(st.Target) > 200 ||
		utf8.RuneCountInString(st.Detail) > 500:
		return invalid("S-3", "invalid_input", "a step's by and target are at most 200 characters, its detail 500")
	}
	_, err := q.ExecContext(ctx, `INSERT INTO attempt_steps (attempt_id, at, kind, agent_id, by_user, target_kind, target, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, st.AttemptID, st.At, st.Kind, st.AgentID, st.By, st.TargetKind, st.Target, st.Detail)
	if err != nil {
		return fmt.Errorf("record step %s of attempt %d: %w", st.Kind, st.AttemptID, err)
	}
	return nil
}

func validStepKind(k domain.StepKind) bool { return slices.Contains(domain.StepKinds(), k) }

// AttemptSteps reads the steps of the given attempts in one query, each attempt's oldest first;
// an attempt without steps has no entry.
func (s *Store) AttemptSteps(ctx context.Context, attemptIDs []int64) (map[int64][]AttemptStep, error) {
	out := map[int64][]AttemptStep{}
	if len(attemptIDs) == 0 {
		return out, nil
	}
	var rows []AttemptStep
	err := s.db.SelectContext(ctx, &rows, `SELECT id, attempt_id, at, kind, agent_id, by_user, target_kind, target, detail
		FROM attempt_steps WHERE attempt_id = ANY($1) ORDER BY attempt_id, at, id`, int64Array64(attemptIDs))
	if err != nil {
		return nil, fmt.Errorf("steps of %d attempts: %w", len(attemptIDs), err)
	}
	for _, st := range rows {
		out[st.AttemptID] = append(out[st.AttemptID], st)
	}
	return out, nil
}
