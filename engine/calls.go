package engine

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// beepTone is the beep an agent hears as a customer joins its room (G-2), and holdTone the
// hold music of a room when the configuration names none.
const (
	beepTone = "tone_stream://%(200,0,1000)"
	holdTone = "tone_stream://%(1000,4000,440);loops=-1"
	// originateTimeout is how long a customer's phone rings (docs/event-socket.md §4.2).
	originateTimeout = "25"
)

// dial places the calls pacing asks for: claims contacts (their attempt rows committed first)
// and originates each on the node whose agents it is paced for.
func (e *Engine) dial(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, now time.Time) {
	if jobPacingMode(camp, j) == config.PacingPreview {
		// No pacing: each agent sees its next contact and dials it (issue 16).
		e.previewsDue(ctx, cfg, camp, j, now)
		e.offerPreviews(ctx, camp, j, now)
		return
	}
	e.syncStats(ctx, camp, now)
	e.dialOwnedCallbacks(ctx, cfg, camp, j, now) // first: pacing leaves the reserved agents out
	e.mu.Lock()
	d, plan := e.paceLocked(camp, j, now)
	j.decision = d
	plan = e.limitRateLocked(camp, plan, now)
	// The trace below counts the job's calls: only when it is written (every pass otherwise).
	var inFlight [callMachine + 1]int
	trace := d.Dial > 0 && e.o.Logger.Enabled(ctx, slog.LevelDebug)
	if trace {
		for _, c := range j.calls {
			inFlight[c.state]++
		}
	}
	e.mu.Unlock()
	if h := e.o.Hooks.Decision; h != nil {
		h(camp.ID, d)
	}
	if trace {
		e.o.Logger.Debug("paced", "job", j.id, "dial", d.Dial, "reason", d.Reason, "budget", d.Budget,
			"dialing", inFlight[callDialing], "classifying", inFlight[callClassifying], "waiting", inFlight[callWaiting])
	}
	for _, p := range plan {
		targets, err := e.o.Store.ClaimContacts(ctx, store.ClaimRequest{JobID: j.id, Run: j.row.Run, N: p.n,
			Instance: e.o.Instance, Node: p.node, NewUUID: e.o.NewUUID, OpenZone: e.openZone(camp, now),
			CallbackGrace: camp.CallbackGrace}, now)
		if err != nil {
			e.o.Logger.Warn("claim contacts", "job", j.id, "err", err)
			return
		}
		for _, t := range targets {
			e.originate(ctx, cfg, camp, j, p.node, t, now, dialOpts{})
		}
	}
}

// dialOpts are an originate's options beyond its target.
type dialOpts struct {
	// own is the agent who dials the call itself (a preview, a manual dial), reserved for it.
	own *agent
	// callerID replaces the job's caller ID (a manual dial's choice).
	callerID string
}

