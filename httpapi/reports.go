package httpapi

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/listimport"
	"github.com/kakeru-dialer/kakeru/store"
)

// ReportStore is the data of the reports (S-4).
type ReportStore interface {
	ReportSummary(ctx context.Context, f store.ReportFilter) (store.ReportSummary, error)
	ReportResults(ctx context.Context, f store.ReportFilter, fn func(store.ResultRow) error) error
}

// Reports (S-4): GET /api/v1/reports/summary and GET /api/v1/reports/results.csv take the same
// query parameters:
//
//   - campaign_id, batch_id, call_job_id, agent_id: optional filters. A batch or job gives its
//     campaign; a campaign_id that contradicts it is 422 inconsistent_filter. Without any of the
//     three, the report covers every campaign the caller may see, each with its own time zone.
//   - from, to: either both calendar days YYYY-MM-DD, told in each campaign's time zone, from
//     00:00 of from to the end of to (to inclusive), or both RFC 3339 instants, from inclusive and
//     to exclusive, the same for every campaign. Mixing the two is 422 invalid_range. A missing to
//     is today in the campaign's zone (days) or now (instants); a missing from is the day of to
//     (days) or 24 hours before to (instants); neither is today. A malformed value is 422
//     invalid_date; from after to is 422 invalid_range.
//
// An attempt belongs to the range its start falls in. Admins see every campaign; supervisors only
// the campaigns granted to them (403 for another campaign's id, batch or job, and for one that
// does not exist, so ids cannot be probed); agents get 403: reports are supervision, and an
// agent's own calls are in its session and history.

type reportQuery struct {
	filter    store.ReportFilter
	campaigns []reportCampaign
	kind      string // "date" or "time"
	byID      map[int]config.Campaign
	agents    map[int]string
}

type reportCampaign struct {
	ID       int
	Name     string
	Zone     string
	Loc      *time.Location
	From, To time.Time
	FromDate *store.Date
	ToDate   *store.Date // inclusive
}

// bound is one of from/to as given: a day or an instant.
type bound struct {
	set     bool
	date    store.Date
	instant time.Time
	isDate  bool
}

// inReportRange keeps bounds to years a report can hold: far dates overflow the time zone
// arithmetic and PostgreSQL's timestamps, and name no attempt anyway.
func (b bound) inReportRange() bool {
	if b.isDate {
		d := b.date.String() // YYYY-MM-DD orders as text
		return d >= "2000-01-01" && d <= "2099-12-31"
	}
	y := b.instant.UTC().Year()
	return y >= 2000 && y <= 2099
}

func parseBound(pr *problems, field, v string) bound {
	if v == "" {
		return bound{}
	}
	if d, err := store.ParseDate(v); err == nil {
		return bound{set: true, date: d, isDate: true}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		pr.add(field, "must be a date YYYY-MM-DD or an RFC 3339 time, e.g. 2026-03-10 or 2026-03-10T09:00:00+09:00")
		return bound{}
	}
	return bound{set: true, instant: t}
}

