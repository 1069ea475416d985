package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/kakeru-dialer/kakeru/store"
)

type assignmentJSON struct {
	ID          int64     `json:"id"`
	BatchID     int64     `json:"batch_id"`
	ListID      int64     `json:"list_id"`
	DialGroupID int       `json:"dial_group_id"`
	Count       int       `json:"count"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

func toAssignmentJSON(a store.Assignment) assignmentJSON {
	return assignmentJSON{ID: a.ID, BatchID: a.BatchID, ListID: a.ListID, DialGroupID: a.DialGroupID, Count: a.Count,
		CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt}
}

type createAssignmentRequest struct {
	ListID      int64 `json:"list_id"`
	DialGroupID int   `json:"dial_group_id"`
	Count       *int  `json:"count"`
}

func (s *Server) handleCreateAssignment(w http.ResponseWriter, r *http.Request) error {
	b, p, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	var req createAssignmentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var pr problems
	if req.ListID < 1 {
		pr.add("list_id", "required")
	}
	if _, ok := s.cfg.Current().DialGroup(req.DialGroupID); !ok {
		pr.add("dial_group_id", "no such dial group: "+strconv.Itoa(req.DialGroupID))
	}
	if req.Count == nil || *req.Count < 0 {
		pr.add("count", "required, a non-negative integer")
	}
	if err := pr.err(); err != nil {
		return err
	}
	a, err := s.lists.CreateAssignment(r.Context(), store.NewAssignment{BatchID: b.ID, ListID: req.ListID,
		DialGroupID: req.DialGroupID, Count: *req.Count, CreatedBy: p.Name}, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAssignmentJSON(a))
	return nil
}

func (s *Server) handleListAssignments(w http.ResponseWriter, r *http.Request) error {
	b, _, err := s.loadBatch(r)
	if err != nil {
		return err
	}
	items, err := s.lists.ListAssignments(r.Context(), b.ID)
	if err != nil {
		return err
	}
	writePage(w, items, len(items), toAssignmentJSON)
	return nil
}

func (s *Server) handleDeleteAssignment(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.lists.GetAssignment(r.Context(), id)
	if err != nil {
		return hideMissing(p, err)
	}
	if err := s.checkBatchAccess(r, p, a.BatchID); err != nil {
		return err
	}
	if err := s.lists.DeleteAssignment(r.Context(), id, s.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
