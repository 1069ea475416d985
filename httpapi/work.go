package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// AgentDesk is the live agent state (Redis) and the queue of requests to the engine instance
// that runs the agent's job.
type AgentDesk interface {
	Get(ctx context.Context, id int) (agentstate.Agent, error)
	Set(ctx context.Context, a agentstate.Agent) error
	Push(ctx context.Context, jobID int64, r agentstate.Request) error
}

// agentFor reads the agent in the path for a caller who may act for it: the agent itself, an
// admin, or a supervisor of a campaign the agent's job belongs to.
func (s *Server) agentFor(r *http.Request) (config.Agent, agentstate.Agent, error) {
	p := principalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return config.Agent{}, agentstate.Agent{}, err
	}
	ag, ok := s.cfg.Current().Agent(int(id))
	if !ok {
		if p.Role == config.RoleAdmin {
			return config.Agent{}, agentstate.Agent{}, errorf(http.StatusNotFound, "not_found", "no such agent")
		}
		return config.Agent{}, agentstate.Agent{}, errForbidden
	}
	st, err := s.desk.Get(r.Context(), ag.ID)
	if errors.Is(err, agentstate.ErrUnknownAgent) {
		st, err = agentstate.Agent{ID: ag.ID, State: domain.AgentLoggedOff}, nil
	}
	if err != nil {
		return ag, st, DependencyDown("redis", err)
	}
	switch p.Role {
	case config.RoleAdmin:
	case config.RoleAgent:
		if p.AgentID != ag.ID {
			return ag, st, errForbidden
		}
	default:
		ok := false
		if st.CallJobID != 0 {
			if j, err := s.jobs.GetCallJob(r.Context(), st.CallJobID); err == nil {
				ok = p.CanCampaign(j.CampaignID)
			}
		}
		if !ok {
			return ag, st, errForbidden
		}
	}
	return ag, st, nil
}

type joinRequest struct {
	CallJobID int64 `json:"call_job_id"`
}

// handleJoin: an agent joins a running job of one of its dial groups (G-1). The instance that
// runs the job calls the agent's phone.
func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req joinRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	cfg := s.cfg.Current()
	ag, ok := cfg.Agent(int(id))
	if !ok || p.Role == config.RoleAgent && p.AgentID != ag.ID {
		return errForbidden
	}
	j, err := s.jobs.GetCallJob(r.Context(), req.CallJobID)
	if err != nil {
		return hideMissing(p, err)
	}
	if p.Role == config.RoleSupervisor && !p.CanCampaign(j.CampaignID) {
		return errForbidden
	}
	group, _ := cfg.DialGroup(j.DialGroupID)
	if !slices.Contains(group.AgentIDs, ag.ID) {
		return errorf(http.StatusConflict, "agent_not_in_dial_group", "the agent is not in the job's dial group (G-1)")
	}
	if j.Status != domain.JobRunning {
		return errorf(http.StatusConflict, "call_job_not_running", "the call job is not running (G-1)")
	}
	st, err := s.desk.Get(r.Context(), ag.ID)
	if err != nil && !errors.Is(err, agentstate.ErrUnknownAgent) {
		return DependencyDown("redis", err)
	}
	if err == nil && st.State != domain.AgentLoggedOff && st.CallJobID != 0 {
		return errorf(http.StatusConflict, "agent_in_job", "the agent is already in call job %d; leave it first", st.CallJobID)
	}
	// Logged off but attached to the job: the owner of the job calls the phone on its next pass.
	if err := s.desk.Set(r.Context(), agentstate.Agent{ID: ag.ID, State: domain.AgentLoggedOff, Since: s.now(), CallJobID: j.ID, JobRun: j.Run}); err != nil {
		return DependencyDown("redis", err)
	}
	if err := s.desk.Push(r.Context(), j.ID, agentstate.Request{AgentID: ag.ID, Kind: domain.RequestJoin}); err != nil {
		return DependencyDown("redis", err)
	}
	writeJSON(w, http.StatusAccepted, sessionJSON{State: domain.AgentLoggedOff, StateSince: s.now(), CallJobID: &j.ID, Actions: []sessionAction{}})
	return nil
}