// reportQuery reads and checks the parameters and the caller's rights, and resolves each
// campaign's range.
func (s *Server) reportQuery(r *http.Request) (reportQuery, error) {
	var rq reportQuery
	p := principalFrom(r.Context())
	if err := staffOnly(p); err != nil {
		return rq, err
	}
	q := r.URL.Query()
	var ids [4]int64
	for i, name := range []string{"campaign_id", "batch_id", "call_job_id", "agent_id"} {
		max := int64(maxBigintID)
		if name == "campaign_id" || name == "agent_id" { // integer columns
			max = maxIntID
		}
		v, err := queryID(q, name, max)
		if err != nil {
			return rq, err
		}
		ids[i] = v
	}
	campaignID, batchID, jobID := int(ids[0]), ids[1], ids[2]
	if ids[3] != 0 {
		a := int(ids[3])
		rq.filter.AgentID = &a
	}
	var pr problems
	from, to := parseBound(&pr, "from", q.Get("from")), parseBound(&pr, "to", q.Get("to"))
	if err := pr.err(); err != nil {
		e := err.(*apiError)
		e.Code, e.Rule, e.Message = "invalid_date", "S-4", "from and to are dates YYYY-MM-DD or RFC 3339 times"
		return rq, e
	}
	for _, b := range []struct {
		name string
		b    bound
	}{{"from", from}, {"to", to}} {
		if b.b.set && !b.b.inReportRange() {
			return rq, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_range", Rule: "S-4",
				Message: b.name + " must lie between 2000-01-01 and 2099-12-31",
				Details: []any{fieldProblem{Field: b.name, Message: "outside 2000-01-01 … 2099-12-31"}}}
		}
	}
	if from.set && to.set && from.isDate != to.isDate {
		return rq, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_range", Rule: "S-4",
			Message: "from and to must both be dates (YYYY-MM-DD) or both be RFC 3339 times"}
	}
	rq.kind = "date"
	if from.set && !from.isDate || to.set && !to.isDate {
		rq.kind = "time"
	}

	cfg := s.cfg.Current()
	rq.byID = map[int]config.Campaign{}
	for _, c := range cfg.Campaigns {
		rq.byID[c.ID] = c
	}
	rq.agents = map[int]string{}
	for _, a := range cfg.Agents {
		rq.agents[a.ID] = a.Name
	}
	// The most specific filter names the campaign; every one given must be the caller's.
	owner, zone := 0, ""
	if jobID != 0 {
		j, err := s.jobs.GetCallJob(r.Context(), jobID)
		if err != nil {
			return rq, hideMissing(p, err)
		}
		if !p.CanCampaign(j.CampaignID) {
			return rq, errForbidden
		}
		owner, zone = j.CampaignID, j.TimeZone
		rq.filter.CallJobID = jobID
		if batchID != 0 && batchID != j.BatchID {
			if err := s.checkBatchAccess(r, p, batchID); err != nil {
				return rq, err
			}
			return rq, inconsistent("call job %d is not in batch %d", jobID, batchID)
		}
	}
	if batchID != 0 {
		b, err := s.batches.GetBatch(r.Context(), batchID)
		if err != nil {
			return rq, hideMissing(p, err)
		}
		if !p.CanCampaign(b.CampaignID) {
			return rq, errForbidden
		}
		owner, zone = b.CampaignID, b.TimeZone
		rq.filter.BatchID = batchID
	}
	if campaignID != 0 {
		if !p.CanCampaign(campaignID) {
			return rq, errForbidden
		}
		if owner != 0 && owner != campaignID {
			return rq, inconsistent("the batch or call job is not in campaign %d", campaignID)
		}
		if _, ok := rq.byID[campaignID]; !ok && owner == 0 {
			return rq, errNotFound
		}
		owner = campaignID
	}
	var scope []int
	if owner != 0 {
		scope = []int{owner}
	} else {
		for _, c := range cfg.Campaigns {
			if p.CanCampaign(c.ID) {
				scope = append(scope, c.ID)
			}
		}
	}
	now := s.now()
	for _, id := range scope {
		rc := reportCampaign{ID: id}
		if c, ok := rq.byID[id]; ok && c.Location != nil {
			rc.Name, rc.Loc = c.Name, c.Location
		} else { // a campaign no longer configured: the zone its batch was created in
			loc, err := time.LoadLocation(zone)
			if err != nil {
				return rq, fmt.Errorf("time zone %q of campaign %d: %w", zone, id, err)
			}
			rc.Loc = loc
		}
		rc.Zone = rc.Loc.String()
		if err := rc.resolve(from, to, rq.kind, now); err != nil {
			return rq, err
		}
		rq.campaigns = append(rq.campaigns, rc)
		rq.filter.Ranges = append(rq.filter.Ranges, store.ReportRange{CampaignID: id, TimeZone: rc.Zone, From: rc.From, To: rc.To})
	}
	rq.filter.SessionGap = cfg.System.AgentIdleLimit
	if rq.filter.SessionGap <= 0 {
		rq.filter.SessionGap = time.Hour
	}
	return rq, nil
}