func (e *Engine) originate(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, node string, t store.DialTarget, now time.Time, opts dialOpts) {
	c := &call{attemptID: t.AttemptID, contactID: t.ContactID, tel: t.Tel, uuid: t.ChannelUUID, started: now, card: t.Card, own: opts.own != nil}
	var err error
	if c.node, c.release, err = e.o.Switch.Acquire(node); err != nil {
		e.o.Logger.Warn("no switch node for a call", "job", j.id, "err", err)
		e.ownFailure(ctx, j, c, freeswitch.OwnSwitchUnavailable) // the contact is not used up
		if opts.own != nil {
			e.ownCallFailed(ctx, j, opts.own, domain.AgentAvailable)
		}
		return
	}
	dialString := camp.CustomerDialString
	if dialString == "" {
		dialString = cfg.FreeSWITCH.CustomerDialString
	}
	callerID := j.row.CallerID
	if opts.callerID != "" {
		callerID = opts.callerID
	}
	vars := []freeswitch.Var{{Name: "origination_caller_id_number", Value: callerID}}
	if camp.WithholdCallerID {
		vars = []freeswitch.Var{{Name: "origination_caller_id_number", Value: "anonymous"}, {Name: "origination_privacy", Value: "hide_number"}}
	}
	vars = append(vars, freeswitch.Var{Name: "originate_timeout", Value: originateTimeout},
		freeswitch.Var{Name: "ignore_early_media", Value: "true"},
		freeswitch.Var{Name: "dialer_attempt_id", Value: strconv.FormatInt(t.AttemptID, 10)},
		// The agent hears this as the customer enters its room (G-2).
		freeswitch.Var{Name: "conference_enter_sound", Value: beepTone},
		// What the customer hears alone in a room of its own: on hold, or while a transfer rings.
		freeswitch.Var{Name: "conference_moh_sound", Value: holdMusic(cfg.FreeSWITCH)})
	o := freeswitch.Originate{UUID: c.uuid, Vars: vars, DialString: strings.ReplaceAll(dialString, "{tel}", t.Tel), App: "&park()"}
	if aa := camp.AnswerAnalysis; aa.Enabled() {
		// The detector starts on the answer, then the customer parks until the verdict (P-3).
		c.amd = &analysis{cfg: aa}
		o.App = ""
		o.Inline, c.amd.avmd = analysisApps(aa)
	}
	cmd, err := freeswitch.OriginateCmd(o)
	if err != nil {
		e.o.Logger.Warn("originate not built", "job", j.id, "attempt", t.AttemptID, "err", err)
		e.ownFailure(ctx, j, c, freeswitch.OwnDialStringRefused) // the contact is not used up
		if opts.own != nil {
			e.ownCallFailed(ctx, j, opts.own, domain.AgentAvailable)
		}
		return
	}
	e.mu.Lock()
	j.calls[c.uuid] = c
	e.legs[c.uuid] = leg{job: j, call: c}
	e.calls++
	switch a := opts.own; {
	case a != nil && j.agents[a.id] == a:
		a.reserved, c.owner, a.attemptID = c, a, c.attemptID // its own call (issue 16)
	case t.Agent != 0:
		e.tieLocked(j, c, t.Agent) // a callback for the agent who promised it (S-2)
	}
	e.mu.Unlock()
	if opts.own != nil {
		e.publish(ctx, j, opts.own) // dialing its own call: the screen shows it ringing
	}
	if h := e.o.Hooks.Originate; h != nil {
		h(j.campaign)
	}
	res, err := e.o.Switch.BgAPI(ctx, c.node, cmd)
	if err != nil {
		// The command may or may not have reached the switch: never dial again blindly; ask the
		// switch about the channel a little later.
		e.o.Logger.Warn("originate not confirmed", "job", j.id, "attempt", t.AttemptID, "err", err)
		e.mu.Lock()
		c.unsure = e.o.Now().Add(5 * time.Second)
		e.mu.Unlock()
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		select {
		case r := <-res:
			if r.Err != nil {
				// The result was lost with the connection: the leg may exist. Ask the switch
				// a little later; never dial again blindly.
				e.mu.Lock()
				c.unsure = e.o.Now().Add(5 * time.Second)
				e.mu.Unlock()
			}
			// A result that came is handled with the channel's events (originateResult), in
			// wire order.
		case <-ctx.Done():
		}
	}()
}

// originateResult is the originate's BACKGROUND_JOB, in order with the channel's events. -ERR
// ends a call that never answered (a leg that fails before it exists sends only this). After
// an answer it is not the end: the switch answers -ERR ORIGINATOR_CANCEL for a leg moved into
// a room before its originate returned, and -ERR NORMAL_CLEARING for one that hung up at the
// instant of answer (capture 11); only the channel's own hangup ends those.
func (e *Engine) originateResult(ctx context.Context, j *job, c *call, body []byte) {
	res := freeswitch.ParseOriginateResult(body)
	if res.Placed() {
		e.ownSuccess(j)
		e.mu.Lock()
		c.originated, c.returnedAt = true, time.Now()
		waiting := c.waitingForAgent()
		e.mu.Unlock()
		if waiting {
			e.connect(ctx, j, c) // answered before its originate returned: it can be moved now
		}
		return
	}
	if res.Own != "" {
		// The switch did not take the call (a dial string it refuses as malformed): the contact
		// is given back and the job stops after a few in a row.
		e.mu.Lock()
		ended := c.state == callDialing && c.toLocked(callEnded)
		e.mu.Unlock()
		if ended {
			e.ownFailure(ctx, j, c, res.Own)
		}
		return
	}
	e.ownSuccess(j)
	e.mu.Lock()
	dialing := c.state == callDialing
	e.mu.Unlock()
	if !dialing {
		e.o.Logger.Debug("originate result after the answer; the call goes on", "attempt", c.attemptID, "result", strings.TrimSpace(string(body)))
		return
	}
	e.endCall(ctx, j, c, res.Cause)
}

