// Package store keeps kakeru's data in PostgreSQL (sqlx + lib/pq). Every rule that needs data to
// decide (B-3 attempt dates, B-5 blockers, B-7 limits) is checked inside the transaction that
// writes, so concurrent callers cannot slip between the check and the write.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNotFound is returned when the addressed row does not exist.
var ErrNotFound = errors.New("not found")

// RuleError is a refusal by a product rule (docs/rules.md). Conflict distinguishes a refusal because of
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
	return OpenPool(ctx, dsn, Pool{MaxConns: 20})
}

// Pool sizes a Store's connections and bounds its statements.
type Pool struct {
	MaxConns int
	// StatementTimeout, when set, ends any statement that runs longer (PostgreSQL's
	// statement_timeout, set on every connection of the pool).
	StatementTimeout time.Duration
}

// OpenPool connects with a pool of its own, e.g. one for the engine and one for the HTTP API.
//
// Every connection runs without PostgreSQL's JIT compilation: the dialer's statements are
// short, and on a list of a million contacts the planner's cost estimate made the server spend
// a quarter of a second compiling each claim before running it in under a millisecond.
func OpenPool(ctx context.Context, dsn string, p Pool) (*Store, error) {
	dsn = withRuntimeParam(dsn, "jit", "off")
	if p.StatementTimeout > 0 {
		dsn = withRuntimeParam(dsn, "statement_timeout", strconv.FormatInt(p.StatementTimeout.Milliseconds(), 10))
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(max(p.MaxConns, 1))
	db.SetMaxIdleConns(max(p.MaxConns/2, 1))
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	return &Store{db: db}, nil
}

// withRuntimeParam adds a server setting to a DSN in either of its forms; the driver sends keys
// it does not know itself to the server at connection start.
func withRuntimeParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return dsn + " " + key + "=" + value
}

// IsStatementTimeout reports whether err is a statement ended by its pool's StatementTimeout.
func IsStatementTimeout(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "57014" && strings.Contains(pe.Message, "statement timeout")
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
