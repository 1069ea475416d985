package engine

import (
	"context"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// Messages shown to an agent at its next screen (agentstate.Agent.Message).
const (
	MessageIdleLogoff = "エージェントステータスがログオフの状態です" // G-5, the manual's words
	MessageJobStopped = "コールジョブが停止しました"
	MessageLegDropped = "電話が切断されたためジョブから退出しました"
)

// job is a running call job owned by this instance. Its fields are guarded by Engine.mu.
type job struct {
	id       int64
	campaign int           // the batch's campaign: fixed for the job's life, read without the lock
	row      store.CallJob // refreshed by the loop under Engine.mu
	lease    *store.JobLease
	stopping bool // stopped (by an admin or business end): no new calls; agents leave when free
	agents   map[int]*agent
	calls    map[string]*call
	decision pacing.Decision // the latest pacing decision, for status and metrics
	// reconciled is when the job's channels were last checked with the switch (loop only).
	reconciled time.Time
	// own counts the originates that failed because of us in a row (ownfailure.go).
	own ownFailures
	// closedHours: the calendar was closed at the last step (loop only): a pause is logged once.
	closedHours bool
	// ownersAsked is the latest claim for free agents' own callbacks (callbacks.go).
	ownersAsked ownersAsk
	// previewRetry: a preview claim found too few contacts; the next is not before this.
	previewRetry time.Time
}

// agent is an agent working the job: its phone leg and its state (G-4).
type agent struct {
	id        int
	leg, node string
	// room is the agent's conference room (freeswitch.Room): the phone waits there for the
	// whole session and customers are moved in, so no customer race can take the phone.
	room string
	// roomName is the room's Conference-Name, as the switch's conference events carry it.
	roomName string
	answered bool // the phone answered
	// originated: the originate returned +OK, so the leg is in the switch's session table
	// and may be checked with it (asking earlier would take a ringing phone for a gone one).
	originated bool
	inRoom     bool // the phone is in its room: the agent hears hold music between calls
	state      domain.AgentState
	since      time.Time
	call       *call // the customer bridged, or waiting for the disposition (wrap-up)
	attemptID  int64 // the attempt of call, kept through wrap-up
	leaving    bool
	// leaveAfterCall: the agent asked to leave during a call; it leaves once the call is over.
	leaveAfterCall bool
	message        string
	// reserved is a callback the agent promised, dialed for it (S-2): until the customer is
	// with an agent or the call ends, no other customer is given this agent and pacing counts
	// neither of them (callbacks.go).
	reserved *call
	// preview is the contact a preview job shows the agent (state preview), not dialed yet.
	preview *previewOffer
	// party is the consult of another agent's call this agent is the target of (party.go).
	party *party
}

// call is one customer call; state is its place in the lifecycle (callstate.go).
type call struct {
	state     callState
	attemptID int64
	contactID int64
	tel       string
	uuid      string
	node      string
	release   func()
	started   time.Time
	answered  *time.Time
	bridged   *time.Time // joined the agent's room: talk time counts from here
	// answerEvent is when the answer event left the socket (wire.Event.Received); returnedAt
	// when the originate's result was read.
	answerEvent, returnedAt time.Time
	deadline                time.Time // answered, no agent yet: abandoned at this time (P-2)
	agent                   *agent    // reserved from callConnecting on
	// originated: the originate's +OK came. Only then is a customer moved into a room: on the
	// real switch a uuid_transfer that lands while the originate still sets the channel up is
	// either overridden by the originate's own &park() (lost: the customer waits in silence)
	// or cancels the originate; one sent after the +OK takes effect (labtest/doc.go).
	originated bool
	moveSent   time.Time // when the move into the agent's room was sent (callConnecting)
	dropped    bool      // the agent's phone dropped during the call
	unsure     time.Time // the originate's fate is unknown (lost reply): check the switch after this
	// owner is the agent who promised this callback, dialed for it during its grace (S-2): the
	// customer goes to it when it is free (callbacks.go).
	owner *agent
	// amd is the answer's classification, for a campaign that classifies answers (analysis.go).
	amd *analysis
	rec *recording // the call's recording, once started (recording.go)
	// card is the contact as the claim read it, for the screen-pop of the call's live events.
	card store.ContactCard
	// own: dialed by its agent (a preview or a manual dial); owner is that agent (issue 16).
	own bool
	// held: the customer is in its hold room, away from its agent (party.go).
	held bool
	// party is the third party of the call: a consult, a blind transfer ringing, a
	// conference, or the party it was transferred to (state partyTransferred).
	party *party
	// xfer: handed over to an outside party; no agent of ours is on the call any more.
	xfer bool
}

func campaignOf(cfg *config.Config, id int) *config.Campaign {
	for i := range cfg.Campaigns {
		if cfg.Campaigns[i].ID == id {
			return &cfg.Campaigns[i]
		}
	}
	return nil
}

// step runs one pass of a job: requests from the API, business hours, idle agents, the check
// with the switch, then new calls as pacing asks (connect deadlines are watchCalls' own).
func (e *Engine) step(ctx context.Context, cfg *config.Config, j *job) {
	now := e.o.Now()
	camp := campaignOf(cfg, j.campaign)
	if camp == nil {
		e.o.Logger.Error("call job's campaign is not configured; stopping it", "job", j.id, "campaign", j.campaign)
		_, _ = e.o.Store.StopCallJob(ctx, j.id, "campaign_removed", now)
		e.mu.Lock()
		j.stopping = true
		e.mu.Unlock()
	}
	if reqs, err := e.o.Agents.Take(ctx, j.id, 100); err == nil {
		for _, r := range reqs {
			e.request(ctx, cfg, j, r)
		}
	}
	open := camp != nil && e.inBusinessHours(camp, now)
	if camp != nil && open == j.closedHours {
		// J-8: between windows the job pauses, still running, and resumes by itself.
		j.closedHours = !open
		e.o.Logger.Info("call job calling hours", "job", j.id, "open", open)
	}
	e.mu.Lock() // ownFailure may stop the job from the event path
	stopping, started := j.stopping, j.row.StartedAt
	e.mu.Unlock()
	if camp != nil && !stopping && e.pastBusinessEnd(camp, started, now) {
		// J-6: at business end the job stops by itself; calls in progress go on.
		if _, err := e.o.Store.StopCallJob(ctx, j.id, "business_end", now); err == nil {
			e.o.Logger.Info("call job stopped at business end", "job", j.id)
		}
		e.jobStateEvent(j, domain.JobStopped)
		e.mu.Lock()
		j.stopping = true
		e.mu.Unlock()
	}
	e.checkAgents(ctx, cfg, j, now)
	e.reconcile(ctx, j, now)
	e.mu.Lock()
	draining := e.draining
	stopping = j.stopping
	e.mu.Unlock()
	if !stopping && open && !draining {
		e.dial(ctx, cfg, camp, j, now)
	}
}

// inBusinessHours: a job dials only inside the open windows of the campaign's calendar (J-6,
// J-8); between two windows of a day it pauses and stays running.
func (e *Engine) inBusinessHours(c *config.Campaign, now time.Time) bool {
	return c.CallCalendar().OpenAt(now, locationOf(c))
}

// pastBusinessEnd: the business end of the day the job started has passed — today's (the end
// of its last window; a day the calendar closes has ended), or an earlier day's when no
// instance ran the job through it (J-6: a job never dials into the next day by itself).
func (e *Engine) pastBusinessEnd(c *config.Campaign, started *time.Time, now time.Time) bool {
	loc := locationOf(c)
	if started != nil && calendar.DateOf(started.UTC(), loc).Before(calendar.DateOf(now, loc)) {
		return true
	}
	_, end, closed := c.CallCalendar().DayBounds(now, loc)
	return closed != "" || !now.Before(end)
}

func locationOf(c *config.Campaign) *time.Location {
	if c.Location != nil {
		return c.Location
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// idle: a stopping job with nothing of it in flight can be let go.
func (e *Engine) idle(j *job) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return j.stopping && len(j.calls) == 0 && len(j.agents) == 0
}

// request carries out an agent's request made through the API.
func (e *Engine) request(ctx context.Context, cfg *config.Config, j *job, r agentstate.Request) {
	e.mu.Lock()
	a := j.agents[r.AgentID]
	e.mu.Unlock()
	switch r.Kind {
	case domain.RequestJoin:
		e.mu.Lock()
		stopping := j.stopping
		e.mu.Unlock()
		if a == nil && !stopping {
			e.join(ctx, cfg, j, r.AgentID)
		}
	case domain.RequestLeave:
		if a == nil {
			return
		}
		e.mu.Lock()
		onCall := a.state == domain.AgentOnCall && (a.call != nil || a.reserved != nil || a.party != nil)
		if onCall {
			a.leaveAfterCall = true // the customer's call is not cut: the agent leaves after it
		} else {
			a.leaving = true // decided and marked at once: no customer is put through meanwhile
		}
		e.mu.Unlock()
		if !onCall {
			e.leave(ctx, j, a, "")
		}
	case domain.RequestState:
		if a == nil {
			return
		}
		e.mu.Lock()
		// Not while a call it dialed rings, nor while it is the target of a consult.
		ok := a.call == nil && a.inRoom && a.state != domain.AgentOnCall
		var dropped *previewOffer
		if ok {
			if a.state == domain.AgentWrapUp {
				e.observeWrapLocked(j, e.o.Now().Sub(a.since))
			}
			dropped = dropPreviewLocked(a) // a preview left undecided goes back to the list
			a.state, a.since, a.attemptID = r.State, e.o.Now(), 0
		}
		e.mu.Unlock()
		if dropped != nil {
			e.giveBack(ctx, j, dropped.target.ChannelUUID, dropped.target.AttemptID)
		}
		if ok {
			e.publish(ctx, j, a)
		}
	case domain.RequestHangupCustomer:
		e.mu.Lock()
		var c *call
		switch {
		case a != nil && a.call != nil && a.state == domain.AgentOnCall:
			c = a.call
		case a != nil && a.reserved != nil && a.reserved.own && a.state == domain.AgentOnCall:
			c = a.reserved // its own call still ringing: cancelled (issue 16)
		}
		e.mu.Unlock()
		if c != nil {
			e.command(ctx, c.node, uuidKill(c.uuid, "NORMAL_CLEARING"))
		}
	case domain.RequestRecordCall:
		if c := e.connectedCall(a); c != nil {
			e.startRecording(ctx, j, c, true)
		}
	case domain.RequestStopRecording:
		if c := e.connectedCall(a); c != nil {
			e.stopRecording(ctx, j, c)
		}
	default:
		e.deskRequest(ctx, cfg, j, a, r)
	}
}

// connectedCall is the call agent a (nil or not) is talking on, or nil.
func (e *Engine) connectedCall(a *agent) *call {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a != nil && a.call != nil && a.call.state == callConnected {
		return a.call
	}
	return nil
}

// checkCalls bridges answered customers waiting for an agent, abandons those past the connect
// deadline (P-2), and settles originates whose fate is unknown.
func (e *Engine) checkCalls(ctx context.Context, camp *config.Campaign, j *job, now time.Time) {
	e.mu.Lock()
	var waiting, late, unsure, stuck, unclassified, voicemail []*call
	for _, c := range j.calls {
		if u, v := checkAnalysisLocked(c, now); u || v {
			if u {
				unclassified = append(unclassified, c)
			} else {
				voicemail = append(voicemail, c)
			}
			continue
		}
		switch {
		case !c.live():
		case c.state == callConnecting && now.Sub(c.moveSent) >= moveTimeout:
			stuck = append(stuck, c)
		case c.waitingForAgent() && now.Before(c.deadline):
			waiting = append(waiting, c)
		case c.waitingForAgent():
			c.toLocked(callAbandoning)
			if c.amd == nil || c.amd.result != amdMachine { // a machine for an agent is no person
				e.observeAbandonLocked(j, c, now)
			}
			late = append(late, c)
		case !c.unsure.IsZero() && now.After(c.unsure):
			c.unsure = time.Time{}
			unsure = append(unsure, c)
		}
	}
	e.mu.Unlock()
	for _, c := range unclassified {
		e.classified(ctx, j, c, amdUnsure, "time_limit") // no verdict in time: a person (P-3)
	}
	for _, c := range voicemail {
		e.leaveVoicemail(ctx, j, c) // no beep heard: the message all the same
	}
	slices.SortFunc(waiting, func(a, b *call) int { return a.deadline.Compare(b.deadline) })
	for _, c := range waiting {
		e.connect(ctx, j, c) // no agent free on this one's node says nothing of the others
	}
	for _, c := range late {
		e.abandon(ctx, camp, c)
	}
	for _, c := range stuck {
		e.moveLost(ctx, j, c)
	}
	for _, c := range unsure {
		alive, err := e.o.Switch.Alive(ctx, c.node, []string{c.uuid})
		if err == nil && !alive[c.uuid] {
			e.endCall(ctx, j, c, "ORIGINATE_UNCONFIRMED")
		}
	}
}

// checkAgents logs off agents idle too long (G-5) and releases free agents of a stopping job.
func (e *Engine) checkAgents(ctx context.Context, cfg *config.Config, j *job, now time.Time) {
	e.mu.Lock()
	type out struct {
		a   *agent
		msg string
	}
	var leaving []out
	// A stopping job keeps its free agents while customers it dialed may still answer: an
	// answered customer is never left without an agent because the job stopped (P-2, J-6).
	customers := false
	for _, c := range j.calls {
		if c.state == callDialing || c.state == callClassifying || c.state == callWaiting {
			customers = true
			break
		}
	}
	for _, a := range j.agents {
		if a.leaving || !a.answered {
			continue
		}
		// Decided and marked under the lock, so no customer is bridged to an agent on its way out.
		switch {
		case a.leaveAfterCall && a.call == nil:
			a.leaving = true
			leaving = append(leaving, out{a, ""})
		case j.stopping && a.call == nil && !customers:
			a.leaving, a.message = true, MessageJobStopped
			leaving = append(leaving, out{a, MessageJobStopped})
		case a.state != domain.AgentOnCall && a.call == nil && now.Sub(a.since) >= cfg.System.AgentIdleLimit:
			a.leaving, a.message = true, MessageIdleLogoff
			leaving = append(leaving, out{a, MessageIdleLogoff})
		}
	}
	e.mu.Unlock()
	for _, l := range leaving {
		e.leave(ctx, j, l.a, l.msg)
	}
}
