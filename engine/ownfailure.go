package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// ownFailureLimit is how many originates of a job may fail because of us in a row (no switch
// node, a dial string the switch refuses) before the job stops by itself: past a few, the next
// one will fail the same way, and an operator has to look (issue 11 item 5).
const ownFailureLimit = 3

// ownFailures counts a job's failures of our own in a row, in the job run they happened in (a
// job started again counts afresh). Guarded by Engine.mu.
type ownFailures struct {
	run int
	n   int
}

// ownFailure ends a customer call whose originate failed because of us, not the customer:
// no switch node could take it (reason freeswitch.OwnSwitchUnavailable), or its dial string
// could not be built or the switch refused it as malformed (freeswitch.OwnDialStringRefused;
// freeswitch.ParseOriginateResult classifies the switch's answer). The call is forgotten as
// finish forgets it, but its attempt is given back instead of finished: the contact is as it
// was before the claim and no retry rule, dial limit, report or abandon statistic sees the
// attempt. No outcome is counted or observed by pacing. After ownFailureLimit of them in a row
// the job stops with the reason as its stop reason; ownSuccess resets the count.
//
// Like finish, it does not decide that the call ended: call it for a call that was never
// registered (originate's failures before the call is put in j.calls), or once the caller has
// ended the call under e.mu, as endCall does, so that a hangup handled meanwhile cannot end it a
// second time.
func (e *Engine) ownFailure(ctx context.Context, j *job, c *call, reason string) {
	now := e.o.Now()
	e.o.Logger.Warn("originate failed because of us; the contact is given back untouched",
		"job", j.id, "attempt", c.attemptID, "reason", reason)
	e.ledger.write(c.attemptID, func(ctx context.Context) {
		var given bool
		err := retryWrite(ctx, func() (err error) {
			given, err = e.o.Store.GiveBackAttempt(ctx, c.uuid, now)
			return err
		})
		switch {
		case err != nil:
			// The attempt stays in progress: the job's next owner (or this one after a restart)
			// settles it from the switch, which never had the call.
			e.o.Logger.Error("give back attempt", "attempt", c.attemptID, "err", err)
		case !given:
			// Already ended, or no longer this run's to give back: recorded as before, so that
			// it is not left in progress (FinishAttempt does nothing to an ended attempt).
			e.finishOwn(ctx, j, c, reason, now)
		}
	})
	e.mu.Lock()
	if _, ok := j.calls[c.uuid]; ok {
		delete(j.calls, c.uuid)
		delete(e.legs, c.uuid)
		e.calls--
	}
	untieLocked(c) // a callback's agent is free for others again (S-2)
	if j.own.run != j.row.Run {
		j.own = ownFailures{run: j.row.Run}
	}
	j.own.n++
	stop := j.own.n >= ownFailureLimit && !j.stopping
	if stop {
		j.stopping = true // no new calls; pass starts it again should the stop not be written
	}
	n := j.own.n
	e.mu.Unlock()
	if c.release != nil {
		c.release()
	}
	if !stop {
		return
	}
	e.o.Logger.Error("call job stopped: its originates keep failing because of us, not the customers",
		"job", j.id, "reason", reason, "in_a_row", n)
	// Written off the event path (a stalled PostgreSQL must not hold up the calls of this
	// shard), by a goroutine Stop waits for.
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		var rule *store.RuleError
		if _, err := e.o.Store.StopCallJob(context.WithoutCancel(ctx), j.id, reason, now); err != nil && !(errors.As(err, &rule) && rule.Code == "call_job_not_running") {
			e.o.Logger.Error("stop call job", "job", j.id, "reason", reason, "err", err)
		}
		e.mu.Lock()
		e.emit(liveevents.Event{Type: liveevents.JobState, CampaignID: j.campaign, CallJobID: j.id,
			Data: map[string]any{"status": domain.JobStopped, "reason": reason}})
		e.mu.Unlock()
	}()
}

// ownSuccess notes that an originate of the job did not fail because of us (the switch took it,
// or the customer's side answered): the count of ownFailure starts again.
func (e *Engine) ownSuccess(j *job) {
	e.mu.Lock()
	j.own = ownFailures{run: j.row.Run}
	e.mu.Unlock()
}

// finishOwn records an attempt that could not be given back as a network failure, the way it was
// recorded before failures of our own were told apart. Runs on the attempt's ledger worker.
func (e *Engine) finishOwn(ctx context.Context, j *job, c *call, reason string, now time.Time) {
	cfg := e.o.Config()
	var retry []store.RetryRule
	if camp := campaignOf(cfg, j.campaign); camp != nil {
		for _, r := range camp.Retry {
			retry = append(retry, store.RetryRule{Outcomes: r.Outcomes, After: r.After, MaxAttempts: r.MaxAttempts})
		}
	}
	end := store.AttemptEnd{ChannelUUID: c.uuid, Outcome: domain.OutcomeNetworkFailure, HangupCause: strings.ToUpper(reason),
		EndedAt: now, DispositionGrace: cfg.System.UnsavedDispositionGrace, Retry: retry}
	if err := retryWrite(ctx, func() error { _, err := e.o.Store.FinishAttempt(ctx, end); return err }); err != nil {
		e.o.Logger.Error("record attempt outcome", "attempt", c.attemptID, "err", err)
	}
}
