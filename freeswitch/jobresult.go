package freeswitch

import (
	"fmt"
	"strings"
)

// OriginateError is an originate the switch refused or that failed before the leg existed: the
// BACKGROUND_JOB answered `-ERR CAUSE`. Nothing may dial the attempt again blindly: its outcome
// comes from the cause.
type OriginateError struct {
	Cause string // e.g. USER_BUSY, or the switch's free text
}

func (e *OriginateError) Error() string { return "originate failed: " + e.Cause }

// Verdict classifies the failure; the leg was never answered.
func (e *OriginateError) Verdict() Verdict { return Classify(e.Cause, false) }

// ParseJobResult reads a bgapi originate's BACKGROUND_JOB body: `+OK <uuid>` gives the channel
// UUID, `-ERR CAUSE` an *OriginateError.
func ParseJobResult(body []byte) (string, error) {
	s := strings.TrimRight(string(body), "\r\n")
	switch {
	case strings.HasPrefix(s, "+OK "):
		id := strings.TrimSpace(s[4:])
		if err := checkUUID("channel", id); err != nil {
			return "", fmt.Errorf("job result %q: %w", s, err)
		}
		return id, nil
	case strings.HasPrefix(s, "-ERR"):
		cause := strings.TrimSpace(s[4:])
		if cause == "" {
			cause = "UNKNOWN"
		}
		return "", &OriginateError{Cause: cause}
	}
	return "", fmt.Errorf("job result %q: neither +OK nor -ERR", s)
}

// OriginateResult is what a bgapi originate's BACKGROUND_JOB body says, read once where the body
// arrives (ParseOriginateResult).
type OriginateResult struct {
	// UUID is the channel when the switch placed the call (`+OK <uuid>`, ParseJobResult), else "".
	UUID string
	// Own is why the failure is ours, not the customer's (OwnSwitchUnavailable or
	// OwnDialStringRefused, by OwnFailure), else "".
	Own string
	// Cause is the failure's hangup cause: the text after -ERR ("" when the switch gave none).
	// A body that is no -ERR at all is kept whole, so that the attempt shows what the switch said.
	Cause string
}

// Placed reports whether the switch placed the call.
func (r OriginateResult) Placed() bool { return r.UUID != "" }

// ParseOriginateResult reads a bgapi originate's BACKGROUND_JOB body: placed, failed because
// of us, or failed with the cause the customer's side gave.
func ParseOriginateResult(body []byte) OriginateResult {
	if id, err := ParseJobResult(body); err == nil {
		return OriginateResult{UUID: id}
	}
	r := OriginateResult{Cause: strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(body)), "-ERR"))}
	r.Own, _ = OwnFailure(body)
	return r
}
