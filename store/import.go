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
	// RefuseDoNotCall (system.do_not_call.on_import: refuse) makes each row whose number is on
	// the global do-not-call list or the batch's campaign's a problem of the file; without it
	// such rows are imported and counted (issue 14 item 1).
	RefuseDoNotCall bool
	// NormalizeTel applies listimport.NormalizeTel to each number before it is validated
	// (issue 14 item 6).
	NormalizeTel bool
}

func (in ImportInput) limits() listimport.Limits {
	return listimport.Limits{MaxRowBytes: in.MaxRowBytes, MaxErrorCSVBytes: in.MaxErrorCSVBytes}
}

func (in ImportInput) options() listimport.Options {
	return listimport.Options{NormalizeTel: in.NormalizeTel}
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
	// TimeZones are the distinct zones of the list's time zone column, sorted (issue 14 item 2);
	// empty when every contact is in the campaign's zone.
	TimeZones pq.StringArray `db:"time_zones"`
	// What the import that created the list counted (issue 14); not stored, zero when read back.
	DoNotCallCount  int `db:"-"` // rows whose number is on a do-not-call list (imported, flagged)
	NormalizedCount int `db:"-"` // numbers NormalizeTel changed
}

// ImportRefusal is an import refused because of the file's content (L-4): nothing was imported.
// Problems holds at most MaxReportedProblems entries, ordered by line; Total counts them all.
type ImportRefusal struct {
	Problems []listimport.Problem
	Total    int
	Rows     int // the file's records, none of them imported
	// DoNotCallCount counts the rows with a well-formed number on a do-not-call list (problems
	// when the import refuses them); NormalizedCount the numbers NormalizeTel changed.
	DoNotCallCount  int
	NormalizedCount int
	found           map[int]listimport.Found // the database's problems by line, for the error CSV
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
// once up front to check the L-5 row limit before anything is written, then once to copy its
// rows straight into contacts (L-8): the unique (batch, tel) index finds duplicates, and the
// numbers are looked up on the do-not-call lists set-wise, batch by batch on a second
// connection while the copy goes on (dncChecker). Only a file with a problem is read
// again, into a staging table, to find every problem by line, and once more for the error
// CSV. It is never held in memory, and a record longer than in.MaxRowBytes refuses it on the
// first pass.
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
		b, err := getBatch(ctx, tx, in.BatchID, true)
		if err != nil {
			return err
		}
		var lists int
		if err := tx.GetContext(ctx, &lists, `SELECT count(*) FROM customer_lists WHERE batch_id = $1`, in.BatchID); err != nil {
			return fmt.Errorf("count lists: %w", err)
		}
		if lists >= in.MaxListsPerBatch {
			return invalid("L-5", "too_many_lists", "the batch already holds %d lists; the limit is %d", lists, in.MaxListsPerBatch)
		}
		// Room for the duplicate check's sort and the do-not-call join, in memory (JIT is off on
		// every connection of ours: OpenPool).
		if _, err := tx.ExecContext(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
			return fmt.Errorf("import settings: %w", err)
		}
		err = tx.GetContext(ctx, &list, `INSERT INTO customer_lists (batch_id, name, row_count, encoding, created_by, created_at)
			VALUES ($1, $2, 0, $3, $4, $5)
			RETURNING id, batch_id, name, row_count, encoding, created_by, created_at, time_zones`,
			in.BatchID, in.Name, string(in.Encoding), in.CreatedBy, now)
		if err != nil {
			return fmt.Errorf("insert list: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT import_copy`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("rewind import file: %w", err)
		}
		checker := startDNCChecker(ctx, s.db, b.CampaignID, in.RefuseDoNotCall)
		copied, err := copyContacts(ctx, tx, listimport.NewReaderWith(file, in.Encoding, in.limits(), in.options()), in.BatchID, list.ID, checker)
		dnc, looked, dncErr := checker.wait(ctx)
		if err != nil {
			return err
		}
		if !copied.clean {
			// A problem: undo the copy and find every problem of the file by line.
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT import_copy`); err != nil {
				return fmt.Errorf("rollback to savepoint: %w", err)
			}
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("rewind import file: %w", err)
			}
			refusal, err = findProblems(ctx, tx, in, b.CampaignID, listimport.NewReaderWith(file, in.Encoding, in.limits(), in.options()))
			if err != nil {
				return err
			}
			return errRollback
		}
		if !looked && dncErr == nil {
			dnc, dncErr = doNotCallLines(ctx, tx, `contacts`, list.ID, b.CampaignID, in.RefuseDoNotCall)
		}
		if dncErr != nil {
			return dncErr
		}
		if in.RefuseDoNotCall && len(dnc.lines) > 0 {
			refusal = mergeProblems(nil, 0, nil, dnc.lines)
			refusal.DoNotCallCount, refusal.NormalizedCount = dnc.count, copied.normalized
			return errRollback
		}
		list.RowCount, list.TimeZones = copied.rows, copied.zones
		list.DoNotCallCount, list.NormalizedCount = dnc.count, copied.normalized
		if _, err := tx.ExecContext(ctx, `UPDATE customer_lists SET row_count = $2, time_zones = $3 WHERE id = $1`,
			list.ID, list.RowCount, list.TimeZones); err != nil {
			return fmt.Errorf("update list: %w", err)
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return CustomerList{}, fmt.Errorf("rewind import file: %w", err)
		}
		omitted, err := listimport.WriteErrorCSVWith(errCSV, file, in.Encoding, refusal.found, in.limits(), in.options())
		if err != nil {
			return CustomerList{}, fmt.Errorf("write error CSV: %w", err)
		}
		refusal.Rows, refusal.ErrorCSVOmittedFrom = rows, omitted
		return CustomerList{}, refusal
	}
	if err != nil {
		return CustomerList{}, err
	}
	return list, nil
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

// findProblems reads a file with a problem again, validates every record and copies those with a
// well-formed number into a temporary staging table, where the duplicate checks of L-3 and the
// do-not-call lookup run in SQL. It returns every problem.
func findProblems(ctx context.Context, tx *sqlx.Tx, in ImportInput, campaignID int, r *listimport.Reader) (*ImportRefusal, error) {
	_, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE import_staging (line integer NOT NULL, tel text NOT NULL) ON COMMIT DROP`)
	if err != nil {
		return nil, fmt.Errorf("create staging table: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("import_staging", "line", "tel"))
	if err != nil {
		return nil, fmt.Errorf("copy into staging: %w", err)
	}
	var problems []listimport.Problem
	total, normalized := 0, 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			stmt.Close()
			return nil, fileErr(err)
		}
		total += len(rec.Problems)
		for _, p := range rec.Problems {
			if len(problems) < MaxReportedProblems {
				problems = append(problems, p)
			}
		}
		// A row refused for other reasons still takes part in the duplicate check when its
		// number is well formed: a later row with the same number is a duplicate of it.
		tel, ok := wellFormedTel(rec)
		if !ok {
			continue
		}
		if rec.TelNormalized {
			normalized++
		}
		if _, err := stmt.ExecContext(ctx, rec.Line, tel); err != nil {
			stmt.Close()
			return nil, fmt.Errorf("copy into staging: %w", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return nil, fmt.Errorf("copy into staging: %w", err)
	}
	if err := stmt.Close(); err != nil {
		return nil, fmt.Errorf("copy into staging: %w", err)
	}
	dups, err := duplicateLines(ctx, tx, in.BatchID)
	if err != nil {
		return nil, err
	}
	dnc, err := doNotCallLines(ctx, tx, `import_staging`, 0, campaignID, in.RefuseDoNotCall)
	if err != nil {
		return nil, err
	}
	refusal := mergeProblems(problems, total, dups, dnc.lines)
	refusal.DoNotCallCount, refusal.NormalizedCount = dnc.count, normalized
	return refusal, nil
}

// wellFormedTel is the record's number, as validated, when no problem concerns the tel column.
func wellFormedTel(rec *listimport.Record) (string, bool) {
	if len(rec.Fields) < 3 {
		return "", false
	}
	for _, p := range rec.Problems {
		if p.Column == "tel" || p.Column == "" {
			return "", false
		}
	}
	return rec.Tel, true
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

// doNotCall is what the do-not-call lookup found: how many rows, and their lines when asked.
type doNotCall struct {
	count int
	lines []int
}

// doNotCallLines looks up, set-wise, the numbers of rows (the staging table, or the contacts of
// a list when no connection was free for a dncChecker) on the global do-not-call list (campaign
// 0) or the campaign's (issue 14 item 1). It lists the lines only when withLines, to refuse
// them; counting is enough to flag them.
func doNotCallLines(ctx context.Context, tx *sqlx.Tx, rows string, listID int64, campaignID int, withLines bool) (doNotCall, error) {
	var where string
	args := []any{campaignID}
	if listID != 0 {
		where, args = ` AND r.list_id = $2`, append(args, listID)
	}
	// rows is one of this file's two constants, never input.
	from := ` FROM ` + rows + ` r WHERE EXISTS (SELECT 1 FROM do_not_call d WHERE d.tel = r.tel AND d.campaign_id IN (0, $1))` + where
	var out doNotCall
	var err error
	if withLines {
		err = tx.SelectContext(ctx, &out.lines, `SELECT r.line`+from+` ORDER BY r.line`, args...)
		out.count = len(out.lines)
	} else {
		err = tx.GetContext(ctx, &out.count, `SELECT count(*)`+from, args...)
	}
	if err != nil {
		return doNotCall{}, fmt.Errorf("do-not-call check: %w", err)
	}
	return out, nil
}

func mergeProblems(problems []listimport.Problem, total int, dups, dnc []int) *ImportRefusal {
	found := make(map[int]listimport.Found, len(dups)+len(dnc))
	add := func(line int, f listimport.Found, p func(int) listimport.Problem) {
		found[line] |= f
		if len(problems) < MaxReportedProblems {
			problems = append(problems, p(line))
		}
	}
	for _, line := range dups {
		add(line, listimport.FoundDuplicate, listimport.DuplicateProblem)
	}
	for _, line := range dnc {
		add(line, listimport.FoundDoNotCall, listimport.DoNotCallProblem)
	}
	// Stable: a line's own problems keep their column order, the database's come after them.
	slices.SortStableFunc(problems, func(a, b listimport.Problem) int { return a.Line - b.Line })
	return &ImportRefusal{Problems: problems, Total: total + len(dups) + len(dnc), found: found}
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

// PreloadDoNotCallForBench puts n generated numbers on do-not-call lists, a third on the global
// list, the rest on campaign's: every every-th one is 080%08d, a number of a benchmark's generated list,
// the others 070 numbers no list holds. DropDoNotCallForBench removes them.
func (s *Store) PreloadDoNotCallForBench(ctx context.Context, campaignID, n, every int) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO do_not_call (tel, campaign_id, source, added_by, added_at)
		SELECT CASE WHEN g % $3 = 0 THEN '080' || lpad((g / $3)::text, 8, '0') ELSE '070' || lpad(g::text, 8, '0') END,
			CASE WHEN g % 3 = 0 THEN 0 ELSE $1 END, 'import', 'kakeru bench', now()
		FROM generate_series(0, $2 - 1) AS g
		ON CONFLICT DO NOTHING`, campaignID, n, every)
	if err != nil {
		return fmt.Errorf("preload do-not-call: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `VACUUM (ANALYZE) do_not_call`) // as ImportDoNotCall leaves it
	return err
}

// DropDoNotCallForBench removes the numbers PreloadDoNotCallForBench added.
func (s *Store) DropDoNotCallForBench(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM do_not_call WHERE added_by = 'kakeru bench'`)
	return err
}
