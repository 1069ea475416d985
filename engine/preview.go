package engine

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// Preview mode and manual dialing (issue 16): calls an agent dials itself. Both are "own"
// calls: the agent is reserved for the call from the dial (shown on_call while it rings, its
// attempt on the screen), and the customer goes to it on the answer; to any free agent of the
// job if it has gone meanwhile, rather than being abandoned (P-2). An own call is left out of
// pacing with its agent, as a callback tied to its agent is (S-2).

// previewOffer is the contact a preview job shows an agent: claimed (its attempt row committed,
// P-5), not dialed.
type previewOffer struct {
	target store.DialTarget
	node   string
	dialAt time.Time // the campaign's time limit: dialed by itself then
}

// previewAskEvery is how soon a preview claim that found fewer contacts than free agents is
// tried again: an exhausted list is not asked every pass.
const previewAskEvery = time.Second

// jobPacingMode is the job's own pacing mode when it has one, else its campaign's.
func jobPacingMode(camp *config.Campaign, j *job) string {
	if m := j.row.PacingMode; m != nil && *m != "" {
		return *m
	}
	return camp.Pacing.Mode
}

// offerPreviews gives each free agent of a preview job without a preview the next contact:
// one claim per node for all of them, the agents free the longest first.
func (e *Engine) offerPreviews(ctx context.Context, camp *config.Campaign, j *job, now time.Time) {
	e.mu.Lock()
	if now.Before(j.previewRetry) {
		e.mu.Unlock()
		return
	}
	byNode := map[string][]*agent{}
	for _, a := range j.agents {
		if a.freeForLocked(nil) && a.preview == nil && !e.nodeDown(a.node) {
			byNode[a.node] = append(byNode[a.node], a)
		}
	}
	e.mu.Unlock()
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		free := byNode[node]
		slices.SortFunc(free, func(a, b *agent) int { return a.since.Compare(b.since) })
		targets, err := e.o.Store.ClaimContacts(ctx, store.ClaimRequest{JobID: j.id, Run: j.row.Run, N: len(free),
			Instance: e.o.Instance, Node: node, NewUUID: e.o.NewUUID, OpenZone: e.openZone(camp, now),
			CallbackGrace: camp.CallbackGrace, Kind: domain.DialPreview}, now)
		if err != nil {
			e.o.Logger.Warn("claim preview contacts", "job", j.id, "err", err)
			return
		}
		if len(targets) < len(free) {
			e.mu.Lock()
			j.previewRetry = now.Add(previewAskEvery)
			e.mu.Unlock()
		}
		for i, t := range targets {
			a := free[i]
			e.mu.Lock()
			ok := j.agents[a.id] == a && a.freeForLocked(nil) && a.preview == nil
			if ok {
				a.preview = &previewOffer{target: t, node: node, dialAt: now.Add(camp.Preview.TimeLimit)}
				a.state, a.since, a.attemptID = domain.AgentPreview, now, t.AttemptID
				e.emit(liveevents.Event{Type: liveevents.PreviewOffered, CampaignID: j.campaign, CallJobID: j.id, AgentID: a.id,
					Data: map[string]any{"attempt_id": t.AttemptID, "contact": cardJSON(t.ContactID, t.Card), "tel": t.Tel,
						"dial_at": a.preview.dialAt}})
			}
			e.mu.Unlock()
			if !ok { // the agent left or changed meanwhile: the contact goes back untouched
				e.giveBack(ctx, j, t.ChannelUUID, t.AttemptID)
				continue
			}
			e.publish(ctx, j, a)
		}
	}
}

// giveBack undoes a claim that was never dialed (a preview nobody dialed).
func (e *Engine) giveBack(ctx context.Context, j *job, uuid string, attemptID int64) {
	e.ledger.write(attemptID, func(ctx context.Context) {
		if _, err := e.o.Store.GiveBackAttempt(ctx, uuid, e.o.Now()); err != nil {
			e.o.Logger.Warn("give back a preview", "job", j.id, "attempt", attemptID, "err", err)
		}
	})
}

// dropPreviewLocked takes the agent's preview away (it leaves, or chose another state) and
// reports it, to be given back. Caller holds e.mu.
func dropPreviewLocked(a *agent) *previewOffer {
	p := a.preview
	a.preview = nil
	if p != nil && a.attemptID == p.target.AttemptID {
		a.attemptID = 0
	}
	return p
}

