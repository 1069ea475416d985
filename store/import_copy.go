package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/kakeru-dialer/kakeru/listimport"
)

// copied is what copying a file into contacts found.
type copied struct {
	clean      bool // every record valid, every number new to the batch
	rows       int
	normalized int            // numbers NormalizeTel changed
	zones      pq.StringArray // the distinct time zones of the time zone column, sorted
}

// copyChunk is the rows of one COPY statement: statement_timeout (postgres.api_statement_timeout
// on the API's pool) bounds each chunk, not the whole file, so a large list is not ended for
// its size, and a stuck statement still is.
var copyChunk = 100_000 // a variable for the tests only

// copyContacts copies the file's records straight into contacts (L-8), as they are read: the
// common clean file is read and written once. It stops at the first record with a problem, and
// a number already in the batch or earlier in the file ends the copy at the unique index
// (L-3): either way clean is false, and the caller rolls the copy back and lists the problems.
//
// Each copied number goes to dnc, which looks it up on the do-not-call lists meanwhile.
func copyContacts(ctx context.Context, tx *sqlx.Tx, r *listimport.Reader, batchID, listID int64, dnc *dncChecker) (copied, error) {
	res := copied{clean: true}
	zones := map[string]bool{}
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	// endCopy ends the current COPY statement, if any.
	endCopy := func() error {
		if stmt == nil {
			return nil
		}
		_, err := stmt.ExecContext(ctx)
		if cerr := stmt.Close(); err == nil {
			err = cerr
		}
		stmt = nil
		return err
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return copied{}, fileErr(err)
		}
		if len(rec.Problems) > 0 {
			res.clean = false
			break
		}
		if res.rows%copyChunk == 0 {
			if err := endCopy(); err != nil {
				return copyEnded(res, err)
			}
			stmt, err = tx.PrepareContext(ctx, pq.CopyIn("contacts", "batch_id", "list_id", "line", "name", "kana", "tel",
				"remarks", "phone_type", "time_zone"))
			if err != nil {
				return copied{}, fmt.Errorf("copy contacts: %w", err)
			}
		}
		c := rec.Contact
		var zone any // NULL: the campaign's zone
		if c.TimeZone != "" {
			zone = c.TimeZone
			zones[c.TimeZone] = true
		}
		if rec.TelNormalized {
			res.normalized++
		}
		res.rows++
		if _, err := stmt.ExecContext(ctx, batchID, listID, rec.Line, c.Name, c.Kana, c.Tel, c.Remarks, c.PhoneType, zone); err != nil {
			return copyEnded(res, err)
		}
		if err := dnc.add(ctx, rec.Line, c.Tel); err != nil {
			return copied{}, err
		}
	}
	if err := endCopy(); err != nil {
		return copyEnded(res, err)
	}
	res.zones = make(pq.StringArray, 0, len(zones))
	for z := range zones {
		res.zones = append(res.zones, z)
	}
	slices.Sort(res.zones)
	return res, nil
}

// copyEnded is the end of a copy the database refused: a duplicate number is a problem of the
// file, anything else an error.
func copyEnded(res copied, err error) (copied, error) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		res.clean = false
		return res, nil
	}
	return copied{}, fmt.Errorf("copy contacts: %w", err)
}
