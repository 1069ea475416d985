package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// JobStore is the data the call-job, disposition and callback endpoints need.
type JobStore interface {
	CreateCallJob(ctx context.Context, nj store.NewCallJob, now time.Time) (store.CallJob, error)
	GetCallJob(ctx context.Context, id int64) (store.CallJob, error)
	ListCallJobs(ctx context.Context, f store.CallJobFilter) ([]store.CallJob, int, error)
	UpdateCallJob(ctx context.Context, id int64, p store.CallJobPatch, now time.Time) (store.CallJob, error)
	DeleteCallJob(ctx context.Context, id int64) error
	StartCallJob(ctx context.Context, id int64, r store.StartRules, now time.Time) (store.CallJob, error)
	StopCallJobBy(ctx context.Context, id int64, reason, by string, now time.Time) (store.CallJob, error)
	GetAttemptRef(ctx context.Context, id int64) (store.AttemptRef, error)
	GetAttemptDial(ctx context.Context, id int64) (store.AttemptDial, error)
	SaveDisposition(ctx context.Context, d store.NewDisposition, now time.Time) error
	UnsavedDispositions(ctx context.Context, f store.UnsavedFilter, now time.Time) ([]store.UnsavedDisposition, int, error)
	AttemptRecording(ctx context.Context, id int64) (store.AttemptRecordingInfo, error)
}

type callJobRequest struct {
	Name        *string          `json:"name"`
	ListID      *int64           `json:"list_id"`
	DialGroupID *int             `json:"dial_group_id"`
	CallerID    *string          `json:"caller_id"`
	Memo        *string          `json:"memo"`
	Filter      *store.JobFilter `json:"filter"`
	// PacingMode (issue 16): absent leaves the job's mode, null is its campaign's, else one of
	// store.PacingModes.
	PacingMode optionalMode `json:"pacing_mode"`
}

// optionalMode is a field that may be absent, null or a value; any JSON is taken, so that a
// wrong one is refused as invalid input (422) rather than as malformed JSON.
type optionalMode struct {
	Set   bool
	Value *string
	bad   bool
}

func (o *optionalMode) UnmarshalJSON(b []byte) error {
	o.Set, o.Value, o.bad = true, nil, false
	if string(b) == "null" {
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		o.bad = true
		return nil
	}
	o.Value = &v
	return nil
}

// patch is the store's form: nil leaves the mode, "" sets it back to the campaign's.
func (o optionalMode) patch() *string {
	switch {
	case !o.Set:
		return nil
	case o.Value == nil:
		empty := ""
		return &empty
	}
	return o.Value
}

// check validates the fields present; create requires name, list, dial group and caller ID.
func (req callJobRequest) check(camp config.Campaign, batch store.Batch, create bool) error {
	var pr problems
	if req.Name != nil {
		checkLength(&pr, "name", *req.Name, 1, 60)
	} else if create {
		pr.add("name", "required")
	}
	if req.Memo != nil {
		checkLength(&pr, "memo", *req.Memo, 0, 500)
	}
	if req.ListID == nil && create || req.ListID != nil && *req.ListID < 1 {
		pr.add("list_id", "required, a list of the batch")
	}
	if req.DialGroupID == nil && create || req.DialGroupID != nil && !slices.Contains(batch.DialGroupIDs, *req.DialGroupID) {
		pr.add("dial_group_id", "required, one of the batch's dial groups")
	}
	if req.CallerID != nil || create {
		switch {
		case camp.WithholdCallerID && (req.CallerID == nil || *req.CallerID == ""):
		case req.CallerID == nil || !slices.Contains(camp.CallerIDs, *req.CallerID):
			pr.add("caller_id", "must be one of the campaign's numbers")
		}
	}
	if req.Filter != nil {
		if err := req.Filter.Validate(); err != nil {
			pr.add("filter", err.(*store.RuleError).Message)
		}
	}
	if m := req.PacingMode; m.bad || m.Value != nil && !slices.Contains(store.PacingModes(), *m.Value) {
		pr.add("pacing_mode", "must be null (the campaign's) or one of progressive, ratio, predictive, preview")
	}
	return pr.err()
}

func (s *Server) handleCreateCallJob(w http.ResponseWriter, r *http.Request) error {
	b, p, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	if p.Role != config.RoleAdmin && p.Role != config.RoleSupervisor {
		return errForbidden
	}
	var req callJobRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	cfg := s.cfg.Current()
	camp, _ := cfg.Campaign(b.CampaignID)
	if err := req.check(camp, b, true); err != nil {
		return err
	}
	f := store.JobFilter{PhoneType: "any"}
	if req.Filter != nil {
		f = *req.Filter
	}
	memo := ""
	if req.Memo != nil {
		memo = *req.Memo
	}
	callerID := ""
	if req.CallerID != nil {
		callerID = *req.CallerID
	}
	j, err := s.jobs.CreateCallJob(r.Context(), store.NewCallJob{BatchID: b.ID, Name: *req.Name, ListID: *req.ListID,
		DialGroupID: *req.DialGroupID, CallerID: callerID, Filter: f, Memo: memo, CreatedBy: p.Name,
		MaxCallJobs: cfg.System.Limits.MaxCallJobs, PacingMode: req.PacingMode.Value}, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.callJobJSON(j))
	return nil
}

