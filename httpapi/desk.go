package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// The agent's desk (issue 16): preview, manual dial, hold, transfer and conference. Every
// route checks what it can at once and answers 202 with the request queued for the instance
// that runs the agent's job (pushAgent), which checks again as it carries it out: the agent's
// state may move on in between, and the engine is the one that knows.

// DoNotCallLookup is the do-not-call check of a manual dial (N-1): list is "global" or the
// campaign id in decimal. The server uses it when its DoNotCall store provides it; the engine
// checks again in the transaction that records the dial either way.
type DoNotCallLookup interface {
	DoNotCallNumber(ctx context.Context, campaignID int, tel string) (list string, listed bool, err error)
}

// deskCall is an agent's state with its job and the job's campaign, for the desk's checks.
type deskCall struct {
	st   agentstate.Agent
	job  store.CallJob
	camp config.Campaign
}

// deskFor reads the agent in the path (agentFor: the agent itself, an admin, or a supervisor of
// the job's campaign) and its job and campaign; 409 agent_not_in_job outside a job.
func (s *Server) deskFor(r *http.Request) (deskCall, error) {
	_, st, err := s.agentFor(r)
	if err != nil {
		return deskCall{}, err
	}
	if st.CallJobID == 0 || st.State == domain.AgentLoggedOff {
		return deskCall{}, errorf(http.StatusConflict, "agent_not_in_job", "the agent is not in a call job")
	}
	j, err := s.jobs.GetCallJob(r.Context(), st.CallJobID)
	if err != nil {
		return deskCall{}, fmt.Errorf("desk of agent %d: %w", st.ID, err)
	}
	camp, ok := s.cfg.Current().Campaign(j.CampaignID)
	if !ok {
		return deskCall{}, errorf(http.StatusConflict, "agent_not_in_job", "the agent's call job belongs to no configured campaign")
	}
	return deskCall{st: st, job: j, camp: camp}, nil
}

// queue pushes a desk request in the caller's name and answers 202.
func (s *Server) queue(w http.ResponseWriter, r *http.Request, d deskCall, req agentstate.Request) error {
	req.By = principalFrom(r.Context()).Name
	if err := s.pushAgent(r, d.st, req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func conflict(code, format string, args ...any) *apiError {
	return errorf(http.StatusConflict, code, format, args...)
}

type previewDialRequest struct {
	AttemptID int64 `json:"attempt_id"`
}

type previewSkipRequest struct {
	AttemptID int64  `json:"attempt_id"`
	Reason    string `json:"reason"`
}

// checkPreview: the agent shows a preview, and it is the one the caller saw (409 no_preview,
// preview_changed).
func checkPreview(st agentstate.Agent, attemptID int64) error {
	if attemptID < 1 {
		return invalidText("attempt_id", "required: the attempt id of the preview shown")
	}
	if st.State != domain.AgentPreview || st.Preview == nil {
		return conflict("no_preview", "the agent has no preview to act on")
	}
	if st.Preview.AttemptID != attemptID {
		return conflict("preview_changed", "the agent's preview is now attempt %d, not %d", st.Preview.AttemptID, attemptID)
	}
	return nil
}

// handlePreviewDial: dial the contact the agent's preview shows now.
func (s *Server) handlePreviewDial(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	var req previewDialRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkPreview(d.st, req.AttemptID); err != nil {
		return err
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestPreviewDial, AttemptID: req.AttemptID})
}

// handlePreviewSkip: do not dial the previewed contact in this run, for one of the campaign's
// skip reasons.
func (s *Server) handlePreviewSkip(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	var req previewSkipRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if !d.camp.Preview.HasSkipReason(req.Reason) {
		return invalidText("reason", "must be one of the campaign's preview skip reasons")
	}
	if err := checkPreview(d.st, req.AttemptID); err != nil {
		return err
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestPreviewSkip, AttemptID: req.AttemptID, Reason: req.Reason})
}

type manualDialRequest struct {
	Tel      string `json:"tel"`
	CallerID string `json:"caller_id"`
}

var deskDigits = regexp.MustCompile(`^[0-9]{3,20}$`)

// deskNumber is a number as an agent types it, separators ('-', ' ', '(', ')') removed; ok
// when 3 to 20 digits remain.
func deskNumber(raw string) (string, bool) {
	n := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, raw)
	return n, deskDigits.MatchString(n)
}

// manualDialOpen reports whether the campaign lets its agents dial by hand now: manual dial
// not disabled and its calling calendar open (J-8).
func manualDialOpen(c config.Campaign, now time.Time) bool {
	return !c.ManualDial.Disabled && c.CallCalendar().OpenAt(now, campaignLocation(c))
}

