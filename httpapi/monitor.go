package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
	"github.com/kakeru-dialer/kakeru/pacing"
	"github.com/kakeru-dialer/kakeru/store"
)

// MonitorStore is what the job monitor reads (S-1): live agents from Redis, the run's counts,
// the agents' calls and the campaign's answer buckets from PostgreSQL.
type MonitorStore interface {
	All(ctx context.Context) ([]agentstate.Agent, error)
	JobRunCounts(ctx context.Context, jobID int64) (store.RunCounts, error)
	LiveCalls(ctx context.Context, ids []int64) (map[int64]store.LiveCall, error)
	AnswerBuckets(ctx context.Context, campaign int, since time.Time) ([]store.AnswerBucket, error)
	// AbandonBudget is the budget the campaign's compliance record in PostgreSQL leaves at now
	// under its settings (P-2), computed as the engine paces by it (engine.AbandonBudget), so any
	// instance answers alike, whichever runs the job.
	AbandonBudget(ctx context.Context, camp *config.Campaign, now time.Time) (pacing.AbandonBudget, error)
}

// Supervisor places supervision legs (docs/event-socket.md §4.5) on a switch node.
type Supervisor interface {
	Originate(ctx context.Context, node, cmd string) error
}

type monitorAgent struct {
	AgentID    int               `json:"agent_id"`
	Name       string            `json:"name"`
	State      domain.AgentState `json:"state"`
	StateSince time.Time         `json:"state_since"`
	Call       *store.LiveCall   `json:"call,omitempty"`
	call       int64             // the attempt to show
}

type abandonRate struct {
	Answered  int     `json:"answered"`
	Abandoned int     `json:"abandoned"`
	Rate      float64 `json:"rate"` // abandoned / answered by a person, 0 without answers (P-2)
}

// abandonAllowance is what one compliance window can still take (P-2).
type abandonAllowance struct {
	Live      int     `json:"live"`
	Abandoned int     `json:"abandoned"`
	Remaining float64 `json:"remaining"`
}

// abandonBudgetJSON is the campaign's abandon budget per compliance window (P-2).
type abandonBudgetJSON struct {
	TargetRate         float64          `json:"target_rate"`
	RecordedTargetRate float64          `json:"recorded_target_rate"`
	Remaining          float64          `json:"remaining"`
	Day                abandonAllowance `json:"day"`
	Rolling24h         abandonAllowance `json:"rolling_24h"`
	Rolling30d         abandonAllowance `json:"rolling_30d"`
}

func budgetJSON(b pacing.AbandonBudget) *abandonBudgetJSON {
	allow := func(a pacing.Allowance) abandonAllowance {
		return abandonAllowance{Live: a.Live, Abandoned: a.Abandoned, Remaining: a.Remaining}
	}
	return &abandonBudgetJSON{TargetRate: b.Target, RecordedTargetRate: b.RecordedTarget, Remaining: b.Remaining,
		Day: allow(b.Day), Rolling24h: allow(b.Rolling24h), Rolling30d: allow(b.Rolling30d)}
}

type monitorJSON struct {
	CallJobID   int64                  `json:"call_job_id"`
	Status      domain.JobStatus       `json:"status"`
	CampaignID  int                    `json:"campaign_id"`
	Agents      []monitorAgent         `json:"agents"`
	Counts      store.RunCounts        `json:"counts"`
	AbandonRate map[string]abandonRate `json:"abandon_rate"` // "24h", "30d"
	// AbandonBudget is left out when the campaign is no longer configured.
	AbandonBudget *abandonBudgetJSON `json:"abandon_budget,omitempty"`
}

