//go:build lab

package labtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Numbers of the lab's customers context (scripts/freeswitch-lab-config.sh): each encodes its
// fate. seq keeps numbers unique in a list.

// Answering rings ring seconds (0-9), answers, talks talk seconds (0-999; 0 hangs up at the
// instant of answer) and hangs up: 08RTTTNNNNN.
func Answering(ring, talk, seq int) string {
	return fmt.Sprintf("08%d%03d%05d", ring, talk, seq%100000)
}

// Busy is USER_BUSY without answer.
func Busy(seq int) string { return fmt.Sprintf("0902%07d", seq%10000000) }

// NoAnswer rings until the originate times out.
func NoAnswer(seq int) string { return fmt.Sprintf("0903%07d", seq%10000000) }

// Unallocated is UNALLOCATED_NUMBER.
func Unallocated(seq int) string { return fmt.Sprintf("0904%07d", seq%10000000) }

// StaysUp answers at once and stays up (600 s) until hung up.
func StaysUp(seq int) string { return fmt.Sprintf("0905%07d", seq%10000000) }

// Rejected is CALL_REJECTED.
func Rejected(seq int) string { return fmt.Sprintf("0906%07d", seq%10000000) }

// TemporaryFailure is NORMAL_TEMPORARY_FAILURE.
func TemporaryFailure(seq int) string { return fmt.Sprintf("0907%07d", seq%10000000) }

// Person is a number answered by a person after ring seconds, who says "hello?" (0.6 s of
// speech-like tones) and stays on, silent, for talk seconds (scripts/freeswitch-lab-config.sh).
func Person(ring, talk, seq int) string {
	return fmt.Sprintf("0910%d%03d%04d", ring%10, talk%1000, seq%10000)
}

// Machine is a number answered by an answering machine after ring seconds: a 4 s greeting of
// speech-like tones, a 0.5 s beep of 1000 Hz, then 20 s of silence before it hangs up.
func Machine(ring, seq int) string { return fmt.Sprintf("0911%d%07d", ring%10, seq%10000000) }

// Silent is a number answered after ring seconds where nobody speaks for talk seconds.
func Silent(ring, talk, seq int) string {
	return fmt.Sprintf("0912%d%03d%04d", ring%10, talk%1000, seq%10000)
}

// MachineGreeting is how long after its answer a Machine number's beep starts.
const MachineGreeting = 4 * time.Second

// Fate is what a lab number does.
type Fate struct {
	Answers bool
	// Machine: an answering machine answers; Speaks: a person says a short greeting (Person);
	// an answering number with neither is silent (Silent, and the 08 numbers).
	Machine, Speaks bool
	Ring            int // seconds before answer
	Talk            int // seconds after answer (-1: stays up)
	Cause           string
}

// FateOf decodes a lab customer number.
func FateOf(tel string) Fate {
	switch {
	case len(tel) == 11 && strings.HasPrefix(tel, "08"):
		ring, _ := strconv.Atoi(tel[2:3])
		talk, _ := strconv.Atoi(tel[3:6])
		return Fate{Answers: true, Ring: ring, Talk: talk, Cause: "NORMAL_CLEARING"}
	case len(tel) == 12 && strings.HasPrefix(tel, "0910"), len(tel) == 12 && strings.HasPrefix(tel, "0912"):
		ring, _ := strconv.Atoi(tel[4:5])
		talk, _ := strconv.Atoi(tel[5:8])
		return Fate{Answers: true, Speaks: tel[3] == '0', Ring: ring, Talk: talk, Cause: "NORMAL_CLEARING"}
	case len(tel) == 12 && strings.HasPrefix(tel, "0911"):
		ring, _ := strconv.Atoi(tel[4:5])
		return Fate{Answers: true, Machine: true, Ring: ring, Talk: 24, Cause: "NORMAL_CLEARING"}
	case strings.HasPrefix(tel, "0902"):
		return Fate{Cause: "USER_BUSY"}
	case strings.HasPrefix(tel, "0903"):
		return Fate{Cause: "NO_ANSWER"}
	case strings.HasPrefix(tel, "0904"):
		return Fate{Cause: "UNALLOCATED_NUMBER"}
	case strings.HasPrefix(tel, "0905"):
		return Fate{Answers: true, Talk: -1, Cause: "NORMAL_CLEARING"}
	case strings.HasPrefix(tel, "0906"):
		return Fate{Cause: "CALL_REJECTED"}
	case strings.HasPrefix(tel, "0907"):
		return Fate{Cause: "NORMAL_TEMPORARY_FAILURE"}
	}
	return Fate{Cause: "NO_ROUTE_DESTINATION"}
}

// Outcomes are the attempt outcomes the engine may record for the number: an answering
// customer is connected or abandoned (which one, the switch decides: see Compare); the others
// have one outcome each (docs/event-socket.md §3).
func (f Fate) Outcomes() []string {
	if f.Machine {
		return []string{"machine"} // classified by the campaign's detector, never given an agent
	}
	if f.Answers {
		return []string{"connected", "abandoned"}
	}
	return []string{CauseOutcome(f.Cause)}
}

// CauseOutcome maps a hangup cause of an unanswered call to its outcome (docs/event-socket.md §3).
func CauseOutcome(cause string) string {
	switch cause {
	case "NO_ANSWER", "NO_USER_RESPONSE", "RECOVERY_ON_TIMER_EXPIRE", "PROGRESS_TIMEOUT", "ALLOTTED_TIMEOUT":
		return "no_answer"
	case "USER_BUSY":
		return "busy"
	case "CALL_REJECTED":
		return "rejected"
	case "UNALLOCATED_NUMBER", "NO_ROUTE_DESTINATION", "INVALID_NUMBER_FORMAT", "NUMBER_CHANGED":
		return "invalid_number"
	case "NORMAL_TEMPORARY_FAILURE", "NETWORK_OUT_OF_ORDER", "NORMAL_CIRCUIT_CONGESTION", "GATEWAY_DOWN", "DESTINATION_OUT_OF_ORDER":
		return "network_failure"
	case "ORIGINATOR_CANCEL":
		return "cancelled"
	}
	return "unknown cause " + cause
}
