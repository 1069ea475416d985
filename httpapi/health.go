package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Status is the body of GET /api/v1/status (docs/ui-guide.md).
type Status struct {
	Version             string       `json:"version"`
	InstanceID          string       `json:"instance_id"`
	StartedAt           time.Time    `json:"started_at"`
	FreeSWITCH          []NodeStatus `json:"freeswitch"`
	JobsRunning         int          `json:"jobs_running"`
	Agents              AgentCounts  `json:"agents"`
	CallsInFlight       int          `json:"calls_in_flight"`
	OriginatesPerSecond float64      `json:"originates_per_second"`
}

// NodeStatus is one FreeSWITCH node as seen by this instance.
type NodeStatus struct {
	Name        string     `json:"name"`
	Address     string     `json:"address"`
	Connected   bool       `json:"connected"`
	LastEventAt *time.Time `json:"last_event_at"`
	Error       string     `json:"error,omitempty"`
}

// AgentCounts are agents by live state.
type AgentCounts struct {
	Available int `json:"available"`
	Preview   int `json:"preview"`
	OnCall    int `json:"on_call"`
	WrapUp    int `json:"wrap_up"`
	Break     int `json:"break"`
	Away      int `json:"away"`
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// checkResult is one dependency in /readyz. It carries no error text: /readyz answers without
// a token, and probe errors name addresses and drivers; they go to the log (probeLog).
type checkResult struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
}

// handleReadyz probes every dependency at once, each within 2 s, and names what is down.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	results := make([]checkResult, len(s.checks))
	var wg sync.WaitGroup
	for i, c := range s.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Probe(ctx)
			results[i] = checkResult{Name: c.Name, OK: err == nil}
			s.probes.record(r.Context(), s.log, c.Name, err)
		}()
	}
	wg.Wait()

	groupUp := map[string]bool{}
	groupSeen := []string{}
	var down []string
	for i, c := range s.checks {
		if c.Group == "" {
			if !results[i].OK {
				down = append(down, c.Name)
			}
			continue
		}
		if _, seen := groupUp[c.Group]; !seen {
			groupSeen = append(groupSeen, c.Group)
		}
		groupUp[c.Group] = groupUp[c.Group] || results[i].OK
	}
	for _, g := range groupSeen {
		if !groupUp[g] {
			down = append(down, g)
		}
	}
	if len(down) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": results})
		return
	}
	details := make([]any, 0, len(results))
	for _, res := range results {
		details = append(details, res)
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": &apiError{
		Code: "not_ready", Message: "down: " + strings.Join(down, ", "), Details: details,
	}, "down": down, "checks": results})
}

// probeLog logs a readiness probe's failure when it starts or its error changes, and its
// recovery: load balancers ask every few seconds, and the log needs the change, not the repeat.
type probeLog struct {
	mu   sync.Mutex
	last map[string]string // check name → its last error ("" when up)
}

func (l *probeLog) record(ctx context.Context, log *slog.Logger, name string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	l.mu.Lock()
	if l.last == nil {
		l.last = map[string]string{}
	}
	prev, seen := l.last[name]
	l.last[name] = msg
	l.mu.Unlock()
	switch {
	case msg != "" && msg != prev:
		log.WarnContext(ctx, "readiness check failed", "check", name, "err", msg)
	case msg == "" && seen && prev != "":
		log.InfoContext(ctx, "readiness check recovered", "check", name)
	}
}

// handleStatus answers staff only: it names the switch nodes' addresses and the instance.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) error {
	if err := staffOnly(principalFrom(r.Context())); err != nil {
		return err
	}
	st, err := s.status(r.Context())
	if err != nil {
		return err
	}
	if st.FreeSWITCH == nil {
		st.FreeSWITCH = []NodeStatus{}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
