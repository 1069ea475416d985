package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kakeru-dialer/kakeru/domain"
)

// AnswerBucket counts a campaign's live answers and abandons in one 15-minute bucket (P-2).
type AnswerBucket struct {
	Start     time.Time `db:"bucket"`
	Live      int       `db:"live"`
	Abandoned int       `db:"abandoned"`
}

// AnswerBucketSize is the width of an AnswerBucket.
const AnswerBucketSize = 15 * time.Minute

// addAnswer counts one live answer, abandoned or not, in the campaign's bucket of at.
func addAnswer(ctx context.Context, tx *sqlx.Tx, campaign int, at time.Time, abandoned bool) error {
	ab := 0
	if abandoned {
		ab = 1
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO answer_stats (campaign_id, bucket, live, abandoned)
		VALUES ($1, date_bin('15 minutes', $2::timestamptz, TIMESTAMPTZ '2000-01-01 00:00:00+00'), 1, $3)
		ON CONFLICT (campaign_id, bucket) DO UPDATE SET live = answer_stats.live + 1, abandoned = answer_stats.abandoned + $3`,
		campaign, at, ab)
	if err != nil {
		return fmt.Errorf("count answer of campaign %d: %w", campaign, err)
	}
	return nil
}

// AnswerBuckets returns a campaign's buckets that start at or after since, oldest first: the
// compliance record the pacer starts from (P-2).
func (s *Store) AnswerBuckets(ctx context.Context, campaign int, since time.Time) ([]AnswerBucket, error) {
	var out []AnswerBucket
	if err := s.db.SelectContext(ctx, &out, `SELECT bucket, live, abandoned FROM answer_stats
		WHERE campaign_id = $1 AND bucket >= $2 ORDER BY bucket`, campaign, since); err != nil {
		return nil, fmt.Errorf("read answer stats of campaign %d: %w", campaign, err)
	}
	return out, nil
}

// EndedDial is one ended attempt as pacing learns from it (P-4).
type EndedDial struct {
	Outcome    domain.Outcome
	StartedAt  time.Time
	AnsweredAt *time.Time
	BridgedAt  *time.Time
	EndedAt    time.Time
	// WrapUp is how long the agent took to save the disposition after the call ended.
	WrapUp *time.Duration
	// AMDResult and Classify are the answer's verdict and how long it took, when the campaign
	// classified it ("" and 0 otherwise).
	AMDResult string
	Classify  time.Duration
}

// RecentDials returns the campaign's latest n ended attempts before now, oldest first, so an
// engine that starts (or takes a campaign over) paces on what the campaign has shown lately
// instead of starting cold.
func (s *Store) RecentDials(ctx context.Context, campaign, n int, now time.Time) ([]EndedDial, error) {
	rows, err := s.db.QueryxContext(ctx, `SELECT * FROM (
		SELECT a.outcome, a.started_at, a.answered_at, a.bridged_at, a.ended_at,
			(extract(epoch FROM d.saved_at - a.ended_at) * 1000)::bigint AS wrap_ms,
			COALESCE(a.amd_result, '') AS amd_result, COALESCE(a.amd_ms, 0) AS amd_ms
		FROM attempts a LEFT JOIN dispositions d ON d.attempt_id = a.id
		WHERE a.campaign_id = $1 AND a.ended_at IS NOT NULL AND a.ended_at <= $3 AND a.outcome <> 'skipped'
		ORDER BY a.ended_at DESC LIMIT $2) x ORDER BY ended_at`, campaign, n, now)
	if err != nil {
		return nil, fmt.Errorf("read recent dials of campaign %d: %w", campaign, err)
	}
	defer rows.Close()
	var out []EndedDial
	for rows.Next() {
		var d EndedDial
		var wrap *int64
		var amdMS int64
		if err := rows.Scan(&d.Outcome, &d.StartedAt, &d.AnsweredAt, &d.BridgedAt, &d.EndedAt, &wrap, &d.AMDResult, &amdMS); err != nil {
			return nil, fmt.Errorf("read recent dials of campaign %d: %w", campaign, err)
		}
		d.Classify = time.Duration(amdMS) * time.Millisecond
		if wrap != nil && *wrap >= 0 {
			w := time.Duration(*wrap) * time.Millisecond
			d.WrapUp = &w
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent dials of campaign %d: %w", campaign, err)
	}
	return out, nil
}
