package engine

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// P-4: an engine that starts learns the campaign's latest ended dials as if it had seen them:
// answers with their ring times, talk and wrap-up times; calls it cancelled teach nothing.
func TestLearnFromRecentDials(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	at := func(s int) *time.Time { v := t0.Add(time.Duration(s) * time.Second); return &v }
	wrap := 20 * time.Second
	dials := []store.EndedDial{
		{Outcome: "connected", StartedAt: t0, AnsweredAt: at(6), BridgedAt: at(7), EndedAt: *at(67), WrapUp: &wrap},
		{Outcome: "abandoned", StartedAt: t0, AnsweredAt: at(10), EndedAt: *at(13)},
		{Outcome: "no_answer", StartedAt: t0, EndedAt: *at(25)},
		{Outcome: "busy", StartedAt: t0, EndedAt: *at(2)},
		{Outcome: "cancelled", StartedAt: t0, EndedAt: *at(3)},
	}
	est := pacing.NewEstimator(time.UTC)
	learn(est, dials)
	s := est.Summary()
	if s.Dials != 4 || s.LiveRate != 0.5 || s.MeanRing != 8*time.Second || s.MeanTalk != 60*time.Second ||
		s.MeanWrap != 20*time.Second {
		t.Fatalf("summary %+v", s)
	}
}

// The metrics view sums the latest decisions of a campaign's jobs, and gives its abandon record
// once the campaign has been paced here, with the budget it leaves under the campaign's target
// less its false-positive estimate (P-2, issue 18).
func TestPacingByCampaign(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	cfg := &config.Config{Campaigns: []config.Campaign{{ID: 1}, {ID: 2, Pacing: config.Pacing{TargetAbandonRate: 0.05},
		AnswerAnalysis: config.AnswerAnalysis{Detector: config.DetectorAVMD, FalsePositiveEstimate: 0.01}}}}
	e := New(Options{Now: func() time.Time { return now }, Config: func() *config.Config { return cfg }})
	e.jobs[1] = &job{id: 1, campaign: 2, decision: pacing.Decision{Dial: 3}}
	e.jobs[2] = &job{id: 2, campaign: 2, decision: pacing.Decision{Dial: 1}}
	e.jobs[3] = &job{id: 3, campaign: 1}
	est := pacing.NewEstimator(time.UTC)
	est.ReplaceCounts([]pacing.Count{{At: now.Add(-time.Hour), Live: 10, Abandoned: 1}})
	e.stats[2] = &campaignStats{est: est}
	got := e.PacingByCampaign()
	if len(got) != 2 || got[0].Campaign != 1 || got[0].HasCompliance || got[0].Dial != 0 {
		t.Fatalf("campaign 1: %+v", got)
	}
	if c := got[1]; c.Campaign != 2 || c.Dial != 4 || !c.HasCompliance || c.Compliance.Rolling24h.Live != 10 ||
		c.Compliance.Rolling24h.Abandoned != 1 || c.Compliance.Rolling30d.Rate != 0.1 {
		t.Fatalf("campaign 2: %+v", c)
	}
	recorded := 0.04 / 0.99
	if b := got[1].Budget; b.Target != 0.05 || math.Abs(b.RecordedTarget-recorded) > 1e-12 ||
		math.Abs(b.Rolling24h.Remaining-(10*recorded-1)) > 1e-12 || b.Day.Live != 10 || b.Remaining != b.Day.Remaining {
		t.Fatalf("campaign 2's budget: %+v", b)
	}
	if v, ok := e.Pacing(1); !ok || v.Budget != got[1].Budget {
		t.Fatalf("job 1's pacing view %+v, ok %v: want campaign 2's budget", v, ok)
	}
}

