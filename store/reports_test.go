package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// day is the calendar day d in the zone as a report range [midnight, next midnight).
func day(campaign int, zone, from, to string) store.ReportRange {
	loc := mustLoc(zone)
	f, _ := time.ParseInLocation("2006-01-02", from, loc)
	t, _ := time.ParseInLocation("2006-01-02", to, loc)
	return store.ReportRange{CampaignID: campaign, TimeZone: zone, From: f, To: t.AddDate(0, 0, 1)}
}

func summary(t *testing.T, s *store.Store, f store.ReportFilter) store.ReportSummary {
	t.Helper()
	f.SessionGap = time.Hour
	r, err := s.ReportSummary(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantCounts(t *testing.T, what string, got, want store.OutcomeCounts) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// S-4 over the fixture's 52 attempts; every expected number is worked out in
// storetest/reports.go.
func TestReportSummaryCounts(t *testing.T) {
	s := storetest.New(t)
	fx := storetest.AddReportFixture(t, s)
	tokyoDay := day(1, "Asia/Tokyo", "2026-03-10", "2026-03-10")
	utcDay := day(2, "UTC", "2026-03-10", "2026-03-10")

	c1 := store.OutcomeCounts{Dialed: 30, Connected: 8, Abandoned: 2, Machine: 3, NoAnswer: 7, Busy: 4, Rejected: 2,
		InvalidNumber: 1, NetworkFailure: 1, Cancelled: 1, InProgress: 1, NoDisposition: 1}
	r := summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{tokyoDay}})
	wantCounts(t, "campaign 1 on its Tokyo 2026-03-10", r.Totals, c1)
	if r.Totals.Answered() != 10 || *r.Totals.AbandonRate() != 0.2 {
		t.Errorf("answered %d, abandon rate %v; want 10, 0.2", r.Totals.Answered(), *r.Totals.AbandonRate())
	}

	// Each campaign on its own 2026-03-10.
	c2 := store.OutcomeCounts{Dialed: 12, Connected: 4, Abandoned: 1, Machine: 1, NoAnswer: 4, Busy: 2}
	r = summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{tokyoDay, utcDay}})
	wantCounts(t, "both campaigns", r.Totals, store.OutcomeCounts{Dialed: 42, Connected: 12, Abandoned: 3, Machine: 4,
		NoAnswer: 11, Busy: 6, Rejected: 2, InvalidNumber: 1, NetworkFailure: 1, Cancelled: 1, InProgress: 1, NoDisposition: 1})
	if *r.Totals.AbandonRate() != 0.2 {
		t.Errorf("abandon rate %v, want 3/15", *r.Totals.AbandonRate())
	}
	if len(r.ByCampaign) != 2 || r.ByCampaign[0].CampaignID != 1 || r.ByCampaign[1].CampaignID != 2 {
		t.Fatalf("by campaign: %+v", r.ByCampaign)
	}
	wantCounts(t, "by campaign 1", r.ByCampaign[0].OutcomeCounts, c1)
	wantCounts(t, "by campaign 2", r.ByCampaign[1].OutcomeCounts, c2)

	// Campaign 1 over the UTC day instead of its own: X1, X2 and 6 others of Tokyo's 03-10
	// started on UTC's 03-09; Tokyo's 03-11 abandoned, Y4 and no_answer fall in.
	r = summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{{CampaignID: 1, TimeZone: "UTC",
		From: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)}}})
	wantCounts(t, "campaign 1 on the UTC day", r.Totals, store.OutcomeCounts{Dialed: 25, Connected: 7, Abandoned: 2,
		Machine: 2, NoAnswer: 6, Busy: 3, Rejected: 2, NetworkFailure: 1, Cancelled: 1, InProgress: 1, NoDisposition: 1})

	// Filters: the job, the batch, an agent; a range with no attempts.
	r = summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{tokyoDay, utcDay}, CallJobID: fx.Job2})
	wantCounts(t, "job 2", r.Totals, c2)
	r = summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{tokyoDay, utcDay}, BatchID: fx.Batch1})
	wantCounts(t, "batch 1", r.Totals, c1)
	agent := 1001
	r = summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{tokyoDay, utcDay}, AgentID: &agent})
	wantCounts(t, "agent 1001", r.Totals, store.OutcomeCounts{Dialed: 5, Connected: 5, NoDisposition: 1})
	r = summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{day(1, "Asia/Tokyo", "2026-04-01", "2026-04-02")}})
	wantCounts(t, "empty", r.Totals, store.OutcomeCounts{})
	if r.Totals.AbandonRate() != nil || len(r.ByDay) != 0 || len(r.Agents) != 0 || len(r.ResultCodes) != 0 {
		t.Errorf("empty report: %+v", r)
	}
	r = summary(t, s, store.ReportFilter{})
	wantCounts(t, "no campaign", r.Totals, store.OutcomeCounts{})
}

