package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// ReportFixture is the data of the report tests (S-4): 52 attempts of two campaigns around the
// day boundaries of 2026-03-10, campaign 1 in Asia/Tokyo (its day is 2026-03-09T15:00Z to
// 2026-03-10T15:00Z) and campaign 2 in UTC. The expected numbers are worked out by hand in
// the comments of reportAttempts.
type ReportFixture struct {
	Batch1, Batch2 int64 // campaign 1, campaign 2
	Job1, Job2     int64
	Attempts       map[string]int64 // by fixture name (X1, Z3, …) for the named calls
	// The desk (issue 16, addDeskFixture): on campaign 1's 2026-03-10, 1 manual dial (X2), 1
	// preview dialed (Y1), 1 preview skipped with reason not_now (P1, in no other count), 1
	// hold and 1 completed transfer (X1), 1 conference joined (Y1).
}

type fixtureAttempt struct {
	name     string // calls handled by an agent have a name
	campaign int
	start    string // RFC 3339, UTC
	outcome  domain.Outcome
	agent    int
	bridge   int // seconds from start to bridge
	talk     int // seconds from bridge to end
	wrap     int // seconds from end to the disposition; -1: no disposition
	code     string
	next     domain.NextStep
	memo     string
	contact  int // index into the batch's contacts
}

