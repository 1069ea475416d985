package engine

import "fmt"

// callState is where a customer call is in its life. Every change goes through (*call).to,
// which refuses the transitions the diagram does not have, so an event that comes late (or
// twice, or in an order the switch allows but we did not expect) cannot move a call backwards.
//
//	                 ┌───────────────────── hangup, or the originate's -ERR ─────────────────┐
//	                 │                                                                        ▼
//	callDialing ──answer──▶ callWaiting ──agent picked──▶ callConnecting ──joined──▶ callConnected ──hangup──▶ callEnded
//	     │                    ▲ │     ▲                        │      │                                         ▲
//	     │        person/unsure │     └── transfer refused ────┘      └──────────── hangup ─────────────────────┤
//	     │                    │ └── connect deadline ──▶ callAbandoning ──────────── hangup ─────────────────────┤
//	     └─answer (AMD)──▶ callClassifying ──machine──▶ callMachine ──────────────── hangup ─────────────────────┤
//	                          └──────────────────────────── hangup ──────────────────────────────────────────────┘
//
// callDialing: the originate is sent; the phone rings or the leg does not exist yet. Only here
// does the originate's BACKGROUND_JOB `-ERR` end the call: once the customer has answered,
// the switch answers `-ERR ORIGINATOR_CANCEL` for a leg moved before its originate returned
// (capture 11) and the call lives on until the channel's own hangup.
// callClassifying: answered in a campaign that classifies answers; the switch's detector runs
// and no agent is sought until its verdict (or the time limit: unsure, a person).
// callMachine: a machine answered and is being hung up, or waits for its beep to be left the
// campaign's voicemail message (analysis.go).
// callWaiting: answered (and classified as a person, or a machine for an agent), no agent
// yet; abandoned at the connect deadline, which counts from the verdict (P-2).
// callConnecting: an agent is reserved and the customer is being moved into its room.
// callConnected: the customer is in the agent's room (the switch's add-member): talk time
// counts from here.
// callAbandoning: no agent in time; the customer hears the abandon message and is hung up.
// callEnded: the channel's hangup was handled; the outcome is recorded once.
type callState uint8

const (
	callDialing callState = iota
	callWaiting
	callConnecting
	callConnected
	callAbandoning
	callEnded
	callClassifying
	callMachine
)

var callStateNames = [...]string{"dialing", "waiting", "connecting", "connected", "abandoning", "ended", "classifying", "machine"}

func (s callState) String() string {
	if int(s) < len(callStateNames) {
		return callStateNames[s]
	}
	return fmt.Sprintf("callState(%d)", s)
}

// callTransitions lists the states each state may move to.
var callTransitions = [...][]callState{
	callDialing:     {callWaiting, callClassifying, callEnded},
	callClassifying: {callWaiting, callMachine, callEnded},
	callMachine:     {callEnded},
	callWaiting:     {callConnecting, callAbandoning, callEnded},
	callConnecting:  {callConnected, callWaiting, callEnded},
	callConnected:   {callEnded},
	callAbandoning:  {callEnded},
	callEnded:       nil,
}

// toLocked moves the call to s and reports whether that transition exists. Caller holds Engine.mu.
func (c *call) toLocked(s callState) bool {
	for _, next := range callTransitions[c.state] {
		if next == s {
			c.state = s
			return true
		}
	}
	return false
}

// live: the call has not ended.
func (c *call) live() bool { return c.state != callEnded }

// waitingForAgent: answered and not yet given to an agent (nor abandoned).
func (c *call) waitingForAgent() bool { return c.state == callWaiting }
