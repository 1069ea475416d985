package engine

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/freeswitch/wire"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// Tones the engine plays (ESL.md §4): a beep before the bridge, and hold music between calls
// when the configuration names none.
const (
	beepTone = "tone_stream://%(200,0,1000)"
	holdTone = "tone_stream://%(1000,4000,440);loops=-1"
	// originateTimeout is how long a customer's phone rings (ESL.md §4.2).
	originateTimeout = "25"
)

// dial places the calls pacing asks for: claims contacts (their attempt rows committed first)
// and originates each on the node whose agents it is paced for.
func (e *Engine) dial(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, now time.Time) {
	e.syncStats(ctx, camp, now)
	e.mu.Lock()
	d, plan := e.pace(camp, j, now)
	j.decision = d
	plan = e.limitRate(camp, plan, now)
	e.mu.Unlock()
	if h := e.o.Hooks.Decision; h != nil {
		h(camp.ID, d)
	}
	for _, p := range plan {
		targets, err := e.o.Store.ClaimContacts(ctx, store.ClaimRequest{JobID: j.id, Run: j.row.Run, N: p.n,
			Instance: e.o.Instance, Node: p.node, NewUUID: e.o.NewUUID}, now)
		if err != nil {
			e.o.Logger.Warn("claim contacts", "job", j.id, "err", err)
			return
		}
		for _, t := range targets {
			e.originate(ctx, cfg, camp, j, p.node, t, now)
		}
	}
}

func (e *Engine) originate(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, node string, t store.DialTarget, now time.Time) {
	c := &call{attemptID: t.AttemptID, contactID: t.ContactID, tel: t.Tel, uuid: t.ChannelUUID, started: now}
	var err error
	if c.node, c.release, err = e.o.Switch.Acquire(node); err != nil {
		e.o.Logger.Warn("no switch node for a call", "job", j.id, "err", err)
		e.finish(ctx, j, c, "network_failure", "NO_NODE_CONNECTED")
		return
	}
	dialString := camp.CustomerDialString
	if dialString == "" {
		dialString = cfg.FreeSWITCH.CustomerDialString
	}
	vars := []freeswitch.Var{{Name: "origination_caller_id_number", Value: j.row.CallerID}}
	if camp.WithholdCallerID {
		vars = []freeswitch.Var{{Name: "origination_caller_id_number", Value: "anonymous"}, {Name: "origination_privacy", Value: "hide_number"}}
	}
	vars = append(vars, freeswitch.Var{Name: "originate_timeout", Value: originateTimeout},
		freeswitch.Var{Name: "ignore_early_media", Value: "true"},
		freeswitch.Var{Name: "dialer_attempt_id", Value: strconv.FormatInt(t.AttemptID, 10)})
	cmd, err := freeswitch.OriginateCmd(freeswitch.Originate{UUID: c.uuid, Vars: vars,
		DialString: strings.ReplaceAll(dialString, "{tel}", t.Tel), App: "&park()"})
	if err != nil {
		e.finish(ctx, j, c, "invalid_number", "INVALID_NUMBER_FORMAT")
		return
	}
	e.mu.Lock()
	j.calls[c.uuid] = c
	e.legs[c.uuid] = leg{job: j, call: c}
	e.calls++
	e.mu.Unlock()
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
			e.originateResult(ctx, j, c, r)
		case <-ctx.Done():
		}
	}()
}

// originateResult: +OK is the answer (the events carry it); -ERR CAUSE ends the call when no
// channel event has (a leg that fails before it exists sends only this).
func (e *Engine) originateResult(ctx context.Context, j *job, c *call, r freeswitch.JobResult) {
	if r.Err != nil {
		e.mu.Lock()
		c.unsure = e.o.Now().Add(5 * time.Second)
		e.mu.Unlock()
		return
	}
	if _, err := freeswitch.ParseJobResult(r.Body); err != nil {
		cause := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(r.Body)), "-ERR"))
		e.endCall(ctx, j, c, cause)
	}
}

// callEvent moves a customer call with its channel's events.
func (e *Engine) callEvent(ctx context.Context, j *job, c *call, ev *wire.Event) {
	switch ev.Name() {
	case "CHANNEL_ANSWER":
		now := e.o.Now()
		e.mu.Lock()
		if c.answered != nil || c.ended {
			e.mu.Unlock()
			return
		}
		c.answered = &now
		c.deadline = now.Add(e.connectDeadline(j))
		c.answerEvent = ev.Received
		e.observeAnswer(j, c, now)
		e.callEventLive(j, c, liveevents.CallOffered, nil)
		e.mu.Unlock()
		e.connect(ctx, j, c)
		e.ledger.write(c.attemptID, func(ctx context.Context) {
			if err := retryWrite(ctx, func() error { return e.o.Store.MarkAnswered(ctx, c.uuid, now) }); err != nil {
				e.o.Logger.Warn("record answer", "attempt", c.attemptID, "err", err)
			}
		})
	case "CHANNEL_HANGUP_COMPLETE":
		e.endCall(ctx, j, c, ev.Header.Get("Hangup-Cause"))
	}
}

func (e *Engine) connectDeadline(j *job) time.Duration {
	if camp := campaignOf(e.o.Config(), j.campaign); camp != nil && camp.Pacing.ConnectDeadline > 0 {
		return camp.Pacing.ConnectDeadline
	}
	return 2 * time.Second
}

