package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// D-1, issue 14 item 4: a disposition's other number (電話番号(その他)) is what the contact's next
// attempts dial, recorded as the attempt's tel; a later disposition without one goes back to
// the list's number. The other number is a dialable number, written by hand or not.
func TestRedialOtherNumber(t *testing.T) {
	f := newJobFixture(t, 1)
	ctx := context.Background()
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	claim := func(now time.Time) store.DialTarget { t.Helper(); return claimOne(t, f, j, now) }
	recorded := func(d store.DialTarget) string {
		t.Helper()
		var tel string
		if err := f.s.DB().QueryRow(`SELECT tel FROM attempts WHERE id = $1`, d.AttemptID).Scan(&tel); err != nil {
			t.Fatal(err)
		}
		return tel
	}
	// connect ends the attempt connected and saves its disposition: a callback an hour later.
	connect := func(d store.DialTarget, now time.Time, otherTel string) (time.Time, error) {
		t.Helper()
		ended := now.Add(time.Minute)
		if ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: d.ChannelUUID, Outcome: "connected", AnsweredAt: &now,
			BridgedAt: &now, EndedAt: ended, AgentID: ptr(1001), DispositionGrace: 10 * time.Minute}); err != nil || !ok {
			t.Fatalf("finish: %v %v", ok, err)
		}
		due := ended.Add(time.Hour)
		return due, f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: d.AttemptID, Party: "other", ResultCode: "x",
			OtherTel: otherTel, NextAction: "callback", CallbackAt: &due, SavedBy: "agent-1001"}, ended)
	}

	first := claim(f.now)
	listTel := first.Tel
	if listTel != "09000000000" || recorded(first) != listTel {
		t.Fatalf("first attempt dials %q (recorded %q), want the list's number", first.Tel, recorded(first))
	}
	// Not a number that can be dialed: refused, nothing saved.
	for _, bad := range []string{"12345", "9012345678", "090-1234-567a", "0901234"} {
		_, err := connect(first, f.now, bad)
		var re *store.RuleError
		if !errors.As(err, &re) || re.Code != "invalid_input" || re.Rule != "D-1" {
			t.Fatalf("other_tel %q: %v", bad, err)
		}
		if n := storetest.Count(t, f.s, "dispositions", "attempt_id = $1", first.AttemptID); n != 0 {
			t.Fatalf("other_tel %q saved", bad)
		}
		// FinishAttempt reports false the second time: the first ending stays.
		if _, err := f.s.DB().Exec(`UPDATE attempts SET outcome = 'in_progress' WHERE id = $1`, first.AttemptID); err != nil {
			t.Fatal(err)
		}
	}
	// Written by hand (full-width digits, a hyphen): kept as digits, dialed at the callback.
	due, err := connect(first, f.now, "０８０-１２３４-５６７８")
	if err != nil {
		t.Fatal(err)
	}
	var saved string
	if err := f.s.DB().QueryRow(`SELECT other_tel FROM dispositions WHERE attempt_id = $1`, first.AttemptID).Scan(&saved); err != nil || saved != "08012345678" {
		t.Fatalf("other_tel saved as %q (%v)", saved, err)
	}
	// The callback list tells the number it will dial.
	if cbs, _, err := f.s.ListCallbacks(ctx, store.CallbackFilter{BatchID: f.batch.ID}); err != nil || len(cbs) != 1 ||
		cbs[0].Tel != listTel || cbs[0].RedialTel == nil || *cbs[0].RedialTel != "08012345678" {
		t.Fatalf("callbacks %+v (%v)", cbs, err)
	}
	second := claim(due)
	if !second.Callback || second.Tel != "08012345678" || recorded(second) != "08012345678" {
		t.Fatalf("callback dials %q (recorded %q), want the other number", second.Tel, recorded(second))
	}
	// The next disposition names no other number: back to the list's.
	due, err = connect(second, due, "")
	if err != nil {
		t.Fatal(err)
	}
	if third := claim(due); third.Tel != listTel || recorded(third) != listTel {
		t.Fatalf("third attempt dials %q (recorded %q), want the list's number", third.Tel, recorded(third))
	}
	var contactTel string
	if err := f.s.DB().QueryRow(`SELECT tel FROM contacts WHERE id = $1`, first.ContactID).Scan(&contactTel); err != nil || contactTel != listTel {
		t.Fatalf("the list's number became %q (%v)", contactTel, err)
	}
}

// Issue 16 item 4 (screen-pop): the claim reads the contact's card with the same statement that
// claims it: who it is, how many attempts came before and how the latest ended.
func TestClaimReadsTheContactCard(t *testing.T) {
	f := newJobFixture(t, 1)
	ctx := context.Background()
	j, err := f.s.StartCallJob(ctx, f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	claim := func(now time.Time) store.DialTarget { t.Helper(); return claimOne(t, f, j, now) }
	first := claim(f.now)
	if c := first.Card; c.Name != "顧客0" || c.Kana != "コキャク" || c.Tel != "09000000000" || c.Remarks != "" ||
		c.PreviousAttempts != 0 || c.LastAttemptAt != nil || c.LastOutcome != "" {
		t.Fatalf("first card %+v", c)
	}
	if ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: first.ChannelUUID, Outcome: "busy", HangupCause: "USER_BUSY",
		EndedAt: f.now.Add(time.Second), Retry: []store.RetryRule{{Outcomes: []domain.Outcome{"busy"}, After: time.Minute, MaxAttempts: 3}}}); err != nil || !ok {
		t.Fatalf("finish: %v %v", ok, err)
	}
	second := claim(f.now.Add(2 * time.Minute))
	if c := second.Card; c.PreviousAttempts != 1 || c.LastAttemptAt == nil || !c.LastAttemptAt.Equal(f.now) || c.LastOutcome != "busy" {
		t.Fatalf("second card %+v", c)
	}
}

// claimOne claims the one contact j's run may dial at now.
func claimOne(t *testing.T, f jobFixture, j store.CallJob, now time.Time) store.DialTarget {
	t.Helper()
	got, err := f.s.ClaimContacts(context.Background(), store.ClaimRequest{JobID: j.ID, Run: j.Run, N: 1, Instance: "i", Node: "fs1", NewUUID: seqUUID}, now)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim at %s: %+v, %v", now, got, err)
	}
	return got[0]
}