// Agent 1001 (campaign 1, job 1): X0 before the Tokyo day; X1..X5 in it.
//
//	X1 waits 15:00:10 − 14:59:40 (X0 saved) = 30 s; X2 waits 15:03:10 − 15:02:30 = 40 s;
//	X3 comes ~10 h later: a new session, no wait; X3 is never disposed (ready at its end 01:00:40);
//	X4 waits 01:10:05 − 01:00:40 = 565 s; X4's disposition is saved after it became unsaved, so
//	no wrap-up and ready at its end 01:13:25; X5 waits 01:14:25 − 01:13:25 = 60 s.
//	calls 5, talk 120+90+30+200+100 = 540, wait 695 over 4, wrap-up 20+60+10 = 90 over 3.
//
// Agent 1002 (campaign 1, job 1): Y1..Y3 in the Tokyo day, Y4 just after it.
//
//	Y2 waits 03:02:00 − 03:01:20 = 40 s; Y3 (23:59 Tokyo) is a new session.
//	calls 3, talk 45+75+300 = 420, wait 40 over 1, wrap-up 30+5+30 = 65 over 3.
//
// Agent 1003 (campaign 2, job 2): Z0 before the UTC day, Z1..Z4 in it.
//
//	Z1 waits 00:01:39 − 00:01:09 = 30 s; Z2 waits 00:04:09 − 00:03:09 = 60 s; Z3, Z4 new sessions.
//	calls 4, talk 60+120+40+20 = 240, wait 90 over 2, wrap-up 30+20+60+10 = 120 over 4.
var reportAttempts = []fixtureAttempt{
	// Campaign 1 before its 2026-03-10 (Tokyo 03-09): 3.
	{name: "X0", campaign: 1, start: "2026-03-09T14:58:00Z", outcome: "connected", agent: 1001, bridge: 10, talk: 60, wrap: 30, code: "interested", next: "complete"},
	{campaign: 1, start: "2026-03-09T14:59:59Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-09T10:00:00Z", outcome: "busy"},

	// Campaign 1 on its 2026-03-10: 30 = connected 8, abandoned 2, machine 3, no_answer 7, busy 4,
	// rejected 2, invalid_number 1, network_failure 1, cancelled 1, in_progress 1. Of them 8 start on
	// the UTC day 03-09 (X1, X2, abandoned, machine, 2 no_answer, busy, invalid_number).
	{name: "X1", campaign: 1, start: "2026-03-09T15:00:00Z", outcome: "connected", agent: 1001, bridge: 10, talk: 120, wrap: 20, code: "interested", next: "complete", memo: "=1+2", contact: 1},
	{name: "X2", campaign: 1, start: "2026-03-09T15:03:00Z", outcome: "connected", agent: 1001, bridge: 10, talk: 90, wrap: 60, code: "not_interested", next: "continue", memo: "+81 へ転送"},
	{name: "X3", campaign: 1, start: "2026-03-10T01:00:00Z", outcome: "connected", agent: 1001, bridge: 10, talk: 30, wrap: -1},
	{name: "X4", campaign: 1, start: "2026-03-10T01:10:00Z", outcome: "connected", agent: 1001, bridge: 5, talk: 200, wrap: 2795 /* saved 02:00, after its due time */, code: "call_back_later", next: "callback"},
	{name: "X5", campaign: 1, start: "2026-03-10T01:14:00Z", outcome: "connected", agent: 1001, bridge: 25, talk: 100, wrap: 10, code: "interested", next: "complete"},
	{name: "Y1", campaign: 1, start: "2026-03-10T03:00:00Z", outcome: "connected", agent: 1002, bridge: 5, talk: 45, wrap: 30, code: "interested", next: "complete", memo: "@SUM(A1)"},
	{name: "Y2", campaign: 1, start: "2026-03-10T03:01:30Z", outcome: "connected", agent: 1002, bridge: 30, talk: 75, wrap: 5, code: "do_not_call", next: "complete", memo: "-5 は「髙橋」様\n二行目, \"引用\"", contact: 2},
	{name: "Y3", campaign: 1, start: "2026-03-10T14:59:00Z", outcome: "connected", agent: 1002, bridge: 2, talk: 300, wrap: 30, code: "not_interested", next: "complete"},
	{campaign: 1, start: "2026-03-09T16:00:00Z", outcome: "abandoned"},
	{campaign: 1, start: "2026-03-10T05:00:00Z", outcome: "abandoned"},
	{campaign: 1, start: "2026-03-09T18:00:00Z", outcome: "machine"},
	{campaign: 1, start: "2026-03-10T06:00:00Z", outcome: "machine"},
	{campaign: 1, start: "2026-03-10T07:00:00Z", outcome: "machine"},
	{campaign: 1, start: "2026-03-09T15:30:00Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-09T20:00:00Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-10T02:00:00Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-10T04:00:00Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-10T08:00:00Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-10T09:00:00Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-10T14:59:59Z", outcome: "no_answer"},
	{campaign: 1, start: "2026-03-09T21:00:00Z", outcome: "busy"},
	{campaign: 1, start: "2026-03-10T10:00:00Z", outcome: "busy"},
	{campaign: 1, start: "2026-03-10T11:00:00Z", outcome: "busy"},
	{campaign: 1, start: "2026-03-10T12:00:00Z", outcome: "busy"},
	{campaign: 1, start: "2026-03-10T12:30:00Z", outcome: "rejected"},
	{campaign: 1, start: "2026-03-10T13:00:00Z", outcome: "rejected"},
	{campaign: 1, start: "2026-03-09T22:00:00Z", outcome: "invalid_number"},
	{campaign: 1, start: "2026-03-10T13:30:00Z", outcome: "network_failure"},
	{campaign: 1, start: "2026-03-10T14:00:00Z", outcome: "cancelled"},
	{campaign: 1, start: "2026-03-10T14:30:00Z", outcome: "in_progress"},

	// Campaign 1 after its 2026-03-10 (Tokyo 03-11): 3.
	{campaign: 1, start: "2026-03-10T15:00:00Z", outcome: "abandoned"},
	{name: "Y4", campaign: 1, start: "2026-03-10T15:05:00Z", outcome: "connected", agent: 1002, bridge: 10, talk: 10, wrap: 10, code: "interested", next: "complete"},
	{campaign: 1, start: "2026-03-10T16:00:00Z", outcome: "no_answer"},

	// Campaign 2 before its 2026-03-10 (UTC): 2.
	{name: "Z0", campaign: 2, start: "2026-03-09T23:59:59Z", outcome: "connected", agent: 1003, bridge: 10, talk: 50, wrap: 10, code: "completed", next: "complete"},
	{campaign: 2, start: "2026-03-09T12:00:00Z", outcome: "no_answer"},

	// Campaign 2 on its 2026-03-10: 12 = connected 4, abandoned 1, no_answer 4, busy 2, machine 1.
	{name: "Z1", campaign: 2, start: "2026-03-10T00:01:30Z", outcome: "connected", agent: 1003, bridge: 9, talk: 60, wrap: 30, code: "completed", next: "complete"},
	{name: "Z2", campaign: 2, start: "2026-03-10T00:04:00Z", outcome: "connected", agent: 1003, bridge: 9, talk: 120, wrap: 20, code: "refused", next: "complete"},
	{name: "Z3", campaign: 2, start: "2026-03-10T10:00:00Z", outcome: "connected", agent: 1003, bridge: 10, talk: 40, wrap: 60, code: "completed", next: "complete"},
	{name: "Z4", campaign: 2, start: "2026-03-10T23:59:00Z", outcome: "connected", agent: 1003, bridge: 5, talk: 20, wrap: 10, code: "call_back_later", next: "callback"},
	{campaign: 2, start: "2026-03-10T12:00:00Z", outcome: "abandoned"},
	{campaign: 2, start: "2026-03-10T00:00:00Z", outcome: "no_answer"},
	{campaign: 2, start: "2026-03-10T05:00:00Z", outcome: "no_answer"},
	{campaign: 2, start: "2026-03-10T15:00:00Z", outcome: "no_answer"},
	{campaign: 2, start: "2026-03-10T23:59:59Z", outcome: "no_answer"},
	{campaign: 2, start: "2026-03-10T08:00:00Z", outcome: "busy"},
	{campaign: 2, start: "2026-03-10T16:00:00Z", outcome: "busy"},
	{campaign: 2, start: "2026-03-10T20:00:00Z", outcome: "machine"},

	// Campaign 2 after its 2026-03-10: 2.
	{campaign: 2, start: "2026-03-11T00:00:00Z", outcome: "busy"},
	{campaign: 2, start: "2026-03-11T03:00:00Z", outcome: "no_answer"},
}