// P-1 over several switch nodes: a customer is bridged only to an agent on its own node, so each
// node is paced for its own agents and calls (progressive: one call per ready agent there).
func TestPacePerNode(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	e := New(Options{Now: func() time.Time { return now }})
	j := &job{id: 1, campaign: 1, agents: map[int]*agent{}, calls: map[string]*call{}}
	for i, node := range []string{"a", "a", "b", "b", "b"} {
		j.agents[i+1] = &agent{id: i + 1, node: node, answered: true, inRoom: true, state: domain.AgentAvailable, since: now}
	}
	j.calls["c1"] = &call{uuid: "c1", node: "a", started: now.Add(-time.Second)}
	j.calls["c2"] = &call{uuid: "c2", node: "a", started: now.Add(-time.Second)}
	camp := &config.Campaign{ID: 1, TimeZone: "UTC", Pacing: config.Pacing{Mode: "progressive", MaxRatio: 3}}
	e.mu.Lock()
	d, plan := e.paceLocked(camp, j, now)
	e.mu.Unlock()
	if d.Dial != 3 || len(plan) != 1 || plan[0] != (nodeDial{node: "b", n: 3}) {
		t.Fatalf("decision %+v, plan %+v: want node a full (2 ringing for 2 agents), 3 calls on b", d, plan)
	}
}

// pacing.max_calls_per_second: the allowance refills with time, holds at most a fifth of a
// second's calls, and is shared out over the nodes in turn.
func TestLimitRate(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	e := New(Options{Now: func() time.Time { return now }})
	camp := &config.Campaign{ID: 1, TimeZone: "UTC", Pacing: config.Pacing{MaxCallsPerSecond: 50}}
	plan := []nodeDial{{node: "a", n: 20}, {node: "b", n: 3}}
	if got := e.limitRateLocked(camp, plan, now); len(got) != 0 {
		t.Fatalf("first call %+v: the allowance starts empty", got)
	}
	got := e.limitRateLocked(camp, plan, now.Add(100*time.Millisecond)) // 5 calls
	if len(got) != 2 || got[0] != (nodeDial{"a", 3}) || got[1] != (nodeDial{"b", 2}) {
		t.Fatalf("after 100 ms: %+v", got)
	}
	got = e.limitRateLocked(camp, plan, now.Add(10*time.Second)) // capped at 10
	if len(got) != 2 || got[0].n+got[1].n != 10 || got[1].n != 3 {
		t.Fatalf("after a long pause: %+v", got)
	}
	camp.Pacing.MaxCallsPerSecond = 0
	if got := e.limitRateLocked(camp, plan, now.Add(11*time.Second)); len(got) != 2 || got[0].n != 20 {
		t.Fatalf("no cap: %+v", got)
	}
}

// P-2 across instances: the abandon record is read back from PostgreSQL, and this instance's
// live answers not yet written there are kept on top of it; those written before the read are
// in the record and dropped from memory.
func TestSyncStatsKeepsUnwrittenAnswers(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	e := New(Options{Store: emptyAnswerRecord{}, Now: func() time.Time { return now }})
	camp := &config.Campaign{ID: 1, TimeZone: "UTC", Location: time.UTC}
	e.mu.Lock()
	s := e.statsOfLocked(camp)
	s.learnt = true
	s.local[1] = &localAnswer{at: now.Add(-time.Minute), abandoned: true} // not written yet
	s.local[2] = &localAnswer{at: now.Add(-2 * time.Minute), written: 1}  // written before the read
	s.confirmed = 1
	e.mu.Unlock()
	e.syncStats(context.Background(), camp, now)
	e.mu.Lock()
	defer e.mu.Unlock()
	c := s.est.Compliance(now)
	if c.Rolling24h.Live != 1 || c.Rolling24h.Abandoned != 1 || len(s.local) != 1 || s.local[1] == nil {
		t.Fatalf("compliance %+v, local %v", c, s.local)
	}
}

// emptyAnswerRecord is a Store whose answer record (answer_stats) holds nothing yet: the read
// syncStats makes; the rest of Store is not used.
type emptyAnswerRecord struct{ Store }

func (emptyAnswerRecord) AnswerBuckets(context.Context, int, time.Time) ([]store.AnswerBucket, error) {
	return nil, nil
}

