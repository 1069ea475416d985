// Package store keeps kakeru's data in PostgreSQL (sqlx + lib/pq). Every rule that needs data to
// decide (B-3 attempt dates, B-5 blockers, B-7 limits) is checked inside the transaction that
// writes, so concurrent callers cannot slip between the check and the write.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNotFound is returned when the addressed row does not exist.
var ErrNotFound = errors.New("not found")

// RuleError is a refusal by a rule of FUNCTIONAL.md. Conflict distinguishes a refusal because of
// the current state of the data (HTTP 409) from invalid input (HTTP 422).
type RuleError struct {
	Code     string // machine-readable, e.g. "batch_has_attempts"
	Rule     string // the rule id, e.g. "B-5"
	Message  string
	Conflict bool
}

func (e *RuleError) Error() string { return e.Rule + " " + e.Code + ": " + e.Message }

func conflict(rule, code, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Rule: rule, Message: fmt.Sprintf(format, args...), Conflict: true}
}

func invalid(rule, code, format string, args ...any) *RuleError {
	return &RuleError{Code: code, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Store is the PostgreSQL data layer.
type Store struct {
	db *sqlx.DB
}

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, dsn string) (*Store, error) {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	return &Store{db: db}, nil
}

// Close releases the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the pool for migrations and tests.
func (s *Store) DB() *sql.DB { return s.db.DB }

// Ping reports whether PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func int64Array(v []int) pq.Int64Array {
	out := make(pq.Int64Array, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func int64Array64(v []int64) pq.Int64Array {
	if v == nil {
		return pq.Int64Array{}
	}
	return pq.Int64Array(v)
}