// handleManualDial: the agent dials a number it typed, as an attempt of its job (issue 16).
func (s *Server) handleManualDial(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	var req manualDialRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if d.camp.ManualDial.Disabled {
		return conflict("manual_dial_disabled", "campaign %d does not allow manual dialing", d.camp.ID)
	}
	if !d.st.State.Choosable() {
		return conflict("agent_busy", "the agent is %s; manual dialing needs available, break or away", d.st.State)
	}
	tel, ok := deskNumber(req.Tel)
	if !ok {
		return invalidText("tel", "must be 3 to 20 digits ('-', ' ', '(' and ')' are removed)")
	}
	callerID := d.job.CallerID
	if req.CallerID != "" && !d.camp.WithholdCallerID { // a withheld campaign sends none anyway
		if !slices.Contains(d.camp.CallerIDs, req.CallerID) {
			return invalidText("caller_id", "must be one of the campaign's caller ids")
		}
		callerID = req.CallerID
	}
	if !d.camp.CallCalendar().OpenAt(s.now(), campaignLocation(d.camp)) {
		ae := conflict("outside_calling_hours", "campaign %d's calling calendar is closed now", d.camp.ID)
		ae.Rule = "J-8"
		return ae
	}
	if lookup, ok := s.dnc.(DoNotCallLookup); ok {
		list, listed, err := lookup.DoNotCallNumber(r.Context(), d.camp.ID, tel)
		if err != nil {
			return err
		}
		if listed {
			name := "the global do-not-call list"
			if list != "global" {
				name = "campaign " + list + "'s do-not-call list"
			}
			ae := conflict("do_not_call", "%s is on %s", tel, name)
			ae.Rule = "N-1"
			ae.Details = []any{dncListDetail{List: list}}
			return ae
		}
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestManualDial, Tel: tel, CallerID: callerID})
}

// dncListDetail names the list of a do_not_call refusal: "global" or the campaign id.
type dncListDetail struct {
	List string `json:"list"`
}

// onCall: the agent has its customer on the line (409 agent_not_on_call).
func onCall(st agentstate.Agent) error {
	if st.State != domain.AgentOnCall || st.Call != nil && st.Call.Dialing || partyMode(st) == modeIncoming {
		return conflict("agent_not_on_call", "the agent has no customer on the line")
	}
	return nil
}

// party is the third party of the agent's call, nil when none.
func party(st agentstate.Agent) *agentstate.Party {
	if st.Call == nil {
		return nil
	}
	return st.Call.Party
}

func held(st agentstate.Agent) bool { return st.Call != nil && st.Call.Held }

// partyMode is the mode of the agent's third party, "" when none.
func partyMode(st agentstate.Agent) string {
	if p := party(st); p != nil {
		return p.Mode
	}
	return ""
}

// The modes of a third party (agentstate.Party.Mode).
const (
	modeConsult    = "consult"
	modeBlind      = "blind"
	modeConference = "conference"
	// modeIncoming: the agent is the target of another agent's consult; it acts on nothing.
	modeIncoming = "incoming"
)

func noParty(st agentstate.Agent) error {
	if p := party(st); p != nil {
		return conflict("party_present", "a third party is on the call (%s)", p.Mode)
	}
	return nil
}

// handleHold: the customer to hold music, away from the agent.
func (s *Server) handleHold(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	if err := onCall(d.st); err != nil {
		return err
	}
	if held(d.st) {
		return conflict("call_held", "the customer is on hold already")
	}
	if err := noParty(d.st); err != nil {
		return err
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestHold})
}

// handleUnhold: the customer back with the agent.
func (s *Server) handleUnhold(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	if err := onCall(d.st); err != nil {
		return err
	}
	if !held(d.st) {
		return conflict("call_not_held", "the customer is not on hold")
	}
	if partyMode(d.st) == modeConsult {
		return conflict("consult_in_progress", "the customer waits for a consult: complete, swap or cancel it")
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestUnhold})
}

// targetRequest names who a transfer or conference reaches: exactly one field.
type targetRequest struct {
	AgentID    *int    `json:"agent_id"`
	Supervisor *string `json:"supervisor"`
	Number     *string `json:"number"`
}

type transferRequest struct {
	Mode   string         `json:"mode"`
	Target *targetRequest `json:"target"`
}

type conferenceRequest struct {
	Target *targetRequest `json:"target"`
}

