package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/store"
)

// batchJSON is a batch as docs/ui-guide.md shows it; times are in the batch's zone.
type batchJSON struct {
	ID                int64     `json:"id"`
	Name              string    `json:"name"`
	CampaignID        int       `json:"campaign_id"`
	TimeZone          string    `json:"time_zone"`
	StartDate         string    `json:"start_date"`
	EndDate           string    `json:"end_date"`
	DeleteDate        string    `json:"delete_date"`
	HistoryDeleteDate string    `json:"history_delete_date"`
	Memo              string    `json:"memo"`
	DialGroupIDs      []int     `json:"dial_group_ids"`
	CreatedBy         string    `json:"created_by"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func toBatchJSON(b store.Batch) batchJSON {
	loc, err := time.LoadLocation(b.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return batchJSON{ID: b.ID, Name: b.Name, CampaignID: b.CampaignID, TimeZone: b.TimeZone,
		StartDate: b.StartDate.String(), EndDate: b.EndDate.String(), DeleteDate: b.DeleteDate.String(),
		HistoryDeleteDate: b.HistoryDeleteDate.String(), Memo: b.Memo, DialGroupIDs: b.DialGroupIDs,
		CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt.In(loc), UpdatedAt: b.UpdatedAt.In(loc)}
}

// problems collects field errors for one 422 invalid_input answer.
type problems []any

func (p *problems) add(field, msg string) { *p = append(*p, fieldProblem{Field: field, Message: msg}) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_input",
		Message: "the request has invalid fields", Details: p}
}

func checkLength(p *problems, field, v string, min, max int) {
	switch {
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		p.add(field, "must be valid UTF-8 text without NUL characters")
	case min > 0 && strings.TrimSpace(v) == "":
		p.add(field, "must not be blank")
	default:
		if n := utf8.RuneCountInString(v); n < min || n > max {
			p.add(field, "must be "+strconv.Itoa(min)+" to "+strconv.Itoa(max)+" characters")
		}
	}
}

func parseDateField(p *problems, field string, v *string) *store.Date {
	if v == nil {
		return nil
	}
	d, err := store.ParseDate(*v)
	if err != nil {
		p.add(field, "must be a date YYYY-MM-DD")
		return nil
	}
	return &d
}

// loadBatch reads a batch and checks the caller may work on its campaign.
func (s *Server) loadBatch(r *http.Request) (store.Batch, Principal, error) {
	return loadOwned(r, s.batches.GetBatch, func(b store.Batch) int { return b.CampaignID })
}

// loadOwned reads the resource named by the path's id for staff who may see its campaign
// a missing one is hidden from those who could not see it anyway.
func loadOwned[T any](r *http.Request, get func(context.Context, int64) (T, error), campaign func(T) int) (T, Principal, error) {
	var zero T
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return zero, p, err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return zero, p, err
	}
	v, err := get(r.Context(), id)
	if err != nil {
		return zero, p, hideMissing(p, err)
	}
	if !p.CanCampaign(campaign(v)) {
		return zero, p, errForbidden
	}
	return v, p, nil
}

// hideMissing answers a non-admin 403 for a resource that does not exist, as for one outside
// its campaigns, so that ids of other campaigns' data cannot be probed.
func hideMissing(p Principal, err error) error {
	if errors.Is(err, store.ErrNotFound) && p.Role != config.RoleAdmin {
		return errForbidden
	}
	return err
}

// checkBatchAccess refuses a caller outside the campaign of the batch that owns a resource.
func (s *Server) checkBatchAccess(r *http.Request, p Principal, batchID int64) error {
	b, err := s.batches.GetBatch(r.Context(), batchID)
	if err != nil {
		return hideMissing(p, err)
	}
	if !p.CanCampaign(b.CampaignID) {
		return errForbidden
	}
	return nil
}

type createBatchRequest struct {
	Name       string  `json:"name"`
	CampaignID int     `json:"campaign_id"`
	StartDate  *string `json:"start_date"`
	EndDate    *string `json:"end_date"`
	Memo       string  `json:"memo"`
}

func (s *Server) handleCreateBatch(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	var req createBatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	cfg := s.cfg.Current()
	campaign, known := cfg.Campaign(req.CampaignID)
	if known && !p.CanCampaign(req.CampaignID) {
		return errForbidden
	}
	if !known && p.Role != config.RoleAdmin {
		// A supervisor learns nothing about campaigns outside its grant.
		return errForbidden
	}
	var pr problems
	checkLength(&pr, "name", req.Name, 1, 100)
	if !known {
		pr.add("campaign_id", "no such campaign")
	}
	if req.StartDate == nil {
		pr.add("start_date", "required")
	}
	start := parseDateField(&pr, "start_date", req.StartDate)
	end := parseDateField(&pr, "end_date", req.EndDate)
	checkLength(&pr, "memo", req.Memo, 0, 500)
	if err := pr.err(); err != nil {
		return err
	}
	b, err := s.batches.CreateBatch(r.Context(), store.NewBatch{
		CampaignID: req.CampaignID, Name: req.Name, Location: campaign.Location, Start: *start, End: end,
		Memo: req.Memo, CreatedBy: p.Name, RetentionDays: cfg.System.HistoryRetentionDays,
		MaxBatches: cfg.System.Limits.MaxBatches,
	}, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toBatchJSON(b))
	return nil
}

func (s *Server) handleListBatches(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	f := store.BatchFilter{CampaignIDs: p.campaignScope(), Limit: limit, Offset: offset}
	if id, err := queryID(r.URL.Query(), "campaign_id", maxIntID); err != nil {
		return err
	} else if id != 0 {
		if !p.CanCampaign(int(id)) {
			return errForbidden
		}
		f.CampaignIDs = []int{int(id)}
	}
	items, total, err := s.batches.ListBatches(r.Context(), f)
	if err != nil {
		return err
	}
	writePage(w, items, total, toBatchJSON)
	return nil
}

func (s *Server) handleGetBatch(w http.ResponseWriter, r *http.Request) error {
	b, _, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBatchJSON(b))
	return nil
}

type patchBatchRequest struct {
	Name       *string `json:"name"`
	CampaignID *int    `json:"campaign_id"`
	StartDate  *string `json:"start_date"`
	EndDate    *string `json:"end_date"`
	Memo       *string `json:"memo"`
}

func (s *Server) handlePatchBatch(w http.ResponseWriter, r *http.Request) error {
	b, _, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	var req patchBatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var pr problems
	if req.Name != nil {
		checkLength(&pr, "name", *req.Name, 1, 100)
	}
	if req.CampaignID != nil && *req.CampaignID != b.CampaignID {
		pr.add("campaign_id", "a batch cannot move to another campaign")
	}
	patch := store.BatchPatch{Name: req.Name, Memo: req.Memo,
		Start:         parseDateField(&pr, "start_date", req.StartDate),
		End:           parseDateField(&pr, "end_date", req.EndDate),
		RetentionDays: s.cfg.Current().System.HistoryRetentionDays}
	if req.Memo != nil {
		checkLength(&pr, "memo", *req.Memo, 0, 500)
	}
	if err := pr.err(); err != nil {
		return err
	}
	updated, err := s.batches.UpdateBatch(r.Context(), b.ID, patch, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBatchJSON(updated))
	return nil
}

func (s *Server) handleDeleteBatch(w http.ResponseWriter, r *http.Request) error {
	b, p, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	recordings, err := s.batches.DeleteBatch(r.Context(), b.ID, p.Name, s.now())
	if err != nil {
		return err
	}
	s.removeRecordings(r, recordings) // B-6: with the history, once it is gone
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type dialGroupsRequest struct {
	DialGroupIDs []int `json:"dial_group_ids"`
}

func (s *Server) handleSetBatchDialGroups(w http.ResponseWriter, r *http.Request) error {
	b, _, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	var req dialGroupsRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.DialGroupIDs == nil {
		return (&problems{fieldProblem{Field: "dial_group_ids", Message: "required (an empty list clears it)"}}).err()
	}
	cfg := s.cfg.Current()
	var pr problems
	for i, id := range req.DialGroupIDs {
		if _, ok := cfg.DialGroup(id); !ok {
			pr.add("dial_group_ids["+strconv.Itoa(i)+"]", "no such dial group: "+strconv.Itoa(id))
		}
	}
	if err := pr.err(); err != nil {
		return err
	}
	ids := slices.Compact(slices.Sorted(slices.Values(req.DialGroupIDs)))
	updated, err := s.batches.SetBatchDialGroups(r.Context(), b.ID, ids, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBatchJSON(updated))
	return nil
}

func (s *Server) handleListBatchDeletions(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	recs, err := s.batches.BatchDeletions(r.Context(), p.campaignScope())
	if err != nil {
		return err
	}
	// The records are few (one per batch deleted within the history retention): paged here.
	total := len(recs)
	recs = recs[min(offset, total):min(offset+limit, total)]
	writePage(w, recs, total, func(d store.BatchDeletion) store.BatchDeletion { return d })
	return nil
}
