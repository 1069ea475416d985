// Package agentstate keeps live agent state in Redis (G-6): the pacing input that
// every engine instance shares.
//
// Layout: one hash per agent, kakeru:agent:{id} with fields state, since (Unix milliseconds),
// call_job_id and attempt_id, and the set kakeru:agents of agent ids that have a hash.
package agentstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kakeru-dialer/kakeru/domain"
)

// Agent is the live state of one agent.
type Agent struct {
	ID        int
	State     domain.AgentState
	Since     time.Time
	CallJobID int64 // 0: not in a job
	// JobRun is the run of CallJobID the agent joined (store.CallJob.Run): state left from an
	// earlier run of the same job (a stop and start, a restored database) is never taken for
	// the current one.
	JobRun    int
	AttemptID int64  // 0: no current call
	Leg       string // the agent's phone leg (channel UUID) while in a job
	Node      string // the switch node of that leg
	Message   string // why the agent was logged off, shown at its next screen (G-5, J-6)
	// Call is what is going on with the agent's customer besides talking (hold, a consult, a
	// conference), nil when nothing is; Preview the contact a preview job shows the agent
	// (state preview), nil otherwise.
	Call    *CallStatus
	Preview *Preview
}

// CallStatus is the state of an agent's call beyond "on a call": the screen offers its
// actions from it.
type CallStatus struct {
	// Held: the customer hears hold music, away from the agent (a hold, or a consult).
	Held bool `json:"held"`
	// Dialing: a call the agent dialed itself (a preview, a manual dial) rings; nobody is on
	// the line yet. Hanging up cancels it.
	Dialing bool `json:"dialing,omitempty"`
	// Party is the third party of a consult, a blind transfer still ringing or a conference.
	Party *Party `json:"party,omitempty"`
}

// Party is the third party of an agent's call.
type Party struct {
	// Mode: consult (attended transfer), blind (a blind transfer whose target still rings) or
	// conference.
	Mode   string `json:"mode"`
	Target Target `json:"target"`
	// State: ringing, talking (in the agent's room), held (a consult after a swap: the agent
	// talks to the customer again).
	State string    `json:"state"`
	Since time.Time `json:"since"`
	// Leg is the party's channel: an instance taking the job over hangs it up (the consult
	// or conference lived in the memory of the instance that owned the job).
	Leg string `json:"leg,omitempty"`
}

// Target is who a transfer or a conference reaches: exactly one of its fields is set.
type Target struct {
	Kind       domain.TargetKind `json:"kind"`
	AgentID    int               `json:"agent_id,omitempty"`
	Supervisor string            `json:"supervisor,omitempty"` // a user name
	Number     string            `json:"number,omitempty"`
}

// Preview is the contact a preview job shows an agent before dialing it.
type Preview struct {
	AttemptID int64     `json:"attempt_id"`
	ContactID int64     `json:"contact_id"`
	Tel       string    `json:"tel"`
	DialAt    time.Time `json:"dial_at"` // the time limit: dialed by itself then
}

// Store reads and writes live agent state.
type Store struct {
	rdb *redis.Client
}

// Open connects to Redis. The connection is checked lazily; use Ping for readiness.
func Open(addr string, db int, password string) *Store {
	return &Store{rdb: redis.NewClient(&redis.Options{Addr: addr, DB: db, Password: password,
		DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})}
}

// Close releases the connections.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }

const agentsKey = "kakeru:agents"

func agentKey(id int) string { return "kakeru:agent:" + strconv.Itoa(id) }

// Set writes an agent's state atomically.
func (s *Store) Set(ctx context.Context, a Agent) error {
	if !a.State.Valid() {
		return fmt.Errorf("agent %d: unknown state %q", a.ID, a.State)
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, agentKey(a.ID), map[string]any{
			"state": string(a.State), "since": a.Since.UnixMilli(),
			"call_job_id": a.CallJobID, "job_run": a.JobRun, "attempt_id": a.AttemptID, "leg": a.Leg, "node": a.Node, "message": a.Message,
			"call": jsonField(a.Call), "preview": jsonField(a.Preview),
		})
		p.SAdd(ctx, agentsKey, a.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("set agent %d state: %w", a.ID, err)
	}
	return nil
}

// ErrUnknownAgent is returned by Get for an agent that never had a state.
var ErrUnknownAgent = errors.New("agent has no live state")

// Get reads one agent's state.
func (s *Store) Get(ctx context.Context, id int) (Agent, error) {
	m, err := s.rdb.HGetAll(ctx, agentKey(id)).Result()
	if err != nil {
		return Agent{}, fmt.Errorf("get agent %d state: %w", id, err)
	}
	if len(m) == 0 {
		return Agent{}, ErrUnknownAgent
	}
	return parseAgent(id, m)
}

// All reads every agent with a live state in one pipelined round trip.
func (s *Store) All(ctx context.Context) ([]Agent, error) {
	ids, err := s.rdb.SMembers(ctx, agentsKey).Result()
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, "kakeru:agent:"+id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	out := make([]Agent, 0, len(ids))
	for i, c := range cmds {
		m := c.Val()
		if len(m) == 0 {
			continue
		}
		id, err := strconv.Atoi(ids[i])
		if err != nil {
			continue
		}
		a, err := parseAgent(id, m)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Counts returns how many agents are in each state (logged-off agents included).
func (s *Store) Counts(ctx context.Context) (map[domain.AgentState]int, error) {
	agents, err := s.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[domain.AgentState]int, len(domain.AgentStates()))
	for _, a := range agents {
		out[a.State]++
	}
	return out, nil
}

// Remove forgets an agent's live state.
func (s *Store) Remove(ctx context.Context, id int) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, agentKey(id))
		p.SRem(ctx, agentsKey, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove agent %d state: %w", id, err)
	}
	return nil
}

func parseAgent(id int, m map[string]string) (Agent, error) {
	a := Agent{ID: id, State: domain.AgentState(m["state"])}
	if !a.State.Valid() {
		return Agent{}, fmt.Errorf("agent %d: stored state %q is unknown", id, m["state"])
	}
	ms, err := strconv.ParseInt(m["since"], 10, 64)
	if err != nil {
		return Agent{}, fmt.Errorf("agent %d: stored since %q: %w", id, m["since"], err)
	}
	a.Since = time.UnixMilli(ms)
	a.CallJobID, _ = strconv.ParseInt(m["call_job_id"], 10, 64)
	a.AttemptID, _ = strconv.ParseInt(m["attempt_id"], 10, 64)
	a.JobRun, _ = strconv.Atoi(m["job_run"])
	a.Leg, a.Node, a.Message = m["leg"], m["node"], m["message"]
	if v := m["call"]; v != "" {
		a.Call = new(CallStatus)
		if err := json.Unmarshal([]byte(v), a.Call); err != nil {
			return Agent{}, fmt.Errorf("agent %d: stored call %q: %w", id, v, err)
		}
	}
	if v := m["preview"]; v != "" {
		a.Preview = new(Preview)
		if err := json.Unmarshal([]byte(v), a.Preview); err != nil {
			return Agent{}, fmt.Errorf("agent %d: stored preview %q: %w", id, v, err)
		}
	}
	return a, nil
}

// jsonField is v as a hash field: "" for nil, else its JSON.
func jsonField[T any](v *T) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
