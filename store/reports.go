package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/lib/pq"

	"github.com/kakeru-dialer/kakeru/domain"
)

// Reports (S-4) are computed in SQL over attempts and their dispositions. Every
// number counts the attempts whose started_at falls in the range of their campaign: a call that
// starts at 23:59 and ends at 00:01 belongs to the day it started.

// ReportRange is the half-open interval [From, To) of one campaign in a report, and the
// campaign's IANA time zone, in which days (by_day, CSV times) are told.
type ReportRange struct {
	CampaignID int
	TimeZone   string
	From, To   time.Time
}

// ReportFilter selects the attempts of a report. Only campaigns with a range are reported; the
// other filters narrow further (0 or nil: any).
type ReportFilter struct {
	Ranges    []ReportRange
	BatchID   int64
	CallJobID int64
	AgentID   *int
	// SessionGap bounds the wait of an agent between two calls: a longer gap means the agent
	// was logged off between them (G-5's idle limit), so it is not counted as waiting.
	SessionGap time.Duration
}

// OutcomeCounts are attempts by outcome (P-3).
type OutcomeCounts struct {
	Dialed         int `db:"dialed" json:"dialed"`
	Connected      int `db:"connected" json:"connected"`
	Abandoned      int `db:"abandoned" json:"abandoned"`
	Machine        int `db:"machine" json:"machine"`
	NoAnswer       int `db:"no_answer" json:"no_answer"`
	Busy           int `db:"busy" json:"busy"`
	Rejected       int `db:"rejected" json:"rejected"`
	InvalidNumber  int `db:"invalid_number" json:"invalid_number"`
	NetworkFailure int `db:"network_failure" json:"network_failure"`
	Cancelled      int `db:"cancelled" json:"cancelled"`
	InProgress     int `db:"in_progress" json:"in_progress"`
	// Connected calls whose disposition is not saved (yet, or ever: D-3).
	NoDisposition int `db:"no_disposition" json:"no_disposition"`
}

// Answered is the live answers: connected plus abandoned (P-2); machines are not people.
func (c OutcomeCounts) Answered() int { return c.Connected + c.Abandoned }

// AbandonRate is abandoned / answered by a person (P-2), or nil when nobody answered.
func (c OutcomeCounts) AbandonRate() *float64 {
	if c.Answered() == 0 {
		return nil
	}
	r := float64(c.Abandoned) / float64(c.Answered())
	return &r
}

// ResultCodeCount is how many dispositions of a campaign chose a result code.
type ResultCodeCount struct {
	CampaignID int    `db:"campaign_id"`
	Code       string `db:"result_code"`
	Count      int    `db:"n"`
}

// AgentTimes are an agent's calls and times in a report, in seconds, with how many calls each
// sum covers, so that averages are sum / count.
type AgentTimes struct {
	AgentID     int     `db:"agent_id"`
	Calls       int     `db:"calls"`
	TalkSeconds float64 `db:"talk_seconds"`
	TalkCount   int     `db:"talk_count"`
	WaitSeconds float64 `db:"wait_seconds"`
	WaitCount   int     `db:"wait_count"`
	WrapSeconds float64 `db:"wrap_seconds"`
	WrapCount   int     `db:"wrap_count"`
}

// DayCounts are one campaign's counts on one day of its zone.
type DayCounts struct {
	CampaignID int  `db:"campaign_id"`
	Day        Date `db:"day"`
	OutcomeCounts
}

// ReportSummary is the summary report of S-4.
type ReportSummary struct {
	Totals      OutcomeCounts
	ByCampaign  []DayCounts // Day unset: the campaign's totals
	ByDay       []DayCounts
	ResultCodes []ResultCodeCount
	Agents      []AgentTimes
	Desk        DeskCounts
}

// DeskCounts are the agent's desk in a report (issue 16), over the attempts of the range.
type DeskCounts struct {
	ManualDials  int `db:"manual_dials" json:"manual_dials"`   // attempts an agent dialed by hand
	PreviewDials int `db:"preview_dials" json:"preview_dials"` // previews dialed (by the agent or the time limit)
	// PreviewSkips are the previews skipped, by the campaign's reason code (the attempts
	// themselves, skipped, are in no other count); never nil.
	PreviewSkips       map[string]int `db:"-" json:"preview_skips"`
	Holds              int            `db:"holds" json:"holds"`                             // hold steps
	TransfersCompleted int            `db:"transfers_completed" json:"transfers_completed"` // transferred steps (blind or completed consult)
	Conferences        int            `db:"conferences" json:"conferences"`                 // conference_joined steps: a third party in the room
}

