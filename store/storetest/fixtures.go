package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
)

// The fixtures below write rows that later features (imports, the engine) will create through
// their own code paths; tests of the rules that depend on those rows use them until then.

// AddList inserts a customer list with one contact into the batch and returns the list id.
func AddList(t testing.TB, s *store.Store, batchID int64, tel string) int64 {
	t.Helper()
	var id int64
	err := s.DB().QueryRowContext(context.Background(), `INSERT INTO customer_lists
		(batch_id, name, row_count, encoding, created_by, created_at) VALUES ($1, 'fixture', 1, 'sjis', 'test', now())
		RETURNING id`, batchID).Scan(&id)
	if err != nil {
		t.Fatalf("storetest: add list: %v", err)
	}
	_, err = s.DB().ExecContext(context.Background(), `INSERT INTO contacts (batch_id, list_id, line, name, kana, tel, phone_type)
		VALUES ($1, $2, 2, '山田太郎', 'ヤマダタロウ', $3, 'mobile')`, batchID, id, tel)
	if err != nil {
		t.Fatalf("storetest: add contact: %v", err)
	}
	return id
}

// DeleteList removes a list and its contacts, as L-7 will.
func DeleteList(t testing.TB, s *store.Store, listID int64) {
	t.Helper()
	if _, err := s.DB().ExecContext(context.Background(), `DELETE FROM customer_lists WHERE id = $1`, listID); err != nil {
		t.Fatalf("storetest: delete list: %v", err)
	}
}

// AddAttempt inserts an attempt of the batch that started at startedAt with the outcome.
func AddAttempt(t testing.TB, s *store.Store, batchID int64, startedAt time.Time, outcome string) int64 {
	t.Helper()
	var id int64
	err := s.DB().QueryRowContext(context.Background(), `INSERT INTO attempts
		(batch_id, campaign_id, tel, channel_uuid, created_at, started_at, outcome)
		SELECT b.id, b.campaign_id, '09012345678', gen_random_uuid(), $2, $2, $3 FROM batches b WHERE b.id = $1
		RETURNING id`, batchID, startedAt, outcome).Scan(&id)
	if err != nil {
		t.Fatalf("storetest: add attempt: %v", err)
	}
	return id
}

// AddDisposition saves a disposition for the attempt.
func AddDisposition(t testing.TB, s *store.Store, attemptID int64) {
	t.Helper()
	_, err := s.DB().ExecContext(context.Background(), `INSERT INTO dispositions
		(attempt_id, party, result_code, next_action, saved_by, saved_at) VALUES ($1, 'self', 'interested', 'complete', 'test', now())`, attemptID)
	if err != nil {
		t.Fatalf("storetest: add disposition: %v", err)
	}
}

// AddCallJob inserts a call job of the batch on the list with the status (stopped | running).
func AddCallJob(t testing.TB, s *store.Store, batchID, listID int64, status string) int64 {
	t.Helper()
	var id int64
	err := s.DB().QueryRowContext(context.Background(), `INSERT INTO call_jobs
		(batch_id, name, list_id, dial_group_id, caller_id, status, created_by, created_at, updated_at)
		VALUES ($1, 'fixture job', $2, 1, '0312345678', $3, 'test', now(), now()) RETURNING id`, batchID, listID, status).Scan(&id)
	if err != nil {
		t.Fatalf("storetest: add call job: %v", err)
	}
	return id
}

// SetCallJobStatus changes a job's status.
func SetCallJobStatus(t testing.TB, s *store.Store, jobID int64, status string) {
	t.Helper()
	if _, err := s.DB().ExecContext(context.Background(), `UPDATE call_jobs SET status = $2 WHERE id = $1`, jobID, status); err != nil {
		t.Fatalf("storetest: set job status: %v", err)
	}
}

// Count runs SELECT count(*) FROM table WHERE where.
func Count(t testing.TB, s *store.Store, table, where string, args ...any) int {
	t.Helper()
	var n int
	q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, table, where)
	if err := s.DB().QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("storetest: count: %v", err)
	}
	return n
}

// AddJobAttempt inserts an attempt of the call job on a contact of the list.
func AddJobAttempt(t testing.TB, s *store.Store, jobID, listID int64, startedAt time.Time) int64 {
	t.Helper()
	var id int64
	err := s.DB().QueryRowContext(context.Background(), `INSERT INTO attempts
		(batch_id, campaign_id, list_id, contact_id, call_job_id, tel, channel_uuid, created_at, started_at, outcome)
		SELECT c.batch_id, b.campaign_id, c.list_id, c.id, $1, c.tel, gen_random_uuid(), $3, $3, 'no_answer'
		FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE c.list_id = $2 ORDER BY c.id LIMIT 1
		RETURNING id`, jobID, listID, startedAt).Scan(&id)
	if err != nil {
		t.Fatalf("storetest: add job attempt: %v", err)
	}
	return id
}