// callJobJSON shows times in the campaign's zone, the job's calling hours (J-8) and the pacing
// mode it dials in (issue 16: its own, else its campaign's; null when neither is known).
func (s *Server) callJobJSON(j store.CallJob) callJobView {
	if loc, err := time.LoadLocation(j.TimeZone); err == nil {
		j.CreatedAt, j.UpdatedAt = j.CreatedAt.In(loc), j.UpdatedAt.In(loc)
		for _, t := range []**time.Time{&j.StartedAt, &j.StoppedAt} {
			if *t != nil {
				v := (*t).In(loc)
				*t = &v
			}
		}
	}
	j.EffectivePacingMode = j.PacingMode
	camp, ok := s.cfg.Current().Campaign(j.CampaignID)
	if ok && j.EffectivePacingMode == nil {
		mode := camp.Pacing.Mode
		j.EffectivePacingMode = &mode
	}
	v := callJobView{CallJob: j}
	if ok {
		open, next := openWindow(camp, s.now())
		v.NextOpenWindow = next
		v.PausedOutsideHours = j.Status == domain.JobRunning && !open
	}
	return v
}

// loadCallJob reads the job in the path, for a caller who may see its campaign.
func (s *Server) loadCallJob(r *http.Request) (store.CallJob, Principal, error) {
	return loadOwned(r, s.jobs.GetCallJob, func(j store.CallJob) int { return j.CampaignID })
}

func (s *Server) handleListCallJobs(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	batchID, err := queryID(r.URL.Query(), "batch_id", maxBigintID)
	if err != nil {
		return err
	}
	items, total, err := s.jobs.ListCallJobs(r.Context(), store.CallJobFilter{BatchID: batchID, CampaignIDs: p.campaignScope(),
		Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	writePage(w, items, total, s.callJobJSON)
	return nil
}

func (s *Server) handleGetCallJob(w http.ResponseWriter, r *http.Request) error {
	j, _, err := s.loadCallJob(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.callJobJSON(j))
	return nil
}

func (s *Server) handlePatchCallJob(w http.ResponseWriter, r *http.Request) error {
	j, _, err := s.loadCallJob(r)
	if err != nil {
		return err
	}
	var req callJobRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	camp, _ := s.cfg.Current().Campaign(j.CampaignID)
	b, err := s.batches.GetBatch(r.Context(), j.BatchID)
	if err != nil {
		return err
	}
	if err := req.check(camp, b, false); err != nil {
		return err
	}
	j, err = s.jobs.UpdateCallJob(r.Context(), j.ID, store.CallJobPatch{Name: req.Name, ListID: req.ListID,
		DialGroupID: req.DialGroupID, CallerID: req.CallerID, Filter: req.Filter, Memo: req.Memo,
		PacingMode: req.PacingMode.patch()}, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.callJobJSON(j))
	return nil
}

func (s *Server) handleDeleteCallJob(w http.ResponseWriter, r *http.Request) error {
	j, _, err := s.loadCallJob(r)
	if err != nil {
		return err
	}
	if err := s.jobs.DeleteCallJob(r.Context(), j.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleStartCallJob: J-5 says an admin starts jobs.
func (s *Server) handleStartCallJob(w http.ResponseWriter, r *http.Request) error {
	j, p, err := s.loadCallJob(r)
	if err != nil {
		return err
	}
	// loadCallJob let only staff of the job's campaign through; a supervisor starts jobs when its
	// user is configured so (may_start_jobs).
	if p.Role != config.RoleAdmin && !(p.Role == config.RoleSupervisor && p.MayStartJobs) {
		return errorf(http.StatusForbidden, "forbidden", "only an administrator, or a supervisor allowed to (may_start_jobs), starts call jobs (J-5)")
	}
	cfg := s.cfg.Current()
	camp, ok := cfg.Campaign(j.CampaignID)
	if !ok {
		return errorf(http.StatusConflict, "campaign_not_configured", "the batch's campaign is no longer configured")
	}
	loc, err := time.LoadLocation(camp.TimeZone)
	if err != nil {
		return err
	}
	j, err = s.jobs.StartCallJob(r.Context(), j.ID, store.StartRules{Location: loc, BusinessStart: camp.BusinessHours.Start.Minutes,
		BusinessEnd: camp.BusinessHours.End.Minutes, Calendar: camp.CallCalendar(), HasResultCodes: len(camp.ResultCodes) > 0,
		MaxRunningJobs: cfg.System.Limits.MaxRunningCallJobs, StartedBy: p.Name, EarlyStartAhead: time.Hour}, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.callJobJSON(j))
	return nil
}

func (s *Server) handleStopCallJob(w http.ResponseWriter, r *http.Request) error {
	j, p, err := s.loadCallJob(r)
	if err != nil {
		return err
	}
	// Administrators and the supervisors of the job's campaign stop it (J-6, manual §6):
	// loadCallJob let no one else through.
	reason := "admin"
	if p.Role == config.RoleSupervisor {
		reason = "supervisor"
	}
	j, err = s.jobs.StopCallJobBy(r.Context(), j.ID, reason, p.Name, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.callJobJSON(j))
	return nil
}
