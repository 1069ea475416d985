package engine_test

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// The methods of engine.Store on memStore, each doing what its SQL in store/ does (the file is
// named in each comment), on the rows of harness_store_test.go.

// ListCallJobs: store/calljobs.go, oldest first; the remaining count of J-3.
func (s *memStore) ListCallJobs(ctx context.Context, f store.CallJobFilter) ([]store.CallJob, int, error) {
	if err := s.enter(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	out := []store.CallJob{}
	for _, j := range s.jobs {
		if (f.BatchID == 0 || j.BatchID == f.BatchID) && (f.CampaignIDs == nil || slices.Contains(f.CampaignIDs, j.CampaignID)) &&
			(!f.Running || j.Status == "running") {
			out = append(out, s.jobRow(j))
		}
	}
	slices.SortFunc(out, func(a, b store.CallJob) int { return cmp.Compare(a.ID, b.ID) })
	return out, len(out), nil
}

// GetCallJob: store/calljobs.go.
func (s *memStore) GetCallJob(ctx context.Context, id int64) (store.CallJob, error) {
	if err := s.enter(ctx); err != nil {
		return store.CallJob{}, err
	}
	defer s.mu.Unlock()
	j := s.jobs[id]
	if j == nil {
		return store.CallJob{}, store.ErrNotFound
	}
	return s.jobRow(j), nil
}

// StopCallJob: store/jobrun.go (J-6); a job not running is refused as there.
func (s *memStore) StopCallJob(ctx context.Context, id int64, reason string, now time.Time) (store.CallJob, error) {
	if err := s.enter(ctx); err != nil {
		return store.CallJob{}, err
	}
	defer s.leave()
	j := s.jobs[id]
	if j == nil {
		return store.CallJob{}, store.ErrNotFound
	}
	if j.Status != "running" {
		return store.CallJob{}, &store.RuleError{Code: "call_job_not_running", Rule: "J-6", Message: "the call job is not running", Conflict: true}
	}
	j.Status, j.StoppedAt, j.StopReason, j.UpdatedAt = "stopped", &now, &reason, now
	return s.jobRow(j), nil
}

// TryLeaseJob: store/lease.go, one holder at a time; the lease is lost when released or when
// the test takes it (LoseLease), as an advisory lock is with its connection.
func (s *memStore) TryLeaseJob(ctx context.Context, id int64) (*store.JobLease, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if s.leases[id] != 0 {
		return nil, nil
	}
	s.nextID++
	hold := s.nextID
	s.leases[id] = hold
	held := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.leases[id] == hold
	}
	release := func() {
		s.mu.Lock()
		defer s.leave()
		if s.leases[id] == hold {
			delete(s.leases, id)
		}
	}
	return store.NewLocalLease(id, held, release), nil
}

