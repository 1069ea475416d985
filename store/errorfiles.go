package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrorFile is the error CSV of a refused import (L-4), kept for a limited time.
type ErrorFile struct {
	ID         string    `db:"id"`
	BatchID    int64     `db:"batch_id"`
	UploadedBy string    `db:"uploaded_by"`
	Encoding   string    `db:"encoding"`
	FileName   string    `db:"file_name"`
	Content    []byte    `db:"content"`
	CreatedAt  time.Time `db:"created_at"`
	ExpiresAt  time.Time `db:"expires_at"`
}

// SaveErrorFile stores an error CSV; its ID is a random UUID that becomes part of its URL.
func (s *Store) SaveErrorFile(ctx context.Context, f ErrorFile) (ErrorFile, error) {
	err := s.db.GetContext(ctx, &f.ID, `INSERT INTO import_error_files
		(id, batch_id, uploaded_by, encoding, file_name, content, created_at, expires_at)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		f.BatchID, f.UploadedBy, f.Encoding, f.FileName, f.Content, f.CreatedAt, f.ExpiresAt)
	if err != nil {
		return ErrorFile{}, fmt.Errorf("save error file: %w", err)
	}
	return f, nil
}

// GetErrorFile reads an error CSV that has not expired at now.
func (s *Store) GetErrorFile(ctx context.Context, id string, now time.Time) (ErrorFile, error) {
	var f ErrorFile
	err := s.db.GetContext(ctx, &f, `SELECT id, batch_id, uploaded_by, encoding, file_name, content, created_at, expires_at
		FROM import_error_files WHERE id::text = $1 AND expires_at > $2`, id, now)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrorFile{}, ErrNotFound
	}
	if err != nil {
		return ErrorFile{}, fmt.Errorf("get error file: %w", err)
	}
	return f, nil
}

// PurgeErrorFiles deletes error CSVs that expired at now.
func (s *Store) PurgeErrorFiles(ctx context.Context, now time.Time) (int, error) {
	r, err := s.db.ExecContext(ctx, `DELETE FROM import_error_files WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge error files: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}
