package engine

import (
	"context"
	"time"
)

// The switch is asked about a job's channels this often: a hangup event lost while a
// connection was down (or an answer to a command that never came) would otherwise leave a
// call, an agent or a contact claim stuck for good.
const (
	reconcileEvery = 15 * time.Second
	// reconcileAfter: younger channels may not exist yet (the originate is still on its way).
	reconcileAfter = 10 * time.Second
	// agentRingLimit: an agent's phone not answered by then is past its originate timeout.
	agentRingLimit = 45 * time.Second
)

// reconcile asks the switch which of the job's calls and agents' phones still exist and ends
// those that do not, as their hangup events would have; an agent whose leg could not be
// released is released again. A node that cannot answer is asked again next time.
func (e *Engine) reconcile(ctx context.Context, j *job, now time.Time) {
	if now.Sub(j.reconciled) < reconcileEvery {
		return
	}
	j.reconciled = now
	e.mu.Lock()
	byNode := map[string][]string{}
	calls := map[string]*call{}
	agents := map[string]*agent{}
	leaving := map[string]bool{}
	for id, c := range j.calls {
		if c.live() && now.Sub(c.started) >= reconcileAfter {
			byNode[c.node] = append(byNode[c.node], id)
			calls[id] = c
		}
	}
	for _, a := range j.agents {
		// A phone is asked about once its originate has returned (before, the leg may not be in
		// the switch's tables yet, and a ringing phone would be taken for a gone one), when it
		// is being released, or when its originate is long overdue.
		if a.originated || a.leaving || now.Sub(a.since) >= agentRingLimit {
			byNode[a.node] = append(byNode[a.node], a.leg)
			agents[a.leg], leaving[a.leg] = a, a.leaving
		}
	}
	e.mu.Unlock()
	for node, ids := range byNode {
		alive, err := e.o.Switch.Alive(ctx, node, ids)
		if err != nil {
			e.o.Logger.Debug("channels not checked; next time", "node", node, "err", err)
			continue
		}
		for _, id := range ids {
			switch c, a := calls[id], agents[id]; {
			case c != nil && !alive[id]:
				e.o.Logger.Warn("a call's channel is gone without its hangup event", "job", j.id, "attempt", c.attemptID)
				e.endCall(ctx, j, c, "LOST_CHANNEL")
			case a != nil && !alive[id]:
				e.o.Logger.Warn("an agent's phone is gone without its hangup event", "job", j.id, "agent", a.id)
				e.agentLegEnded(ctx, j, a)
			case a != nil && leaving[id]:
				e.command(ctx, node, uuidKill(a.leg, "NORMAL_CLEARING")) // released before, still up
			}
		}
	}
}
