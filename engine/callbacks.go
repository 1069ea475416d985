package engine

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// A callback promised by an agent goes to that agent first (S-2, issue 14 item 4). For the
// campaign's callback_grace after its due time it is claimed only for its agent, when that
// agent is in the job and free, and the call is tied to the agent: the agent is reserved for
// it (a.reserved), so no other customer is given the agent while the callback rings, and the
// pair is left out of pacing (one call for one agent, as progressive dialing would place), so
// predictive over-dialing does not count on the agent either. When the customer answers it is
// moved to its agent; to any free agent when its agent has left or is on a break meanwhile,
// rather than abandoned (P-2). Once the grace has passed, the ordinary claim gives the callback
// to any agent of the job.

// ownersAskEvery is how often the same free agents are asked about again: callbacks are due at
// times people chose, so a second's delay is nothing; an agent newly free is asked about at once.
const ownersAskEvery = time.Second

// ownersAsk is the latest claim for free agents' own callbacks: when, and for whom.
type ownersAsk struct {
	at     time.Time
	owners string
}

// freeForLocked: the agent may be given customer c now (c nil: any customer, for pacing and for
// the claim of its own callbacks). Caller holds e.mu.
func (a *agent) freeForLocked(c *call) bool {
	if c != nil && c.own && a.reserved == c {
		// The agent dialed this customer itself: shown on a call while it rings (issue 16).
		return a.inRoom && !a.leaving && a.call == nil && a.state == domain.AgentOnCall
	}
	return a.inRoom && !a.leaving && !a.leaveAfterCall && a.state == domain.AgentAvailable && a.call == nil &&
		(a.reserved == nil || c != nil && a.reserved == c)
}

// dialOwnedCallbacks claims, for the job's agents free now, the callbacks they promised that
// are due and still in their grace, one each, and dials them tied to their agents, on each
// agent's node. It runs before pacing, so pacing counts neither the reserved agents nor their
// calls. The calls-per-second allowance is spent on the calls placed.
func (e *Engine) dialOwnedCallbacks(ctx context.Context, cfg *config.Config, camp *config.Campaign, j *job, now time.Time) {
	if camp.CallbackGrace <= 0 {
		return // anyone's at once: the ordinary claim takes them
	}
	e.mu.Lock()
	byNode := map[string][]int{}
	var all []string
	for _, a := range j.agents {
		if a.freeForLocked(nil) && !e.nodeDown(a.node) {
			byNode[a.node] = append(byNode[a.node], a.id)
			all = append(all, a.node+"/"+strconv.Itoa(a.id))
		}
	}
	slices.Sort(all)
	ask := ownersAsk{at: now, owners: strings.Join(all, ",")}
	if len(all) == 0 || ask.owners == j.ownersAsked.owners && now.Sub(j.ownersAsked.at) < ownersAskEvery {
		e.mu.Unlock()
		return
	}
	j.ownersAsked = ask
	var plan []nodeDial
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		plan = append(plan, nodeDial{node: node, n: len(byNode[node])})
	}
	plan = e.limitRateLocked(camp, plan, now)
	e.mu.Unlock()
	for _, p := range plan {
		owners := byNode[p.node]
		slices.Sort(owners)
		owners = owners[:p.n]
		targets, err := e.o.Store.ClaimContacts(ctx, store.ClaimRequest{JobID: j.id, Run: j.row.Run, N: len(owners),
			Instance: e.o.Instance, Node: p.node, NewUUID: e.o.NewUUID, CallbackGrace: camp.CallbackGrace, Owners: owners}, now)
		if n := len(targets); n < p.n && camp.Pacing.MaxCallsPerSecond > 0 {
			e.mu.Lock()
			e.statsOfLocked(camp).tokens += float64(p.n - n) // the allowance not used goes back
			e.mu.Unlock()
		}
		if err != nil {
			e.o.Logger.Warn("claim agents' own callbacks", "job", j.id, "err", err)
			return
		}
		for _, t := range targets {
			e.originate(ctx, cfg, camp, j, p.node, t, now, dialOpts{})
		}
	}
}

// tieLocked reserves the callback's agent for call c, when the agent is still free in the job.
// Caller holds e.mu.
func (e *Engine) tieLocked(j *job, c *call, agentID int) {
	if a := j.agents[agentID]; a != nil && a.freeForLocked(nil) {
		a.reserved, c.owner = c, a
	}
}

// untieLocked ends c's reservation of its agent and reports the agent, now free for others, if
// it is available. Caller holds e.mu.
func untieLocked(c *call) *agent {
	a := c.owner
	if a == nil || a.reserved != c {
		return nil
	}
	a.reserved = nil
	if a.freeForLocked(nil) {
		return a
	}
	return nil
}