// connect bridges an answered customer to the agent free the longest: stop its hold music,
// beep, bridge (G-2). False when no agent is free.
func (e *Engine) connect(ctx context.Context, j *job, c *call) bool {
	now := e.o.Now()
	e.mu.Lock()
	var pick *agent
	for _, a := range j.agents {
		if a.answered && !a.leaving && !a.leaveAfterCall && a.state == agentstate.Available && a.call == nil && a.node == c.node &&
			(pick == nil || a.since.Before(pick.since)) {
			pick = a
		}
	}
	if pick == nil || c.agent != nil || c.ended || c.abandoned {
		e.mu.Unlock()
		return pick != nil
	}
	c.agent, c.bridged = pick, &now
	pick.call, pick.attemptID, pick.state, pick.since = c, c.attemptID, agentstate.OnCall, now
	e.callEventLive(j, c, liveevents.CallConnected, map[string]any{"bridged_at": now})
	e.mu.Unlock()
	// The switch first, in one round trip: the customer is waiting; the records follow.
	_, errs, err := e.o.Switch.APIBatch(context.WithoutCancel(ctx), c.node,
		[]string{uuidBreak(pick.leg), uuidBroadcast(pick.leg, beepTone), uuidBridge(c.uuid, pick.leg)})
	switch {
	case err != nil:
		// Unknown whether the bridge was made: the legs' events will tell (never bridge twice).
		e.o.Logger.Warn("bridge not confirmed", "node", c.node, "attempt", c.attemptID, "err", err)
	case errs[2] != nil:
		// Refused (a leg is gone, or not in a state to bridge): the agent is free again and the
		// customer, if still there, waits for another one until the deadline.
		e.o.Logger.Warn("bridge refused", "node", c.node, "attempt", c.attemptID, "err", errs[2])
		e.mu.Lock()
		if c.agent == pick {
			c.agent, c.bridged = nil, nil
		}
		back := pick.call == c && !pick.leaving
		if back {
			pick.call, pick.attemptID, pick.state, pick.since = nil, 0, agentstate.Available, e.o.Now()
		}
		e.mu.Unlock()
		if back {
			e.command(ctx, pick.node, uuidBroadcast(pick.leg, holdMusic(e.o.Config().FreeSWITCH)))
			e.publish(ctx, j, pick)
		}
		return true
	}
	if e.o.OnBridge != nil && !c.answerEvent.IsZero() {
		e.o.OnBridge(time.Since(c.answerEvent))
	}
	e.publish(ctx, j, pick)
	e.ledger.write(c.attemptID, func(ctx context.Context) {
		if err := retryWrite(ctx, func() error { return e.o.Store.MarkBridged(ctx, c.uuid, pick.id, now) }); err != nil {
			e.o.Logger.Warn("record bridge", "attempt", c.attemptID, "err", err)
		}
	})
	return true
}

// abandon: no agent within the connect deadline. The customer hears the campaign's message and
// the call ends (P-2); without a message it is hung up at once.
func (e *Engine) abandon(ctx context.Context, camp *config.Campaign, c *call) {
	if camp != nil && camp.AbandonMessage != "" {
		if cmd, err := freeswitch.UUIDTransferInline(c.uuid, []freeswitch.App{{Name: "playback", Data: camp.AbandonMessage},
			{Name: "hangup", Data: "NORMAL_CLEARING"}}); err == nil {
			e.command(ctx, c.node, cmd)
			return
		}
	}
	e.command(ctx, c.node, uuidKill(c.uuid, "NORMAL_CLEARING"))
}

// endCall records how a call ended, once, and frees its agent into wrap-up.
func (e *Engine) endCall(ctx context.Context, j *job, c *call, cause string) {
	e.mu.Lock()
	if c.ended {
		e.mu.Unlock()
		return
	}
	c.ended = true
	outcome := string(freeswitch.Classify(cause, c.answered != nil).Outcome)
	switch {
	case c.bridged != nil:
		outcome = "connected"
	case c.answered != nil:
		outcome = "abandoned" // a live person with no agent (P-2)
		if !c.abandoned {
			c.abandoned = true // hung up while waiting: abandoned all the same
			e.observeAbandon(j, c, e.o.Now())
		}
	}
	e.observeEnd(j, c, outcome, e.o.Now())
	a := c.agent
	e.callEventLive(j, c, liveevents.CallEnded, map[string]any{"outcome": outcome, "hangup_cause": cause})
	music := false
	if a != nil && a.call == c {
		a.call = nil
		if !a.leaving {
			a.state, a.since = agentstate.WrapUp, e.o.Now()
		}
		// The agent's leg was parked again before this end was handled (the two legs' events
		// travel on different shards): its hold music starts here instead (G-3).
		music, a.parkedAfterCall = a.parkedAfterCall && !a.leaving, false
	}
	e.mu.Unlock()
	if a != nil {
		if music {
			e.command(ctx, a.node, uuidBroadcast(a.leg, holdMusic(e.o.Config().FreeSWITCH)))
		}
		e.publish(ctx, j, a)
	}
	e.finish(ctx, j, c, outcome, cause)
}

// finish writes the attempt's outcome and forgets the call.
func (e *Engine) finish(ctx context.Context, j *job, c *call, outcome, cause string) {
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
		DispositionGrace: cfg.System.UnsavedDispositionGrace, Retry: retry}
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
		if strings.Contains(err.Error(), "No such channel") {
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
func uuidBreak(id string) string       { s, _ := freeswitch.UUIDBreak(id, true); return s }
func uuidBridge(a, b string) string    { s, _ := freeswitch.UUIDBridge(a, b); return s }
func uuidBroadcast(id, target string) string {
	s, _ := freeswitch.UUIDBroadcast(id, target, "aleg")
	return s
}
