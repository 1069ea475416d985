package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/store"
)

// join calls the agent's phone for the job (G-1) into a conference room of its own, where it
// stays for the whole session: the login prompt plays first, then the room's hold music while
// the agent is alone. Customers are moved in and out of the room, so nothing a customer does
// can hang up the agent's phone (a uuid_bridge whose other side vanishes mid-setup hangs up
// both: docs/call-lifecycle.md).
func (e *Engine) join(ctx context.Context, cfg *config.Config, j *job, agentID int) {
	var ag *config.Agent
	for i := range cfg.Agents {
		if cfg.Agents[i].ID == agentID {
			ag = &cfg.Agents[i]
		}
	}
	if ag == nil {
		return
	}
	node, release, err := e.o.Switch.Acquire(e.agentNode())
	if err != nil {
		e.setGone(ctx, j, agentID, "no switch node is connected")
		return
	}
	release() // an agent's leg is not a call in flight; the node is remembered on the agent
	a := &agent{id: agentID, leg: e.o.NewUUID(), node: node, state: domain.AgentLoggedOff, since: e.o.Now()}
	a.roomName = a.leg
	fs := cfg.FreeSWITCH
	o := freeswitch.Originate{UUID: a.leg, DialString: ag.DialString,
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: fs.AgentCallerID},
			{Name: "ignore_early_media", Value: "true"}, {Name: "originate_timeout", Value: "30"},
			{Name: "conference_moh_sound", Value: holdMusic(fs)}}}
	if a.room, err = freeswitch.Room(a.roomName, fs.ConferenceProfile); err == nil {
		if fs.LoginPrompt != "" && fs.LoginPrompt != "none" {
			o.Inline = []freeswitch.App{{Name: "playback", Data: fs.LoginPrompt}, {Name: "conference", Data: a.room}}
		} else {
			o.App = "&conference(" + a.room + ")"
		}
	}
	var cmd string
	if err == nil {
		cmd, err = freeswitch.OriginateCmd(o)
	}
	if err != nil {
		e.setGone(ctx, j, agentID, "the agent's dial string is not valid")
		return
	}
	e.mu.Lock()
	j.agents[agentID] = a
	e.legs[a.leg] = leg{job: j, agent: a}
	e.mu.Unlock()
	e.publish(ctx, j, a)
	res, err := e.o.Switch.BgAPI(ctx, node, cmd)
	if err != nil {
		// The originate may have reached the switch: make sure no phone rings for nobody.
		e.command(ctx, node, uuidKill(a.leg, "NORMAL_CLEARING"))
		e.agentGone(ctx, j, a, MessageLegDropped)
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		select {
		case r := <-res:
			if r.Err != nil { // the answer was lost, not refused: the leg may exist
				e.command(ctx, node, uuidKill(a.leg, "NORMAL_CLEARING"))
				e.agentGone(ctx, j, a, MessageLegDropped)
			}
			// A result that came is handled with the leg's events (agentOriginated).
		case <-ctx.Done():
		}
	}()
}

// agentOriginated is the agent originate's BACKGROUND_JOB, in order with the leg's events:
// +OK means the leg is in the switch's session table, so the periodic check may ask about it;
// -ERR means the phone never answered (one that answered and hung up ends by its hangup event).
func (e *Engine) agentOriginated(ctx context.Context, j *job, a *agent, body []byte) {
	placed := freeswitch.ParseOriginateResult(body).Placed()
	e.mu.Lock()
	if placed {
		a.originated = true
	}
	gone := !placed && !a.answered
	e.mu.Unlock()
	if gone {
		e.o.Logger.Info("agent's phone did not answer", "job", j.id, "agent", a.id, "result", strings.TrimSpace(string(body)))
		e.agentGone(ctx, j, a, MessageLegDropped)
	}
}

// leave releases the agent's phone; its events finish the job of logging it off.
func (e *Engine) leave(ctx context.Context, j *job, a *agent, message string) {
	e.mu.Lock()
	a.leaving, a.message = true, message
	node, id := a.node, a.leg
	e.mu.Unlock()
	e.command(ctx, node, uuidKill(id, "NORMAL_CLEARING"))
	alive, err := e.o.Switch.Alive(ctx, node, []string{id})
	if err == nil && !alive[id] {
		e.agentGone(ctx, j, a, message)
	}
}