// ClaimContacts: store/dialing.go, for a running job's current run only: due callbacks by due
// time (S-2: one promised by an agent is, during the grace, claimed only for that agent, one
// each, tied to it; a claim for Owners takes nothing else), then eligible contacts by fewest
// attempts then id, each claimed for the run with its attempt row (P-5, J-4) and dialed at its
// other number when a disposition gave one (D-1); what the claim changed is kept for
// GiveBackAttempt.
func (s *memStore) ClaimContacts(ctx context.Context, r store.ClaimRequest, now time.Time) ([]store.DialTarget, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.leave()
	j := s.jobs[r.JobID]
	if j == nil || j.Status != "running" || j.Run != r.Run || r.N <= 0 {
		return nil, nil
	}
	var due []*memCallback
	for _, cb := range s.callbacks {
		c := s.contact(cb.contactID)
		if cb.status != "scheduled" || cb.due.After(now) || c == nil || c.listID != j.ListID || c.status != "callback" || c.claimedBy != 0 {
			continue
		}
		inGrace := cb.agent != 0 && cb.due.After(now.Add(-r.CallbackGrace))
		if r.Owners == nil && inGrace || r.Owners != nil && !(inGrace && slices.Contains(r.Owners, cb.agent)) {
			continue
		}
		due = append(due, cb)
	}
	slices.SortStableFunc(due, func(a, b *memCallback) int { return a.due.Compare(b.due) })
	due = due[:min(len(due), r.N)]
	if r.Owners != nil { // one per agent
		seen := map[int]bool{}
		due = slices.DeleteFunc(due, func(cb *memCallback) bool { dup := seen[cb.agent]; seen[cb.agent] = true; return dup })
	}
	var picked []*memContact
	callbackOf := map[*memContact]*memCallback{}
	for _, cb := range due {
		c := s.contact(cb.contactID)
		picked = append(picked, c)
		callbackOf[c] = cb
	}
	if r.Owners == nil {
		var fresh []*memContact
		for _, c := range s.contacts {
			if s.eligible(j, c, now) {
				fresh = append(fresh, c)
			}
		}
		slices.SortStableFunc(fresh, func(a, b *memContact) int { return cmp.Compare(a.attempts, b.attempts) })
		picked = append(picked, fresh[:min(len(fresh), r.N-len(picked))]...)
	}
	var out []store.DialTarget
	for _, c := range picked {
		prior := *c
		card := store.ContactCard{Name: c.name, Kana: c.kana, Tel: c.tel, Remarks: c.remarks, PreviousAttempts: c.attempts, LastAttemptAt: c.last}
		for _, a := range s.attempts {
			if a.ContactID == c.id {
				card.LastOutcome = string(a.Outcome) // in id order: the latest wins
			}
		}
		c.claimedBy, c.claimRun = j.ID, j.Run
		c.attempts++
		c.last, c.next, c.status = &now, nil, "eligible"
		s.nextID++
		a := &memAttempt{ID: s.nextID, BatchID: j.BatchID, JobID: j.ID, ContactID: c.id, CampaignID: j.CampaignID, Run: j.Run,
			Tel: cmp.Or(c.redialTel, c.tel), CallerID: j.CallerID, ChannelUUID: r.NewUUID(), Node: r.Node, Instance: r.Instance,
			StartedAt: now, Outcome: "in_progress", prior: &prior, Kind: r.Kind}
		s.attempts = append(s.attempts, a)
		t := store.DialTarget{AttemptID: a.ID, ContactID: c.id, Tel: a.Tel, ChannelUUID: a.ChannelUUID, Card: card}
		if cb := callbackOf[c]; cb != nil {
			a.priorCallback = cb.attemptID
			cb.status, cb.attemptID, t.Callback = "dialed", a.ID, true
			if r.Owners != nil {
				t.Agent = cb.agent
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// FinishAttempt: store/dialing.go: the first ending wins; the live answer counted (P-2); the
// contact released with the retry rules (P-3): a covered outcome is due again after the rule's
// wait until its attempts are used up, then complete, as is an invalid number; a connected one
// waits for its disposition; any other stays eligible but is not dialed again in this run.
func (s *memStore) FinishAttempt(ctx context.Context, e store.AttemptEnd) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	defer s.leave()
	a := s.attemptByUUID(e.ChannelUUID)
	if a == nil || a.Outcome != "in_progress" {
		return false, nil // events repeat after a reconnect: the first ending wins
	}
	a.Outcome, a.HangupCause, a.EndedAt = e.Outcome, e.HangupCause, &e.EndedAt
	a.AnsweredAt = cmp.Or(a.AnsweredAt, e.AnsweredAt)
	a.BridgedAt = cmp.Or(a.BridgedAt, e.BridgedAt)
	a.AgentID = cmp.Or(e.AgentID, a.AgentID)
	a.AgentDropped = a.AgentDropped || e.AgentDropped
	a.TalkSeconds, a.DispositionDueAt = nil, nil
	if e.Outcome == "connected" {
		if e.BridgedAt != nil {
			talk := int(e.EndedAt.Sub(*e.BridgedAt).Round(time.Second) / time.Second)
			a.TalkSeconds = &talk
		}
		due := e.EndedAt.Add(e.DispositionGrace)
		a.DispositionDueAt = &due
	}
	if e.Analysis != nil {
		v := *e.Analysis
		a.Analysis = &v
	}
	if (e.Outcome == "connected" || e.Outcome == "abandoned") && (e.Analysis == nil || e.Analysis.Result != "machine") {
		at := e.EndedAt
		if e.AnsweredAt != nil {
			at = *e.AnsweredAt
		}
		s.countAnswer(a.CampaignID, at, e.Outcome == "abandoned")
	}
	c := s.contact(a.ContactID)
	if c == nil {
		return true, nil // the list was deleted meanwhile
	}
	status, next := "eligible", (*time.Time)(nil)
	rule := slices.IndexFunc(e.Retry, func(r store.RetryRule) bool { return slices.Contains(r.Outcomes, e.Outcome) })
	switch {
	case e.Outcome == "connected":
		until := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // until the disposition
		next = &until
	case rule >= 0 && c.attempts < e.Retry[rule].MaxAttempts:
		at := e.EndedAt.Add(e.Retry[rule].After)
		next = &at
	case rule >= 0 || e.Outcome == "invalid_number":
		status = "complete"
	}
	c.status, c.next = status, next
	if c.claimedBy == a.JobID && c.claimRun == a.Run {
		c.claimedBy, c.claimRun = 0, 0
	}
	return true, nil
}

// countAnswer is addAnswer: one live answer in the campaign's 15-minute bucket. Caller holds s.mu.
func (s *memStore) countAnswer(campaign int, at time.Time, abandoned bool) {
	start := at.UTC().Truncate(store.AnswerBucketSize) // date_bin from 2000-01-01: the same bins
	if s.buckets[campaign] == nil {
		s.buckets[campaign] = map[time.Time]*store.AnswerBucket{}
	}
	b := s.buckets[campaign][start]
	if b == nil {
		b = &store.AnswerBucket{Start: start}
		s.buckets[campaign][start] = b
	}
	b.Live++
	if abandoned {
		b.Abandoned++
	}
}

// GiveBackAttempt: store/dialing.go: an unanswered attempt still in progress whose contact this
// run still holds is undone, the contact as before its claim.
func (s *memStore) GiveBackAttempt(ctx context.Context, channelUUID string, now time.Time) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	defer s.leave()
	a := s.attemptByUUID(channelUUID)
	if a == nil || a.Outcome != "in_progress" || a.AnsweredAt != nil || a.prior == nil {
		return false, nil
	}
	if c := s.contact(a.ContactID); c != nil {
		if c.claimedBy != a.JobID || c.claimRun != a.Run {
			return false, nil // no longer this run's claim: not ours to give back
		}
		c.status, c.next, c.last = a.prior.status, a.prior.next, a.prior.last
		c.attempts = max(c.attempts-1, 0)
		c.claimedBy, c.claimRun = 0, 0
		for _, cb := range s.callbacks {
			if cb.attemptID == a.ID && cb.status == "dialed" {
				cb.status, cb.attemptID = "scheduled", a.priorCallback
				if slices.ContainsFunc(s.callbacks, func(o *memCallback) bool { return o.contactID == c.id && o.status == "scheduled" && o != cb }) {
					cb.status = "cancelled" // one scheduled per contact
				}
			}
		}
	}
	s.attempts = slices.DeleteFunc(s.attempts, func(x *memAttempt) bool { return x == a })
	return true, nil
}

// MarkAnswered, MarkBridged, MarkAgentDropped: store/dialing.go.
func (s *memStore) MarkAnswered(ctx context.Context, channelUUID string, at time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if a := s.attemptByUUID(channelUUID); a != nil && a.AnsweredAt == nil {
		a.AnsweredAt = &at
	}
	return nil
}

// StartRecording, FinishRecording: store/recording.go.
func (s *memStore) StartRecording(ctx context.Context, attemptID int64, path string, at time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if a := s.attempt(attemptID); a != nil && a.RecordingPath == "" {
		a.RecordingPath, a.RecordingStartedAt = path, &at
	}
	return nil
}

func (s *memStore) FinishRecording(ctx context.Context, attemptID int64, length time.Duration, bytes int64) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if a := s.attempt(attemptID); a != nil {
		a.RecordingLength, a.RecordingBytes = &length, bytes
	}
	return nil
}

func (s *memStore) MarkBridged(ctx context.Context, channelUUID string, agentID int, at time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if a := s.attemptByUUID(channelUUID); a != nil {
		a.BridgedAt, a.AgentID = &at, &agentID
	}
	return nil
}

func (s *memStore) MarkAgentDropped(ctx context.Context, attemptID int64) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	if a := s.attempt(attemptID); a != nil {
		a.AgentDropped = true
	}
	return nil
}

