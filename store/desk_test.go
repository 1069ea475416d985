package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// deskFixture is a running job over n contacts (tels 09000000000, 03100000001, …).
type deskFixture struct {
	jobFixture
	j store.CallJob
}

func newDeskFixture(t *testing.T, n int) deskFixture {
	t.Helper()
	f := newJobFixture(t, n)
	j, err := f.s.StartCallJob(context.Background(), f.job(t, store.JobFilter{}).ID, rules(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	return deskFixture{jobFixture: f, j: j}
}

func (f deskFixture) claim(t *testing.T, kind domain.DialKind, n int, now time.Time) []store.DialTarget {
	t.Helper()
	got, err := f.s.ClaimContacts(context.Background(), store.ClaimRequest{JobID: f.j.ID, Run: f.j.Run, N: n, Instance: "i",
		Node: "fs1", NewUUID: seqUUID, Kind: kind}, now)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f deskFixture) manual(tel string) (store.DialTarget, error) {
	return f.s.CreateManualAttempt(context.Background(), store.ManualDial{JobID: f.j.ID, Run: f.j.Run, AgentID: 1001,
		Tel: tel, By: "agent1", Instance: "i", Node: "fs1", NewUUID: seqUUID}, f.now)
}

// row reads one column of one row as text ("" for NULL).
func row(t *testing.T, s *store.Store, q string, args ...any) string {
	t.Helper()
	var v *string
	if err := s.DB().QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if v == nil {
		return ""
	}
	return *v
}

// Issue 16, P-5: a preview claim is a claim. The previewed contact is held (no other claim takes
// it, a manual dial of its number is refused with ErrContactBusy), its attempt is of kind preview
// and not dialed; MarkDialed starts its ring time; the engine sees both in UnfinishedAttempts and
// may give an undialed preview back.
func TestPreviewClaimHoldsTheContact(t *testing.T) {
	f := newDeskFixture(t, 2)
	ctx := context.Background()
	p := f.claim(t, domain.DialPreview, 1, f.now)
	if len(p) != 1 || p[0].ContactID == 0 || p[0].Card.Name == "" {
		t.Fatalf("preview claim: %+v", p)
	}
	if k := row(t, f.s, `SELECT dial_kind || coalesce(dialed_at::text, '-') FROM attempts WHERE id = $1`, p[0].AttemptID); k != "preview-" {
		t.Fatalf("preview attempt kind/dialed: %q", k)
	}
	// P-5: a manual dial of the previewed number is refused.
	if _, err := f.manual(p[0].Tel); !errors.Is(err, store.ErrContactBusy) {
		t.Fatalf("manual dial of a previewed contact: %v, want ErrContactBusy", err)
	}
	// The other contact goes to the next claim; the previewed one to none.
	if rest := f.claim(t, domain.DialPaced, 5, f.now); len(rest) != 1 || rest[0].ContactID == p[0].ContactID {
		t.Fatalf("claim next to a preview: %+v", rest)
	}
	live, err := f.s.UnfinishedAttempts(ctx, f.j.ID)
	if err != nil || len(live) != 2 || live[0].DialKind != domain.DialPreview || live[0].DialedAt != nil || live[1].DialKind != domain.DialPaced {
		t.Fatalf("unfinished: %+v, %v", live, err)
	}
	dial := f.now.Add(20 * time.Second)
	if err := f.s.MarkDialed(ctx, p[0].AttemptID, dial); err != nil {
		t.Fatal(err)
	}
	if err := f.s.MarkDialed(ctx, p[0].AttemptID, dial); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second MarkDialed: %v", err)
	}
	live, _ = f.s.UnfinishedAttempts(ctx, f.j.ID)
	if live[0].DialedAt == nil || !live[0].DialedAt.Equal(dial) || !live[0].StartedAt.Equal(dial) {
		t.Fatalf("dialed preview: %+v", live[0])
	}
	// A preview, dialed or not, is given back as any claim (a failure of ours; the engine
	// adopting the job gives back those never dialed).
	q := f.claim(t, domain.DialPreview, 1, f.now)
	if len(q) != 0 {
		t.Fatalf("claimed %+v with every contact held", q)
	}
	if ok, err := f.s.GiveBackAttempt(ctx, p[0].ChannelUUID, f.now); err != nil || !ok {
		t.Fatalf("give back a dialed preview: %v %v", ok, err)
	}
	again := f.claim(t, domain.DialPreview, 1, f.now)
	if len(again) != 1 || again[0].ContactID != p[0].ContactID {
		t.Fatalf("claim after the give-back: %+v", again)
	}
	if ok, err := f.s.GiveBackAttempt(ctx, again[0].ChannelUUID, f.now); err != nil || !ok {
		t.Fatalf("give back an undialed preview: %v %v", ok, err)
	}
	if _, err := f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: f.j.ID, Run: f.j.Run, N: 1, NewUUID: seqUUID,
		Kind: domain.DialManual}, f.now); err == nil {
		t.Fatal("a claim of kind manual was accepted")
	}
}

