package domain

// NextStep is what becomes of the contact after a disposition: its next_action (D-1, D-2).
type NextStep string

// The next actions of D-2.
const (
	NextContinue NextStep = "continue" // the contact stays eligible (its attempt count has grown)
	NextCallback NextStep = "callback" // the contact is dialed again at the callback time
	NextComplete NextStep = "complete" // never dialed again by this batch
)

// NextSteps lists every next step in the API's order. The slice is new on each call.
func NextSteps() []NextStep { return []NextStep{NextContinue, NextCallback, NextComplete} }

// Valid reports whether n is one of NextSteps.
func (n NextStep) Valid() bool { return n == NextContinue || n == NextCallback || n == NextComplete }

// AfterWrapUp is what the agent does once its disposition is saved: the disposition's after
// (G-4).
type AfterWrapUp string

// The choices of G-4. An empty after means AfterContinue.
const (
	AfterContinue AfterWrapUp = "continue" // available for the next customer
	AfterBreak    AfterWrapUp = "break"
	AfterAway     AfterWrapUp = "away"
	AfterEnd      AfterWrapUp = "end" // leave the job
)

// AfterWrapUps lists every choice in the API's order. The slice is new on each call.
func AfterWrapUps() []AfterWrapUp {
	return []AfterWrapUp{AfterContinue, AfterBreak, AfterAway, AfterEnd}
}

// Request is the agent request that carries out a: the kind, and for RequestState the state.
// False for a value that is no choice ("" is AfterContinue).
func (a AfterWrapUp) Request() (RequestKind, AgentState, bool) {
	switch a {
	case AfterContinue, "":
		return RequestState, AgentAvailable, true
	case AfterBreak:
		return RequestState, AgentBreak, true
	case AfterAway:
		return RequestState, AgentAway, true
	case AfterEnd:
		return RequestLeave, "", true
	}
	return "", "", false
}
