package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

const listColumns = `id, batch_id, name, row_count, encoding, created_by, created_at, time_zones`

// GetList reads one customer list.
func (s *Store) GetList(ctx context.Context, id int64) (CustomerList, error) {
	var l CustomerList
	if err := s.db.GetContext(ctx, &l, `SELECT `+listColumns+` FROM customer_lists WHERE id = $1`, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return CustomerList{}, ErrNotFound
		}
		return CustomerList{}, fmt.Errorf("get list %d: %w", id, err)
	}
	return l, nil
}

// ListLists returns the lists of a batch, oldest first.
func (s *Store) ListLists(ctx context.Context, batchID int64) ([]CustomerList, error) {
	out := []CustomerList{}
	if err := s.db.SelectContext(ctx, &out, `SELECT `+listColumns+` FROM customer_lists WHERE batch_id = $1 ORDER BY id`, batchID); err != nil {
		return nil, fmt.Errorf("list lists of batch %d: %w", batchID, err)
	}
	return out, nil
}

// DeleteList deletes a list with its contacts (L-7), refused while a running call job uses it.
// Attempts stay in the batch's history with their list and contact cleared.
func (s *Store) DeleteList(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var batchID int64
		if err := tx.GetContext(ctx, &batchID, `SELECT batch_id FROM customer_lists WHERE id = $1 FOR UPDATE`, id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("lock list %d: %w", id, err)
		}
		var running int
		if err := tx.GetContext(ctx, &running, `SELECT count(*) FROM call_jobs WHERE list_id = $1 AND status = 'running'`, id); err != nil {
			return fmt.Errorf("check jobs of list %d: %w", id, err)
		}
		if running > 0 {
			return conflict("L-7", "list_in_use", "a running call job dials this list; stop it first")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_lists WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete list %d: %w", id, err)
		}
		return nil
	})
}

// Assignment hands a list to a dial group.
type Assignment struct {
	ID          int64      `db:"id"`
	BatchID     int64      `db:"batch_id"`
	ListID      int64      `db:"list_id"`
	DialGroupID int        `db:"dial_group_id"`
	Count       int        `db:"count"`
	CreatedBy   string     `db:"created_by"`
	CreatedAt   time.Time  `db:"created_at"`
	DeletedAt   *time.Time `db:"deleted_at"`
}

const assignmentColumns = `id, batch_id, list_id, dial_group_id, count, created_by, created_at, deleted_at`

// NewAssignment is what creating an assignment needs.
type NewAssignment struct {
	BatchID     int64
	ListID      int64
	DialGroupID int
	Count       int
	CreatedBy   string
}