// previewsDue dials the previews whose time limit has passed.
func (e *Engine) previewsDue(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, now time.Time) {
	e.mu.Lock()
	var due []*agent
	for _, a := range j.agents {
		if a.preview != nil && !now.Before(a.preview.dialAt) {
			due = append(due, a)
		}
	}
	e.mu.Unlock()
	for _, a := range due {
		e.previewDial(ctx, cfg, camp, j, a, 0, "", true)
	}
}

// previewDial dials the agent's preview (attemptID 0: whichever it shows), tied to the agent.
// The attempt is marked dialed first: a takeover gives back previews never dialed, so the mark
// must be there before the originate can be.
func (e *Engine) previewDial(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, a *agent, attemptID int64, by string, auto bool) {
	now := e.o.Now()
	e.mu.Lock()
	p := a.preview
	if j.agents[a.id] != a || p == nil || attemptID != 0 && p.target.AttemptID != attemptID || a.leaving {
		e.mu.Unlock()
		return
	}
	if j.stopping || !e.inBusinessHours(camp, now) {
		// No call is placed once the job stops or outside its calendar (J-6, J-8): the preview
		// stays on the screen, dialed when the calendar opens again, given back when the agent
		// leaves the stopped job.
		e.emit(liveevents.Event{Type: liveevents.DialRefused, CampaignID: j.campaign, CallJobID: j.id, AgentID: a.id,
			Data: map[string]any{"tel": p.target.Tel, "reason": "outside_calling_hours"}})
		e.mu.Unlock()
		return
	}
	a.preview = nil
	a.state, a.since = domain.AgentOnCall, now
	e.mu.Unlock()
	if err := e.o.Store.MarkDialed(ctx, p.target.AttemptID, now); err != nil {
		e.o.Logger.Warn("preview not marked dialed; given back", "job", j.id, "attempt", p.target.AttemptID, "err", err)
		e.giveBack(ctx, j, p.target.ChannelUUID, p.target.AttemptID)
		e.ownCallFailed(ctx, j, a, domain.AgentAvailable)
		return
	}
	if auto {
		e.recordStep(j, p.target.AttemptID, store.AttemptStep{Kind: domain.StepPreviewAutoDialed, AgentID: &a.id})
	}
	e.publish(ctx, j, a)
	e.originate(ctx, cfg, camp, j, p.node, p.target, now, dialOpts{own: a})
}

// previewSkip ends the agent's preview without dialing: the attempt is recorded skipped with
// the reason, and the agent gets the next contact.
func (e *Engine) previewSkip(ctx context.Context, j *job, a *agent, r agentstate.Request) {
	now := e.o.Now()
	e.mu.Lock()
	p := a.preview
	if j.agents[a.id] != a || p == nil || r.AttemptID != 0 && p.target.AttemptID != r.AttemptID {
		e.mu.Unlock()
		return
	}
	dropPreviewLocked(a)
	a.state, a.since = domain.AgentAvailable, now
	e.emit(liveevents.Event{Type: liveevents.PreviewSkipped, CampaignID: j.campaign, CallJobID: j.id, AgentID: a.id,
		Data: map[string]any{"attempt_id": p.target.AttemptID, "reason": r.Reason}})
	e.mu.Unlock()
	e.ledger.write(p.target.AttemptID, func(ctx context.Context) {
		skip := store.PreviewSkip{AttemptID: p.target.AttemptID, Reason: r.Reason, AgentID: a.id, By: r.By, At: now}
		if _, err := e.o.Store.SkipPreview(ctx, skip); err != nil {
			e.o.Logger.Warn("record a preview skip", "job", j.id, "attempt", p.target.AttemptID, "err", err)
		}
	})
	e.publish(ctx, j, a)
}

