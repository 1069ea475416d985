package freeswitch

import (
	"strings"

	"github.com/kakeru-dialer/kakeru/domain"
)

// Retry classes of a verdict: how soon a retry makes sense, if at all.
const (
	RetryNever = ""      // final: dialing again cannot help (or was never meant to happen)
	RetrySoon  = "soon"  // the network failed, not the customer: try again shortly
	RetryLater = "later" // the customer did not take the call: try again after the campaign's delay
)

// Verdict classifies one ended call.
type Verdict struct {
	Outcome domain.Outcome // one a hangup cause can tell: never abandoned or machine, which the engine decides
	Retry   string         // RetryNever, RetrySoon or RetryLater
}

// Retryable reports whether the campaign's retry rules may dial the contact again.
func (v Verdict) Retryable() bool { return v.Retry != RetryNever }

// causeTable maps FreeSWITCH hangup causes (docs/event-socket.md §3 and the Q.850 names a dialer meets) of a
// call that was never answered to their verdict. It is read-only.
var causeTable = map[string]Verdict{
	// No answer: the phone rang, or the network gave up waiting for it.
	"NO_ANSWER":                {domain.OutcomeNoAnswer, RetryLater},
	"NO_USER_RESPONSE":         {domain.OutcomeNoAnswer, RetryLater},
	"RECOVERY_ON_TIMER_EXPIRE": {domain.OutcomeNoAnswer, RetryLater},
	"PROGRESS_TIMEOUT":         {domain.OutcomeNoAnswer, RetryLater},
	"ALLOTTED_TIMEOUT":         {domain.OutcomeNoAnswer, RetryLater},
	"SUBSCRIBER_ABSENT":        {domain.OutcomeNoAnswer, RetryLater}, // mobile switched off or out of coverage
	"USER_NOT_REGISTERED":      {domain.OutcomeNoAnswer, RetryLater}, // SIP endpoint not registered right now
	"NORMAL_CLEARING":          {domain.OutcomeNoAnswer, RetryLater}, // cleared before answer: treat as unanswered
	// Busy.
	"USER_BUSY": {domain.OutcomeBusy, RetryLater},
	// Rejected by the callee (or its network on its behalf).
	"CALL_REJECTED":            {domain.OutcomeRejected, RetryNever},
	"OUTGOING_CALL_BARRED":     {domain.OutcomeRejected, RetryNever},
	"INCOMING_CALL_BARRED":     {domain.OutcomeRejected, RetryNever},
	"FACILITY_REJECTED":        {domain.OutcomeRejected, RetryNever},
	"BEARERCAPABILITY_NOTAUTH": {domain.OutcomeRejected, RetryNever},
	"INCOMPATIBLE_DESTINATION": {domain.OutcomeRejected, RetryNever}, // no common codec or bearer
	// The number does not exist or cannot be reached as written.
	"UNALLOCATED_NUMBER":             {domain.OutcomeInvalidNumber, RetryNever},
	"NO_ROUTE_DESTINATION":           {domain.OutcomeInvalidNumber, RetryNever},
	"NO_ROUTE_TRANSIT_NET":           {domain.OutcomeInvalidNumber, RetryNever},
	"INVALID_NUMBER_FORMAT":          {domain.OutcomeInvalidNumber, RetryNever},
	"NUMBER_CHANGED":                 {domain.OutcomeInvalidNumber, RetryNever},
	"REDIRECTION_TO_NEW_DESTINATION": {domain.OutcomeInvalidNumber, RetryNever},
	// Network trouble: not the customer's doing, worth a retry soon.
	"NORMAL_TEMPORARY_FAILURE":  {domain.OutcomeNetworkFailure, RetrySoon},
	"NETWORK_OUT_OF_ORDER":      {domain.OutcomeNetworkFailure, RetrySoon},
	"NORMAL_CIRCUIT_CONGESTION": {domain.OutcomeNetworkFailure, RetrySoon},
	"GATEWAY_DOWN":              {domain.OutcomeNetworkFailure, RetrySoon},
	"DESTINATION_OUT_OF_ORDER":  {domain.OutcomeNetworkFailure, RetrySoon},
	"REQUESTED_CHAN_UNAVAIL":    {domain.OutcomeNetworkFailure, RetrySoon},
	"NORMAL_UNSPECIFIED":        {domain.OutcomeNetworkFailure, RetrySoon}, // carriers use it for transient refusals
	"SERVICE_UNAVAILABLE":       {domain.OutcomeNetworkFailure, RetrySoon},
	"SWITCH_CONGESTION":         {domain.OutcomeNetworkFailure, RetrySoon},
	"MEDIA_TIMEOUT":             {domain.OutcomeNetworkFailure, RetrySoon}, // RTP stopped before answer
	"EXCHANGE_ROUTING_ERROR":    {domain.OutcomeNetworkFailure, RetrySoon},
	// We ended it: the job stopped or the engine cancelled a ringing call.
	"ORIGINATOR_CANCEL": {domain.OutcomeCancelled, RetryNever},
	"LOSE_RACE":         {domain.OutcomeCancelled, RetryNever}, // another leg of a forked originate won
	"MANAGER_REQUEST":   {domain.OutcomeCancelled, RetryNever}, // killed through the API (uuid_kill without cause)
}

