package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kakeru-dialer/kakeru/domain"
)

// DialTarget is a contact claimed for one attempt whose attempt row, with the channel UUID the
// originate will use, is already committed: the exactly-once dial ledger (P-5). Tel is the
// number to dial, as the attempt row records it: the contact's other number when a disposition
// asked for it (redial_tel, D-1), else the list's.
type DialTarget struct {
	AttemptID   int64  `db:"attempt_id"`
	ContactID   int64  `db:"contact_id"`
	Tel         string `db:"tel"`
	ChannelUUID string `db:"channel_uuid"`
	Callback    bool   `db:"-"`
	// Agent is the agent a callback is tied to: the one who promised it, claimed for it during
	// the grace (ClaimRequest.Owners); 0 for any agent.
	Agent int `db:"-"`
	// Card is who the contact is, read by the claim itself, for the agent's screen the moment
	// the call reaches it (the live events' screen-pop).
	Card ContactCard `db:"-"`
}

// ContactCard is what an agent's screen shows of a contact as its call arrives: who it is and
// how earlier attempts went.
type ContactCard struct {
	Name, Kana, Tel, Remarks string
	// PreviousAttempts is how many attempts came before this one; LastAttemptAt and
	// LastOutcome describe the latest of them (nil and "" for a first attempt).
	PreviousAttempts int
	LastAttemptAt    *time.Time
	LastOutcome      string
}

// ClaimRequest asks for up to N contacts of a job's run.
type ClaimRequest struct {
	JobID    int64
	Run      int // the run the caller dials for: a stopped or restarted job gives nothing
	N        int
	Instance string
	Node     string
	NewUUID  func() string
	// OpenZone says whether the campaign's calendar is open now in a contact's own zone (J-8):
	// only contacts without a zone or in an open one are claimed, callbacks included. nil: no
	// contact's zone is checked.
	OpenZone func(zone string) bool
	// CallbackGrace is how long after its due time a callback promised by an agent waits for
	// that agent (the campaign's callback_grace, S-2); 0: any agent takes it at once.
	CallbackGrace time.Duration
	// Owners, when set, makes the claim one for these agents' own callbacks only (the job's
	// agents free now on Node): each gets at most one callback it promised that is due and
	// still in its grace, tied to it (DialTarget.Agent); no other callback, no fresh contact.
	// Without Owners, such callbacks are left to their agents until the grace has passed.
	Owners []int
	// Kind is written to the attempt rows (issue 16): "" or paced for pacing and callbacks,
	// preview for a contact shown to an agent before it is dialed (the claim is the same, so a
	// previewed contact is held exactly as any claimed one, P-5). Manual dials do not claim
	// here: see CreateManualAttempt.
	Kind domain.DialKind
}

