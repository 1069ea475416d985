package agentstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/kakeru-dialer/kakeru/domain"
)

// Request is something asked of an agent's session through the API, on whichever instance
// received it; the instance that owns the agent's call job carries it out (G-1..G-4).
type Request struct {
	AgentID int                `json:"agent_id"`
	Kind    domain.RequestKind `json:"kind"`
	State   domain.AgentState  `json:"state,omitempty"` // for RequestState: available, break or away
	// By is the user who asked (the agent itself, or a supervisor or admin acting for it):
	// recorded on the attempt's steps.
	By string `json:"by,omitempty"`
	// AttemptID is the preview a RequestPreviewDial or RequestPreviewSkip is about: a request
	// for a preview the agent no longer has is ignored.
	AttemptID int64 `json:"attempt_id,omitempty"`
	// Reason is a RequestPreviewSkip's reason code (the campaign's preview.skip_reasons).
	Reason string `json:"reason,omitempty"`
	// Tel and CallerID are a RequestManualDial's number (digits) and caller ID.
	Tel      string `json:"tel,omitempty"`
	CallerID string `json:"caller_id,omitempty"`
	// Target is a RequestTransfer's or RequestConference's; Blind makes a RequestTransfer a blind
	// transfer rather than a consult.
	Target *Target `json:"target,omitempty"`
	Blind  bool    `json:"blind,omitempty"`
}

func requestsKey(jobID int64) string {
	return "kakeru:job:" + strconv.FormatInt(jobID, 10) + ":requests"
}

// Push queues a request for the owner of the job.
func (s *Store) Push(ctx context.Context, jobID int64, r Request) error {
	b, _ := json.Marshal(r)
	if err := s.rdb.RPush(ctx, requestsKey(jobID), b).Err(); err != nil {
		return fmt.Errorf("queue agent request: %w", err)
	}
	return nil
}

// Take removes and returns up to n queued requests of a job, oldest first.
func (s *Store) Take(ctx context.Context, jobID int64, n int) ([]Request, error) {
	vals, err := s.rdb.LPopCount(ctx, requestsKey(jobID), n).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("take agent requests of job %d: %w", jobID, err)
	}
	out := make([]Request, 0, len(vals))
	for _, v := range vals {
		var r Request
		if json.Unmarshal([]byte(v), &r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}
