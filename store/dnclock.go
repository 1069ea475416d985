package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The race of N-1: a claim statement whose snapshot was taken before an add committed does not
// see the number, and under READ COMMITTED its transaction may commit after the add. So a claim
// and a write to a list exclude each other through advisory locks. Every claim transaction takes,
// shared, the lock of the global list and of its campaign's list before its do-not-call check
// and holds them to its commit. A write (add, import, disposition) writes its rows first and then,
// as its last statement before the commit, takes its list's lock exclusively: that waits for the
// claims in flight (whose check may have missed the uncommitted rows) to commit first, and a claim
// asking for the lock meanwhile is granted it only once the write has committed, so its check (a
// later statement, with a later snapshot) sees the rows. Hence a claim that commits after the
// write committed never dials a number the write listed. Claims are held back only from the
// grant of the exclusive lock to the end of the commit, however large the write. An attempt whose
// claim committed before the write committed was decided before: it may still be originated
// after the number is listed (the engine originates right after its claim commits).

// dncLockClass is the first key of the lists' advisory locks ("DNC"); the second is the
// campaign id (0 for the global list).
const dncLockClass = 0x444E43

// lockDNCWrite takes a list's lock exclusively, until the transaction ends; writers call it after
// their writes, just before the commit.
func lockDNCWrite(ctx context.Context, tx *sqlx.Tx, campaignID int) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, dncLockClass, campaignID); err != nil {
		return fmt.Errorf("lock do-not-call list %d: %w", campaignID, err)
	}
	return nil
}

// skipDoNotCall is the claim's do-not-call check (N-1), in the claim's transaction. It takes the
// shared locks of the global list and the job's campaign list, then looks the number each
// candidate would dial (its redial number, else its own) up on both lists. A listed candidate
// gets a skipped attempt row with its reason (never sent to the switch), is completed, its
// due callback cancelled; it is not counted as an attempt of the contact (J-2 attempt counts),
// in a report or in the job's remaining target. It returns the candidates left to dial.
func skipDoNotCall[T any](ctx context.Context, tx *sqlx.Tx, j CallJob, r ClaimRequest, cands []T, id func(T) int64,
	now time.Time) ([]T, error) {
	if len(cands) == 0 {
		return cands, nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared($1, 0), pg_advisory_xact_lock_shared($1, $2)`,
		dncLockClass, j.CampaignID); err != nil {
		return nil, fmt.Errorf("lock do-not-call lists of campaign %d: %w", j.CampaignID, err)
	}
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = id(c)
	}
	listed, err := listedContacts(ctx, tx, j.CampaignID, ids)
	if err != nil {
		return nil, fmt.Errorf("check do-not-call lists for job %d: %w", j.ID, err)
	}
	if len(listed) == 0 {
		return cands, nil
	}
	skipped := make(map[int64]bool, len(listed))
	for _, l := range listed {
		reason := "do_not_call:campaign"
		if l.Global {
			reason = "do_not_call:global"
		}
		var attemptID int64
		err := tx.GetContext(ctx, &attemptID, `INSERT INTO attempts (batch_id, campaign_id, list_id, contact_id, call_job_id,
			job_run, tel, caller_id, channel_uuid, node, instance_id, created_at, started_at, ended_at, outcome, skip_reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', $10, $11, $11, $11, 'skipped', $12) RETURNING id`,
			j.BatchID, j.CampaignID, j.ListID, l.ID, j.ID, j.Run, l.Tel, j.CallerID, r.NewUUID(), r.Instance, now, reason)
		if err != nil {
			return nil, fmt.Errorf("record skipped attempt for contact %d: %w", l.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET status = 'complete', next_attempt_at = NULL WHERE id = $1`, l.ID); err != nil {
			return nil, fmt.Errorf("complete skipped contact %d: %w", l.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE callbacks SET status = 'cancelled', attempt_id = $2, updated_at = $3
			WHERE contact_id = $1 AND status = 'scheduled'`, l.ID, attemptID, now); err != nil {
			return nil, fmt.Errorf("cancel callback of skipped contact %d: %w", l.ID, err)
		}
		skipped[l.ID] = true
	}
	out := cands[:0:0]
	for _, c := range cands {
		if !skipped[id(c)] {
			out = append(out, c)
		}
	}
	return out, nil
}

// ListedContact is a contact whose number to dial is on a do-not-call list.
type ListedContact struct {
	ID     int64  `db:"id"`
	Tel    string `db:"tel"`    // the number checked: the redial number, else the contact's own
	Global bool   `db:"global"` // on the global list (else only on the campaign's)
}

// listedContacts is the claim's probe: one primary-key lookup per contact and list.
func listedContacts(ctx context.Context, q sqlx.QueryerContext, campaignID int, ids []int64) ([]ListedContact, error) {
	var listed []ListedContact
	err := sqlx.SelectContext(ctx, q, &listed, `SELECT c.id, COALESCE(c.redial_tel, c.tel) AS tel, bool_or(d.campaign_id = 0) AS global
		FROM contacts c JOIN do_not_call d ON d.tel = COALESCE(c.redial_tel, c.tel) AND d.campaign_id IN (0, $2)
		WHERE c.id = ANY($1) GROUP BY c.id`, int64Array64(ids), campaignID)
	return listed, err
}

// DoNotCallListed runs the claim's check alone for the given contacts (benchmarks, tools).
func (s *Store) DoNotCallListed(ctx context.Context, campaignID int, contactIDs []int64) ([]ListedContact, error) {
	listed, err := listedContacts(ctx, s.db, campaignID, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("check do-not-call lists: %w", err)
	}
	return listed, nil
}