// ClaimContacts claims contacts for a running job and commits an attempt row for each, in one
// transaction. Callbacks due now come before fresh contacts (S-2); one promised by an agent is
// that agent's during the grace (see ClaimRequest.Owners). Rows locked by another
// claimer are skipped, and a claimed contact is held until its attempt ends, so no contact is
// dialed twice at once by any job or instance (J-4, P-5). A callback whose preview an agent
// skipped in this run (SkipPreview) stays scheduled but is not claimed again in this run.
func (s *Store) ClaimContacts(ctx context.Context, r ClaimRequest, now time.Time) ([]DialTarget, error) {
	kind := r.Kind
	if kind == "" {
		kind = domain.DialPaced
	}
	if kind != domain.DialPaced && kind != domain.DialPreview {
		return nil, invalid("P-5", "invalid_input", "a claim dials paced or preview, not %q", kind)
	}
	var out []DialTarget
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		out = out[:0]
		var j CallJob
		err := tx.GetContext(ctx, &j, `SELECT `+callJobRowColumns+callJobFrom+` WHERE j.id = $1 FOR SHARE OF j`, r.JobID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read call job %d: %w", r.JobID, err)
		}
		if j.Status != domain.JobRunning || j.Run != r.Run || r.N <= 0 {
			return nil
		}
		type picked struct {
			ID         int64         `db:"id"`
			Tel        string        `db:"tel"`
			CallbackID sql.NullInt64 `db:"callback_id"`
			// The attempt the callback row names before it is dialed (given back on a failure
			// of our own).
			CallbackAttemptID sql.NullInt64 `db:"callback_attempt_id"`
			CallbackAgentID   sql.NullInt64 `db:"callback_agent_id"` // who promised it
		}
		zones, err := openZones(ctx, tx, j.ListID, r.OpenZone) // J-8
		if err != nil {
			return err
		}
		var due []picked
		var owners any // NULL: not a claim for owners
		if r.Owners != nil {
			owners = int64Array(r.Owners)
		}
		err = tx.SelectContext(ctx, &due, `SELECT c.id, c.tel, cb.id AS callback_id, cb.attempt_id AS callback_attempt_id,
			cb.agent_id AS callback_agent_id FROM callbacks cb
			JOIN contacts c ON c.id = cb.contact_id
			WHERE cb.batch_id = $1 AND cb.status = 'scheduled' AND cb.due_at <= $2 AND c.list_id = $3
			  AND c.status = 'callback' AND c.claimed_by_job IS NULL`+contactZoneOpen(5)+`
			  AND NOT EXISTS (SELECT 1 FROM attempts sk WHERE sk.contact_id = c.id AND sk.call_job_id = $8
			           AND sk.job_run = $9 AND sk.outcome = 'skipped')
			  AND CASE WHEN $6::bigint[] IS NULL THEN cb.agent_id IS NULL OR cb.due_at <= $7
			           ELSE cb.agent_id = ANY($6) AND cb.due_at > $7 END
			ORDER BY cb.due_at, cb.id LIMIT $4 FOR UPDATE OF c SKIP LOCKED`, j.BatchID, now, j.ListID, r.N, zones, owners,
			now.Add(-r.CallbackGrace), j.ID, j.Run)
		if err != nil {
			return fmt.Errorf("claim callbacks of job %d: %w", r.JobID, err)
		}
		if r.Owners != nil { // one callback per agent: each is tied to its agent
			seen := map[int64]bool{}
			due = slices.DeleteFunc(due, func(p picked) bool {
				dup := seen[p.CallbackAgentID.Int64]
				seen[p.CallbackAgentID.Int64] = true
				return dup
			})
		}
		if left := r.N - len(due); left > 0 && r.Owners == nil {
			q, args := eligibleQuery(j, j.Run, now)
			q, args = q+contactZoneOpen(len(args)+1), append(args, zones) // J-8
			var fresh []picked
			args = append(args, left)
			err = tx.SelectContext(ctx, &fresh, q+fmt.Sprintf(` ORDER BY c.attempt_count, c.id LIMIT $%d FOR UPDATE SKIP LOCKED`, len(args)), args...)
			if err != nil {
				return fmt.Errorf("claim contacts of job %d: %w", r.JobID, err)
			}
			due = append(due, fresh...)
		}
		// N-1: a number on a do-not-call list is recorded as skipped, never dialed.
		due, err = skipDoNotCall(ctx, tx, j, r, due, func(p picked) int64 { return p.ID }, now)
		if err != nil {
			return err
		}
		for _, p := range due {
			t, err := claimContact(ctx, tx, j, claimedContact{ID: p.ID, CallbackID: p.CallbackID,
				CallbackAttemptID: p.CallbackAttemptID}, attemptOrigin{Kind: kind, CallerID: j.CallerID,
				UUID: r.NewUUID(), Node: r.Node, Instance: r.Instance}, now)
			if err != nil {
				return err
			}
			if r.Owners != nil {
				t.Agent = int(p.CallbackAgentID.Int64)
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// claimedContact is a contact a claim takes, with the callback it serves (if any).
type claimedContact struct {
	ID         int64
	CallbackID sql.NullInt64
	// The attempt the callback row names before it is dialed (given back on a failure of our
	// own, or when its preview is skipped).
	CallbackAttemptID sql.NullInt64
}

// attemptOrigin is who and what an attempt row records besides the job and the contact.
type attemptOrigin struct {
	Kind           domain.DialKind
	AgentID        *int    // the agent a manual dial is for
	RequestedBy    *string // the user who asked for a manual dial
	CallerID, UUID string
	Node, Instance string
	// Tel, when set, is the number dialed (a manual dial's, as typed); else the contact's
	// number to dial (its redial number, else its own).
	Tel string
}

// claimContact claims one contact the caller has locked for the job's run and commits its
// attempt row, in the caller's transaction: the contact is held by the run (claimed_by_job,
// claim_token, J-4 called_by), its attempt count and last attempt move on, and what the claim
// changes is kept in the attempt row (prior_*), so that GiveBackAttempt and SkipPreview can
// give the contact back as it was. A callback it serves is marked dialed by the attempt.
func claimContact(ctx context.Context, tx *sqlx.Tx, j CallJob, c claimedContact, o attemptOrigin, now time.Time) (DialTarget, error) {
	// The self-join reads the row as it was before this statement.
	var prior struct {
		Status string       `db:"status"`
		Next   sql.NullTime `db:"next_attempt_at"`
		Last   sql.NullTime `db:"last_attempt_at"`
		// The job and run that called the number before (J-4), given back with the rest.
		CalledBy  sql.NullInt64 `db:"called_by_job"`
		CalledRun sql.NullInt64 `db:"called_run"`
		// The number dialed: the other number a disposition asked for, else the list's (D-1).
		Dial string `db:"dial_tel"`
		// The contact card (screen-pop), read by the same statement.
		Name     string         `db:"name"`
		Kana     string         `db:"kana"`
		Tel      string         `db:"tel"`
		Remarks  string         `db:"remarks"`
		Attempts int            `db:"attempt_count"`
		Outcome  sql.NullString `db:"last_outcome"`
	}
	err := tx.GetContext(ctx, &prior, `UPDATE contacts c SET claimed_by_job = $2, claim_token = $3::bigint, claimed_at = $4,
		called_by_job = $2, called_run = $3::integer,
		attempt_count = c.attempt_count + 1, last_attempt_at = $4, next_attempt_at = NULL, status = 'eligible'
		FROM contacts old WHERE c.id = $1 AND old.id = c.id
		RETURNING old.status, old.next_attempt_at, old.last_attempt_at, old.called_by_job, old.called_run,
		COALESCE(c.redial_tel, c.tel) AS dial_tel, c.name, c.kana, c.tel, c.remarks, old.attempt_count,
		(SELECT a.outcome FROM attempts a WHERE a.contact_id = c.id ORDER BY a.started_at DESC LIMIT 1) AS last_outcome`,
		c.ID, j.ID, j.Run, now)
	if err != nil {
		return DialTarget{}, fmt.Errorf("claim contact %d: %w", c.ID, err)
	}
	if o.Tel != "" {
		prior.Dial = o.Tel
	}
	t := DialTarget{ContactID: c.ID, Tel: prior.Dial, ChannelUUID: o.UUID, Callback: c.CallbackID.Valid,
		Card: ContactCard{Name: prior.Name, Kana: prior.Kana, Tel: prior.Tel, Remarks: prior.Remarks,
			PreviousAttempts: prior.Attempts, LastOutcome: prior.Outcome.String}}
	if prior.Last.Valid {
		t.Card.LastAttemptAt = &prior.Last.Time
	}
	err = tx.GetContext(ctx, &t.AttemptID, `INSERT INTO attempts (batch_id, campaign_id, list_id, contact_id, call_job_id,
		job_run, tel, caller_id, channel_uuid, node, instance_id, created_at, started_at,
		prior_status, prior_next_attempt_at, prior_last_attempt_at, prior_callback_attempt_id,
		prior_called_by_job, prior_called_run, dial_kind, agent_id, requested_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id`,
		j.BatchID, j.CampaignID, j.ListID, c.ID, j.ID, j.Run, t.Tel, o.CallerID, t.ChannelUUID, o.Node, o.Instance, now,
		prior.Status, prior.Next, prior.Last, c.CallbackAttemptID, prior.CalledBy, prior.CalledRun, o.Kind, o.AgentID, o.RequestedBy)
	if err != nil {
		return DialTarget{}, fmt.Errorf("record attempt for contact %d: %w", c.ID, err)
	}
	if c.CallbackID.Valid {
		if _, err := tx.ExecContext(ctx, `UPDATE callbacks SET status = 'dialed', attempt_id = $2, updated_at = $3
			WHERE id = $1`, c.CallbackID.Int64, t.AttemptID, now); err != nil {
			return DialTarget{}, fmt.Errorf("mark callback %d dialed: %w", c.CallbackID.Int64, err)
		}
	}
	return t, nil
}

// RetryRule is a campaign's retry rule (P-3).
type RetryRule struct {
	Outcomes    []domain.Outcome
	After       time.Duration
	MaxAttempts int
}

// AttemptEnd is how an attempt ended, from the switch's events.
type AttemptEnd struct {
	ChannelUUID  string
	Outcome      domain.Outcome
	HangupCause  string
	AnsweredAt   *time.Time
	BridgedAt    *time.Time
	EndedAt      time.Time
	AgentID      *int
	AgentDropped bool
	// DispositionGrace: a connected call becomes an unsaved disposition this long after its end.
	DispositionGrace time.Duration
	Retry            []RetryRule
	// Analysis is the answering-machine detector's verdict, for a campaign that classifies
	// answers (nil otherwise, or when the call was not answered).
	Analysis *AnswerVerdict
}

// AnswerVerdict is how an answer was classified (P-3).
type AnswerVerdict struct {
	Result string        // human, machine or unsure (treated as a person)
	Detail string        // why: beep, long_greeting, silence, hangup, time_limit, a detector's cause
	Took   time.Duration // from the answer to the verdict
	// MachineAction is what was done with a machine: hangup, voicemail or agent.
	MachineAction string
	VoicemailAt   *time.Time // when the voicemail message started
}

// FinishAttempt records an attempt's outcome and releases its contact with the retry rules of
// P-3: an outcome a rule covers is dialed again after the rule's wait until its attempts are
// used up, then the contact is complete; an invalid number no rule covers is complete; other
// outcomes no rule covers leave the contact eligible but not dialed again in this run; a
// connected contact waits for its disposition (D-2). It reports false when the attempt had
// already ended (events repeat after a reconnect; the first ending wins).
func (s *Store) FinishAttempt(ctx context.Context, e AttemptEnd) (bool, error) {
	finished := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var a struct {
			ID         int64         `db:"id"`
			CampaignID int           `db:"campaign_id"`
			ContactID  sql.NullInt64 `db:"contact_id"`
			JobID      sql.NullInt64 `db:"call_job_id"`
			Run        int           `db:"job_run"`
		}
		var talk *int
		if e.BridgedAt != nil && e.Outcome == domain.OutcomeConnected {
			v := int(e.EndedAt.Sub(*e.BridgedAt).Round(time.Second) / time.Second)
			talk = &v
		}
		var due *time.Time
		if e.Outcome == domain.OutcomeConnected {
			t := e.EndedAt.Add(e.DispositionGrace)
			due = &t
		}
		var v struct {
			result, action *string
			detail         string
			ms             *int
			voicemail      *time.Time
		}
		if an := e.Analysis; an != nil {
			ms := int(an.Took / time.Millisecond)
			v.result, v.detail, v.ms, v.voicemail = &an.Result, an.Detail, &ms, an.VoicemailAt
			if an.MachineAction != "" {
				v.action = &an.MachineAction
			}
		}
		err := tx.GetContext(ctx, &a, `UPDATE attempts SET outcome = $2, hangup_cause = $3,
			answered_at = COALESCE(answered_at, $4), bridged_at = COALESCE(bridged_at, $5), ended_at = $6,
			agent_id = COALESCE($7, agent_id), agent_dropped = agent_dropped OR $8, talk_seconds = $9, disposition_due_at = $10,
			amd_result = $11, amd_detail = $12, amd_ms = $13, machine_action = $14, voicemail_at = $15
			WHERE channel_uuid = $1 AND outcome = 'in_progress' RETURNING id, campaign_id, contact_id, call_job_id, job_run`,
			e.ChannelUUID, e.Outcome, e.HangupCause, e.AnsweredAt, e.BridgedAt, e.EndedAt, e.AgentID, e.AgentDropped, talk, due,
			v.result, v.detail, v.ms, v.action, v.voicemail)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("finish attempt %s: %w", e.ChannelUUID, err)
		}
		finished = true
		// A machine put through to an agent is no person's answer: it counts in no abandon rate.
		if e.Outcome.Live() && (e.Analysis == nil || e.Analysis.Result != "machine") {
			at := e.EndedAt
			if e.AnsweredAt != nil {
				at = *e.AnsweredAt
			}
			if err := addAnswer(ctx, tx, a.CampaignID, at, e.Outcome == domain.OutcomeAbandoned); err != nil {
				return err
			}
		}
		if !a.ContactID.Valid {
			return nil // the list was deleted meanwhile
		}
		status, next := "eligible", sql.NullTime{}
		var count int
		if err := tx.GetContext(ctx, &count, `SELECT attempt_count FROM contacts WHERE id = $1`, a.ContactID.Int64); err != nil {
			return fmt.Errorf("read contact %d: %w", a.ContactID.Int64, err)
		}
		rule := slices.IndexFunc(e.Retry, func(r RetryRule) bool { return slices.Contains(r.Outcomes, e.Outcome) })
		switch {
		case e.Outcome == domain.OutcomeConnected:
			next = sql.NullTime{Time: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), Valid: true} // until the disposition
		case rule >= 0 && count < e.Retry[rule].MaxAttempts:
			next = sql.NullTime{Time: e.EndedAt.Add(e.Retry[rule].After), Valid: true}
		case rule >= 0 || e.Outcome == domain.OutcomeInvalidNumber:
			status = "complete"
		}
		_, err = tx.ExecContext(ctx, `UPDATE contacts SET status = $2, next_attempt_at = $3,
			claimed_by_job = CASE WHEN claimed_by_job = $4 AND claim_token = $5 THEN NULL ELSE claimed_by_job END,
			claim_token = CASE WHEN claimed_by_job = $4 AND claim_token = $5 THEN NULL ELSE claim_token END,
			claimed_at = CASE WHEN claimed_by_job = $4 AND claim_token = $5 THEN NULL ELSE claimed_at END
			WHERE id = $1`, a.ContactID.Int64, status, next, a.JobID, a.Run)
		if err != nil {
			return fmt.Errorf("release contact %d: %w", a.ContactID.Int64, err)
		}
		return nil
	})
	return finished, err
}

