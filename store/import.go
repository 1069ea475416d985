package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/kakeru-dialer/kakeru/listimport"
)

// ImportInput is one customer-list import (L-1..L-8).
type ImportInput struct {
	BatchID          int64
	Name             string
	Encoding         listimport.Encoding
	CreatedBy        string
	MaxRows          int // L-5
	MaxListsPerBatch int // L-5
	// Bounds of reading the file and of its error CSV (listimport.Limits); 0 takes the default.
	MaxRowBytes      int
	MaxErrorCSVBytes int
}

func (in ImportInput) limits() listimport.Limits {
	return listimport.Limits{MaxRowBytes: in.MaxRowBytes, MaxErrorCSVBytes: in.MaxErrorCSVBytes}
}

// CustomerList is one imported file.
type CustomerList struct {
	ID        int64     `db:"id"`
	BatchID   int64     `db:"batch_id"`
	Name      string    `db:"name"`
	RowCount  int       `db:"row_count"`
	Encoding  string    `db:"encoding"`
	CreatedBy string    `db:"created_by"`
	CreatedAt time.Time `db:"created_at"`
}

// ImportRefusal is an import refused because of the file's content (L-4): nothing was imported.
// Problems holds at most MaxReportedProblems entries, ordered by line; Total counts them all.
type ImportRefusal struct {
	Problems []listimport.Problem
	Total    int
	Rows     int          // the file's records, none of them imported
	dupLines map[int]bool // every duplicate line, for the error CSV
	// ErrorCSVOmittedFrom is the first line the error CSV leaves out, having reached
	// MaxErrorCSVBytes; 0 when it holds every row.
	ErrorCSVOmittedFrom int
}

// MaxReportedProblems bounds the problems an ImportRefusal carries; the error CSV has them all.
const MaxReportedProblems = 10000

func (e *ImportRefusal) Error() string {
	return fmt.Sprintf("L-4: the file has %d problem(s); nothing was imported", e.Total)
}

// ImportCSV imports a customer list in one transaction, or imports nothing. The file is read
// twice when it is refused (once more for the error CSV) and once more up front to check the
// L-5 row limit before anything is written; it is never held in memory, and a record longer
// than in.MaxRowBytes refuses it on that first pass.
//
// On a content problem it returns an *ImportRefusal and writes the error CSV (the input's rows,
// in the input's encoding, with an error column) to errCSV. Limits (L-5) come back as
// *RuleError with codes too_many_rows and too_many_lists.
func (s *Store) ImportCSV(ctx context.Context, in ImportInput, file io.ReadSeeker, errCSV io.Writer, now time.Time) (CustomerList, error) {
	rows, err := countRecords(file, in.Encoding, in.limits())
	if err != nil {
		return CustomerList{}, err
	}
	if rows > in.MaxRows {
		return CustomerList{}, invalid("L-5", "too_many_rows", "the file has %d rows; the limit is %d", rows, in.MaxRows)
	}
	var list CustomerList
	var refusal *ImportRefusal
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := getBatch(ctx, tx, in.BatchID, true); err != nil {
			return err
		}
		var lists int
		if err := tx.GetContext(ctx, &lists, `SELECT count(*) FROM customer_lists WHERE batch_id = $1`, in.BatchID); err != nil {
			return fmt.Errorf("count lists: %w", err)
		}
		if lists >= in.MaxListsPerBatch {
			return invalid("L-5", "too_many_lists", "the batch already holds %d lists; the limit is %d", lists, in.MaxListsPerBatch)
		}
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("rewind import file: %w", err)
		}
		problems, total, err := stageRecords(ctx, tx, listimport.NewReaderLimits(file, in.Encoding, in.limits()))
		if err != nil {
			return err
		}
		if total > 0 {
			dups, err := duplicateLines(ctx, tx, in.BatchID)
			if err != nil {
				return err
			}
			refusal = mergeProblems(problems, total, dups)
			return errRollback
		}
		err = tx.GetContext(ctx, &list, `INSERT INTO customer_lists (batch_id, name, row_count, encoding, created_by, created_at)
			VALUES ($1, $2, (SELECT count(*) FROM import_staging), $3, $4, $5)
			RETURNING id, batch_id, name, row_count, encoding, created_by, created_at`,
			in.BatchID, in.Name, string(in.Encoding), in.CreatedBy, now)
		if err != nil {
			return fmt.Errorf("insert list: %w", err)
		}
		// Every row is valid: insert, and let the unique (batch, tel) index find duplicates. Only
		// when it does, list them all in SQL (the common clean import pays for one pass).
		if _, err := tx.ExecContext(ctx, `SAVEPOINT import_insert`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO contacts (batch_id, list_id, line, name, kana, tel, remarks, phone_type)
			SELECT $1, $2, line, name, kana, tel, remarks, phone_type FROM import_staging WHERE valid`, in.BatchID, list.ID)
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT import_insert`); err != nil {
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
			dups, err := duplicateLines(ctx, tx, in.BatchID)
			if err != nil {
				return err
			}
			refusal = mergeProblems(nil, 0, dups)
			return errRollback
		}
		if err != nil {
			return fmt.Errorf("insert contacts: %w", err)
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return CustomerList{}, fmt.Errorf("rewind import file: %w", err)
		}
		omitted, err := listimport.WriteErrorCSV(errCSV, file, in.Encoding, refusal.dupLines, in.limits())
		if err != nil {
			return CustomerList{}, fmt.Errorf("write error CSV: %w", err)
		}
		refusal.Rows, refusal.ErrorCSVOmittedFrom = rows, omitted
		return CustomerList{}, refusal
	}
	return list, err
}

