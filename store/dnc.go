package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/kakeru-dialer/kakeru/listimport"
)

// Do-not-call lists (N-1): campaign 0 is the global list, any other id one campaign's list.
// Writers to a list and claims exclude each other through advisory locks (dnclock.go), so a
// number added is never originated by a claim that commits after the add.

// GlobalDNC is the campaign id of the global do-not-call list.
const GlobalDNC = 0

// DNC sources: who put a number on a list.
const (
	DNCSourceAPI         = "api"
	DNCSourceImport      = "import"
	DNCSourceDisposition = "disposition"
)

// MaxDNCReason bounds a reason, in characters (the column's check).
const MaxDNCReason = 500

// dncTel is the form of a number on a list: the form contacts' numbers have (L-2: a leading 0,
// at least 9 and at most 30 half-width digits), so that a listed number can match a contact.
var dncTel = regexp.MustCompile(`^0[0-9]{8,29}$`)

// NormalizeDNCTel brings a number as written (full-width digits, hyphens, spaces, +81) into the
// stored form and checks it; the error is a 422 naming the field tel.
func NormalizeDNCTel(raw string) (string, error) {
	tel, _ := listimport.NormalizeTel(raw)
	if !dncTel.MatchString(tel) {
		return "", invalid("N-1", "invalid_tel", "tel must be a Japanese number of 9 to 30 digits starting with 0 (hyphens, spaces and full-width digits are accepted), got %q", raw)
	}
	return tel, nil
}

// DNCEntry is one number on a list, with who put it there, when and why.
type DNCEntry struct {
	Tel        string    `db:"tel"`
	CampaignID int       `db:"campaign_id"`
	Reason     string    `db:"reason"`
	Source     string    `db:"source"`
	AddedBy    string    `db:"added_by"`
	AddedAt    time.Time `db:"added_at"`
}

// DNCRemoval is a number taken off a list: the entry as it was, and who removed it, when and why.
type DNCRemoval struct {
	ID            int64     `db:"id"`
	Tel           string    `db:"tel"`
	CampaignID    int       `db:"campaign_id"`
	Reason        string    `db:"reason"`
	AddedBy       string    `db:"added_by"`
	AddedAt       time.Time `db:"added_at"`
	Source        string    `db:"source"`
	RemovedBy     string    `db:"removed_by"`
	RemovedAt     time.Time `db:"removed_at"`
	RemovalReason string    `db:"removal_reason"`
}

func checkDNCReason(reason string) error {
	if utf8.RuneCountInString(reason) > MaxDNCReason || !utf8.ValidString(reason) {
		return invalid("N-1", "invalid_input", "reason must be valid text of at most %d characters", MaxDNCReason)
	}
	return nil
}

// AddDoNotCall puts a number on a list (tel already normalised or not: it is normalised here).
// A number already there keeps its first entry; added reports whether it was new.
func (s *Store) AddDoNotCall(ctx context.Context, e DNCEntry, now time.Time) (entry DNCEntry, added bool, err error) {
	tel, err := NormalizeDNCTel(e.Tel)
	if err != nil {
		return e, false, err
	}
	if err := checkDNCReason(e.Reason); err != nil {
		return e, false, err
	}
	e.Tel, e.AddedAt = tel, now
	if e.Source == "" {
		e.Source = DNCSourceAPI
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int64
		n, err = addDNC(ctx, tx, e)
		added = n == 1
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &entry, `SELECT tel, campaign_id, reason, source, added_by, added_at FROM do_not_call
			WHERE tel = $1 AND campaign_id = $2`, e.Tel, e.CampaignID); err != nil {
			return err
		}
		return lockDNCWrite(ctx, tx, e.CampaignID) // last, just before the commit (dnclock.go)
	})
	if err != nil {
		return e, false, fmt.Errorf("add %s to do-not-call list %d: %w", e.Tel, e.CampaignID, err)
	}
	return entry, added, nil
}