// manualDial dials a number the agent typed, as an attempt of the job (issue 16). The API
// checked the number, caller ID, calling hours and do-not-call lists; the store checks the
// lists again and claims the number's contact in the transaction that writes the attempt (P-5).
func (e *Engine) manualDial(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, a *agent, r agentstate.Request) {
	now := e.o.Now()
	e.mu.Lock()
	prev := a.state
	ok := j.agents[a.id] == a && a.inRoom && !a.leaving && !a.leaveAfterCall && a.call == nil && a.reserved == nil &&
		a.preview == nil && (prev == domain.AgentAvailable || prev == domain.AgentBreak || prev == domain.AgentAway)
	if ok {
		// Reserved at once: no customer is given to it meanwhile. The attempt of its last call
		// (kept through wrap-up) is not this one.
		a.state, a.since, a.attemptID = domain.AgentOnCall, now, 0
	}
	e.mu.Unlock()
	if !ok {
		e.dialRefused(j, a, r.Tel, "agent_busy")
		return
	}
	if !e.inBusinessHours(camp, now) {
		e.dialRefused(j, a, r.Tel, "outside_calling_hours")
		e.ownCallFailed(ctx, j, a, prev)
		return
	}
	callerID := r.CallerID
	if callerID == "" {
		callerID = j.row.CallerID
	}
	t, err := e.o.Store.CreateManualAttempt(ctx, store.ManualDial{JobID: j.id, Run: j.row.Run, AgentID: a.id, Tel: r.Tel,
		CallerID: callerID, By: r.By, Instance: e.o.Instance, Node: a.node, NewUUID: e.o.NewUUID}, now)
	if err != nil {
		reason := "not_recorded"
		switch {
		case errors.Is(err, store.ErrDoNotCall):
			reason = "do_not_call"
		case errors.Is(err, store.ErrContactBusy):
			reason = "contact_busy"
		case errors.Is(err, store.ErrJobNotRunning):
			reason = "call_job_not_running"
		}
		e.o.Logger.Info("manual dial refused", "job", j.id, "agent", a.id, "reason", reason, "err", err)
		e.dialRefused(j, a, r.Tel, reason)
		e.ownCallFailed(ctx, j, a, prev)
		return
	}
	e.publish(ctx, j, a)
	e.originate(ctx, cfg, camp, j, a.node, t, now, dialOpts{own: a, callerID: callerID})
}

// dialRefused tells the agent's screen that its manual dial was not placed, and why.
func (e *Engine) dialRefused(j *job, a *agent, tel, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.emit(liveevents.Event{Type: liveevents.DialRefused, CampaignID: j.campaign, CallJobID: j.id, AgentID: a.id,
		Data: map[string]any{"tel": tel, "reason": reason}})
}

// ownCallFailed puts an agent reserved for a call it dials back in state (the call was not
// placed).
func (e *Engine) ownCallFailed(ctx context.Context, j *job, a *agent, state domain.AgentState) {
	e.mu.Lock()
	back := j.agents[a.id] == a && a.state == domain.AgentOnCall && a.call == nil && a.reserved == nil
	if back {
		a.state, a.since, a.attemptID = state, e.o.Now(), 0
	}
	e.mu.Unlock()
	if back {
		e.publish(ctx, j, a)
	}
}

// cardJSON is a contact's screen-pop card as the live events carry it.
func cardJSON(contactID int64, c store.ContactCard) map[string]any {
	card := map[string]any{"id": contactID, "name": c.Name, "kana": c.Kana, "tel": c.Tel,
		"remarks": c.Remarks, "previous_attempts": c.PreviousAttempts, "last_outcome": nil, "last_attempt_at": nil}
	if contactID == 0 {
		card["id"] = nil // a manual dial of a number no contact has
	}
	if c.LastOutcome != "" {
		card["last_outcome"] = c.LastOutcome
	}
	if c.LastAttemptAt != nil {
		card["last_attempt_at"] = *c.LastAttemptAt
	}
	return card
}

// recordStep records one step of a call on its attempt, queued behind the attempt's other writes.
func (e *Engine) recordStep(j *job, attemptID int64, st store.AttemptStep) {
	if st.At.IsZero() {
		st.At = e.o.Now()
	}
	if h := e.o.Hooks.Step; h != nil {
		h(j.campaign, st.Kind)
	}
	st.AttemptID = attemptID
	e.ledger.write(attemptID, func(ctx context.Context) {
		if err := retryWrite(ctx, func() error { return e.o.Store.AddAttemptStep(ctx, st) }); err != nil {
			e.o.Logger.Warn("record a call step", "attempt", attemptID, "kind", st.Kind, "err", err)
		}
	})
}
