//go:build lab

package labtest

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Attempt is one row of the attempts table (store/migrations): what the engine recorded of one
// originate towards a contact.
type Attempt struct {
	ID           int64
	Tel          string
	ChannelUUID  string
	AgentID      int // 0: none
	Outcome      string
	HangupCause  string
	StartedAt    time.Time
	AnsweredAt   time.Time // zero: not answered
	BridgedAt    time.Time // zero: never with an agent
	EndedAt      time.Time // zero: not ended
	TalkSeconds  int       // -1: none
	AgentDropped bool
	// The answer's verdict (P-3) and the recording, when the campaign has them.
	AMDResult, AMDDetail string
	AMDMillis            int // -1: none
	MachineAction        string
	VoicemailAt          time.Time // zero: no voicemail message
	RecordingPath        string
	RecordingMillis      int   // -1: none
	RecordingBytes       int64 // -1: none
}

// Talk is the recorded talk time: bridged_at to ended_at.
func (a Attempt) Talk() time.Duration {
	if a.BridgedAt.IsZero() || a.EndedAt.IsZero() {
		return 0
	}
	return a.EndedAt.Sub(a.BridgedAt)
}

func (a Attempt) String() string {
	s := fmt.Sprintf("attempt %d tel %s channel %s outcome %s cause %q", a.ID, a.Tel, a.ChannelUUID, a.Outcome, a.HangupCause)
	if a.AgentID != 0 {
		s += fmt.Sprintf(" agent %d", a.AgentID)
	}
	if !a.AnsweredAt.IsZero() {
		s += " answered +" + a.AnsweredAt.Sub(a.StartedAt).Round(time.Millisecond).String()
	}
	if !a.BridgedAt.IsZero() {
		s += " bridged +" + a.BridgedAt.Sub(a.StartedAt).Round(time.Millisecond).String()
	}
	if !a.EndedAt.IsZero() {
		s += " ended +" + a.EndedAt.Sub(a.StartedAt).Round(time.Millisecond).String()
	}
	if a.TalkSeconds >= 0 {
		s += fmt.Sprintf(" talk %ds", a.TalkSeconds)
	}
	if a.AMDResult != "" {
		s += fmt.Sprintf(" amd %s/%s in %dms", a.AMDResult, a.AMDDetail, a.AMDMillis)
	}
	if a.RecordingPath != "" {
		s += fmt.Sprintf(" recording %s %dms %dB", a.RecordingPath, a.RecordingMillis, a.RecordingBytes)
	}
	return s
}

// Attempts reads the attempts of a call job, in id order.
func (in *Instance) Attempts(ctx context.Context, job int64) ([]Attempt, error) {
	rows, err := in.DB.QueryContext(ctx, `SELECT id, tel, channel_uuid::text, agent_id, outcome, hangup_cause,
		started_at, answered_at, bridged_at, ended_at, talk_seconds, agent_dropped,
		COALESCE(amd_result, ''), amd_detail, COALESCE(amd_ms, -1), COALESCE(machine_action, ''), voicemail_at,
		COALESCE(recording_path, ''), COALESCE(recording_ms, -1), COALESCE(recording_bytes, -1)
		FROM attempts WHERE call_job_id = $1 ORDER BY id`, job)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var agent, talk sql.NullInt64
		var answered, bridged, ended, voicemail sql.NullTime
		if err := rows.Scan(&a.ID, &a.Tel, &a.ChannelUUID, &agent, &a.Outcome, &a.HangupCause,
			&a.StartedAt, &answered, &bridged, &ended, &talk, &a.AgentDropped,
			&a.AMDResult, &a.AMDDetail, &a.AMDMillis, &a.MachineAction, &voicemail,
			&a.RecordingPath, &a.RecordingMillis, &a.RecordingBytes); err != nil {
			return nil, err
		}
		a.VoicemailAt = voicemail.Time
		a.AgentID = int(agent.Int64)
		a.AnsweredAt, a.BridgedAt, a.EndedAt = answered.Time, bridged.Time, ended.Time
		a.TalkSeconds = -1
		if talk.Valid {
			a.TalkSeconds = int(talk.Int64)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// WaitAttempts polls until the job has at least n attempts and none is in progress.
func (in *Instance) WaitAttempts(ctx context.Context, job int64, n int) ([]Attempt, error) {
	return in.WaitAttemptsOrStall(ctx, job, n, 0)
}

// WaitAttemptsOrStall is WaitAttempts that also gives up once nothing has changed (no new
// attempt, none ended) for stall (0: never).
func (in *Instance) WaitAttemptsOrStall(ctx context.Context, job int64, n int, stall time.Duration) ([]Attempt, error) {
	var last []Attempt
	lastOpen, lastCount, changed := -1, -1, time.Now()
	for {
		as, err := in.Attempts(ctx, job)
		open := 0
		if err == nil {
			last = as
			for _, a := range as {
				if a.Outcome == "in_progress" {
					open++
				}
			}
			if len(as) >= n && open == 0 {
				return as, nil
			}
			if open != lastOpen || len(as) != lastCount {
				lastOpen, lastCount, changed = open, len(as), time.Now()
			}
		}
		why := error(nil)
		if stall > 0 && time.Since(changed) > stall {
			why = fmt.Errorf("nothing changed for %v", stall)
		}
		if why == nil {
			select {
			case <-ctx.Done():
				why = ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		if why != nil {
			return last, fmt.Errorf("job %d: %d attempts (%d in progress), waited for %d ended: %w", job, len(last), lastOpen, n, why)
		}
	}
}
