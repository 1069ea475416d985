package engine

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// Hold, transfer and conference (issue 16) move legs between conference rooms, as connecting
// a customer does (docs/call-lifecycle.md): nobody's phone ever leaves its room, so nothing a
// third party does can take an agent's phone with it.
//   - hold: the customer to a room of its own (<customer>-hold), where it hears the hold music
//     its originate set (conference_moh_sound); back into the agent's room to resume.
//   - a third party ("party") is a leg the engine originates into a room: an allowed number,
//     a supervisor's endpoint, or another agent of the job through a loopback pair whose far
//     side enters that agent's room.
//   - consult: the customer held, the party into the agent's room; swap moves them round;
//     finish hands the customer over (into the target agent's room, or with the party into a
//     room of their own, <customer>-xfer) and the agent goes to wrap-up; cancel ends the party.
//   - blind: the customer held while the party rings into <customer>-xfer; when it answers the
//     customer joins it and the agent goes to wrap-up; when it does not, the customer comes
//     back to the agent. To another agent of the job: straight into that agent's room.
//   - conference: the party into the agent's room with the customer.

// Party modes and states, as the agent's live state (agentstate.Party) spells them.
const (
	modeConsult    = "consult"
	modeBlind      = "blind"
	modeConference = "conference"
	// modeIncoming is how the target agent of a consult sees it.
	modeIncoming = "incoming"

	partyRinging     = "ringing"
	partyTalking     = "talking"
	partyHeld        = "held"
	partyTransferred = "transferred" // with the customer, the agent out: its hangup ends the customer's
	partyDone        = "done"        // ended or handed over by the engine: its hangup changes nothing
)

// party is the third party of an agent's call. Guarded by Engine.mu.
type party struct {
	uuid, node string
	mode       string
	target     agentstate.Target
	state      string
	call       *call
	from       *agent // the agent whose call it is
	agent      *agent // a target agent, reserved for the party
	by         string
	since      time.Time // its state's start
}

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func (e *Engine) roomOf(name string) string {
	r, _ := freeswitch.Room(name, e.o.Config().FreeSWITCH.ConferenceProfile)
	return r
}

func holdRoomName(uuid string) string { return uuid + "-hold" }
func xferRoomName(uuid string) string { return uuid + "-xfer" }

func moveCmd(uuid, room string) string { s, _ := freeswitch.UUIDTransferToRoom(uuid, room); return s }

// deskEventLocked publishes one of the desk's live events for the agent's call. Caller holds e.mu.
func (e *Engine) deskEventLocked(j *job, a *agent, c *call, typ string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	data["attempt_id"] = c.attemptID
	e.emit(liveevents.Event{Type: typ, CampaignID: j.campaign, CallJobID: j.id, AgentID: a.id, Data: data})
}

func targetData(p *party) map[string]any {
	return map[string]any{"mode": p.mode, "target": p.target}
}

func targetText(t agentstate.Target) string {
	switch t.Kind {
	case domain.TargetAgent:
		return itoa(t.AgentID)
	case domain.TargetSupervisor:
		return t.Supervisor
	}
	return t.Number
}

// talkingCallLocked is the connected call agent a talks on, or nil. Caller holds e.mu.
func talkingCallLocked(a *agent) *call {
	if c := a.call; c != nil && c.state == callConnected && c.agent == a {
		return c
	}
	return nil
}

// hold puts the agent's customer on hold music (unhold false) or back with the agent.
func (e *Engine) hold(ctx context.Context, j *job, a *agent, r agentstate.Request, on bool) {
	e.mu.Lock()
	c := talkingCallLocked(a)
	if c == nil || c.party != nil || c.held == on {
		e.mu.Unlock()
		return
	}
	c.held = on
	room, kind, typ := a.room, domain.StepUnhold, liveevents.CallResumed
	if on {
		room, kind, typ = e.roomOf(holdRoomName(c.uuid)), domain.StepHold, liveevents.CallHeld
	}
	e.mu.Unlock()
	if _, err := e.o.Switch.API(context.WithoutCancel(ctx), c.node, moveCmd(c.uuid, room)); err != nil {
		e.o.Logger.Warn("hold not carried out", "job", j.id, "attempt", c.attemptID, "hold", on, "err", err)
		e.mu.Lock()
		c.held = !on
		e.mu.Unlock()
		return
	}
	e.recordStep(j, c.attemptID, store.AttemptStep{Kind: kind, AgentID: &a.id, By: r.By})
	e.mu.Lock()
	e.deskEventLocked(j, a, c, typ, nil)
	e.mu.Unlock()
	e.publish(ctx, j, a)
}

