package domain

// AgentState is one of the agent states of G-4, as the API and the live state in Redis spell it.
type AgentState string

// The agent states of G-4.
const (
	AgentAvailable AgentState = "available" // in the job's room, free for the next customer
	AgentOnCall    AgentState = "on_call"   // reserved for or talking to a customer
	AgentWrapUp    AgentState = "wrap_up"   // the call ended; the disposition is not saved yet
	AgentBreak     AgentState = "break"     // in the job, taking no calls
	AgentAway      AgentState = "away"      // in the job, taking no calls
	AgentLoggedOff AgentState = "logged_off"
	// AgentPreview: a preview job showed the agent its next contact, not dialed yet; the agent
	// dials or skips it, or the campaign's time limit dials it.
	AgentPreview AgentState = "preview"
)

// AgentStates lists every agent state in display order. The slice is new on each call.
func AgentStates() []AgentState {
	return []AgentState{AgentAvailable, AgentPreview, AgentOnCall, AgentWrapUp, AgentBreak, AgentAway, AgentLoggedOff}
}

// Valid reports whether s is one of AgentStates.
func (s AgentState) Valid() bool {
	switch s {
	case AgentAvailable, AgentPreview, AgentOnCall, AgentWrapUp, AgentBreak, AgentAway, AgentLoggedOff:
		return true
	}
	return false
}

// Choosable reports whether an agent may put itself in s between calls (G-4, the API's
// POST /agents/{id}/state): available, break or away. The engine decides the others.
func (s AgentState) Choosable() bool { return s == AgentAvailable || s == AgentBreak || s == AgentAway }

// RequestKind is what an agent asks of its session through the API (G-1..G-4): the request is
// queued for the engine instance that runs the agent's call job, which carries it out.
type RequestKind string

// The agent requests.
const (
	RequestJoin           RequestKind = "join"            // call the agent's phone into the job (G-1)
	RequestLeave          RequestKind = "leave"           // leave the job, after the current call if any (G-4)
	RequestState          RequestKind = "state"           // become available, break or away (G-4)
	RequestHangupCustomer RequestKind = "hangup_customer" // cut the customer's leg only (G-3)
	RequestRecordCall     RequestKind = "record_call"     // record the current call (campaign recording on_request)
	RequestStopRecording  RequestKind = "stop_recording"  // stop recording it (a card number read out, say)
	RequestPreviewDial    RequestKind = "preview_dial"    // dial the contact the preview shows now
	RequestPreviewSkip    RequestKind = "preview_skip"    // skip it, with one of the campaign's reasons
	RequestManualDial     RequestKind = "manual_dial"     // dial a number the agent typed, as an attempt of the job
	RequestHold           RequestKind = "hold"            // the customer to hold music
	RequestUnhold         RequestKind = "unhold"          // the customer back with the agent
	RequestTransfer       RequestKind = "transfer"        // blind transfer, or the start of a consult (attended)
	RequestConsultSwap    RequestKind = "consult_swap"    // talk to the other party of a consult; the one left holds
	RequestConsultFinish  RequestKind = "consult_finish"  // complete the consult: customer and target together, the agent out
	RequestConsultCancel  RequestKind = "consult_cancel"  // end the consult: the target hung up, the customer back with the agent
	RequestConference     RequestKind = "conference"      // bring a third party into the agent's room with the customer
	RequestConferenceEnd  RequestKind = "conference_end"  // hang the third party up
)

// RequestKinds lists every request kind. The slice is new on each call.
func RequestKinds() []RequestKind {
	return []RequestKind{RequestJoin, RequestLeave, RequestState, RequestHangupCustomer, RequestRecordCall, RequestStopRecording,
		RequestPreviewDial, RequestPreviewSkip, RequestManualDial, RequestHold, RequestUnhold, RequestTransfer,
		RequestConsultSwap, RequestConsultFinish, RequestConsultCancel, RequestConference, RequestConferenceEnd}
}

// Valid reports whether k is one of RequestKinds.
func (k RequestKind) Valid() bool {
	switch k {
	case RequestJoin, RequestLeave, RequestState, RequestHangupCustomer, RequestRecordCall, RequestStopRecording,
		RequestPreviewDial, RequestPreviewSkip, RequestManualDial, RequestHold, RequestUnhold, RequestTransfer,
		RequestConsultSwap, RequestConsultFinish, RequestConsultCancel, RequestConference, RequestConferenceEnd:
		return true
	}
	return false
}
