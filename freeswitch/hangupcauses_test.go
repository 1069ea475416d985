package freeswitch_test

import (
	"testing"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/freeswitch"
)

// docs/event-socket.md §3: every cause of the table, plus the answered and unknown cases.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		cause    string
		answered bool
		outcome  domain.Outcome
		retry    string
	}{
		{"NORMAL_CLEARING", true, domain.OutcomeConnected, freeswitch.RetryNever},
		{"ORIGINATOR_CANCEL", true, domain.OutcomeConnected, freeswitch.RetryNever},
		{"NO_ANSWER", false, domain.OutcomeNoAnswer, freeswitch.RetryLater},
		{"NO_USER_RESPONSE", false, domain.OutcomeNoAnswer, freeswitch.RetryLater},
		{"RECOVERY_ON_TIMER_EXPIRE", false, domain.OutcomeNoAnswer, freeswitch.RetryLater},
		{"PROGRESS_TIMEOUT", false, domain.OutcomeNoAnswer, freeswitch.RetryLater},
		{"ALLOTTED_TIMEOUT", false, domain.OutcomeNoAnswer, freeswitch.RetryLater},
		{"USER_BUSY", false, domain.OutcomeBusy, freeswitch.RetryLater},
		{"CALL_REJECTED", false, domain.OutcomeRejected, freeswitch.RetryNever},
		{"UNALLOCATED_NUMBER", false, domain.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"NO_ROUTE_DESTINATION", false, domain.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"INVALID_NUMBER_FORMAT", false, domain.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"NUMBER_CHANGED", false, domain.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"NORMAL_TEMPORARY_FAILURE", false, domain.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"NETWORK_OUT_OF_ORDER", false, domain.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"NORMAL_CIRCUIT_CONGESTION", false, domain.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"GATEWAY_DOWN", false, domain.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"DESTINATION_OUT_OF_ORDER", false, domain.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"ORIGINATOR_CANCEL", false, domain.OutcomeCancelled, freeswitch.RetryNever},
		{"SOMETHING_NEW", false, domain.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"", false, domain.OutcomeNetworkFailure, freeswitch.RetrySoon},
	} {
		v := freeswitch.Classify(tc.cause, tc.answered)
		if v.Outcome != tc.outcome || v.Retry != tc.retry || v.Retryable() != (tc.retry != freeswitch.RetryNever) {
			t.Errorf("%s answered=%v: got %+v, want %s/%q", tc.cause, tc.answered, v, tc.outcome, tc.retry)
		}
	}
}

// Issue 11 item 5: the failures that are ours, not the customer's, never use a contact up; every
// customer-side cause of the table stays the customer's.
func TestOwnFailure(t *testing.T) {
	refused, down := freeswitch.OwnDialStringRefused, freeswitch.OwnSwitchUnavailable
	for _, tc := range []struct {
		body   string
		reason string // "" = not ours
	}{
		{"+OK 8a6d3c56-0f0b-4a47-9b8e-0c1b0d2e3f40\n", ""},
		{"+OK", ""},
		{"-ERR CHAN_NOT_IMPLEMENTED\n", refused},
		{"-ERR INVALID_GATEWAY\n", refused},
		{"-ERR MANDATORY_IE_MISSING\n", refused},
		{"-ERR INVALID_PROFILE\n", refused},
		{"-ERR SERVICE_NOT_IMPLEMENTED\n", refused},
		{"-ERR NO_NODE_CONNECTED", down},
		{"-ERR SYSTEM_SHUTDOWN\n", down},
		{"-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n", refused},
		{"-ERR originate Command not found!\n", refused}, // free text, not a cause
		{"Unknown command\n", refused},
		// The customer's side: the switch tried the number.
		{"-ERR USER_BUSY\n", ""},
		{"-ERR NO_ANSWER\n", ""},
		{"-ERR UNALLOCATED_NUMBER\n", ""},
		{"-ERR INVALID_NUMBER_FORMAT\n", ""},
		{"-ERR NORMAL_TEMPORARY_FAILURE\n", ""},
		{"-ERR GATEWAY_DOWN\n", ""},
		{"-ERR SOMETHING_NEW\n", ""},
		// Unsure: nothing says the call was not placed.
		{"-ERR\n", ""},
		{"", ""},
		{"\r\n", ""},
	} {
		reason, ours := freeswitch.OwnFailure([]byte(tc.body))
		if ours != (tc.reason != "") || reason != tc.reason {
			t.Errorf("OwnFailure(%q) = %q, %v; want %q", tc.body, reason, ours, tc.reason)
		}
	}
	for _, tc := range []struct{ cause, reason string }{
		{"CHAN_NOT_IMPLEMENTED", refused},
		{"INVALID_GATEWAY", refused},
		{"NO_NODE_CONNECTED", down},
		{"no reply", refused},
		{"USER_BUSY", ""},
		{"NO_USER_RESPONSE", ""},
		{"ORIGINATE_UNCONFIRMED", ""},
		{"", ""},
	} {
		reason, ours := freeswitch.OwnCause(tc.cause)
		if ours != (tc.reason != "") || reason != tc.reason {
			t.Errorf("OwnCause(%q) = %q, %v; want %q", tc.cause, reason, ours, tc.reason)
		}
	}
}
