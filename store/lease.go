package store

import (
	"context"
	"database/sql"
	"fmt"
)

// jobLeaseClass is the first key of the advisory locks that say which instance runs a job.
const jobLeaseClass = 7100

// JobLease is one instance's ownership of a running call job: a session advisory lock held on a
// connection of its own. If the instance dies its connection closes and PostgreSQL releases the
// lock at once, so another instance takes the job over on its next pass.
type JobLease struct {
	conn  *sql.Conn
	JobID int64
	// held and release stand in for the advisory lock in a lease made by NewLocalLease.
	held    func() bool
	release func()
}

// NewLocalLease is a lease kept in memory rather than in PostgreSQL, for stores that are not
// PostgreSQL (the engine's in-memory test store): held reports whether it is still held (Check
// fails once it is not) and release gives it up.
func NewLocalLease(jobID int64, held func() bool, release func()) *JobLease {
	return &JobLease{JobID: jobID, held: held, release: release}
}

// TryLeaseJob takes the job's lease, or returns nil when another instance holds it.
func (s *Store) TryLeaseJob(ctx context.Context, jobID int64) (*JobLease, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lease job %d: %w", jobID, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, jobLeaseClass, int32(jobID)).Scan(&ok); err != nil {
		conn.Close()
		return nil, fmt.Errorf("lease job %d: %w", jobID, err)
	}
	if !ok {
		conn.Close()
		return nil, nil
	}
	return &JobLease{conn: conn, JobID: jobID}, nil
}

// Check reports an error when the lease's connection is gone (the lock with it).
func (l *JobLease) Check(ctx context.Context) error {
	if l.conn == nil {
		if l.held != nil && !l.held() {
			return fmt.Errorf("lease of job %d lost", l.JobID)
		}
		return nil
	}
	var held bool
	err := l.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
		AND classid = $1 AND objid = $2 AND pid = pg_backend_pid() AND granted)`, jobLeaseClass, int32(l.JobID)).Scan(&held)
	if err != nil {
		return fmt.Errorf("check lease of job %d: %w", l.JobID, err)
	}
	if !held {
		return fmt.Errorf("lease of job %d lost", l.JobID)
	}
	return nil
}

// Release gives the job up.
func (l *JobLease) Release() {
	if l.conn == nil {
		if l.release != nil {
			l.release()
		}
		return
	}
	_, _ = l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1, $2)`, jobLeaseClass, int32(l.JobID))
	_ = l.conn.Close()
}
