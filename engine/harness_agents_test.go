package engine_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/engine"
)

// memAgents is an in-memory stand-in for the live agent state in Redis (agentstate.Store, G-6):
// one state per agent, as Set wrote it last (since kept to the millisecond, as the hash holds
// it), and per call job a queue of requests from the API that the job's owner takes oldest
// first. Safe for concurrent use; changed hears every write.
type memAgents struct {
	mu       sync.Mutex
	agents   map[int]agentstate.Agent
	requests map[int64][]agentstate.Request
	changed  func()
}

func newMemAgents() *memAgents {
	return &memAgents{agents: map[int]agentstate.Agent{}, requests: map[int64][]agentstate.Request{}, changed: func() {}}
}

var _ engine.AgentState = (*memAgents)(nil)

func (m *memAgents) Set(_ context.Context, a agentstate.Agent) error {
	if !a.State.Valid() {
		return fmt.Errorf("agent %d: unknown state %q", a.ID, a.State)
	}
	a.Since = time.UnixMilli(a.Since.UnixMilli())
	m.mu.Lock()
	m.agents[a.ID] = a
	m.mu.Unlock()
	m.changed()
	return nil
}

func (m *memAgents) Get(_ context.Context, id int) (agentstate.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.agents[id]
	if !ok {
		return agentstate.Agent{}, agentstate.ErrUnknownAgent
	}
	return a, nil
}

func (m *memAgents) All(context.Context) ([]agentstate.Agent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]agentstate.Agent, 0, len(m.agents))
	for _, a := range m.agents {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b agentstate.Agent) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *memAgents) Take(_ context.Context, jobID int64, n int) ([]agentstate.Request, error) {
	m.mu.Lock()
	q := m.requests[jobID]
	n = min(n, len(q))
	out := slices.Clone(q[:n])
	m.requests[jobID] = q[n:]
	m.mu.Unlock()
	if n > 0 {
		m.changed()
	}
	return out, nil
}

// Push queues a request for the owner of the job, as the API does.
func (m *memAgents) Push(jobID int64, r agentstate.Request) {
	m.mu.Lock()
	m.requests[jobID] = append(m.requests[jobID], r)
	m.mu.Unlock()
	m.changed()
}

// Pending is how many requests of the job wait to be taken.
func (m *memAgents) Pending(jobID int64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests[jobID])
}

// Agent is the agent's live state; a logged-off agent without a job when it has none.
func (m *memAgents) Agent(id int) agentstate.Agent {
	a, err := m.Get(context.Background(), id)
	if err != nil {
		return agentstate.Agent{ID: id, State: domain.AgentLoggedOff}
	}
	return a
}
