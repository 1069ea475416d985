package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
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
