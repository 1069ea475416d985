package engine

import (
	"context"
	"time"

	"github.com/kakeru-dialer/kakeru/agentstate"
	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/liveevents"
	"github.com/kakeru-dialer/kakeru/store"
)

// Events receives the engine's live events (S-1). Publish is called under the engine's lock, in
// the order things happened, and must not block.
type Events interface {
	Publish(liveevents.Event)
}

// liveCounts remembers the job counts last published, to publish only changes.
type liveCounts struct {
	passes int
	last   map[int64]store.RunCounts
}

// countsEvery is how often (in loop passes) the counts of owned jobs are read and published.
func (e *Engine) countsEvery() int { return max(1, int(time.Second/e.o.Tick)) }

func (e *Engine) emit(ev liveevents.Event) {
	if e.o.Events == nil {
		return
	}
	if ev.At.IsZero() {
		ev.At = e.o.Now()
	}
	e.o.Events.Publish(ev)
}

// agentStateEventLocked publishes an agent's state as written to Redis (G-6). Caller holds e.mu.
func (e *Engine) agentStateEventLocked(j *job, st agentstate.Agent) {
	ev := liveevents.Event{Type: liveevents.AgentState, AgentID: st.ID, CallJobID: st.CallJobID,
		Data: map[string]any{"state": st.State, "since": st.Since}}
	if j != nil {
		ev.CampaignID, ev.CallJobID = j.campaign, j.id
	}
	if st.AttemptID != 0 {
		ev.Data["attempt_id"] = st.AttemptID
	}
	if st.Message != "" {
		ev.Data["message"] = st.Message
	}
	e.emit(ev)
}

// callEventLocked publishes a customer call's transition: offered (answered, waiting for an agent),
// connected (bridged), ended (with its outcome). Caller holds e.mu.
func (e *Engine) callEventLocked(j *job, c *call, typ string, extra map[string]any) {
	data := map[string]any{"attempt_id": c.attemptID, "contact_id": c.contactID, "tel": c.tel}
	if c.answered != nil {
		data["answered_at"] = *c.answered
	}
	if typ == liveevents.CallOffered || typ == liveevents.CallConnected {
		// Screen-pop: who is on the line, without a round trip (only the call's agent, its
		// supervisors and admins see these events).
		card := map[string]any{"id": c.contactID, "name": c.card.Name, "kana": c.card.Kana, "tel": c.card.Tel,
			"remarks": c.card.Remarks, "previous_attempts": c.card.PreviousAttempts, "last_outcome": nil, "last_attempt_at": nil}
		if c.card.LastOutcome != "" {
			card["last_outcome"] = c.card.LastOutcome
		}
		if c.card.LastAttemptAt != nil {
			card["last_attempt_at"] = *c.card.LastAttemptAt
		}
		data["contact"] = card
	}
	for k, v := range extra {
		data[k] = v
	}
	ev := liveevents.Event{Type: typ, CampaignID: j.campaign, CallJobID: j.id, Data: data}
	if c.agent != nil {
		ev.AgentID = c.agent.id
	}
	e.emit(ev)
}

// jobStateEvent publishes that a job runs here, or stopped.
func (e *Engine) jobStateEvent(j *job, status domain.JobStatus) {
	e.emit(liveevents.Event{Type: liveevents.JobState, CampaignID: j.campaign, CallJobID: j.id,
		Data: map[string]any{"status": status}})
}

// publishCounts reads the run counts of the owned jobs about once a second and publishes those
// that changed.
func (e *Engine) publishCounts(ctx context.Context, jobs []*job) {
	if e.o.Events == nil {
		return
	}
	e.live.passes++
	if (e.live.passes-1)%e.countsEvery() != 0 {
		return
	}
	if e.live.last == nil {
		e.live.last = map[int64]store.RunCounts{}
	}
	seen := map[int64]bool{}
	for _, j := range jobs {
		seen[j.id] = true
		c, err := e.o.Store.JobRunCounts(ctx, j.id)
		if err != nil {
			continue
		}
		if last, ok := e.live.last[j.id]; ok && last == c {
			continue
		}
		e.live.last[j.id] = c
		e.emit(liveevents.Event{Type: liveevents.JobCounts, CampaignID: j.campaign, CallJobID: j.id,
			Data: map[string]any{"dialed": c.Dialed, "in_progress": c.InProgress, "answered": c.Answered,
				"connected": c.Connected, "abandoned": c.Abandoned, "remaining": c.Remaining}})
	}
	for id := range e.live.last {
		if !seen[id] {
			delete(e.live.last, id)
		}
	}
}