// callEvent moves a customer call with its channel's events.
func (e *Engine) callEvent(ctx context.Context, j *job, c *call, ev *wire.Event) {
	switch ev.Name() {
	case "CHANNEL_ANSWER":
		now := e.o.Now()
		e.mu.Lock()
		if c.amd != nil {
			// Classified first: no agent is sought, and no live answer counted, until the verdict.
			if !c.toLocked(callClassifying) {
				e.mu.Unlock()
				return
			}
			c.answered = &now
			c.answerEvent = ev.Received
			c.amd.limit = now.Add(c.amd.cfg.TimeLimit + verdictMargin)
			e.mu.Unlock()
		} else {
			if !c.toLocked(callWaiting) {
				e.mu.Unlock()
				return
			}
			c.answered = &now
			c.deadline = now.Add(e.connectDeadline(j))
			c.answerEvent = ev.Received
			e.observeAnswerLocked(j, c, now)
			e.callEventLocked(j, c, liveevents.CallOffered, nil)
			e.mu.Unlock()
			e.connect(ctx, j, c)
		}
		e.ledger.write(c.attemptID, func(ctx context.Context) {
			if err := retryWrite(ctx, func() error { return e.o.Store.MarkAnswered(ctx, c.uuid, now) }); err != nil {
				e.o.Logger.Warn("record answer", "attempt", c.attemptID, "err", err)
			}
		})
	case "CUSTOM":
		if ev.Header.Get("Event-Subclass") == freeswitch.ConferenceMaintenance && ev.Header.Get("Action") == "add-member" {
			size, _ := strconv.Atoi(ev.Header.Get("Conference-Size"))
			e.joined(ctx, j, c, ev.Header.Get("Conference-Name"), size)
			return
		}
		e.analysisEvent(ctx, j, c, ev)
	case "CHANNEL_EXECUTE_COMPLETE":
		e.analysisEvent(ctx, j, c, ev)
	case "RECORD_STOP":
		e.recordStopped(c, ev)
	case "BACKGROUND_JOB":
		e.originateResult(ctx, j, c, ev.Body)
	case "CHANNEL_HANGUP_COMPLETE":
		e.endCall(ctx, j, c, ev.Header.Get("Hangup-Cause"))
	}
}

// moveTimeout: a customer moved into a room shows there (add-member) within some 40 ms on the
// real switch; one not there after this is asked about.
const moveTimeout = time.Second

// moveLost settles a customer whose move into its agent's room did not show: in the room after
// all (its add-member was lost), it is connected; else the move was lost (overridden by the
// switch, or never carried out) and the customer waits for an agent again, the agent free,
// under the connect deadline like any waiting customer (P-2).
func (e *Engine) moveLost(ctx context.Context, j *job, c *call) {
	e.mu.Lock()
	a := c.agent
	if c.state != callConnecting || a == nil {
		e.mu.Unlock()
		return
	}
	c.moveSent = e.o.Now() // asked once per timeout
	e.mu.Unlock()
	cmd, err := freeswitch.UUIDGetVar(c.uuid, "conference_name")
	if err != nil {
		return
	}
	room, err := e.o.Switch.API(context.WithoutCancel(ctx), c.node, cmd)
	switch {
	case err != nil && !errors.Is(err, freeswitch.ErrNoSuchChannel):
		return // unknown: asked again next time; its hangup ends it meanwhile
	case err == nil && strings.TrimSpace(room) == a.roomName:
		// In the room: with its agent, unless the agent's phone is gone (the move made the
		// room anew around the customer alone).
		size := 2
		if alive, err := e.o.Switch.Alive(ctx, a.node, []string{a.leg}); err == nil && !alive[a.leg] {
			size = 1
		}
		e.joined(ctx, j, c, a.roomName, size)
		return
	}
	e.o.Logger.Warn("a customer's move into its agent's room was lost", "job", j.id, "attempt", c.attemptID, "agent", a.id)
	e.mu.Lock()
	freed := false
	if c.agent == a && c.state == callConnecting {
		c.agent = nil
		c.toLocked(callWaiting)
		if a.call == c {
			a.call, a.attemptID = nil, 0
			if !a.leaving {
				a.state, a.since = domain.AgentAvailable, e.o.Now()
				freed = true
			}
		}
	}
	e.mu.Unlock()
	if freed {
		e.publish(ctx, j, a)
	}
}

