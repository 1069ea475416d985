package httpapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/recording"
	"github.com/kakeru-dialer/kakeru/store"
)

// recordingSettle: a recording whose end was never reported (the engine stopped meanwhile) is
// served this long after its call ended, the switch having closed the file by then.
const recordingSettle = 30 * time.Second

// answerAnalysisJSON is an attempt's answer classification (P-3).
type answerAnalysisJSON struct {
	Result        string     `json:"result"`
	Detail        string     `json:"detail"`
	TookMs        int        `json:"took_ms"`
	MachineAction *string    `json:"machine_action"`
	VoicemailAt   *time.Time `json:"voicemail_at"`
}

// recordingJSON is an attempt's recording; url serves the file.
type recordingJSON struct {
	URL        string    `json:"url"`
	StartedAt  time.Time `json:"started_at"`
	DurationMs *int      `json:"duration_ms"`
	Bytes      *int64    `json:"bytes"`
	Format     string    `json:"format"`
}

func toAnswerAnalysisJSON(a *store.AttemptAnalysis) *answerAnalysisJSON {
	if a == nil {
		return nil
	}
	out := &answerAnalysisJSON{Result: a.Result, Detail: a.Detail, TookMs: a.Ms, VoicemailAt: a.VoicemailAt}
	if a.MachineAction != "" {
		out.MachineAction = &a.MachineAction
	}
	return out
}

func toRecordingJSON(attemptID int64, r *store.AttemptRecording) *recordingJSON {
	if r == nil {
		return nil
	}
	return &recordingJSON{URL: fmt.Sprintf("/api/v1/attempts/%d/recording", attemptID), StartedAt: r.StartedAt,
		DurationMs: r.DurationMs, Bytes: r.Bytes, Format: recording.Format(r.Path)}
}

// handleGetRecording streams an attempt's recording (issue 15) to whoever may read the attempt:
// admins any, supervisors their campaigns', agents the calls they took. Range requests and
// conditional requests are answered (http.ServeContent), so players can seek. 404
// no_recording: the call was not recorded; 409 recording_in_progress: the call or its
// recording is still going; 404 recording_missing: recorded, but the file is no longer in the
// recordings directory (logged); 503 dependency_down: the directory itself cannot be opened.
func (s *Server) handleGetRecording(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	info, err := s.jobs.AttemptRecording(r.Context(), id)
	if err != nil {
		return hideMissing(p, err)
	}
	switch p.Role {
	case config.RoleAgent:
		if info.AgentID == nil || *info.AgentID != p.AgentID {
			return errForbidden
		}
	case config.RoleSupervisor:
		if !p.CanCampaign(info.CampaignID) {
			return errForbidden
		}
	}
	if info.Path == "" {
		return errorf(http.StatusNotFound, "no_recording", "attempt %d was not recorded", id)
	}
	if !info.Finished(s.now(), recordingSettle) {
		return errorf(http.StatusConflict, "recording_in_progress", "the call of attempt %d is still being recorded; try again once it ended", id)
	}
	f, st, err := recording.Open(s.recordingsDir, info.Path)
	switch {
	case errors.Is(err, recording.ErrDirectory):
		return DependencyDown("recordings", err)
	case err != nil:
		ae := errorf(http.StatusNotFound, "recording_missing", "attempt %d was recorded, but its file is no longer in the recordings directory", id)
		ae.cause = fmt.Errorf("recording %q: %w", info.Path, err)
		return ae
	}
	defer f.Close()
	format := recording.Format(info.Path)
	h := w.Header()
	h.Set("Content-Type", recording.ContentType(format))
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": fmt.Sprintf("attempt-%d.%s", id, format)}))
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}

// removeRecordings deletes the files of deleted attempts (B-6). The rows are gone already: a
// failure here leaves files behind, which is logged, not answered.
func (s *Server) removeRecordings(r *http.Request, paths []string) {
	if len(paths) == 0 {
		return
	}
	removed, err := recording.Remove(s.recordingsDir, paths)
	if err != nil {
		s.log.WarnContext(r.Context(), "recordings of deleted attempts left on disk", "removed", removed,
			"left", len(paths)-removed, "err", err)
	}
}

// handleRecordCall: the agent asks for its current call to be recorded (issue 15), for a
// campaign whose recording mode is on_request (or all, which records already: accepted all the
// same). 409 agent_not_on_call without a customer on the line; 409 recording_not_available when
// the campaign does not record.
func (s *Server) handleRecordCall(w http.ResponseWriter, r *http.Request) error {
	return s.recordRequest(w, r, domain.RequestRecordCall)
}

// handleStopRecording: the agent asks for its call's recording to stop now (the customer reads
// out a card number, say); what was recorded so far is kept. Same answers as handleRecordCall;
// a call not being recorded is accepted and nothing happens.
func (s *Server) handleStopRecording(w http.ResponseWriter, r *http.Request) error {
	return s.recordRequest(w, r, domain.RequestStopRecording)
}

// recordRequest queues a recording request of an agent on a call whose campaign records.
func (s *Server) recordRequest(w http.ResponseWriter, r *http.Request, kind domain.RequestKind) error {
	_, st, err := s.agentFor(r)
	if err != nil {
		return err
	}
	if st.State != domain.AgentOnCall {
		return errorf(http.StatusConflict, "agent_not_on_call", "the agent has no customer on the line")
	}
	if st.CallJobID == 0 {
		return errorf(http.StatusConflict, "agent_not_in_job", "the agent is not in a call job")
	}
	j, err := s.jobs.GetCallJob(r.Context(), st.CallJobID)
	if err != nil {
		return err
	}
	camp, ok := s.cfg.Current().Campaign(j.CampaignID)
	if !ok || camp.Recording.Mode != config.RecordingOnRequest && camp.Recording.Mode != config.RecordingAll {
		return errorf(http.StatusConflict, "recording_not_available", "the campaign does not record calls")
	}
	if err := s.pushAgent(r, st, agentstate.Request{Kind: kind}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