// Classify maps a hangup cause to a verdict. An answered call is connected whatever the cause
// of its end (the engine decides abandoned or machine itself). A cause not in the table is
// counted as a network failure worth a retry soon: an unknown refusal must neither burn the
// contact nor be mistaken for the customer's choice.
func Classify(cause string, answered bool) Verdict {
	if answered {
		return Verdict{Outcome: domain.OutcomeConnected, Retry: RetryNever}
	}
	if v, ok := causeTable[cause]; ok {
		return v
	}
	return Verdict{Outcome: domain.OutcomeNetworkFailure, Retry: RetrySoon}
}

// Failures of our own: the reasons a call job stops for when its originates keep failing before
// any customer's network was reached (StopCallJob's reason, shown as the job's stop_reason).
const (
	// OwnSwitchUnavailable: no switch node could take the call (none connected, or none
	// configured under the name the call was paced for).
	OwnSwitchUnavailable = "switch_unavailable"
	// OwnDialStringRefused: the originate could not be built from the dial string, or the switch
	// refused it as malformed (an endpoint, gateway or profile that does not exist, a dial string
	// without a destination, a command it did not understand).
	OwnDialStringRefused = "dial_string_refused"
)

// ownCauses are the causes of an originate that failed because of us, not the customer: the
// switch could not even try the number. Such a failure says nothing of the contact and must not
// use it up. It is read-only.
var ownCauses = map[string]string{
	// The engine's own cause for a call no node could take.
	"NO_NODE_CONNECTED": OwnSwitchUnavailable,
	// The switch is shutting down and places no calls.
	"SYSTEM_SHUTDOWN": OwnSwitchUnavailable,
	// The dial string names an endpoint type the switch does not have (a typo such as
	// "sofai/…", or a module that is not loaded).
	"CHAN_NOT_IMPLEMENTED": OwnDialStringRefused,
	// sofia/gateway/NAME/… with a gateway the switch does not know.
	"INVALID_GATEWAY": OwnDialStringRefused,
	// sofia/PROFILE/… with a profile the switch does not run.
	"INVALID_PROFILE": OwnDialStringRefused,
	// The dial string lacks its destination (e.g. an empty number after the endpoint).
	"MANDATORY_IE_MISSING": OwnDialStringRefused,
	// The endpoint cannot place the kind of call asked for.
	"SERVICE_NOT_IMPLEMENTED": OwnDialStringRefused,
}

// OwnCause reports whether an originate's failure cause is ours rather than the customer's, and
// the reason a job stops for when such failures repeat (OwnSwitchUnavailable or
// OwnDialStringRefused). A cause that is not a cause name at all (upper-case letters, digits
// and underscores), such as the free text of an API error, is the switch refusing our command
// as written: ours too. Every other cause, known or not, and an empty one, is the customer's
// (Classify).
func OwnCause(cause string) (reason string, ours bool) {
	if r, ok := ownCauses[cause]; ok {
		return r, true
	}
	if cause != "" && !isCauseName(cause) {
		return OwnDialStringRefused, true
	}
	return "", false
}

// OwnFailure reads a bgapi originate's BACKGROUND_JOB body and reports whether it failed because
// of us (OwnCause): `+OK …` is no failure; `-ERR CAUSE` is ours for the causes of OwnCause; a
// body that is neither (`-USAGE: …`, anything else) means the switch did not take the command as
// an originate, which is ours. An `-ERR` without a cause is not ours: the switch tried the call
// and said no more (ParseJobResult reads it as UNKNOWN). Nor is an empty body: nothing says the
// switch did not place the call, and a call given back while its channel lives would be lost.
func OwnFailure(body []byte) (reason string, ours bool) {
	s := strings.TrimSpace(string(body))
	switch {
	case s == "", strings.HasPrefix(s, "+OK"):
		return "", false
	case strings.HasPrefix(s, "-ERR"):
		return OwnCause(strings.TrimSpace(s[len("-ERR"):]))
	}
	return OwnDialStringRefused, true
}

// isCauseName: the shape of a FreeSWITCH hangup cause, e.g. USER_BUSY.
func isCauseName(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