// originateGrace is how long after its answer a customer whose originate's +OK has not come
// (its BACKGROUND_JOB lost with a connection) may wait before it is moved all the same.
const originateGrace = 500 * time.Millisecond

// movableLocked: the customer can be moved into a room now (see call.originated). Caller holds e.mu.
func (c *call) movableLocked(now time.Time) bool {
	return c.originated || c.answered != nil && now.Sub(*c.answered) >= originateGrace
}

// joined: the switch put the customer into its agent's room. The call is connected from here,
// unless the customer is alone there: the agent's phone is gone (its hangup event lost), the
// transfer made the room anew, and the customer, hearing the room's hold music, waits for
// another agent until the deadline while the phone is checked with the switch.
func (e *Engine) joined(ctx context.Context, j *job, c *call, roomName string, size int) {
	now := e.o.Now()
	e.mu.Lock()
	a := c.agent
	if c.state != callConnecting || a == nil || a.roomName != roomName {
		e.mu.Unlock()
		return
	}
	if size < 2 {
		c.agent = nil
		c.toLocked(callWaiting)
		if a.call == c {
			a.call, a.attemptID, a.state, a.since = nil, 0, domain.AgentAvailable, now
		}
		e.mu.Unlock()
		e.o.Logger.Warn("customer alone in its agent's room; checking the agent's phone", "job", j.id, "agent", a.id, "attempt", c.attemptID)
		if alive, err := e.o.Switch.Alive(ctx, a.node, []string{a.leg}); err == nil && !alive[a.leg] {
			e.agentLegEnded(ctx, j, a)
		} else {
			e.publish(ctx, j, a)
		}
		return
	}
	c.toLocked(callConnected)
	c.bridged = &now
	e.callEventLocked(j, c, liveevents.CallConnected, map[string]any{"bridged_at": now})
	e.mu.Unlock()
	e.publish(ctx, j, a)
	e.ledger.write(c.attemptID, func(ctx context.Context) {
		if err := retryWrite(ctx, func() error { return e.o.Store.MarkBridged(ctx, c.uuid, a.id, now) }); err != nil {
			e.o.Logger.Warn("record bridge", "attempt", c.attemptID, "err", err)
		}
	})
	e.startRecording(ctx, j, c, false)
}

func (e *Engine) connectDeadline(j *job) time.Duration {
	if camp := campaignOf(e.o.Config(), j.campaign); camp != nil && camp.Pacing.ConnectDeadline > 0 {
		return camp.Pacing.ConnectDeadline
	}
	return 2 * time.Second
}

// connect moves an answered customer into the room of the agent free the longest (G-2), or of
// the agent who promised it the callback when that one is free (S-2); the agent hears the
// customer's enter sound as the beep. False when no agent is free.
func (e *Engine) connect(ctx context.Context, j *job, c *call) bool {
	now := e.o.Now()
	e.mu.Lock()
	var pick *agent
	for _, a := range j.agents {
		if a.freeForLocked(c) && a.node == c.node && (pick == nil || a.since.Before(pick.since)) {
			pick = a
		}
	}
	if o := c.owner; o != nil && j.agents[o.id] == o && o.freeForLocked(c) && o.node == c.node {
		pick = o
	}
	if pick == nil || !c.waitingForAgent() || !c.movableLocked(now) {
		e.mu.Unlock()
		return pick != nil
	}
	c.toLocked(callConnecting)
	c.moveSent = now
	c.agent = pick
	pick.call, pick.attemptID, pick.state, pick.since = c, c.attemptID, domain.AgentOnCall, now
	untieLocked(c) // with an agent now: its own agent, or another one when its own was not free
	e.mu.Unlock()
	cmd, err := freeswitch.UUIDTransferInline(c.uuid, roomApps(c, pick.room))
	if err == nil {
		_, err = e.o.Switch.API(context.WithoutCancel(ctx), c.node, cmd)
	}
	var refused *freeswitch.CommandError
	switch {
	case errors.As(err, &refused):
		// Refused (the customer is gone, or not in a state to move): the agent, still in its
		// room, is free again and the customer, if still there, waits for another one until
		// the deadline. Its hangup, if it left, ends it as abandoned.
		e.o.Logger.Debug("move into room refused", "node", c.node, "attempt", c.attemptID, "err", err)
		e.mu.Lock()
		if c.agent == pick && c.state == callConnecting {
			c.agent = nil
			c.toLocked(callWaiting)
		}
		back := pick.call == c && !pick.leaving
		if pick.call == c {
			pick.call, pick.attemptID = nil, 0
		}
		if back {
			pick.state, pick.since = domain.AgentAvailable, e.o.Now()
		}
		e.mu.Unlock()
		if back {
			e.publish(ctx, j, pick)
		}
		return true
	case err != nil:
		// Unknown whether the customer was moved: its events will tell (never move twice).
		e.o.Logger.Warn("move into room not confirmed", "node", c.node, "attempt", c.attemptID, "err", err)
	}
	if e.o.OnBridge != nil && !c.answerEvent.IsZero() {
		e.o.OnBridge(time.Since(c.answerEvent), time.Since(later(c.answerEvent, c.returnedAt)))
	}
	// The agent is reserved (on_call inside the engine) and shown on a call once the customer
	// is in the room (joined).
	return true
}

