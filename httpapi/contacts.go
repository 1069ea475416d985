package httpapi

import (
	"net/http"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

type contactJSON struct {
	ID            int64      `json:"id"`
	BatchID       int64      `json:"batch_id"`
	ListID        int64      `json:"list_id"`
	Name          string     `json:"name"`
	Kana          string     `json:"kana"`
	Tel           string     `json:"tel"`
	Remarks       string     `json:"remarks"`
	PhoneType     string     `json:"phone_type"`
	AttemptCount  int        `json:"attempt_count"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	Status        string     `json:"status"`
}

// handleSearchContacts is S-3: a batch's contacts whose name or kana contains q, or whose number
// starts with q.
func (s *Server) handleSearchContacts(w http.ResponseWriter, r *http.Request) error {
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
	if batchID == 0 {
		return badQuery("batch_id", "is required: a search runs across one batch")
	}
	if err := s.checkBatchAccess(r, p, batchID); err != nil {
		return err
	}
	q, err := searchText(r.URL.Query())
	if err != nil {
		return err
	}
	items, total, err := s.lists.SearchContacts(r.Context(), store.ContactFilter{BatchID: batchID,
		Query: q, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	writePage(w, items, total, func(c store.Contact) contactJSON { return contactJSON(c) })
	return nil
}

type attemptJSON struct {
	ID          int64            `json:"id"`
	ContactID   *int64           `json:"contact_id"`
	CallJobID   *int64           `json:"call_job_id"`
	Tel         string           `json:"tel"`
	StartedAt   time.Time        `json:"started_at"`
	AnsweredAt  *time.Time       `json:"answered_at"`
	EndedAt     *time.Time       `json:"ended_at"`
	Outcome     domain.Outcome   `json:"outcome"`
	HangupCause string           `json:"hangup_cause"`
	AgentID     *int             `json:"agent_id"`
	TalkSeconds *int             `json:"talk_seconds"`
	SkipReason  string           `json:"skip_reason"`
	Disposition *dispositionJSON `json:"disposition"`
	// Issue 15: the answer's classification and the call's recording, null when none.
	AnswerAnalysis *answerAnalysisJSON `json:"answer_analysis"`
	Recording      *recordingJSON      `json:"recording"`
	// Issue 16: how the attempt was dialed (paced, preview, manual) and its steps (hold,
	// transfer, conference, preview), oldest first.
	DialKind domain.DialKind `json:"dial_kind"`
	Steps    []stepJSON      `json:"steps"`
}

// stepJSON is one step of an attempt (issue 16).
type stepJSON struct {
	At         time.Time       `json:"at"`
	Kind       domain.StepKind `json:"kind"`
	AgentID    *int            `json:"agent_id"`
	By         string          `json:"by"`
	TargetKind string          `json:"target_kind"`
	Target     string          `json:"target"`
	Detail     string          `json:"detail"`
}

type dispositionJSON struct {
	Party      string          `json:"party"`
	ResultCode string          `json:"result_code"`
	OtherTel   string          `json:"other_tel"`
	NextAction domain.NextStep `json:"next_action"`
	CallbackAt *time.Time      `json:"callback_at"`
	Memo       string          `json:"memo"`
	SavedBy    string          `json:"saved_by"`
	SavedAt    time.Time       `json:"saved_at"`
}

// handleContactAttempts is a contact's attempt history (S-3).
func (s *Server) handleContactAttempts(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.lists.GetContact(r.Context(), id)
	if err != nil {
		return hideMissing(p, err)
	}
	if err := s.checkBatchAccess(r, p, c.BatchID); err != nil {
		return err
	}
	attempts, err := s.lists.ContactAttempts(r.Context(), id)
	if err != nil {
		return err
	}
	out := page[attemptJSON]{Items: make([]attemptJSON, len(attempts)), Total: len(attempts)}
	for i, a := range attempts {
		out.Items[i] = toAttemptJSON(a)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func toAttemptJSON(a store.Attempt) attemptJSON {
	out := attemptJSON{ID: a.ID, ContactID: a.ContactID, CallJobID: a.CallJobID, Tel: a.Tel, StartedAt: a.StartedAt,
		AnsweredAt: a.AnsweredAt, EndedAt: a.EndedAt, Outcome: a.Outcome, HangupCause: a.HangupCause, AgentID: a.AgentID,
		TalkSeconds: a.TalkSeconds, SkipReason: a.SkipReason, AnswerAnalysis: toAnswerAnalysisJSON(a.Analysis),
		Recording: toRecordingJSON(a.ID, a.Recording), DialKind: a.DialKind, Steps: make([]stepJSON, len(a.Steps))}
	for i, st := range a.Steps {
		out.Steps[i] = stepJSON{At: st.At, Kind: st.Kind, AgentID: st.AgentID, By: st.By, TargetKind: st.TargetKind,
			Target: st.Target, Detail: st.Detail}
	}
	if d := a.Disposition; d != nil {
		dj := dispositionJSON(*d)
		out.Disposition = &dj
	}
	return out
}