// UnfinishedAttempts: store/dialing.go, the job's attempts in progress by id.
func (s *memStore) UnfinishedAttempts(ctx context.Context, jobID int64) ([]store.LiveAttempt, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []store.LiveAttempt
	for _, a := range s.attempts {
		if a.JobID != jobID || a.Outcome != "in_progress" {
			continue
		}
		l := store.LiveAttempt{ID: a.ID, JobID: a.JobID, Tel: a.Tel, ChannelUUID: a.ChannelUUID, Node: a.Node,
			StartedAt: a.StartedAt, AnsweredAt: a.AnsweredAt, BridgedAt: a.BridgedAt, AgentID: a.AgentID,
			DialKind: cmp.Or(a.Kind, domain.DialPaced), DialedAt: a.DialedAt}
		if a.ContactID != 0 {
			id := a.ContactID
			l.ContactID = &id
		}
		out = append(out, l)
	}
	return out, nil
}

// AnswerBuckets: store/answerstats.go, oldest first.
func (s *memStore) AnswerBuckets(ctx context.Context, campaign int, since time.Time) ([]store.AnswerBucket, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []store.AnswerBucket
	for start, b := range s.buckets[campaign] {
		if !start.Before(since) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b store.AnswerBucket) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// RecentDials: store/answerstats.go, the latest n ended before now, oldest first.
func (s *memStore) RecentDials(ctx context.Context, campaign, n int, now time.Time) ([]store.EndedDial, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var ended []*memAttempt
	for _, a := range s.attempts {
		if a.CampaignID == campaign && a.EndedAt != nil && !a.EndedAt.After(now) {
			ended = append(ended, a)
		}
	}
	slices.SortStableFunc(ended, func(a, b *memAttempt) int { return a.EndedAt.Compare(*b.EndedAt) })
	ended = ended[max(len(ended)-n, 0):]
	out := make([]store.EndedDial, 0, len(ended))
	for _, a := range ended {
		d := store.EndedDial{Outcome: a.Outcome, StartedAt: a.StartedAt, AnsweredAt: a.AnsweredAt, BridgedAt: a.BridgedAt, EndedAt: *a.EndedAt}
		if a.DisposedAt != nil && !a.DisposedAt.Before(*a.EndedAt) {
			w := a.DisposedAt.Sub(*a.EndedAt)
			d.WrapUp = &w
		}
		out = append(out, d)
	}
	return out, nil
}

// JobRunCounts: store/monitor.go, the current run's attempts (S-1).
func (s *memStore) JobRunCounts(ctx context.Context, jobID int64) (store.RunCounts, error) {
	if err := s.enter(ctx); err != nil {
		return store.RunCounts{}, err
	}
	defer s.mu.Unlock()
	j := s.jobs[jobID]
	if j == nil {
		return store.RunCounts{}, store.ErrNotFound
	}
	var c store.RunCounts
	contacts := map[int64]bool{}
	for _, a := range s.attempts {
		if a.JobID != j.ID || a.Run != j.Run || j.Run == 0 {
			continue
		}
		c.Dialed++
		if a.ContactID != 0 {
			contacts[a.ContactID] = true
		}
		switch a.Outcome {
		case "in_progress":
			c.InProgress++
		case "connected":
			c.Answered++
			c.Connected++
		case "abandoned":
			c.Answered++
			c.Abandoned++
		}
	}
	c.Remaining = max(j.TargetCount-len(contacts), 0)
	return c, nil
}
