package engine

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/store"
)

// staleCheckEvery is how often live agent state is read for agents nobody looks after.
const staleCheckEvery = 5 * time.Second

// releaseStaleAgents lets go of agents whose live state names a job run that no instance runs:
// the job stopped while no instance owned it (its owner stopped or died before its agents
// left), or the state is of an earlier run of the job (a stop and a start, a restored
// database). Whichever instance notices hangs their phones up and logs them off, so they can
// join again (J-6, G-3). An agent is let go only when it was found stale by two checks in a
// row with the same phone and run, so that a state its owner is about to rewrite (a job
// started again while winding down) is left alone. Called from the loop only.
func (e *Engine) releaseStaleAgents(ctx context.Context, running map[int64]store.CallJob, now time.Time) {
	if now.Sub(e.staleChecked) < staleCheckEvery {
		return
	}
	e.staleChecked = now
	states, err := e.o.Agents.All(ctx)
	if err != nil {
		return // Redis is down: nothing can be joined either; try again next time
	}
	seen := map[int]string{}
	leases := map[int64]*store.JobLease{}
	defer func() {
		for _, l := range leases {
			if l != nil { // nil: held by another instance
				l.Release()
			}
		}
	}()
	for _, st := range states {
		if st.CallJobID == 0 {
			continue
		}
		stale, owned := e.isStale(st, running)
		if !stale {
			continue
		}
		if !owned {
			// A job another instance owns (running, or stopped and winding down) holds its
			// lease: its owner looks after its agents, whatever run their state names.
			l, ok := leases[st.CallJobID]
			if !ok {
				if l, err = e.o.Store.TryLeaseJob(ctx, st.CallJobID); err != nil {
					continue
				}
				leases[st.CallJobID] = l
			}
			if l == nil {
				continue
			}
		}
		key := st.Leg + "/" + strconv.Itoa(st.JobRun) + "/" + string(st.State)
		seen[st.ID] = key
		if e.staleSeen[st.ID] != key {
			continue // seen once: released at the next check if nothing changed
		}
		e.releaseStale(ctx, st, now)
	}
	e.staleSeen = seen
}

// isStale: the state names a job this instance does not run the agent for, and either the job
// is not running or the state is of another run; owned: this instance runs the job. It takes
// e.mu itself.
func (e *Engine) isStale(st agentstate.Agent, running map[int64]store.CallJob) (stale, owned bool) {
	e.mu.Lock()
	j, owned := e.jobs[st.CallJobID]
	mine := owned && j.agents[st.ID] != nil && j.agents[st.ID].leg == st.Leg
	e.mu.Unlock()
	if mine || owned && st.State == domain.AgentLoggedOff {
		return false, owned // ours, or a join this instance is about to carry out
	}
	row, isRunning := running[st.CallJobID]
	if !isRunning {
		return !owned, owned // a stopped job still winding down here keeps its agents
	}
	return st.JobRun != row.Run, owned
}

// releaseStale hangs up a stale agent's phone and logs it off with the job-stopped message.
func (e *Engine) releaseStale(ctx context.Context, st agentstate.Agent, now time.Time) {
	e.o.Logger.Warn("releasing an agent left in a job nobody runs", "agent", st.ID, "job", st.CallJobID,
		"run", st.JobRun, "state", st.State, "node", st.Node)
	if st.Leg != "" && st.Node != "" {
		// Logged off only once the phone is surely gone: else the next check tries again.
		if _, err := e.o.Switch.API(ctx, st.Node, uuidKill(st.Leg, "NORMAL_CLEARING")); err != nil && !errors.Is(err, freeswitch.ErrNoSuchChannel) {
			e.o.Logger.Warn("stale agent's phone not hung up; next time", "agent", st.ID, "node", st.Node, "err", err)
			return
		}
	}
	msg := st.Message
	if st.State != domain.AgentLoggedOff {
		msg = MessageJobStopped
	}
	off := agentstate.Agent{ID: st.ID, State: domain.AgentLoggedOff, Since: now, Message: msg}
	e.mu.Lock()
	e.agentStateEventLocked(nil, off)
	e.states.write(int64(st.ID), func(ctx context.Context) {
		if err := e.o.Agents.Set(ctx, off); err != nil {
			e.o.Logger.Warn("publish stale agent logoff", "agent", st.ID, "err", err)
		}
	})
	e.mu.Unlock()
}

// releaseStoppedJobsAgents, at shutdown, lets the agents of jobs that stopped and are winding
// down here go at once (their phones hung up, logged off with the job-stopped message) rather
// than leave them for the next instance to find stale. Agents of running jobs stay: the job's
// next owner adopts them with their calls.
func (e *Engine) releaseStoppedJobsAgents() {
	e.mu.Lock()
	var out []*agent
	var jobs []*job
	for _, j := range e.jobs {
		if !j.stopping {
			continue
		}
		for _, a := range j.agents {
			if a.call == nil && !a.leaving {
				a.leaving, a.message = true, MessageJobStopped
				out = append(out, a)
				jobs = append(jobs, j)
			}
		}
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, a := range out {
		e.command(ctx, a.node, uuidKill(a.leg, "NORMAL_CLEARING"))
		e.agentGone(ctx, jobs[i], a, MessageJobStopped)
	}
}