// errRollback ends a transaction on purpose.
var errRollback = errors.New("rollback")

func countRecords(file io.ReadSeeker, enc listimport.Encoding, lim listimport.Limits) (int, error) {
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("rewind import file: %w", err)
	}
	n, err := listimport.CountRecords(file, enc, lim)
	if err != nil {
		return 0, fileErr(err)
	}
	return n, nil
}

// fileErr turns a file-level refusal of the reader into an ImportRefusal.
func fileErr(err error) error {
	var fe *listimport.FileError
	if errors.As(err, &fe) {
		return &ImportRefusal{Problems: []listimport.Problem{fe.Problem}, Total: 1}
	}
	return fmt.Errorf("read import file: %w", err)
}

// stageRecords validates every record and copies those with a well-formed number into a
// temporary staging table; the duplicate checks of L-3 then run in SQL. It returns the record
// problems (at most MaxReportedProblems) and how many there were.
func stageRecords(ctx context.Context, tx *sqlx.Tx, r *listimport.Reader) ([]listimport.Problem, int, error) {
	// Room for the duplicate check's sort, and for the staging table, in memory.
	if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
		return nil, 0, fmt.Errorf("staging settings: %w", err)
	}
	_, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE import_staging (
		line integer NOT NULL, name text NOT NULL, kana text NOT NULL, tel text NOT NULL,
		remarks text NOT NULL, phone_type text NOT NULL, valid boolean NOT NULL) ON COMMIT DROP`)
	if err != nil {
		return nil, 0, fmt.Errorf("create staging table: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("import_staging", "line", "name", "kana", "tel", "remarks", "phone_type", "valid"))
	if err != nil {
		return nil, 0, fmt.Errorf("copy into staging: %w", err)
	}
	var problems []listimport.Problem
	total := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			stmt.Close()
			return nil, 0, fileErr(err)
		}
		if len(rec.Problems) > 0 {
			total += len(rec.Problems)
			for _, p := range rec.Problems {
				if len(problems) < MaxReportedProblems {
					problems = append(problems, p)
				}
			}
			// A row refused for other reasons still takes part in the duplicate check when its
			// number is well formed: a later row with the same number is a duplicate of it.
			if tel, ok := wellFormedTel(rec); ok {
				if _, err := stmt.ExecContext(ctx, rec.Line, "", "", tel, "", "", false); err != nil {
					stmt.Close()
					return nil, 0, fmt.Errorf("copy into staging: %w", err)
				}
			}
			continue
		}
		c := rec.Contact
		if _, err := stmt.ExecContext(ctx, rec.Line, c.Name, c.Kana, c.Tel, c.Remarks, c.PhoneType, true); err != nil {
			stmt.Close()
			return nil, 0, fmt.Errorf("copy into staging: %w", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return nil, 0, fmt.Errorf("copy into staging: %w", err)
	}
	if err := stmt.Close(); err != nil {
		return nil, 0, fmt.Errorf("copy into staging: %w", err)
	}
	return problems, total, nil
}

// wellFormedTel is the record's number when no problem concerns the tel column.
func wellFormedTel(rec *listimport.Record) (string, bool) {
	if len(rec.Fields) < 3 {
		return "", false
	}
	for _, p := range rec.Problems {
		if p.Column == "tel" || p.Column == "" {
			return "", false
		}
	}
	return rec.Fields[2], true
}

// duplicateLines finds, in SQL, the staged lines whose number is already in the batch or
// appears on an earlier line of the same file (L-3).
func duplicateLines(ctx context.Context, tx *sqlx.Tx, batchID int64) ([]int, error) {
	var lines []int
	err := tx.SelectContext(ctx, &lines, `
		SELECT s.line FROM (
			SELECT line, tel, row_number() OVER (PARTITION BY tel ORDER BY line) AS nth FROM import_staging
		) s
		WHERE s.nth > 1 OR EXISTS (SELECT 1 FROM contacts c WHERE c.batch_id = $1 AND c.tel = s.tel)
		ORDER BY s.line`, batchID)
	if err != nil {
		return nil, fmt.Errorf("duplicate check: %w", err)
	}
	return lines, nil
}

func mergeProblems(problems []listimport.Problem, total int, dups []int) *ImportRefusal {
	dupLines := make(map[int]bool, len(dups))
	for _, line := range dups {
		dupLines[line] = true
		if len(problems) < MaxReportedProblems {
			problems = append(problems, listimport.DuplicateProblem(line))
		}
	}
	// Stable: a line's own problems keep their column order, the duplicate comes after them.
	slices.SortStableFunc(problems, func(a, b listimport.Problem) int { return a.Line - b.Line })
	return &ImportRefusal{Problems: problems, Total: total + len(dups), dupLines: dupLines}
}

// PreloadContacts fills a batch with n generated contacts (numbers 090…), in a list of their
// own, for benchmarks that need a large batch to check duplicates against.
func (s *Store) PreloadContacts(ctx context.Context, batchID int64, n int) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var listID int64
		err := tx.GetContext(ctx, &listID, `INSERT INTO customer_lists (batch_id, name, row_count, encoding, created_by, created_at)
			VALUES ($1, 'preload', $2, 'utf-8', 'bench', now()) RETURNING id`, batchID, n)
		if err != nil {
			return fmt.Errorf("preload list: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO contacts (batch_id, list_id, line, name, kana, tel, phone_type)
			SELECT $1, $2, g + 1, '既存 顧客' || g, 'キソン コキャク', '090' || lpad(g::text, 8, '0'), 'mobile'
			FROM generate_series(1, $3) AS g`, batchID, listID, n)
		if err != nil {
			return fmt.Errorf("preload contacts: %w", err)
		}
		return nil
	})
}

// DropBatchForBench deletes a benchmark batch outright, without a deletion record.
func (s *Store) DropBatchForBench(ctx context.Context, batchID int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM batches WHERE id = $1`, batchID)
	return err
}
