package freeswitch_test

import (
	"testing"

	"github.com/kakeru-dialer/kakeru/freeswitch"
)

// ESL.md §3: every cause of the table, plus the answered and unknown cases.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		cause    string
		answered bool
		outcome  freeswitch.Outcome
		retry    string
	}{
		{"NORMAL_CLEARING", true, freeswitch.OutcomeConnected, freeswitch.RetryNever},
		{"ORIGINATOR_CANCEL", true, freeswitch.OutcomeConnected, freeswitch.RetryNever},
		{"NO_ANSWER", false, freeswitch.OutcomeNoAnswer, freeswitch.RetryLater},
		{"NO_USER_RESPONSE", false, freeswitch.OutcomeNoAnswer, freeswitch.RetryLater},
		{"RECOVERY_ON_TIMER_EXPIRE", false, freeswitch.OutcomeNoAnswer, freeswitch.RetryLater},
		{"PROGRESS_TIMEOUT", false, freeswitch.OutcomeNoAnswer, freeswitch.RetryLater},
		{"ALLOTTED_TIMEOUT", false, freeswitch.OutcomeNoAnswer, freeswitch.RetryLater},
		{"USER_BUSY", false, freeswitch.OutcomeBusy, freeswitch.RetryLater},
		{"CALL_REJECTED", false, freeswitch.OutcomeRejected, freeswitch.RetryNever},
		{"UNALLOCATED_NUMBER", false, freeswitch.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"NO_ROUTE_DESTINATION", false, freeswitch.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"INVALID_NUMBER_FORMAT", false, freeswitch.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"NUMBER_CHANGED", false, freeswitch.OutcomeInvalidNumber, freeswitch.RetryNever},
		{"NORMAL_TEMPORARY_FAILURE", false, freeswitch.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"NETWORK_OUT_OF_ORDER", false, freeswitch.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"NORMAL_CIRCUIT_CONGESTION", false, freeswitch.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"GATEWAY_DOWN", false, freeswitch.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"DESTINATION_OUT_OF_ORDER", false, freeswitch.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"ORIGINATOR_CANCEL", false, freeswitch.OutcomeCancelled, freeswitch.RetryNever},
		{"SOMETHING_NEW", false, freeswitch.OutcomeNetworkFailure, freeswitch.RetrySoon},
		{"", false, freeswitch.OutcomeNetworkFailure, freeswitch.RetrySoon},
	} {
		v := freeswitch.Classify(tc.cause, tc.answered)
		if v.Outcome != tc.outcome || v.Retry != tc.retry || v.Retryable() != (tc.retry != freeswitch.RetryNever) {
			t.Errorf("%s answered=%v: got %+v, want %s/%q", tc.cause, tc.answered, v, tc.outcome, tc.retry)
		}
	}
}
