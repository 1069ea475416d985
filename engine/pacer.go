package engine

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// statsSync is how often a campaign's compliance record is read back from PostgreSQL, where
// every instance counts its answers and abandons (P-2).
const statsSync = 30 * time.Second

// campaignStats is what pacing has learnt of one campaign on this instance. Guarded by Engine.mu.
type campaignStats struct {
	est     *pacing.Estimator
	synced  time.Time
	syncing bool
	learnt  bool // the campaign's latest ended dials have been learnt from
	// local holds this instance's live answers until the record read back from PostgreSQL is
	// sure to hold them: written is the confirmation's number (0: not written yet), compared
	// with confirmed as it was when a read began.
	local     map[int64]*localAnswer
	confirmed uint64
	// tokens and filled: the calls-per-second allowance (pacing.max_calls_per_second).
	tokens float64
	filled time.Time
}

// limitRateLocked trims a plan to the campaign's calls-per-second allowance, taking calls from each
// node in turn, and spends the allowance. A token bucket that holds at most a fifth of a
// second's calls (at least one) keeps the originates smooth. Caller holds e.mu.
func (e *Engine) limitRateLocked(camp *config.Campaign, plan []nodeDial, now time.Time) []nodeDial {
	cps := camp.Pacing.MaxCallsPerSecond
	if cps <= 0 || len(plan) == 0 {
		return plan
	}
	s := e.statsOfLocked(camp)
	if s.filled.IsZero() {
		s.tokens = 0
	} else {
		s.tokens += now.Sub(s.filled).Seconds() * cps
	}
	s.filled = now
	s.tokens = min(s.tokens, max(1, cps/5))
	allowed := int(s.tokens)
	out := make([]nodeDial, len(plan))
	for i := range plan {
		out[i].node = plan[i].node
	}
	for placed := 0; placed < allowed; {
		progress := false
		for i := range plan {
			if placed < allowed && out[i].n < plan[i].n {
				out[i].n++
				placed++
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	kept := out[:0]
	for _, p := range out {
		if p.n > 0 {
			s.tokens -= float64(p.n)
			kept = append(kept, p)
		}
	}
	return kept
}

// localAnswer is one live answer this instance observed (P-2).
type localAnswer struct {
	at        time.Time
	abandoned bool
	written   uint64
}

// recentDials is how many of a campaign's latest ended attempts an engine learns from before
// it first paces the campaign: as many as the estimator's dial window can hold.
const recentDials = pacing.MaxDialWindow

// statsOfLocked returns the campaign's statistics, created empty on first use. Caller holds e.mu.
func (e *Engine) statsOfLocked(camp *config.Campaign) *campaignStats {
	if s := e.stats[camp.ID]; s != nil {
		return s
	}
	s := &campaignStats{est: pacing.NewEstimator(locationOf(camp)), local: map[int64]*localAnswer{}}
	e.stats[camp.ID] = s
	return s
}

// syncStats reloads the campaign's 30-day compliance record when it is older than statsSync,
// then counts again the live answers of this instance's calls still in progress (the record
// holds a call once it has ended).
func (e *Engine) syncStats(ctx context.Context, camp *config.Campaign, now time.Time) {
	e.mu.Lock()
	s := e.statsOfLocked(camp)
	if s.syncing || now.Sub(s.synced) < statsSync {
		e.mu.Unlock()
		return
	}
	s.syncing = true
	learnt, confirmedBefore := s.learnt, s.confirmed
	e.mu.Unlock()
	var recent []store.EndedDial
	var err error
	if !learnt {
		recent, err = e.o.Store.RecentDials(ctx, camp.ID, recentDials, now)
	}
	var buckets []store.AnswerBucket
	if err == nil {
		buckets, err = e.o.Store.AnswerBuckets(ctx, camp.ID, now.Add(-complianceSpan))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s.syncing = false
	if err != nil {
		e.o.Logger.Warn("read the campaign's pacing record", "campaign", camp.ID, "err", err)
		return
	}
	if !learnt {
		learn(s.est, recent)
		s.learnt = true
	}
	counts := answerCounts(buckets)
	// This instance's answers the read may have missed: not written yet, or written after the
	// read began. Those written before it are in the record now.
	for id, la := range s.local {
		if la.written != 0 && la.written <= confirmedBefore {
			delete(s.local, id)
			continue
		}
		ab := 0
		if la.abandoned {
			ab = 1
		}
		counts = append(counts, pacing.Count{At: la.at, Live: 1, Abandoned: ab})
	}
	s.est.ReplaceCounts(counts)
	s.synced = now
}

// learn feeds an estimator the campaign's latest ended dials, oldest first, as if it had seen
// them (P-4): outcomes and ring times, talk and wrap-up times.
func learn(est *pacing.Estimator, dials []store.EndedDial) {
	for _, d := range dials {
		if d.AnsweredAt != nil {
			r := pacing.DialResult{Outcome: pacing.Live, At: d.AnsweredAt.Add(d.Classify), Ring: d.AnsweredAt.Sub(d.StartedAt), Classify: d.Classify}
			if d.AMDResult == amdMachine {
				r.Outcome = pacing.Machine
			}
			est.ObserveDial(r)
		} else if r, ok := dialResult(d.Outcome, d.EndedAt, d.EndedAt.Sub(d.StartedAt)); ok {
			est.ObserveDial(r)
		}
		if d.BridgedAt != nil {
			est.ObserveTalk(d.EndedAt.Sub(*d.BridgedAt))
		}
		if d.WrapUp != nil {
			est.ObserveWrap(*d.WrapUp)
		}
	}
	est.Settle() // every one of them has ended
}

// dialResult is how an unanswered call's outcome counts for pacing; false for calls the
// engine itself cancelled, which say nothing of the customers.
func dialResult(outcome domain.Outcome, at time.Time, ring time.Duration) (pacing.DialResult, bool) {
	r := pacing.DialResult{At: at, Ring: ring}
	switch outcome {
	case domain.OutcomeNoAnswer:
		r.Outcome = pacing.NoAnswer
	case domain.OutcomeCancelled, domain.OutcomeInProgress, domain.OutcomeSkipped:
		return r, false
	case domain.OutcomeMachine:
		r.Outcome = pacing.Machine
	default:
		r.Outcome = pacing.Failed
	}
	return r, true
}

// nodeDial is how many calls to place on one switch node.
type nodeDial struct {
	node string
	n    int
}

// paceLocked decides how many calls to place now (P-1, P-4) and on which nodes. A customer is bridged
// only to an agent on its own node, so each node with agents is paced on its own snapshot (its
// agents, its calls) against the campaign's shared statistics; the job's decision is their sum.
// Caller holds e.mu.
func (e *Engine) paceLocked(camp *config.Campaign, j *job, now time.Time) (pacing.Decision, []nodeDial) {
	settings := PacingSettings(camp)
	// The day's abandon budget is the campaign's, however many nodes and jobs draw on it: each
	// snapshot is told the calls left uncovered elsewhere (Snapshot.Exposure).
	var dayEnd time.Time
	if _, end, closed := camp.CallCalendar().DayBounds(now, locationOf(camp)); closed == "" {
		dayEnd = end
	}
	exposure := 0
	for _, o := range e.jobs {
		if o != j && o.campaign == j.campaign {
			exposure += max(0, o.pacedCallsLocked()-o.readyAgentsLocked(e))
		}
	}
	snaps := map[string]*pacing.Snapshot{}
	snapOf := func(node string) *pacing.Snapshot {
		s := snaps[node]
		if s == nil {
			s = &pacing.Snapshot{Now: now, Stats: e.statsOfLocked(camp).est, Settings: settings, DayEnd: dayEnd}
			snaps[node] = s
		}
		return s
	}
	for _, a := range j.agents {
		st, ok := e.pacingStateLocked(a)
		if !ok {
			continue
		}
		s := snapOf(a.node)
		s.Agents = append(s.Agents, pacing.Agent{State: st, InState: now.Sub(a.since)})
	}
	for _, c := range j.calls {
		if !paced(c) {
			continue
		}
		pc := pacing.Call{Stage: pacing.Ringing, Elapsed: now.Sub(c.started), InStage: now.Sub(c.started)}
		switch {
		case c.state == callClassifying:
			pc.Stage, pc.InStage = pacing.Classifying, now.Sub(*c.answered)
		case c.answered != nil && c.amd != nil && c.amd.decided:
			pc.Stage, pc.InStage = pacing.Waiting, now.Sub(*c.answered)-c.amd.took
		case c.answered != nil:
			pc.Stage, pc.InStage = pacing.Waiting, now.Sub(*c.answered)
		}
		s := snapOf(c.node)
		s.Calls = append(s.Calls, pc)
	}
	var total pacing.Decision
	var plan []nodeDial
	for _, node := range slices.Sorted(maps.Keys(snaps)) {
		snap := snaps[node]
		snap.Exposure = exposure
		d := pacing.Decide(*snap)
		ready := 0
		for _, a := range snap.Agents {
			if a.State == pacing.Ready {
				ready++
			}
		}
		exposure += max(0, len(snap.Calls)+d.Dial-ready)
		if d.Dial > 0 {
			plan = append(plan, nodeDial{node: node, n: d.Dial})
		}
		if total.Reason == "" || d.Dial > 0 && total.Dial == 0 {
			total.Reason, total.Budget = d.Reason, d.Budget // the reason of a node that dials, if any
		}
		total.Dial += d.Dial
	}
	if total.Reason == "" {
		total = pacing.Decide(pacing.Snapshot{Now: now, Stats: e.statsOfLocked(camp).est, Settings: settings}) // "no_agents"
	}
	return total, plan
}

// pacingStateLocked is an agent as pacing sees it; false for one left out of the snapshot.
// Caller holds e.mu.
func (e *Engine) pacingStateLocked(a *agent) (pacing.AgentState, bool) {
	if !a.inRoom || a.leaving || a.reserved != nil && a.call == nil {
		return 0, false // a reserved agent is paired with its callback, left out with it (S-2)
	}
	if e.nodeDown(a.node) {
		return 0, false // nothing can be dialed there: its agents wait for it or are given up
	}
	switch {
	case a.state == domain.AgentAvailable && a.call == nil && !a.leaveAfterCall:
		return pacing.Ready, true
	case a.state == domain.AgentOnCall:
		return pacing.OnCall, true
	case a.state == domain.AgentWrapUp:
		return pacing.WrapUp, true
	}
	return pacing.Paused, true
}

// paced tells the calls in flight pacing counts: ringing, classified or waiting for an agent,
// and not a reserved agent's own callback.
func paced(c *call) bool {
	return (c.state == callDialing || c.state == callClassifying || c.state == callWaiting) &&
		(c.owner == nil || c.owner.reserved != c)
}

// pacedCallsLocked counts the job's calls in flight that pacing counts. Caller holds e.mu.
func (j *job) pacedCallsLocked() int {
	n := 0
	for _, c := range j.calls {
		if paced(c) {
			n++
		}
	}
	return n
}

// readyAgentsLocked counts the job's agents pacing sees ready. Caller holds e.mu.
func (j *job) readyAgentsLocked(e *Engine) int {
	n := 0
	for _, a := range j.agents {
		if st, ok := e.pacingStateLocked(a); ok && st == pacing.Ready {
			n++
		}
	}
	return n
}

// observeEndLocked teaches the campaign's estimator how a call ended. Caller holds e.mu.
func (e *Engine) observeEndLocked(j *job, c *call, outcome domain.Outcome, now time.Time) {
	s := e.stats[j.campaign]
	if s == nil {
		return
	}
	if c.bridged != nil {
		s.est.ObserveTalk(now.Sub(*c.bridged))
	}
	if c.answered != nil {
		return // observed at the answer
	}
	if r, ok := dialResult(outcome, now, now.Sub(c.started)); ok {
		s.est.ObserveDial(r)
	}
}

// observeAnswerLocked counts a live answer at its verdict: at the answer itself when the
// campaign does not classify answers, else when the detector called it a person (or unsure).
// Caller holds e.mu.
func (e *Engine) observeAnswerLocked(j *job, c *call, at time.Time) {
	if h := e.o.Hooks.LiveAnswer; h != nil {
		h(j.campaign)
	}
	if s := e.stats[j.campaign]; s != nil {
		s.est.ObserveDial(pacing.DialResult{Outcome: pacing.Live, At: at, Ring: c.answered.Sub(c.started), Classify: at.Sub(*c.answered)})
		// Counted as PostgreSQL will count it once the attempt is written: at the answer.
		s.local[c.attemptID] = &localAnswer{at: *c.answered}
	}
}

// observeMachineLocked teaches the campaign's estimator a machine's answer and how long it
// took to tell (the machine rate and classification time of P-4). Caller holds e.mu.
func (e *Engine) observeMachineLocked(j *job, c *call, at time.Time) {
	if s := e.stats[j.campaign]; s != nil {
		s.est.ObserveDial(pacing.DialResult{Outcome: pacing.Machine, At: at, Ring: c.answered.Sub(c.started), Classify: at.Sub(*c.answered)})
	}
}

// observeAbandonLocked counts an abandon (P-2); the pacer sees it at once. Caller holds e.mu.
func (e *Engine) observeAbandonLocked(j *job, c *call, at time.Time) {
	if h := e.o.Hooks.Abandon; h != nil {
		h(j.campaign)
	}
	if s := e.stats[j.campaign]; s != nil {
		s.est.ObserveAbandon(at)
		if la := s.local[c.attemptID]; la != nil {
			la.abandoned = true
		}
	}
}

// answerWritten notes that an attempt's outcome, and with it any live answer, is in PostgreSQL.
func (e *Engine) answerWritten(campaign int, attemptID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.stats[campaign]; s != nil {
		if la := s.local[attemptID]; la != nil {
			s.confirmed++
			la.written = s.confirmed
		}
	}
}

// observeWrapLocked learns an agent's wrap-up time as it leaves wrap-up. Caller holds e.mu.
func (e *Engine) observeWrapLocked(j *job, d time.Duration) {
	if s := e.stats[j.campaign]; s != nil {
		s.est.ObserveWrap(d)
	}
}

// PacingView is what pacing knows of a running job's campaign on this instance.
type PacingView struct {
	Decision   pacing.Decision // the latest decision for the job
	Compliance pacing.Compliance
	// Budget is what Compliance leaves under the campaign's target (P-2); the zero value while
	// the campaign is not configured.
	Budget  pacing.AbandonBudget
	Summary pacing.Summary
}

// Pacing reports the pacing state of a job this instance runs; false when it runs elsewhere
// or not at all.
func (e *Engine) Pacing(jobID int64) (PacingView, bool) {
	cfg := e.o.Config()
	e.mu.Lock()
	defer e.mu.Unlock()
	j := e.jobs[jobID]
	if j == nil {
		return PacingView{}, false
	}
	v := PacingView{Decision: j.decision}
	if s := e.stats[j.campaign]; s != nil {
		v.Compliance, v.Summary = s.est.Compliance(e.o.Now()), s.est.Summary()
	}
	if camp := campaignOf(cfg, j.campaign); camp != nil {
		v.Budget = PacingSettings(camp).AbandonBudget(v.Compliance)
	}
	return v, true
}

// CampaignPacing is what pacing knows of one campaign whose jobs this instance runs.
type CampaignPacing struct {
	Campaign int
	// Dial is what the latest decisions of the campaign's jobs here asked for, summed.
	Dial int
	// Compliance is the campaign's abandon record (every instance's calls, P-2); HasCompliance
	// is false until the campaign has been paced here once.
	Compliance    pacing.Compliance
	HasCompliance bool
	// Budget is what Compliance leaves under the campaign's target (P-2); the zero value while
	// the campaign is not configured.
	Budget pacing.AbandonBudget
}

// PacingByCampaign reports, in campaign id order, the campaigns of the jobs this instance runs.
func (e *Engine) PacingByCampaign() []CampaignPacing {
	cfg := e.o.Config()
	e.mu.Lock()
	defer e.mu.Unlock()
	byID := map[int]*CampaignPacing{}
	for _, j := range e.jobs {
		id := j.campaign
		cp := byID[id]
		if cp == nil {
			cp = &CampaignPacing{Campaign: id}
			if s := e.stats[id]; s != nil {
				cp.Compliance, cp.HasCompliance = s.est.Compliance(e.o.Now()), true
			}
			if camp := campaignOf(cfg, id); camp != nil {
				cp.Budget = PacingSettings(camp).AbandonBudget(cp.Compliance)
			}
			byID[id] = cp
		}
		cp.Dial += j.decision.Dial
	}
	out := make([]CampaignPacing, 0, len(byID))
	for _, cp := range byID {
		out = append(out, *cp)
	}
	slices.SortFunc(out, func(a, b CampaignPacing) int { return a.Campaign - b.Campaign })
	return out
}