// resolveTarget checks a target for the agent's call (issue 16): another agent of the same
// job, available (409 target_unavailable); a supervisor of the campaign, or an admin, with a
// supervisor endpoint (422 no_endpoint); a number on the campaign's allow-list (409
// number_not_allowed).
func (s *Server) resolveTarget(ctx context.Context, d deskCall, t *targetRequest) (agentstate.Target, error) {
	n := 0
	if t != nil {
		for _, set := range []bool{t.AgentID != nil, t.Supervisor != nil, t.Number != nil} {
			if set {
				n++
			}
		}
	}
	if n != 1 {
		return agentstate.Target{}, invalidText("target", "must name exactly one of agent_id, supervisor and number")
	}
	cfg := s.cfg.Current()
	switch {
	case t.AgentID != nil:
		id := *t.AgentID
		if _, ok := cfg.Agent(id); !ok || id == d.st.ID {
			return agentstate.Target{}, invalidText("target.agent_id", "must be another configured agent")
		}
		other, err := s.desk.Get(ctx, id)
		if err != nil && !errors.Is(err, agentstate.ErrUnknownAgent) {
			return agentstate.Target{}, DependencyDown("redis", err)
		}
		// The same run too: state left from an earlier run of the job is no agent of this one.
		if err != nil || other.CallJobID != d.st.CallJobID || other.JobRun != d.st.JobRun || other.State != domain.AgentAvailable {
			return agentstate.Target{}, conflict("target_unavailable", "agent %d is not available in call job %d", id, d.st.CallJobID)
		}
		return agentstate.Target{Kind: domain.TargetAgent, AgentID: id}, nil
	case t.Supervisor != nil:
		name := *t.Supervisor
		i := slices.IndexFunc(cfg.Users, func(u config.User) bool { return u.Name == name })
		if i < 0 || !(cfg.Users[i].Role == config.RoleAdmin ||
			cfg.Users[i].Role == config.RoleSupervisor && slices.Contains(cfg.Users[i].CampaignIDs, d.camp.ID)) {
			return agentstate.Target{}, invalidText("target.supervisor", "must be the user name of a supervisor of the campaign or an admin")
		}
		if len(cfg.Users[i].SupervisorEndpoints) == 0 {
			return agentstate.Target{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_endpoint",
				Message: fmt.Sprintf("user %s has no supervisor_endpoints to call", name)}
		}
		return agentstate.Target{Kind: domain.TargetSupervisor, Supervisor: name}, nil
	default:
		num, ok := deskNumber(*t.Number)
		if !ok {
			return agentstate.Target{}, invalidText("target.number", "must be 3 to 20 digits ('-', ' ', '(' and ')' are removed)")
		}
		if !d.camp.Transfer.Allows(num) {
			return agentstate.Target{}, conflict("number_not_allowed", "%s is not on campaign %d's transfer allow-list", num, d.camp.ID)
		}
		return agentstate.Target{Kind: domain.TargetNumber, Number: num}, nil
	}
}

// handleTransfer: a blind transfer, or the start of a consult (attended), of the agent's
// customer to a target.
func (s *Server) handleTransfer(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	var req transferRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Mode != "blind" && req.Mode != "attended" {
		return invalidText("mode", "must be blind or attended")
	}
	if err := onCall(d.st); err != nil {
		return err
	}
	if err := noParty(d.st); err != nil {
		return err
	}
	target, err := s.resolveTarget(r.Context(), d, req.Target)
	if err != nil {
		return err
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestTransfer, Target: &target, Blind: req.Mode == "blind"})
}

// consultRequest queues a step of a consult in progress (409 no_consult without one).
func (s *Server) consultRequest(w http.ResponseWriter, r *http.Request, kind domain.RequestKind) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	mode := partyMode(d.st)
	// A blind transfer still ringing may be cancelled too: the customer comes back.
	if !(mode == modeConsult || mode == modeBlind && kind == domain.RequestConsultCancel) || d.st.State != domain.AgentOnCall {
		return conflict("no_consult", "the agent has no consult in progress")
	}
	return s.queue(w, r, d, agentstate.Request{Kind: kind})
}

func (s *Server) handleConsultSwap(w http.ResponseWriter, r *http.Request) error {
	return s.consultRequest(w, r, domain.RequestConsultSwap)
}

func (s *Server) handleConsultComplete(w http.ResponseWriter, r *http.Request) error {
	return s.consultRequest(w, r, domain.RequestConsultFinish)
}

func (s *Server) handleConsultCancel(w http.ResponseWriter, r *http.Request) error {
	return s.consultRequest(w, r, domain.RequestConsultCancel)
}

// handleConference: a third party into the agent's room, with the customer.
func (s *Server) handleConference(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	var req conferenceRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := onCall(d.st); err != nil {
		return err
	}
	if err := noParty(d.st); err != nil {
		return err
	}
	if held(d.st) {
		return conflict("call_held", "the customer is on hold: take it back first")
	}
	target, err := s.resolveTarget(r.Context(), d, req.Target)
	if err != nil {
		return err
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestConference, Target: &target})
}