// abandon: no agent within the connect deadline. The customer hears the campaign's message and
// the call ends (P-2); without a message it is hung up at once.
func (e *Engine) abandon(ctx context.Context, camp *config.Campaign, c *call) {
	e.mu.Lock()
	machine := c.amd != nil && c.amd.result == amdMachine
	e.mu.Unlock()
	if camp != nil && camp.AbandonMessage != "" && !machine {
		if cmd, err := freeswitch.UUIDTransferInline(c.uuid, []freeswitch.App{{Name: "playback", Data: camp.AbandonMessage},
			{Name: "hangup", Data: "NORMAL_CLEARING"}}); err == nil {
			e.command(ctx, c.node, cmd)
			return
		}
	}
	e.command(ctx, c.node, uuidKill(c.uuid, "NORMAL_CLEARING"))
}

// endCall records how a call ended, once: connected when the customer reached an agent's room,
// abandoned when it answered and never did (P-2), else the hangup cause's class. The agent of
// a connected call goes to wrap-up; one reserved for a customer who never arrived is free again.
func (e *Engine) endCall(ctx context.Context, j *job, c *call, cause string) {
	e.mu.Lock()
	prev := c.state
	if !c.toLocked(callEnded) {
		e.mu.Unlock()
		return
	}
	outcome := freeswitch.Classify(cause, c.answered != nil).Outcome
	if prev == callClassifying && c.amd != nil && c.answered != nil {
		// Gone before any verdict: unsure, so a person who never reached an agent (P-2).
		c.amd.result, c.amd.detail, c.amd.took = amdUnsure, "hangup", e.o.Now().Sub(*c.answered)
		e.observeAnswerLocked(j, c, e.o.Now())
	}
	switch {
	case prev == callConnected:
		outcome = domain.OutcomeConnected
	case c.amd != nil && c.amd.result == amdMachine:
		outcome = domain.OutcomeMachine // hung up, left a message, or never reached an agent
	case c.answered != nil:
		outcome = domain.OutcomeAbandoned // a live person who never reached an agent (P-2)
		if prev != callAbandoning {
			e.observeAbandonLocked(j, c, e.o.Now()) // hung up while waiting: abandoned all the same
		}
	}
	e.observeEndLocked(j, c, outcome, e.o.Now())
	a := c.agent
	freed, wrapUp := false, false
	if prev != callConnected {
		c.agent = nil // the attempt names no agent
	}
	e.callEventLocked(j, c, liveevents.CallEnded, map[string]any{"outcome": outcome, "hangup_cause": cause})
	if a != nil && a.call == c {
		a.call = nil
		switch {
		case a.leaving:
		case prev == callConnected:
			a.state, a.since = domain.AgentWrapUp, e.o.Now()
			wrapUp = true
		default:
			a.attemptID, a.state, a.since = 0, domain.AgentAvailable, e.o.Now()
			freed = true
		}
	}
	var ownBack *agent
	if o := c.owner; o != nil && c.own && o.reserved == c && o.call == nil && o.state == domain.AgentOnCall {
		// Its own call never reached it: the agent is free again (issue 16).
		o.attemptID, o.state, o.since = 0, domain.AgentAvailable, e.o.Now()
		ownBack = o
	}
	if untieLocked(c) != nil || ownBack != nil {
		freed = true // its own agent, reserved for it, is free for others again
	}
	killParty, partyNode, partyAgent := e.dropPartyLocked(c)
	e.mu.Unlock()
	if killParty != "" {
		e.command(ctx, partyNode, uuidKill(killParty, "NORMAL_CLEARING")) // nobody left to talk to
	}
	if partyAgent != nil {
		e.publish(ctx, j, partyAgent)
	}
	if ownBack != nil && ownBack != a {
		e.publish(ctx, j, ownBack)
	}
	if a != nil && !wrapUp {
		e.publish(ctx, j, a)
	}
	e.finish(ctx, j, c, outcome, cause)
	if wrapUp {
		// Wrap-up is told once the attempt's outcome is written (queued behind it): a screen
		// that saves the disposition the moment it sees wrap-up finds the call connected (D-1).
		e.ledger.write(c.attemptID, func(ctx context.Context) { e.publish(ctx, j, a) })
	}
	if freed {
		e.bridgeWaiting(ctx, j)
	}
}

