package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/store"
)

// joinableJobJSON is one running call job an agent may join (G-1): what the agent's job
// selection screen shows.
type joinableJobJSON struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	Memo           string     `json:"memo"`
	RemainingCount int        `json:"remaining_count"`
	TargetCount    int        `json:"target_count"`
	CampaignID     int        `json:"campaign_id"`
	CampaignName   string     `json:"campaign_name"`
	BatchID        int64      `json:"batch_id"`
	DialGroupID    int        `json:"dial_group_id"`
	StartedAt      *time.Time `json:"started_at"`
	// The job runs but waits for its calendar's next window (J-8): the screen can say so.
	PausedOutsideHours bool        `json:"paused_outside_hours"`
	NextOpenWindow     *windowJSON `json:"next_open_window"`
}

// handleJoinableJobs lists the running call jobs of the agent's dial groups, the jobs it may
// join (G-1), with their memo and remaining count. The agent itself asks; staff may ask for an
// agent and see the jobs of their own campaigns only.
func (s *Server) handleJoinableJobs(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	cfg := s.cfg.Current()
	ag, ok := cfg.Agent(int(id))
	switch {
	case p.Role == config.RoleAgent && (!ok || p.AgentID != ag.ID):
		return errForbidden
	case p.Role == config.RoleSupervisor && !ok:
		return errForbidden
	case !ok:
		return errorf(http.StatusNotFound, "not_found", "no such agent")
	}
	groups := []int{}
	for _, g := range cfg.DialGroups {
		if slices.Contains(g.AgentIDs, ag.ID) {
			groups = append(groups, g.ID)
		}
	}
	var campaigns []int // nil: every campaign, for the agent itself and admins
	if p.Role == config.RoleSupervisor {
		campaigns = p.CampaignIDs
	}
	items, total, err := s.jobs.ListCallJobs(r.Context(), store.CallJobFilter{Running: true, DialGroupIDs: groups,
		CampaignIDs: campaigns, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	writePage(w, items, total, func(j store.CallJob) joinableJobJSON {
		v := s.callJobJSON(j)
		camp, _ := cfg.Campaign(j.CampaignID)
		return joinableJobJSON{ID: j.ID, Name: j.Name, Memo: j.Memo, RemainingCount: j.RemainingCount,
			TargetCount: j.TargetCount, CampaignID: j.CampaignID, CampaignName: camp.Name, BatchID: j.BatchID,
			DialGroupID: j.DialGroupID, StartedAt: v.StartedAt, PausedOutsideHours: v.PausedOutsideHours,
			NextOpenWindow: v.NextOpenWindow}
	})
	return nil
}
