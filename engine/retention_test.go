package engine_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kakeru-dialer/kakeru/engine"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// B-6 through the sweeper as serve runs it: a due batch goes at Start, and Stop waits for the
// loop (goleak checks nothing is left running).
func TestRetentionSweeperDeletesDueBatch(t *testing.T) {
	s := storetest.New(t)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	created := time.Date(2022, 7, 20, 10, 0, 0, 0, tokyo)
	b, err := s.CreateBatch(context.Background(), store.NewBatch{CampaignID: 1, Name: "old", Location: tokyo,
		Start: store.MustDate("2022-08-01"), CreatedBy: "admin", RetentionDays: 91, MaxBatches: 10}, created)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2022, 10, 30, 0, 0, 0, 0, tokyo) // the deletion date of R = 91
	sw := engine.NewRetentionSweeper(s, slog.New(slog.DiscardHandler), func() time.Time { return now }, time.Hour)
	res := sw.SweepOnce(context.Background())
	if len(res.Deleted) != 1 || res.Deleted[0] != b.ID {
		t.Fatalf("sweep %+v", res)
	}
	sw.Start(context.Background())
	sw.Start(context.Background()) // a second Start is a no-op
	sw.Stop()
	sw.Stop()
}
