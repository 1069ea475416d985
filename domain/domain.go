// Package domain is the dialer's vocabulary, defined once: the outcomes an attempt ends with,
// the states of an agent, the requests the API queues for the engine, what follows a
// disposition, and whether a call job runs. The engine, the stores, the metrics, the
// configuration and the HTTP API all speak these types instead of spelling the words
// themselves, so a word cannot drift between them; the value of each constant is the API's
// spelling (docs/ui-guide.md, the OpenAPI document).
//
// Standard library only and no I/O: it holds names and the facts about them, nothing that
// stores, counts or decides.
package domain

// Outcome is how an attempt ended (P-3), as the API and the database spell it.
type Outcome string

// The outcomes of P-3, and in-progress for an attempt that has none yet.
const (
	// OutcomeConnected: a live person answered and reached an agent (P-3 answered-connected);
	// the agent's disposition follows (D-1).
	OutcomeConnected Outcome = "connected"
	// OutcomeAbandoned: a live person answered and no agent was free within the connect
	// deadline (P-2, P-3 answered-abandoned).
	OutcomeAbandoned Outcome = "abandoned"
	// OutcomeMachine: an answering machine answered, when AMD is on (P-3).
	OutcomeMachine Outcome = "machine"
	// OutcomeNoAnswer: the phone rang out, or the network gave up waiting for it (P-3).
	OutcomeNoAnswer Outcome = "no_answer"
	// OutcomeBusy: the line was busy (P-3).
	OutcomeBusy Outcome = "busy"
	// OutcomeRejected: the callee, or its network for it, refused the call (P-3).
	OutcomeRejected Outcome = "rejected"
	// OutcomeInvalidNumber: the number does not exist or cannot be reached as written (P-3).
	OutcomeInvalidNumber Outcome = "invalid_number"
	// OutcomeNetworkFailure: the network failed, not the customer (P-3).
	OutcomeNetworkFailure Outcome = "network_failure"
	// OutcomeCancelled: we ended the call before an answer, e.g. the job stopped (P-3).
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeSkipped: the claim found the number on a do-not-call list (N-1) and never sent it
	// to the switch; the attempt row only records the skip and its reason. Not a dial: reports
	// and pacing leave it out.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeInProgress is no outcome: what an attempt shows while its call is live (docs/ui-guide.md
	// GET /contacts/{id}/attempts). No attempt ends with it.
	OutcomeInProgress Outcome = "in_progress"
)

// Outcomes lists every outcome an attempt can end with, in display order (reports, metrics).
// OutcomeInProgress is not among them. The slice is new on each call.
func Outcomes() []Outcome {
	return []Outcome{OutcomeConnected, OutcomeAbandoned, OutcomeMachine, OutcomeNoAnswer, OutcomeBusy,
		OutcomeRejected, OutcomeInvalidNumber, OutcomeNetworkFailure, OutcomeCancelled, OutcomeSkipped}
}

// Valid reports whether o is an outcome an attempt can end with (one of Outcomes).
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeConnected, OutcomeAbandoned, OutcomeMachine, OutcomeNoAnswer, OutcomeBusy,
		OutcomeRejected, OutcomeInvalidNumber, OutcomeNetworkFailure, OutcomeCancelled, OutcomeSkipped:
		return true
	}
	return false
}

// Live reports whether o is an answer by a live person, which the abandon rate counts (P-2):
// connected or abandoned. A machine's answer is not one.
func (o Outcome) Live() bool { return o == OutcomeConnected || o == OutcomeAbandoned }

// Retryable reports whether a campaign's retry rule may name o (P-3): every outcome but
// connected, whose contact waits for its disposition instead (D-2), and skipped, which was never
// dialed and whose contact is complete (N-1).
func (o Outcome) Retryable() bool { return o.Valid() && o != OutcomeConnected && o != OutcomeSkipped }