func (s *Server) pushAgent(r *http.Request, st agentstate.Agent, req agentstate.Request) error {
	if st.CallJobID == 0 {
		return errorf(http.StatusConflict, "agent_not_in_job", "the agent is not in a call job")
	}
	req.AgentID = st.ID
	if err := s.desk.Push(r.Context(), st.CallJobID, req); err != nil {
		return DependencyDown("redis", err)
	}
	return nil
}

func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request) error {
	_, st, err := s.agentFor(r)
	if err != nil {
		return err
	}
	if err := s.pushAgent(r, st, agentstate.Request{Kind: domain.RequestLeave}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

type stateRequest struct {
	State domain.AgentState `json:"state"`
}

// handleSetState: available, break or away, between calls (G-4).
func (s *Server) handleSetState(w http.ResponseWriter, r *http.Request) error {
	_, st, err := s.agentFor(r)
	if err != nil {
		return err
	}
	var req stateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	want := req.State
	if !want.Choosable() {
		return errorf(http.StatusUnprocessableEntity, "invalid_input", "state must be available, break or away")
	}
	if st.State == domain.AgentOnCall {
		return errorf(http.StatusConflict, "agent_on_call", "the agent is on a call")
	}
	if err := s.pushAgent(r, st, agentstate.Request{Kind: domain.RequestState, State: want}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// handleHangupCustomer ends the customer's leg only; the agent stays on hold music (G-3).
func (s *Server) handleHangupCustomer(w http.ResponseWriter, r *http.Request) error {
	_, st, err := s.agentFor(r)
	if err != nil {
		return err
	}
	if st.State != domain.AgentOnCall {
		return errorf(http.StatusConflict, "agent_not_on_call", "the agent has no customer on the line")
	}
	if err := s.pushAgent(r, st, agentstate.Request{Kind: domain.RequestHangupCustomer}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

type sessionJSON struct {
	State      domain.AgentState `json:"state"`
	StateSince time.Time         `json:"state_since"`
	CallJobID  *int64            `json:"call_job_id"`
	Message    string            `json:"message,omitempty"`
	Call       *sessionCall      `json:"call,omitempty"`
	// Preview is the contact a preview job shows the agent (state preview only).
	Preview *sessionPreview `json:"preview,omitempty"`
	// Actions are what the agent's screen may offer now, each the request that does it.
	Actions []sessionAction `json:"actions"`
}

// sessionAction is one thing an agent may do in its current state (issue 16 item 4).
type sessionAction struct {
	Action string `json:"action"`
	Method string `json:"method"`
	Path   string `json:"path"`
}

// sessionActions are the requests the API accepts for an agent in st: joining when it is in no
// job; changing state and leaving between calls, and dialing by hand when the campaign allows it
// now; dialing or skipping the contact of a preview; on a call hanging the customer up, hold,
// transfer and conference as the call's hold and third party allow (deskActions), and recording
// when the campaign records on request or always; saving the disposition in wrap-up.
func sessionActions(st agentstate.Agent, camp deskCampaign) []sessionAction {
	agent := fmt.Sprintf("/api/v1/agents/%d/", st.ID)
	act := func(name, path string) sessionAction {
		return sessionAction{Action: name, Method: http.MethodPost, Path: path}
	}
	out := []sessionAction{}
	switch {
	case st.CallJobID == 0:
		return append(out, act("join", agent+"join"))
	case st.State == domain.AgentLoggedOff:
		return out // joining: the phone is being called
	case st.State == domain.AgentOnCall && st.Call != nil && st.Call.Party != nil && st.Call.Party.Mode == modeIncoming:
		return append(out, act("leave", agent+"leave")) // the target of another agent's consult: that agent acts
	case st.State == domain.AgentOnCall:
		out = append(out, act("hangup_customer", agent+"hangup-customer"))
		out = append(out, deskActions(st, agent)...)
		if camp.Recording == config.RecordingOnRequest || camp.Recording == config.RecordingAll {
			out = append(out, act("record", agent+"record"),
				sessionAction{Action: "stop_recording", Method: http.MethodDelete, Path: agent + "record"})
		}
	case st.State == domain.AgentWrapUp && st.AttemptID != 0:
		out = append(out, act("save_disposition", fmt.Sprintf("/api/v1/attempts/%d/disposition", st.AttemptID)), act("set_state", agent+"state"))
	case st.State == domain.AgentPreview && st.Preview != nil:
		out = append(out, act("preview_dial", agent+"preview/dial"), act("preview_skip", agent+"preview/skip"), act("set_state", agent+"state"))
	default:
		out = append(out, act("set_state", agent+"state"))
		if camp.ManualDial && st.State.Choosable() {
			out = append(out, act("dial", agent+"dial"))
		}
	}
	return append(out, act("leave", agent+"leave"))
}

type sessionCall struct {
	AttemptID int64         `json:"attempt_id"`
	Contact   *contactBrief `json:"contact"`
	History   []attemptJSON `json:"history"`
	// DialedTel is the number this call dialed: the list's (contact.tel), or the other number a
	// disposition asked for (D-1).
	DialedTel string           `json:"dialed_tel"`
	Callback  *sessionCallback `json:"callback"`
	// Held: the customer hears hold music (a hold, or a consult); Party the third party of a
	// consult, a blind transfer still ringing or a conference, null when none.
	Held bool `json:"held"`
	// Dialing: a call the agent dialed itself (preview, manual) still rings.
	Dialing bool          `json:"dialing"`
	Party   *sessionParty `json:"party"`
}

// sessionCallback is the callback a call is (S-2): when it was due and who promised it.
type sessionCallback struct {
	ID            int64     `json:"id"`
	DueAt         time.Time `json:"due_at"`
	PromisedBy    *int      `json:"promised_by"`
	PromisedByYou bool      `json:"promised_by_you"`
}

type contactBrief struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Kana    string `json:"kana"`
	Tel     string `json:"tel"`
	Remarks string `json:"remarks"`
}

// handleSession is the agent's screen: state, job, and during a call or wrap-up the contact and
// its attempt history (G-2), the number dialed (D-1) and the callback the call is (S-2).
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) error {
	_, st, err := s.agentFor(r)
	if err != nil {
		return err
	}
	out := sessionJSON{State: st.State, StateSince: st.Since, Message: st.Message}
	var camp deskCampaign
	var cc config.Campaign
	if st.CallJobID != 0 {
		out.CallJobID = &st.CallJobID
		if j, err := s.jobs.GetCallJob(r.Context(), st.CallJobID); err == nil {
			if c, ok := s.cfg.Current().Campaign(j.CampaignID); ok {
				cc = c
				camp = deskCampaign{Recording: c.Recording.Mode, ManualDial: manualDialOpen(c, s.now())}
			}
		}
	}
	out.Actions = sessionActions(st, camp)
	out.Preview = s.previewOf(r.Context(), st, cc)
	if st.AttemptID != 0 && (st.State == domain.AgentOnCall || st.State == domain.AgentWrapUp) {
		call := &sessionCall{AttemptID: st.AttemptID, History: []attemptJSON{}}
		if d, err := s.jobs.GetAttemptDial(r.Context(), st.AttemptID); err == nil {
			call.DialedTel = d.Tel
			if d.CallbackID != nil {
				call.Callback = &sessionCallback{ID: *d.CallbackID, DueAt: *d.CallbackDueAt, PromisedBy: d.CallbackAgentID,
					PromisedByYou: d.CallbackAgentID != nil && *d.CallbackAgentID == st.ID}
			}
		}
		if ref, err := s.jobs.GetAttemptRef(r.Context(), st.AttemptID); err == nil && ref.ContactID != nil {
			call.Contact, call.History = s.contactCard(r.Context(), *ref.ContactID)
		}
		if st.State == domain.AgentOnCall {
			call.Held, call.Party = held(st), toSessionParty(party(st))
			call.Dialing = st.Call != nil && st.Call.Dialing
		}
		out.Call = call
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type dispositionRequest struct {
	Party      string             `json:"party"`
	ResultCode string             `json:"result_code"`
	OtherTel   string             `json:"other_tel"`
	NextAction domain.NextStep    `json:"next_action"`
	CallbackAt *time.Time         `json:"callback_at"`
	Memo       string             `json:"memo"`
	After      domain.AfterWrapUp `json:"after"`
}

// handleSaveDisposition saves what the agent recorded (D-1) and moves the agent on as it chose
// (G-4). Agents save their own calls; admins and the campaign's supervisors any (D-3).
func (s *Server) handleSaveDisposition(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ref, err := s.jobs.GetAttemptRef(r.Context(), id)
	if err != nil {
		return hideMissing(p, err)
	}
	switch p.Role {
	case config.RoleAgent:
		if ref.AgentID == nil || *ref.AgentID != p.AgentID {
			return errForbidden
		}
	case config.RoleSupervisor:
		if !p.CanCampaign(ref.CampaignID) {
			return errForbidden
		}
	}
	var req dispositionRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	kind, state, ok := req.After.Request()
	if !ok {
		return errorf(http.StatusUnprocessableEntity, "invalid_input", "after must be continue, break, away or end")
	}
	camp, _ := s.cfg.Current().Campaign(ref.CampaignID)
	rc := slices.IndexFunc(camp.ResultCodes, func(c config.ResultCode) bool { return c.Code == req.ResultCode })
	if rc < 0 {
		return errorf(http.StatusUnprocessableEntity, "invalid_input", "result_code must be one of the campaign's result codes")
	}
	err = s.jobs.SaveDisposition(r.Context(), store.NewDisposition{AttemptID: id, Party: req.Party, ResultCode: req.ResultCode,
		OtherTel: req.OtherTel, NextAction: req.NextAction, CallbackAt: req.CallbackAt, Memo: req.Memo, SavedBy: p.Name,
		DoNotCall: camp.ResultCodes[rc].DoNotCall}, s.now())
	if err != nil {
		return err
	}
	if ref.AgentID != nil {
		if st, err := s.desk.Get(r.Context(), *ref.AgentID); err == nil && st.AttemptID == id && st.State == domain.AgentWrapUp {
			_ = s.pushAgent(r, st, agentstate.Request{Kind: kind, State: state})
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unsavedJSON is an unsaved disposition with its call's recording, to listen to before saving.
type unsavedJSON struct {
	store.UnsavedDisposition
	Recording *recordingJSON `json:"recording"`
}

// handleUnsavedDispositions lists unsaved dispositions (D-3): admins all, supervisors their
// campaigns', agents their own; q holds words that must all match.
func (s *Server) handleUnsavedDispositions(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	limit, offset, err := paging(r)
	if err != nil {
		return err
	}
	q, err := searchText(r.URL.Query())
	if err != nil {
		return err
	}
	f := store.UnsavedFilter{Query: q, CampaignIDs: p.campaignScope(), Limit: limit, Offset: offset}
	if p.Role == config.RoleAgent {
		f.AgentID, f.CampaignIDs = &p.AgentID, nil
	}
	items, total, err := s.jobs.UnsavedDispositions(r.Context(), f, s.now())
	if err != nil {
		return err
	}
	writePage(w, items, total, func(u store.UnsavedDisposition) unsavedJSON {
		return unsavedJSON{UnsavedDisposition: u, Recording: toRecordingJSON(u.AttemptID, u.Recording)}
	})
	return nil
}
