package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kakeru-dialer/kakeru/domain"
	"github.com/kakeru-dialer/kakeru/store"
)

// The agent's desk in memStore (store/desk.go): a preview marked dialed or skipped, a manual
// dial's attempt (the number's contact claimed like a claim, P-5; a do-not-call number
// refused, N-1), the steps of a call.

// MarkDialed: the preview is dialed; its ring counts from now.
func (s *memStore) MarkDialed(ctx context.Context, attemptID int64, at time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	a := s.attempt(attemptID)
	if a == nil {
		return store.ErrNotFound
	}
	a.DialedAt, a.StartedAt = &at, at
	return nil
}

// SkipPreview ends a preview never dialed as skipped; the contact is not dialed again this run.
func (s *memStore) SkipPreview(ctx context.Context, p store.PreviewSkip) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	defer s.leave()
	a := s.attempt(p.AttemptID)
	if a == nil || a.Outcome != "in_progress" || a.Kind != domain.DialPreview || a.DialedAt != nil {
		return false, nil
	}
	agent := p.AgentID
	a.Outcome, a.SkipReason, a.EndedAt, a.AgentID = domain.OutcomeSkipped, "preview:"+p.Reason, &p.At, &agent
	a.Steps = append(a.Steps, store.AttemptStep{AttemptID: a.ID, At: p.At, Kind: domain.StepPreviewSkipped, AgentID: &agent, By: p.By, Detail: p.Reason})
	if c := s.contact(a.ContactID); c != nil && c.claimedBy == a.JobID && c.claimRun == a.Run {
		c.claimedBy, c.claimRun, c.status, c.next = 0, 0, "eligible", nil
	}
	return true, nil
}

// dncNumbers are the numbers CreateManualAttempt refuses (the harness's do-not-call lists).
func (s *memStore) AddDoNotCall(tel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dnc == nil {
		s.dnc = map[string]bool{}
	}
	s.dnc[tel] = true
}

// CreateManualAttempt writes a manual dial's attempt, its number's contact claimed.
func (s *memStore) CreateManualAttempt(ctx context.Context, m store.ManualDial, now time.Time) (store.DialTarget, error) {
	if err := s.enter(ctx); err != nil {
		return store.DialTarget{}, err
	}
	defer s.leave()
	j := s.jobs[m.JobID]
	if j == nil || j.Status != "running" || j.Run != m.Run {
		return store.DialTarget{}, store.ErrJobNotRunning
	}
	if s.dnc[m.Tel] {
		return store.DialTarget{}, fmt.Errorf("%w: global", store.ErrDoNotCall)
	}
	var c *memContact
	for _, x := range s.contacts {
		if x.listID == j.ListID && x.tel == m.Tel {
			c = x
		}
	}
	agent := m.AgentID
	s.nextID++
	a := &memAttempt{ID: s.nextID, BatchID: j.BatchID, JobID: j.ID, CampaignID: j.CampaignID, Run: j.Run,
		Tel: m.Tel, CallerID: m.CallerID, ChannelUUID: m.NewUUID(), Node: m.Node, Instance: m.Instance,
		StartedAt: now, Outcome: "in_progress", Kind: domain.DialManual, AgentID: &agent, RequestedBy: m.By}
	t := store.DialTarget{Tel: m.Tel, Card: store.ContactCard{Tel: m.Tel}}
	if c != nil {
		if c.claimedBy != 0 || c.status == "complete" {
			s.nextID--
			return store.DialTarget{}, store.ErrContactBusy
		}
		prior := *c
		a.ContactID, a.prior = c.id, &prior
		t.ContactID, t.Card = c.id, store.ContactCard{Name: c.name, Kana: c.kana, Tel: c.tel, Remarks: c.remarks, PreviousAttempts: c.attempts, LastAttemptAt: c.last}
		c.claimedBy, c.claimRun = j.ID, j.Run
		c.attempts++
		c.last, c.next, c.status = &now, nil, "eligible"
	}
	s.attempts = append(s.attempts, a)
	t.AttemptID, t.ChannelUUID = a.ID, a.ChannelUUID
	return t, nil
}

// AddAttemptStep records one step of a call.
func (s *memStore) AddAttemptStep(ctx context.Context, st store.AttemptStep) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.leave()
	a := s.attempt(st.AttemptID)
	if a == nil {
		return store.ErrNotFound
	}
	a.Steps = append(a.Steps, st)
	return nil
}