// addDNC inserts one entry under the caller's write lock; it reports 1 when the number was new.
func addDNC(ctx context.Context, tx *sqlx.Tx, e DNCEntry) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO do_not_call (tel, campaign_id, reason, source, added_by, added_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, e.Tel, e.CampaignID, e.Reason, e.Source, e.AddedBy, e.AddedAt)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// RemoveDoNotCall takes a number off a list and records the removal (who, when, why) with the
// entry as it was. ErrNotFound when the number is not on the list.
func (s *Store) RemoveDoNotCall(ctx context.Context, campaignID int, rawTel, reason, by string, now time.Time) error {
	tel, err := NormalizeDNCTel(rawTel)
	if err != nil {
		return err
	}
	if err := checkDNCReason(reason); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Removal needs no lock against claims: a claim that still sees the number skips it,
		// which is the safe side.
		res, err := tx.ExecContext(ctx, `WITH gone AS (
				DELETE FROM do_not_call WHERE tel = $1 AND campaign_id = $2 RETURNING *)
			INSERT INTO do_not_call_removals (tel, campaign_id, reason, source, added_by, added_at, removed_by, removed_at,
				removal_reason)
			SELECT tel, campaign_id, reason, source, added_by, added_at, $3, $4, $5 FROM gone`, tel, campaignID, by, now, reason)
		if err != nil {
			return fmt.Errorf("remove %s from do-not-call list %d: %w", tel, campaignID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// DNCFilter pages through a list; Prefix keeps the numbers that start with it (digits, after
// the same normalisation as numbers).
type DNCFilter struct {
	CampaignID int
	Prefix     string
	Limit      int
	Offset     int
}

var dncPrefix = regexp.MustCompile(`^[0-9]{0,30}$`)

// ListDoNotCall lists a list's numbers in number order, with the total matching.
func (s *Store) ListDoNotCall(ctx context.Context, f DNCFilter) ([]DNCEntry, int, error) {
	prefix, _ := listimport.NormalizeTel(f.Prefix)
	if !dncPrefix.MatchString(prefix) {
		return nil, 0, invalid("N-1", "invalid_input", "q must be the first digits of a number")
	}
	pattern := prefix + "%"
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM do_not_call WHERE campaign_id = $1 AND tel LIKE $2`,
		f.CampaignID, pattern); err != nil {
		return nil, 0, fmt.Errorf("count do-not-call list %d: %w", f.CampaignID, err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	out := []DNCEntry{}
	// ~<~ is the order of the list's index (text_pattern_ops) whatever the database's collation:
	// pages and the export read the index instead of sorting the list.
	err := s.db.SelectContext(ctx, &out, `SELECT tel, campaign_id, reason, source, added_by, added_at FROM do_not_call
		WHERE campaign_id = $1 AND tel LIKE $2 ORDER BY tel USING ~<~ LIMIT $3 OFFSET $4`, f.CampaignID, pattern, limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list do-not-call list %d: %w", f.CampaignID, err)
	}
	return out, total, nil
}

// ExportDoNotCall streams every number of a list, in number order, to fn without holding them in
// memory; an error from fn stops it and is returned.
func (s *Store) ExportDoNotCall(ctx context.Context, campaignID int, fn func(DNCEntry) error) error {
	rows, err := s.db.QueryxContext(ctx, `SELECT tel, campaign_id, reason, source, added_by, added_at FROM do_not_call
		WHERE campaign_id = $1 ORDER BY tel USING ~<~`, campaignID)
	if err != nil {
		return fmt.Errorf("export do-not-call list %d: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e DNCEntry
		if err := rows.StructScan(&e); err != nil {
			return fmt.Errorf("export do-not-call list %d: %w", campaignID, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export do-not-call list %d: %w", campaignID, err)
	}
	return nil
}

// DoNotCallRemovals lists a list's removals, newest first, with the total.
func (s *Store) DoNotCallRemovals(ctx context.Context, campaignID, limit, offset int) ([]DNCRemoval, int, error) {
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM do_not_call_removals WHERE campaign_id = $1`, campaignID); err != nil {
		return nil, 0, fmt.Errorf("count removals of do-not-call list %d: %w", campaignID, err)
	}
	if limit <= 0 {
		limit = 1 << 30
	}
	out := []DNCRemoval{}
	err := s.db.SelectContext(ctx, &out, `SELECT id, tel, campaign_id, reason, source, added_by, added_at, removed_by, removed_at,
		removal_reason FROM do_not_call_removals WHERE campaign_id = $1 ORDER BY removed_at DESC, id DESC LIMIT $2 OFFSET $3`,
		campaignID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list removals of do-not-call list %d: %w", campaignID, err)
	}
	return out, total, nil
}

// DNCImportResult counts an import: rows read, numbers added, numbers already on the list, and
// repeats of a number inside the file. LockHeld is how long claims of the list waited on it.
type DNCImportResult struct {
	Rows           int
	Added          int
	AlreadyPresent int
	Repeated       int
	LockHeld       time.Duration
	// VacuumErr: the vacuum after the import failed (the import itself is committed).
	VacuumErr error
}

// DNCRow is one number of an import, normalised and checked by the caller (NormalizeDNCTel).
type DNCRow struct{ Tel, Reason string }

// ImportDoNotCall adds the numbers feed hands to add to a list, in one transaction: an error
// from feed (or add) leaves the list as it was. The numbers go to a staging table, then to the
// list in one INSERT … SELECT; the write lock is taken only after it, just before the commit, so
// claims of the list (of every campaign, for the global list) wait for the commit only, not for
// the file or the insert (LockHeld: from the lock's grant to the commit's end).
func (s *Store) ImportDoNotCall(ctx context.Context, campaignID int, by string, now time.Time,
	feed func(add func(DNCRow) error) error) (DNCImportResult, error) {
	var res DNCImportResult
	var locked time.Time
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE dnc_staging (tel text NOT NULL, reason text NOT NULL) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, pq.CopyIn("dnc_staging", "tel", "reason"))
		if err != nil {
			return fmt.Errorf("start copy: %w", err)
		}
		defer stmt.Close()
		err = feed(func(r DNCRow) error {
			if !dncTel.MatchString(r.Tel) {
				return invalid("N-1", "invalid_tel", "tel %q is not a normalised number", r.Tel)
			}
			if err := checkDNCReason(r.Reason); err != nil {
				return err
			}
			res.Rows++
			if _, err := stmt.ExecContext(ctx, r.Tel, r.Reason); err != nil {
				return fmt.Errorf("copy number: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return fmt.Errorf("end copy: %w", err)
		}
		var distinct int
		if err := tx.GetContext(ctx, &distinct, `SELECT count(DISTINCT tel) FROM dnc_staging`); err != nil {
			return fmt.Errorf("count staged numbers: %w", err)
		}
		res.Repeated = res.Rows - distinct
		r, err := tx.ExecContext(ctx, `INSERT INTO do_not_call (tel, campaign_id, reason, source, added_by, added_at)
			SELECT DISTINCT ON (tel) tel, $1, reason, 'import', $2, $3 FROM dnc_staging ORDER BY tel
			ON CONFLICT DO NOTHING`, campaignID, by, now)
		if err != nil {
			return fmt.Errorf("add staged numbers: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Added, res.AlreadyPresent = int(n), distinct-int(n)
		if err := lockDNCWrite(ctx, tx, campaignID); err != nil {
			return err
		}
		locked = time.Now()
		return nil
	})
	res.LockHeld = time.Since(locked)
	if err != nil {
		var re *RuleError
		if errors.As(err, &re) {
			return DNCImportResult{}, err
		}
		return DNCImportResult{}, fmt.Errorf("import do-not-call list %d: %w", campaignID, err)
	}
	// The new rows are made visible to index-only scans now rather than at autovacuum's next
	// pass: until then every look-up of a list import's (and of the claim's) visits the table,
	// which halved the speed of a customer-list import checked against 1 M fresh numbers.
	// Only the pages not yet all-visible are read. A failure (rights, the statement timeout)
	// changes nothing: autovacuum does the same later.
	if _, err := s.db.ExecContext(ctx, `VACUUM (ANALYZE) do_not_call`); err != nil {
		res.VacuumErr = err
	}
	return res, nil
}

// dispositionDoNotCall puts the number an attempt dialed, and its contact's own number when
// different, on the campaign's list for a disposition whose result code is marked do_not_call
// (N-1), in the disposition's transaction.
func dispositionDoNotCall(ctx context.Context, tx *sqlx.Tx, d NewDisposition, a AttemptRef, now time.Time) error {
	var tels []string
	if err := tx.SelectContext(ctx, &tels, `SELECT a.tel FROM attempts a WHERE a.id = $1
		UNION SELECT c.tel FROM attempts a JOIN contacts c ON c.id = a.contact_id WHERE a.id = $1`, a.ID); err != nil {
		return fmt.Errorf("numbers of attempt %d: %w", a.ID, err)
	}
	for _, tel := range tels {
		if !dncTel.MatchString(tel) {
			continue // not a number a contact can have: nothing to match
		}
		e := DNCEntry{Tel: tel, CampaignID: a.CampaignID, Reason: "result code " + d.ResultCode, Source: DNCSourceDisposition,
			AddedBy: d.SavedBy, AddedAt: now}
		if _, err := addDNC(ctx, tx, e); err != nil {
			return fmt.Errorf("add %s to do-not-call list %d: %w", tel, a.CampaignID, err)
		}
	}
	// The lock is held from here to the disposition's commit: the statements left are short.
	return lockDNCWrite(ctx, tx, a.CampaignID)
}
