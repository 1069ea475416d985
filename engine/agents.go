package engine

import (
	"context"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/store"
)

// join calls the agent's phone for the job (G-1): it parks after every bridge, so the agent stays
// on the line between customers.
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
	node, release, err := e.o.Switch.Acquire("")
	if err != nil {
		e.setGone(ctx, j, agentID, "no switch node is connected")
		return
	}
	release() // an agent's leg is not a call in flight; the node is remembered on the agent
	a := &agent{id: agentID, leg: e.o.NewUUID(), node: node, state: agentstate.LoggedOff, since: e.o.Now()}
	cmd, err := freeswitch.OriginateCmd(freeswitch.Originate{UUID: a.leg, DialString: ag.DialString, App: "&park()",
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: cfg.FreeSWITCH.AgentCallerID},
			{Name: "park_after_bridge", Value: "true"}, {Name: "ignore_early_media", Value: "true"},
			{Name: "originate_timeout", Value: "30"}}})
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
			if _, err := freeswitch.ParseJobResult(r.Body); err != nil || r.Err != nil {
				if r.Err != nil { // the answer was lost, not refused: the leg may exist
					e.command(ctx, node, uuidKill(a.leg, "NORMAL_CLEARING"))
				}
				e.agentGone(ctx, j, a, MessageLegDropped)
			}
		case <-ctx.Done():
		}
	}()
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

// agentEvent moves an agent's phone leg: answered → hold music and available; parked again after
// a customer left → hold music; hung up → the agent leaves the job (G-3).
func (e *Engine) agentEvent(ctx context.Context, j *job, a *agent, ev *wire.Event) {
	switch ev.Name() {
	case "CHANNEL_ANSWER":
		e.mu.Lock()
		a.answered = true
		a.state, a.since = agentstate.Available, e.o.Now()
		e.mu.Unlock()
		e.publish(ctx, j, a)
		// The switch queues broadcasts: the prompt plays out, then the music loops (G-1).
		fs := e.o.Config().FreeSWITCH
		cmds := []string{uuidBroadcast(a.leg, holdMusic(fs))}
		if fs.LoginPrompt != "" && fs.LoginPrompt != "none" {
			cmds = append([]string{uuidBroadcast(a.leg, fs.LoginPrompt)}, cmds...)
		}
		e.commands(ctx, a.node, cmds...)
		e.bridgeWaiting(ctx, j)
	case "CHANNEL_PARK":
		e.mu.Lock()
		reparked := a.answered && !a.leaving && ev.Header.Get("Other-Leg-Unique-ID") != ""
		back := reparked && a.call == nil
		if reparked && a.call != nil && a.call.uuid == ev.Header.Get("Other-Leg-Unique-ID") {
			a.parkedAfterCall = true // the customer's end is not handled yet: endCall starts the music
		}
		e.mu.Unlock()
		if back { // re-parked after the customer's leg ended (capture 09)
			e.command(ctx, a.node, uuidBroadcast(a.leg, holdMusic(e.o.Config().FreeSWITCH)))
		}
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
		live := c != nil && !c.ended
		if c != nil {
			c.dropped = true
		}
		// The customer's end may have been handled first (its events travel on another shard):
		// a call that ended moments before its agent's phone did was ended by that drop.
		justEnded := c == nil && !a.leaving && a.state == agentstate.WrapUp && a.attemptID != 0 &&
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
		if c.answered != nil && c.agent == nil && !c.ended && !c.abandoned {
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
	delete(j.agents, a.id)
	delete(e.legs, a.leg)
	e.setGoneLocked(j, a.id, message)
}

func (e *Engine) setGone(ctx context.Context, j *job, agentID int, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setGoneLocked(j, agentID, message)
}

// setGoneLocked queues the agent's logoff behind its earlier states. Caller holds e.mu.
func (e *Engine) setGoneLocked(j *job, agentID int, message string) {
	st := agentstate.Agent{ID: agentID, State: agentstate.LoggedOff, Since: e.o.Now(), Message: message}
	e.agentStateEvent(j, st)
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
	st := agentstate.Agent{ID: a.id, State: a.state, Since: a.since, CallJobID: j.id, AttemptID: a.attemptID,
		Leg: a.leg, Node: a.node}
	if a.state == agentstate.Available || a.state == agentstate.Break || a.state == agentstate.Away {
		st.AttemptID = 0
	}
	e.agentStateEvent(j, st)
	e.states.write(int64(a.id), func(ctx context.Context) {
		if err := e.o.Agents.Set(ctx, st); err != nil {
			e.o.Logger.Warn("publish agent state", "agent", st.ID, "err", err)
		}
	})
}

// AfterDisposition moves an agent out of wrap-up as it chose when saving (G-4): continue,
// break, away, or end. It is queued for the job's owner like every agent request.
func AfterDisposition(after string) (agentstate.Request, bool) {
	switch after {
	case "continue", "":
		return agentstate.Request{Kind: "state", State: agentstate.Available}, true
	case "break":
		return agentstate.Request{Kind: "state", State: agentstate.Break}, true
	case "away":
		return agentstate.Request{Kind: "state", State: agentstate.Away}, true
	case "end":
		return agentstate.Request{Kind: "leave"}, true
	}
	return agentstate.Request{}, false
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
	e.jobStateEvent(j, "running")

	byNode := map[string][]string{}
	var mine []agentstate.Agent
	for _, a := range agents {
		if a.CallJobID == j.id && a.State != agentstate.LoggedOff && a.Leg != "" {
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
		a := &agent{id: st.ID, leg: st.Leg, node: st.Node, answered: true, state: st.State, since: st.Since, attemptID: st.AttemptID}
		e.mu.Lock()
		j.agents[a.id] = a
		e.legs[a.leg] = leg{job: j, agent: a}
		e.mu.Unlock()
	}
	for _, l := range live {
		c := &call{attemptID: l.ID, tel: l.Tel, uuid: l.ChannelUUID, node: l.Node, started: l.StartedAt,
			answered: l.AnsweredAt, bridged: l.BridgedAt}
		if l.ContactID != nil {
			c.contactID = *l.ContactID
		}
		e.mu.Lock()
		if l.AgentID != nil {
			if a := j.agents[*l.AgentID]; a != nil && a.attemptID == l.ID {
				c.agent, a.call = a, c
			}
		}
		if alive[l.ChannelUUID] {
			j.calls[c.uuid] = c
			e.legs[c.uuid] = leg{job: j, call: c}
			e.calls++
			if c.answered != nil && c.agent == nil && c.bridged == nil {
				c.deadline = e.o.Now() // it waited through the takeover: abandon unless an agent is free now
			}
			if camp := campaignOf(cfg, j.campaign); camp != nil && c.answered != nil {
				// A live answer PostgreSQL will hold only once the call ends: the pacer counts it now (P-2).
				e.statsOf(camp).local[c.attemptID] = &localAnswer{at: *c.answered}
			}
			e.mu.Unlock()
			continue
		}
		e.mu.Unlock()
		// Gone while nobody watched: close it with what is known (a bridged call was connected,
		// an answered one abandoned, an unanswered one is a network failure to retry soon).
		cause := "LOST_DURING_RESTART"
		if c.bridged == nil && c.answered == nil {
			e.finish(ctx, j, c, "network_failure", cause)
		} else {
			e.endCall(ctx, j, c, cause)
		}
	}
}
