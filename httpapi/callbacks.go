package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/store"
)

// CallbackStore is the data of the callback list (S-2).
type CallbackStore interface {
	ListCallbacks(ctx context.Context, f store.CallbackFilter) ([]store.Callback, int, error)
	GetCallback(ctx context.Context, id int64) (store.Callback, int, error)
	RescheduleCallback(ctx context.Context, id int64, due, now time.Time) error
	CancelCallback(ctx context.Context, id int64, now time.Time) error
}

// handleListCallbacks: admins see all, supervisors their campaigns', agents their own.
func (s *Server) handleListCallbacks(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.CallbackFilter{CampaignIDs: p.campaignScope(), Limit: limit, Offset: offset}
	if f.BatchID, err = queryID(q, "batch_id", maxBigintID); err != nil {
		return err
	}
	if id, err := queryID(q, "agent_id", maxIntID); err != nil {
		return err
	} else if id != 0 {
		agent := int(id)
		f.AgentID = &agent
	}
	if v := q.Get("due_before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return badQuery("due_before", "must be an RFC 3339 time")
		}
		f.DueBefore = &t
	}
	if p.Role == config.RoleAgent {
		// An agent's callbacks are its own: asking for another agent's is refused, as a
		// supervisor asking outside its campaigns is, rather than answered empty.
		if f.AgentID != nil && *f.AgentID != p.AgentID {
			return errForbidden
		}
		f.AgentID, f.CampaignIDs = &p.AgentID, nil
	}
	items, total, err := s.callbacks.ListCallbacks(r.Context(), f)
	if err != nil {
		return err
	}
	writePage(w, items, total, func(c store.Callback) store.Callback { return c })
	return nil
}

func (s *Server) loadCallback(r *http.Request) (store.Callback, error) {
	p := principalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return store.Callback{}, err
	}
	cb, campaign, err := s.callbacks.GetCallback(r.Context(), id)
	if err != nil {
		return cb, hideMissing(p, err)
	}
	switch p.Role {
	case config.RoleAdmin:
	case config.RoleAgent:
		if cb.AgentID == nil || *cb.AgentID != p.AgentID {
			return cb, errForbidden
		}
	default:
		if !p.CanCampaign(campaign) {
			return cb, errForbidden
		}
	}
	return cb, nil
}

type rescheduleRequest struct {
	DueAt *time.Time `json:"due_at"`
}

func (s *Server) handlePatchCallback(w http.ResponseWriter, r *http.Request) error {
	cb, err := s.loadCallback(r)
	if err != nil {
		return err
	}
	var req rescheduleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.DueAt == nil {
		return errorf(http.StatusUnprocessableEntity, "invalid_input", "due_at is required")
	}
	if err := s.callbacks.RescheduleCallback(r.Context(), cb.ID, *req.DueAt, s.now()); err != nil {
		return err
	}
	cb, _, err = s.callbacks.GetCallback(r.Context(), cb.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cb)
	return nil
}

func (s *Server) handleDeleteCallback(w http.ResponseWriter, r *http.Request) error {
	cb, err := s.loadCallback(r)
	if err != nil {
		return err
	}
	if err := s.callbacks.CancelCallback(r.Context(), cb.ID, s.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