// handleMonitor: per job, each agent's state, time in state and current call; the run's
// counts; the campaign's rolling 24 h and 30 day abandon rate and its abandon budget (S-1,
// P-2). Admins and the campaign's supervisors.
func (s *Server) handleMonitor(w http.ResponseWriter, r *http.Request) error {
	j, _, err := s.loadCallJob(r)
	if err != nil {
		return err
	}
	if s.monitor == nil {
		return errorf(http.StatusServiceUnavailable, "dependency_down", "the monitor is not configured")
	}
	ctx := r.Context()
	live, err := s.monitor.All(ctx)
	if err != nil {
		return DependencyDown("redis", err)
	}
	cfg := s.cfg.Current()
	out := monitorJSON{CallJobID: j.ID, Status: j.Status, CampaignID: j.CampaignID, Agents: []monitorAgent{},
		AbandonRate: map[string]abandonRate{}}
	var attempts []int64
	for _, a := range live {
		if a.CallJobID != j.ID {
			continue
		}
		ag, _ := cfg.Agent(a.ID)
		m := monitorAgent{AgentID: a.ID, Name: ag.Name, State: a.State, StateSince: a.Since}
		if a.AttemptID != 0 && (a.State == domain.AgentOnCall || a.State == domain.AgentWrapUp) {
			m.call = a.AttemptID
			attempts = append(attempts, a.AttemptID)
		}
		out.Agents = append(out.Agents, m)
	}
	slices.SortFunc(out.Agents, func(a, b monitorAgent) int { return a.AgentID - b.AgentID })
	calls, err := s.monitor.LiveCalls(ctx, attempts)
	if err != nil {
		return err
	}
	for i := range out.Agents {
		if c, ok := calls[out.Agents[i].call]; ok {
			out.Agents[i].Call = &c
		}
	}
	if out.Counts, err = s.monitor.JobRunCounts(ctx, j.ID); err != nil {
		return err
	}
	now := s.now()
	buckets, err := s.monitor.AnswerBuckets(ctx, j.CampaignID, now.Add(-30*24*time.Hour).Add(-store.AnswerBucketSize))
	if err != nil {
		return err
	}
	for name, window := range map[string]time.Duration{"24h": 24 * time.Hour, "30d": 30 * 24 * time.Hour} {
		var ar abandonRate
		for _, b := range buckets {
			// A bucket counts when it ends inside the window (its start may be up to 15 min before).
			if b.Start.Add(store.AnswerBucketSize).After(now.Add(-window)) {
				ar.Answered += b.Live
				ar.Abandoned += b.Abandoned
			}
		}
		if ar.Answered > 0 {
			ar.Rate = float64(ar.Abandoned) / float64(ar.Answered)
		}
		out.AbandonRate[name] = ar
	}
	if camp, ok := cfg.Campaign(j.CampaignID); ok {
		b, err := s.monitor.AbandonBudget(ctx, &camp, now)
		if err != nil {
			return err
		}
		out.AbandonBudget = budgetJSON(b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type supervisionRequest struct {
	SupervisorEndpoint string `json:"supervisor_endpoint"`
}

type supervisionJSON struct {
	UUID     string `json:"uuid"`
	AgentID  int    `json:"agent_id"`
	Mode     string `json:"mode"`
	AgentLeg string `json:"agent_leg"`
}

func (s *Server) handleListen(w http.ResponseWriter, r *http.Request) error {
	return s.supervise(w, r, false)
}

func (s *Server) handleWhisper(w http.ResponseWriter, r *http.Request) error {
	return s.supervise(w, r, true)
}

// supervise calls the supervisor's endpoint and has it eavesdrop on the agent's leg (S-1):
// admins, and supervisors of the campaign of the agent's current job; agents never.
func (s *Server) supervise(w http.ResponseWriter, r *http.Request, whisper bool) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	_, st, err := s.agentFor(r)
	if err != nil {
		return err
	}
	var req supervisionRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := freeswitch.CheckDialString(req.SupervisorEndpoint); err != nil {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_input",
			Message: "supervisor_endpoint must be one endpoint without spaces, quotes, control characters, variables or separators (',', '|', ':_:')",
			Details: []any{fieldProblem{Field: "supervisor_endpoint", Message: err.Error()}}}
	}
	if len(p.SupervisorEndpoints) > 0 && !slices.Contains(p.SupervisorEndpoints, req.SupervisorEndpoint) {
		return errorf(http.StatusForbidden, "supervisor_endpoint_not_allowed",
			"%s is not one of the endpoints configured for %s (users[].supervisor_endpoints)", req.SupervisorEndpoint, p.Name)
	}
	if st.State != domain.AgentOnCall || st.Leg == "" || st.Node == "" {
		return errorf(http.StatusConflict, "agent_not_on_call", "the agent has no live call to listen to")
	}
	if s.supervisor == nil {
		return errorf(http.StatusServiceUnavailable, "dependency_down", "no switch is configured for supervision")
	}
	id := s.newUUID()
	cmd, err := freeswitch.SupervisionCmd(freeswitch.Supervision{UUID: id, Endpoint: req.SupervisorEndpoint,
		AgentLeg: st.Leg, CallerID: s.cfg.Current().FreeSWITCH.AgentCallerID, Whisper: whisper})
	if err != nil {
		return errorf(http.StatusConflict, "agent_not_on_call", "the agent's leg cannot be eavesdropped: %v", err)
	}
	if err := s.supervisor.Originate(r.Context(), st.Node, cmd); err != nil {
		if errors.Is(err, freeswitch.ErrBadCommand) {
			return err
		}
		return DependencyDown("freeswitch:"+st.Node, err)
	}
	mode := "listen"
	if whisper {
		mode = "whisper"
	}
	s.log.Info("supervision leg placed", "by", p.Name, "agent", st.ID, "mode", mode, "uuid", id,
		"endpoint", req.SupervisorEndpoint, "node", st.Node)
	writeJSON(w, http.StatusAccepted, supervisionJSON{UUID: id, AgentID: st.ID, Mode: mode, AgentLeg: st.Leg})
	return nil
}