// ReportFixtureContacts are the contacts of each batch: index 1 has a name Excel would run as a
// formula, index 2 a kanji Shift_JIS holds only in the IBM extension rows.
var ReportFixtureContacts = map[int][]string{
	1: {"山田太郎", "=cmd|' /C calc'!A0", "髙橋花子"},
	2: {"John Smith"},
}

// AddReportFixture writes the report fixture: a batch, list and call job per campaign, contacts
// and the attempts with their dispositions.
func AddReportFixture(t testing.TB, s *store.Store) ReportFixture {
	t.Helper()
	ctx := context.Background()
	db := s.DB()
	f := ReportFixture{Attempts: map[string]int64{}}
	contacts := map[int][]int64{}
	batches := map[int]int64{}
	jobs := map[int]int64{}
	for campaign, zone := range map[int]string{1: "Asia/Tokyo", 2: "UTC"} {
		var batch, list, job int64
		err := db.QueryRowContext(ctx, `INSERT INTO batches (campaign_id, name, time_zone, start_date, end_date, delete_date,
			history_delete_date, created_by, created_at, updated_at) VALUES ($1, $2, $3, '2026-03-01', '2026-05-29', '2026-08-27',
			'2027-02-22', 'test', now(), now()) RETURNING id`, campaign, "March "+zone, zone).Scan(&batch)
		if err != nil {
			t.Fatalf("storetest: report batch: %v", err)
		}
		if err := db.QueryRowContext(ctx, `INSERT INTO customer_lists (batch_id, name, row_count, encoding, created_by, created_at)
			VALUES ($1, 'report list', $2, 'sjis', 'test', now()) RETURNING id`, batch, len(ReportFixtureContacts[campaign])).Scan(&list); err != nil {
			t.Fatalf("storetest: report list: %v", err)
		}
		for i, name := range ReportFixtureContacts[campaign] {
			var id int64
			if err := db.QueryRowContext(ctx, `INSERT INTO contacts (batch_id, list_id, line, name, kana, tel, phone_type)
				VALUES ($1, $2, $3, $4, 'カナ', $5, 'mobile') RETURNING id`, batch, list, i+2, name, fmt.Sprintf("090%04d%04d", campaign, i)).Scan(&id); err != nil {
				t.Fatalf("storetest: report contact: %v", err)
			}
			contacts[campaign] = append(contacts[campaign], id)
		}
		if err := db.QueryRowContext(ctx, `INSERT INTO call_jobs (batch_id, name, list_id, dial_group_id, caller_id, created_by,
			created_at, updated_at) VALUES ($1, $2, $3, 1, '0312345678', 'test', now(), now()) RETURNING id`,
			batch, "job "+zone, list).Scan(&job); err != nil {
			t.Fatalf("storetest: report job: %v", err)
		}
		batches[campaign], jobs[campaign] = batch, job
	}
	f.Batch1, f.Batch2, f.Job1, f.Job2 = batches[1], batches[2], jobs[1], jobs[2]
	for _, a := range reportAttempts {
		start, err := time.Parse(time.RFC3339, a.start)
		if err != nil {
			t.Fatalf("storetest: %v", err)
		}
		contact := contacts[a.campaign][a.contact]
		var agent, talk *int
		var bridged, answered, ended, due *time.Time
		if a.outcome != domain.OutcomeInProgress {
			e := start.Add(30 * time.Second)
			ended = &e
		}
		if a.outcome.Live() || a.outcome == domain.OutcomeMachine {
			an := start.Add(time.Duration(max(a.bridge-2, 1)) * time.Second)
			answered = &an
		}
		if a.agent != 0 {
			ag, b := a.agent, start.Add(time.Duration(a.bridge)*time.Second)
			e := b.Add(time.Duration(a.talk) * time.Second)
			d := e.Add(10 * time.Minute)
			tk := a.talk
			agent, bridged, ended, due, talk = &ag, &b, &e, &d, &tk
		}
		cause := map[domain.Outcome]string{domain.OutcomeConnected: "NORMAL_CLEARING", domain.OutcomeNoAnswer: "NO_ANSWER",
			domain.OutcomeBusy: "USER_BUSY", domain.OutcomeRejected: "CALL_REJECTED", domain.OutcomeInvalidNumber: "UNALLOCATED_NUMBER",
			domain.OutcomeNetworkFailure: "NETWORK_OUT_OF_ORDER", domain.OutcomeCancelled: "ORIGINATOR_CANCEL",
			domain.OutcomeAbandoned: "NORMAL_CLEARING", domain.OutcomeMachine: "NORMAL_CLEARING"}[a.outcome]
		var id int64
		err = db.QueryRowContext(ctx, `INSERT INTO attempts (batch_id, campaign_id, list_id, contact_id, call_job_id, tel,
			channel_uuid, agent_id, created_at, started_at, answered_at, bridged_at, ended_at, outcome, hangup_cause, talk_seconds,
			disposition_due_at)
			SELECT c.batch_id, $1, c.list_id, c.id, $3, c.tel, gen_random_uuid(), $4, $5, $5, $6, $7, $8, $9, $10, $11, $12
			FROM contacts c WHERE c.id = $2 RETURNING id`,
			a.campaign, contact, jobs[a.campaign], agent, start, answered, bridged, ended, a.outcome, cause, talk, due).Scan(&id)
		if err != nil {
			t.Fatalf("storetest: report attempt %s %s: %v", a.name, a.start, err)
		}
		if a.name != "" {
			f.Attempts[a.name] = id
		}
		if a.wrap < 0 || a.code == "" {
			continue
		}
		saved := ended.Add(time.Duration(a.wrap) * time.Second)
		var callback *time.Time
		if a.next == domain.NextCallback {
			cb := saved.Add(24 * time.Hour)
			callback = &cb
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO dispositions (attempt_id, party, result_code, next_action, callback_at,
			memo, saved_by, saved_at) VALUES ($1, 'self', $2, $3, $4, $5, $6, $7)`, id, a.code, a.next, callback, a.memo,
			fmt.Sprintf("agent-%d", a.agent), saved); err != nil {
			t.Fatalf("storetest: report disposition %s: %v", a.name, err)
		}
	}
	addDeskFixture(t, s, f, contacts[1][0], jobs[1])
	return f
}

// addDeskFixture adds the agent's desk (issue 16) to the report fixture, changing none of its
// counts: X2 was a manual dial, Y1 a preview dialed; X1 was held, then transferred to agent 1002
// after a consult; a number joined Y1 in a conference; and agent 1001 skipped a preview (P1,
// skipped, so in no count but the desk's) on campaign 1's 2026-03-10.
func addDeskFixture(t testing.TB, s *store.Store, f ReportFixture, contact, job int64) {
	t.Helper()
	ctx := context.Background()
	db := s.DB()
	if _, err := db.ExecContext(ctx, `UPDATE attempts SET dial_kind = 'manual', requested_by = 'agent-1001' WHERE id = $1`, f.Attempts["X2"]); err != nil {
		t.Fatalf("storetest: desk fixture: %v", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE attempts SET dial_kind = 'preview', dialed_at = started_at WHERE id = $1`, f.Attempts["Y1"]); err != nil {
		t.Fatalf("storetest: desk fixture: %v", err)
	}
	x1, y1 := at(t, "2026-03-09T15:00:00Z"), at(t, "2026-03-10T03:00:00Z")
	a1001 := 1001
	for _, st := range []store.AttemptStep{
		{AttemptID: f.Attempts["X1"], At: x1.Add(40 * time.Second), Kind: domain.StepHold, AgentID: &a1001, By: "agent-1001"},
		{AttemptID: f.Attempts["X1"], At: x1.Add(50 * time.Second), Kind: domain.StepUnhold, AgentID: &a1001, By: "agent-1001"},
		{AttemptID: f.Attempts["X1"], At: x1.Add(60 * time.Second), Kind: domain.StepConsult, AgentID: &a1001, By: "agent-1001",
			TargetKind: "agent", Target: "1002"},
		{AttemptID: f.Attempts["X1"], At: x1.Add(80 * time.Second), Kind: domain.StepTransferred, AgentID: &a1001, By: "agent-1001",
			TargetKind: "agent", Target: "1002"},
		{AttemptID: f.Attempts["Y1"], At: y1.Add(10 * time.Second), Kind: domain.StepConference, By: "agent-1002",
			TargetKind: "number", Target: "0312340000"},
		{AttemptID: f.Attempts["Y1"], At: y1.Add(15 * time.Second), Kind: domain.StepConferenceJoined,
			TargetKind: "number", Target: "0312340000"},
	} {
		if err := s.AddAttemptStep(ctx, st); err != nil {
			t.Fatalf("storetest: desk fixture: %v", err)
		}
	}
	var id int64
	err := db.QueryRowContext(ctx, `INSERT INTO attempts (batch_id, campaign_id, list_id, contact_id, call_job_id, tel,
		channel_uuid, agent_id, created_at, started_at, ended_at, outcome, skip_reason, dial_kind)
		SELECT c.batch_id, 1, c.list_id, c.id, $2, c.tel, gen_random_uuid(), 1001, $3, $3, $3, 'skipped', 'preview:not_now', 'preview'
		FROM contacts c WHERE c.id = $1 RETURNING id`, contact, job, at(t, "2026-03-10T06:30:00Z")).Scan(&id)
	if err != nil {
		t.Fatalf("storetest: desk fixture: %v", err)
	}
	f.Attempts["P1"] = id
}

func at(t testing.TB, v string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return ts
}