func inconsistent(format string, args ...any) error {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "inconsistent_filter", Rule: "S-4",
		Message: fmt.Sprintf(format, args...)}
}

// resolve turns from/to into the campaign's half-open range (see the comment before reportQuery).
func (rc *reportCampaign) resolve(from, to bound, kind string, now time.Time) error {
	bad := &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_range", Rule: "S-4"}
	if kind == "time" {
		rc.To = now
		if to.set {
			rc.To = to.instant
		}
		rc.From = rc.To.Add(-24 * time.Hour)
		if from.set {
			rc.From = from.instant
		}
		if !rc.From.Before(rc.To) {
			bad.Message = fmt.Sprintf("from %s is not before to %s", rc.From.Format(time.RFC3339), rc.To.Format(time.RFC3339))
			return bad
		}
		return nil
	}
	last := store.DateOf(now, rc.Loc)
	if to.set {
		last = to.date
	}
	first := last
	if from.set {
		first = from.date
	}
	if first.After(last) {
		bad.Message = fmt.Sprintf("from %s is after to %s (in %s)", first, last, rc.Loc)
		return bad
	}
	rc.FromDate, rc.ToDate = &first, &last
	rc.From, rc.To = midnight(first, rc.Loc), midnight(last.AddDays(1), rc.Loc)
	return nil
}

// midnight is the start of the day d in loc.
func midnight(d store.Date, loc *time.Location) time.Time {
	t, _ := time.ParseInLocation("2006-01-02", d.String(), loc)
	return t
}

// countsJSON are outcome counts with the live answers and the abandon rate of P-2.
type countsJSON struct {
	store.OutcomeCounts
	Answered    int      `json:"answered"`
	AbandonRate *float64 `json:"abandon_rate"`
}

func toCounts(c store.OutcomeCounts) countsJSON {
	return countsJSON{OutcomeCounts: c, Answered: c.Answered(), AbandonRate: c.AbandonRate()}
}

type reportCampaignJSON struct {
	CampaignID int        `json:"campaign_id"`
	Name       string     `json:"name"`
	TimeZone   string     `json:"time_zone"`
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"` // exclusive
	FromDate   *string    `json:"from_date,omitempty"`
	ToDate     *string    `json:"to_date,omitempty"`
	Totals     countsJSON `json:"totals"`
}

type resultCodeCountJSON struct {
	CampaignID int    `json:"campaign_id"`
	Code       string `json:"code"`
	Label      string `json:"label"`
	Count      int    `json:"count"`
}

type agentReportJSON struct {
	AgentID          int      `json:"agent_id"`
	Name             string   `json:"name"`
	Calls            int      `json:"calls"`
	TalkSeconds      int64    `json:"talk_seconds"`
	AvgTalkSeconds   *float64 `json:"avg_talk_seconds"`
	WaitSeconds      int64    `json:"wait_seconds"`
	Waits            int      `json:"waits"`
	AvgWaitSeconds   *float64 `json:"avg_wait_seconds"`
	WrapUpSeconds    int64    `json:"wrap_up_seconds"`
	WrapUps          int      `json:"wrap_ups"`
	AvgWrapUpSeconds *float64 `json:"avg_wrap_up_seconds"`
}

type dayJSON struct {
	CampaignID int    `json:"campaign_id"`
	Date       string `json:"date"`
	countsJSON
}

type summaryJSON struct {
	Kind        string                `json:"range_kind"` // date | time
	Campaigns   []reportCampaignJSON  `json:"campaigns"`
	Totals      countsJSON            `json:"totals"`
	ResultCodes []resultCodeCountJSON `json:"result_codes"`
	Agents      []agentReportJSON     `json:"agents"`
	ByDay       []dayJSON             `json:"by_day"`
	Desk        store.DeskCounts      `json:"desk"` // issue 16
}