// reportScope is the common table expression every report query starts from: the campaigns'
// ranges, and sel, the attempts in them. Arguments $1..$7. Skipped attempts (N-1) were never
// dialed: no report counts them.
const reportScope = `WITH r AS (
	SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS r(campaign_id, tz, t_from, t_to)
), sel AS (
	SELECT a.*, r.tz FROM attempts a JOIN r ON r.campaign_id = a.campaign_id
	WHERE a.started_at >= r.t_from AND a.started_at < r.t_to AND a.outcome <> 'skipped'
	  AND ($5::bigint = 0 OR a.batch_id = $5) AND ($6::bigint = 0 OR a.call_job_id = $6) AND ($7::int IS NULL OR a.agent_id = $7)
)`

const outcomeColumns = `count(*) AS dialed,
	count(*) FILTER (WHERE s.outcome = 'connected') AS connected,
	count(*) FILTER (WHERE s.outcome = 'abandoned') AS abandoned,
	count(*) FILTER (WHERE s.outcome = 'machine') AS machine,
	count(*) FILTER (WHERE s.outcome = 'no_answer') AS no_answer,
	count(*) FILTER (WHERE s.outcome = 'busy') AS busy,
	count(*) FILTER (WHERE s.outcome = 'rejected') AS rejected,
	count(*) FILTER (WHERE s.outcome = 'invalid_number') AS invalid_number,
	count(*) FILTER (WHERE s.outcome = 'network_failure') AS network_failure,
	count(*) FILTER (WHERE s.outcome = 'cancelled') AS cancelled,
	count(*) FILTER (WHERE s.outcome = 'in_progress') AS in_progress,
	count(*) FILTER (WHERE s.outcome = 'connected' AND d.attempt_id IS NULL) AS no_disposition`

func (f ReportFilter) args() ([]any, error) {
	ids := make(pq.Int64Array, len(f.Ranges))
	zones := make(pq.StringArray, len(f.Ranges))
	from := make(pq.StringArray, len(f.Ranges))
	to := make(pq.StringArray, len(f.Ranges))
	for i, r := range f.Ranges {
		if r.TimeZone == "" || !r.From.Before(r.To) {
			return nil, fmt.Errorf("report range of campaign %d: zone %q, [%s, %s)", r.CampaignID, r.TimeZone, r.From, r.To)
		}
		ids[i], zones[i] = int64(r.CampaignID), r.TimeZone
		from[i], to[i] = r.From.UTC().Format(time.RFC3339Nano), r.To.UTC().Format(time.RFC3339Nano)
	}
	return []any{ids, zones, from, to, f.BatchID, f.CallJobID, f.AgentID}, nil
}

