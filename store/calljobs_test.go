package store_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// jobFixture is a batch with a dial group, an imported list of n contacts assigned to it.
type jobFixture struct {
	s     *store.Store
	batch store.Batch
	list  store.CustomerList
	now   time.Time
}

func newJobFixture(t *testing.T, n int) jobFixture {
	t.Helper()
	s := storetest.New(t)
	now := at("2022-08-01 10:00")
	b := newBatch(t, s, now, "2022-08-01")
	ctx := context.Background()
	if _, err := s.SetBatchDialGroups(ctx, b.ID, []int{1}, now); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("name,kana,tel,remarks\n")
	for i := range n {
		prefix := "090"
		if i%2 == 1 {
			prefix = "031"
		}
		fmt.Fprintf(&csv, "顧客%d,コキャク,%s%08d,\n", i, prefix, i)
	}
	list, err := s.ImportCSV(ctx, store.ImportInput{BatchID: b.ID, Name: "list", Encoding: listimport.UTF8, CreatedBy: "admin",
		MaxRows: 100000, MaxListsPerBatch: 10}, strings.NewReader(csv.String()), io.Discard, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAssignment(ctx, store.NewAssignment{BatchID: b.ID, ListID: list.ID, DialGroupID: 1, Count: n, CreatedBy: "admin"}, now); err != nil {
		t.Fatal(err)
	}
	return jobFixture{s: s, batch: b, list: list, now: now}
}

func (f jobFixture) job(t *testing.T, filter store.JobFilter) store.CallJob {
	t.Helper()
	j, err := f.s.CreateCallJob(context.Background(), store.NewCallJob{BatchID: f.batch.ID, Name: "job", ListID: f.list.ID,
		DialGroupID: 1, CallerID: "0312345678", Filter: filter, CreatedBy: "admin", MaxCallJobs: 10}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func rules() store.StartRules {
	return store.StartRules{Location: tokyo, BusinessStart: 9 * 60, BusinessEnd: 18 * 60, HasResultCodes: true,
		MaxRunningJobs: 5, StartedBy: "admin", EarlyStartAhead: time.Hour}
}

var uuidN int

func seqUUID() string {
	uuidN++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", uuidN)
}

// J-5: every refusal names its reason; J-3 target fixed at start; J-2 filter by phone type.
func TestStartCallJobRefusals(t *testing.T) {
	f := newJobFixture(t, 10)
	ctx := context.Background()
	j := f.job(t, store.JobFilter{PhoneType: "mobile"})
	r := rules()
	_, err := f.s.StartCallJob(ctx, j.ID, r, at("2022-08-01 07:59"))
	wantRule(t, err, "outside_business_hours", true)
	_, err = f.s.StartCallJob(ctx, j.ID, r, at("2022-08-01 18:00"))
	wantRule(t, err, "outside_business_hours", true)
	_, err = f.s.StartCallJob(ctx, j.ID, r, at("2022-07-31 10:00"))
	wantRule(t, err, "outside_batch_period", true)
	noCodes := r
	noCodes.HasResultCodes = false
	_, err = f.s.StartCallJob(ctx, j.ID, noCodes, f.now)
	wantRule(t, err, "campaign_has_no_result_codes", true)
	limit := r
	limit.MaxRunningJobs = 0
	_, err = f.s.StartCallJob(ctx, j.ID, limit, f.now)
	wantRule(t, err, "running_job_limit_reached", true)

	started, err := f.s.StartCallJob(ctx, j.ID, r, at("2022-08-01 08:00")) // one hour early is allowed
	if err != nil {
		t.Fatal(err)
	}
	if started.Status != "running" || started.TargetCount != 5 || started.RemainingCount != 5 || started.AssignedCount != 10 {
		t.Fatalf("started job %+v", started)
	}
	_, err = f.s.StartCallJob(ctx, j.ID, r, f.now)
	wantRule(t, err, "call_job_running", true)
	_, err = f.s.UpdateCallJob(ctx, j.ID, store.CallJobPatch{Memo: ptr("x")}, f.now)
	wantRule(t, err, "call_job_running", true)
	wantRule(t, f.s.DeleteCallJob(ctx, j.ID), "call_job_running", true)
	if _, err := f.s.StopCallJob(ctx, j.ID, "admin", f.now); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// J-4/P-5: two claimers on two jobs over the same list never hold one contact at once; every
// contact is claimed exactly once per run; the attempt row exists before the dial.
func TestClaimContactsNeverTwice(t *testing.T) {
	f := newJobFixture(t, 200)
	ctx := context.Background()
	var jobs []store.CallJob
	for range 2 {
		j := f.job(t, store.JobFilter{})
		j, err := f.s.StartCallJob(ctx, j.ID, rules(), f.now)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := jobs[w%2]
			for {
				mu.Lock()
				newUUID := seqUUID
				mu.Unlock()
				got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 7, Instance: "i", Node: "fs1",
					NewUUID: func() string { mu.Lock(); defer mu.Unlock(); return newUUID() }}, f.now)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, g := range got {
					seen[g.ContactID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Fatalf("%d contacts claimed, want 200", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("contact %d claimed %d times", id, n)
		}
	}
	if n := storetest.Count(t, f.s, "attempts", "outcome = 'in_progress'"); n != 200 {
		t.Fatalf("%d attempt rows", n)
	}
}

// P-3 retry rules, D-2 next actions, D-3 unsaved dispositions blocking J-5, and callbacks
// served before fresh contacts.
func TestFinishAttemptRetriesAndDispositions(t *testing.T) {
	f := newJobFixture(t, 4)
	ctx := context.Background()
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	claim := func(now time.Time, n int) []store.DialTarget {
		t.Helper()
		got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: n, NewUUID: seqUUID}, now)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	retry := []store.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer, domain.OutcomeBusy}, After: 30 * time.Minute, MaxAttempts: 2}}
	finish := func(d store.DialTarget, outcome domain.Outcome, end time.Time) {
		t.Helper()
		answered := end.Add(-time.Minute)
		ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: d.ChannelUUID, Outcome: outcome, EndedAt: end,
			AnsweredAt: &answered, BridgedAt: &answered, DispositionGrace: 10 * time.Minute, Retry: retry, AgentID: ptr(1001)})
		if err != nil || !ok {
			t.Fatalf("finish %s: %v %v", outcome, ok, err)
		}
	}
	all := claim(f.now, 10)
	if len(all) != 4 {
		t.Fatalf("claimed %d", len(all))
	}
	finish(all[0], "no_answer", f.now)
	finish(all[1], "invalid_number", f.now)
	finish(all[2], "connected", f.now)
	finish(all[3], "connected", f.now)
	if ok, _ := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: all[0].ChannelUUID, Outcome: "busy", EndedAt: f.now}); ok {
		t.Fatal("an attempt ended twice")
	}
	if got := claim(f.now.Add(29*time.Minute), 10); len(got) != 0 {
		t.Fatalf("dialed again before the retry wait: %+v", got)
	}
	again := claim(f.now.Add(30*time.Minute), 10)
	if len(again) != 1 || again[0].ContactID != all[0].ContactID {
		t.Fatalf("retry %+v", again)
	}
	finish(again[0], "no_answer", f.now.Add(31*time.Minute)) // second attempt: max reached → complete
	if got := claim(f.now.Add(3*time.Hour), 10); len(got) != 0 {
		t.Fatalf("exhausted or invalid contacts dialed again: %+v", got)
	}

	// D-3: after the grace period the connected calls without disposition block a start.
	if _, err := f.s.StopCallJob(ctx, j.ID, "admin", f.now); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.StartCallJob(ctx, j.ID, rules(), f.now.Add(11*time.Minute))
	wantRule(t, err, "batch_has_unsaved_dispositions", true)
	unsaved, total, err := f.s.UnsavedDispositions(ctx, store.UnsavedFilter{Query: "顧客 090"}, f.now.Add(11*time.Minute))
	if err != nil || total != 1 || len(unsaved) != 1 {
		t.Fatalf("AND search: %d %v %v", total, unsaved, err)
	}
	cb := f.now.Add(2 * time.Hour)
	bad := store.NewDisposition{AttemptID: all[2].AttemptID, Party: "self", ResultCode: "x", NextAction: "callback", SavedBy: "a", CallbackAt: ptr(f.now)}
	wantRule(t, f.s.SaveDisposition(ctx, bad, f.now.Add(11*time.Minute)), "callback_in_past", false)
	if err := f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: all[2].AttemptID, Party: "self", ResultCode: "x",
		NextAction: "callback", CallbackAt: &cb, SavedBy: "agent-1001"}, f.now.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: all[3].AttemptID, Party: "self", ResultCode: "x",
		NextAction: "complete", SavedBy: "agent-1001"}, f.now.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantRule(t, f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: all[3].AttemptID, Party: "self", ResultCode: "x",
		NextAction: "complete", SavedBy: "agent-1001"}, f.now.Add(11*time.Minute)), "disposition_exists", true)
	wantRule(t, f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: all[1].AttemptID, Party: "self", ResultCode: "x",
		NextAction: "complete", SavedBy: "agent-1001"}, f.now.Add(11*time.Minute)), "attempt_not_connected", true)

	j, err = f.s.StartCallJob(ctx, j.ID, rules(), f.now.Add(12*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got := claim(f.now.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("callback dialed before it is due: %+v", got)
	}
	due := claim(cb, 10)
	if len(due) != 1 || due[0].ContactID != all[2].ContactID || !due[0].Callback {
		t.Fatalf("due callback %+v", due)
	}
}

// P-2: live answers and abandons are counted per campaign in 15-minute buckets, once per attempt,
// and the count outlives the batch whose attempts made it (B-5).
func TestAnswerStatsOutliveTheBatch(t *testing.T) {
	f := newJobFixture(t, 4)
	ctx := context.Background()
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	all, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 4, NewUUID: seqUUID}, f.now)
	if err != nil || len(all) != 4 {
		t.Fatalf("claimed %d: %v", len(all), err)
	}
	end := func(d store.DialTarget, outcome domain.Outcome, answered time.Time) {
		t.Helper()
		e := store.AttemptEnd{ChannelUUID: d.ChannelUUID, Outcome: outcome, EndedAt: answered.Add(time.Minute)}
		if outcome != "busy" {
			e.AnsweredAt = &answered
		}
		if ok, err := f.s.FinishAttempt(ctx, e); err != nil || !ok {
			t.Fatalf("finish %s: %v %v", outcome, ok, err)
		}
	}
	end(all[0], "connected", f.now.Add(time.Minute))
	end(all[1], "abandoned", f.now.Add(14*time.Minute))
	end(all[2], "busy", f.now.Add(2*time.Minute))
	end(all[3], "abandoned", f.now.Add(15*time.Minute)) // the next bucket
	if ok, _ := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: all[1].ChannelUUID, Outcome: "abandoned", EndedAt: f.now}); ok {
		t.Fatal("an attempt ended twice")
	}
	want := []store.AnswerBucket{{Start: f.now, Live: 2, Abandoned: 1}, {Start: f.now.Add(15 * time.Minute), Live: 1, Abandoned: 1}}
	check := func(when string) {
		t.Helper()
		got, err := f.s.AnswerBuckets(ctx, f.batch.CampaignID, f.now.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: buckets %+v, want %+v", when, got, want)
		}
		for i := range got {
			if !got[i].Start.Equal(want[i].Start) || got[i].Live != want[i].Live || got[i].Abandoned != want[i].Abandoned {
				t.Fatalf("%s: buckets %+v, want %+v", when, got, want)
			}
		}
	}
	check("after the calls")
	if _, err := f.s.StopCallJob(ctx, j.ID, "admin", f.now); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: all[0].AttemptID, Party: "self", ResultCode: "x",
		NextAction: "complete", SavedBy: "agent-1001"}, f.now.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// P-4: pacing starts from the campaign's latest ended dials, oldest first, with wrap-up times.
	recent, err := f.s.RecentDials(ctx, f.batch.CampaignID, 3, f.now.Add(time.Hour))
	if err != nil || len(recent) != 3 {
		t.Fatalf("recent dials %+v %v", recent, err)
	}
	if recent[0].Outcome != "busy" || recent[1].Outcome != "abandoned" || recent[2].Outcome != "abandoned" || recent[0].AnsweredAt != nil {
		t.Fatalf("recent dials %+v", recent)
	}
	if all, _ := f.s.RecentDials(ctx, f.batch.CampaignID, 10, f.now.Add(time.Hour)); len(all) != 4 || all[0].Outcome != "connected" ||
		all[0].WrapUp == nil || *all[0].WrapUp != 18*time.Minute {
		t.Fatalf("recent dials with the connected one %+v", all)
	}
	if err := f.s.DeleteList(ctx, f.list.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.DeleteBatch(ctx, f.batch.ID, "admin", f.now.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("after the batch was deleted")
}
