package domain

// DialKind is how an attempt came to be dialed, as the API, reports and the database spell it.
type DialKind string

// The dial kinds.
const (
	DialPaced   DialKind = "paced"   // pacing placed it (progressive, ratio, predictive), or a callback
	DialPreview DialKind = "preview" // shown to an agent first, dialed by the agent or the time limit
	DialManual  DialKind = "manual"  // a number an agent typed
)

// DialKinds lists every dial kind. The slice is new on each call.
func DialKinds() []DialKind { return []DialKind{DialPaced, DialPreview, DialManual} }

// Valid reports whether k is one of DialKinds.
func (k DialKind) Valid() bool { return k == DialPaced || k == DialPreview || k == DialManual }

// TargetKind is who a transfer or a conference reaches.
type TargetKind string

// The target kinds.
const (
	TargetAgent      TargetKind = "agent"      // another agent working the same call job
	TargetSupervisor TargetKind = "supervisor" // a supervisor of the campaign, at its endpoint
	TargetNumber     TargetKind = "number"     // an outside number on the campaign's allow-list
)

// TargetKinds lists every target kind. The slice is new on each call.
func TargetKinds() []TargetKind { return []TargetKind{TargetAgent, TargetSupervisor, TargetNumber} }

// Valid reports whether k is one of TargetKinds.
func (k TargetKind) Valid() bool {
	return k == TargetAgent || k == TargetSupervisor || k == TargetNumber
}

// StepKind is one thing done to a connected call besides talking, recorded on its attempt.
type StepKind string

// The step kinds, each recorded with who did it, when, and to whom.
const (
	StepHold              StepKind = "hold"                // the customer put on hold music
	StepUnhold            StepKind = "unhold"              // the customer back with the agent
	StepConsult           StepKind = "consult"             // the customer held, a target called for the agent
	StepConsultAnswered   StepKind = "consult_answered"    // the target of a consult or blind transfer answered
	StepSwap              StepKind = "swap"                // the agent turned to the other party of the consult
	StepConsultCancelled  StepKind = "consult_cancelled"   // the consult ended; the customer back with the agent
	StepTransferred       StepKind = "transferred"         // the customer handed to the target (blind or completed consult)
	StepTransferFailed    StepKind = "transfer_failed"     // the target did not answer; the customer back with the agent
	StepConference        StepKind = "conference"          // a third party called into the agent's room
	StepConferenceJoined  StepKind = "conference_joined"   // the third party answered and is in the room
	StepConferenceEnded   StepKind = "conference_ended"    // the third party left or was hung up
	StepPreviewSkipped    StepKind = "preview_skipped"     // the agent skipped the previewed contact
	StepPreviewAutoDialed StepKind = "preview_auto_dialed" // the preview's time limit dialed it
)

// StepKinds lists every step kind. The slice is new on each call.
func StepKinds() []StepKind {
	return []StepKind{StepHold, StepUnhold, StepConsult, StepConsultAnswered, StepSwap, StepConsultCancelled,
		StepTransferred, StepTransferFailed, StepConference, StepConferenceJoined, StepConferenceEnded,
		StepPreviewSkipped, StepPreviewAutoDialed}
}