// finish writes the attempt's outcome and forgets the call.
func (e *Engine) finish(ctx context.Context, j *job, c *call, outcome domain.Outcome, cause string) {
	cfg := e.o.Config()
	var retry []store.RetryRule
	if camp := campaignOf(cfg, j.campaign); camp != nil {
		for _, r := range camp.Retry {
			retry = append(retry, store.RetryRule{Outcomes: r.Outcomes, After: r.After, MaxAttempts: r.MaxAttempts})
		}
	}
	e.mu.Lock() // a refused bridge may change the call meanwhile
	end := store.AttemptEnd{ChannelUUID: c.uuid, Outcome: outcome, HangupCause: cause, AnsweredAt: c.answered,
		BridgedAt: c.bridged, EndedAt: e.o.Now(), AgentDropped: c.dropped,
		DispositionGrace: cfg.System.UnsavedDispositionGrace, Retry: retry, Analysis: c.amd.verdict(c.answered)}
	if c.agent != nil {
		id := c.agent.id
		end.AgentID = &id
	}
	e.mu.Unlock()
	if h := e.o.Hooks.Outcome; h != nil {
		h(j.campaign, outcome)
	}
	e.ledger.write(c.attemptID, func(ctx context.Context) {
		err := retryWrite(ctx, func() error { _, err := e.o.Store.FinishAttempt(ctx, end); return err })
		if err == nil {
			e.answerWritten(j.campaign, c.attemptID)
		} else {
			// The attempt stays in progress: the job's next owner (or this one after a restart)
			// settles it from the switch; it is never dialed again blindly.
			e.o.Logger.Error("record attempt outcome", "attempt", c.attemptID, "err", err)
		}
	})
	e.finishRecording(c, end.EndedAt)
	e.mu.Lock()
	if _, ok := j.calls[c.uuid]; ok {
		delete(j.calls, c.uuid)
		delete(e.legs, c.uuid)
		e.calls--
	}
	e.mu.Unlock()
	if c.release != nil {
		c.release()
	}
}

// command runs an api command and logs a refusal; the call's events tell what happened.
func (e *Engine) command(ctx context.Context, node, cmd string) {
	if cmd == "" {
		return
	}
	if _, err := e.o.Switch.API(context.WithoutCancel(ctx), node, cmd); err != nil {
		level := slog.LevelWarn
		if errors.Is(err, freeswitch.ErrNoSuchChannel) {
			level = slog.LevelDebug // the leg ended on its own first: a normal race
		}
		e.o.Logger.Log(ctx, level, "switch command failed", "node", node, "cmd", strings.SplitN(cmd, " ", 2)[0], "err", err)
	}
}

// commands runs several api commands in one round trip, in order, and logs refusals.
func (e *Engine) commands(ctx context.Context, node string, cmds ...string) {
	_, errs, err := e.o.Switch.APIBatch(context.WithoutCancel(ctx), node, cmds)
	if err != nil {
		e.o.Logger.Warn("switch commands failed", "node", node, "err", err)
		return
	}
	for _, err := range errs {
		if err != nil {
			e.o.Logger.Warn("switch command refused", "node", node, "err", err)
		}
	}
}

func holdMusic(fs config.FreeSWITCH) string {
	if fs.HoldMusic == "" {
		return holdTone
	}
	return fs.HoldMusic
}

func uuidKill(id, cause string) string { s, _ := freeswitch.UUIDKill(id, cause); return s }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
