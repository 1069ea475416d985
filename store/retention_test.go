package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// B-6: two instances sweep at the same moment; every expired batch is deleted exactly once, the
// record stays until the history-deletion date and is then purged.
func TestSweepRetentionTwoInstances(t *testing.T) {
	dsn := storetest.DSN(t)
	ctx := context.Background()
	var instances [2]*store.Store
	for i := range instances {
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		instances[i] = s
	}
	s := instances[0]
	var expired []int64
	for range 20 {
		b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01") // delete date 2023-01-27
		storetest.AddList(t, s, b.ID, "09011112222")
		storetest.AddAttempt(t, s, b.ID, at("2022-08-15 10:00"), "no_answer")
		expired = append(expired, b.ID)
	}
	keep := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-02") // delete date 2023-01-28

	sweepBoth := func(now string) [2]store.SweepResult {
		var res [2]store.SweepResult
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, inst := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := inst.SweepRetention(ctx, at(now))
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
				}
				res[i] = r
			}()
		}
		close(start)
		wg.Wait()
		return res
	}

	// The day before the deletion date nothing happens.
	res := sweepBoth("2023-01-26 23:59")
	if len(res[0].Deleted)+len(res[1].Deleted) != 0 {
		t.Fatalf("swept too early: %+v", res)
	}
	res = sweepBoth("2023-01-27 00:00")
	seen := map[int64]int{}
	for _, r := range res {
		for _, id := range r.Deleted {
			seen[id]++
		}
	}
	for _, id := range expired {
		if seen[id] != 1 {
			t.Errorf("batch %d deleted %d times", id, seen[id])
		}
	}
	if len(seen) != len(expired) {
		t.Errorf("deleted %d batches, want %d", len(seen), len(expired))
	}
	if _, err := s.GetBatch(ctx, keep.ID); err != nil {
		t.Fatalf("batch not yet due was deleted: %v", err)
	}
	if n := storetest.Count(t, s, "batch_deletions", "reason = 'retention'"); n != len(expired) {
		t.Fatalf("%d deletion records, want %d", n, len(expired))
	}
	if n := storetest.Count(t, s, "contacts", "TRUE"); n != 0 {
		t.Fatalf("%d contacts left", n)
	}
	// A second sweep finds nothing.
	if res = sweepBoth("2023-01-27 12:00"); len(res[0].Deleted)+len(res[1].Deleted) != 0 {
		t.Fatalf("second sweep deleted again: %+v", res)
	}
	// History deletion 2023-07-25: kept the day before, purged on the day.
	sweepBoth("2023-07-24 23:59")
	if n := storetest.Count(t, s, "batch_deletions", "batch_id = ANY($1)", pqArray(expired)); n != len(expired) {
		t.Fatalf("records purged too early: %d left", n)
	}
	res = sweepBoth("2023-07-25 00:00")
	if n := storetest.Count(t, s, "batch_deletions", "batch_id = ANY($1)", pqArray(expired)); n != 0 {
		t.Fatalf("%d records left after the history-deletion date", n)
	}
	if res[0].PurgedRecords+res[1].PurgedRecords < len(expired) {
		t.Fatalf("purge counts %+v", res)
	}
}

func TestSweepRetentionSkipsRunningJob(t *testing.T) {
	s := storetest.New(t)
	b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
	storetest.AddCallJob(t, s, b.ID, storetest.AddList(t, s, b.ID, "09011112222"), "running")
	res, err := s.SweepRetention(context.Background(), at("2023-02-01 00:00"))
	if err != nil || len(res.Deleted) != 0 || len(res.Skipped) != 1 {
		t.Fatalf("got %+v %v; want the batch skipped", res, err)
	}
}