// Issue 18, P-2: the engine gives pacing the end of the calling day (the calendar's business
// end) and the campaign's calls left uncovered by its other jobs, so the day-budget guard holds
// the over-dial to the day's abandon budget: plenty of day left lends a credit, its last
// minutes none, and another job's uncovered calls draw on the same budget.
func TestPaceDayBudget(t *testing.T) {
	now := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	e := New(Options{Now: func() time.Time { return now }})
	camp := &config.Campaign{ID: 1, TimeZone: "UTC", Pacing: config.Pacing{Mode: "predictive", MaxRatio: 6,
		TargetAbandonRate: 0.03, ConnectDeadline: 2 * time.Second}}
	e.mu.Lock()
	est := e.statsOfLocked(camp).est
	e.mu.Unlock()
	// An hour of a campaign like docs/pacing.md's S3: 30% live answers, 3-minute talks; the day
	// so far has 300 live answers.
	for i := range 1200 {
		at := now.Add(-time.Hour + time.Duration(i)*3*time.Second)
		res := pacing.DialResult{At: at, Ring: time.Duration(5+i%10) * time.Second}
		switch i % 10 {
		case 0, 1, 2:
			res.Outcome = pacing.Live
		case 3, 4:
			res.Outcome = pacing.Machine
		default:
			res.Outcome, res.Ring = pacing.NoAnswer, 25*time.Second
		}
		est.ObserveDial(res)
		if i%4 == 0 {
			est.ObserveTalk(time.Duration(60+i%240) * time.Second)
			est.ObserveWrap(time.Second)
		}
	}
	est.Settle()
	j := &job{id: 1, campaign: 1, agents: map[int]*agent{}, calls: map[string]*call{}}
	for i := range 20 {
		a := &agent{id: i + 1, node: "a", answered: true, inRoom: true, state: domain.AgentOnCall,
			since: now.Add(-time.Duration(250+i*2) * time.Second)}
		if i < 2 {
			a.state, a.since = domain.AgentAvailable, now
		}
		j.agents[i+1] = a
	}
	e.jobs[1] = j
	pace := func(end string, abandoned int) pacing.Decision {
		est.ReplaceCounts([]pacing.Count{{At: now.Add(-time.Hour), Live: 300, Abandoned: abandoned}})
		camp.BusinessHours = config.BusinessHours{Start: config.ClockTime{Minutes: 0}, End: clockOf(t, end)}
		e.mu.Lock()
		defer e.mu.Unlock()
		d, _ := e.paceLocked(camp, j, now)
		return d
	}
	long := pace("24:00", 3)
	if long.Reason != "predictive" || long.Dial <= 2 {
		t.Fatalf("8 hours left, a budget of 6: %+v, want the look-ahead's over-dial", long)
	}
	if d := pace("16:01", 3); d.Reason != "abandon_budget_low" || d.Dial >= long.Dial || d.Dial < 2 {
		t.Fatalf("the day's last minute, a budget of 6: %+v, want less than %d", d, long.Dial)
	}
	if d := pace("16:01", 9); d.Reason != "abandon_budget_low" || d.Dial != 2 {
		t.Fatalf("the day's last minute, no budget: %+v, want progressive (2 ready)", d)
	}
	// Another job of the campaign with calls no ready agent covers: less for this one.
	other := &job{id: 2, campaign: 1, agents: map[int]*agent{}, calls: map[string]*call{}}
	for i := range 60 {
		id := fmt.Sprintf("o%d", i)
		other.calls[id] = &call{uuid: id, node: "a", started: now.Add(-time.Second)}
	}
	e.jobs[2] = other
	if d := pace("24:00", 3); d.Dial >= long.Dial {
		t.Fatalf("60 uncovered calls in another job: %+v, want fewer than %d", d, long.Dial)
	}
}

func clockOf(t *testing.T, s string) config.ClockTime {
	t.Helper()
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil {
		t.Fatal(err)
	}
	return config.ClockTime{Minutes: h*60 + m}
}