func TestReportSummaryByDay(t *testing.T) {
	s := storetest.New(t)
	storetest.AddReportFixture(t, s)
	r := summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{
		day(1, "Asia/Tokyo", "2026-03-09", "2026-03-11"), day(2, "UTC", "2026-03-09", "2026-03-11")}})
	type dayCount struct {
		campaign    int
		day         string
		dialed, con int
	}
	var got []dayCount
	for _, d := range r.ByDay {
		got = append(got, dayCount{d.CampaignID, d.Day.String(), d.Dialed, d.Connected})
	}
	want := []dayCount{
		{1, "2026-03-09", 3, 1}, {1, "2026-03-10", 30, 8}, {1, "2026-03-11", 3, 1},
		{2, "2026-03-09", 2, 1}, {2, "2026-03-10", 12, 4}, {2, "2026-03-11", 2, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("by day:\n got %v\nwant %v", got, want)
	}
	if r.Totals.Dialed != 52 {
		t.Fatalf("three days of both campaigns: %d attempts, want all 52", r.Totals.Dialed)
	}
}

func TestReportSummaryResultCodesAndAgents(t *testing.T) {
	s := storetest.New(t)
	storetest.AddReportFixture(t, s)
	r := summary(t, s, store.ReportFilter{Ranges: []store.ReportRange{
		day(1, "Asia/Tokyo", "2026-03-10", "2026-03-10"), day(2, "UTC", "2026-03-10", "2026-03-10")}})
	wantCodes := []store.ResultCodeCount{
		{CampaignID: 1, Code: "interested", Count: 3}, {CampaignID: 1, Code: "not_interested", Count: 2},
		{CampaignID: 1, Code: "call_back_later", Count: 1}, {CampaignID: 1, Code: "do_not_call", Count: 1},
		{CampaignID: 2, Code: "completed", Count: 2}, {CampaignID: 2, Code: "call_back_later", Count: 1},
		{CampaignID: 2, Code: "refused", Count: 1},
	}
	if !reflect.DeepEqual(r.ResultCodes, wantCodes) {
		t.Errorf("result codes:\n got %+v\nwant %+v", r.ResultCodes, wantCodes)
	}
	wantAgents := []store.AgentTimes{
		{AgentID: 1001, Calls: 5, TalkSeconds: 540, TalkCount: 5, WaitSeconds: 695, WaitCount: 4, WrapSeconds: 90, WrapCount: 3},
		{AgentID: 1002, Calls: 3, TalkSeconds: 420, TalkCount: 3, WaitSeconds: 40, WaitCount: 1, WrapSeconds: 65, WrapCount: 3},
		{AgentID: 1003, Calls: 4, TalkSeconds: 240, TalkCount: 4, WaitSeconds: 90, WaitCount: 2, WrapSeconds: 120, WrapCount: 4},
	}
	if !reflect.DeepEqual(r.Agents, wantAgents) {
		t.Errorf("agents:\n got %+v\nwant %+v", r.Agents, wantAgents)
	}
	if a := store.Average(695, 4); a == nil || *a != 173.8 {
		t.Errorf("average wait of 1001: %v", a)
	}

	// A gap limit of 45 s drops the 565 s and 60 s waits of agent 1001 (X4, X5).
	agent := 1001
	r, err := s.ReportSummary(context.Background(), store.ReportFilter{AgentID: &agent, SessionGap: 45 * time.Second,
		Ranges: []store.ReportRange{day(1, "Asia/Tokyo", "2026-03-10", "2026-03-10")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Agents) != 1 || r.Agents[0].WaitSeconds != 70 || r.Agents[0].WaitCount != 2 {
		t.Errorf("agent 1001 with a 45 s gap: %+v", r.Agents)
	}
}

func TestReportResults(t *testing.T) {
	s := storetest.New(t)
	fx := storetest.AddReportFixture(t, s)
	var rows []store.ResultRow
	err := s.ReportResults(context.Background(), store.ReportFilter{Ranges: []store.ReportRange{
		day(1, "Asia/Tokyo", "2026-03-10", "2026-03-10")}}, func(r store.ResultRow) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 30 {
		t.Fatalf("%d rows, want 30", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].StartedAt.Before(rows[i-1].StartedAt) {
			t.Fatalf("rows not in start order at %d", i)
		}
	}
	first := rows[0]
	if first.AttemptID != fx.Attempts["X1"] || first.TimeZone != "Asia/Tokyo" || first.Name == nil || *first.Name != "=cmd|' /C calc'!A0" ||
		first.ResultCode == nil || *first.ResultCode != "interested" || first.Memo == nil || *first.Memo != "=1+2" ||
		first.CallJobID == nil || *first.CallJobID != fx.Job1 || first.BatchID != fx.Batch1 || first.BatchName != "March Asia/Tokyo" {
		t.Fatalf("first row: %+v", first)
	}
	if got := first.StartedAt.In(mustLoc("Asia/Tokyo")).Format("2006-01-02 15:04:05"); got != "2026-03-10 00:00:00" {
		t.Fatalf("first row starts %s Tokyo time", got)
	}
}
