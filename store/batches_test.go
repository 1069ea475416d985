package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

var tokyo = mustLoc("Asia/Tokyo")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

func newBatch(t *testing.T, s *store.Store, now time.Time, start string) store.Batch {
	t.Helper()
	b, err := s.CreateBatch(context.Background(), store.NewBatch{
		CampaignID: 1, Name: "August mailing", Location: tokyo, Start: store.MustDate(start),
		CreatedBy: "admin", RetentionDays: 180, MaxBatches: 100,
	}, now)
	if err != nil {
		t.Fatalf("create batch: %v", err)
	}
	return b
}

// deleteBatch deletes as admin, for wantRule.
func deleteBatch(ctx context.Context, s *store.Store, id int64, now time.Time) error {
	_, err := s.DeleteBatch(ctx, id, "admin", now)
	return err
}

func wantRule(t *testing.T, err error, code string, conflict bool) {
	t.Helper()
	var re *store.RuleError
	if !errors.As(err, &re) || re.Code != code || re.Conflict != conflict {
		t.Fatalf("got %v, want rule %s (conflict %v)", err, code, conflict)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	s := storetest.New(t)
	applied, err := store.Migrate(context.Background(), s.DB(), nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v, err %v; want nothing", applied, err)
	}
	st, err := store.MigrationStatus(context.Background(), s.DB())
	if err != nil || len(st) == 0 {
		t.Fatalf("status %v %v", st, err)
	}
	for _, m := range st {
		if !m.Applied {
			t.Errorf("migration %d not applied", m.Version)
		}
	}
}

func TestCreateBatchDerivesDates(t *testing.T) {
	s := storetest.New(t)
	b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
	if b.EndDate.String() != "2022-10-29" || b.DeleteDate.String() != "2023-01-27" || b.HistoryDeleteDate.String() != "2023-07-25" {
		t.Fatalf("dates %s %s %s", b.EndDate, b.DeleteDate, b.HistoryDeleteDate)
	}
	if b.TimeZone != "Asia/Tokyo" || len(b.DialGroupIDs) != 0 {
		t.Fatalf("batch %+v", b)
	}
}

func TestCreateBatchRefusesStartInThePast(t *testing.T) {
	s := storetest.New(t)
	// 2022-08-01 00:30 in Tokyo is still 07-31 in UTC: "today" is the campaign's.
	_, err := s.CreateBatch(context.Background(), store.NewBatch{CampaignID: 1, Name: "x", Location: tokyo,
		Start: store.MustDate("2022-07-31"), CreatedBy: "a", RetentionDays: 180, MaxBatches: 10}, at("2022-08-01 00:30"))
	wantRule(t, err, "batch_start_in_past", false)
}

// B-7: at the limit creation is refused.
func TestCreateBatchLimit(t *testing.T) {
	s := storetest.New(t)
	now := at("2022-07-20 10:00")
	nb := store.NewBatch{CampaignID: 1, Name: "x", Location: tokyo, Start: store.MustDate("2022-08-01"),
		CreatedBy: "a", RetentionDays: 180, MaxBatches: 2}
	for range 2 {
		if _, err := s.CreateBatch(context.Background(), nb, now); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.CreateBatch(context.Background(), nb, now)
	wantRule(t, err, "batch_limit_reached", true)
}

// B-3: once started, the start moves only to the first attempt day or earlier, the end only to
// the last attempt day or later.
func TestUpdateBatchAfterStart(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
	storetest.AddAttempt(t, s, b.ID, at("2022-08-15 00:30"), "no_answer") // 08-15 in Tokyo, still 08-14 in UTC
	now := at("2022-08-20 12:00")
	patch := func(start, end string) error {
		p := store.BatchPatch{RetentionDays: 180}
		if start != "" {
			d := store.MustDate(start)
			p.Start = &d
		}
		if end != "" {
			d := store.MustDate(end)
			p.End = &d
		}
		_, err := s.UpdateBatch(ctx, b.ID, p, now)
		return err
	}
	wantRule(t, patch("2022-08-16", ""), "batch_start_after_first_attempt", true)
	if err := patch("2022-08-15", ""); err != nil {
		t.Fatalf("start to 08-15: %v", err)
	}
	wantRule(t, patch("", "2022-08-14"), "batch_end_before_last_attempt", true)
	if err := patch("", "2022-08-15"); err != nil {
		t.Fatalf("end to 08-15: %v", err)
	}
	got, _ := s.GetBatch(ctx, b.ID)
	if got.StartDate.String() != "2022-08-15" || got.EndDate.String() != "2022-08-15" || got.DeleteDate.String() != "2022-11-13" {
		t.Fatalf("dates after patch: %s %s %s", got.StartDate, got.EndDate, got.DeleteDate)
	}
	// B-2 bounds still hold: start 08-15 allows an end up to 11-12.
	wantRule(t, patch("", "2022-11-13"), "batch_end_out_of_bounds", false)
}

func TestUpdateBatchBeforeStartIsFree(t *testing.T) {
	s := storetest.New(t)
	b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
	start, end := store.MustDate("2022-09-01"), store.MustDate("2022-09-30")
	got, err := s.UpdateBatch(context.Background(), b.ID, store.BatchPatch{Start: &start, End: &end, RetentionDays: 180}, at("2022-07-25 10:00"))
	if err != nil {
		t.Fatal(err)
	}
	if got.DeleteDate.String() != "2022-12-29" || got.HistoryDeleteDate.String() != "2023-06-26" {
		t.Fatalf("derived dates not recomputed: %s %s", got.DeleteDate, got.HistoryDeleteDate)
	}
	past := store.MustDate("2022-07-24")
	_, err = s.UpdateBatch(context.Background(), b.ID, store.BatchPatch{Start: &past, RetentionDays: 180}, at("2022-07-25 10:00"))
	wantRule(t, err, "batch_start_in_past", false)
}

// B-5: each refusal, then deletion once its cause is gone.
func TestDeleteBatchRefusals(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	now := at("2022-08-20 12:00")

	t.Run("lists and attempts", func(t *testing.T) {
		b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
		list := storetest.AddList(t, s, b.ID, "09011112222")
		storetest.AddAttempt(t, s, b.ID, at("2022-08-15 10:00"), "busy")
		wantRule(t, deleteBatch(ctx, s, b.ID, now), "batch_has_attempts", true)
		storetest.DeleteList(t, s, list)
		if _, err := s.DeleteBatch(ctx, b.ID, "admin", now); err != nil {
			t.Fatalf("delete after removing lists: %v", err)
		}
		if _, err := s.GetBatch(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("batch still there: %v", err)
		}
		if n := storetest.Count(t, s, "attempts", "batch_id = $1", b.ID); n != 0 {
			t.Fatalf("%d attempts left", n)
		}
	})
	t.Run("running job", func(t *testing.T) {
		b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
		job := storetest.AddCallJob(t, s, b.ID, storetest.AddList(t, s, b.ID, "09011112222"), "running")
		wantRule(t, deleteBatch(ctx, s, b.ID, now), "batch_job_running", true)
		storetest.SetCallJobStatus(t, s, job, "stopped")
		if _, err := s.DeleteBatch(ctx, b.ID, "admin", now); err != nil {
			t.Fatalf("delete after stopping the job: %v", err)
		}
	})
	t.Run("unsaved dispositions", func(t *testing.T) {
		b := newBatch(t, s, at("2022-07-20 10:00"), "2022-08-01")
		a := storetest.AddAttempt(t, s, b.ID, at("2022-08-15 10:00"), "connected")
		wantRule(t, deleteBatch(ctx, s, b.ID, now), "batch_has_unsaved_dispositions", true)
		storetest.AddDisposition(t, s, a)
		if _, err := s.DeleteBatch(ctx, b.ID, "admin", now); err != nil {
			t.Fatalf("delete after saving: %v", err)
		}
		recs, err := s.BatchDeletions(ctx, nil)
		if err != nil || len(recs) == 0 || recs[0].BatchID != b.ID || recs[0].Reason != "manual" || recs[0].AttemptCount != 1 {
			t.Fatalf("deletion record %+v %v", recs, err)
		}
	})
}
