// Package liveevents carries the live events of S-1 (agent states, call transitions, job states
// and counts) from every engine instance to every API instance, through one Redis stream.
//
// Why a stream and not pub/sub: an SSE client that reconnects sends the id of the last event it
// saw (Last-Event-ID) and must receive exactly the events it missed. A Redis stream gives every
// event an id that orders it among all instances' events, keeps the history (XADD … MINID trims
// only entries older than the retention, so at least that much is always there) and reads
// "everything after id X" in one XRANGE. Pub/sub would need a second structure for the history
// and could not tell which pushed messages the history already holds.
//
// Layout: the stream kakeru:events (configurable); each entry has one field "e", the event as
// JSON. The entry id is the event id, and the SSE id.
package liveevents

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The event types of docs/ui-guide.md "Live events".
const (
	AgentState    = "agent_state"
	CallOffered   = "call_offered" // a customer answered and is offered to the job's agents
	CallConnected = "call_connected"
	CallEnded     = "call_ended"
	JobState      = "job_state"
	JobCounts     = "job_counts"
	// The agent's desk (issue 16): a preview shown or skipped; the customer held and resumed; a
	// third party (consult, blind transfer, conference) ringing, joined, gone; a transfer
	// completed or failed; a consult's swap. Each names the agent and the attempt.
	PreviewOffered    = "preview_offered"
	PreviewSkipped    = "preview_skipped"
	CallHeld          = "call_held"
	CallResumed       = "call_resumed"
	PartyRinging      = "party_ringing"
	PartyJoined       = "party_joined"
	PartyLeft         = "party_left"
	ConsultSwapped    = "consult_swapped"
	TransferCompleted = "transfer_completed"
	TransferFailed    = "transfer_failed"
	// DialRefused: an agent's manual dial was not placed (data.reason).
	DialRefused = "dial_refused"
)

// DefaultKey is the stream every instance writes and reads.
const DefaultKey = "kakeru:events"

// DefaultRetention is how much history the stream keeps at least: a client away for less than
// this resumes without a gap.
const DefaultRetention = 10 * time.Minute

// Event is one live event. CampaignID, CallJobID and AgentID say whom it concerns: the API
// filters on them by the caller's role and the request's filters.
type Event struct {
	ID         string         `json:"-"` // the stream entry id, set when read
	Type       string         `json:"type"`
	At         time.Time      `json:"at"`
	CampaignID int            `json:"campaign_id,omitempty"`
	CallJobID  int64          `json:"call_job_id,omitempty"`
	AgentID    int            `json:"agent_id,omitempty"`
	Data       map[string]any `json:"data,omitempty"`
}

func (e Event) encode() string {
	b, _ := json.Marshal(e)
	return string(b)
}

func decode(id string, values map[string]any) (Event, error) {
	raw, _ := values["e"].(string)
	var e Event
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return Event{}, fmt.Errorf("event %s: %w", id, err)
	}
	e.ID = id
	return e, nil
}

// ID is a parsed stream entry id: milliseconds and a sequence number.
type ID struct{ Ms, Seq uint64 }

// ParseID reads "1700000000000-3" (or "1700000000000", sequence 0).
func ParseID(s string) (ID, bool) {
	ms, seq, hasSeq := strings.Cut(s, "-")
	var id ID
	var err error
	if id.Ms, err = strconv.ParseUint(ms, 10, 64); err != nil {
		return ID{}, false
	}
	if hasSeq {
		if id.Seq, err = strconv.ParseUint(seq, 10, 64); err != nil {
			return ID{}, false
		}
	}
	return id, true
}

// After reports whether id comes after o in the stream.
func (id ID) After(o ID) bool { return id.Ms > o.Ms || id.Ms == o.Ms && id.Seq > o.Seq }

func (id ID) String() string {
	return strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10)
}