// GiveBackAttempt undoes the claim of an attempt that failed because of us, not the customer
// (no switch node could take it, a dial string the switch refused: issue 11 item 5), in one
// transaction: the contact gets back the status, attempt count, next and last attempt times the
// claim changed, and its claim; a dialed callback is scheduled again with the attempt it named
// (cancelled instead when another callback was scheduled meanwhile: one per contact); and the
// attempt row is deleted, so the failure counts toward no retry rule, dial limit (J-2), job
// target, report or abandon statistic. Only an attempt still in progress, never answered, whose
// contact this job's run still holds, is given back; otherwise nothing changes and it reports
// false (the caller then records the attempt's outcome as usual).
func (s *Store) GiveBackAttempt(ctx context.Context, channelUUID string, now time.Time) (bool, error) {
	given := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var a struct {
			ID                int64          `db:"id"`
			ContactID         sql.NullInt64  `db:"contact_id"`
			JobID             sql.NullInt64  `db:"call_job_id"`
			Run               int            `db:"job_run"`
			Status            sql.NullString `db:"prior_status"`
			Next              sql.NullTime   `db:"prior_next_attempt_at"`
			Last              sql.NullTime   `db:"prior_last_attempt_at"`
			CallbackAttemptID sql.NullInt64  `db:"prior_callback_attempt_id"`
			CalledBy          sql.NullInt64  `db:"prior_called_by_job"`
			CalledRun         sql.NullInt64  `db:"prior_called_run"`
		}
		err := tx.GetContext(ctx, &a, `SELECT id, contact_id, call_job_id, job_run, prior_status, prior_next_attempt_at,
			prior_last_attempt_at, prior_callback_attempt_id, prior_called_by_job, prior_called_run FROM attempts
			WHERE channel_uuid = $1 AND outcome = 'in_progress' AND answered_at IS NULL AND prior_status IS NOT NULL
			FOR UPDATE`, channelUUID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read attempt %s to give back: %w", channelUUID, err)
		}
		if a.ContactID.Valid {
			res, err := tx.ExecContext(ctx, `UPDATE contacts SET status = $2, next_attempt_at = $3, last_attempt_at = $4,
				attempt_count = GREATEST(attempt_count - 1, 0), claimed_by_job = NULL, claim_token = NULL, claimed_at = NULL,
				called_by_job = $7, called_run = $8
				WHERE id = $1 AND claimed_by_job = $5 AND claim_token = $6`,
				a.ContactID.Int64, a.Status.String, a.Next, a.Last, a.JobID, a.Run, a.CalledBy, a.CalledRun)
			if err != nil {
				return fmt.Errorf("give contact %d back: %w", a.ContactID.Int64, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil // no longer this run's claim: not ours to give back
			}
			_, err = tx.ExecContext(ctx, `UPDATE callbacks cb SET attempt_id = $2, updated_at = $3,
				status = CASE WHEN EXISTS (SELECT 1 FROM callbacks o WHERE o.contact_id = cb.contact_id AND o.status = 'scheduled')
				              THEN 'cancelled' ELSE 'scheduled' END
				WHERE cb.attempt_id = $1 AND cb.status = 'dialed'`, a.ID, a.CallbackAttemptID, now)
			if err != nil {
				return fmt.Errorf("schedule the callback of attempt %d again: %w", a.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM attempts WHERE id = $1`, a.ID); err != nil {
			return fmt.Errorf("delete attempt %d: %w", a.ID, err)
		}
		given = true
		return nil
	})
	return given, err
}

// MarkAnswered and MarkBridged note progress of a live attempt (monitor, restart recovery).
func (s *Store) MarkAnswered(ctx context.Context, channelUUID string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE attempts SET answered_at = $2 WHERE channel_uuid = $1 AND answered_at IS NULL`, channelUUID, at)
	if err != nil {
		return fmt.Errorf("mark attempt %s answered: %w", channelUUID, err)
	}
	return nil
}

// MarkBridged records the agent a live attempt was bridged to.
func (s *Store) MarkBridged(ctx context.Context, channelUUID string, agentID int, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE attempts SET bridged_at = $2, agent_id = $3 WHERE channel_uuid = $1`, channelUUID, at, agentID)
	if err != nil {
		return fmt.Errorf("mark attempt %s bridged: %w", channelUUID, err)
	}
	return nil
}

// MarkAgentDropped records that the agent's phone dropped during the call (G-3).
func (s *Store) MarkAgentDropped(ctx context.Context, attemptID int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE attempts SET agent_dropped = true WHERE id = $1`, attemptID); err != nil {
		return fmt.Errorf("mark attempt %d agent dropped: %w", attemptID, err)
	}
	return nil
}

// LiveAttempt is an attempt still in progress.
type LiveAttempt struct {
	ID          int64      `db:"id"`
	JobID       int64      `db:"call_job_id"`
	ContactID   *int64     `db:"contact_id"`
	Tel         string     `db:"tel"`
	ChannelUUID string     `db:"channel_uuid"`
	Node        string     `db:"node"`
	StartedAt   time.Time  `db:"started_at"`
	AnsweredAt  *time.Time `db:"answered_at"`
	BridgedAt   *time.Time `db:"bridged_at"`
	AgentID     *int       `db:"agent_id"`
	// DialKind and DialedAt (issue 16): a preview attempt whose DialedAt is nil was only shown,
	// never dialed; the engine gives it back (GiveBackAttempt) when it adopts the job.
	DialKind domain.DialKind `db:"dial_kind"`
	DialedAt *time.Time      `db:"dialed_at"`
}

// UnfinishedAttempts are a job's attempts still in progress: after a restart or a takeover the
// engine reconciles them with the switch instead of dialing them again.
func (s *Store) UnfinishedAttempts(ctx context.Context, jobID int64) ([]LiveAttempt, error) {
	var out []LiveAttempt
	err := s.db.SelectContext(ctx, &out, `SELECT id, call_job_id, contact_id, tel, channel_uuid, node, started_at, answered_at,
		bridged_at, agent_id, dial_kind, dialed_at FROM attempts WHERE call_job_id = $1 AND outcome = 'in_progress' ORDER BY id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("unfinished attempts of job %d: %w", jobID, err)
	}
	return out, nil
}