// agentEvent moves an agent's phone leg: answered; in its room → available (the room plays
// hold music while the agent is alone, G-1, G-3); hung up → the agent leaves the job.
func (e *Engine) agentEvent(ctx context.Context, j *job, a *agent, ev *wire.Event) {
	switch ev.Name() {
	case "CHANNEL_ANSWER":
		e.mu.Lock()
		a.answered = true
		e.mu.Unlock()
	case "CUSTOM":
		if ev.Header.Get("Event-Subclass") != freeswitch.ConferenceMaintenance ||
			ev.Header.Get("Conference-Name") != a.roomName {
			return
		}
		switch ev.Header.Get("Action") {
		case "add-member":
			e.mu.Lock()
			first := !a.inRoom && !a.leaving
			if first {
				a.inRoom, a.answered = true, true
				a.state, a.since = domain.AgentAvailable, e.o.Now()
			}
			e.mu.Unlock()
			if first {
				e.publish(ctx, j, a)
				e.bridgeWaiting(ctx, j)
			}
		case "del-member":
			e.mu.Lock()
			a.inRoom = false // out of the room, its dialplan ends: the hangup follows
			e.mu.Unlock()
		}
	case "BACKGROUND_JOB":
		e.agentOriginated(ctx, j, a, ev.Body)
	case "CHANNEL_HANGUP_COMPLETE":
		e.agentLegEnded(ctx, j, a)
	}
}

// agentLegEnded: the agent's phone is gone (its hangup event, or the switch no longer knows
// the leg): the customer it talks to is not left alone, and the agent leaves the job (G-3).
func (e *Engine) agentLegEnded(ctx context.Context, j *job, a *agent) {
	{
		e.mu.Lock()
		msg := a.message
		if !a.leaving {
			msg = MessageLegDropped
		}
		c := a.call
		if c != nil && c.state == callConnecting && c.agent == a {
			// Not yet in the room: the customer waits for another agent under the deadline.
			c.agent, a.call = nil, nil
			c.toLocked(callWaiting)
			c = nil
		}
		live := c != nil && c.live()
		if c != nil {
			c.dropped = true
		}
		// The customer's end may have been handled first (its events travel on another shard):
		// a call that ended moments before its agent's phone did was ended by that drop.
		justEnded := c == nil && !a.leaving && a.state == domain.AgentWrapUp && a.attemptID != 0 &&
			e.o.Now().Sub(a.since) < 2*time.Second
		attempt := a.attemptID
		e.mu.Unlock()
		if live {
			e.command(ctx, c.node, uuidKill(c.uuid, "NORMAL_CLEARING")) // never leave a customer alone
		}
		if justEnded {
			e.ledger.write(attempt, func(ctx context.Context) {
				if err := e.o.Store.MarkAgentDropped(ctx, attempt); err != nil {
					e.o.Logger.Warn("record agent drop", "attempt", attempt, "err", err)
				}
			})
		}
		e.agentGone(ctx, j, a, msg)
	}
}

// bridgeWaiting offers a newly free agent to customers already waiting.
func (e *Engine) bridgeWaiting(ctx context.Context, j *job) {
	e.mu.Lock()
	var waiting []*call
	for _, c := range j.calls {
		if c.waitingForAgent() {
			waiting = append(waiting, c)
		}
	}
	e.mu.Unlock()
	slices.SortFunc(waiting, func(a, b *call) int { return a.answered.Compare(*b.answered) })
	for _, c := range waiting {
		e.connect(ctx, j, c) // no agent free on this one's node says nothing of the others
	}
}