// handleReportSummary answers the S-4 summary. Counts are attempts started in the range by
// outcome; answered = connected + abandoned (machines apart), abandon_rate = abandoned / answered
// (P-2; null when nobody answered); no_disposition = connected calls without a saved disposition.
// result_codes lists each campaign's configured codes in order, then any other code found.
// Per agent: calls = calls bridged to the agent; talk = talk_seconds; wrap-up = disposition saved
// − call ended, for dispositions saved before the call became unsaved (D-3); wait = bridging of
// a call − the moment the agent was ready after its previous call in the same job (that
// disposition's save as above, else that call's end), counted only when the gap is at most the
// idle limit (system.agent_idle_limit, G-5): the data keeps no agent-state history, so a longer
// gap is a new session, and a break inside a shorter one counts as wait. by_day counts per
// campaign and calendar day of its zone. desk (issue 16): manual dials, previews dialed, previews
// skipped by reason code (skips are in no other count), hold steps, completed transfers and
// conferences a third party joined.
func (s *Server) handleReportSummary(w http.ResponseWriter, r *http.Request) error {
	rq, err := s.reportQuery(r)
	if err != nil {
		return err
	}
	sum, err := s.reports.ReportSummary(r.Context(), rq.filter)
	if err != nil {
		return err
	}
	out := summaryJSON{Kind: rq.kind, Totals: toCounts(sum.Totals), Campaigns: []reportCampaignJSON{},
		ResultCodes: []resultCodeCountJSON{}, Agents: []agentReportJSON{}, ByDay: []dayJSON{}, Desk: sum.Desk}
	perCampaign := map[int]store.OutcomeCounts{}
	for _, c := range sum.ByCampaign {
		perCampaign[c.CampaignID] = c.OutcomeCounts
	}
	counted := map[[2]string]int{}
	for _, rc := range sum.ResultCodes {
		counted[[2]string{strconv.Itoa(rc.CampaignID), rc.Code}] = rc.Count
	}
	for _, c := range rq.campaigns {
		cj := reportCampaignJSON{CampaignID: c.ID, Name: c.Name, TimeZone: c.Zone, From: c.From.In(c.Loc), To: c.To.In(c.Loc),
			Totals: toCounts(perCampaign[c.ID])}
		if c.FromDate != nil {
			f, t := c.FromDate.String(), c.ToDate.String()
			cj.FromDate, cj.ToDate = &f, &t
		}
		out.Campaigns = append(out.Campaigns, cj)
		for _, code := range rq.byID[c.ID].ResultCodes {
			key := [2]string{strconv.Itoa(c.ID), code.Code}
			out.ResultCodes = append(out.ResultCodes, resultCodeCountJSON{CampaignID: c.ID, Code: code.Code, Label: code.Label, Count: counted[key]})
			delete(counted, key)
		}
		for _, rc := range sum.ResultCodes { // codes no longer configured
			if n, ok := counted[[2]string{strconv.Itoa(c.ID), rc.Code}]; ok && rc.CampaignID == c.ID {
				out.ResultCodes = append(out.ResultCodes, resultCodeCountJSON{CampaignID: c.ID, Code: rc.Code, Count: n})
			}
		}
	}
	for _, a := range sum.Agents {
		out.Agents = append(out.Agents, agentReportJSON{AgentID: a.AgentID, Name: rq.agents[a.AgentID], Calls: a.Calls,
			TalkSeconds: int64(math.Round(a.TalkSeconds)), AvgTalkSeconds: store.Average(a.TalkSeconds, a.TalkCount),
			WaitSeconds: int64(math.Round(a.WaitSeconds)), Waits: a.WaitCount, AvgWaitSeconds: store.Average(a.WaitSeconds, a.WaitCount),
			WrapUpSeconds: int64(math.Round(a.WrapSeconds)), WrapUps: a.WrapCount, AvgWrapUpSeconds: store.Average(a.WrapSeconds, a.WrapCount)})
	}
	for _, d := range sum.ByDay {
		out.ByDay = append(out.ByDay, dayJSON{CampaignID: d.CampaignID, Date: d.Day.String(), countsJSON: toCounts(d.OutcomeCounts)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// resultsHeader is the header row of results.csv, in Japanese for the operators who open it in
// Excel (the manual's vocabulary); values stay the API's codes (connected, self, callback …).
var resultsHeader = []string{"発信ID", "発信日時", "タイムゾーン", "キャンペーンID", "バッチID", "バッチ名", "コールジョブID",
	"コールジョブ名", "電話番号", "氏名", "結果", "切断理由", "エージェントID", "エージェント名", "通話秒数", "相手",
	"対話結果コード", "対話結果", "次回アクション", "再架電日時", "メモ", "応答判定", "機械への対応", "録音秒数",
	"発信種別", "操作履歴"}

// handleReportResults streams results.csv: one row per attempt in the range, oldest first.
// encoding=utf-8 (default) starts with a byte order mark, so that Excel reads it as UTF-8;
// encoding=sjis writes Windows-31J ('?' for what it cannot hold). Rows end in CRLF, every cell
// is quoted (quotes doubled; line breaks inside a memo stay in its cell), times are
// "YYYY-MM-DD HH:MM:SS" in the campaign's zone (named in the タイムゾーン column), and a cell
// that starts with = + - @, a tab or a carriage return gets a leading apostrophe so that Excel
// never runs it as a formula (CSV injection). 発信種別 is the dial kind (paced, preview, manual);
// 操作履歴 the attempt's steps (issue 16), see stepsCell.
func (s *Server) handleReportResults(w http.ResponseWriter, r *http.Request) error {
	sjis, err := csvEncodingParam(r, "S-4")
	if err != nil {
		return err
	}
	rq, err := s.reportQuery(r)
	if err != nil {
		return err
	}
	labels := map[[2]string]string{}
	for id, c := range rq.byID {
		for _, rc := range c.ResultCodes {
			labels[[2]string{strconv.Itoa(id), rc.Code}] = rc.Label
		}
	}
	zones := map[string]*time.Location{}
	for _, c := range rq.campaigns {
		zones[c.Zone] = c.Loc
	}
	out := &csvOut{sjis: sjis}
	started := false
	start := func() error {
		started = true
		name := "results.csv"
		if len(rq.campaigns) > 0 {
			c := rq.campaigns[0]
			name = fmt.Sprintf("results_%s_%s.csv", c.From.In(c.Loc).Format("20060102"), c.To.Add(-time.Nanosecond).In(c.Loc).Format("20060102"))
		}
		return out.begin(w, name, resultsHeader)
	}
	cells := make([]string, len(resultsHeader))
	// The rows come from an open database cursor: a client that stops reading must not hold its
	// connection for ever. Each write gets a minute; refreshed every thousand rows.
	rc := http.NewResponseController(w)
	rows := 0
	err = s.reports.ReportResults(r.Context(), rq.filter, func(a store.ResultRow) error {
		if rows%1000 == 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		}
		rows++
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		loc := zones[a.TimeZone]
		if loc == nil {
			loc = time.UTC
		}
		code := deref(a.ResultCode)
		var agentName string
		if a.AgentID != nil {
			agentName = rq.agents[*a.AgentID]
		}
		callback := ""
		if a.CallbackAt != nil {
			callback = a.CallbackAt.In(loc).Format(time.DateTime)
		}
		cells = append(cells[:0], strconv.FormatInt(a.AttemptID, 10), a.StartedAt.In(loc).Format(time.DateTime), a.TimeZone,
			strconv.Itoa(a.CampaignID), strconv.FormatInt(a.BatchID, 10), a.BatchName, optInt64(a.CallJobID), deref(a.CallJobName),
			a.Tel, deref(a.Name), string(a.Outcome), a.HangupCause, optInt(a.AgentID), agentName, optInt(a.TalkSeconds), deref(a.Party),
			code, labels[[2]string{strconv.Itoa(a.CampaignID), code}], deref(a.NextAction), callback, deref(a.Memo),
			deref(a.AMDResult), deref(a.MachineAction), recordingSeconds(a.RecordingMs), string(a.DialKind), stepsCell(a.Steps, loc))
		return out.row(cells)
	})
	return s.endCSVStream(r, "results.csv", out, started, start, err)
}

// stepsCell is an attempt's steps in one cell, oldest first, separated by ';': the kind, then
// ":target_kind:target" when it names one, then "@HH:MM:SS" in the campaign's zone, e.g.
// hold@12:00:01;transferred:agent:3@12:01:10.
func stepsCell(steps []store.AttemptStep, loc *time.Location) string {
	var b strings.Builder
	for i, st := range steps {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(string(st.Kind))
		if st.TargetKind != "" {
			b.WriteString(":" + st.TargetKind + ":" + st.Target)
		}
		b.WriteString("@" + st.At.In(loc).Format(time.TimeOnly))
	}
	return b.String()
}

// recordingSeconds is a recording's length in whole seconds, rounded; empty when unknown.
func recordingSeconds(ms *int) string {
	if ms == nil {
		return ""
	}
	return strconv.Itoa((*ms + 500) / 1000)
}

// csvEncodingParam reads a CSV download's ?encoding: utf-8 (the default) or sjis.
func csvEncodingParam(r *http.Request, rule string) (sjis bool, err error) {
	switch enc := r.URL.Query().Get("encoding"); strings.ToLower(enc) {
	case "", "utf-8", "utf8":
		return false, nil
	default:
		if e, err := listimport.ParseEncoding(enc); err != nil || e != listimport.SJIS {
			return false, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_input", Rule: rule,
				Message: "encoding must be utf-8 or sjis", Details: []any{fieldProblem{Field: "encoding", Message: "must be utf-8 or sjis"}}}
		}
		return true, nil
	}
}

// endCSVStream ends a streamed CSV download: the header alone when no row came, then the flush.
// An error before anything was sent is answered as any error; after the status line it cuts the
// connection, so that the client sees a failed download, never a file that looks complete.
func (s *Server) endCSVStream(r *http.Request, what string, out *csvOut, started bool, start func() error, err error) error {
	if err == nil && !started {
		err = start()
		started = err == nil
	}
	if err == nil {
		err = out.w.Flush()
	}
	if err != nil && !started {
		return err
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), what+" failed mid-stream", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// csvOut writes Excel-friendly CSV rows.
type csvOut struct {
	w    *bufio.Writer
	sjis bool
	line []byte
	enc  []byte
}

// begin sends the status line and the download's headers, then the byte order mark (UTF-8) and
// the header row.
func (o *csvOut) begin(w http.ResponseWriter, filename string, header []string) error {
	charset := "UTF-8"
	if o.sjis {
		charset = "Shift_JIS"
	}
	w.Header().Set("Content-Type", "text/csv; charset="+charset)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.WriteHeader(http.StatusOK)
	o.w = bufio.NewWriterSize(w, 64<<10)
	if !o.sjis {
		if _, err := o.w.WriteString("\uFEFF"); err != nil {
			return err
		}
	}
	return o.row(header)
}

func (c *csvOut) row(cells []string) error {
	c.line = c.line[:0]
	for i, v := range cells {
		if i > 0 {
			c.line = append(c.line, ',')
		}
		c.line = append(c.line, '"')
		v = listimport.NeutralizeCell(v)
		v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
		c.line = append(c.line, strings.ReplaceAll(v, `"`, `""`)...)
		c.line = append(c.line, '"')
	}
	c.line = append(c.line, '\r', '\n')
	b := c.line
	if c.sjis {
		c.enc = listimport.AppendWindows31J(c.enc[:0], c.line)
		b = c.enc
	}
	_, err := c.w.Write(b)
	return err
}

func deref[T ~string](s *T) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

func optInt(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func optInt64(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}