// Issue 16 (preview skip): the skipped attempt ends skipped with its reason, agent and a
// preview_skipped step; the contact is released unclaimed and eligible, its attempt count and
// last attempt as before the claim, not claimed again in this run but in the next; the skip is
// in no report count but the desk's skips; only an undialed preview in progress is skipped.
func TestSkipPreview(t *testing.T) {
	f := newDeskFixture(t, 2)
	ctx := context.Background()
	before := row(t, f.s, `SELECT attempt_count || '/' || coalesce(last_attempt_at::text, '-') FROM contacts WHERE tel = '09000000000'`)
	p := f.claim(t, domain.DialPreview, 1, f.now)
	if len(p) != 1 || p[0].Tel != "09000000000" {
		t.Fatalf("claim: %+v", p)
	}
	at := f.now.Add(10 * time.Second)
	skip := store.PreviewSkip{AttemptID: p[0].AttemptID, Reason: "not_now", AgentID: 1001, By: "agent1", At: at}
	if ok, err := f.s.SkipPreview(ctx, skip); err != nil || !ok {
		t.Fatalf("skip: %v %v", ok, err)
	}
	if ok, err := f.s.SkipPreview(ctx, skip); err != nil || ok {
		t.Fatalf("second skip: %v %v", ok, err)
	}
	if _, err := f.s.SkipPreview(ctx, store.PreviewSkip{AttemptID: p[0].AttemptID, Reason: "Not Now!"}); err == nil {
		t.Fatal("a malformed reason was accepted")
	}
	got := row(t, f.s, `SELECT outcome || '|' || skip_reason || '|' || agent_id || '|' || (ended_at = $2) FROM attempts WHERE id = $1`,
		p[0].AttemptID, at)
	if got != "skipped|preview:not_now|1001|true" {
		t.Fatalf("skipped attempt: %s", got)
	}
	steps, err := f.s.AttemptSteps(ctx, []int64{p[0].AttemptID})
	if st := steps[p[0].AttemptID]; err != nil || len(st) != 1 || st[0].Kind != domain.StepPreviewSkipped ||
		st[0].By != "agent1" || st[0].Detail != "not_now" || st[0].AgentID == nil || *st[0].AgentID != 1001 {
		t.Fatalf("steps: %+v, %v", steps, err)
	}
	c := row(t, f.s, `SELECT status || '|' || coalesce(claimed_by_job::text, '-') || '|' || coalesce(next_attempt_at::text, '-') || '|' ||
		attempt_count || '/' || coalesce(last_attempt_at::text, '-') FROM contacts WHERE id = $1`, p[0].ContactID)
	if c != "eligible|-|-|"+before {
		t.Fatalf("contact after the skip: %s (before the claim %s)", c, before)
	}
	// Not again in this run: the next claim takes the other contact only.
	other := f.claim(t, domain.DialPreview, 5, at)
	if len(other) != 1 || other[0].ContactID == p[0].ContactID {
		t.Fatalf("claim after the skip: %+v", other)
	}
	// A dialed preview is not skipped.
	if err := f.s.MarkDialed(ctx, other[0].AttemptID, at); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.SkipPreview(ctx, store.PreviewSkip{AttemptID: other[0].AttemptID, Reason: "other", At: at}); err != nil || ok {
		t.Fatalf("skip of a dialed preview: %v %v", ok, err)
	}
	// Reports leave the skip out of every count but the desk's skips.
	sum, err := f.s.ReportSummary(ctx, store.ReportFilter{Ranges: []store.ReportRange{{CampaignID: 1, TimeZone: "Asia/Tokyo",
		From: f.now.Add(-time.Hour), To: f.now.Add(time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Totals.Dialed != 1 || sum.Desk.PreviewSkips["not_now"] != 1 || sum.Desk.PreviewDials != 1 || len(sum.Desk.PreviewSkips) != 1 {
		t.Fatalf("report: totals %+v, desk %+v", sum.Totals, sum.Desk)
	}
	if j, err := f.s.GetCallJob(ctx, f.j.ID); err != nil || j.RemainingCount != j.TargetCount-1 {
		t.Fatalf("remaining %d of %d: the skip counted as a dial (%v)", j.RemainingCount, j.TargetCount, err)
	}
	// The next run dials it again.
	if _, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: other[0].ChannelUUID, Outcome: domain.OutcomeNoAnswer,
		EndedAt: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.StopCallJob(ctx, f.j.ID, "admin", at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	j, err := f.s.StartCallJob(ctx, f.j.ID, rules(), at.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f.j = j
	if n := f.claim(t, domain.DialPaced, 5, at.Add(3*time.Minute)); len(n) != 2 {
		t.Fatalf("next run claimed %+v", n)
	}
}

// Issue 16 (preview skip of a callback): the due callback the preview claim took stays
// scheduled and its contact waits for it, but this run does not show it again.
func TestSkipPreviewKeepsTheCallback(t *testing.T) {
	f := newDeskFixture(t, 1)
	ctx := context.Background()
	first := f.claim(t, domain.DialPaced, 1, f.now)
	answered, ended := f.now.Add(time.Minute), f.now.Add(2*time.Minute)
	if ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: first[0].ChannelUUID, Outcome: domain.OutcomeConnected,
		AnsweredAt: &answered, BridgedAt: &answered, EndedAt: ended, AgentID: ptr(1001), DispositionGrace: time.Minute}); err != nil || !ok {
		t.Fatalf("finish: %v %v", ok, err)
	}
	due := f.now.Add(time.Hour)
	if err := f.s.SaveDisposition(ctx, store.NewDisposition{AttemptID: first[0].AttemptID, Party: "self", ResultCode: "x",
		NextAction: "callback", CallbackAt: &due, SavedBy: "agent1"}, ended); err != nil {
		t.Fatal(err)
	}
	p := f.claim(t, domain.DialPreview, 1, due)
	if len(p) != 1 || !p[0].Callback {
		t.Fatalf("preview of the callback: %+v", p)
	}
	if ok, err := f.s.SkipPreview(ctx, store.PreviewSkip{AttemptID: p[0].AttemptID, Reason: "not_now", AgentID: 1001, At: due}); err != nil || !ok {
		t.Fatalf("skip: %v %v", ok, err)
	}
	cb := row(t, f.s, `SELECT cb.status || '|' || cb.attempt_id || '|' || c.status || '|' || coalesce(c.claimed_by_job::text, '-')
		FROM callbacks cb JOIN contacts c ON c.id = cb.contact_id WHERE cb.contact_id = $1`, p[0].ContactID)
	if want := "scheduled|" + itoa(first[0].AttemptID) + "|callback|-"; cb != want {
		t.Fatalf("callback after the skip: %s, want %s", cb, want)
	}
	if n := f.claim(t, domain.DialPreview, 1, due.Add(time.Minute)); len(n) != 0 {
		t.Fatalf("the skipped callback was shown again in this run: %+v", n)
	}
}

// Issue 16 (manual dial), P-5: a number of a free contact of the job's list is that contact's
// attempt, claimed as a claim claims (held, attempt count and last attempt moved on, the card
// filled); a number of no contact has an attempt without one, finished as usual; a complete
// contact is refused; a stopped job or another run is refused with ErrJobNotRunning.
func TestCreateManualAttempt(t *testing.T) {
	f := newDeskFixture(t, 3)
	ctx := context.Background()
	// A disposition gave the contact another number: the manual dial still dials the one typed.
	if _, err := f.s.DB().Exec(`UPDATE contacts SET redial_tel = '0399999999' WHERE tel = '03100000001'`); err != nil {
		t.Fatal(err)
	}
	d, err := f.manual("031-0000-0001")
	if err != nil {
		t.Fatal(err)
	}
	if d.ContactID == 0 || d.Tel != "03100000001" || d.Agent != 1001 || d.Card.Name != "顧客1" || d.Card.PreviousAttempts != 0 {
		t.Fatalf("manual dial of a contact: %+v", d)
	}
	got := row(t, f.s, `SELECT a.dial_kind || '|' || a.agent_id || '|' || a.requested_by || '|' || a.caller_id || '|' || a.node || '|' ||
		c.claimed_by_job || '|' || c.attempt_count FROM attempts a JOIN contacts c ON c.id = a.contact_id WHERE a.id = $1`, d.AttemptID)
	if want := "manual|1001|agent1|0312345678|fs1|" + itoa(f.j.ID) + "|1"; got != want {
		t.Fatalf("manual attempt %s, want %s", got, want)
	}
	// Held: a second manual dial and a claim leave it alone.
	if _, err := f.manual("03100000001"); !errors.Is(err, store.ErrContactBusy) {
		t.Fatalf("second manual dial: %v", err)
	}
	for _, c := range f.claim(t, domain.DialPaced, 5, f.now) {
		if c.ContactID == d.ContactID {
			t.Fatal("a claim took the manually dialed contact")
		}
	}
	// A number of no contact.
	n, err := f.manual("0120-444-444")
	if err != nil || n.ContactID != 0 || n.Card.Tel != "0120444444" || n.Card.Name != "" {
		t.Fatalf("manual dial of a stranger: %+v, %v", n, err)
	}
	if c := row(t, f.s, `SELECT coalesce(contact_id::text, '-') || '|' || dial_kind FROM attempts WHERE id = $1`, n.AttemptID); c != "-|manual" {
		t.Fatalf("stranger's attempt: %s", c)
	}
	if ok, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: n.ChannelUUID, Outcome: domain.OutcomeNoAnswer, EndedAt: f.now.Add(time.Minute),
		Retry: []store.RetryRule{{Outcomes: []domain.Outcome{domain.OutcomeNoAnswer}, After: time.Minute, MaxAttempts: 3}}}); err != nil || !ok {
		t.Fatalf("finish a contactless attempt: %v %v", ok, err)
	}
	// A complete contact is refused.
	if _, err := f.s.DB().Exec(`UPDATE contacts SET status = 'complete', claimed_by_job = NULL WHERE tel = '09000000002'`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.manual("09000000002"); !errors.Is(err, store.ErrContactBusy) || !strings.Contains(err.Error(), "complete") {
		t.Fatalf("manual dial of a complete contact: %v", err)
	}
	if _, err := f.s.CreateManualAttempt(ctx, store.ManualDial{JobID: f.j.ID, Run: f.j.Run + 1, AgentID: 1001, Tel: "0120444444",
		NewUUID: seqUUID}, f.now); !errors.Is(err, store.ErrJobNotRunning) {
		t.Fatalf("another run: %v", err)
	}
	if _, err := f.s.CreateManualAttempt(ctx, store.ManualDial{JobID: 999999, Run: 1, AgentID: 1001, Tel: "0120444444",
		NewUUID: seqUUID}, f.now); !errors.Is(err, store.ErrJobNotRunning) {
		t.Fatalf("no such job: %v", err)
	}
	if _, err := f.manual("12"); err == nil {
		t.Fatal("a two-digit number was accepted")
	}
	// The manual attempt of a contact is given back like a claim (a failure of our own).
	if ok, err := f.s.GiveBackAttempt(ctx, d.ChannelUUID, f.now); err != nil || !ok {
		t.Fatalf("give back: %v %v", ok, err)
	}
	if c := row(t, f.s, `SELECT coalesce(claimed_by_job::text, '-') || '|' || attempt_count FROM contacts WHERE id = $1`, d.ContactID); c != "-|0" {
		t.Fatalf("contact after the give-back: %s", c)
	}
}

// Issue 16, N-1: a number on the global or the campaign's do-not-call list is refused with
// ErrDoNotCall naming the list; DoNotCallNumber answers the API's synchronous check.
func TestManualDialDoNotCall(t *testing.T) {
	f := newDeskFixture(t, 2)
	ctx := context.Background()
	for _, e := range []store.DNCEntry{{Tel: "09000000000", CampaignID: store.GlobalDNC}, {Tel: "0120444444", CampaignID: 1},
		{Tel: "0120555555", CampaignID: 2}} {
		if _, _, err := f.s.AddDoNotCall(ctx, e, f.now); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		tel, list string
		listed    bool
	}{{"090-0000-0000", "global", true}, {"+81 120 444 444", "1", true}, {"0120555555", "", false}, {"03100000001", "", false}} {
		list, listed, err := f.s.DoNotCallNumber(ctx, 1, c.tel)
		if err != nil || list != c.list || listed != c.listed {
			t.Fatalf("DoNotCallNumber(%s) = %q %v %v; want %q %v", c.tel, list, listed, err, c.list, c.listed)
		}
	}
	if _, err := f.manual("09000000000"); !errors.Is(err, store.ErrDoNotCall) || !strings.Contains(err.Error(), "global") {
		t.Fatalf("globally listed: %v", err)
	}
	if _, err := f.manual("0120444444"); !errors.Is(err, store.ErrDoNotCall) || !strings.Contains(err.Error(), "campaign 1") {
		t.Fatalf("listed for the campaign: %v", err)
	}
	if n := storetest.Count(t, f.s, "attempts", "dial_kind = 'manual'"); n != 0 {
		t.Fatalf("%d manual attempts recorded for listed numbers", n)
	}
	if _, err := f.manual("0120555555"); err != nil { // another campaign's list
		t.Fatal(err)
	}
}

// Issue 16 (steps), S-3: steps round-trip in order with the attempt's history, one query for
// all; a bad kind is refused; they go with their batch (B-6) and with a deleted attempt.
func TestAttemptStepsRoundTripAndCascade(t *testing.T) {
	f := newDeskFixture(t, 1)
	ctx := context.Background()
	d := f.claim(t, domain.DialPaced, 1, f.now)[0]
	steps := []store.AttemptStep{
		{AttemptID: d.AttemptID, At: f.now.Add(2 * time.Second), Kind: domain.StepConsult, AgentID: ptr(1001), By: "agent1",
			TargetKind: string(domain.TargetAgent), Target: "1002"},
		{AttemptID: d.AttemptID, At: f.now.Add(time.Second), Kind: domain.StepHold, AgentID: ptr(1001), By: "agent1"},
		{AttemptID: d.AttemptID, At: f.now.Add(3 * time.Second), Kind: domain.StepTransferred, AgentID: ptr(1001),
			TargetKind: string(domain.TargetAgent), Target: "1002", Detail: "completed"},
	}
	for _, st := range steps {
		if err := f.s.AddAttemptStep(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.AddAttemptStep(ctx, store.AttemptStep{AttemptID: d.AttemptID, At: f.now, Kind: "dance"}); err == nil {
		t.Fatal("unknown step kind accepted")
	}
	if err := f.s.AddAttemptStep(ctx, store.AttemptStep{AttemptID: d.AttemptID, At: f.now, Kind: domain.StepHold, TargetKind: "moon"}); err == nil {
		t.Fatal("unknown target kind accepted")
	}
	hist, err := f.s.ContactAttempts(ctx, d.ContactID)
	if err != nil || len(hist) != 1 || hist[0].DialKind != domain.DialPaced || len(hist[0].Steps) != 3 {
		t.Fatalf("history: %+v, %v", hist, err)
	}
	got := hist[0].Steps
	if got[0].Kind != domain.StepHold || got[1].Kind != domain.StepConsult || got[2].Kind != domain.StepTransferred ||
		got[1].Target != "1002" || got[1].TargetKind != "agent" || got[2].Detail != "completed" || !got[0].At.Equal(f.now.Add(time.Second)) ||
		got[0].ID == 0 || got[0].AttemptID != d.AttemptID {
		t.Fatalf("steps out of order or altered: %+v", got)
	}
	if m, err := f.s.AttemptSteps(ctx, nil); err != nil || len(m) != 0 {
		t.Fatalf("steps of nothing: %v %v", m, err)
	}
	// Retention (B-6): the batch goes with its attempts and their steps.
	if _, err := f.s.StopCallJob(ctx, f.j.ID, "admin", f.now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FinishAttempt(ctx, store.AttemptEnd{ChannelUUID: d.ChannelUUID, Outcome: domain.OutcomeNoAnswer, EndedAt: f.now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	res, err := f.s.SweepRetention(ctx, f.now.AddDate(2, 0, 0))
	if err != nil || len(res.Deleted) != 1 {
		t.Fatalf("sweep: %+v, %v", res, err)
	}
	if n := storetest.Count(t, f.s, "attempt_steps", "true"); n != 0 {
		t.Fatalf("%d steps outlived their batch", n)
	}
}

// Issue 16: a job's own pacing mode is null (its campaign's) or one of the four modes; a patch
// sets it, leaves it, or sets it back to the campaign's with "".
func TestCallJobPacingMode(t *testing.T) {
	f := newJobFixture(t, 1)
	ctx := context.Background()
	nj := store.NewCallJob{BatchID: f.batch.ID, Name: "job", ListID: f.list.ID, DialGroupID: 1, CallerID: "0312345678",
		CreatedBy: "admin", MaxCallJobs: 10, PacingMode: ptr("sideways")}
	_, err := f.s.CreateCallJob(ctx, nj, f.now)
	wantRule(t, err, "invalid_input", false)
	nj.PacingMode = ptr("preview")
	j, err := f.s.CreateCallJob(ctx, nj, f.now)
	if err != nil || j.PacingMode == nil || *j.PacingMode != "preview" {
		t.Fatalf("create: %+v, %v", j.PacingMode, err)
	}
	_, err = f.s.UpdateCallJob(ctx, j.ID, store.CallJobPatch{PacingMode: ptr("fast")}, f.now)
	wantRule(t, err, "invalid_input", false)
	if j, err = f.s.UpdateCallJob(ctx, j.ID, store.CallJobPatch{Memo: ptr("m")}, f.now); err != nil || j.PacingMode == nil {
		t.Fatalf("patch without a mode: %+v, %v", j.PacingMode, err)
	}
	if j, err = f.s.UpdateCallJob(ctx, j.ID, store.CallJobPatch{PacingMode: ptr("ratio")}, f.now); err != nil || *j.PacingMode != "ratio" {
		t.Fatalf("patch to ratio: %+v, %v", j.PacingMode, err)
	}
	if j, err = f.s.UpdateCallJob(ctx, j.ID, store.CallJobPatch{PacingMode: ptr("")}, f.now); err != nil || j.PacingMode != nil {
		t.Fatalf("patch back to the campaign's: %+v, %v", j.PacingMode, err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// Issue 16, P-5 under a race: a manual dial of a contact's number and a preview claim start
// together, again and again; each time exactly one of them holds the contact, never both.
func TestManualDialRacesAClaim(t *testing.T) {
	f := newDeskFixture(t, 1)
	ctx := context.Background()
	var uuids sync.Mutex
	newUUID := func() string { uuids.Lock(); defer uuids.Unlock(); return seqUUID() }
	for i := range 20 {
		var claimed []store.DialTarget
		var manual store.DialTarget
		var claimErr, manualErr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			claimed, claimErr = f.s.ClaimContacts(ctx, store.ClaimRequest{JobID: f.j.ID, Run: f.j.Run, N: 1, Instance: "i",
				Node: "fs1", NewUUID: newUUID, Kind: domain.DialPreview}, f.now)
		}()
		go func() {
			defer wg.Done()
			<-start
			manual, manualErr = f.s.CreateManualAttempt(ctx, store.ManualDial{JobID: f.j.ID, Run: f.j.Run, AgentID: 1001,
				Tel: "09000000000", By: "agent1", NewUUID: newUUID}, f.now)
		}()
		close(start)
		wg.Wait()
		if claimErr != nil || manualErr != nil && !errors.Is(manualErr, store.ErrContactBusy) {
			t.Fatalf("round %d: claim %v, manual %v", i, claimErr, manualErr)
		}
		if (len(claimed) == 1) == (manualErr == nil) {
			t.Fatalf("round %d: claim took %d, manual dial %v: exactly one must hold the contact", i, len(claimed), manualErr)
		}
		if n := storetest.Count(t, f.s, "attempts", "outcome = 'in_progress'"); n != 1 {
			t.Fatalf("round %d: %d attempts in progress", i, n)
		}
		held := manual.ChannelUUID
		if len(claimed) == 1 {
			held = claimed[0].ChannelUUID
		}
		if ok, err := f.s.GiveBackAttempt(ctx, held, f.now); err != nil || !ok {
			t.Fatalf("round %d: give back %v %v", i, ok, err)
		}
	}
}
