//go:build lab

package labtest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Issue 14 on the real switch: a number on the campaign's do-not-call list (N-1) is recorded
// as a skipped attempt and never reaches the switch; a customer who asks to be called back on
// another number (電話番号(その他), D-1) gets the callback there, from the agent who promised it
// (S-2): the switch sees an originate to the other number, none to the list's again.
func TestLabDoNotCallAndOtherNumber(t *testing.T) {
	o := observe(t)
	in := StartInstance(t, Options{Agents: []int{1001}})
	o.Only(in.CallerIDs()...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	first, barred, talker, other := Busy(41), Busy(42), StaysUp(43), Busy(45)
	job := in.CreateJob(t, "who-when", []string{first, barred, talker})
	in.Must(t, 201, "POST", "/api/v1/do-not-call/1/numbers", map[string]any{"tel": barred, "reason": "asked not to be called"})
	in.StartJob(t, job.ID)
	a := in.Agent(1001)
	if err := a.Join(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	s, err := a.WaitState(ctx, "on_call")
	if err != nil {
		t.Fatal(err)
	}
	if s.Call == nil || s.Call.Contact == nil || s.Call.Contact.Tel != talker {
		t.Fatalf("the agent's call: %+v", s.Call)
	}
	attempt := s.AttemptID()
	if err := a.HangupCustomer(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitState(ctx, "wrap_up"); err != nil {
		t.Fatal(err)
	}
	// The customer asks for a callback in a few seconds on another number.
	if err := a.expect(ctx, 204, "POST", fmt.Sprintf("/api/v1/attempts/%d/disposition", attempt), map[string]any{
		"party": "self", "result_code": "call_back_later", "other_tel": other, "next_action": "callback",
		"callback_at": time.Now().Add(3 * time.Second).Format(time.RFC3339Nano), "memo": "call me there", "after": "continue",
	}); err != nil {
		t.Fatal(err)
	}
	attempts, err := in.WaitAttempts(ctx, job.ID, 4)
	if err != nil {
		t.Fatal(err)
	}
	leaveAndClean(t, ctx, o, in, job.ID, a)

	byTel := map[string][]Attempt{}
	for _, at := range attempts {
		byTel[at.Tel] = append(byTel[at.Tel], at)
	}
	if got := byTel[barred]; len(got) != 1 || got[0].Outcome != "skipped" {
		t.Errorf("the barred number's attempts: %v, want one skipped", got)
	}
	var reason string
	if err := in.DB.QueryRowContext(ctx, `SELECT skip_reason FROM attempts WHERE call_job_id = $1 AND tel = $2`, job.ID, barred).Scan(&reason); err != nil || reason != "do_not_call:campaign" {
		t.Errorf("skip reason %q, %v", reason, err)
	}
	if got := byTel[other]; len(got) != 1 || got[0].Outcome != "busy" {
		t.Errorf("the other number's attempts: %v, want one busy", got)
	}
	if got := byTel[talker]; len(got) != 1 {
		t.Errorf("the list number was dialed again: %v", got)
	}
	for _, l := range o.ALegs("customer") {
		if l.Dest == barred {
			t.Errorf("the switch was asked to call the barred number: %s", l)
		}
	}
	customerLeg(t, o, ctx, other, func(l Leg) bool { return !l.Up() })
	for _, at := range attempts {
		t.Logf("%s", at)
	}
}