// ReportSummary computes the S-4 summary: counts by outcome (in total, per campaign and per day
// of each campaign's zone), dispositions by result code, and per agent the calls handled and
// the talk, wait and wrap-up times.
//
// Talk time is the attempt's talk_seconds (bridge to hang-up). Wrap-up is the disposition's
// saved_at − the call's ended_at, for dispositions saved before the call became an unsaved
// disposition (D-3): one completed later, by anyone, measures the backlog, not the agent's
// wrap-up. Wait is the time an agent was ready but without a customer: from the moment it was
// ready after its previous call in the same call job (the disposition's saved_at as above, else
// the call's end) to the bridging of the next call. The database keeps no history of agent
// states, so a gap longer than SessionGap is taken as a new session (the agent left or was
// logged off) and not counted, and a break or away inside a shorter gap counts as waiting. A
// call's wait is counted with that call, in the range its start falls in; the previous call
// may lie before the range.
func (s *Store) ReportSummary(ctx context.Context, f ReportFilter) (ReportSummary, error) {
	var out ReportSummary
	args, err := f.args()
	if err != nil {
		return out, err
	}
	out.Desk.PreviewSkips = map[string]int{}
	if len(f.Ranges) == 0 {
		return out, nil
	}
	if err := s.db.GetContext(ctx, &out.Totals, reportScope+` SELECT `+outcomeColumns+`
		FROM sel s LEFT JOIN dispositions d ON d.attempt_id = s.id`, args...); err != nil {
		return out, fmt.Errorf("report totals: %w", err)
	}
	out.ByCampaign = []DayCounts{}
	if err := s.db.SelectContext(ctx, &out.ByCampaign, reportScope+` SELECT s.campaign_id, `+outcomeColumns+`
		FROM sel s LEFT JOIN dispositions d ON d.attempt_id = s.id GROUP BY 1 ORDER BY 1`, args...); err != nil {
		return out, fmt.Errorf("report by campaign: %w", err)
	}
	out.ByDay = []DayCounts{}
	if err := s.db.SelectContext(ctx, &out.ByDay, reportScope+` SELECT s.campaign_id, (s.started_at AT TIME ZONE s.tz)::date AS day,
		`+outcomeColumns+` FROM sel s LEFT JOIN dispositions d ON d.attempt_id = s.id GROUP BY 1, 2 ORDER BY 1, 2`, args...); err != nil {
		return out, fmt.Errorf("report by day: %w", err)
	}
	out.ResultCodes = []ResultCodeCount{}
	if err := s.db.SelectContext(ctx, &out.ResultCodes, reportScope+` SELECT s.campaign_id, d.result_code, count(*) AS n
		FROM sel s JOIN dispositions d ON d.attempt_id = s.id GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2`, args...); err != nil {
		return out, fmt.Errorf("report result codes: %w", err)
	}
	gap := f.SessionGap
	if gap <= 0 {
		gap = time.Hour
	}
	out.Agents = []AgentTimes{}
	// calls are the agent's bridged calls that end (or are saved) late enough to precede a call
	// of the range within the gap, so that LAG finds the previous call of a range's first one.
	err = s.db.SelectContext(ctx, &out.Agents, `WITH r AS (
			SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS r(campaign_id, tz, t_from, t_to)
		), calls AS (
			SELECT a.id, a.agent_id, a.started_at, a.bridged_at, a.ended_at, a.talk_seconds, r.t_from, w.saved_at AS wrapped_at,
				LAG(COALESCE(w.saved_at, a.ended_at)) OVER (PARTITION BY a.agent_id, a.call_job_id ORDER BY a.bridged_at, a.id) AS prev_ready
			FROM attempts a JOIN r ON r.campaign_id = a.campaign_id
			LEFT JOIN dispositions d ON d.attempt_id = a.id
			CROSS JOIN LATERAL (SELECT CASE WHEN d.saved_at <= COALESCE(a.disposition_due_at, 'infinity') THEN d.saved_at END AS saved_at) w
			WHERE a.agent_id IS NOT NULL AND a.bridged_at IS NOT NULL AND a.started_at < r.t_to
			  AND COALESCE(GREATEST(a.ended_at, d.saved_at), 'infinity') >= r.t_from - $8::float8 * interval '1 second'
			  AND ($5::bigint = 0 OR a.batch_id = $5) AND ($6::bigint = 0 OR a.call_job_id = $6) AND ($7::int IS NULL OR a.agent_id = $7)
		), waits AS (
			SELECT c.*, CASE WHEN c.bridged_at >= c.prev_ready AND c.bridged_at - c.prev_ready <= $8::float8 * interval '1 second'
				THEN extract(epoch FROM c.bridged_at - c.prev_ready) END AS wait
			FROM calls c WHERE c.started_at >= c.t_from
		)
		SELECT agent_id, count(*) AS calls,
			COALESCE(sum(talk_seconds), 0) AS talk_seconds, count(talk_seconds) AS talk_count,
			COALESCE(sum(wait), 0) AS wait_seconds, count(wait) AS wait_count,
			COALESCE(sum(extract(epoch FROM wrapped_at - ended_at)) FILTER (WHERE wrapped_at >= ended_at), 0) AS wrap_seconds,
			count(*) FILTER (WHERE wrapped_at >= ended_at) AS wrap_count
		FROM waits GROUP BY agent_id ORDER BY agent_id`, append(args, gap.Seconds())...)
	if err != nil {
		return out, fmt.Errorf("report agents: %w", err)
	}
	if out.Desk, err = s.reportDesk(ctx, args); err != nil {
		return out, err
	}
	return out, nil
}

// reportDesk counts the desk's dials and steps over sel, and the preview skips (left out of
// sel, like every skipped attempt) over the same ranges and filters.
func (s *Store) reportDesk(ctx context.Context, args []any) (DeskCounts, error) {
	var d DeskCounts
	if err := s.db.GetContext(ctx, &d, reportScope+` SELECT
			count(*) FILTER (WHERE s.dial_kind = 'manual') AS manual_dials,
			count(*) FILTER (WHERE s.dial_kind = 'preview' AND s.dialed_at IS NOT NULL) AS preview_dials,
			COALESCE(sum(st.holds), 0) AS holds, COALESCE(sum(st.transferred), 0) AS transfers_completed,
			COALESCE(sum(st.joined), 0) AS conferences
		FROM sel s LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE kind = 'hold') AS holds,
				count(*) FILTER (WHERE kind = 'transferred') AS transferred,
				count(*) FILTER (WHERE kind = 'conference_joined') AS joined
			FROM attempt_steps WHERE attempt_id = s.id) st ON true`, args...); err != nil {
		return d, fmt.Errorf("report desk: %w", err)
	}
	var skips []struct {
		Reason string `db:"reason"`
		N      int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &skips, `WITH r AS (
			SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS r(campaign_id, tz, t_from, t_to)
		) SELECT substr(a.skip_reason, 9) AS reason, count(*) AS n FROM attempts a JOIN r ON r.campaign_id = a.campaign_id
		WHERE a.started_at >= r.t_from AND a.started_at < r.t_to AND a.outcome = 'skipped' AND a.skip_reason LIKE 'preview:%'
		  AND ($5::bigint = 0 OR a.batch_id = $5) AND ($6::bigint = 0 OR a.call_job_id = $6) AND ($7::int IS NULL OR a.agent_id = $7)
		GROUP BY 1 ORDER BY 1`, args...); err != nil {
		return d, fmt.Errorf("report preview skips: %w", err)
	}
	d.PreviewSkips = make(map[string]int, len(skips))
	for _, k := range skips {
		d.PreviewSkips[k.Reason] = k.N
	}
	return d, nil
}

