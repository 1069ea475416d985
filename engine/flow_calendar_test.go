package engine_test

import (
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/calendar"
	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/domain"
)

// lunchBreak gives campaign 2 a calendar open on weekdays 09:00-12:00 and 13:00-18:00.
func lunchBreak(cfg *config.Config) {
	var r calendar.Rules
	for wd := time.Monday; wd <= time.Friday; wd++ {
		r.Week[wd] = []calendar.Span{{From: 9 * 60, To: 12 * 60}, {From: 13 * 60, To: 18 * 60}}
	}
	c, err := calendar.New(r)
	if err != nil {
		panic(err)
	}
	for i := range cfg.Campaigns {
		if cfg.Campaigns[i].ID == 2 {
			cfg.Campaigns[i].CallingCalendar = c
		}
	}
}

// J-8, J-6: at the end of a window (12:00) the job pauses by itself: the call in progress goes
// on, nothing new is dialed, the job stays running with its agent; at the next window's start
// (13:00) it dials again by itself.
func TestLunchBreakPausesAndResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{campaign: 2, tels: []string{"09011115555", "09011116666"},
		start:     time.Date(2026, 11, 30, 11, 59, 0, 0, tokyo), // a Monday
		configure: func(cfg *config.Config) { pacing(2, "progressive", 1)(cfg); lunchBreak(cfg) }})
	h.join(1003)
	first := h.waitState(1003, domain.AgentOnCall)
	h.advance(2 * time.Minute) // 12:01: lunch
	h.hangupCustomer(1003)
	h.waitState(1003, domain.AgentWrapUp)
	h.dispose(1003, "complete", "continue")
	h.waitState(1003, domain.AgentAvailable)
	h.advance(30 * time.Minute) // 12:31
	h.passes(5)
	if n := h.customersDialed(); n != 1 {
		t.Fatalf("%d customers dialed at lunch, want 1 (before 12:00)", n)
	}
	if j := h.store.Job(h.job); j.Status != domain.JobRunning {
		t.Fatalf("job %s at lunch, want running (paused)", j.Status)
	}
	if a := h.agent(1003); a.State != domain.AgentAvailable {
		t.Fatalf("agent at lunch %+v, want available in the job", a)
	}
	h.advance(29 * time.Minute) // 13:00
	second := h.waitState(1003, domain.AgentOnCall)
	if second.AttemptID == first.AttemptID || len(h.store.Attempts("09011116666")) != 1 {
		t.Fatalf("after lunch: agent %+v, attempts %+v", second, h.store.Attempts("09011116666"))
	}
	if j := h.store.Job(h.job); j.Status != domain.JobRunning || j.StopReason != nil {
		t.Fatalf("job %+v", j)
	}
}

// J-6 with a calendar: business end is the end of the day's last window; a job running on a
// day the calendar closes (a reload closed it) stops by itself.
func TestCalendarBusinessEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{campaign: 2, tels: []string{"09011117777"},
		start:     time.Date(2026, 11, 30, 17, 59, 0, 0, tokyo),
		configure: func(cfg *config.Config) { pacing(2, "progressive", 1)(cfg); lunchBreak(cfg) }})
	h.advance(time.Minute) // 18:00
	h.waitFor("the job stopped at business end", func() bool {
		j := h.store.Job(h.job)
		return j.Status == "stopped" && j.StopReason != nil && *j.StopReason == "business_end"
	})
	h.clock.Advance(4*24*time.Hour + 16*time.Hour) // Saturday 10:00: no hours at all
	h.startJob()                                   // as if started before a reload closed the day
	h.waitFor("the job stopped on a closed day", func() bool {
		j := h.store.Job(h.job)
		return j.Status == "stopped" && j.StopReason != nil && *j.StopReason == "business_end"
	})
	if n := h.customersDialed(); n != 0 {
		t.Fatalf("%d customers dialed", n)
	}
}