// handleConferenceEnd: the conference's third party is hung up.
func (s *Server) handleConferenceEnd(w http.ResponseWriter, r *http.Request) error {
	d, err := s.deskFor(r)
	if err != nil {
		return err
	}
	if partyMode(d.st) != modeConference || d.st.State != domain.AgentOnCall {
		return conflict("no_conference", "the agent has no conference in progress")
	}
	return s.queue(w, r, d, agentstate.Request{Kind: domain.RequestConferenceEnd})
}

// skipReasonJSON is one of the campaign's preview skip reasons, for the agent's screen.
type skipReasonJSON struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// sessionPreview is the contact a preview job shows the agent (state preview).
type sessionPreview struct {
	AttemptID int64         `json:"attempt_id"`
	Tel       string        `json:"tel"`
	DialAt    time.Time     `json:"dial_at"`
	Contact   *contactBrief `json:"contact"`
	// History: the contact's attempts, the previewed one included.
	History     []attemptJSON    `json:"history"`
	SkipReasons []skipReasonJSON `json:"skip_reasons"`
}

// sessionParty is the third party of the agent's call.
type sessionParty struct {
	Mode   string            `json:"mode"`
	Target agentstate.Target `json:"target"`
	State  string            `json:"state"`
	Since  time.Time         `json:"since"`
}

func toSessionParty(p *agentstate.Party) *sessionParty {
	if p == nil {
		return nil
	}
	return &sessionParty{Mode: p.Mode, Target: p.Target, State: p.State, Since: p.Since}
}

// contactCard reads a contact and its attempts for the agent's screen; what cannot be read is
// left out (the screen still shows the call).
func (s *Server) contactCard(ctx context.Context, contactID int64) (*contactBrief, []attemptJSON) {
	hist := []attemptJSON{}
	var brief *contactBrief
	if c, err := s.lists.GetContact(ctx, contactID); err == nil {
		brief = &contactBrief{ID: c.ID, Name: c.Name, Kana: c.Kana, Tel: c.Tel, Remarks: c.Remarks}
	}
	if list, err := s.lists.ContactAttempts(ctx, contactID); err == nil {
		for _, a := range list {
			hist = append(hist, toAttemptJSON(a))
		}
	}
	return brief, hist
}

// previewOf is the session's preview for an agent in state preview, nil otherwise.
func (s *Server) previewOf(ctx context.Context, st agentstate.Agent, camp config.Campaign) *sessionPreview {
	if st.State != domain.AgentPreview || st.Preview == nil {
		return nil
	}
	p := &sessionPreview{AttemptID: st.Preview.AttemptID, Tel: st.Preview.Tel, DialAt: st.Preview.DialAt,
		History: []attemptJSON{}, SkipReasons: []skipReasonJSON{}}
	if st.Preview.ContactID != 0 {
		p.Contact, p.History = s.contactCard(ctx, st.Preview.ContactID)
	}
	for _, sr := range camp.Preview.SkipReasons {
		p.SkipReasons = append(p.SkipReasons, skipReasonJSON{Code: sr.Code, Label: sr.Label})
	}
	return p
}

// deskCampaign is what the session's actions need to know of the agent's campaign.
type deskCampaign struct {
	// Recording is the campaign's recording mode ("" without a job).
	Recording string
	// ManualDial: the campaign lets agents dial by hand now (not disabled, calendar open).
	ManualDial bool
}

// deskActions are the desk's actions for an agent on a call (issue 16), as the routes above
// would accept them now.
func deskActions(st agentstate.Agent, agent string) []sessionAction {
	post := func(name, path string) sessionAction {
		return sessionAction{Action: name, Method: http.MethodPost, Path: agent + path}
	}
	del := func(name, path string) sessionAction {
		return sessionAction{Action: name, Method: http.MethodDelete, Path: agent + path}
	}
	var out []sessionAction
	if st.Call != nil && st.Call.Dialing {
		return nil // ringing: only hanging up (cancelling) applies
	}
	switch partyMode(st) {
	case modeIncoming:
		return nil
	case "":
		if held(st) {
			out = append(out, del("unhold", "hold"), post("transfer", "transfer"))
		} else {
			out = append(out, post("hold", "hold"), post("transfer", "transfer"), post("conference", "conference"))
		}
	case modeConsult:
		out = append(out, post("transfer_swap", "transfer/swap"), post("transfer_complete", "transfer/complete"),
			del("transfer_cancel", "transfer"))
	case modeConference:
		out = append(out, del("conference_end", "conference"))
		if held(st) {
			out = append(out, del("unhold", "hold"))
		}
	default: // a blind transfer's party still ringing
		out = append(out, del("transfer_cancel", "transfer"))
	}
	return out
}
