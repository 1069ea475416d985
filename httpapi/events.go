package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/liveevents"
)

// EventSource is the live event stream (S-1): the hub of this instance and the stream's history.
type EventSource interface {
	Subscribe() *liveevents.Subscription
	Unsubscribe(s *liveevents.Subscription)
	After(ctx context.Context, id string, limit int64) ([]liveevents.Event, error)
}

// historyLimit bounds the events replayed to one resuming client.
const historyLimit = 10000

// eventFilter is what one SSE client may and wants to see.
type eventFilter struct {
	p       Principal
	jobID   int64 // call_job_id=, 0: any
	agentID int   // agent_id=, 0: any
	// ownJob is the job an agent caller is in, followed through its own agent_state events.
	ownJob int64
}

// allows applies the request's filters, then the caller's role: admins see everything,
// supervisors the events of their campaigns, agents the events that concern their agent (its
// own, and the desk events of a call whose third party it is) and the job state of the job they
// are in.
func (f *eventFilter) allows(e liveevents.Event) bool {
	if f.p.Role == config.RoleAgent && e.Type == liveevents.AgentState && e.AgentID == f.p.AgentID {
		f.ownJob = e.CallJobID // logged off keeps the job id of the job it left
		if s, _ := e.Data["state"].(string); s == string(domain.AgentLoggedOff) {
			defer func() { f.ownJob = 0 }()
		}
	}
	if f.jobID != 0 && e.CallJobID != f.jobID || f.agentID != 0 && !concerns(e, f.agentID) {
		return false
	}
	switch f.p.Role {
	case config.RoleAdmin:
		return true
	case config.RoleSupervisor:
		return slices.Contains(f.p.CampaignIDs, e.CampaignID)
	case config.RoleAgent:
		if concerns(e, f.p.AgentID) {
			return true
		}
		return e.Type == liveevents.JobState && e.CallJobID != 0 && e.CallJobID == f.ownJob
	}
	return false
}

// concerns reports whether an event is about agent id: its own (Event.AgentID), or a desk event
// of another agent's call whose third party is this agent (data.target.agent_id: a consult or
// transfer to it, a conference it is brought into), so that its screen follows what it is
// reserved for.
func concerns(e liveevents.Event, id int) bool {
	if e.AgentID == id {
		return true
	}
	switch e.Type {
	case liveevents.PartyRinging, liveevents.PartyJoined, liveevents.PartyLeft, liveevents.ConsultSwapped,
		liveevents.TransferCompleted, liveevents.TransferFailed:
	default:
		return false
	}
	// Events reach the API decoded from the stream: objects are maps, numbers float64.
	t, _ := e.Data["target"].(map[string]any)
	n, ok := t["agent_id"].(float64)
	return ok && n == float64(id)
}

// handleEvents streams live events as server-sent events. Each event's id is its stream id: a
// client that reconnects with Last-Event-ID (or ?last_event_id=) gets exactly the events after
// it that it may see, then the live ones. Comment lines keep idle connections open through
// proxies. The stream ends when the client goes, the server shuts down, or the client falls too
// far behind (it then resumes from its last id).
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	if s.events == nil {
		return errorf(http.StatusServiceUnavailable, "dependency_down", "live events are not configured")
	}
	p := principalFrom(r.Context())
	f := &eventFilter{p: p}
	q := r.URL.Query()
	var err error
	if f.jobID, err = queryID(q, "call_job_id", maxBigintID); err != nil {
		return err
	}
	agentID, err := queryID(q, "agent_id", maxIntID)
	if err != nil {
		return err
	}
	f.agentID = int(agentID)
	if p.Role == config.RoleAgent {
		if f.agentID != 0 && f.agentID != p.AgentID {
			return errForbidden
		}
		if st, err := s.desk.Get(r.Context(), p.AgentID); err == nil && st.State != domain.AgentLoggedOff {
			f.ownJob = st.CallJobID
		}
		// Another job's events are refused, not filtered to nothing (a supervisor outside its
		// campaigns gets the same 403).
		if f.jobID != 0 && f.jobID != f.ownJob {
			return errForbidden
		}
	}
	if f.jobID != 0 && p.Role == config.RoleSupervisor {
		j, err := s.jobs.GetCallJob(r.Context(), f.jobID)
		if err != nil {
			return hideMissing(p, err)
		}
		if !p.CanCampaign(j.CampaignID) {
			return errForbidden
		}
	}
	last := r.Header.Get("Last-Event-ID")
	if v := q.Get("last_event_id"); last == "" && v != "" {
		last = v
	}
	var lastID liveevents.ID
	if last != "" {
		id, ok := liveevents.ParseID(last)
		if !ok {
			return errorf(http.StatusBadRequest, "bad_request", "Last-Event-ID %q is not an event id of this server", last)
		}
		lastID = id
	}

	// Subscribe before reading the history, so nothing falls between the two; ids dedupe.
	sub := s.events.Subscribe()
	defer s.events.Unsubscribe(sub)
	var history []liveevents.Event
	if last != "" {
		h, err := s.events.After(r.Context(), last, historyLimit)
		if err != nil {
			return DependencyDown("redis", err)
		}
		history = h
	}

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	send := func(e liveevents.Event) error {
		id, ok := liveevents.ParseID(e.ID)
		if !ok || !id.After(lastID) {
			return nil // already sent from the history
		}
		lastID = id
		if !f.allows(e) {
			return nil
		}
		b, _ := json.Marshal(e)
		if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", e.ID, e.Type, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	for _, e := range history {
		if err := send(e); err != nil {
			return nil
		}
	}
	if len(history) == historyLimit {
		// More history than one reply carries: live events now would skip the rest. The stream
		// ends; the client reconnects from the last id it got (EventSource does so by itself).
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	beat := time.NewTicker(s.heartbeat)
	defer beat.Stop()
	// Access is re-checked when the configuration is reloaded: a user removed, or whose role,
	// campaigns or token changed, has its stream ended; reconnecting authorises it anew.
	recheck := time.NewTicker(time.Second)
	defer recheck.Stop()
	checked := s.cfg.Current()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.closing:
			return nil
		case <-recheck.C:
			if cfg := s.cfg.Current(); cfg != checked {
				checked = cfg
				if !p.stillValid(cfg) {
					s.log.Info("event stream ended: the caller's access changed with the configuration", "user", p.Name)
					return nil
				}
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		case e, ok := <-sub.C:
			if !ok {
				return nil // lagged or the hub stopped: the client resumes from its last id
			}
			if err := send(e); err != nil {
				if !errors.Is(err, context.Canceled) {
					s.log.Debug("live event client gone", "err", err)
				}
				return nil
			}
		}
	}
}

// CloseStreams ends every open event stream (http.Server.RegisterOnShutdown): Shutdown waits
// for handlers, and a stream's handler would otherwise run until its client leaves.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() { close(s.closing) })
}
