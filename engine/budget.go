package engine

import (
	"context"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// complianceSpan is how far back a campaign's compliance record is read: its 30-day window and
// a day to spare.
const complianceSpan = 31 * 24 * time.Hour

// PacingSettings are the settings the pacer holds camp to (P-1, P-2, P-4): its pacing section
// and, when it classifies answers, the estimated share of persons taken for machines.
func PacingSettings(camp *config.Campaign) pacing.Settings {
	mode, err := pacing.ParseMode(camp.Pacing.Mode)
	if err != nil {
		mode = pacing.Predictive
	}
	s := pacing.Settings{Mode: mode, Ratio: camp.Pacing.MaxRatio, MaxCallsPerAgent: camp.Pacing.MaxRatio,
		TargetAbandonRate: camp.Pacing.TargetAbandonRate, ConnectDeadline: camp.Pacing.ConnectDeadline}
	if camp.AnswerAnalysis.Enabled() {
		// Persons hung up as machines are abandons the engine cannot see (P-2).
		s.FalsePositiveRate = camp.AnswerAnalysis.FalsePositiveEstimate
	}
	return s
}

// AnswerRecord is where a campaign's compliance record is kept (store.Store: PostgreSQL, which
// every instance writes its answers and abandons to).
type AnswerRecord interface {
	AnswerBuckets(ctx context.Context, campaign int, since time.Time) ([]store.AnswerBucket, error)
}

// AbandonBudget reads camp's compliance record and returns the abandon budget it leaves at now
// under the campaign's settings (P-2). Every instance answers alike, whichever runs the
// campaign's jobs: the record holds the calls that have ended. (The pacer of an instance running
// the campaign also counts its own live answers still in progress.)
func AbandonBudget(ctx context.Context, rec AnswerRecord, camp *config.Campaign, now time.Time) (pacing.AbandonBudget, error) {
	buckets, err := rec.AnswerBuckets(ctx, camp.ID, now.Add(-complianceSpan))
	if err != nil {
		return pacing.AbandonBudget{}, err
	}
	est := pacing.NewEstimator(locationOf(camp))
	est.ReplaceCounts(answerCounts(buckets))
	return PacingSettings(camp).AbandonBudget(est.Compliance(now)), nil
}

// answerCounts is the compliance record as the estimator takes it.
func answerCounts(buckets []store.AnswerBucket) []pacing.Count {
	counts := make([]pacing.Count, 0, len(buckets))
	for _, b := range buckets {
		counts = append(counts, pacing.Count{At: b.Start, Live: b.Live, Abandoned: b.Abandoned})
	}
	return counts
}