// CreateAssignment applies: the list belongs to the batch, the group is one of the
// batch's, the count equals the list's rows, and a list is assigned at most once ever.
func (s *Store) CreateAssignment(ctx context.Context, na NewAssignment, now time.Time) (Assignment, error) {
	var a Assignment
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		b, err := getBatch(ctx, tx, na.BatchID, true)
		if err != nil {
			return err
		}
		var list CustomerList
		err = tx.GetContext(ctx, &list, `SELECT `+listColumns+` FROM customer_lists WHERE id = $1 AND batch_id = $2`, na.ListID, na.BatchID)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("A-1", "unknown_list", "list %d is not a list of batch %d", na.ListID, na.BatchID)
		}
		if err != nil {
			return fmt.Errorf("get list %d: %w", na.ListID, err)
		}
		if !slices.Contains(b.DialGroupIDs, na.DialGroupID) {
			return invalid("A-1", "dial_group_not_in_batch", "dial group %d is not one of the batch's dial groups", na.DialGroupID)
		}
		if na.Count != list.RowCount {
			return invalid("A-1", "assignment_count_mismatch",
				"count %d must equal the list's %d rows (split a list by splitting the file)", na.Count, list.RowCount)
		}
		var prior Assignment
		err = tx.GetContext(ctx, &prior, `SELECT `+assignmentColumns+` FROM assignments WHERE list_id = $1`, na.ListID)
		switch {
		case err == nil && prior.DeletedAt != nil:
			return conflict("A-2", "assignment_deleted",
				"the assignment of this list was deleted and cannot be created again; re-import the list or use a new batch")
		case err == nil:
			return conflict("A-1", "list_already_assigned", "the list is already assigned (assignment %d)", prior.ID)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("check assignments of list %d: %w", na.ListID, err)
		}
		return tx.GetContext(ctx, &a, `INSERT INTO assignments (batch_id, list_id, dial_group_id, count, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+assignmentColumns,
			na.BatchID, na.ListID, na.DialGroupID, na.Count, na.CreatedBy, now)
	})
	return a, err
}

// ListAssignments returns a batch's assignments that are not deleted.
func (s *Store) ListAssignments(ctx context.Context, batchID int64) ([]Assignment, error) {
	out := []Assignment{}
	err := s.db.SelectContext(ctx, &out, `SELECT `+assignmentColumns+` FROM assignments
		WHERE batch_id = $1 AND deleted_at IS NULL ORDER BY id`, batchID)
	if err != nil {
		return nil, fmt.Errorf("list assignments of batch %d: %w", batchID, err)
	}
	return out, nil
}

// GetAssignment reads one live assignment.
func (s *Store) GetAssignment(ctx context.Context, id int64) (Assignment, error) {
	var a Assignment
	err := s.db.GetContext(ctx, &a, `SELECT `+assignmentColumns+` FROM assignments WHERE id = $1 AND deleted_at IS NULL`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Assignment{}, ErrNotFound
	}
	if err != nil {
		return Assignment{}, fmt.Errorf("get assignment %d: %w", id, err)
	}
	return a, nil
}

// DeleteAssignment marks an assignment deleted, refused while a running call job dials
// its list for its group and has already dialed from it. The row stays so that the same list
// can never be assigned again.
func (s *Store) DeleteAssignment(ctx context.Context, id int64, now time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var a Assignment
		err := tx.GetContext(ctx, &a, `SELECT `+assignmentColumns+` FROM assignments WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock assignment %d: %w", id, err)
		}
		var dialing int
		err = tx.GetContext(ctx, &dialing, `SELECT count(*) FROM call_jobs j
			WHERE j.list_id = $1 AND j.dial_group_id = $2 AND j.status = 'running'
			  AND EXISTS (SELECT 1 FROM attempts t WHERE t.call_job_id = j.id AND t.list_id = $1)`, a.ListID, a.DialGroupID)
		if err != nil {
			return fmt.Errorf("check jobs of assignment %d: %w", id, err)
		}
		if dialing > 0 {
			return conflict("A-2", "assignment_in_use", "a running call job is dialing this assignment; stop it first")
		}
		_, err = tx.ExecContext(ctx, `UPDATE assignments SET deleted_at = $2 WHERE id = $1`, id, now)
		return err
	})
}

// Contact is one customer of a list, as S-3 shows it.
type Contact struct {
	ID            int64      `db:"id"`
	BatchID       int64      `db:"batch_id"`
	ListID        int64      `db:"list_id"`
	Name          string     `db:"name"`
	Kana          string     `db:"kana"`
	Tel           string     `db:"tel"`
	Remarks       string     `db:"remarks"`
	PhoneType     string     `db:"phone_type"`
	AttemptCount  int        `db:"attempt_count"`
	LastAttemptAt *time.Time `db:"last_attempt_at"`
	Status        string     `db:"status"`
}

const contactColumns = `id, batch_id, list_id, name, kana, tel, remarks, phone_type, attempt_count, last_attempt_at, status`

// ContactFilter is an S-3 search: Query matches part of the name or kana, or the start of the
// number.
type ContactFilter struct {
	BatchID int64
	Query   string
	Limit   int
	Offset  int
}

// SearchContacts returns one page of a batch's contacts matching the filter, in list order.
func (s *Store) SearchContacts(ctx context.Context, f ContactFilter) ([]Contact, int, error) {
	where, args := `batch_id = $1`, []any{f.BatchID}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := escapeLike(q)
		where += ` AND (name LIKE $2 OR kana LIKE $2 OR tel LIKE $3)`
		args = append(args, "%"+like+"%", like+"%")
	}
	var total int
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM contacts WHERE `+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count contacts: %w", err)
	}
	out := []Contact{}
	args = append(args, f.Limit, f.Offset)
	q := fmt.Sprintf(`SELECT %s FROM contacts WHERE %s ORDER BY list_id, line LIMIT $%d OFFSET $%d`, contactColumns, where, len(args)-1, len(args))
	if err := s.db.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, 0, fmt.Errorf("search contacts: %w", err)
	}
	return out, total, nil
}

// GetContact reads one contact.
func (s *Store) GetContact(ctx context.Context, id int64) (Contact, error) {
	var c Contact
	err := s.db.GetContext(ctx, &c, `SELECT `+contactColumns+` FROM contacts WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Contact{}, ErrNotFound
	}
	if err != nil {
		return Contact{}, fmt.Errorf("get contact %d: %w", id, err)
	}
	return c, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