// partyDial is where a target is reached: a dial string, or for another agent of the job the
// agent itself (reached through a loopback pair into its room).
func (e *Engine) partyDial(cfg *config.Config, camp *config.Campaign, j *job, t agentstate.Target) (dial, callerID string, ok bool) {
	fs := cfg.FreeSWITCH
	switch t.Kind {
	case domain.TargetSupervisor:
		for _, u := range cfg.Users {
			if u.Name == t.Supervisor && len(u.SupervisorEndpoints) > 0 &&
				(u.Role == config.RoleAdmin || u.Role == config.RoleSupervisor && containsInt(u.CampaignIDs, camp.ID)) {
				return u.SupervisorEndpoints[0], fs.AgentCallerID, true
			}
		}
	case domain.TargetNumber:
		if !camp.Transfer.Allows(t.Number) {
			return "", "", false
		}
		ds := camp.CustomerDialString
		if ds == "" {
			ds = fs.CustomerDialString
		}
		callerID = j.row.CallerID
		if camp.WithholdCallerID {
			callerID = "anonymous"
		}
		return strings.ReplaceAll(ds, "{tel}", t.Number), callerID, true
	}
	return "", "", false
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// addParty starts a consult, a blind transfer or a conference (mode) for the agent's call.
func (e *Engine) addParty(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, a *agent, r agentstate.Request, mode string) {
	if r.Target == nil {
		return
	}
	t := *r.Target
	now := e.o.Now()
	e.mu.Lock()
	c := talkingCallLocked(a)
	if c == nil || c.party != nil || c.held && mode == modeConference {
		e.mu.Unlock()
		return
	}
	var b *agent
	if t.Kind == domain.TargetAgent {
		b = j.agents[t.AgentID]
		if b == nil || b == a || !b.freeForLocked(nil) || b.node != c.node {
			e.deskEventLocked(j, a, c, liveevents.TransferFailed, map[string]any{"mode": mode, "target": t, "reason": "target_unavailable"})
			e.mu.Unlock()
			return
		}
		if mode == modeBlind {
			// Straight into the other agent's room, as a customer is connected (G-2).
			c.agent, c.held = b, false
			b.call, b.attemptID, b.state, b.since = c, c.attemptID, domain.AgentOnCall, now
			a.call, a.attemptID, a.state, a.since = nil, 0, domain.AgentWrapUp, now
			e.deskEventLocked(j, a, c, liveevents.TransferCompleted, map[string]any{"mode": mode, "target": t})
			e.mu.Unlock()
			e.command(ctx, c.node, moveCmd(c.uuid, b.room))
			e.recordStep(j, c.attemptID, store.AttemptStep{Kind: domain.StepTransferred, AgentID: &a.id, By: r.By,
				TargetKind: string(t.Kind), Target: targetText(t), Detail: modeBlind})
			e.publish(ctx, j, a)
			e.publish(ctx, j, b)
			return
		}
		b.state, b.since, b.attemptID = domain.AgentOnCall, now, c.attemptID // reserved for the consult
	}
	e.mu.Unlock()
	var dial, callerID string
	if b != nil {
		dial, callerID = freeswitch.LoopbackToRoom(b.room), cfg.FreeSWITCH.AgentCallerID
	} else {
		var ok bool
		if dial, callerID, ok = e.partyDial(cfg, camp, j, t); !ok {
			e.mu.Lock()
			e.deskEventLocked(j, a, c, liveevents.TransferFailed, map[string]any{"mode": mode, "target": t, "reason": "target_not_allowed"})
			e.mu.Unlock()
			return
		}
	}
	p := &party{uuid: e.o.NewUUID(), node: c.node, mode: mode, target: t, state: partyRinging, call: c, from: a, agent: b, by: r.By, since: now}
	room := a.room
	if mode == modeBlind {
		room = e.roomOf(xferRoomName(c.uuid))
	}
	o := freeswitch.Originate{UUID: p.uuid, DialString: dial, App: "&conference(" + room + ")",
		Vars: []freeswitch.Var{{Name: "origination_caller_id_number", Value: callerID}, {Name: "originate_timeout", Value: "30"},
			{Name: "ignore_early_media", Value: "true"}, {Name: "conference_moh_sound", Value: holdMusic(cfg.FreeSWITCH)},
			{Name: "dialer_attempt_id", Value: itoa64(c.attemptID)}}}
	cmd, err := freeswitch.OriginateCmd(o)
	e.mu.Lock()
	if err != nil || talkingCallLocked(a) != c || c.party != nil {
		if b != nil && b.call == nil && b.state == domain.AgentOnCall {
			b.state, b.since, b.attemptID = domain.AgentAvailable, e.o.Now(), 0
		}
		e.mu.Unlock()
		e.o.Logger.Warn("third party not dialed", "job", j.id, "attempt", c.attemptID, "err", err)
		if b != nil {
			e.publish(ctx, j, b)
		}
		return
	}
	c.party = p
	if b != nil {
		b.party = p
	}
	e.legs[p.uuid] = leg{job: j, party: p}
	held := mode != modeConference && !c.held
	c.held = c.held || mode != modeConference
	e.deskEventLocked(j, a, c, liveevents.PartyRinging, targetData(p))
	e.mu.Unlock()
	if held {
		e.command(ctx, c.node, moveCmd(c.uuid, e.roomOf(holdRoomName(c.uuid))))
	}
	kind := domain.StepConsult
	if mode == modeConference {
		kind = domain.StepConference
	}
	if mode != modeBlind {
		e.recordStep(j, c.attemptID, store.AttemptStep{Kind: kind, AgentID: &a.id, By: r.By, TargetKind: string(t.Kind), Target: targetText(t)})
	}
	e.publish(ctx, j, a)
	if b != nil {
		e.publish(ctx, j, b)
	}
	res, err := e.o.Switch.BgAPI(ctx, p.node, cmd)
	if err != nil {
		e.command(ctx, p.node, uuidKill(p.uuid, "NORMAL_CLEARING")) // it may have reached the switch
		e.partyGone(ctx, j, p, "ORIGINATE_NOT_SENT")
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		select {
		case r := <-res:
			if r.Err != nil { // the answer was lost: make sure no party rings for nobody
				e.command(ctx, p.node, uuidKill(p.uuid, "NORMAL_CLEARING"))
				e.partyGone(ctx, j, p, "ORIGINATE_UNCONFIRMED")
			}
		case <-ctx.Done():
		}
	}()
}

// partyEvent moves a third party with its leg's events.
func (e *Engine) partyEvent(ctx context.Context, j *job, p *party, ev *wire.Event) {
	switch ev.Name() {
	case "BACKGROUND_JOB":
		if res := freeswitch.ParseOriginateResult(ev.Body); !res.Placed() {
			e.partyGone(ctx, j, p, res.Cause)
		}
	case "CUSTOM":
		if ev.Header.Get("Event-Subclass") != freeswitch.ConferenceMaintenance || ev.Header.Get("Action") != "add-member" {
			return
		}
		e.partyJoined(ctx, j, p, ev.Header.Get("Conference-Name"))
	case "CHANNEL_HANGUP_COMPLETE":
		e.partyGone(ctx, j, p, ev.Header.Get("Hangup-Cause"))
	}
}

// partyJoined: the party answered and entered its room: the agent's (consult, conference), or
// the transfer's (blind: the customer is handed over now).
func (e *Engine) partyJoined(ctx context.Context, j *job, p *party, roomName string) {
	now := e.o.Now()
	e.mu.Lock()
	c, a := p.call, p.from
	if p.state != partyRinging || c.party != p || !c.live() {
		e.mu.Unlock()
		return
	}
	if p.mode == modeBlind {
		if roomName != xferRoomName(c.uuid) {
			e.mu.Unlock()
			return
		}
		p.state, c.held, c.agent, c.xfer = partyTransferred, false, nil, true
		if a.call == c {
			a.call, a.attemptID, a.state, a.since = nil, 0, domain.AgentWrapUp, now
		}
		e.deskEventLocked(j, a, c, liveevents.TransferCompleted, targetData(p))
		e.mu.Unlock()
		e.command(ctx, c.node, moveCmd(c.uuid, e.roomOf(xferRoomName(c.uuid))))
		e.recordStep(j, c.attemptID, store.AttemptStep{Kind: domain.StepConsultAnswered, AgentID: &a.id, By: p.by,
			TargetKind: string(p.target.Kind), Target: targetText(p.target)})
		e.recordStep(j, c.attemptID, store.AttemptStep{Kind: domain.StepTransferred, AgentID: &a.id, By: p.by,
			TargetKind: string(p.target.Kind), Target: targetText(p.target), Detail: modeBlind})
		e.publish(ctx, j, a)
		return
	}
	if roomName != a.roomName {
		e.mu.Unlock()
		return
	}
	p.state, p.since = partyTalking, now
	e.deskEventLocked(j, a, c, liveevents.PartyJoined, targetData(p))
	e.mu.Unlock()
	kind := domain.StepConsultAnswered
	if p.mode == modeConference {
		kind = domain.StepConferenceJoined
	}
	e.recordStep(j, c.attemptID, store.AttemptStep{Kind: kind, AgentID: &a.id, TargetKind: string(p.target.Kind), Target: targetText(p.target)})
	e.publish(ctx, j, a)
	if p.agent != nil {
		e.publish(ctx, j, p.agent)
	}
}

// releasePartyAgentLocked frees the target agent reserved for p. Caller holds e.mu.
func releasePartyAgentLocked(p *party, now func() time.Time) *agent {
	b := p.agent
	if b == nil || b.party != p {
		return nil
	}
	b.party = nil
	if b.call == nil && b.state == domain.AgentOnCall {
		b.state, b.since, b.attemptID = domain.AgentAvailable, now(), 0
	}
	return b
}

// partyGone: the party's leg ended (or never came up). A consult or blind transfer that had not
// handed the customer over brings the customer back to its agent; a transferred customer left
// alone is hung up; a conference goes on between the agent and the customer.
func (e *Engine) partyGone(ctx context.Context, j *job, p *party, cause string) {
	e.mu.Lock()
	delete(e.legs, p.uuid)
	c, a := p.call, p.from
	was := p.state
	p.state = partyDone
	b := releasePartyAgentLocked(p, e.o.Now)
	if c.party == p {
		c.party = nil
	}
	back := false
	switch was {
	case partyDone:
		e.mu.Unlock()
		if b != nil {
			e.publish(ctx, j, b)
		}
		return
	case partyTransferred:
		e.mu.Unlock()
		if c.live() { // the customer's other party hung up: nobody is left to talk to
			e.command(ctx, c.node, uuidKill(c.uuid, "NORMAL_CLEARING"))
		}
		return
	}
	if c.live() && c.agent == a && c.held && p.mode != modeConference {
		c.held, back = false, true
	}
	typ := liveevents.PartyLeft
	kind := domain.StepConsultCancelled
	switch {
	case p.mode == modeConference:
		kind = domain.StepConferenceEnded
	case was == partyRinging:
		typ, kind = liveevents.TransferFailed, domain.StepTransferFailed
	}
	data := targetData(p)
	data["cause"] = cause
	if c.live() {
		e.deskEventLocked(j, a, c, typ, data)
	}
	e.mu.Unlock()
	if back {
		e.command(ctx, c.node, moveCmd(c.uuid, a.room))
	}
	e.recordStep(j, c.attemptID, store.AttemptStep{Kind: kind, AgentID: &a.id, TargetKind: string(p.target.Kind),
		Target: targetText(p.target), Detail: cause})
	e.publish(ctx, j, a)
	if b != nil {
		e.publish(ctx, j, b)
	}
}

// consultSwap turns the agent to the other party of its consult; the one left hears hold music.
func (e *Engine) consultSwap(ctx context.Context, j *job, a *agent, r agentstate.Request) {
	e.mu.Lock()
	c := talkingCallLocked(a)
	if c == nil || c.party == nil || c.party.mode != modeConsult {
		e.mu.Unlock()
		return
	}
	p := c.party
	var cmds []string
	switch {
	case p.state == partyTalking && c.held:
		p.state, c.held = partyHeld, false
		cmds = []string{moveCmd(p.uuid, e.roomOf(holdRoomName(p.uuid))), moveCmd(c.uuid, a.room)}
	case p.state == partyHeld && !c.held:
		p.state, c.held = partyTalking, true
		cmds = []string{moveCmd(c.uuid, e.roomOf(holdRoomName(c.uuid))), moveCmd(p.uuid, a.room)}
	default:
		e.mu.Unlock()
		return
	}
	e.deskEventLocked(j, a, c, liveevents.ConsultSwapped, map[string]any{"mode": p.mode, "target": p.target, "talking_to": map[bool]string{true: "party", false: "customer"}[c.held]})
	e.mu.Unlock()
	e.commands(ctx, c.node, cmds...)
	e.recordStep(j, c.attemptID, store.AttemptStep{Kind: domain.StepSwap, AgentID: &a.id, By: r.By, TargetKind: string(p.target.Kind), Target: targetText(p.target)})
	e.publish(ctx, j, a)
}

// consultFinish completes the consult: the customer goes to the target and the agent to
// wrap-up. To another agent the call becomes that agent's (its disposition, its wrap-up).
func (e *Engine) consultFinish(ctx context.Context, j *job, a *agent, r agentstate.Request) {
	now := e.o.Now()
	e.mu.Lock()
	c := talkingCallLocked(a)
	if c == nil || c.party == nil || c.party.mode != modeConsult || c.party.state != partyTalking && c.party.state != partyHeld {
		e.mu.Unlock()
		return
	}
	p := c.party
	b := p.agent
	var cmds []string
	if b != nil {
		p.state, c.party, b.party = partyDone, nil, nil
		c.agent, c.held = b, false
		b.call, b.attemptID, b.state, b.since = c, c.attemptID, domain.AgentOnCall, now
		cmds = []string{moveCmd(c.uuid, b.room), uuidKill(p.uuid, "NORMAL_CLEARING")}
	} else {
		room := e.roomOf(xferRoomName(c.uuid))
		p.state, c.agent, c.held, c.xfer = partyTransferred, nil, false, true
		cmds = []string{moveCmd(c.uuid, room), moveCmd(p.uuid, room)}
	}
	a.call, a.attemptID, a.state, a.since = nil, 0, domain.AgentWrapUp, now
	e.deskEventLocked(j, a, c, liveevents.TransferCompleted, targetData(p))
	e.mu.Unlock()
	e.commands(ctx, c.node, cmds...)
	e.recordStep(j, c.attemptID, store.AttemptStep{Kind: domain.StepTransferred, AgentID: &a.id, By: r.By,
		TargetKind: string(p.target.Kind), Target: targetText(p.target), Detail: modeConsult})
	e.publish(ctx, j, a)
	if b != nil {
		e.publish(ctx, j, b)
	}
}

// endParty hangs up the agent's third party: a consult or blind transfer cancelled (the
// customer back with the agent), or a conference ended.
func (e *Engine) endParty(ctx context.Context, j *job, a *agent, r agentstate.Request, conference bool) {
	e.mu.Lock()
	c := talkingCallLocked(a)
	if c == nil || c.party == nil || (c.party.mode == modeConference) != conference {
		e.mu.Unlock()
		return
	}
	p := c.party
	p.state, c.party = partyDone, nil
	b := releasePartyAgentLocked(p, e.o.Now)
	back := c.held && !conference
	c.held = false
	kind := domain.StepConsultCancelled
	if conference {
		kind = domain.StepConferenceEnded
	}
	e.deskEventLocked(j, a, c, liveevents.PartyLeft, targetData(p))
	e.mu.Unlock()
	cmds := []string{uuidKill(p.uuid, "NORMAL_CLEARING")}
	if back {
		cmds = append(cmds, moveCmd(c.uuid, a.room))
	}
	e.commands(ctx, c.node, cmds...)
	e.recordStep(j, c.attemptID, store.AttemptStep{Kind: kind, AgentID: &a.id, By: r.By, TargetKind: string(p.target.Kind), Target: targetText(p.target)})
	e.publish(ctx, j, a)
	if b != nil {
		e.publish(ctx, j, b)
	}
}

// dropPartyLocked ends the call's third party as the customer's leg ends: the party is hung up
// (it would be left alone) and a target agent freed. It reports what to do after the lock.
// Caller holds e.mu.
func (e *Engine) dropPartyLocked(c *call) (kill string, node string, freed *agent) {
	p := c.party
	if p == nil {
		return "", "", nil
	}
	c.party = nil
	if p.state == partyDone {
		return "", "", nil
	}
	p.state = partyDone
	return p.uuid, p.node, releasePartyAgentLocked(p, e.o.Now)
}

// partyStatusLocked is the agent's call as its live state shows it (nil: nothing besides
// talking). Caller holds e.mu.
func partyStatusLocked(a *agent) *agentstate.CallStatus {
	if p := a.party; p != nil && p.agent == a && p.state != partyDone {
		// The target of another agent's consult.
		return &agentstate.CallStatus{Party: &agentstate.Party{Mode: modeIncoming, State: p.state, Since: p.since, Leg: p.uuid,
			Target: agentstate.Target{Kind: domain.TargetAgent, AgentID: p.from.id}}}
	}
	if c := a.reserved; c != nil && c.own && a.call == nil && a.state == domain.AgentOnCall {
		return &agentstate.CallStatus{Dialing: true}
	}
	c := a.call
	if c == nil || c.agent != a {
		return nil
	}
	st := &agentstate.CallStatus{Held: c.held}
	if p := c.party; p != nil && p.from == a && p.state != partyDone && p.state != partyTransferred {
		st.Party = &agentstate.Party{Mode: p.mode, Target: p.target, State: p.state, Since: p.since, Leg: p.uuid}
	}
	if !st.Held && st.Party == nil {
		return nil
	}
	return st
}

// deskRequest carries out the requests of the agent's desk (issue 16).
func (e *Engine) deskRequest(ctx context.Context, cfg *config.Config, j *job, a *agent, r agentstate.Request) {
	camp := campaignOf(cfg, j.campaign)
	if a == nil || camp == nil {
		return
	}
	switch r.Kind {
	case domain.RequestPreviewDial:
		e.previewDial(ctx, cfg, camp, j, a, r.AttemptID, r.By, false)
	case domain.RequestPreviewSkip:
		e.previewSkip(ctx, j, a, r)
	case domain.RequestManualDial:
		e.manualDial(ctx, cfg, camp, j, a, r)
	case domain.RequestHold:
		e.hold(ctx, j, a, r, true)
	case domain.RequestUnhold:
		e.hold(ctx, j, a, r, false)
	case domain.RequestTransfer:
		mode := modeConsult
		if r.Blind {
			mode = modeBlind
		}
		e.addParty(ctx, cfg, camp, j, a, r, mode)
	case domain.RequestConference:
		e.addParty(ctx, cfg, camp, j, a, r, modeConference)
	case domain.RequestConsultSwap:
		e.consultSwap(ctx, j, a, r)
	case domain.RequestConsultFinish:
		e.consultFinish(ctx, j, a, r)
	case domain.RequestConsultCancel:
		e.endParty(ctx, j, a, r, false)
	case domain.RequestConferenceEnd:
		e.endParty(ctx, j, a, r, true)
	}
}

// settleDesk undoes, at a takeover, what the last owner's memory held of its agents' calls
// (states as Redis had them): a third party's leg is hung up, and a customer on hold is brought
// back to its agent, so no customer is left on hold music with nobody to resume it.
func (e *Engine) settleDesk(ctx context.Context, j *job, states []agentstate.Agent) {
	for _, st := range states {
		if st.Call == nil {
			continue
		}
		if p := st.Call.Party; p != nil && p.Leg != "" && st.Node != "" {
			e.command(ctx, st.Node, uuidKill(p.Leg, "NORMAL_CLEARING"))
		}
		if !st.Call.Held {
			continue
		}
		e.mu.Lock()
		a := j.agents[st.ID]
		var c *call
		if a != nil {
			c = talkingCallLocked(a)
		}
		e.mu.Unlock()
		if c != nil {
			e.command(ctx, c.node, moveCmd(c.uuid, a.room))
		}
	}
}
