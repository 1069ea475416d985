package httpapi

import (
	"net/http"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
)

// The configuration views of docs/ui-guide.md: campaigns, dial groups and agents, read-only.

type campaignJSON struct {
	ID               int               `json:"id"`
	Name             string            `json:"name"`
	TimeZone         string            `json:"time_zone"`
	BusinessHours    businessHoursJSON `json:"business_hours"`
	CallerIDs        []string          `json:"caller_ids"`
	WithholdCallerID bool              `json:"withhold_caller_id"`
	ResultCodes      []resultCodeJSON  `json:"result_codes"`
	Pacing           pacingJSON        `json:"pacing"`
	Retry            []retryJSON       `json:"retry"`
	AbandonMessage   string            `json:"abandon_message"`
	// The calling calendar (J-8), whether it is open now, and the window holding now or else
	// the next one (null: none within a year).
	Calendar       calendarJSON `json:"calendar"`
	OpenNow        bool         `json:"open_now"`
	NextOpenWindow *windowJSON  `json:"next_open_window"`
}

type resultCodeJSON struct {
	Code      string `json:"code"`
	Label     string `json:"label"`
	DoNotCall bool   `json:"do_not_call"` // N-1: saving it lists the number
}

type pacingJSON struct {
	Mode              string  `json:"mode"`
	TargetAbandonRate float64 `json:"target_abandon_rate"`
	MaxRatio          float64 `json:"max_ratio"`
	ConnectDeadlineMS int64   `json:"connect_deadline_ms"`
	MaxCallsPerSecond float64 `json:"max_calls_per_second"` // 0: no cap
}

type retryJSON struct {
	Outcomes     []domain.Outcome `json:"outcomes"`
	AfterSeconds int64            `json:"after_seconds"`
	MaxAttempts  int              `json:"max_attempts"`
}

func toCampaignJSON(c config.Campaign, now time.Time) campaignJSON {
	out := campaignJSON{ID: c.ID, Name: c.Name, TimeZone: c.TimeZone,
		BusinessHours: businessHoursJSON{Start: c.BusinessHours.Start.String(), End: c.BusinessHours.End.String()},
		CallerIDs:     append([]string{}, c.CallerIDs...), WithholdCallerID: c.WithholdCallerID,
		ResultCodes: []resultCodeJSON{}, Retry: []retryJSON{}, AbandonMessage: c.AbandonMessage,
		Pacing: pacingJSON{Mode: c.Pacing.Mode, TargetAbandonRate: c.Pacing.TargetAbandonRate,
			MaxRatio: c.Pacing.MaxRatio, ConnectDeadlineMS: c.Pacing.ConnectDeadline.Milliseconds(),
			MaxCallsPerSecond: c.Pacing.MaxCallsPerSecond}}
	out.Calendar = toCalendarJSON(c.CallCalendar())
	out.OpenNow, out.NextOpenWindow = openWindow(c, now)
	for _, rc := range c.ResultCodes {
		out.ResultCodes = append(out.ResultCodes, resultCodeJSON{Code: rc.Code, Label: rc.Label, DoNotCall: rc.DoNotCall})
	}
	for _, r := range c.Retry {
		out.Retry = append(out.Retry, retryJSON{Outcomes: r.Outcomes, AfterSeconds: int64(r.After.Seconds()), MaxAttempts: r.MaxAttempts})
	}
	return out
}

func (s *Server) handleListCampaigns(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	out := page[campaignJSON]{Items: []campaignJSON{}}
	for _, c := range s.cfg.Current().Campaigns {
		if p.CanCampaign(c.ID) {
			out.Items = append(out.Items, toCampaignJSON(c, s.now()))
		}
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleGetCampaign(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, ok := s.cfg.Current().Campaign(int(id))
	if !ok && p.Role == config.RoleAdmin {
		return errNotFound
	}
	if !ok || !p.CanCampaign(c.ID) {
		return errForbidden
	}
	writeJSON(w, http.StatusOK, toCampaignJSON(c, s.now()))
	return nil
}

type dialGroupJSON struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	AgentIDs []int  `json:"agent_ids"`
}

func (s *Server) handleListDialGroups(w http.ResponseWriter, r *http.Request) error {
	if err := staffOnly(principalFrom(r.Context())); err != nil {
		return err
	}
	out := page[dialGroupJSON]{Items: []dialGroupJSON{}}
	for _, g := range s.cfg.Current().DialGroups {
		out.Items = append(out.Items, dialGroupJSON{ID: g.ID, Name: g.Name, AgentIDs: append([]int{}, g.AgentIDs...)})
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

type agentJSON struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func (s *Server) handleListAgents(w http.ResponseWriter, r *http.Request) error {
	if err := staffOnly(principalFrom(r.Context())); err != nil {
		return err
	}
	out := page[agentJSON]{Items: []agentJSON{}}
	for _, a := range s.cfg.Current().Agents {
		out.Items = append(out.Items, agentJSON{ID: a.ID, Name: a.Name})
	}
	out.Total = len(out.Items)
	writeJSON(w, http.StatusOK, out)
	return nil
}

type businessHoursJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}