// agentGone logs the agent off and takes it out of the job.
func (e *Engine) agentGone(ctx context.Context, j *job, a *agent, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if j.agents[a.id] != a {
		return // already gone: an event and a check may both tell, and a rejoin must not be undone
	}
	if p := dropPreviewLocked(a); p != nil {
		e.giveBack(ctx, j, p.target.ChannelUUID, p.target.AttemptID) // queued: never blocks
	}
	if p := a.party; p != nil && p.state != partyDone {
		// The target of a consult is gone: the loopback into its room is hung up, and the
		// consult ends as if the target had hung up (partyGone, from that leg's hangup).
		node, id := p.node, p.uuid
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.command(ctx, node, uuidKill(id, "NORMAL_CLEARING"))
		}()
	}
	delete(j.agents, a.id)
	delete(e.legs, a.leg)
	if c := a.reserved; c != nil { // its callback goes to any agent (S-2)
		a.reserved, c.owner = nil, nil
	}
	e.setGoneLocked(j, a.id, message)
}

func (e *Engine) setGone(ctx context.Context, j *job, agentID int, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setGoneLocked(j, agentID, message)
}

// setGoneLocked queues the agent's logoff behind its earlier states. Caller holds e.mu.
func (e *Engine) setGoneLocked(j *job, agentID int, message string) {
	st := agentstate.Agent{ID: agentID, State: domain.AgentLoggedOff, Since: e.o.Now(), Message: message}
	e.agentStateEventLocked(j, st)
	e.states.write(int64(agentID), func(ctx context.Context) {
		if err := e.o.Agents.Set(ctx, st); err != nil {
			e.o.Logger.Warn("publish agent logoff", "agent", agentID, "err", err)
		}
	})
}

// publish writes the agent's live state to Redis (G-6), where the API and pacing read it. The
// write is queued behind the agent's earlier ones (off the event path); the snapshot is taken
// and queued under e.mu, so a state can never overtake the agent's logoff.
func (e *Engine) publish(ctx context.Context, j *job, a *agent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if j.agents[a.id] != a {
		return
	}
	st := agentstate.Agent{ID: a.id, State: a.state, Since: a.since, CallJobID: j.id, JobRun: j.row.Run,
		AttemptID: a.attemptID, Leg: a.leg, Node: a.node}
	if a.state == domain.AgentAvailable || a.state == domain.AgentBreak || a.state == domain.AgentAway {
		st.AttemptID = 0
	}
	st.Call = partyStatusLocked(a)
	if p := a.preview; p != nil {
		st.Preview = &agentstate.Preview{AttemptID: p.target.AttemptID, ContactID: p.target.ContactID, Tel: p.target.Tel, DialAt: p.dialAt}
	}
	e.agentStateEventLocked(j, st)
	e.states.write(int64(a.id), func(ctx context.Context) {
		if err := e.o.Agents.Set(ctx, st); err != nil {
			e.o.Logger.Warn("publish agent state", "agent", st.ID, "err", err)
		}
	})
}

