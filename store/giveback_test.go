package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// Issue 11 item 5: an attempt that failed because of us is given back. The contact is as it was
// before the claim (a fresh one, a retried one, a callback with its callback row), the attempt
// row is gone (no retry, dial limit, job target, report or abandon statistic sees it), the
// contact can be claimed again at once, and nothing is half-written when the transaction fails.
// Answered, finished, unknown attempts and claims no longer the job run's are not given back.
func TestGiveBackAttempt(t *testing.T) {
	f := newJobFixture(t, 4)
	ctx := context.Background()
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	db := f.s.DB()
	// The whole contact row as text: every column, compared exactly.
	contact := func(id int64) string {
		t.Helper()
		var s string
		if err := db.QueryRow(`SELECT c::text FROM contacts c WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	callback := func(contactID int64) string {
		t.Helper()
		var s string
		if err := db.QueryRow(`SELECT row(id, batch_id, contact_id, attempt_id, agent_id, due_at, status, created_at)::text
			FROM callbacks WHERE contact_id = $1`, contactID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	attempts := func(contactID int64) int { return storetest.Count(t, f.s, "attempts", "contact_id = $1", contactID) }
	claim := func(now time.Time, n int) []store.DialTarget {
		t.Helper()
		got, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: j.ID, Run: j.Run, N: n, Instance: "i", Node: "fs1", NewUUID: seqUUID}, now)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	giveBack := func(d store.DialTarget, want bool) {
		t.Helper()
		got, err := f.s.GiveBackAttempt(ctx, d.ChannelUUID, f.now)
		if err != nil || got != want {
			t.Fatalf("give back attempt %d: %v, %v; want %v", d.AttemptID, got, err, want)
		}
	}
	retry := []store.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer}, After: 30 * time.Minute, MaxAttempts: 3}}

	var first int64
	if err := db.QueryRow(`SELECT min(id) FROM contacts WHERE list_id = $1`, f.list.ID).Scan(&first); err != nil {
		t.Fatal(err)
	}
	asImported := contact(first)
	all := claim(f.now, 10)
	if len(all) != 4 || all[0].ContactID != first {
		t.Fatalf("claimed %+v", all)
	}

	// A fresh contact: back as imported, dialable again in this run, out of the job's count.
	giveBack(all[0], true)
	if got := contact(first); got != asImported {
		t.Fatalf("fresh contact after the give-back:\n got %s\nwant %s", got, asImported)
	}
	if n := attempts(all[0].ContactID); n != 0 {
		t.Fatalf("%d attempt rows left", n)
	}
	if got, err := f.s.GetCallJob(ctx, j.ID); err != nil || got.RemainingCount != got.TargetCount-3 {
		t.Fatalf("job counts the given-back attempt: remaining %d of %d (%v)", got.RemainingCount, got.TargetCount, err)
	}
	again := claim(f.now, 10)
	if len(again) != 1 || again[0].ContactID != all[0].ContactID {
		t.Fatalf("the given-back contact is not dialable again: %+v", again)
	}

	// A retried contact: its next and last attempt times and count come back.
	if ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: all[1].ChannelUUID, Outcome: "no_answer",
		HangupCause: "NO_ANSWER", EndedAt: f.now.Add(time.Minute), Retry: retry}); err != nil || !ok {
		t.Fatalf("finish: %v %v", ok, err)
	}
	retried := contact(all[1].ContactID)
	second := claim(f.now.Add(31*time.Minute), 10)
	if len(second) != 1 || second[0].ContactID != all[1].ContactID {
		t.Fatalf("retry %+v", second)
	}
	giveBack(second[0], true)
	if got := contact(all[1].ContactID); got != retried {
		t.Fatalf("retried contact after the give-back:\n got %s\nwant %s", got, retried)
	}
	if n := attempts(all[1].ContactID); n != 1 {
		t.Fatalf("%d attempt rows, want the first one only", n)
	}

	// A callback: the callback row is scheduled again with the attempt that scheduled it.
	answered := f.now.Add(time.Minute)
	if ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: all[2].ChannelUUID, Outcome: "connected",
		AnsweredAt: &answered, BridgedAt: &answered, EndedAt: f.now.Add(2 * time.Minute), AgentID: ptr(1001),
		DispositionGrace: 10 * time.Minute}); err != nil || !ok {
		t.Fatalf("finish connected: %v %v", ok, err)
	}
	cb := f.now.Add(2 * time.Hour)
	if err := f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: all[2].AttemptID, Party: "self", ResultCode: "x",
		NextAction: "callback", CallbackAt: &cb, SavedBy: "agent-1001"}, f.now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	scheduled, waiting := callback(all[2].ContactID), contact(all[2].ContactID)
	buckets, err := f.s.AnswerBuckets(ctx, f.batch.CampaignID, f.now.Add(-time.Hour))
	if err != nil || len(buckets) != 1 || buckets[0].Live != 1 {
		t.Fatalf("answer stats %+v %v", buckets, err)
	}
	due := claim(cb, 1)
	if len(due) != 1 || due[0].ContactID != all[2].ContactID || !due[0].Callback {
		t.Fatalf("due callback %+v", due)
	}
	giveBack(due[0], true)
	if got := callback(all[2].ContactID); got != scheduled {
		t.Fatalf("callback after the give-back:\n got %s\nwant %s", got, scheduled)
	}
	if got := contact(all[2].ContactID); got != waiting {
		t.Fatalf("callback contact after the give-back:\n got %s\nwant %s", got, waiting)
	}
	if got, _ := f.s.AnswerBuckets(ctx, f.batch.CampaignID, f.now.Add(-time.Hour)); len(got) != 1 || got[0] != buckets[0] {
		t.Fatalf("answer stats changed: %+v", got)
	}
	if due := claim(cb, 1); len(due) != 1 || due[0].ContactID != all[2].ContactID || !due[0].Callback {
		t.Fatalf("the given-back callback is not due again: %+v", due)
	}

	// Reports see the attempts that remain, nothing of those given back.
	r := summary(t, f.s, store.ReportFilter{Ranges: []store.ReportRange{day(f.batch.CampaignID, "Asia/Tokyo", "2022-08-01", "2022-08-01")}})
	if r.Totals.Dialed != storetest.Count(t, f.s, "attempts", "true") || r.Totals.Dialed != 5 || r.Totals.NoAnswer != 1 ||
		r.Totals.Connected != 1 || r.Totals.NetworkFailure != 0 {
		t.Fatalf("report totals %+v", r.Totals)
	}

	// Not given back: answered, finished, unknown, or no longer this run's claim.
	if err := f.s.MarkAnswered(ctx, all[3].ChannelUUID, f.now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	giveBack(all[3], false)
	giveBack(all[1], false)
	giveBack(store.DialTarget{ChannelUUID: "00000000-0000-4000-8000-999999999999"}, false)
	claimedAgain := contact(all[0].ContactID)
	if _, err := db.Exec(`UPDATE contacts SET claim_token = claim_token + 100 WHERE id = $1`, all[0].ContactID); err != nil {
		t.Fatal(err)
	}
	giveBack(again[0], false)
	if n := attempts(all[0].ContactID); n != 1 {
		t.Fatalf("an attempt whose claim is another run's was deleted (%d rows)", n)
	}
	if _, err := db.Exec(`UPDATE contacts SET claim_token = claim_token - 100 WHERE id = $1`, all[0].ContactID); err != nil {
		t.Fatal(err)
	}

	// All or nothing: a failure at the last step leaves the claim and the attempt as they were.
	if _, err := db.Exec(`CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'refused'; END $$;
		CREATE TRIGGER refuse_delete BEFORE DELETE ON attempts FOR EACH ROW EXECUTE FUNCTION refuse_delete()`); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.GiveBackAttempt(ctx, again[0].ChannelUUID, f.now); err == nil || ok {
		t.Fatalf("give back with the delete refused: %v, %v", ok, err)
	}
	if got := contact(all[0].ContactID); got != claimedAgain || attempts(all[0].ContactID) != 1 {
		t.Fatalf("half-written give-back: %s", got)
	}
	if _, err := db.Exec(`DROP TRIGGER refuse_delete ON attempts`); err != nil {
		t.Fatal(err)
	}
	giveBack(again[0], true)
	if got := contact(all[0].ContactID); got != asImported {
		t.Fatalf("contact after the second give-back:\n got %s\nwant %s", got, asImported)
	}
}