// ResultRow is one attempt of the results export, with its disposition when saved.
type ResultRow struct {
	AttemptID   int64            `db:"id"`
	StartedAt   time.Time        `db:"started_at"`
	TimeZone    string           `db:"tz"`
	CampaignID  int              `db:"campaign_id"`
	BatchID     int64            `db:"batch_id"`
	BatchName   string           `db:"batch_name"`
	CallJobID   *int64           `db:"call_job_id"`
	CallJobName *string          `db:"call_job_name"`
	Tel         string           `db:"tel"`
	Name        *string          `db:"name"`
	Outcome     domain.Outcome   `db:"outcome"`
	HangupCause string           `db:"hangup_cause"`
	AgentID     *int             `db:"agent_id"`
	TalkSeconds *int             `db:"talk_seconds"`
	Party       *string          `db:"party"`
	ResultCode  *string          `db:"result_code"`
	NextAction  *domain.NextStep `db:"next_action"`
	CallbackAt  *time.Time       `db:"callback_at"`
	Memo        *string          `db:"memo"`
	// Issue 15: the answer's classification and the recording's length (nil when not recorded
	// or its end not stored yet).
	AMDResult     *string `db:"amd_result"`
	MachineAction *string `db:"machine_action"`
	RecordingMs   *int    `db:"recording_ms"`
	// Issue 16: how the attempt was dialed, and its steps, oldest first.
	DialKind domain.DialKind `db:"dial_kind"`
	Steps    StepList        `db:"steps"`
}

// StepList is an attempt's steps as one column (a JSON array built by the query).
type StepList []AttemptStep

// Scan reads the JSON array; NULL is no step.
func (l *StepList) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case []byte:
		return json.Unmarshal(v, l)
	case string:
		return json.Unmarshal([]byte(v), l)
	}
	return fmt.Errorf("step list: unexpected %T", src)
}

// ReportResults streams the attempts of a report, oldest first, to fn without holding them in
// memory; an error from fn stops it and is returned.
func (s *Store) ReportResults(ctx context.Context, f ReportFilter, fn func(ResultRow) error) error {
	args, err := f.args()
	if err != nil {
		return err
	}
	if len(f.Ranges) == 0 {
		return nil
	}
	rows, err := s.db.QueryxContext(ctx, reportScope+` SELECT s.id, s.started_at, s.tz, s.campaign_id, s.batch_id,
		b.name AS batch_name, s.call_job_id, j.name AS call_job_name, s.tel, c.name, s.outcome, s.hangup_cause, s.agent_id,
		s.talk_seconds, d.party, d.result_code, d.next_action, d.callback_at, d.memo,
		s.amd_result, s.machine_action, s.recording_ms, s.dial_kind,
		(SELECT json_agg(json_build_object('id', st.id, 'attempt_id', st.attempt_id, 'at', st.at, 'kind', st.kind,
			'agent_id', st.agent_id, 'by', st.by_user, 'target_kind', st.target_kind, 'target', st.target, 'detail', st.detail)
			ORDER BY st.at, st.id) FROM attempt_steps st WHERE st.attempt_id = s.id) AS steps
		FROM sel s JOIN batches b ON b.id = s.batch_id LEFT JOIN call_jobs j ON j.id = s.call_job_id
		LEFT JOIN contacts c ON c.id = s.contact_id LEFT JOIN dispositions d ON d.attempt_id = s.id
		ORDER BY s.started_at, s.id`, args...)
	if err != nil {
		return fmt.Errorf("report results: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ResultRow
		if err := rows.StructScan(&r); err != nil {
			return fmt.Errorf("report results: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report results: %w", err)
	}
	return nil
}

// roundTo rounds v to the given number of decimals.
func roundTo(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// Average is sum / n rounded to one decimal, or nil when n is 0.
func Average(sum float64, n int) *float64 {
	if n == 0 {
		return nil
	}
	v := roundTo(sum/float64(n), 1)
	return &v
}