// adopt takes a running job over: its unfinished attempts are reconciled with the switch (alive
// → adopted, gone → closed with what is known, never dialed again) and its agents' legs that
// are still up are adopted too.
func (e *Engine) adopt(ctx context.Context, cfg *config.Config, row store.CallJob, lease *store.JobLease) {
	// What the job had in flight is read first: without it the job is not taken (its calls and
	// agents would have no owner), and the next pass tries again.
	agents, err := e.o.Agents.All(ctx)
	var live []store.LiveAttempt
	if err == nil {
		live, err = e.o.Store.UnfinishedAttempts(ctx, row.ID)
	}
	if err != nil {
		e.o.Logger.Warn("call job not taken: its calls and agents cannot be read", "job", row.ID, "err", err)
		lease.Release()
		return
	}
	j := &job{id: row.ID, campaign: row.CampaignID, row: row, lease: lease, agents: map[int]*agent{}, calls: map[string]*call{}}
	e.mu.Lock()
	e.jobs[j.id] = j
	e.mu.Unlock()
	e.o.Logger.Info("call job taken", "job", j.id, "instance", e.o.Instance)
	e.jobStateEvent(j, domain.JobRunning)

	byNode := map[string][]string{}
	var mine []agentstate.Agent
	for _, a := range agents {
		// State of an earlier run of the job is not this run's (releaseStaleAgents lets it go).
		if a.CallJobID == j.id && a.JobRun == row.Run && a.State != domain.AgentLoggedOff && a.Leg != "" {
			mine = append(mine, a)
			byNode[a.Node] = append(byNode[a.Node], a.Leg)
		}
	}
	for _, l := range live {
		byNode[l.Node] = append(byNode[l.Node], l.ChannelUUID)
	}
	alive := map[string]bool{}
	for node, ids := range byNode {
		got, err := e.o.Switch.Alive(ctx, node, ids)
		if err != nil {
			// The node cannot tell now: assume the channels are up and let their events or the
			// periodic check (reconcile) settle them, rather than closing live calls.
			for _, id := range ids {
				alive[id] = true
			}
			continue
		}
		for id, up := range got {
			alive[id] = up
		}
	}
	for _, st := range mine {
		if !alive[st.Leg] {
			e.setGone(ctx, j, st.ID, MessageLegDropped)
			continue
		}
		a := &agent{id: st.ID, leg: st.Leg, node: st.Node, answered: true, originated: true, inRoom: true,
			state: st.State, since: st.Since, attemptID: st.AttemptID, roomName: st.Leg}
		a.room, _ = freeswitch.Room(a.roomName, cfg.FreeSWITCH.ConferenceProfile)
		e.mu.Lock()
		j.agents[a.id] = a
		e.legs[a.leg] = leg{job: j, agent: a}
		e.mu.Unlock()
	}
	for _, l := range live {
		if l.DialKind == domain.DialPreview && l.DialedAt == nil {
			// A preview shown and never dialed: the contact goes back as if never shown.
			e.giveBack(ctx, j, l.ChannelUUID, l.ID)
			continue
		}
		c := &call{attemptID: l.ID, tel: l.Tel, uuid: l.ChannelUUID, node: l.Node, started: l.StartedAt,
			answered: l.AnsweredAt, bridged: l.BridgedAt, originated: l.AnsweredAt != nil}
		if l.ContactID != nil {
			c.contactID = *l.ContactID
		}
		e.mu.Lock()
		if l.AgentID != nil {
			if a := j.agents[*l.AgentID]; a != nil && a.attemptID == l.ID {
				c.agent, a.call = a, c
			}
		}
		switch {
		case c.bridged != nil:
			c.state = callConnected
		case c.answered != nil:
			c.state = callWaiting
			if c.agent != nil {
				c.agent.call, c.agent = nil, nil
			}
		}
		if alive[l.ChannelUUID] {
			j.calls[c.uuid] = c
			e.legs[c.uuid] = leg{job: j, call: c}
			e.calls++
			if c.state == callWaiting {
				c.deadline = e.o.Now() // it waited through the takeover: abandon unless an agent is free now
			}
			if camp := campaignOf(cfg, j.campaign); camp != nil && c.answered != nil {
				// A live answer PostgreSQL will hold only once the call ends: the pacer counts it now (P-2).
				e.statsOfLocked(camp).local[c.attemptID] = &localAnswer{at: *c.answered}
			}
			e.mu.Unlock()
			continue
		}
		e.mu.Unlock()
		// Gone while nobody watched: close it with what is known (a bridged call was connected,
		// an answered one abandoned, an unanswered one is a network failure to retry soon).
		cause := "LOST_DURING_RESTART"
		if c.bridged == nil && c.answered == nil {
			e.finish(ctx, j, c, domain.OutcomeNetworkFailure, cause)
		} else {
			e.endCall(ctx, j, c, cause)
		}
	}
	e.settleDesk(ctx, j, mine)
	// An agent reserved for a customer whose move into the room was not recorded before the
	// takeover has no call here: it is free again.
	e.mu.Lock()
	var freed []*agent
	for _, a := range j.agents {
		// So is an agent shown a preview (given back above) or dialing a call of its own that
		// did not survive the takeover.
		if (a.state == domain.AgentOnCall || a.state == domain.AgentPreview) && a.call == nil {
			a.attemptID, a.state, a.since = 0, domain.AgentAvailable, e.o.Now()
			freed = append(freed, a)
		}
	}
	e.mu.Unlock()
	for _, a := range freed {
		e.publish(ctx, j, a)
	}
}
